//! `ferrograd._core`: the PyO3 module. Binding functions only convert arguments, release the GIL
//! around the work, call the core and map errors (`errors.rs`); they hold no arithmetic.

use pyo3::prelude::*;

mod convert;
mod errors;
mod functions;
mod nn;
mod numpy;
mod tensor;
mod tokenizer;

#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    Ok(crate::threading::set_num_threads(n)?)
}

#[pyfunction]
fn get_num_threads() -> usize {
    crate::threading::num_threads()
}

#[pyfunction]
fn _after_fork_child() {
    crate::threading::after_fork_child();
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_child, m)?)?;
    m.add_class::<tensor::PyTensor>()?;
    functions::register(m)?;
    nn::register(m)?;
    tokenizer::register(m)?;
    Ok(())
}
