//! Reductions (sum, mean, max, min, prod, var, std, argmax, argmin, logsumexp, any, all),
//! softmax / log-softmax and cumsum.

use crate::autograd::{needs_record, NoGradGuard, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::binary::{BinaryOp, CmpOp};
use crate::kernels::iter::Plan;
use crate::kernels::reduce::{arg_extreme_rows, reduce_cols, reduce_rows, ReduceOp};
use crate::kernels::softmax::{cumsum_rows, softmax_rows, softmax_rows_backward};
use crate::kernels::unary::UnaryOp;
use crate::shape::{normalize_axes, normalize_axis};
use crate::tensor::Tensor;
use crate::{with_float, with_numeric};

use super::{
    binary, cast, cast_nograd, compare, contiguous, contiguous_nograd, finish, full, mul_scalar,
    permute, reshape, unary, where_,
};

/// Element offsets of every index of (shape, strides), in row-major order.
fn offsets(shape: &[usize], strides: &[isize]) -> Vec<isize> {
    let plan = Plan::new(shape, [strides]);
    let n = plan.numel();
    let [s] = plan.inner_strides();
    let mut v = Vec::with_capacity(n);
    plan.for_range([0], 0, n, |o, len| {
        for i in 0..len as isize {
            v.push(o[0] + i * s);
        }
    });
    v
}

fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(shape.len());
    for (d, &n) in shape.iter().enumerate() {
        if axes.contains(&d) {
            if keepdims {
                out.push(1);
            }
        } else {
            out.push(n);
        }
    }
    out
}

