//! `ferrograd._core`: the PyO3 module. Binding functions only convert arguments, release the GIL
//! around the work, call the core and map errors (`errors.rs`); they hold no arithmetic.

use crate::py::errors::guard;
use pyo3::prelude::*;

mod convert;
mod custom;
mod errors;
mod functions;
mod glove;
mod io;
mod linalg;
mod machine;
mod nn;
mod numpy;
mod optim;
mod random;
mod tensor;
mod text;
mod tokenizer;
mod wordpiece;

#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    guard("set_num_threads", || {
        Ok(crate::threading::set_num_threads(n)?)
    })
}

#[pyfunction]
fn get_num_threads() -> PyResult<usize> {
    guard("get_num_threads", || Ok(crate::threading::num_threads()))
}

#[pyfunction]
fn _after_fork_child() -> PyResult<()> {
    guard("_after_fork_child", || {
        crate::threading::after_fork_child();
        Ok(())
    })
}

/// Panics on purpose, on the calling thread or inside a task of the kernel team, with the GIL
/// released as a kernel would: the tests' proof that a Rust panic reaches Python as a
/// `RuntimeError` (catchable by `except Exception`) and never as PyO3's `PanicException`.
#[pyfunction]
#[pyo3(signature = (on_worker=false))]
fn _debug_panic(py: Python<'_>, on_worker: bool) -> PyResult<()> {
    guard("_debug_panic", || {
        py.detach(|| {
            if on_worker {
                crate::threading::for_each_task(64, |i| {
                    assert!(i != 63, "deliberate panic in task {i} (test hook)");
                });
            } else {
                panic!("deliberate panic (test hook)");
            }
        });
        Ok(())
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_child, m)?)?;
    m.add_function(wrap_pyfunction!(_debug_panic, m)?)?;
    m.add_class::<tensor::PyTensor>()?;
    custom::register(m)?;
    functions::register(m)?;
    glove::register(m)?;
    linalg::register(m)?;
    io::register(m)?;
    machine::register(m)?;
    nn::register(m)?;
    optim::register(m)?;
    random::register(m)?;
    text::register(m)?;
    tokenizer::register(m)?;
    wordpiece::register(m)?;
    Ok(())
}
