//! The Python `Tensor` class: properties, operators, indexing, NumPy views and autograd entry
//! points. Operators live here in Rust because they are the per-op hot path (a 1-element add
//! costs well under the 1.5 µs budget); the long tail of convenience methods is attached in
//! `python/ferrograd/_tensor.py`, which calls the same core functions.

use super::errors::guard;
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyEllipsis, PyNone, PySlice, PyTuple};

use crate::autograd;
use crate::dtype::DType;
use crate::error::Result as CoreResult;
use crate::kernels::binary::{BinaryOp, CmpOp, LogicOp};
use crate::kernels::unary::UnaryOp;
use crate::ops::{self, IndexItem};
use crate::tensor::Tensor;

use super::convert::{parse_dtype, parse_shape, to_tensor};

/// Work (elements) below which the GIL is kept: releasing and re-taking it costs ~0.1-0.2 µs,
/// more than a small kernel, and nothing else could run meanwhile anyway.
pub const RELEASE_GIL_ABOVE: usize = 1 << 14;

/// Runs `f`, releasing the GIL when `work` is large enough to matter.
pub fn run<T: Send>(
    py: Python<'_>,
    work: usize,
    f: impl FnOnce() -> CoreResult<T> + Send,
) -> PyResult<T> {
    if work >= RELEASE_GIL_ABOVE {
        py.detach(f).map_err(Into::into)
    } else {
        f().map_err(Into::into)
    }
}

/// An n-dimensional array with autograd (see `ferrograd.tensor`).
#[pyclass(name = "Tensor", module = "ferrograd", frozen, weakref, dict, subclass)]
pub struct PyTensor {
    pub t: Tensor,
}

impl PyTensor {
    pub fn wrap(t: Tensor) -> PyTensor {
        PyTensor { t }
    }
}

fn binop(
    py: Python<'_>,
    a: &Tensor,
    other: &Bound<'_, PyAny>,
    op: BinaryOp,
    reflected: bool,
) -> PyResult<PyTensor> {
    let b = to_tensor(other, Some(a.dtype()))?;
    let work = a.numel().max(b.numel());
    let (x, y) = if reflected {
        (b, a.clone())
    } else {
        (a.clone(), b)
    };
    Ok(PyTensor::wrap(run(py, work, || ops::binary(&x, &y, op))?))
}

fn logicop(
    py: Python<'_>,
    a: &Tensor,
    other: &Bound<'_, PyAny>,
    op: LogicOp,
) -> PyResult<PyTensor> {
    let b = to_tensor(other, Some(a.dtype()))?;
    if a.dtype() != DType::Bool || b.dtype() != DType::Bool {
        return Err(PyTypeError::new_err(format!(
            "bitwise operators on tensors are logical and need bool operands, got {} and {}",
            a.dtype(),
            b.dtype()
        )));
    }
    let work = a.numel().max(b.numel());
    Ok(PyTensor::wrap(run(py, work, || ops::logical(a, &b, op))?))
}

