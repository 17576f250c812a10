//! Tensor creation: constants, ranges, identity matrices.

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::tensor::Tensor;
use crate::with_dtype;

/// Fills a contiguous tensor in parallel chunks.
fn fill_with<T: Element>(t: &Tensor, f: impl Fn(usize) -> T + Sync) {
    let n = t.numel();
    let p = SendPtr(t.data_ptr::<T>());
    let chunk = crate::threading::GRAIN;
    let body = |c: usize| {
        let s = c * chunk;
        let e = (s + chunk).min(n);
        for i in s..e {
            // SAFETY: i < n; chunks are disjoint.
            unsafe { *p.get().add(i) = f(i) };
        }
    };
    let nchunks = n.div_ceil(chunk);
    if crate::threading::should_parallelize(n, chunk) {
        crate::threading::for_each_task(nchunks, body);
    } else {
        (0..nchunks).for_each(body);
    }
}

/// A tensor of `shape` filled with `value` (converted to `dtype`).
pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<Tensor> {
    let t = Tensor::empty(shape, dtype)?;
    with_dtype!(dtype, T => {
        let v = T::from_f64(value);
        fill_with::<T>(&t, |_| v);
    });
    Ok(t)
}

pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
    full(shape, 0.0, dtype)
}

pub fn ones(shape: &[usize], dtype: DType) -> Result<Tensor> {
    full(shape, 1.0, dtype)
}

/// `start, start + step, ...` below `stop` (NumPy's arange).
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Tensor> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(Error::value(
            "arange",
            format!("expected finite start/stop and a finite nonzero step, got start={start}, stop={stop}, step={step}"),
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0);
    if n > 1e12 {
        return Err(Error::value(
            "arange",
            format!("range of {n} elements is too large"),
        ));
    }
    let n = n as usize;
    let t = Tensor::empty(&[n], dtype)?;
    with_dtype!(dtype, T => fill_with::<T>(&t, |i| T::from_f64(start + i as f64 * step)));
    Ok(t)
}

/// A 2-D tensor with ones on the `k`-th diagonal.
pub fn eye(n: usize, m: usize, k: isize, dtype: DType) -> Result<Tensor> {
    let t = Tensor::empty(&[n, m], dtype)?;
    with_dtype!(dtype, T => fill_with::<T>(&t, |i| {
        let (r, c) = ((i / m.max(1)) as isize, (i % m.max(1)) as isize);
        if c - r == k { T::one() } else { T::zero() }
    }));
    Ok(t)
}

/// `num` evenly spaced values over `[start, stop]` (or `[start, stop)` without the endpoint).
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: DType) -> Result<Tensor> {
    let t = Tensor::empty(&[num], dtype)?;
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let step = if div > 0 {
        (stop - start) / div as f64
    } else {
        0.0
    };
    with_dtype!(dtype, T => fill_with::<T>(&t, |i| {
        if endpoint && num > 1 && i == num - 1 { T::from_f64(stop) } else { T::from_f64(start + i as f64 * step) }
    }));
    Ok(t)
}
