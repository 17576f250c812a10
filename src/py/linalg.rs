//! Bindings for the linear-algebra ops (`src/ops/linalg.rs`) and the DFT (`src/ops/fft.rs`). Multi-result ops return their one
//! packed tensor; `python/ferrograd/_ops_linalg.py` splits it with views (so the gradient of
//! every piece flows through one tape node) and gives the keras.ops signatures.

use pyo3::prelude::*;

use super::convert::to_tensor;
use super::errors::guard;
use super::tensor::{run, PyTensor};
use crate::ops;

type T = PyTensor;

macro_rules! unary_linalg {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<T> {
            guard(stringify!($name), || {
                let x = to_tensor(x, None)?;
                Ok(PyTensor::wrap(run(py, x.numel(), || ops::$name(&x))?))
            })
        }
    };
}

unary_linalg!(inv, "Matrix inverse of (a batch of) square matrices.");
unary_linalg!(det, "Determinant of (a batch of) square matrices.");
unary_linalg!(
    slogdet,
    "Packed (..., 2): the determinant's sign and log of its absolute value."
);
unary_linalg!(
    eigh,
    "Packed (..., n + 1, n): ascending eigenvalues, then eigenvectors as columns."
);

/// Solves `a x = b`.
#[pyfunction]
fn solve(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("solve", || {
        let (a, b) = (to_tensor(a, None)?, to_tensor(b, None)?);
        Ok(PyTensor::wrap(run(py, a.numel() + b.numel(), || {
            ops::solve(&a, &b)
        })?))
    })
}

/// Solves `a x = b` with `a` triangular.
#[pyfunction]
#[pyo3(signature = (a, b, lower=false))]
fn solve_triangular(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    lower: bool,
) -> PyResult<T> {
    guard("solve_triangular", || {
        let (a, b) = (to_tensor(a, None)?, to_tensor(b, None)?);
        Ok(PyTensor::wrap(run(py, a.numel() + b.numel(), || {
            ops::solve_triangular(&a, &b, lower)
        })?))
    })
}

/// Cholesky factor (lower, or upper with `upper=True`).
#[pyfunction]
#[pyo3(signature = (x, upper=false))]
fn cholesky(py: Python<'_>, x: &Bound<'_, PyAny>, upper: bool) -> PyResult<T> {
    guard("cholesky", || {
        let x = to_tensor(x, None)?;
        Ok(PyTensor::wrap(run(py, x.numel(), || {
            ops::cholesky(&x, upper)
        })?))
    })
}

/// Packed SVD: U, s, Vt flattened on the last axis.
#[pyfunction]
#[pyo3(signature = (x, full_matrices=true))]
fn svd(py: Python<'_>, x: &Bound<'_, PyAny>, full_matrices: bool) -> PyResult<T> {
    guard("svd", || {
        let x = to_tensor(x, None)?;
        Ok(PyTensor::wrap(run(py, x.numel(), || {
            ops::svd(&x, full_matrices)
        })?))
    })
}

/// Packed QR: Q, R flattened on the last axis.
#[pyfunction]
#[pyo3(signature = (x, complete=false))]
fn qr(py: Python<'_>, x: &Bound<'_, PyAny>, complete: bool) -> PyResult<T> {
    guard("qr", || {
        let x = to_tensor(x, None)?;
        Ok(PyTensor::wrap(run(py, x.numel(), || {
            ops::qr(&x, complete)
        })?))
    })
}

/// LU factorisation: (packed factors, 0-based pivots).
#[pyfunction]
fn lu_factor(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<(T, T)> {
    guard("lu_factor", || {
        let x = to_tensor(x, None)?;
        let (lu, piv) = run(py, x.numel(), || ops::lu_factor(&x))?;
        Ok((PyTensor::wrap(lu), PyTensor::wrap(piv)))
    })
}

/// Forward (unscaled) or inverse (scaled by 1/n) DFT over axis -2 of a [..., n, 2] float tensor
/// holding real and imaginary parts; `python/ferrograd/_ops_fft.py` builds keras.ops' FFTs on it.
#[pyfunction]
#[pyo3(signature = (x, inverse=false))]
fn fft(py: Python<'_>, x: &Bound<'_, PyAny>, inverse: bool) -> PyResult<T> {
    guard("fft", || {
        let x = to_tensor(x, None)?;
        Ok(PyTensor::wrap(run(py, x.numel() * 8, || {
            ops::fft(&x, inverse)
        })?))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fft, m)?)?;
    m.add_function(wrap_pyfunction!(inv, m)?)?;
    m.add_function(wrap_pyfunction!(det, m)?)?;
    m.add_function(wrap_pyfunction!(slogdet, m)?)?;
    m.add_function(wrap_pyfunction!(eigh, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(solve_triangular, m)?)?;
    m.add_function(wrap_pyfunction!(cholesky, m)?)?;
    m.add_function(wrap_pyfunction!(svd, m)?)?;
    m.add_function(wrap_pyfunction!(qr, m)?)?;
    m.add_function(wrap_pyfunction!(lu_factor, m)?)?;
    Ok(())
}
