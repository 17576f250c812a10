//! Gathers: take, take_along_axis, one_hot, with scatter-add gradients.

use crate::autograd::Op;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::binary::CmpOp;
use crate::kernels::index::{gather, scatter_add};
use crate::kernels::iter::Plan;
use crate::shape::normalize_axis;
use crate::tensor::Tensor;
use crate::{with_dtype, with_numeric};

use super::{
    arange, broadcast_to, cast_nograd, compare, contiguous, contiguous_nograd, expand_dims, finish,
    full, reshape,
};

/// Indices as int64 with negatives wrapped, checked against `dim`.
fn checked_indices(op: &str, idx: &Tensor, dim: usize, axis: usize) -> Result<Tensor> {
    if !idx.dtype().is_int() {
        return Err(Error::dtype(
            op,
            format!("indices must be integers, got dtype {}", idx.dtype()),
        ));
    }
    let v = cast_nograd(&contiguous_nograd(idx)?, DType::I64)?;
    let v = if v.shares_storage(idx) {
        super::copy_as(&v, DType::I64)?
    } else {
        v
    };
    let n = dim as i64;
    // SAFETY: v is a fresh contiguous int64 tensor owned here.
    let s = unsafe { std::slice::from_raw_parts_mut(v.data_ptr::<i64>(), v.numel()) };
    for x in s.iter_mut() {
        let j = if *x < 0 { *x + n } else { *x };
        if j < 0 || j >= n {
            return Err(Error::index(
                op,
                format!("index {x} is out of bounds for axis {axis} with size {dim}"),
            ));
        }
        *x = j;
    }
    Ok(v)
}

/// Elements of `x` at `indices` along `axis` (of the flattened tensor when None).
/// Output shape: `x.shape[:axis] + indices.shape + x.shape[axis+1:]`.
pub fn take(x: &Tensor, indices: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    let (x, a) = match axis {
        None => (reshape(x, &[x.numel()])?, 0usize),
        Some(ax) => {
            if x.ndim() == 0 {
                return Err(Error::value(
                    "take",
                    "cannot take along an axis of a 0-d tensor",
                ));
            }
            (x.clone(), normalize_axis("take", ax, x.ndim())?)
        }
    };
    let dim = x.shape()[a];
    let idx = checked_indices("take", indices, dim, a)?;
    let xc = contiguous(&x)?;
    let pre: usize = x.shape()[..a].iter().product();
    let post: usize = x.shape()[a + 1..].iter().product();
    let mut shape = x.shape()[..a].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&x.shape()[a + 1..]);
    let out = Tensor::empty(&shape, x.dtype())?;
    if out.numel() > 0 {
        // SAFETY: idx holds validated indices; shapes checked above.
        let iv = unsafe { std::slice::from_raw_parts(idx.data_ptr::<i64>(), idx.numel()) };
        with_dtype!(x.dtype(), T => unsafe { gather(xc.data_ptr::<T>(), pre, dim, post, iv, out.data_ptr::<T>()) });
    }
    if !x.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(out, Op::Take { axis: a }, &[&xc, &idx], vec![]))
}

/// Backward of take: scatter-add `g` into zeros shaped like `x`.
pub(crate) fn take_backward(
    x_shape: &[usize],
    dtype: DType,
    idx: &Tensor,
    axis: usize,
    g: &Tensor,
) -> Result<Tensor> {
    let gx = full(x_shape, 0.0, dtype)?;
    let g = contiguous_nograd(&cast_nograd(g, dtype)?)?;
    let pre: usize = x_shape[..axis].iter().product();
    let post: usize = x_shape[axis + 1..].iter().product();
    let dim = x_shape[axis];
    if g.numel() > 0 {
        let iv = unsafe { std::slice::from_raw_parts(idx.data_ptr::<i64>(), idx.numel()) };
        with_numeric!(dtype, T => unsafe { scatter_add(g.data_ptr::<T>(), pre, dim, post, iv, gx.data_ptr::<T>()) },
            _ => return Err(Error::dtype("take", "backward needs a numeric dtype")));
    }
    Ok(gx)
}

