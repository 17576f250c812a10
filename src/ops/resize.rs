//! Up-sampling of channels-last images (N, H, W, C), composed from recorded view/gather ops, so
//! the backward passes come from those ops' rules (no kernel or tape variant of its own).
//!
//! - nearest: `y[n, i, j, c] = x[n, i / fh, j / fw, c]`: a broadcast over two new axes and a
//!   reshape (one copy); the gradient sums each fh x fw block.
//! - bilinear (align_corners=False, half-pixel centres, as Keras/TF2 `resize` and PyTorch's
//!   `interpolate(mode="bilinear", align_corners=False)`): along each axis
//!   `src = max((o + 0.5) * in / out - 0.5, 0)`, `i0 = floor(src)`, `i1 = min(i0 + 1, in - 1)`,
//!   `y = x[i0] * (1 - l) + x[i1] * l` with `l = src - i0`; separable, rows then columns, each a
//!   pair of gathers (`take`) whose gradients scatter-add back.
//!   Performance note: two gathers per axis cost ~4 passes over the output; a fused kernel would
//!   do one, which matters only for large decoder feature maps.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::shape::checked_numel;
use crate::tensor::Tensor;

use super::{add, broadcast_to, cast, mul, reshape, take};

fn check_image(op: &str, x: &Tensor) -> Result<[usize; 4]> {
    match x.shape() {
        &[n, h, w, c] => Ok([n, h, w, c]),
        s => Err(Error::shape(
            op,
            format!("expected a 4-D NHWC input, got shape {s:?}"),
        )),
    }
}

/// Nearest-neighbour up-sampling by integer factors `(fh, fw)`.
pub fn upsample_nearest(x: &Tensor, factors: [usize; 2]) -> Result<Tensor> {
    let op = "upsample_nearest";
    let [n, h, w, c] = check_image(op, x)?;
    if factors.contains(&0) {
        return Err(Error::value(
            op,
            format!("size factors must be positive, received size={factors:?}"),
        ));
    }
    let [fh, fw] = factors;
    let (oh, ow) = (h.checked_mul(fh), w.checked_mul(fw));
    let (Some(oh), Some(ow)) = (oh, ow) else {
        return Err(Error::value(op, "the output size overflows"));
    };
    let v = reshape(x, &[n, h, 1, w, 1, c])?;
    let b = broadcast_to(&v, &[n, h, fh, w, fw, c])?;
    reshape(&b, &[n, oh, ow, c])
}

/// (indices i0, indices i1, weights l) along one axis.
/// `out` comes from the user: the lists are reserved fallibly (a MemoryError, not an abort).
fn axis_taps(len: usize, out: usize) -> Result<(Vec<i64>, Vec<i64>, Vec<f64>)> {
    let scale = len as f64 / out as f64;
    let op = "upsample_bilinear";
    let mut i0 = crate::alloc::try_vec(op, out)?;
    let mut i1 = crate::alloc::try_vec(op, out)?;
    let mut l = crate::alloc::try_vec(op, out)?;
    for o in 0..out {
        let src = ((o as f64 + 0.5) * scale - 0.5).max(0.0);
        let lo = (src.floor() as usize).min(len - 1);
        i0.push(lo as i64);
        i1.push((lo + 1).min(len - 1) as i64);
        l.push(src - lo as f64);
    }
    Ok((i0, i1, l))
}

/// Linear interpolation of `x` along `axis` (1 or 2) to `out` samples.
fn lerp_axis(x: &Tensor, axis: usize, out: usize) -> Result<Tensor> {
    let len = x.shape()[axis];
    if len == out {
        return Ok(x.clone());
    }
    let (i0, i1, l) = axis_taps(len, out)?;
    let mut wshape = vec![1usize; 4];
    wshape[axis] = out;
    let dt = x.dtype();
    let lw = cast(&Tensor::from_vec(l.clone(), &wshape)?, dt)?;
    let rw = cast(
        &Tensor::from_vec(l.iter().map(|v| 1.0 - v).collect::<Vec<f64>>(), &wshape)?,
        dt,
    )?;
    let a = take(x, &Tensor::from_vec(i0, &[out])?, Some(axis as isize))?;
    let b = take(x, &Tensor::from_vec(i1, &[out])?, Some(axis as isize))?;
    add(&mul(&a, &rw)?, &mul(&b, &lw)?)
}

/// Bilinear resize to `(out_h, out_w)` (half-pixel centres, no antialiasing).
pub fn resize_bilinear(x: &Tensor, size: [usize; 2]) -> Result<Tensor> {
    let op = "upsample_bilinear";
    let [_, h, w, _] = check_image(op, x)?;
    if size.contains(&0) || h == 0 || w == 0 {
        return Err(Error::value(
            op,
            format!(
                "input and output spatial sizes must be positive, got input shape {:?} and size {size:?}",
                x.shape()
            ),
        ));
    }
    // The output must be addressable before any per-pixel tap list is built.
    checked_numel(op, &[x.shape()[0], size[0], size[1], x.shape()[3]])?;
    checked_numel(op, &[x.shape()[0], size[0], w, x.shape()[3]])?;
    let x = cast(x, x.dtype().to_float())?;
    debug_assert!(matches!(x.dtype(), DType::F32 | DType::F64));
    let rows = lerp_axis(&x, 1, size[0])?;
    lerp_axis(&rows, 2, size[1])
}

/// Bilinear up-sampling by integer factors `(fh, fw)` (Keras `UpSampling2D(interpolation="bilinear")`).
pub fn upsample_bilinear(x: &Tensor, factors: [usize; 2]) -> Result<Tensor> {
    let op = "upsample_bilinear";
    let [_, h, w, _] = check_image(op, x)?;
    match (h.checked_mul(factors[0]), w.checked_mul(factors[1])) {
        (Some(oh), Some(ow)) if oh > 0 && ow > 0 => resize_bilinear(x, [oh, ow]),
        _ => Err(Error::value(
            op,
            format!(
                "size factors must be positive and the output must fit in memory, received size={factors:?} for input shape {:?}",
                x.shape()
            ),
        )),
    }
}
