//! Reduction kernels: sum, product, max, min over contiguous rows or across rows; argmax/argmin.
//!
//! Math: `out[o] = fold(op, x[o, 0..R])`.
//! Layouts: (A) each output reduces one contiguous row of `R` elements (rows may sit anywhere);
//! (B) the kept elements are contiguous and the reduced index walks rows of them
//! (`out[j] = fold_r x[r, j]`, vectorised across j). The tensor layer copies other layouts into (A).
//! Determinism: the order of every fold is fixed by the data shape alone. A row is cut into
//! blocks of `BLOCK` elements, each folded with 32 independent lanes combined as a fixed tree, and
//! the block results are combined in order; threads only change which core computes a block.
//! So results are bit-identical for any thread count and for the scalar and SIMD builds.

use super::binary::Num;
use super::iter::SendPtr;
use crate::simd_fn;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Prod,
    Max,
    Min,
}

impl ReduceOp {
    pub fn name(&self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
        }
    }
}

/// Elements per block of a long row.
pub const BLOCK: usize = 1 << 14;
const LANES: usize = 64;

#[inline(always)]
fn combine<T: Num>(op: ReduceOp, a: T, b: T) -> T {
    match op {
        ReduceOp::Sum => T::add(a, b),
        ReduceOp::Prod => T::mul(a, b),
        ReduceOp::Max => T::max(a, b),
        ReduceOp::Min => T::min(a, b),
    }
}

/// Folds a non-empty slice of at most BLOCK elements with 32 lanes and a fixed tree.
#[inline(always)]
fn fold_block_impl<T: Num>(op: ReduceOp, x: &[T]) -> T {
    if x.len() < LANES {
        let mut acc = x[0];
        for &v in &x[1..] {
            acc = combine(op, acc, v);
        }
        return acc;
    }
    let mut acc = [x[0]; LANES];
    acc.copy_from_slice(&x[..LANES]);
    let rest = &x[LANES..];
    let mut chunks = rest.chunks_exact(LANES);
    macro_rules! lanes {
        ($f:path) => {
            for c in chunks.by_ref() {
                for i in 0..LANES {
                    acc[i] = $f(acc[i], c[i]);
                }
            }
        };
    }
    match op {
        ReduceOp::Sum => lanes!(T::add),
        ReduceOp::Prod => lanes!(T::mul),
        ReduceOp::Max => lanes!(T::max),
        ReduceOp::Min => lanes!(T::min),
    }
    let tail = chunks.remainder();
    let mut w = LANES / 2;
    while w >= 1 {
        for i in 0..w {
            acc[i] = combine(op, acc[i], acc[i + w]);
        }
        w /= 2;
    }
    let mut r = acc[0];
    for &v in tail {
        r = combine(op, r, v);
    }
    r
}

simd_fn!(
    fn fold_block<T: Num>(op: ReduceOp, x: &[T]) -> T => fold_block_impl
);

/// Folds a non-empty row of any length (blocks combined in order).
pub fn fold_row<T: Num>(op: ReduceOp, x: &[T]) -> T {
    let mut blocks = x.chunks(BLOCK);
    let first = match blocks.next() {
        Some(b) => fold_block(op, b),
        None => return T::zero(),
    };
    blocks.fold(first, |acc, b| combine(op, acc, fold_block(op, b)))
}