/// The reduction itself, without recording. `axes` normalised and sorted.
pub(crate) fn reduce_raw(
    x: &Tensor,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor> {
    let x = match (x.dtype(), op) {
        (DType::Bool, _) => cast_nograd(x, DType::I64)?,
        _ => x.clone(),
    };
    let nd = x.ndim();
    let kept: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    let r: usize = axes.iter().map(|&d| x.shape()[d]).product();
    let out_shape = reduced_shape(x.shape(), axes, keepdims);
    let o: usize = out_shape.iter().product();
    if r == 0 && matches!(op, ReduceOp::Max | ReduceOp::Min) && o > 0 {
        return Err(Error::value(
            op.name(),
            format!(
                "zero-size reduction over axes {axes:?} of shape {:?}: {} has no identity",
                x.shape(),
                op.name()
            ),
        ));
    }
    if r == 0 || o == 0 {
        let id = if op == ReduceOp::Prod { 1.0 } else { 0.0 };
        return full(&out_shape, id, x.dtype());
    }
    let out = Tensor::empty(&out_shape, x.dtype())?;
    let red_shape: Vec<usize> = axes.iter().map(|&d| x.shape()[d]).collect();
    let red_strides: Vec<isize> = axes.iter().map(|&d| x.strides()[d]).collect();
    let kept_shape: Vec<usize> = kept.iter().map(|&d| x.shape()[d]).collect();
    let kept_strides: Vec<isize> = kept.iter().map(|&d| x.strides()[d]).collect();
    let red_plan = Plan::new(&red_shape, [&red_strides]);
    let kept_plan = Plan::new(&kept_shape, [&kept_strides]);
    let rows_contig = r == 1 || (red_plan.shape.len() == 1 && red_plan.strides[0][0] == 1);
    let cols_contig = o > 1 && kept_plan.shape.len() == 1 && kept_plan.strides[0][0] == 1;
    with_numeric!(x.dtype(), T => unsafe {
        let base = x.data_ptr::<T>();
        if rows_contig {
            let offs = offsets(&kept_shape, &kept_strides);
            reduce_rows(op, base, &offs, r, out.data_ptr::<T>(), T::default());
        } else if cols_contig {
            let offs = offsets(&red_shape, &red_strides);
            reduce_cols(op, base, &offs, o, out.data_ptr::<T>());
        } else {
            // Bring the reduced axes last and contiguous, then reduce rows.
            let mut perm = kept.clone();
            perm.extend_from_slice(axes);
            let xp = contiguous_nograd(&x.with_layout(x.layout().permute(&perm)?)?)?;
            let offs: Vec<isize> = (0..o as isize).map(|i| i * r as isize).collect();
            reduce_rows(op, xp.data_ptr::<T>(), &offs, r, out.data_ptr::<T>(), T::default());
        }
    }, _ => unreachable!());
    Ok(out)
}

/// Broadcasts a reduced gradient back over the reduced axes (a view).
pub(crate) fn expand_reduced(
    g: &Tensor,
    in_shape: &[usize],
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor> {
    let kd = if keepdims {
        g.clone()
    } else {
        reshape(g, &reduced_shape(in_shape, axes, true))?
    };
    super::broadcast_to(&kd, in_shape)
}

fn norm_axes(op: &str, x: &Tensor, axes: Option<&[isize]>) -> Result<Vec<usize>> {
    normalize_axes(op, axes, x.ndim())
}

/// Sum over `axes` (all when None).
pub fn sum(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let axes = norm_axes("sum", x, axes)?;
    let out = reduce_raw(x, ReduceOp::Sum, &axes, keepdims)?;
    if !x.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(out, Op::Sum { axes, keepdims }, &[x], vec![]))
}

/// Mean over `axes`; integer inputs give float32.
pub fn mean(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let ax = norm_axes("mean", x, axes)?;
    let x = cast(x, x.dtype().to_float())?;
    let r: usize = ax.iter().map(|&d| x.shape()[d]).product();
    let s = sum(&x, axes, keepdims)?;
    mul_scalar(&s, if r == 0 { f64::NAN } else { 1.0 / r as f64 })
}

fn max_min(x: &Tensor, axes: Option<&[isize]>, keepdims: bool, op: ReduceOp) -> Result<Tensor> {
    let axes = norm_axes(op.name(), x, axes)?;
    let out = reduce_raw(x, op, &axes, keepdims)?;
    if !x.dtype().is_float() {
        return Ok(out);
    }
    let saved = if needs_record(&[x]) {
        vec![out.clone()]
    } else {
        vec![]
    };
    Ok(finish(
        out.clone(),
        Op::MaxMin { axes, keepdims },
        &[x],
        saved,
    ))
}

/// Maximum over `axes` (NaN propagates). The gradient is shared equally among tied maxima.
pub fn max(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    max_min(x, axes, keepdims, ReduceOp::Max)
}

/// Minimum over `axes`.
pub fn min(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    max_min(x, axes, keepdims, ReduceOp::Min)
}

/// Product over `axes` (the gradient is exact also where inputs are zero).
pub fn prod(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let axes = norm_axes("prod", x, axes)?;
    let out = reduce_raw(x, ReduceOp::Prod, &axes, keepdims)?;
    if !x.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(out, Op::Prod { axes, keepdims }, &[x], vec![]))
}

/// Backward of prod: `gx_i = g * prod_{j != i} x_j` from prefix and suffix products.
pub(crate) fn prod_backward(
    x: &Tensor,
    g: &Tensor,
    axes: &[usize],
    keepdims: bool,
) -> Result<Tensor> {
    let nd = x.ndim();
    let kept: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    let mut perm = kept.clone();
    perm.extend_from_slice(axes);
    let r: usize = axes.iter().map(|&d| x.shape()[d]).product();
    let xp = contiguous_nograd(&x.with_layout(x.layout().permute(&perm)?)?)?;
    let gk = contiguous_nograd(&reshape(g, &reduced_shape(x.shape(), axes, false))?)?;
    let rows = xp.numel().checked_div(r).unwrap_or(0);
    let out = Tensor::empty(xp.shape(), x.dtype())?;
    with_float!(x.dtype(), T => unsafe {
        let (xs, gs, os) = (xp.data_ptr::<T>(), gk.data_ptr::<T>(), out.data_ptr::<T>());
        for row in 0..rows {
            let xr = std::slice::from_raw_parts(xs.add(row * r), r);
            let orow = std::slice::from_raw_parts_mut(os.add(row * r), r);
            let gv = *gs.add(row);
            let mut acc = <T as crate::dtype::Element>::one();
            for i in 0..r {
                orow[i] = acc;
                acc *= xr[i];
            }
            acc = <T as crate::dtype::Element>::one();
            for i in (0..r).rev() {
                orow[i] = orow[i] * acc * gv;
                acc *= xr[i];
            }
        }
    }, _ => return Err(Error::dtype("prod", "backward needs a float tensor")));
    let _ = keepdims;
    let mut inv = vec![0usize; nd];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    out.with_layout(out.layout().permute(&inv)?)
}

