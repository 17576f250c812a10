//! Fused softmax cross-entropy over contiguous rows of logits.
//!
//! Math, per row `x` of `n` logits: `lse = m + log(sum(exp(x - m)))`, `p = exp(x - lse)`;
//! sparse labels: `loss = lse - x[label]`; dense targets `y`: `loss = sum(y) lse - sum(y x)`.
//! Backward: `dx = g (sum(y) p - y)` (sparse: `g (p - onehot)`), from the saved probabilities.
//! Layout: `rows` rows of `n` contiguous logits; labels one per row (validated by the caller);
//! targets contiguous like the logits. Outputs: one loss per row and the probabilities (saved for
//! backward). One task per row (deterministic); two passes over a row that stays in cache,
//! instead of log_softmax + gather + negate + mean as separate ops.

use super::binary::Num;
use super::iter::SendPtr;
use super::math::Real;
use super::reduce::{fold_row, ReduceOp};

/// The targets of [`softmax_xent_rows`].
pub enum Targets<'a, T> {
    Sparse(&'a [i64]),
    Dense(SendPtr<T>),
}

/// Per-row loss into `loss` and probabilities into `probs`.
///
/// # Safety
/// `x` and `probs` valid for `rows * n` elements (no overlap), `loss` for `rows`; dense targets
/// valid for `rows * n`; sparse labels in `0..n`.
pub unsafe fn softmax_xent_rows<T: Real + Num>(
    x: *const T,
    t: &Targets<'_, T>,
    rows: usize,
    n: usize,
    loss: *mut T,
    probs: *mut T,
) {
    if n == 0 {
        return;
    }
    let (xs, ls, ps) = (SendPtr(x as *mut T), SendPtr(loss), SendPtr(probs));
    let dense = match t {
        Targets::Dense(p) => *p,
        Targets::Sparse(_) => SendPtr(std::ptr::null_mut()),
    };
    let row = |r: usize| {
        // SAFETY: per the contract; row r is written by this task only.
        let xr = unsafe { std::slice::from_raw_parts(xs.get().add(r * n), n) };
        let pr = unsafe { std::slice::from_raw_parts_mut(ps.get().add(r * n), n) };
        let m = fold_row(ReduceOp::Max, xr);
        for (o, &v) in pr.iter_mut().zip(xr) {
            *o = (v - m).exp();
        }
        let s = fold_row(ReduceOp::Sum, pr);
        let lse = m + s.ln();
        let inv = T::c(1.0) / s;
        for o in pr.iter_mut() {
            *o = *o * inv;
        }
        let l = match t {
            Targets::Sparse(labels) => lse - xr[labels[r] as usize],
            Targets::Dense(_) => {
                let yr = unsafe { std::slice::from_raw_parts(dense.get().add(r * n), n) };
                let mut sy = T::c(0.0);
                let mut syx = T::c(0.0);
                for (&yv, &xv) in yr.iter().zip(xr) {
                    sy = sy + yv;
                    syx = syx + yv * xv;
                }
                sy * lse - syx
            }
        };
        unsafe { *ls.get().add(r) = l };
    };
    if crate::threading::should_parallelize(rows * n, crate::threading::GRAIN / 4) && rows > 1 {
        let min = (crate::threading::GRAIN / n.max(1)).max(1);
        crate::threading::for_each_index(rows, min, row);
    } else {
        (0..rows).for_each(row);
    }
}

/// `dx[r, :] = g[r] (sum(y_r) p_r - y_r)` (sparse: `g[r] (p_r - onehot)`).
///
/// # Safety
/// As for [`softmax_xent_rows`]; `dx` valid for `rows * n` and distinct from the inputs.
pub unsafe fn softmax_xent_backward<T: Real + Num>(
    probs: *const T,
    t: &Targets<'_, T>,
    g: *const T,
    rows: usize,
    n: usize,
    dx: *mut T,
) {
    let (ps, gs, ds) = (SendPtr(probs as *mut T), SendPtr(g as *mut T), SendPtr(dx));
    let dense = match t {
        Targets::Dense(p) => *p,
        Targets::Sparse(_) => SendPtr(std::ptr::null_mut()),
    };
    let row = |r: usize| {
        let pr = unsafe { std::slice::from_raw_parts(ps.get().add(r * n), n) };
        let dr = unsafe { std::slice::from_raw_parts_mut(ds.get().add(r * n), n) };
        let gv = unsafe { *gs.get().add(r) };
        match t {
            Targets::Sparse(labels) => {
                for (o, &p) in dr.iter_mut().zip(pr) {
                    *o = gv * p;
                }
                let k = labels[r] as usize;
                dr[k] = gv * (pr[k] - T::c(1.0));
            }
            Targets::Dense(_) => {
                let yr = unsafe { std::slice::from_raw_parts(dense.get().add(r * n), n) };
                let sy = yr.iter().fold(T::c(0.0), |a, &b| a + b);
                for ((o, &p), &y) in dr.iter_mut().zip(pr).zip(yr) {
                    *o = gv * (sy * p - y);
                }
            }
        }
    };
    if crate::threading::should_parallelize(rows * n, crate::threading::GRAIN / 4) && rows > 1 {
        let min = (crate::threading::GRAIN / n.max(1)).max(1);
        crate::threading::for_each_index(rows, min, row);
    } else {
        (0..rows).for_each(row);
    }
}