/// The transpose of [`take`] along `axis`: a tensor shaped like `values` with that axis resized to
/// `dim`, where `out[.., i, ..]` is the sum of the `values[.., j, ..]` whose `indices[j] == i`
/// (zeros where no index points). `indices` is 1-D with one entry per position of `values`
/// along `axis`, each in `[-dim, dim)` (negatives wrap). Keras' `segment_sum` and `scatter`
/// are this op; its gradient with respect to `values` is `take(g, indices, axis)`. The sums run
/// in index order for every element, whatever the thread count.
pub fn index_add(values: &Tensor, indices: &Tensor, dim: usize, axis: isize) -> Result<Tensor> {
    const OP: &str = "index_add";
    if values.ndim() == 0 {
        return Err(Error::value(
            OP,
            "values must have at least one axis, got a 0-d tensor",
        ));
    }
    let a = normalize_axis(OP, axis, values.ndim())?;
    if indices.ndim() != 1 || indices.numel() != values.shape()[a] {
        return Err(Error::shape(
            OP,
            format!(
                "indices must be 1-D with one entry per position of values along axis {a} ({}), got shape {:?}",
                values.shape()[a],
                indices.shape()
            ),
        ));
    }
    if values.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "values must be numeric, got bool"));
    }
    let idx = checked_indices(OP, indices, dim, a)?;
    let vc = contiguous(values)?;
    let mut shape = values.shape().to_vec();
    shape[a] = dim;
    let out = full(&shape, 0.0, values.dtype())?;
    let pre: usize = shape[..a].iter().product();
    let post: usize = shape[a + 1..].iter().product();
    if vc.numel() > 0 && out.numel() > 0 {
        // SAFETY: idx holds validated indices in 0..dim; vc is contiguous (pre, n, post) and
        // out is a fresh (pre, dim, post) buffer.
        let iv = unsafe { std::slice::from_raw_parts(idx.data_ptr::<i64>(), idx.numel()) };
        with_numeric!(values.dtype(), T => unsafe { scatter_add(vc.data_ptr::<T>(), pre, dim, post, iv, out.data_ptr::<T>()) },
            _ => return Err(Error::dtype(OP, format!("unsupported dtype {}", values.dtype()))));
    }
    if !values.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(out, Op::IndexAdd { axis: a }, &[&vc, &idx], vec![]))
}

/// `out[..., i, ...] = x[..., indices[..., i, ...], ...]` along `axis` (NumPy's take_along_axis).
/// `indices` has x's rank; its other axes broadcast against x's.
pub fn take_along_axis(x: &Tensor, indices: &Tensor, axis: isize) -> Result<Tensor> {
    if indices.ndim() != x.ndim() {
        return Err(Error::shape(
            "take_along_axis",
            format!(
                "indices must have the same rank as x ({}), got shape {:?}",
                x.ndim(),
                indices.shape()
            ),
        ));
    }
    if x.ndim() == 0 {
        return Err(Error::value("take_along_axis", "x must have rank >= 1"));
    }
    let a = normalize_axis("take_along_axis", axis, x.ndim())?;
    let mut out_shape = Vec::with_capacity(x.ndim());
    for d in 0..x.ndim() {
        if d == a {
            out_shape.push(indices.shape()[d]);
        } else {
            let (p, q) = (x.shape()[d], indices.shape()[d]);
            out_shape.push(if p == q || q == 1 {
                p
            } else if p == 1 {
                q
            } else {
                return Err(Error::shape(
                    "take_along_axis",
                    format!(
                        "shapes {:?} (x) and {:?} (indices) do not broadcast outside axis {a}",
                        x.shape(),
                        indices.shape()
                    ),
                ));
            });
        }
    }
    let mut xb_shape = out_shape.clone();
    xb_shape[a] = x.shape()[a];
    let xb = contiguous(&broadcast_to(x, &xb_shape)?)?;
    let idx = checked_indices("take_along_axis", indices, x.shape()[a], a)?;
    let idx = contiguous_nograd(&broadcast_to(&idx, &out_shape)?)?;
    let out = Tensor::empty(&out_shape, x.dtype())?;
    if out.numel() > 0 {
        let mut xs = xb.strides().to_vec();
        let sa = xs[a];
        xs[a] = 0;
        with_dtype!(x.dtype(), T => unsafe {
            let plan = Plan::new(&out_shape, [idx.strides(), &xs, out.strides()]);
            let [si, sx, so] = plan.inner_strides();
            let (ip, xp, op) = (idx.data_ptr::<i64>(), xb.data_ptr::<T>(), out.data_ptr::<T>());
            plan.for_range([0, 0, 0], 0, plan.numel(), |o, n| {
                for k in 0..n as isize {
                    let i = *ip.offset(o[0] + k * si) as isize;
                    *op.offset(o[2] + k * so) = *xp.offset(o[1] + k * sx + i * sa);
                }
            });
        });
    }
    if !x.dtype().is_float() {
        return Ok(out);
    }
    Ok(finish(
        out,
        Op::TakeAlongAxis { axis: a },
        &[&xb, &idx],
        vec![],
    ))
}

