//! Module-level functions of `ferrograd._core`: creation and every op by name (random draws: `random.rs`).
//! `python/ferrograd/ops.py` wraps them with keras.ops signatures and defaults.

use super::errors::guard;
use numpy::PyUntypedArray;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::autograd;
use crate::dtype::DType;
use crate::kernels::binary::{BinaryOp, CmpOp, LogicOp};
use crate::kernels::unary::UnaryOp;
use crate::ops::{self, PadMode, SplitSpec};

use super::convert::{parse_axes, parse_dims, parse_dtype, to_tensor, to_tensors};
use super::tensor::{run, PyTensor};

type T = PyTensor;

fn wrap(t: crate::tensor::Tensor) -> T {
    PyTensor::wrap(t)
}

fn dtype_or(d: Option<&Bound<'_, PyAny>>, default: DType) -> PyResult<DType> {
    Ok(parse_dtype(d)?.unwrap_or(default))
}

/// A tensor over a NumPy array's memory (copied when it is not contiguous or not a supported dtype).
#[pyfunction]
#[pyo3(signature = (array, dtype=None, copy=false))]
fn from_numpy(
    py: Python<'_>,
    array: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    copy: bool,
) -> PyResult<T> {
    guard("from_numpy", || {
        let tname = array.get_type().name()?.to_string();
        let a = array.cast::<PyUntypedArray>().map_err(|_| {
            PyTypeError::new_err(format!("from_numpy expects a numpy.ndarray, got {tname}"))
        })?;
        Ok(wrap(super::numpy::from_numpy(
            py,
            a,
            parse_dtype(dtype)?,
            copy,
        )?))
    })
}

