//! `ops.custom_gradient`'s core: a tape node whose backward rule is a Python callable.
//! `python/ferrograd/_ops_control.py` runs the user's function and wraps its result with
//! `custom_op(y, inputs, rule)`; `rule(upstream)` returns one gradient (or None) per input.

use std::fmt;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::convert::to_tensor;
use super::errors::guard;
use super::tensor::PyTensor;
use crate::autograd::CustomBackward;
use crate::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;

struct PyRule {
    f: Py<PyAny>,
}

impl fmt::Debug for PyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PyRule")
    }
}

fn py_error(e: PyErr) -> Error {
    Python::attach(|py| {
        let name = e
            .get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "Exception".into());
        Error::value(
            "custom_gradient",
            format!("the gradient function raised {name}: {}", e.value(py)),
        )
    })
}

impl CustomBackward for PyRule {
    fn backward(&self, g: &Tensor, n_inputs: usize) -> Result<Vec<Option<Tensor>>> {
        Python::attach(|py| {
            let out = self
                .f
                .call1(py, (PyTensor::wrap(g.clone()),))
                .map_err(py_error)?;
            let out = out.bind(py);
            let items: Vec<Bound<'_, PyAny>> =
                if out.is_instance_of::<PyTuple>() || out.is_instance_of::<PyList>() {
                    out.try_iter()
                        .map_err(py_error)?
                        .collect::<PyResult<_>>()
                        .map_err(py_error)?
                } else {
                    vec![out.clone()]
                };
            if items.len() != n_inputs {
                return Err(Error::value(
                    "custom_gradient",
                    format!(
                        "the gradient function returned {} gradient(s) for {n_inputs} tensor input(s)",
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .map(|it| {
                    if it.is_none() {
                        Ok(None)
                    } else {
                        to_tensor(it, None).map(Some).map_err(py_error)
                    }
                })
                .collect()
        })
    }
}

/// `y` with a tape node over `inputs` whose backward calls `rule(upstream)`.
#[pyfunction]
fn custom_op(
    y: &Bound<'_, PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    rule: Py<PyAny>,
) -> PyResult<PyTensor> {
    guard("custom_gradient", || {
        let y = to_tensor(y, None)?;
        let ins: Vec<Tensor> = inputs.iter().map(|t| t.t.clone()).collect();
        let refs: Vec<&Tensor> = ins.iter().collect();
        Ok(PyTensor::wrap(ops::custom_op(
            &y,
            &refs,
            Arc::new(PyRule { f: rule }),
        )))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(custom_op, m)?)?;
    Ok(())
}