/// Population variance over `axes`.
pub fn var(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = cast(x, x.dtype().to_float())?;
    let m = mean(&x, axes, true)?;
    let d = binary(&x, &m, BinaryOp::Sub)?;
    mean(&unary(&d, UnaryOp::Square)?, axes, keepdims)
}

/// Population standard deviation over `axes`.
pub fn std(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    unary(&var(x, axes, keepdims)?, UnaryOp::Sqrt)
}

/// `log(sum(exp(x)))` over `axes`, computed stably.
pub fn logsumexp(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    let x = cast(x, x.dtype().to_float())?;
    let m = {
        let _g = NoGradGuard::new();
        let m = max(&x, axes, true)?;
        // Rows of all -inf (or +inf) would give NaN from x - m: shift by 0 there instead.
        let finite = compare(
            &unary(&m, UnaryOp::Abs)?,
            &full(&[], f64::INFINITY, m.dtype())?,
            CmpOp::Lt,
        )?;
        where_(&finite, &m, &full(&[], 0.0, m.dtype())?)?
    };
    let e = unary(&binary(&x, &m, BinaryOp::Sub)?, UnaryOp::Exp)?;
    let s = unary(&sum(&e, axes, true)?, UnaryOp::Log)?;
    let out = binary(&s, &m, BinaryOp::Add)?;
    if keepdims {
        Ok(out)
    } else {
        let axes = norm_axes("logsumexp", &x, axes)?;
        reshape(&out, &reduced_shape(x.shape(), &axes, false))
    }
}

fn bool_reduce(
    name: &str,
    x: &Tensor,
    axes: Option<&[isize]>,
    keepdims: bool,
    op: ReduceOp,
) -> Result<Tensor> {
    let axes = norm_axes(name, x, axes)?;
    let r: usize = axes.iter().map(|&d| x.shape()[d]).product();
    if r == 0 {
        // Empty reduction: any() is false, all() is true.
        let id = if op == ReduceOp::Min { 1.0 } else { 0.0 };
        return full(&reduced_shape(x.shape(), &axes, keepdims), id, DType::Bool);
    }
    let b = cast_nograd(&cast_nograd(x, DType::Bool)?, DType::I32)?;
    cast_nograd(&reduce_raw(&b, op, &axes, keepdims)?, DType::Bool)
}

/// Whether any element along `axes` is nonzero.
pub fn any(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    bool_reduce("any", x, axes, keepdims, ReduceOp::Max)
}

/// Whether every element along `axes` is nonzero.
pub fn all(x: &Tensor, axes: Option<&[isize]>, keepdims: bool) -> Result<Tensor> {
    bool_reduce("all", x, axes, keepdims, ReduceOp::Min)
}

/// Moves `axis` last; returns the permutation used (None when it is already last).
pub(super) fn axis_last_perm(nd: usize, axis: usize) -> Option<Vec<usize>> {
    if axis + 1 == nd {
        return None;
    }
    let mut perm: Vec<usize> = (0..nd).filter(|&d| d != axis).collect();
    perm.push(axis);
    Some(perm)
}

pub(super) fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

/// Index of the maximum along `axis` (flattened when None), as int64.
pub fn argmax(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    arg_extreme(x, axis, keepdims, true)
}

/// Index of the minimum along `axis` (flattened when None), as int64.
pub fn argmin(x: &Tensor, axis: Option<isize>, keepdims: bool) -> Result<Tensor> {
    arg_extreme(x, axis, keepdims, false)
}