/// Layout (A): `out[o] = fold(x[row_offsets[o] .. + r])`. Empty rows (r == 0) give `empty`.
///
/// # Safety
/// `x + row_offsets[o]` must be valid for `r` reads for every `o`; `out` for `row_offsets.len()` writes.
pub unsafe fn reduce_rows<T: Num>(
    op: ReduceOp,
    x: *const T,
    row_offsets: &[isize],
    r: usize,
    out: *mut T,
    empty: T,
) {
    let nout = row_offsets.len();
    let xs = SendPtr(x as *mut T);
    let os = SendPtr(out);
    let row = |o: usize| -> T {
        if r == 0 {
            return empty;
        }
        // SAFETY: per the contract.
        let s = unsafe { std::slice::from_raw_parts(xs.get().offset(row_offsets[o]), r) };
        fold_row(op, s)
    };
    let total = nout * r;
    if !crate::threading::should_parallelize(total, crate::threading::GRAIN) {
        for o in 0..nout {
            *out.add(o) = row(o);
        }
        return;
    }
    if nout >= 2 * crate::threading::num_threads() {
        // Fixed blocks of rows, TASKS_PER_THREAD per thread, each thread starting on its own
        // contiguous share (threading::for_each_task). Each row folds on its own, so the split
        // cannot change results.
        let per = (crate::threading::GRAIN / r.max(1))
            .max(
                nout.div_ceil(crate::threading::TASKS_PER_THREAD * crate::threading::num_threads()),
            )
            .max(1);
        let tasks = nout.div_ceil(per);
        crate::threading::for_each_task(tasks, |t| {
            for o in t * per..((t + 1) * per).min(nout) {
                // SAFETY: output o is written by this task only.
                unsafe { *os.get().add(o) = row(o) };
            }
        });
    } else {
        // Few long rows: fold the blocks of each row in parallel, combine in order.
        for (o, &ro) in row_offsets.iter().enumerate() {
            let s = std::slice::from_raw_parts(xs.get().offset(ro), r);
            let nblocks = r.div_ceil(BLOCK);
            let mut parts = vec![T::zero(); nblocks];
            let ps = SendPtr(parts.as_mut_ptr());
            crate::threading::for_each_task(nblocks, |b| {
                let blk = &s[b * BLOCK..((b + 1) * BLOCK).min(r)];
                // SAFETY: block b writes only its own slot.
                unsafe { *ps.get().add(b) = fold_block(op, blk) };
            });
            let mut acc = parts[0];
            for &p in &parts[1..] {
                acc = combine(op, acc, p);
            }
            *out.add(o) = acc;
        }
    }
}

/// Rows folded element-wise into `out` (the vectorised body of layout B).
#[inline(always)]
fn fold_into_impl<T: Num>(op: ReduceOp, acc: &mut [T], row: &[T]) {
    macro_rules! go {
        ($f:path) => {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = $f(*a, v);
            }
        };
    }
    match op {
        ReduceOp::Sum => go!(T::add),
        ReduceOp::Prod => go!(T::mul),
        ReduceOp::Max => go!(T::max),
        ReduceOp::Min => go!(T::min),
    }
}

simd_fn!(
    fn fold_into<T: Num>(op: ReduceOp, acc: &mut [T], row: &[T]) => fold_into_impl
);

/// Layout (B): `out[j] = fold_r x[row_offsets[r] + j]` for `j < n` (kept elements contiguous).
/// Rows are folded in blocks of `BLOCK_ROWS` (partial results combined in order) to bound the
/// rounding error of long float sums. Parallel across column chunks.
///
/// # Safety
/// `x + row_offsets[r]` must be valid for `n` reads for every r; `out` for `n` writes. At least one row.
pub unsafe fn reduce_cols<T: Num>(
    op: ReduceOp,
    x: *const T,
    row_offsets: &[isize],
    n: usize,
    out: *mut T,
) {
    const BLOCK_ROWS: usize = 512;
    let xs = SendPtr(x as *mut T);
    let os = SendPtr(out);
    let cols = |j0: usize, j1: usize| {
        let w = j1 - j0;
        // SAFETY: per the contract; columns j0..j1 are written by this task only.
        let out = unsafe { std::slice::from_raw_parts_mut(os.get().add(j0), w) };
        let mut part = vec![T::zero(); w];
        for (bi, rows) in row_offsets.chunks(BLOCK_ROWS).enumerate() {
            let first = unsafe { std::slice::from_raw_parts(xs.get().offset(rows[0]).add(j0), w) };
            let target: &mut [T] = if bi == 0 { &mut *out } else { &mut part };
            target.copy_from_slice(first);
            for &ro in &rows[1..] {
                let row = unsafe { std::slice::from_raw_parts(xs.get().offset(ro).add(j0), w) };
                fold_into(op, target, row);
            }
            if bi > 0 {
                fold_into(op, out, &part);
            }
        }
    };
    let total = n * row_offsets.len();
    if n >= 64 && crate::threading::should_parallelize(total, crate::threading::GRAIN) {
        let threads = crate::threading::num_threads();
        let chunk = n.div_ceil(threads * 2).next_multiple_of(16).max(16);
        let nchunks = n.div_ceil(chunk);
        crate::threading::for_each_task(nchunks, |c| cols(c * chunk, ((c + 1) * chunk).min(n)));
    } else {
        cols(0, n);
    }
}