/// Backward of take_along_axis (contiguous x and indices of the output's shape).
pub(crate) fn take_along_axis_backward(
    x_shape: &[usize],
    dtype: DType,
    idx: &Tensor,
    axis: usize,
    g: &Tensor,
) -> Result<Tensor> {
    let gx = full(x_shape, 0.0, dtype)?;
    let g = contiguous_nograd(&cast_nograd(g, dtype)?)?;
    if g.numel() > 0 {
        let mut xs = gx.strides().to_vec();
        let sa = xs[axis];
        xs[axis] = 0;
        with_numeric!(dtype, T => unsafe {
            let plan = Plan::new(g.shape(), [idx.strides(), &xs, g.strides()]);
            let [si, sx, sg] = plan.inner_strides();
            let (ip, xp, gp) = (idx.data_ptr::<i64>(), gx.data_ptr::<T>(), g.data_ptr::<T>());
            plan.for_range([0, 0, 0], 0, plan.numel(), |o, n| {
                for k in 0..n as isize {
                    let i = *ip.offset(o[0] + k * si) as isize;
                    let dst = xp.offset(o[1] + k * sx + i * sa);
                    *dst = <T as crate::kernels::binary::Num>::add(*dst, *gp.offset(o[2] + k * sg));
                }
            });
        }, _ => return Err(Error::dtype("take_along_axis", "backward needs a numeric dtype")));
    }
    Ok(gx)
}

/// One-hot encoding: a new axis of size `num_classes` at `axis`; out-of-range indices give zeros.
pub fn one_hot(indices: &Tensor, num_classes: usize, axis: isize, dtype: DType) -> Result<Tensor> {
    if !indices.dtype().is_int() {
        return Err(Error::dtype(
            "one_hot",
            format!("indices must be integers, got dtype {}", indices.dtype()),
        ));
    }
    let nd = indices.ndim() + 1;
    let a = normalize_axis("one_hot", axis, nd)?;
    let idx = expand_dims(&cast_nograd(indices, DType::I64)?, a as isize)?;
    let mut cls_shape = vec![1usize; nd];
    cls_shape[a] = num_classes;
    let classes = reshape(
        &arange(0.0, num_classes as f64, 1.0, DType::I64)?,
        &cls_shape,
    )?;
    cast_nograd(&compare(&idx, &classes, CmpOp::Eq)?, dtype)
}

/// Flat (row-major) positions of the true elements of a mask, as int64.
pub fn nonzero_flat(mask: &Tensor) -> Result<Tensor> {
    let m = contiguous_nograd(&cast_nograd(mask, DType::Bool)?)?;
    // SAFETY: contiguous bool tensor of numel elements.
    let s = unsafe { std::slice::from_raw_parts(m.data_ptr::<bool>(), m.numel()) };
    let idx: Vec<i64> = s
        .iter()
        .enumerate()
        .filter(|(_, &b)| b)
        .map(|(i, _)| i as i64)
        .collect();
    let n = idx.len();
    Tensor::from_vec(idx, &[n])
}