/// Any tensor-like value as a tensor (shares memory with tensors and suitable arrays).
#[pyfunction]
#[pyo3(signature = (x, dtype=None))]
fn as_tensor(x: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<T> {
    guard("as_tensor", || {
        let t = to_tensor(x, None)?;
        Ok(wrap(match parse_dtype(dtype)? {
            Some(d) => ops::cast_nograd(&t, d)?,
            None => t,
        }))
    })
}

#[pyfunction]
#[pyo3(signature = (shape, value, dtype=None))]
fn full(
    py: Python<'_>,
    shape: &Bound<'_, PyAny>,
    value: f64,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    guard("full", || {
        let s = parse_dims(shape)?;
        let d = dtype_or(dtype, DType::F32)?;
        Ok(wrap(run(py, s.iter().product(), || {
            ops::full(&s, value, d)
        })?))
    })
}

#[pyfunction]
#[pyo3(signature = (start, stop, step, dtype))]
fn arange(start: f64, stop: f64, step: f64, dtype: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("arange", || {
        let d = dtype_or(Some(dtype), DType::I64)?;
        Ok(wrap(ops::arange(start, stop, step, d)?))
    })
}

#[pyfunction]
#[pyo3(signature = (n, m, k, dtype=None))]
fn eye(n: usize, m: usize, k: isize, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<T> {
    guard("eye", || {
        Ok(wrap(ops::eye(n, m, k, dtype_or(dtype, DType::F32)?)?))
    })
}

#[pyfunction]
#[pyo3(signature = (start, stop, num, endpoint, dtype=None))]
fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    endpoint: bool,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    guard("linspace", || {
        Ok(wrap(ops::linspace(
            start,
            stop,
            num,
            endpoint,
            dtype_or(dtype, DType::F32)?,
        )?))
    })
}

pub(crate) fn unary_op(name: &str, a: Option<f64>, b: Option<f64>) -> PyResult<UnaryOp> {
    let need = |v: Option<f64>, what: &str| {
        v.ok_or_else(|| PyValueError::new_err(format!("{name} needs the argument {what}")))
    };
    Ok(match name {
        "negative" => UnaryOp::Neg,
        "abs" | "absolute" => UnaryOp::Abs,
        "exp" => UnaryOp::Exp,
        "log" => UnaryOp::Log,
        "log1p" => UnaryOp::Log1p,
        "expm1" => UnaryOp::Expm1,
        "sqrt" => UnaryOp::Sqrt,
        "rsqrt" => UnaryOp::Rsqrt,
        "square" => UnaryOp::Square,
        "reciprocal" => UnaryOp::Reciprocal,
        "sin" => UnaryOp::Sin,
        "cos" => UnaryOp::Cos,
        "tanh" => UnaryOp::Tanh,
        "arcsin" => UnaryOp::Asin,
        "erfinv" => UnaryOp::Erfinv,
        "arccos" => UnaryOp::Acos,
        "arctan" => UnaryOp::Atan,
        "arcsinh" => UnaryOp::Asinh,
        "arccosh" => UnaryOp::Acosh,
        "arctanh" => UnaryOp::Atanh,
        "sigmoid" => UnaryOp::Sigmoid,
        "relu" => UnaryOp::Relu,
        "relu6" => UnaryOp::Relu6,
        "leaky_relu" => UnaryOp::LeakyRelu(need(a, "negative_slope")?),
        "elu" => UnaryOp::Elu(need(a, "alpha")?),
        "selu" => UnaryOp::Selu,
        "gelu" => UnaryOp::Gelu,
        "gelu_tanh" => UnaryOp::GeluTanh,
        "silu" => UnaryOp::Silu,
        "softplus" => UnaryOp::Softplus,
        "softsign" => UnaryOp::Softsign,
        "erf" => UnaryOp::Erf,
        "sign" => UnaryOp::Sign,
        "floor" => UnaryOp::Floor,
        "ceil" => UnaryOp::Ceil,
        "round" => UnaryOp::Round,
        "clip" => {
            let (lo, hi) = (need(a, "x_min")?, need(b, "x_max")?);
            if lo.is_nan() || hi.is_nan() {
                return Err(PyValueError::new_err(format!(
                    "clip bounds must not be NaN, got {lo} and {hi}"
                )));
            }
            UnaryOp::Clip(lo, hi)
        }
        _ => return Err(PyValueError::new_err(format!("unknown unary op '{name}'"))),
    })
}

/// Elementwise unary op by name (`a`, `b`: its parameters, e.g. leaky_relu's slope).
#[pyfunction]
#[pyo3(signature = (x, name, a=None, b=None))]
fn unary(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    name: &str,
    a: Option<f64>,
    b: Option<f64>,
) -> PyResult<T> {
    guard(name, || {
        let op = unary_op(name, a, b)?;
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || ops::unary(&x, op))?))
    })
}

