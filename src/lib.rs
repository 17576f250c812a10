//! ferrograd: the Rust engine under a Keras 3 face.
//!
//! The crate owns every number a user's model touches: tensor storage and views, the autograd
//! tape, the multithreaded SIMD kernels and the byte-level BPE tokenizer. The Python bindings live
//! behind the `python` feature (`src/py/`), so `cargo test` builds and tests the core alone.
//!
//! Module map:
//! - [`error`]: the one error type; every variant names the op and what it received.
//! - [`threading`]: the one Rayon pool shared by kernels and tokenizer.

pub mod alloc;
pub mod autograd;
pub mod cpu;
pub mod dtype;
pub mod error;
pub mod fpmode;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod io;
pub mod kernels;
pub mod layout;
pub mod ops;
pub mod shape;
pub mod storage;
pub mod tensor;
pub mod text;
pub mod threading;
pub mod tokenizer;

#[cfg(feature = "python")]
mod py;

pub use dtype::DType;
pub use error::{Error, Result};
pub use tensor::Tensor;
