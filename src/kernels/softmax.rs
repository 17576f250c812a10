//! Fused, numerically stable softmax and log-softmax over contiguous rows, with their backward.
//!
//! Math: `y = exp(x - max) / sum(exp(x - max))`, `log_softmax = x - max - log(sum(exp(x - max)))`.
//! Backward: softmax `gx = y * (gy - sum(gy * y))`; log-softmax `gx = gy - exp(y) * sum(gy)`.
//! Layout: `rows` rows of `n` contiguous elements, back to back. Each row is handled by one task
//! in a fixed order (bit-identical across thread counts). Three passes over a row that stays in
//! L1/L2, instead of five separate ops each streaming the whole tensor.

use super::binary::Num;
use super::iter::SendPtr;
use super::math::Real;
use super::reduce::{fold_row, ReduceOp};
use crate::simd_fn;

#[inline(always)]
fn exp_shift_sum_impl<T: Real + Num>(x: &[T], m: T, y: &mut [T]) -> T {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = (v - m).exp();
    }
    fold_row(ReduceOp::Sum, y)
}

simd_fn!(fn exp_shift_sum<T: Real | Num>(x: &[T], m: T, y: &mut [T]) -> T => exp_shift_sum_impl, avx512);

#[inline(always)]
fn scale_impl<T: Real + Num>(y: &mut [T], s: T) {
    for o in y.iter_mut() {
        *o = *o * s;
    }
}

simd_fn!(fn scale<T: Real | Num>(y: &mut [T], s: T) => scale_impl);

#[inline(always)]
fn shift_impl<T: Real + Num>(x: &[T], c: T, y: &mut [T]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v - c;
    }
}

simd_fn!(fn shift<T: Real | Num>(x: &[T], c: T, y: &mut [T]) => shift_impl);

fn for_rows(rows: usize, n: usize, f: impl Fn(usize) + Sync) {
    if crate::threading::should_parallelize(rows * n, crate::threading::GRAIN / 4) && rows > 1 {
        // Runs of at least `min` rows, TASKS_PER_THREAD per thread.
        let min = (crate::threading::GRAIN / n.max(1)).max(1);
        let per = min.max(
            rows.div_ceil(crate::threading::TASKS_PER_THREAD * crate::threading::num_threads()),
        );
        crate::threading::for_each_task(rows.div_ceil(per), |t| {
            for r in t * per..((t + 1) * per).min(rows) {
                f(r);
            }
        });
    } else {
        (0..rows).for_each(f);
    }
}

/// Softmax (or log-softmax when `log`) of each row.
///
/// # Safety
/// `x` and `y` valid for `rows * n` elements; they must not overlap.
pub unsafe fn softmax_rows<T: Real + Num>(
    x: *const T,
    y: *mut T,
    rows: usize,
    n: usize,
    log: bool,
) {
    if n == 0 {
        return;
    }
    let (xs, ys) = (SendPtr(x as *mut T), SendPtr(y));
    for_rows(rows, n, |r| {
        // SAFETY: row r is read from x and written to y by this task only.
        let xr = unsafe { std::slice::from_raw_parts(xs.get().add(r * n), n) };
        let yr = unsafe { std::slice::from_raw_parts_mut(ys.get().add(r * n), n) };
        let m = fold_row(ReduceOp::Max, xr);
        let s = exp_shift_sum(xr, m, yr);
        if log {
            shift(xr, m + s.ln(), yr);
        } else {
            scale(yr, T::c(1.0) / s);
        }
    });
}

#[inline(always)]
fn softmax_bwd_row_impl<T: Real + Num>(y: &[T], g: &[T], gx: &mut [T], log: bool) {
    if log {
        let s = fold_row(ReduceOp::Sum, g);
        for ((o, &yv), &gv) in gx.iter_mut().zip(y).zip(g) {
            *o = gv - yv.exp() * s;
        }
    } else {
        for ((o, &yv), &gv) in gx.iter_mut().zip(y).zip(g) {
            *o = yv * gv;
        }
        let d = fold_row(ReduceOp::Sum, gx);
        for ((o, &yv), &gv) in gx.iter_mut().zip(y).zip(g) {
            *o = yv * (gv - d);
        }
    }
}

simd_fn!(fn softmax_bwd_row<T: Real | Num>(y: &[T], g: &[T], gx: &mut [T], log: bool) => softmax_bwd_row_impl, avx512);

/// Backward of [`softmax_rows`] given its output `y` and the output gradient `g`.
///
/// # Safety
/// All pointers valid for `rows * n` elements; `gx` overlaps neither input.
pub unsafe fn softmax_rows_backward<T: Real + Num>(
    y: *const T,
    g: *const T,
    gx: *mut T,
    rows: usize,
    n: usize,
    log: bool,
) {
    if n == 0 {
        return;
    }
    let (ys, gs, os) = (SendPtr(y as *mut T), SendPtr(g as *mut T), SendPtr(gx));
    for_rows(rows, n, |r| {
        let yr = unsafe { std::slice::from_raw_parts(ys.get().add(r * n), n) };
        let gr = unsafe { std::slice::from_raw_parts(gs.get().add(r * n), n) };
        let orow = unsafe { std::slice::from_raw_parts_mut(os.get().add(r * n), n) };
        softmax_bwd_row(yr, gr, orow, log);
    });
}

/// Inclusive prefix sums of each row (from the end when `reverse`).
///
/// # Safety
/// `x`, `y` valid for `rows * n` elements; no overlap.
pub unsafe fn cumsum_rows<T: Num>(x: *const T, y: *mut T, rows: usize, n: usize, reverse: bool) {
    let (xs, ys) = (SendPtr(x as *mut T), SendPtr(y));
    for_rows(rows, n, |r| {
        let xr = unsafe { std::slice::from_raw_parts(xs.get().add(r * n), n) };
        let yr = unsafe { std::slice::from_raw_parts_mut(ys.get().add(r * n), n) };
        let mut acc = T::zero();
        if reverse {
            for i in (0..n).rev() {
                acc = T::add(acc, xr[i]);
                yr[i] = acc;
            }
        } else {
            for i in 0..n {
                acc = T::add(acc, xr[i]);
                yr[i] = acc;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_rows_sum_to_one() {
        let x: Vec<f32> = (0..3 * 37).map(|i| (i as f32 * 0.3).sin() * 20.0).collect();
        let mut y = vec![0f32; x.len()];
        unsafe { softmax_rows(x.as_ptr(), y.as_mut_ptr(), 3, 37, false) };
        for r in 0..3 {
            let s: f32 = y[r * 37..(r + 1) * 37].iter().sum();
            assert!((s - 1.0).abs() < 1e-5);
        }
        let mut l = vec![0f32; x.len()];
        unsafe { softmax_rows(x.as_ptr(), l.as_mut_ptr(), 3, 37, true) };
        for i in 0..x.len() {
            assert!((l[i].exp() - y[i]).abs() < 1e-5);
        }
    }
}