fn arg_extreme(x: &Tensor, axis: Option<isize>, keepdims: bool, is_max: bool) -> Result<Tensor> {
    let name = if is_max { "argmax" } else { "argmin" };
    let x = if x.dtype() == DType::Bool {
        cast_nograd(x, DType::I32)?
    } else {
        x.clone()
    };
    let (xc, r, out_shape) = match axis {
        None => {
            let shape = if keepdims { vec![1; x.ndim()] } else { vec![] };
            (contiguous_nograd(&x)?, x.numel(), shape)
        }
        Some(a) => {
            let a = normalize_axis(name, a, x.ndim())?;
            let xp = match axis_last_perm(x.ndim(), a) {
                Some(p) => x.with_layout(x.layout().permute(&p)?)?,
                None => x.clone(),
            };
            (
                contiguous_nograd(&xp)?,
                x.shape()[a],
                reduced_shape(x.shape(), &[a], keepdims),
            )
        }
    };
    if r == 0 {
        return Err(Error::value(
            name,
            format!(
                "attempt to get {name} of an empty sequence (shape {:?})",
                x.shape()
            ),
        ));
    }
    let out = Tensor::empty(&out_shape, DType::I64)?;
    let rows = xc.numel() / r;
    with_numeric!(xc.dtype(), T => unsafe {
        arg_extreme_rows(xc.data_ptr::<T>(), rows, r, is_max, out.data_ptr::<i64>())
    }, _ => unreachable!());
    Ok(out)
}

/// Stable argsort along the last axis (int64 indices, same shape; with `k`, the first k of that
/// order, shape (..., k)); NaN sorts as the largest value. Indices carry no gradient
/// (`take_along_axis` with them is the differentiable sort / top-k).
pub fn argsort(x: &Tensor, descending: bool, k: Option<usize>) -> Result<Tensor> {
    if x.ndim() == 0 {
        return Err(Error::value(
            "argsort",
            "expected a tensor of rank >= 1, got a scalar",
        ));
    }
    let x = if x.dtype() == DType::Bool {
        cast_nograd(x, DType::I32)?
    } else {
        x.clone()
    };
    let xc = contiguous_nograd(&x)?;
    let n = xc.shape()[xc.ndim() - 1];
    let rows = xc.numel().checked_div(n).unwrap_or(0);
    if let Some(k) = k {
        if k > n {
            return Err(Error::value(
                "argsort",
                format!(
                    "k={k} is larger than the last axis ({n}) of shape {:?}",
                    xc.shape()
                ),
            ));
        }
        let mut shape = xc.shape().to_vec();
        *shape.last_mut().unwrap_or(&mut 0) = k;
        let out = Tensor::empty(&shape, DType::I64)?;
        // SAFETY: `xc` is contiguous with rows * n elements of T; `out` is a fresh buffer of
        // rows * k elements, distinct from `xc`; k <= n.
        with_numeric!(xc.dtype(), T => unsafe {
            crate::kernels::sort::top_k_rows(xc.data_ptr::<T>(), rows, n, k, descending, out.data_ptr::<i64>())
        }, _ => unreachable!());
        return Ok(out);
    }
    let out = Tensor::empty(xc.shape(), DType::I64)?;
    // SAFETY: `xc` is contiguous with rows * n elements of T; `out` is a fresh buffer of the same
    // count, distinct from `xc`.
    with_numeric!(xc.dtype(), T => unsafe {
        crate::kernels::sort::argsort_rows(xc.data_ptr::<T>(), rows, n, descending, out.data_ptr::<i64>())
    }, _ => unreachable!());
    Ok(out)
}

