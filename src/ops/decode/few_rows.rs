//! The few-row path of the decode step (one query row per batch entry, a generation step): the
//! projections split their output columns over the threads, and the attention runs per head
//! with two GEMVs (scores against the cached keys, then the weighted sum of the cached values).

use crate::dtype::Element;
use crate::kernels::attention::AttnScalar;
use crate::kernels::iter::SendPtr;
use crate::kernels::matmul::GemmScalar;
use crate::kernels::unary::{unary_slice, UnaryOp};

use super::{gemm_rows, project_cols, Geometry, Proj, StepScalar, Weights};

/// Products with at most this many rows (decode steps) split their output columns over the
/// threads inside one task set per projection; bigger ones use the threaded GEMM as is.
pub(super) const SPLIT_ROWS: usize = 4;
/// Column groups of a split projection are multiples of this (the GEMV kernels' SIMD width).
const COL_UNIT: usize = 16;
/// A projection splits over the threads from this many multiply-adds (below it a task set's
/// hand-off, ~1-2 us, costs more than the second core saves).
const SPLIT_WORK: usize = 1 << 14;

/// The number of column groups (tasks) for `units` units of work totalling `work` multiply-adds.
fn parts_for(units: usize, work: usize) -> usize {
    if work < SPLIT_WORK {
        1
    } else {
        crate::threading::num_threads().min(units).max(1)
    }
}

/// `out = act(a @ kernel + bias)` for a few rows (m <= SPLIT_ROWS): the columns are cut into one
/// group per thread (each thread reads the same part of the weights every step, which then stays
/// in its own cache), each group projected and activated by one task.
pub(super) unsafe fn project_split<T: StepScalar>(
    p: &Proj,
    a: &[T],
    m: usize,
    out: &mut [T],
    act: Option<UnaryOp>,
) {
    let units = p.out.div_ceil(COL_UNIT);
    let parts = parts_for(units, m * p.inp * p.out);
    let (ap, op) = (SendPtr(a.as_ptr() as *mut T), SendPtr(out.as_mut_ptr()));
    crate::threading::for_each_task(parts, |i| {
        let lo = (units * i / parts * COL_UNIT).min(p.out);
        let hi = (units * (i + 1) / parts * COL_UNIT).min(p.out);
        // SAFETY: task i writes only columns lo..hi of `out` (m x p.out); `a` is (m x p.inp).
        unsafe {
            project_cols(p, ap.get(), m, op.get(), (lo, hi), true);
            if let Some(op_) = act {
                for r in 0..m {
                    let row = std::slice::from_raw_parts_mut(op.get().add(r * p.out + lo), hi - lo);
                    let mut tmp = [<T as GemmScalar>::ZERO; 64];
                    for chunk in row.chunks_mut(64) {
                        let n = chunk.len();
                        unary_slice(op_, chunk, &mut tmp[..n]);
                        chunk.copy_from_slice(&tmp[..n]);
                    }
                }
            }
        }
    });
}

