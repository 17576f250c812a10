//! Maps core errors to Python exceptions, one class per kind, keeping the op name and message,
//! and turns an escaped Rust panic into a `RuntimeError` ([`guard`]).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{
    PyIndexError, PyMemoryError, PyNotImplementedError, PyOSError, PyRuntimeError, PyTypeError,
    PyValueError,
};
use pyo3::{PyErr, PyResult};

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
        Error::Memory { .. } => PyMemoryError::new_err(text),
    }
}

/// Runs one binding's body and converts a Rust panic that escapes it into a `RuntimeError`
/// naming the op.
///
/// The core never panics on user input (`src/error.rs`), so a panic here is a bug; without this
/// it would surface as PyO3's `PanicException`, which derives from `BaseException` and so slips
/// past `except Exception` (and Keras-style retry/cleanup code). Every `#[pyfunction]` and every
/// `#[pymethods]` method wraps its body in `guard`; kernels run under `py.detach` inside that
/// body, and worker-thread panics are resumed on the caller (`threading/mod.rs`), so one catch
/// point per binding covers conversion, the op and its kernels. `catch_unwind` costs nothing on
/// the path that does not panic (unwinding uses landing pads, not checks).
/// `AssertUnwindSafe`: after a panic the op's outputs are dropped unread; shared state a panic
/// could leave half-updated (the allocator pool, the tape) is behind poison-tolerant locks.
#[inline]
pub fn guard<R>(op: &str, body: impl FnOnce() -> PyResult<R>) -> PyResult<R> {
    // Kernels on this thread flush subnormals (per the mode); Python code after the call does not.
    let _fp = crate::fpmode::Scope::enter();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => Err(internal_error(op, payload.as_ref())),
    }
}

/// The `RuntimeError` for a panic in `op`, carrying the panic message.
fn internal_error(op: &str, payload: &(dyn Any + Send)) -> PyErr {
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    };
    PyRuntimeError::new_err(format!(
        "ferrograd internal error in {op}: {msg}; this is a bug, please report it"
    ))
}

impl From<Error> for PyErr {
    fn from(e: Error) -> Self {
        to_py(e)
    }
}
