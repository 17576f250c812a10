//! Stable argsort of the rows of a contiguous (rows, n) matrix (ops.sort / argsort / top_k).
//!
//! Math: `out[r, :]` is the permutation that orders row r ascending (or descending), ties kept in
//! index order (stable) in both directions; NaN counts as the largest value (NumPy's sort,
//! torch's topk), so it comes last ascending and first descending, NaNs in index order.
//! Method: each row's indices are sorted with the standard library's stable merge sort on a
//! total order of the values, O(n log n) per row with one n-element index buffer per row (written
//! straight into the output, no scratch). The values are read in place, never copied.
//! Top-k: a selection (`select_nth_unstable_by`, O(n) on average) on the total order (value, then
//! index), then a sort of the k kept: the same indices as the stable sort's first k, without
//! sorting the row (a 50k vocabulary row with k = 50 is ~60x faster than the full sort).
//! Threads: rows are split over the task team; every row is sorted by one task, so the result is
//! the same for any thread count. Rejected: the composed pairwise-rank sort this replaces, O(n^2)
//! time and memory per row (a 4096-element row needed 16M comparisons and a 16 MiB mask).

use std::cmp::Ordering;

use super::binary::Num;
use super::iter::SendPtr;

/// Total order with NaN above everything (NaNs equal to each other, so the stable sort keeps
/// them in index order).
#[inline(always)]
fn cmp_nan_last<T: Num>(a: T, b: T) -> Ordering {
    #[allow(clippy::eq_op)]
    let (na, nb) = (a != a, b != b);
    match (na, nb) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Sorts the index row `idx` (any content, overwritten) by the values `s`.
fn argsort_row<T: Num>(s: &[T], idx: &mut [i64], descending: bool) {
    for (i, v) in idx.iter_mut().enumerate() {
        *v = i as i64;
    }
    if descending {
        idx.sort_by(|&a, &b| cmp_nan_last(s[b as usize], s[a as usize]));
    } else {
        idx.sort_by(|&a, &b| cmp_nan_last(s[a as usize], s[b as usize]));
    }
}

/// The first `out.len()` entries of the stable order of `s` (descending when asked): a selection
/// (`select_nth_unstable_by`, O(n) on average) on the total order (value, then index), which makes
/// the unstable selection give exactly the stable sort's prefix, then a sort of the k kept.
fn top_k_row<T: Num>(s: &[T], out: &mut [i64], descending: bool, scratch: &mut Vec<i64>) {
    let k = out.len();
    if k <= SMALL_K && k < s.len() {
        return top_k_row_small(s, out, descending);
    }
    scratch.clear();
    scratch.extend(0..s.len() as i64);
    let order = |a: &i64, b: &i64| {
        let by_value = if descending {
            cmp_nan_last(s[*b as usize], s[*a as usize])
        } else {
            cmp_nan_last(s[*a as usize], s[*b as usize])
        };
        by_value.then(a.cmp(b))
    };
    if k < s.len() {
        scratch.select_nth_unstable_by(k, order);
    }
    let kept = &mut scratch[..k];
    kept.sort_unstable_by(order);
    out.copy_from_slice(kept);
}

/// Up to this k, one pass that keeps the k best so far in a binary heap whose root is the worst
/// of them: each element costs one comparison with the root, and only winners (about k ln(n/k)
/// on shuffled data, every element on data already in order) pay the O(log k) sift; the k kept
/// are sorted at the end. Beyond it the selection below wins.
const SMALL_K: usize = 256;

fn top_k_row_small<T: Num>(s: &[T], out: &mut [i64], descending: bool) {
    let k = out.len();
    // `worse(a, b)`: index a comes after index b in the requested order (value, then index).
    let worse = |a: i64, b: i64| {
        let o = cmp_nan_last(s[a as usize], s[b as usize]);
        let o = if descending { o.reverse() } else { o };
        o.then(a.cmp(&b)) == Ordering::Greater
    };
    let sift_down = |h: &mut [i64], mut i: usize| loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut w = i;
        if l < h.len() && worse(h[l], h[w]) {
            w = l;
        }
        if r < h.len() && worse(h[r], h[w]) {
            w = r;
        }
        if w == i {
            break;
        }
        h.swap(i, w);
        i = w;
    };
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = i as i64;
    }
    for i in (0..k / 2).rev() {
        sift_down(out, i);
    }
    for i in k..s.len() {
        if worse(out[0], i as i64) {
            out[0] = i as i64;
            sift_down(out, 0);
        }
    }
    out.sort_unstable_by(|&a, &b| {
        if worse(a, b) {
            Ordering::Greater
        } else if worse(b, a) {
            Ordering::Less
        } else {
            Ordering::Equal
        }
    });
}

