//! Gather and scatter-add along one axis.
//!
//! Math: with `x` viewed as (pre, dim, post) contiguous, `gather` gives
//! `out[p, k, q] = x[p, idx[k], q]`; `scatter_add` is its adjoint,
//! `gx[p, idx[k], q] += g[p, k, q]` (repeated indices accumulate, in k order).
//! Indices are validated by the caller (0 <= idx < dim).
//! Threads: gather splits over (p, k) rows; scatter-add splits over (p, column chunk) so each
//! output element is accumulated by one task in k order (deterministic).

use super::binary::Num;
use super::iter::SendPtr;
use crate::dtype::Element;

/// # Safety
/// `x` valid for pre*dim*post reads, `out` for pre*idx.len()*post writes, indices in 0..dim.
pub unsafe fn gather<T: Element>(
    x: *const T,
    pre: usize,
    dim: usize,
    post: usize,
    idx: &[i64],
    out: *mut T,
) {
    let nk = idx.len();
    let (xs, os) = (SendPtr(x as *mut T), SendPtr(out));
    let row = |r: usize| {
        let (p, k) = (r / nk, r % nk);
        let src = unsafe { xs.get().add((p * dim + idx[k] as usize) * post) };
        let dst = unsafe { os.get().add(r * post) };
        unsafe { std::ptr::copy_nonoverlapping(src, dst, post) };
    };
    let rows = pre * nk;
    if crate::threading::should_parallelize(rows * post, crate::threading::GRAIN) && rows > 1 {
        let min = (crate::threading::GRAIN / post.max(1)).max(1);
        crate::threading::for_each_index(rows, min, row);
    } else {
        (0..rows).for_each(row);
    }
}

/// # Safety
/// `g` valid for pre*idx.len()*post reads; `gx` for pre*dim*post reads and writes (no overlap);
/// indices in 0..dim.
pub unsafe fn scatter_add<T: Num>(
    g: *const T,
    pre: usize,
    dim: usize,
    post: usize,
    idx: &[i64],
    gx: *mut T,
) {
    let nk = idx.len();
    let (gs, os) = (SendPtr(g as *mut T), SendPtr(gx));
    let threads = crate::threading::num_threads();
    let chunk = if post >= 256 && threads > 1 {
        post.div_ceil(threads * 2).next_multiple_of(16)
    } else {
        post.max(1)
    };
    let nchunks = post.div_ceil(chunk).max(1);
    let task = |t: usize| {
        let (p, c) = (t / nchunks, t % nchunks);
        let q0 = c * chunk;
        let q1 = (q0 + chunk).min(post);
        for (k, &i) in idx.iter().enumerate() {
            let src = unsafe { gs.get().add((p * nk + k) * post) };
            let dst = unsafe { os.get().add((p * dim + i as usize) * post) };
            for q in q0..q1 {
                unsafe { *dst.add(q) = T::add(*dst.add(q), *src.add(q)) };
            }
        }
    };
    let tasks = pre * nchunks;
    if crate::threading::should_parallelize(pre * nk * post, crate::threading::GRAIN) && tasks > 1 {
        crate::threading::for_each_task(tasks, task);
    } else {
        (0..tasks).for_each(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_then_scatter() {
        let x: Vec<f32> = (0..2 * 3 * 4).map(|i| i as f32).collect();
        let idx = [2i64, 0, 2];
        let mut out = vec![0f32; 2 * 3 * 4];
        unsafe { gather(x.as_ptr(), 2, 3, 4, &idx, out.as_mut_ptr()) };
        assert_eq!(&out[0..4], &[8.0, 9.0, 10.0, 11.0]);
        assert_eq!(&out[12..16], &[20.0, 21.0, 22.0, 23.0]);
        let g = [1f32; 24];
        let mut gx = vec![0f32; 24];
        unsafe { scatter_add(g.as_ptr(), 2, 3, 4, &idx, gx.as_mut_ptr()) };
        assert_eq!(
            &gx[0..12],
            &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0]
        );
    }
}
