//! Maps core errors to Python exceptions, one class per kind, keeping the op name and message.

use pyo3::exceptions::{
    PyIndexError, PyNotImplementedError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;

use crate::error::Error;

/// Rewrites Rust-style lists of integers (`[2, 3]`, `[3]`, `[]`) as Python tuples
/// (`(2, 3)`, `(3,)`, `()`), the way shapes and axes appear to Python users.
fn pythonize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close)
                if after[..close]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == ' ' || c == '-') =>
            {
                let inner = after[..close].trim();
                let items = inner.split(',').filter(|s| !s.trim().is_empty()).count();
                out.push('(');
                out.push_str(inner);
                if items == 1 {
                    out.push(',');
                }
                out.push(')');
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Converts a core error into the Python exception its kind calls for.
pub fn to_py(e: Error) -> PyErr {
    let text = pythonize(&e.to_string());
    match e {
        Error::Shape { .. } | Error::Value { .. } | Error::Format { .. } => {
            PyValueError::new_err(text)
        }
        Error::DType { .. } => PyTypeError::new_err(text),
        Error::Index { .. } => PyIndexError::new_err(text),
        Error::Autograd { .. } => PyRuntimeError::new_err(text),
        Error::Io { .. } => PyOSError::new_err(text),
        Error::Unsupported { .. } => PyNotImplementedError::new_err(text),
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        to_py(e)
    }
}
