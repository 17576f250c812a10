//! Cumulative product along an axis (`cumprod`), with a gradient that stays exact at zeros.

use crate::autograd::{needs_record, Op};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::binary::Num;
use crate::shape::normalize_axis;
use crate::tensor::Tensor;
use crate::with_numeric;

use super::reduce::{axis_last_perm, inverse};
use super::{cast_nograd, contiguous, contiguous_nograd, finish, permute, reshape};

/// `y[..., i] = x[..., 0] * ... * x[..., i]` along `axis` (of the flattened tensor when None).
/// Bools count as int64 (NumPy). Differentiable for floats: the gradient is exact where `x`
/// holds zeros (see [`cumprod_backward`]).
pub fn cumprod(x: &Tensor, axis: Option<isize>) -> Result<Tensor> {
    let x = if x.dtype() == DType::Bool {
        cast_nograd(x, DType::I64)?
    } else {
        x.clone()
    };
    let Some(axis) = axis else {
        return cumprod(&reshape(&x, &[x.numel()])?, Some(0));
    };
    if x.ndim() == 0 {
        return reshape(&x, &[]);
    }
    let a = normalize_axis("cumprod", axis, x.ndim())?;
    if let Some(p) = axis_last_perm(x.ndim(), a) {
        let y = cumprod(&permute(&x, &p)?, Some(-1))?;
        return permute(&y, &inverse(&p));
    }
    let xc = contiguous(&x)?;
    let out = Tensor::empty(xc.shape(), xc.dtype())?;
    let n = xc.shape()[xc.ndim() - 1];
    let rows = xc.numel().checked_div(n).unwrap_or(0);
    with_numeric!(xc.dtype(), T => {
        // SAFETY: xc and out are contiguous (rows, n) buffers of element type T.
        let (src, dst) = unsafe {
            (
                std::slice::from_raw_parts(xc.data_ptr::<T>(), rows * n),
                std::slice::from_raw_parts_mut(out.data_ptr::<T>(), rows * n),
            )
        };
        for (xs, ys) in src.chunks_exact(n.max(1)).zip(dst.chunks_exact_mut(n.max(1))) {
            let mut p = T::one();
            for (y, &v) in ys.iter_mut().zip(xs) {
                p = T::mul(p, v);
                *y = p;
            }
        }
    }, _ => return Err(Error::dtype("cumprod", format!("unsupported dtype {}", xc.dtype()))));
    if !x.dtype().is_float() {
        return Ok(out);
    }
    let saved = if needs_record(&[&xc]) {
        vec![out.clone()]
    } else {
        vec![]
    };
    Ok(finish(out, Op::Cumprod, &[&xc], saved))
}

/// Gradient of [`cumprod`] over the last axis of `x` from the saved output `y` and `g`.
///
/// Per row, with `z` the first zero of `x` (or the row's length): for `i < z`,
/// `gx_i = sum_{i <= j < z} g_j y_j / x_i` (later terms hold the factor x_z = 0); for `i = z`,
/// `gx_z = sum_{j >= z} g_j y_{z-1} prod_{z < k <= j} x_k` (the products without x_z); for
/// `i > z`, `gx_i = 0`. O(n) per row and exact at zeros, where dividing `y` by `x` is not.
pub(crate) fn cumprod_backward(x: &Tensor, y: &Tensor, g: &Tensor) -> Result<Tensor> {
    let g = contiguous_nograd(&cast_nograd(g, x.dtype())?)?;
    let gx = Tensor::empty(x.shape(), x.dtype())?;
    let n = if x.ndim() == 0 {
        1
    } else {
        x.shape()[x.ndim() - 1]
    };
    let rows = x.numel().checked_div(n).unwrap_or(0);
    macro_rules! go {
        ($T:ty) => {{
            // SAFETY: x, y, g and gx are contiguous (rows, n) buffers of element type $T.
            let (xs, ys, gs, out) = unsafe {
                (
                    std::slice::from_raw_parts(x.data_ptr::<$T>(), rows * n),
                    std::slice::from_raw_parts(y.data_ptr::<$T>(), rows * n),
                    std::slice::from_raw_parts(g.data_ptr::<$T>(), rows * n),
                    std::slice::from_raw_parts_mut(gx.data_ptr::<$T>(), rows * n),
                )
            };
            for r in 0..rows {
                let s = r * n..(r + 1) * n;
                backward_row::<$T>(&xs[s.clone()], &ys[s.clone()], &gs[s.clone()], &mut out[s]);
            }
        }};
    }
    match x.dtype() {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => {
            return Err(Error::dtype(
                "cumprod",
                format!("no gradient for dtype {other}"),
            ))
        }
    }
    Ok(gx)
}

fn backward_row<T: Num + PartialEq>(x: &[T], y: &[T], g: &[T], out: &mut [T]) {
    let n = x.len();
    let zero = T::from_f64(0.0);
    let z = x.iter().position(|&v| v == zero).unwrap_or(n);
    // i < z: reverse running sum of g_j y_j over j < z, divided by x_i
    let mut acc = zero;
    for i in (0..z).rev() {
        acc = T::add(acc, T::mul(g[i], y[i]));
        out[i] = T::div(acc, x[i]);
    }
    if z < n {
        let mut p = if z == 0 { T::one() } else { y[z - 1] };
        let mut sum = T::mul(g[z], p);
        for j in z + 1..n {
            p = T::mul(p, x[j]);
            sum = T::add(sum, T::mul(g[j], p));
        }
        out[z] = sum;
        for v in out[z + 1..].iter_mut() {
            *v = zero;
        }
    }
}