fn two(
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<(crate::tensor::Tensor, crate::tensor::Tensor)> {
    // A bare Python scalar takes the dtype of the tensor operand (weak typing).
    if x.cast::<PyTensor>().is_ok() || x.cast::<PyUntypedArray>().is_ok() {
        let a = to_tensor(x, None)?;
        let b = to_tensor(y, Some(a.dtype()))?;
        Ok((a, b))
    } else {
        let b = to_tensor(y, None)?;
        let a = to_tensor(x, Some(b.dtype()))?;
        Ok((a, b))
    }
}

/// Broadcasting binary op by name.
#[pyfunction]
fn binary(py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>, name: &str) -> PyResult<T> {
    guard(name, || {
        let (a, b) = two(x, y)?;
        let work = a.numel().max(b.numel());
        let r = match name {
            "add" => run(py, work, || ops::binary(&a, &b, BinaryOp::Add)),
            "subtract" => run(py, work, || ops::binary(&a, &b, BinaryOp::Sub)),
            "multiply" => run(py, work, || ops::binary(&a, &b, BinaryOp::Mul)),
            "divide" | "true_divide" => run(py, work, || ops::binary(&a, &b, BinaryOp::Div)),
            "power" => run(py, work, || ops::binary(&a, &b, BinaryOp::Pow)),
            "arctan2" => run(py, work, || ops::binary(&a, &b, BinaryOp::Atan2)),
            "fmod" => run(py, work, || ops::binary(&a, &b, BinaryOp::Fmod)),
            "hypot" => run(py, work, || ops::binary(&a, &b, BinaryOp::Hypot)),
            "nextafter" => run(py, work, || ops::binary(&a, &b, BinaryOp::NextAfter)),
            "maximum" => run(py, work, || ops::binary(&a, &b, BinaryOp::Maximum)),
            "minimum" => run(py, work, || ops::binary(&a, &b, BinaryOp::Minimum)),
            "floor_divide" => run(py, work, || ops::binary(&a, &b, BinaryOp::FloorDiv)),
            "mod" => run(py, work, || ops::binary(&a, &b, BinaryOp::Mod)),
            "equal" => run(py, work, || ops::compare(&a, &b, CmpOp::Eq)),
            "not_equal" => run(py, work, || ops::compare(&a, &b, CmpOp::Ne)),
            "less" => run(py, work, || ops::compare(&a, &b, CmpOp::Lt)),
            "less_equal" => run(py, work, || ops::compare(&a, &b, CmpOp::Le)),
            "greater" => run(py, work, || ops::compare(&a, &b, CmpOp::Gt)),
            "greater_equal" => run(py, work, || ops::compare(&a, &b, CmpOp::Ge)),
            "logical_and" => run(py, work, || ops::logical(&a, &b, LogicOp::And)),
            "logical_or" => run(py, work, || ops::logical(&a, &b, LogicOp::Or)),
            "logical_xor" => run(py, work, || ops::logical(&a, &b, LogicOp::Xor)),
            "bitwise_and" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::And)),
            "bitwise_or" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::Or)),
            "bitwise_xor" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::Xor)),
            "left_shift" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::LeftShift)),
            "right_shift" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::RightShift)),
            "gcd" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::Gcd)),
            "lcm" => run(py, work, || ops::bitwise(&a, &b, ops::BitOp::Lcm)),
            "matmul" => run(py, usize::MAX, || ops::matmul(&a, &b)),
            _ => return Err(PyValueError::new_err(format!("unknown binary op '{name}'"))),
        }?;
        Ok(wrap(r))
    })
}

/// Bit complement of integers (logical not of bools).
#[pyfunction]
fn bitwise_not(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("bitwise_not", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || ops::bitwise_not(&x))?))
    })
}

#[pyfunction]
fn logical_not(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("logical_not", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || ops::logical_not(&x))?))
    })
}

#[pyfunction]
#[pyo3(name = "where")]
fn where_(
    py: Python<'_>,
    c: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<T> {
    guard("where", || {
        let c = to_tensor(c, None)?;
        let (a, b) = two(x, y)?;
        let work = c.numel().max(a.numel()).max(b.numel());
        Ok(wrap(run(py, work, || ops::where_(&c, &a, &b))?))
    })
}

#[pyfunction]
fn cast(py: Python<'_>, x: &Bound<'_, PyAny>, dtype: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("cast", || {
        let x = to_tensor(x, None)?;
        let d = parse_dtype(Some(dtype))?
            .ok_or_else(|| PyTypeError::new_err("cast needs a dtype, got None"))?;
        Ok(wrap(run(py, x.numel(), || ops::cast(&x, d))?))
    })
}

/// Reduction by name over `axis` (None: all axes).
#[pyfunction]
#[pyo3(signature = (x, name, axis=None, keepdims=false))]
fn reduce(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    name: &str,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
) -> PyResult<T> {
    guard(name, || {
        let x = to_tensor(x, None)?;
        let axes = parse_axes(axis)?;
        let ax = axes.as_deref();
        let n = x.numel();
        let r = match name {
            "sum" => run(py, n, || ops::sum(&x, ax, keepdims)),
            "mean" => run(py, n, || ops::mean(&x, ax, keepdims)),
            "max" => run(py, n, || ops::max(&x, ax, keepdims)),
            "min" => run(py, n, || ops::min(&x, ax, keepdims)),
            "prod" => run(py, n, || ops::prod(&x, ax, keepdims)),
            "var" => run(py, n, || ops::var(&x, ax, keepdims)),
            "std" => run(py, n, || ops::std(&x, ax, keepdims)),
            "logsumexp" => run(py, n, || ops::logsumexp(&x, ax, keepdims)),
            "any" => run(py, n, || ops::any(&x, ax, keepdims)),
            "all" => run(py, n, || ops::all(&x, ax, keepdims)),
            _ => return Err(PyValueError::new_err(format!("unknown reduction '{name}'"))),
        }?;
        Ok(wrap(r))
    })
}

#[pyfunction]
#[pyo3(signature = (x, is_max, axis=None, keepdims=false))]
fn argextreme(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    is_max: bool,
    axis: Option<isize>,
    keepdims: bool,
) -> PyResult<T> {
    guard("argextreme", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || {
            if is_max {
                ops::argmax(&x, axis, keepdims)
            } else {
                ops::argmin(&x, axis, keepdims)
            }
        })?))
    })
}

