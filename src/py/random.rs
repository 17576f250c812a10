//! Random draws of `ferrograd._core`: `seed`, `random` (uniform, normal, truncated normal,
//! randint), `random_gamma` (gamma and beta) and `permutation`. `python/ferrograd/random.py`
//! wraps them with keras.random signatures.

use super::convert::{parse_dims, parse_dtype};
use super::errors::guard;
use super::tensor::{run, PyTensor};
use crate::dtype::DType;
use crate::ops;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

type T = PyTensor;

fn wrap(t: crate::tensor::Tensor) -> T {
    PyTensor::wrap(t)
}

fn dtype_or(d: Option<&Bound<'_, PyAny>>, default: DType) -> PyResult<DType> {
    Ok(parse_dtype(d)?.unwrap_or(default))
}

#[pyfunction]
fn seed(s: u64) -> PyResult<()> {
    guard("seed", || {
        ops::seed(s);
        Ok(())
    })
}

#[pyfunction]
#[pyo3(signature = (kind, shape, a, b, dtype=None, seed=None))]
fn random(
    py: Python<'_>,
    kind: &str,
    shape: &Bound<'_, PyAny>,
    a: f64,
    b: f64,
    dtype: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
) -> PyResult<T> {
    guard("random", || {
        let s = parse_dims(shape)?;
        let n: usize = s.iter().product();
        let t = match kind {
            "uniform" => {
                let d = dtype_or(dtype, DType::F32)?;
                run(py, n, || ops::uniform(&s, a, b, d, seed))?
            }
            "normal" => {
                let d = dtype_or(dtype, DType::F32)?;
                run(py, n, || ops::normal(&s, a, b, d, seed))?
            }
            "truncated_normal" => {
                let d = dtype_or(dtype, DType::F32)?;
                run(py, n, || ops::truncated_normal(&s, a, b, d, seed))?
            }
            "randint" => {
                let d = dtype_or(dtype, DType::I64)?;
                if a.fract() != 0.0 || b.fract() != 0.0 {
                    return Err(PyValueError::new_err(format!(
                        "randint bounds must be integers, got {a} and {b}"
                    )));
                }
                run(py, n, || ops::randint(&s, a as i64, b as i64, d, seed))?
            }
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown random distribution '{kind}'"
                )))
            }
        };
        Ok(wrap(t))
    })
}

#[pyfunction]
#[pyo3(signature = (n, seed=None))]
fn permutation(n: usize, seed: Option<u64>) -> PyResult<T> {
    guard("permutation", || Ok(wrap(ops::permutation(n, seed)?)))
}

/// Gamma(alpha) draws, or Beta(alpha, beta) draws when `beta` is given; each parameter holds one
/// value or one per element (row-major over `shape`).
#[pyfunction]
#[pyo3(signature = (shape, alpha, beta=None, dtype=None, seed=None))]
fn random_gamma(
    py: Python<'_>,
    shape: &Bound<'_, PyAny>,
    alpha: Vec<f64>,
    beta: Option<Vec<f64>>,
    dtype: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
) -> PyResult<T> {
    guard(if beta.is_some() { "beta" } else { "gamma" }, || {
        let s = parse_dims(shape)?;
        let n: usize = s.iter().product();
        let d = dtype_or(dtype, DType::F32)?;
        let t = match &beta {
            Some(b) => run(py, n, || ops::beta(&s, &alpha, b, d, seed))?,
            None => run(py, n, || ops::gamma(&s, &alpha, d, seed))?,
        };
        Ok(wrap(t))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(seed, m)?)?;
    m.add_function(wrap_pyfunction!(random, m)?)?;
    m.add_function(wrap_pyfunction!(random_gamma, m)?)?;
    m.add_function(wrap_pyfunction!(permutation, m)?)?;
    Ok(())
}