thread_local! {
    /// Per-thread index buffer of the top-k selection (reused across rows and calls).
    static SCRATCH: std::cell::RefCell<Vec<i64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// # Safety
/// `x` valid for `rows * n` reads (rows back to back); `out` valid for `rows * k` writes and not
/// overlapping `x`; `k <= n`.
pub unsafe fn top_k_rows<T: Num>(
    x: *const T,
    rows: usize,
    n: usize,
    k: usize,
    descending: bool,
    out: *mut i64,
) {
    if k == 0 {
        return;
    }
    let (xs, os) = (SendPtr(x as *mut T), SendPtr(out));
    let row = |r: usize| {
        // SAFETY: row r of x is read-only; output row r (k entries) is written by this task alone.
        let s = unsafe { std::slice::from_raw_parts(xs.get().add(r * n) as *const T, n) };
        let o = unsafe { std::slice::from_raw_parts_mut(os.get().add(r * k), k) };
        SCRATCH.with(|b| top_k_row(s, o, descending, &mut b.borrow_mut()));
    };
    let work = rows.saturating_mul(n);
    if crate::threading::should_parallelize(work, crate::threading::GRAIN) && rows > 1 {
        crate::threading::for_each_index(rows, 1, row);
    } else {
        (0..rows).for_each(row);
    }
}

/// # Safety
/// `x` valid for `rows * n` reads (rows back to back); `out` valid for `rows * n` writes and not
/// overlapping `x`.
pub unsafe fn argsort_rows<T: Num>(
    x: *const T,
    rows: usize,
    n: usize,
    descending: bool,
    out: *mut i64,
) {
    if n == 0 {
        return;
    }
    let (xs, os) = (SendPtr(x as *mut T), SendPtr(out));
    let row = |r: usize| {
        // SAFETY: row r is the caller's rows * n range, read-only; its output row is written by
        // this task alone (tasks own disjoint rows).
        let s = unsafe { std::slice::from_raw_parts(xs.get().add(r * n) as *const T, n) };
        let o = unsafe { std::slice::from_raw_parts_mut(os.get().add(r * n), n) };
        argsort_row(s, o, descending);
    };
    // Sorting costs ~n log n comparisons per row: weigh the work by that, not by n.
    let work = rows
        .saturating_mul(n)
        .saturating_mul(usize::BITS as usize - n.leading_zeros() as usize);
    if crate::threading::should_parallelize(work, crate::threading::GRAIN) && rows > 1 {
        crate::threading::for_each_index(rows, 1, row);
    } else {
        (0..rows).for_each(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(s: &[f32], descending: bool) -> Vec<i64> {
        // Insertion sort: obviously stable, obviously right.
        let mut idx: Vec<i64> = Vec::new();
        for i in 0..s.len() {
            let mut pos = idx.len();
            while pos > 0 {
                let prev = idx[pos - 1] as usize;
                let ord = cmp_nan_last(s[prev], s[i]);
                let before = if descending {
                    ord == Ordering::Less
                } else {
                    ord == Ordering::Greater
                };
                if !before {
                    break;
                }
                pos -= 1;
            }
            idx.insert(pos, i as i64);
        }
        idx
    }

    #[test]
    fn stable_with_ties_and_nans() {
        let n = 257;
        let rows = 9;
        let mut x = Vec::with_capacity(rows * n);
        for i in 0..rows * n {
            let v = ((i * 7919) % 13) as f32 - 6.0;
            x.push(if i % 37 == 5 { f32::NAN } else { v });
        }
        for &desc in &[false, true] {
            let mut out = vec![-1i64; rows * n];
            unsafe { argsort_rows(x.as_ptr(), rows, n, desc, out.as_mut_ptr()) };
            for r in 0..rows {
                assert_eq!(
                    &out[r * n..(r + 1) * n],
                    &reference(&x[r * n..(r + 1) * n], desc)[..]
                );
            }
        }
    }

    #[test]
    fn top_k_is_the_prefix_of_the_stable_order() {
        let n = 1000;
        let x: Vec<f32> = (0..3 * n)
            .map(|i| {
                if i % 97 == 3 {
                    f32::NAN
                } else {
                    ((i * 31) % 17) as f32
                }
            })
            .collect();
        for &desc in &[false, true] {
            for &k in &[1usize, 5, 17, 999, 1000] {
                let mut out = vec![-1i64; 3 * k];
                unsafe { top_k_rows(x.as_ptr(), 3, n, k, desc, out.as_mut_ptr()) };
                for r in 0..3 {
                    let full = reference(&x[r * n..(r + 1) * n], desc);
                    assert_eq!(&out[r * k..(r + 1) * k], &full[..k], "k={k} desc={desc}");
                }
            }
        }
    }

    #[test]
    fn empty_and_single() {
        let x = [3.0f32];
        let mut out = [9i64];
        unsafe { argsort_rows(x.as_ptr(), 1, 1, false, out.as_mut_ptr()) };
        assert_eq!(out, [0]);
        unsafe { argsort_rows(x.as_ptr(), 0, 0, false, out.as_mut_ptr()) };
    }
}