/// Stable argsort of the last axis (int64); NaN counts as the largest value. With `k`, only the
/// first k indices of that order (top-k by selection).
#[pyfunction]
#[pyo3(signature = (x, descending=false, k=None))]
fn argsort(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    descending: bool,
    k: Option<usize>,
) -> PyResult<T> {
    guard("argsort", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || {
            ops::argsort(&x, descending, k)
        })?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, axis=-1, log=false))]
fn softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: isize, log: bool) -> PyResult<T> {
    guard("softmax", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || {
            if log {
                ops::log_softmax(&x, axis)
            } else {
                ops::softmax(&x, axis)
            }
        })?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn cumsum(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<T> {
    guard("cumsum", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || ops::cumsum(&x, axis))?))
    })
}

/// Cumulative product along `axis` (of the flattened tensor when None).
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn cumprod(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<T> {
    guard("cumprod", || {
        let x = to_tensor(x, None)?;
        Ok(wrap(run(py, x.numel(), || ops::cumprod(&x, axis))?))
    })
}

#[pyfunction]
fn reshape(py: Python<'_>, x: &Bound<'_, PyAny>, shape: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("reshape", || {
        let x = to_tensor(x, None)?;
        let s = ops::resolve_shape("reshape", x.numel(), &super::convert::parse_shape(shape)?)?;
        Ok(wrap(run(py, x.numel(), || ops::reshape(&x, &s))?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, axes=None))]
fn transpose(x: &Bound<'_, PyAny>, axes: Option<&Bound<'_, PyAny>>) -> PyResult<T> {
    guard("transpose", || {
        let x = to_tensor(x, None)?;
        let axes = parse_axes(axes)?;
        Ok(wrap(ops::transpose(&x, axes.as_deref())?))
    })
}

#[pyfunction]
fn swapaxes(x: &Bound<'_, PyAny>, a: isize, b: isize) -> PyResult<T> {
    guard("swapaxes", || {
        Ok(wrap(ops::swapaxes(&to_tensor(x, None)?, a, b)?))
    })
}

#[pyfunction]
fn moveaxis(x: &Bound<'_, PyAny>, src: isize, dst: isize) -> PyResult<T> {
    guard("moveaxis", || {
        Ok(wrap(ops::moveaxis(&to_tensor(x, None)?, src, dst)?))
    })
}

#[pyfunction]
fn expand_dims(x: &Bound<'_, PyAny>, axis: isize) -> PyResult<T> {
    guard("expand_dims", || {
        Ok(wrap(ops::expand_dims(&to_tensor(x, None)?, axis)?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn squeeze(x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> PyResult<T> {
    guard("squeeze", || {
        let axes = parse_axes(axis)?;
        Ok(wrap(ops::squeeze(&to_tensor(x, None)?, axes.as_deref())?))
    })
}

#[pyfunction]
fn broadcast_to(x: &Bound<'_, PyAny>, shape: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("broadcast_to", || {
        Ok(wrap(ops::broadcast_to(
            &to_tensor(x, None)?,
            &parse_dims(shape)?,
        )?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, axis=None))]
fn flip(x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> PyResult<T> {
    guard("flip", || {
        let axes = parse_axes(axis)?;
        Ok(wrap(ops::flip(&to_tensor(x, None)?, axes.as_deref())?))
    })
}

#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn concatenate(py: Python<'_>, xs: &Bound<'_, PyAny>, axis: isize) -> PyResult<T> {
    guard("concatenate", || {
        let xs = to_tensors(xs)?;
        let n = xs.iter().map(|t| t.numel()).sum();
        Ok(wrap(run(py, n, || ops::concatenate(&xs, axis))?))
    })
}

#[pyfunction]
#[pyo3(signature = (xs, axis=0))]
fn stack(py: Python<'_>, xs: &Bound<'_, PyAny>, axis: isize) -> PyResult<T> {
    guard("stack", || {
        let xs = to_tensors(xs)?;
        let n = xs.iter().map(|t| t.numel()).sum();
        Ok(wrap(run(py, n, || ops::stack(&xs, axis))?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, indices_or_sections, axis=0))]
fn split<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    indices_or_sections: &Bound<'py, PyAny>,
    axis: isize,
) -> PyResult<Bound<'py, PyList>> {
    guard("split", || {
        let x = to_tensor(x, None)?;
        let spec = if let Ok(k) = indices_or_sections.extract::<usize>() {
            SplitSpec::Sections(k)
        } else {
            SplitSpec::Indices(indices_or_sections.extract::<Vec<isize>>().map_err(|_| {
                PyTypeError::new_err("indices_or_sections must be an int or a sequence of ints")
            })?)
        };
        let parts = ops::split(&x, &spec, axis)?;
        PyList::new(py, parts.into_iter().map(wrap))
    })
}

#[pyfunction]
fn tile(py: Python<'_>, x: &Bound<'_, PyAny>, repeats: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("tile", || {
        let x = to_tensor(x, None)?;
        let reps = parse_dims(repeats)?;
        Ok(wrap(run(py, x.numel(), || ops::tile(&x, &reps))?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, repeats, axis=None))]
fn repeat(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    repeats: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> PyResult<T> {
    guard("repeat", || {
        let x = to_tensor(x, None)?;
        let reps = parse_dims(repeats)?;
        Ok(wrap(run(py, x.numel(), || ops::repeat(&x, &reps, axis))?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, pad_width, mode="constant", constant_values=0.0))]
fn pad(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    pad_width: Vec<(usize, usize)>,
    mode: &str,
    constant_values: f64,
) -> PyResult<T> {
    guard("pad", || {
        let x = to_tensor(x, None)?;
        let m = match mode {
            "constant" => PadMode::Constant,
            "reflect" => PadMode::Reflect,
            "symmetric" => PadMode::Symmetric,
            "edge" => PadMode::Edge,
            _ => {
                return Err(PyValueError::new_err(format!(
                "pad mode must be one of 'constant', 'reflect', 'symmetric', 'edge'; got '{mode}'"
            )))
            }
        };
        Ok(wrap(run(py, x.numel(), || {
            ops::pad(&x, &pad_width, m, constant_values)
        })?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, indices, axis=None))]
fn take(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> PyResult<T> {
    guard("take", || {
        let x = to_tensor(x, None)?;
        let i = to_tensor(indices, None)?;
        Ok(wrap(run(py, x.numel(), || ops::take(&x, &i, axis))?))
    })
}

/// The transpose of take along `axis` (sums of `values` at `indices`, a new axis of size `dim`).
#[pyfunction]
fn index_add(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    dim: usize,
    axis: isize,
) -> PyResult<T> {
    guard("index_add", || {
        let v = to_tensor(values, None)?;
        let i = to_tensor(indices, None)?;
        Ok(wrap(run(py, v.numel(), || {
            ops::index_add(&v, &i, dim, axis)
        })?))
    })
}

/// Max, min or product of the rows of `values` that share an id (`kind` "max", "min", "prod");
/// ids outside `[0, segments)` drop their row.
#[pyfunction]
fn segment_reduce(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    ids: &Bound<'_, PyAny>,
    segments: usize,
    kind: &str,
) -> PyResult<T> {
    guard("segment_reduce", || {
        let v = to_tensor(values, None)?;
        let i = to_tensor(ids, None)?;
        let k = ops::SegmentKind::parse("segment_reduce", kind)?;
        Ok(wrap(run(py, v.numel(), || {
            ops::segment_reduce(&v, &i, segments, k)
        })?))
    })
}

#[pyfunction]
fn take_along_axis(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: isize,
) -> PyResult<T> {
    guard("take_along_axis", || {
        let x = to_tensor(x, None)?;
        let i = to_tensor(indices, None)?;
        Ok(wrap(run(py, x.numel(), || {
            ops::take_along_axis(&x, &i, axis)
        })?))
    })
}

#[pyfunction]
#[pyo3(signature = (x, num_classes, axis=-1, dtype=None))]
fn one_hot(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    num_classes: usize,
    axis: isize,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    guard("one_hot", || {
        let x = to_tensor(x, None)?;
        let d = dtype_or(dtype, DType::F32)?;
        Ok(wrap(run(py, x.numel() * num_classes, || {
            ops::one_hot(&x, num_classes, axis, d)
        })?))
    })
}

#[pyfunction]
fn nonzero_flat(x: &Bound<'_, PyAny>) -> PyResult<T> {
    guard("nonzero_flat", || {
        Ok(wrap(ops::nonzero_flat(&to_tensor(x, None)?)?))
    })
}

/// Per-sample softmax cross-entropy of logits (classes last) against labels or distributions.
#[pyfunction]
fn softmax_cross_entropy(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    target: &Bound<'_, PyAny>,
    sparse: bool,
) -> PyResult<T> {
    guard("softmax_cross_entropy", || {
        let x = to_tensor(logits, None)?;
        let t = to_tensor(target, None)?;
        Ok(wrap(run(py, x.numel(), || {
            ops::softmax_cross_entropy(&x, &t, sparse)
        })?))
    })
}

/// Writes `value` (broadcast) into `dst` in place; refused while `dst` is on the tape.
#[pyfunction]
fn assign(py: Python<'_>, dst: &Bound<'_, PyTensor>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    guard("assign", || {
        let d = dst.get().t.clone();
        let v = to_tensor(value, Some(d.dtype()))?;
        run(py, d.numel(), || ops::assign(&d, &v))
    })
}

#[pyfunction]
fn set_grad_enabled(on: bool) -> PyResult<bool> {
    guard("set_grad_enabled", || Ok(autograd::set_grad_enabled(on)))
}

#[pyfunction]
fn is_grad_enabled() -> PyResult<bool> {
    guard("is_grad_enabled", || Ok(autograd::is_grad_enabled()))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),*) => { $( m.add_function(wrap_pyfunction!($f, m)?)?; )* };
    }
    add!(
        from_numpy,
        as_tensor,
        full,
        arange,
        eye,
        linspace,
        unary,
        binary,
        logical_not,
        bitwise_not,
        where_,
        cast,
        reduce,
        argextreme,
        argsort,
        softmax,
        cumsum,
        cumprod,
        reshape,
        transpose,
        swapaxes,
        moveaxis,
        expand_dims,
        squeeze,
        broadcast_to,
        flip,
        concatenate,
        stack,
        split,
        tile,
        repeat,
        pad,
        take,
        take_along_axis,
        index_add,
        segment_reduce,
        one_hot,
        nonzero_flat,
        assign,
        softmax_cross_entropy,
        set_grad_enabled,
        is_grad_enabled
    );
    Ok(())
}