/// Parses one Python index item.
fn parse_item(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    x: &Tensor,
    axis: usize,
) -> PyResult<Vec<IndexItem>> {
    if obj.is_instance_of::<PySlice>() {
        let get = |name: &str| -> PyResult<Option<isize>> {
            let v = obj.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else {
                v.extract::<isize>().map(Some).map_err(|_| {
                    PyTypeError::new_err(format!("slice {name} must be an int or None, got {v}"))
                })
            }
        };
        let step = get("step")?.unwrap_or(1);
        if step == 0 {
            return Err(PyValueError::new_err("slice step cannot be zero"));
        }
        return Ok(vec![IndexItem::Slice {
            start: get("start")?,
            stop: get("stop")?,
            step,
        }]);
    }
    if obj.is_instance_of::<PyNone>() {
        return Ok(vec![IndexItem::NewAxis]);
    }
    if obj.is_instance_of::<PyEllipsis>() {
        return Ok(vec![IndexItem::Ellipsis]);
    }
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(PyIndexError::new_err(
            "boolean scalars are not valid indices; use a boolean tensor mask",
        ));
    }
    if let Ok(i) = obj.extract::<isize>() {
        if !obj.cast::<PyTensor>().is_ok_and(|t| t.get().t.ndim() > 0) {
            return Ok(vec![IndexItem::Int(i)]);
        }
    }
    let t = to_tensor(obj, None).map_err(|_| {
        PyIndexError::new_err(format!(
            "only integers, slices (`:`), ellipsis (`...`), None and integer or boolean arrays are valid indices, got {obj}"
        ))
    })?;
    if t.dtype() == DType::Bool {
        // A mask over the next t.ndim() axes: becomes one integer index over those axes flattened.
        let nd = t.ndim();
        if nd == 0 || axis + nd > x.ndim() || t.shape() != &x.shape()[axis..axis + nd] {
            return Err(PyIndexError::new_err(format!(
                "boolean index of shape {:?} does not match the indexed dimensions {:?} starting at axis {axis}",
                t.shape(),
                &x.shape()[axis.min(x.ndim())..(axis + nd).min(x.ndim())]
            )));
        }
        if nd > 1 {
            return Err(PyIndexError::new_err(
                "multi-dimensional boolean masks are supported only as the whole index (x[mask] with mask.shape == x.shape)",
            ));
        }
        let idx = run(py, t.numel(), || ops::nonzero_flat(&t))?;
        return Ok(vec![IndexItem::Array(idx)]);
    }
    if !t.dtype().is_int() {
        return Err(PyIndexError::new_err(format!(
            "index arrays must be integers or booleans, got dtype {}",
            t.dtype()
        )));
    }
    Ok(vec![IndexItem::Array(t)])
}

fn parse_index(
    py: Python<'_>,
    x: &Tensor,
    key: &Bound<'_, PyAny>,
) -> PyResult<(Tensor, Vec<IndexItem>)> {
    // Whole-tensor boolean mask: x[mask] with mask.shape == x.shape selects flattened elements.
    if let Ok(t) = key.cast::<PyTensor>() {
        let m = &t.get().t;
        if m.dtype() == DType::Bool && m.ndim() > 1 && m.shape() == x.shape() {
            let flat = ops::reshape(x, &[x.numel()])?;
            let idx = run(py, m.numel(), || ops::nonzero_flat(m))?;
            return Ok((flat, vec![IndexItem::Array(idx)]));
        }
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(t) = key.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        vec![key.clone()]
    };
    let mut out = Vec::with_capacity(items.len());
    let mut axis = 0usize;
    for it in &items {
        let parsed = parse_item(py, it, x, axis)?;
        for p in &parsed {
            match p {
                IndexItem::NewAxis => {}
                IndexItem::Ellipsis => {
                    let consumed = items.len().saturating_sub(1);
                    axis = x.ndim().saturating_sub(consumed.saturating_sub(axis));
                }
                _ => axis += 1,
            }
        }
        out.extend(parsed);
    }
    Ok((x.clone(), out))
}

#[pymethods]
impl PyTensor {
    #[new]
    #[pyo3(signature = (data, dtype=None, requires_grad=false))]
    fn py_new(
        data: &Bound<'_, PyAny>,
        dtype: Option<&Bound<'_, PyAny>>,
        requires_grad: bool,
    ) -> PyResult<Self> {
        guard("Tensor.__new__", || {
            let t = to_tensor(data, None)?;
            let t = match parse_dtype(dtype)? {
                Some(d) => ops::cast_nograd(&t, d)?,
                None => t,
            };
            // Own the data: a tensor built from an array never aliases it (use from_numpy for that).
            let t = crate::ops::copy_owned(&t)?;
            t.set_requires_grad(requires_grad)?;
            Ok(PyTensor::wrap(t))
        })
    }

