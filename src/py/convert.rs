//! Conversions from Python arguments: tensors, Python scalars, NumPy arrays and nested lists.

use numpy::PyUntypedArray;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

use crate::dtype::DType;
use crate::ops;
use crate::tensor::Tensor;

use super::tensor::PyTensor;

/// Parses a dtype argument: None, a name ("float32"), a NumPy dtype or type, or Python's float/int/bool.
pub fn parse_dtype(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(s) = obj.extract::<String>() {
        return Ok(Some(DType::from_name(&s)?));
    }
    let py = obj.py();
    if obj.is(py.get_type::<PyFloat>().as_any()) {
        return Ok(Some(DType::F32));
    }
    if obj.is(py.get_type::<PyBool>().as_any()) {
        return Ok(Some(DType::Bool));
    }
    if obj.is(py.get_type::<PyInt>().as_any()) {
        return Ok(Some(DType::I64));
    }
    // NumPy dtypes and scalar types (np.float32, np.dtype("int64")) have a `.name` via np.dtype().
    let np = py.import("numpy")?;
    let d = np.call_method1("dtype", (obj,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "unsupported dtype {}; expected one of float32, float64, int32, int64, bool",
            obj
        ))
    })?;
    let name: String = d.getattr("name")?.extract()?;
    Ok(Some(DType::from_name(&name)?))
}

/// The dtype of a bare Python scalar combined with a tensor of dtype `like` (weak typing:
/// `x + 1.5` keeps float32 x float32; an int tensor plus a float gives float32).
fn scalar_tensor(obj: &Bound<'_, PyAny>, like: DType) -> PyResult<Option<Tensor>> {
    if obj.is_instance_of::<PyBool>() {
        let v: bool = obj.extract()?;
        let dt = like;
        return Ok(Some(ops::full(&[], v as u8 as f64, dt)?));
    }
    if obj.is_instance_of::<PyInt>() {
        let v: i64 = obj.extract().map_err(|_| {
            PyOverflowError::new_err(format!("Python int {obj} does not fit in int64"))
        })?;
        let dt = if like == DType::Bool {
            DType::I64
        } else {
            like
        };
        if dt.is_float() {
            return Ok(Some(ops::full(&[], v as f64, dt)?));
        }
        let t = Tensor::scalar(v)?;
        return Ok(Some(ops::cast_nograd(&t, dt)?));
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj.extract()?;
        let dt = if like.is_float() { like } else { DType::F32 };
        return Ok(Some(ops::full(&[], v, dt)?));
    }
    Ok(None)
}

/// Any tensor-like value as a tensor; scalars take their dtype from `like` when given.
pub fn to_tensor(obj: &Bound<'_, PyAny>, like: Option<DType>) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().t.clone());
    }
    if let Some(l) = like {
        if let Some(t) = scalar_tensor(obj, l)? {
            return Ok(t);
        }
    }
    if let Ok(a) = obj.cast::<PyUntypedArray>() {
        return super::numpy::from_numpy(obj.py(), a, None, false);
    }
    // Python scalars without a reference dtype and nested lists: the `tensor()` rules
    // (floats become float32, ints int64, bools bool).
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (obj,)).map_err(|e| {
        PyTypeError::new_err(format!(
            "expected a tensor, array, list or number, got {}: {e}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let a = arr
        .cast::<PyUntypedArray>()
        .map_err(|e| PyTypeError::new_err(e.to_string()))?;
    let kind = a.dtype().kind();
    let force = if kind == b'f' && !obj.is_instance_of::<PyUntypedArray>() {
        Some(DType::F32)
    } else {
        None
    };
    if kind == b'O' || kind == b'U' || kind == b'S' {
        return Err(PyTypeError::new_err(format!(
            "cannot convert {} to a tensor: expected numbers (got a {} array)",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            a.dtype().str()?
        )));
    }
    super::numpy::from_numpy(py, a, force, false)
}

use numpy::{PyArrayDescrMethods, PyUntypedArrayMethods};

/// A list of tensor-likes.
pub fn to_tensors(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Tensor>> {
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        out.push(to_tensor(&item?, None)?);
    }
    Ok(out)
}

/// An optional axis list: None, one int, or a sequence of ints.
pub fn parse_axes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if let Ok(a) = obj.extract::<isize>() {
        return Ok(Some(vec![a]));
    }
    obj.extract::<Vec<isize>>().map(Some).map_err(|_| {
        PyTypeError::new_err(format!(
            "axis must be None, an int or a sequence of ints, got {obj}"
        ))
    })
}

/// A shape: one int or a sequence of ints (negative only where `allow_neg`).
pub fn parse_shape(obj: &Bound<'_, PyAny>) -> PyResult<Vec<isize>> {
    if let Ok(a) = obj.extract::<isize>() {
        return Ok(vec![a]);
    }
    obj.extract::<Vec<isize>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "shape must be an int or a sequence of ints, got {obj}"
        ))
    })
}

/// A shape of non-negative ints.
pub fn parse_dims(obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let s = parse_shape(obj)?;
    s.iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "negative dimensions are not allowed, got shape {s:?}"
                ))
            })
        })
        .collect()
}
