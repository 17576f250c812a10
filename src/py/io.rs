//! safetensors bytes in and out (`_core.safetensors_dumps` / `_core.safetensors_loads`): the
//! parsing and checks live in `io::safetensors`.

use pyo3::prelude::*;

use super::errors::guard;
use super::tensor::PyTensor;

type T = PyTensor;

fn wrap(t: crate::tensor::Tensor) -> T {
    PyTensor::wrap(t)
}

/// Serialises `[(name, tensor), ...]` and a `{str: str}` metadata dict into safetensors bytes.
#[pyfunction]
#[pyo3(signature = (tensors, metadata=None))]
fn safetensors_dumps<'py>(
    py: Python<'py>,
    tensors: Vec<(String, PyRef<'py, PyTensor>)>,
    metadata: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    guard("safetensors_dumps", || {
        let ts: Vec<(String, crate::tensor::Tensor)> =
            tensors.into_iter().map(|(n, t)| (n, t.t.clone())).collect();
        let meta = metadata.unwrap_or_default();
        let bytes = py.detach(|| crate::io::safetensors::to_bytes(&ts, &meta))?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    })
}

/// Parses safetensors bytes into (`[(name, tensor), ...]` in file order, metadata dict).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn safetensors_loads(
    py: Python<'_>,
    data: &[u8],
) -> PyResult<(Vec<(String, T)>, std::collections::BTreeMap<String, String>)> {
    guard("safetensors_loads", || {
        let data = data.to_vec();
        let (ts, meta) = py.detach(move || crate::io::safetensors::from_bytes(&data))?;
        Ok((ts.into_iter().map(|(n, t)| (n, wrap(t))).collect(), meta))
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(safetensors_dumps, m)?)?;
    m.add_function(wrap_pyfunction!(safetensors_loads, m)?)
}