/// The attention sublayer for one query row per batch entry (a decode step): the heads are cut
/// into one group per thread, and each task projects its heads' queries, keys and values, writes
/// the keys and values into the cache row `index` and attends its heads over rows `0 ..= index`
/// (no mask: the row sees every cached position). `att` receives (B, N*H).
pub(super) unsafe fn one_row_attention<T: StepScalar>(
    g: &Geometry,
    w: &Weights<'_>,
    z: &[T],
    att: &mut [T],
) {
    let (b, n, h, nh) = (g.b, g.n, g.h, g.n * g.h);
    let parts = parts_for(n, 3 * b * g.d * nh + 2 * b * g.end * nh);
    let zero = <T as GemmScalar>::ZERO;
    let mut q = vec![zero; b * nh];
    let mut k = vec![zero; b * nh];
    let mut v = vec![zero; b * nh];
    let ptrs = [q.as_mut_ptr(), k.as_mut_ptr(), v.as_mut_ptr()].map(SendPtr);
    let (zp, ap) = (SendPtr(z.as_ptr() as *mut T), SendPtr(att.as_mut_ptr()));
    let cache = SendPtr(g.cache as *mut T);
    let scale = <T as Element>::from_f64(1.0 / (h.max(1) as f64).sqrt());
    crate::threading::for_each_task(parts, |i| {
        let (h0, h1) = (n * i / parts, n * (i + 1) / parts);
        let (lo, hi) = (h0 * h, h1 * h);
        // SAFETY: task i writes columns lo..hi of q, k, v and att (heads h0..h1) and those
        // columns of cache row `index` of each batch entry; the cache rows 0..end it reads
        // for its heads are written by no other task.
        unsafe {
            for (proj, buf) in [(w.q, ptrs[0]), (w.k, ptrs[1]), (w.v, ptrs[2])] {
                project_cols(proj, zp.get(), b, buf.get(), (lo, hi), true);
            }
            for bi in 0..b {
                let base = cache.get().offset(bi as isize * g.batch_stride);
                for (plane, buf) in [(0isize, ptrs[1]), (1, ptrs[2])] {
                    let dst = base.offset(plane * g.kv_stride).add(g.index * nh + lo);
                    std::ptr::copy_nonoverlapping(buf.get().add(bi * nh + lo), dst, hi - lo);
                }
                row_attention(
                    ptrs[0].get().add(bi * nh) as *const T,
                    base as *const T,
                    base.offset(g.kv_stride) as *const T,
                    nh,
                    g.end,
                    h,
                    h0,
                    h1,
                    scale,
                    ap.get().add(bi * nh),
                );
            }
        }
    });
}

/// For heads `h0..h1`: `out[hd] = softmax_j(scale * q[hd] . k[j, hd]) v[j, hd]` over `len`
/// rows of keys and values with row stride `ld` (head `hd` at `hd * h` in each row).
#[allow(clippy::too_many_arguments)]
unsafe fn row_attention<T: StepScalar>(
    q: *const T,
    k: *const T,
    v: *const T,
    ld: usize,
    len: usize,
    h: usize,
    h0: usize,
    h1: usize,
    scale: T,
    out: *mut T,
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn avx2<T: StepScalar>(
            q: *const T,
            k: *const T,
            v: *const T,
            ld: usize,
            len: usize,
            h: usize,
            h0: usize,
            h1: usize,
            scale: T,
            out: *mut T,
        ) {
            row_attention_impl(q, k, v, ld, len, h, h0, h1, scale, out)
        }
        if crate::kernels::simd::use_avx2() {
            return avx2(q, k, v, ld, len, h, h0, h1, scale, out);
        }
    }
    row_attention_impl(q, k, v, ld, len, h, h0, h1, scale, out)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn row_attention_impl<T: StepScalar>(
    q: *const T,
    k: *const T,
    v: *const T,
    ld: usize,
    len: usize,
    h: usize,
    h0: usize,
    h1: usize,
    scale: T,
    out: *mut T,
) {
    let zero = <T as AttnScalar>::ZERO;
    let one = <T as AttnScalar>::ONE;
    let mut scores = vec![zero; len];
    for hd in h0..h1 {
        // scores = K_hd q_hd (a GEMV over the rows of K, dot form)
        gemm_rows(
            (len, 1, h),
            scale,
            zero,
            (k.add(hd * h), ld),
            (q.add(hd * h), 1),
            (scores.as_mut_ptr(), 1),
            true,
        );
        let mx = scores
            .iter()
            .fold(<T as AttnScalar>::NEG_INF, |m, &v| AttnScalar::max_(m, v));
        let o = std::slice::from_raw_parts_mut(out.add(hd * h), h);
        if mx == <T as AttnScalar>::NEG_INF {
            o.fill(zero); // every score -inf (overflow): zeros, as the fused kernel gives
            continue;
        }
        for sj in scores.iter_mut() {
            *sj = AttnScalar::exp_(*sj - mx);
        }
        let mut lanes = [zero; 8];
        for chunk in scores.chunks(8) {
            for (l, &p) in lanes.iter_mut().zip(chunk) {
                *l = *l + p;
            }
        }
        let sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
        // out = p V_hd / sum (a GEMV over the rows of V, axpy form)
        gemm_rows(
            (1, h, len),
            one / sum,
            zero,
            (scores.as_ptr(), len),
            (v.add(hd * h), ld),
            (o.as_mut_ptr(), h),
            true,
        );
    }
}