/// Index of the first maximum (or minimum) of each contiguous row; NaN counts as the extreme
/// (NumPy semantics: the first NaN wins).
///
/// # Safety
/// `x` valid for `rows * r` reads (rows contiguous, back to back); `out` for `rows` writes; r >= 1.
pub unsafe fn arg_extreme_rows<T: Num>(
    x: *const T,
    rows: usize,
    r: usize,
    is_max: bool,
    out: *mut i64,
) {
    let xs = SendPtr(x as *mut T);
    let os = SendPtr(out);
    let one = |o: usize| {
        let s = unsafe { std::slice::from_raw_parts(xs.get().add(o * r), r) };
        let mut best = 0usize;
        let mut bv = s[0];
        #[allow(clippy::eq_op)]
        if bv != bv {
            return 0i64;
        }
        for (i, &v) in s.iter().enumerate().skip(1) {
            #[allow(clippy::eq_op)]
            if v != v {
                return i as i64;
            }
            if (is_max && v > bv) || (!is_max && v < bv) {
                bv = v;
                best = i;
            }
        }
        best as i64
    };
    if crate::threading::should_parallelize(rows * r, crate::threading::GRAIN) && rows > 1 {
        crate::threading::for_each_index(rows, 1, |o| unsafe { *os.get().add(o) = one(o) });
    } else {
        for o in 0..rows {
            *out.add(o) = one(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_sum_matches_f64() {
        for n in [1usize, 3, 17, 31, 32, 33, 1000, BLOCK + 17, 3 * BLOCK] {
            let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 101) as f32 * 0.01).collect();
            let s = fold_row(ReduceOp::Sum, &x);
            let e: f64 = x.iter().map(|&v| v as f64).sum();
            assert!(
                ((s as f64) - e).abs() <= 1e-5 * e.abs().max(1.0),
                "n={n}: {s} vs {e}"
            );
            let m = fold_row(ReduceOp::Max, &x);
            assert_eq!(m, x.iter().cloned().fold(f32::MIN, f32::max));
        }
    }

    #[test]
    fn max_propagates_nan() {
        let mut x = vec![1.0f32; 100];
        x[57] = f32::NAN;
        assert!(fold_row(ReduceOp::Max, &x).is_nan());
        assert!(fold_row(ReduceOp::Min, &x).is_nan());
    }

    #[test]
    fn simd_and_scalar_agree() {
        let x: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.37).sin()).collect();
        for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
            let a = fold_block_impl(op, &x[..4999]);
            let b = fold_block(op, &x[..4999]);
            assert_eq!(a.to_bits(), b.to_bits(), "{op:?}");
        }
    }

    #[test]
    fn columns() {
        let x: Vec<f64> = (0..3000).map(|i| i as f64).collect(); // 1000 rows x 3
        let offs: Vec<isize> = (0..1000).map(|r| r * 3).collect();
        let mut out = vec![0.0; 3];
        unsafe { reduce_cols(ReduceOp::Sum, x.as_ptr(), &offs, 3, out.as_mut_ptr()) };
        assert_eq!(out, vec![1498500.0, 1499500.0, 1500500.0]);
    }
}
