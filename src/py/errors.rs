//! Maps core errors to Python exceptions, one class per kind, keeping the op name and message.

use pyo3::exceptions::{PyIndexError, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;

use crate::error::Error;

/// Converts a core error into the Python exception its kind calls for.
pub fn to_py(e: Error) -> PyErr {
    let text = e.to_string();
    match e {
        Error::Shape { .. } | Error::Value { .. } | Error::Format { .. } => {
            PyValueError::new_err(text)
        }
        Error::DType { .. } => PyTypeError::new_err(text),
        Error::Index { .. } => PyIndexError::new_err(text),
        Error::Autograd { .. } => PyRuntimeError::new_err(text),
        Error::Io { .. } => PyOSError::new_err(text),
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        to_py(e)
    }
}
