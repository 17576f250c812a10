//! The crate's error type.
//!
//! The core never panics on user input: every fallible entry point returns [`Result`]. Each
//! variant carries the name of the operation and a message that says what was received and what
//! was expected, so the Python layer can map it to the right exception class unchanged
//! (`src/py/errors.rs`): shapes to `ValueError`, dtypes to `TypeError`, indices to `IndexError`,
//! files to `OSError`/`ValueError`, buffers the system cannot provide to `MemoryError`.

use std::fmt;

/// What went wrong, by kind; the kind decides the Python exception class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Incompatible or invalid shapes (Python `ValueError`).
    Shape { op: String, msg: String },
    /// Unsupported or mismatched dtypes (Python `TypeError`).
    DType { op: String, msg: String },
    /// An index or axis out of range (Python `IndexError`).
    Index { op: String, msg: String },
    /// An invalid argument value (Python `ValueError`).
    Value { op: String, msg: String },
    /// A misuse of the autograd tape (Python `RuntimeError`).
    Autograd { op: String, msg: String },
    /// A malformed file or stream (Python `ValueError`).
    Format { op: String, msg: String },
    /// An operating-system I/O failure (Python `OSError`).
    Io { op: String, msg: String },
    /// A valid request this build does not implement (Python `NotImplementedError`).
    Unsupported { op: String, msg: String },
    /// A buffer the system cannot provide (Python `MemoryError`).
    Memory { op: String, msg: String },
}

/// The crate-wide result alias.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn shape(op: &str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn dtype(op: &str, msg: impl Into<String>) -> Self {
        Error::DType {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn index(op: &str, msg: impl Into<String>) -> Self {
        Error::Index {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn value(op: &str, msg: impl Into<String>) -> Self {
        Error::Value {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn autograd(op: &str, msg: impl Into<String>) -> Self {
        Error::Autograd {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn format(op: &str, msg: impl Into<String>) -> Self {
        Error::Format {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn io(op: &str, msg: impl Into<String>) -> Self {
        Error::Io {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn unsupported(op: &str, msg: impl Into<String>) -> Self {
        Error::Unsupported {
            op: op.to_string(),
            msg: msg.into(),
        }
    }
    pub fn memory(op: &str, msg: impl Into<String>) -> Self {
        Error::Memory {
            op: op.to_string(),
            msg: msg.into(),
        }
    }

    /// The operation that failed.
    pub fn op(&self) -> &str {
        match self {
            Error::Shape { op, .. }
            | Error::DType { op, .. }
            | Error::Index { op, .. }
            | Error::Value { op, .. }
            | Error::Autograd { op, .. }
            | Error::Format { op, .. }
            | Error::Io { op, .. }
            | Error::Unsupported { op, .. }
            | Error::Memory { op, .. } => op,
        }
    }

    /// The message without the op prefix.
    pub fn message(&self) -> &str {
        match self {
            Error::Shape { msg, .. }
            | Error::DType { msg, .. }
            | Error::Index { msg, .. }
            | Error::Value { msg, .. }
            | Error::Autograd { msg, .. }
            | Error::Format { msg, .. }
            | Error::Io { msg, .. }
            | Error::Unsupported { msg, .. }
            | Error::Memory { msg, .. } => msg,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op(), self.message())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io("io", e.to_string())
    }
}