    /// The shape as a tuple of ints.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        guard("Tensor.shape", || PyTuple::new(py, self.t.shape()))
    }

    /// The dtype name, e.g. "float32".
    #[getter]
    fn dtype(&self) -> PyResult<&'static str> {
        guard("Tensor.dtype", || Ok(self.t.dtype().name()))
    }

    #[getter]
    fn ndim(&self) -> PyResult<usize> {
        guard("Tensor.ndim", || Ok(self.t.ndim()))
    }

    /// Number of elements.
    #[getter]
    fn size(&self) -> PyResult<usize> {
        guard("Tensor.size", || Ok(self.t.numel()))
    }

    /// Strides in elements.
    #[getter]
    fn strides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        guard("Tensor.strides", || PyTuple::new(py, self.t.strides()))
    }

    #[getter]
    fn device(&self) -> PyResult<&'static str> {
        guard("Tensor.device", || Ok("cpu"))
    }

    /// The transpose (axes reversed); a view.
    #[getter(T)]
    fn transposed(&self) -> PyResult<PyTensor> {
        guard("Tensor.T", || {
            Ok(PyTensor::wrap(ops::transpose(&self.t, None)?))
        })
    }

    #[getter]
    fn requires_grad(&self) -> PyResult<bool> {
        guard("Tensor.requires_grad", || Ok(self.t.requires_grad()))
    }

    #[setter]
    fn set_requires_grad(&self, flag: bool) -> PyResult<()> {
        guard("Tensor.requires_grad", || {
            Ok(self.t.set_requires_grad(flag)?)
        })
    }

    /// The accumulated gradient (None until backward reaches this leaf).
    #[getter]
    fn grad(&self) -> PyResult<Option<PyTensor>> {
        guard("Tensor.grad", || Ok(self.t.grad().map(PyTensor::wrap)))
    }

    #[setter]
    fn set_grad(&self, g: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        guard("Tensor.grad", || {
            let g = match g {
                None => None,
                Some(o) if o.is_none() => None,
                Some(o) => Some(to_tensor(o, Some(self.t.dtype()))?),
            };
            Ok(self.t.set_grad(g)?)
        })
    }

    /// How many in-place writes this tensor's storage has seen (shared by all its views), as
    /// PyTorch's `Tensor._version`; backward fails when a tensor it needs changed version.
    #[getter(_version)]
    fn version(&self) -> PyResult<u64> {
        guard("Tensor._version", || Ok(self.t.version()))
    }

    #[getter]
    fn is_leaf(&self) -> PyResult<bool> {
        guard("Tensor.is_leaf", || Ok(self.t.is_leaf()))
    }

    /// The name of the op that produced this tensor on the tape, or None.
    #[getter]
    fn grad_fn(&self) -> PyResult<Option<&'static str>> {
        guard("Tensor.grad_fn", || Ok(self.t.grad_fn().map(|n| n.name())))
    }

    /// A NumPy array sharing this tensor's memory.
    fn numpy<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        guard("Tensor.numpy", || {
            let t = slf.get().t.clone();
            super::numpy::to_numpy(slf.py(), &t, slf.clone().into_any())
        })
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard("Tensor.__array__", || {
            let arr = Self::numpy(slf)?;
            let arr = match dtype {
                Some(d) if !d.is_none() => arr.call_method1("astype", (d,))?,
                _ => arr,
            };
            if copy == Some(true) {
                return arr.call_method0("copy");
            }
            Ok(arr)
        })
    }

    /// The value of a one-element tensor as a Python number.
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard("Tensor.item", || {
            let v = self.t.item_f64()?;
            Ok(match self.t.dtype() {
                DType::F32 | DType::F64 => v.into_pyobject(py)?.into_any(),
                DType::I32 | DType::I64 => {
                    let iv: i64 = self.t.to_vec_any_i64()?[0];
                    iv.into_pyobject(py)?.into_any()
                }
                DType::Bool => (v != 0.0).into_pyobject(py)?.to_owned().into_any(),
            })
        })
    }

    /// Backpropagates from this tensor into the `.grad` of every leaf that requires grad.
    #[pyo3(signature = (gradient=None, retain_graph=false))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyAny>>,
        retain_graph: bool,
    ) -> PyResult<()> {
        guard("Tensor.backward", || {
            let g = match gradient {
                Some(g) if !g.is_none() => Some(to_tensor(g, Some(self.t.dtype()))?),
                _ => None,
            };
            let t = self.t.clone();
            py.detach(move || autograd::backward(&t, g, retain_graph))
                .map_err(Into::into)
        })
    }

    /// A new leaf sharing this tensor's data, cut off from the tape.
    fn detach(&self) -> PyResult<PyTensor> {
        guard("Tensor.detach", || Ok(PyTensor::wrap(self.t.detach())))
    }

    /// A row-major contiguous tensor (self when already contiguous).
    fn contiguous(&self, py: Python<'_>) -> PyResult<PyTensor> {
        guard("Tensor.contiguous", || {
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || ops::contiguous(&t))?))
        })
    }

    fn is_contiguous(&self) -> PyResult<bool> {
        guard("Tensor.is_contiguous", || Ok(self.t.is_contiguous()))
    }

    /// A copy converted to `dtype`.
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.astype", || {
            let d = parse_dtype(Some(dtype))?
                .ok_or_else(|| PyTypeError::new_err("astype needs a dtype, got None"))?;
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || {
                if t.dtype() == d {
                    ops::copy_owned(&t)
                } else {
                    ops::cast(&t, d)
                }
            })?))
        })
    }

    /// A copy that owns its memory (recorded on the tape like an identity).
    fn clone(&self, py: Python<'_>) -> PyResult<PyTensor> {
        guard("Tensor.clone", || {
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || ops::clone(&t))?))
        })
    }

    /// Reshape; accepts `reshape(2, 3)` or `reshape((2, 3))`, with one -1.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        guard("Tensor.reshape", || {
            let dims: Vec<isize> = if shape.len() == 1 {
                parse_shape(&shape.get_item(0)?)?
            } else {
                parse_shape(shape.as_any())?
            };
            let s = ops::resolve_shape("reshape", self.t.numel(), &dims)?;
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || ops::reshape(&t, &s))?))
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard("Tensor.__len__", || {
            self.t
                .shape()
                .first()
                .copied()
                .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
        })
    }

    fn __bool__(&self) -> PyResult<bool> {
        guard("Tensor.__bool__", || {
            if self.t.numel() != 1 {
                return Err(PyValueError::new_err(format!(
                    "the truth value of a tensor with {} elements is ambiguous; use any() or all()",
                    self.t.numel()
                )));
            }
            Ok(self.t.item_f64()? != 0.0)
        })
    }

    fn __float__(&self) -> PyResult<f64> {
        guard("Tensor.__float__", || Ok(self.t.item_f64()?))
    }

    fn __int__(&self) -> PyResult<i64> {
        guard("Tensor.__int__", || {
            let v = self.t.item_f64()?;
            if self.t.dtype().is_float() {
                if !v.is_finite() {
                    return Err(PyValueError::new_err(format!(
                        "cannot convert {v} to an integer"
                    )));
                }
                return Ok(v.trunc() as i64);
            }
            Ok(self.t.to_vec_any_i64()?[0])
        })
    }

    fn __index__(&self) -> PyResult<i64> {
        guard("Tensor.__index__", || {
            if !(self.t.dtype().is_int() || self.t.dtype() == DType::Bool) || self.t.numel() != 1 {
                return Err(PyTypeError::new_err(
                    "only one-element integer tensors can be used as an index",
                ));
            }
            Ok(self.t.to_vec_any_i64()?[0])
        })
    }

    fn __hash__(slf: &Bound<'_, Self>) -> PyResult<isize> {
        guard("Tensor.__hash__", || Ok(slf.as_ptr() as isize))
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__getitem__", || {
            let (x, items) = parse_index(py, &self.t, key)?;
            Ok(PyTensor::wrap(run(py, 0, || ops::index(&x, &items))?))
        })
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        guard("Tensor.__setitem__", || {
            let (x, items) = parse_index(py, &self.t, key)?;
            let v = to_tensor(value, Some(self.t.dtype()))?;
            if self.t.requires_grad() && autograd::is_grad_enabled() {
                return Err(PyValueError::new_err(
                "in-place assignment to a tensor that requires grad; wrap it in no_grad() or use detach()",
            ));
            }
            let _g = autograd::NoGradGuard::new();
            if !x.same(&self.t) {
                // Whole-array boolean mask: scatter through the flattened view.
                return Ok(ops::index_assign(&x, &items, &v)?);
            }
            Ok(ops::index_assign(&self.t, &items, &v)?)
        })
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__add__", || {
            binop(py, &self.t, o, BinaryOp::Add, false)
        })
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__radd__", || {
            binop(py, &self.t, o, BinaryOp::Add, true)
        })
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__sub__", || {
            binop(py, &self.t, o, BinaryOp::Sub, false)
        })
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rsub__", || {
            binop(py, &self.t, o, BinaryOp::Sub, true)
        })
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__mul__", || {
            binop(py, &self.t, o, BinaryOp::Mul, false)
        })
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rmul__", || {
            binop(py, &self.t, o, BinaryOp::Mul, true)
        })
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__truediv__", || {
            binop(py, &self.t, o, BinaryOp::Div, false)
        })
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rtruediv__", || {
            binop(py, &self.t, o, BinaryOp::Div, true)
        })
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__floordiv__", || {
            binop(py, &self.t, o, BinaryOp::FloorDiv, false)
        })
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rfloordiv__", || {
            binop(py, &self.t, o, BinaryOp::FloorDiv, true)
        })
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__mod__", || {
            binop(py, &self.t, o, BinaryOp::Mod, false)
        })
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rmod__", || {
            binop(py, &self.t, o, BinaryOp::Mod, true)
        })
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        guard("Tensor.__pow__", || {
            binop(py, &self.t, o, BinaryOp::Pow, false)
        })
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyTensor> {
        guard("Tensor.__rpow__", || {
            binop(py, &self.t, o, BinaryOp::Pow, true)
        })
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__matmul__", || {
            let b = to_tensor(o, Some(self.t.dtype()))?;
            let a = self.t.clone();
            Ok(PyTensor::wrap(run(py, usize::MAX, || ops::matmul(&a, &b))?))
        })
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rmatmul__", || {
            let a = to_tensor(o, Some(self.t.dtype()))?;
            let b = self.t.clone();
            Ok(PyTensor::wrap(run(py, usize::MAX, || ops::matmul(&a, &b))?))
        })
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        guard("Tensor.__neg__", || {
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || {
                ops::unary(&t, UnaryOp::Neg)
            })?))
        })
    }
    fn __pos__(&self) -> PyResult<PyTensor> {
        guard("Tensor.__pos__", || Ok(PyTensor::wrap(self.t.clone())))
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        guard("Tensor.__abs__", || {
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || {
                ops::unary(&t, UnaryOp::Abs)
            })?))
        })
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        guard("Tensor.__invert__", || {
            if self.t.dtype() != DType::Bool {
                return Err(PyTypeError::new_err(format!(
                    "~ needs a bool tensor, got {}",
                    self.t.dtype()
                )));
            }
            let t = self.t.clone();
            Ok(PyTensor::wrap(run(py, t.numel(), || ops::logical_not(&t))?))
        })
    }
    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__and__", || logicop(py, &self.t, o, LogicOp::And))
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rand__", || logicop(py, &self.t, o, LogicOp::And))
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__or__", || logicop(py, &self.t, o, LogicOp::Or))
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__ror__", || logicop(py, &self.t, o, LogicOp::Or))
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__xor__", || logicop(py, &self.t, o, LogicOp::Xor))
    }
    fn __rxor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        guard("Tensor.__rxor__", || logicop(py, &self.t, o, LogicOp::Xor))
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        guard("Tensor.__richcmp__", || {
            let b = match to_tensor(o, Some(self.t.dtype())) {
                Ok(b) => b,
                // Not comparable (None, strings, ...): let Python fall back (identity for ==).
                Err(_) => return Ok(py.NotImplemented()),
            };
            let c = match op {
                CompareOp::Lt => CmpOp::Lt,
                CompareOp::Le => CmpOp::Le,
                CompareOp::Eq => CmpOp::Eq,
                CompareOp::Ne => CmpOp::Ne,
                CompareOp::Gt => CmpOp::Gt,
                CompareOp::Ge => CmpOp::Ge,
            };
            let a = self.t.clone();
            let work = a.numel().max(b.numel());
            let r = run(py, work, || ops::compare(&a, &b, c))?;
            Ok(Py::new(py, PyTensor::wrap(r))?.into_any())
        })
    }

    /// Address of the first element (tests use it to check memory sharing).
    fn _data_ptr(&self) -> PyResult<usize> {
        guard("Tensor._data_ptr", || {
            Ok(self.t.storage().as_byte_ptr() as usize + self.t.offset() * self.t.dtype().size())
        })
    }
}