fn softmax_impl(x: &Tensor, axis: isize, log: bool) -> Result<Tensor> {
    let name = if log { "log_softmax" } else { "softmax" };
    let x = cast(x, x.dtype().to_float())?;
    if x.ndim() == 0 {
        return Err(Error::value(
            name,
            "expected a tensor of rank >= 1, got a scalar",
        ));
    }
    let a = normalize_axis(name, axis, x.ndim())?;
    if let Some(p) = axis_last_perm(x.ndim(), a) {
        let y = softmax_impl(&permute(&x, &p)?, -1, log)?;
        return permute(&y, &inverse(&p));
    }
    let xc = contiguous(&x)?;
    let out = Tensor::empty(xc.shape(), xc.dtype())?;
    let n = xc.shape()[xc.ndim() - 1];
    let rows = xc.numel().checked_div(n).unwrap_or(0);
    with_float!(xc.dtype(), T => unsafe {
        softmax_rows(xc.data_ptr::<T>(), out.data_ptr::<T>(), rows, n, log)
    }, _ => unreachable!());
    let saved = if needs_record(&[&xc]) {
        vec![out.clone()]
    } else {
        vec![]
    };
    let op = if log {
        Op::LogSoftmax { axis: a }
    } else {
        Op::Softmax { axis: a }
    };
    Ok(finish(out.clone(), op, &[&xc], saved))
}

/// Softmax along `axis` (fused and stable).
pub fn softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    softmax_impl(x, axis, false)
}

/// Log-softmax along `axis` (fused and stable).
pub fn log_softmax(x: &Tensor, axis: isize) -> Result<Tensor> {
    softmax_impl(x, axis, true)
}

/// Backward of the last-axis softmax / log-softmax kernel.
pub(crate) fn softmax_backward(y: &Tensor, g: &Tensor, log: bool) -> Result<Tensor> {
    let g = contiguous_nograd(&cast_nograd(g, y.dtype())?)?;
    let y = contiguous_nograd(y)?;
    let out = Tensor::empty(y.shape(), y.dtype())?;
    let n = y.shape()[y.ndim() - 1];
    let rows = y.numel().checked_div(n).unwrap_or(0);
    with_float!(y.dtype(), T => unsafe {
        softmax_rows_backward(y.data_ptr::<T>(), g.data_ptr::<T>(), out.data_ptr::<T>(), rows, n, log)
    }, _ => unreachable!());
    Ok(out)
}

/// Cumulative sum along `axis` (over the flattened tensor when None).
pub fn cumsum(x: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    let x = if x.dtype() == DType::Bool {
        cast_nograd(x, DType::I64)?
    } else {
        x.clone()
    };
    let Some(axis) = axis else {
        return cumsum(&reshape(&x, &[x.numel()])?, Some(0));
    };
    if x.ndim() == 0 {
        return reshape(&x, &[]);
    }
    let a = normalize_axis("cumsum", axis, x.ndim())?;
    if let Some(p) = axis_last_perm(x.ndim(), a) {
        let y = cumsum(&permute(&x, &p)?, Some(-1))?;
        return permute(&y, &inverse(&p));
    }
    let xc = contiguous(&x)?;
    let out = cumsum_raw(&xc, false)?;
    if !x.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(out, Op::Cumsum { axis: a }, &[&xc], vec![]))
}

/// Last-axis (reverse) cumulative sum of a tensor, without recording.
pub(crate) fn cumsum_raw(x: &Tensor, reverse: bool) -> Result<Tensor> {
    let xc = contiguous_nograd(x)?;
    let out = Tensor::empty(xc.shape(), xc.dtype())?;
    let n = if xc.ndim() == 0 {
        1
    } else {
        xc.shape()[xc.ndim() - 1]
    };
    let rows = xc.numel().checked_div(n).unwrap_or(0);
    with_numeric!(xc.dtype(), T => unsafe {
        cumsum_rows(xc.data_ptr::<T>(), out.data_ptr::<T>(), rows, n, reverse)
    }, _ => return Err(Error::dtype("cumsum", format!("unsupported dtype {}", xc.dtype()))));
    Ok(out)
}

/// Sums `g` down to `shape` (the adjoint of broadcasting `shape` to `g.shape()`).
pub fn sum_to(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.ndim().checked_sub(shape.len()).ok_or_else(|| {
        Error::shape(
            "sum_to",
            format!(
                "cannot sum shape {:?} down to the higher-rank {shape:?}",
                g.shape()
            ),
        )
    })?;
    let mut axes: Vec<isize> = (0..lead as isize).collect();
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && g.shape()[lead + i] != 1 {
            axes.push((lead + i) as isize);
        }
    }
    let s = sum(g, Some(&axes), true)?;
    reshape(&s, shape)
}
