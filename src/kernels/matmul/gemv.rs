//! Matrix-vector products (M == 1 or N == 1, e.g. the 1x4096 @ 4096x4096 decode step). They are
//! bound by reading the matrix once from memory, so they skip packing (which would read it twice)
//! and stream it in its stored order, in one of two forms:
//! - axpy form, when the matrix is contiguous along the outputs: `y += x[p] * row p`, `p` in
//!   order, into a block of accumulators that stays in L1 while every row streams past;
//! - dot form, when it is contiguous along the depth: `y[j] = dot(x, line j)`.
//!
//! Threads split the outputs into contiguous ranges (multiples of [`ALIGN`], so SIMD bodies and
//! scalar tails fall on the same elements for any split); each output is reduced by one thread in
//! a fixed order, so results are bit-identical for any thread count.

use super::loops::Single;
use super::GemmScalar;

/// Output-range alignment for the thread split (a multiple of every SIMD width used).
const ALIGN: usize = 16;
/// Accumulator block of the axpy form: up to 4096 values (16 KiB of f32) stay in L1, and every
/// matrix row is read in segments of that length: long contiguous runs keep the hardware
/// prefetchers streaming (a 1024-value segment is one 4 KiB page, where prefetchers stop).
const BLOCK: usize = 4096;
/// Outputs per dot-form kernel call (their sums wait in a stack buffer for the epilogue).
const DOTS: usize = 64;
/// Depth parts of the depth-split axpy form (see [`run_depth_split`]), and the matrix size
/// from which it is used (beyond L2: the product is bound by memory bandwidth). Measured at
/// 1x4096 @ 4096x4096 on two threads (best of 7 rounds, Python probe, very noisy shared
/// machine): 2 parts 36.6-40.3 GB/s, 4 parts 36.3-39.2, 8 parts 33.5-40.3, against 34.4-37.7
/// for the output-range split, which this replaces only for <= BLOCK outputs: each thread
/// then streams one contiguous half of the matrix (whole rows) instead of half of every row.
/// The gain is within the noise; NumPy (OpenBLAS) ran 38-53 GB/s in the same runs.
const KPARTS: usize = 2;
const KSPLIT_ELEMS: usize = 1 << 20;
/// Below this many matrix elements the product runs on one thread (the matrix fits in L2 and a
/// second thread's wake-up costs more than it saves).
const PAR_ELEMS: usize = 1 << 16;

/// `acc[j] += sum over p < k, in order, of x[p*xs] * mat[p*ld + j]` for `j < w`.
pub type AxpyFn<T> =
    unsafe fn(acc: *mut T, w: usize, x: *const T, xs: isize, mat: *const T, ld: isize, k: usize);
/// `out[r] = dot(x[0..k], mat[r*ld .. r*ld + k])` for `r < count` (x and each line contiguous),
/// each with a fixed reduction order that does not depend on `count` or `r`.
pub type DotFn<T> =
    unsafe fn(x: *const T, mat: *const T, ld: isize, k: usize, out: *mut T, count: usize);

/// The GEMV kernels of one ISA.
#[derive(Clone, Copy)]
pub struct GemvKernel<T> {
    pub axpy: AxpyFn<T>,
    pub dot: DotFn<T>,
}

/// Portable kernels (scalar reference and fallback).
pub fn scalar_kernel<T: GemmScalar>() -> GemvKernel<T> {
    GemvKernel {
        axpy: axpy_scalar::<T>,
        dot: dot_scalar::<T>,
    }
}

unsafe fn axpy_scalar<T: GemmScalar>(
    acc: *mut T,
    w: usize,
    x: *const T,
    xs: isize,
    mat: *const T,
    ld: isize,
    k: usize,
) {
    for p in 0..k {
        let xp = *x.offset(p as isize * xs);
        let row = mat.offset(p as isize * ld);
        for j in 0..w {
            *acc.add(j) = *acc.add(j) + xp * *row.add(j);
        }
    }
}

unsafe fn dot_scalar<T: GemmScalar>(
    x: *const T,
    mat: *const T,
    ld: isize,
    k: usize,
    out: *mut T,
    count: usize,
) {
    for r in 0..count {
        let v = mat.offset(r as isize * ld);
        let mut s = T::ZERO;
        for p in 0..k {
            s = s + *x.add(p) * *v.add(p);
        }
        *out.add(r) = s;
    }
}

/// One GEMV in normalised form: `len` outputs `y[j*ys]`, depth `k`, vector `x[p*xs]`.
struct Problem<T> {
    len: usize,
    k: usize,
    alpha: T,
    beta: T,
    x: *const T,
    xs: isize,
    /// Axpy form: element (p, j) at `mat + p*ld + j`. Dot form: (j, p) at `mat + j*ld + p`.
    mat: *const T,
    ld: isize,
    y: *mut T,
    ys: isize,
    axpy: bool,
}

// SAFETY: raw pointers into the caller's operands, valid for the call (see `gemm`'s contract);
// threads write disjoint output ranges.
unsafe impl<T: Send> Send for Problem<T> {}
unsafe impl<T: Sync> Sync for Problem<T> {}

/// Runs `s` as a GEMV when it is one (M or N is 1) and its layout suits a streaming form;
/// returns false, doing nothing, otherwise.
///
/// # Safety
/// As for [`super::gemm`]; `k > 0`.
pub unsafe fn try_run<T: GemmScalar>(s: &Single<T>, kern: &GemvKernel<T>, threads: usize) -> bool {
    let prob = if s.m == 1 {
        // y (1 x n) = x (1 x k) @ B (k x n): outputs run along B's columns.
        let (x, xs, y, ys) = (s.a.ptr, s.a.cs, s.c.ptr, s.c.cs);
        if s.b.cs == 1 {
            Problem {
                len: s.n,
                k: s.k,
                alpha: s.alpha,
                beta: s.beta,
                x,
                xs,
                mat: s.b.ptr,
                ld: s.b.rs,
                y,
                ys,
                axpy: true,
            }
        } else if s.b.rs == 1 && xs == 1 {
            Problem {
                len: s.n,
                k: s.k,
                alpha: s.alpha,
                beta: s.beta,
                x,
                xs,
                mat: s.b.ptr,
                ld: s.b.cs,
                y,
                ys,
                axpy: false,
            }
        } else {
            return false;
        }
    } else if s.n == 1 {
        // y (m x 1) = A (m x k) @ x (k x 1): outputs run along A's rows.
        let (x, xs, y, ys) = (s.b.ptr, s.b.rs, s.c.ptr, s.c.rs);
        if s.a.cs == 1 && xs == 1 {
            Problem {
                len: s.m,
                k: s.k,
                alpha: s.alpha,
                beta: s.beta,
                x,
                xs,
                mat: s.a.ptr,
                ld: s.a.rs,
                y,
                ys,
                axpy: false,
            }
        } else if s.a.rs == 1 {
            Problem {
                len: s.m,
                k: s.k,
                alpha: s.alpha,
                beta: s.beta,
                x,
                xs,
                mat: s.a.ptr,
                ld: s.a.cs,
                y,
                ys,
                axpy: true,
            }
        } else {
            return false;
        }
    } else {
        return false;
    };
    if prob.axpy
        && prob.len <= BLOCK
        && prob.k >= 2 * KPARTS
        && prob.len.saturating_mul(prob.k) >= KSPLIT_ELEMS
    {
        run_depth_split(&prob, kern);
        return true;
    }
    let units = prob.len.div_ceil(ALIGN);
    let tasks = if prob.len.saturating_mul(prob.k) >= PAR_ELEMS {
        threads.min(units).max(1)
    } else {
        1
    };
    let range = |t: usize| {
        (
            (units * t / tasks * ALIGN).min(prob.len),
            (units * (t + 1) / tasks * ALIGN).min(prob.len),
        )
    };
    if tasks == 1 {
        run_range(&prob, kern, 0, prob.len);
    } else {
        crate::threading::for_each_task(tasks, |t| {
            let (lo, hi) = range(t);
            // SAFETY: disjoint output ranges of a valid problem.
            unsafe { run_range(&prob, kern, lo, hi) }
        });
    }
    true
}

/// Axpy form over a large matrix with at most [`BLOCK`] outputs: the depth is cut into
/// [`KPARTS`] fixed parts (never depending on the thread count), each part's partial sums are
/// accumulated over whole contiguous rows by one task, and the parts are added in order.
unsafe fn run_depth_split<T: GemmScalar>(prob: &Problem<T>, kern: &GemvKernel<T>) {
    let len = prob.len;
    let mut partial = vec![T::ZERO; KPARTS * len];
    let base = SendPtr(partial.as_mut_ptr());
    let bound = |t: usize| prob.k * t / KPARTS;
    crate::threading::for_each_task(KPARTS, |t| {
        let (k0, k1) = (bound(t), bound(t + 1));
        let base = &base;
        // SAFETY: part `t` writes only its own `len` partial sums; rows k0..k1 of the matrix
        // and entries k0..k1 of x are inside the problem.
        unsafe {
            (kern.axpy)(
                base.0.add(t * len),
                len,
                prob.x.offset(k0 as isize * prob.xs),
                prob.xs,
                prob.mat.offset(k0 as isize * prob.ld),
                prob.ld,
                k1 - k0,
            )
        }
    });
    for j in 0..len {
        let mut acc = partial[j];
        for t in 1..KPARTS {
            acc = acc + partial[t * len + j];
        }
        finish(prob, j, acc);
    }
}

/// A pointer shared by the tasks of [`run_depth_split`], which write disjoint parts of it.
struct SendPtr<T>(*mut T);
// SAFETY: see `run_depth_split`.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

#[inline]
unsafe fn finish<T: GemmScalar>(prob: &Problem<T>, j: usize, acc: T) {
    let dst = prob.y.offset(j as isize * prob.ys);
    let v = prob.alpha * acc;
    *dst = if prob.beta == T::ZERO {
        v
    } else {
        v + prob.beta * *dst
    };
}

/// Computes outputs `lo..hi` on the calling thread.
unsafe fn run_range<T: GemmScalar>(prob: &Problem<T>, kern: &GemvKernel<T>, lo: usize, hi: usize) {
    if prob.axpy {
        let mut acc = [T::ZERO; BLOCK];
        let mut j0 = lo;
        while j0 < hi {
            let w = BLOCK.min(hi - j0);
            acc[..w].fill(T::ZERO);
            (kern.axpy)(
                acc.as_mut_ptr(),
                w,
                prob.x,
                prob.xs,
                prob.mat.add(j0),
                prob.ld,
                prob.k,
            );
            for (jj, &a) in acc[..w].iter().enumerate() {
                finish(prob, j0 + jj, a);
            }
            j0 += w;
        }
    } else {
        let mut sums = [T::ZERO; DOTS];
        let mut j0 = lo;
        while j0 < hi {
            let cnt = DOTS.min(hi - j0);
            (kern.dot)(
                prob.x,
                prob.mat.offset(j0 as isize * prob.ld),
                prob.ld,
                prob.k,
                sums.as_mut_ptr(),
                cnt,
            );
            for (jj, &v) in sums[..cnt].iter().enumerate() {
                finish(prob, j0 + jj, v);
            }
            j0 += cnt;
        }
    }
}

/// AVX2 + FMA GEMV kernels.
#[cfg(target_arch = "x86_64")]
pub mod avx2 {
    use core::arch::x86_64::*;

    use super::GemvKernel;
    /// Software prefetch distance of the dot form, in values (1 KiB of f32 ahead per stream;
    /// 4 and 16 KiB measured no better on the project machine, within its noise).
    const PF_DIST: usize = 256;

    pub fn kernel_f32() -> GemvKernel<f32> {
        GemvKernel {
            axpy: axpy_f32,
            dot: dot_f32,
        }
    }

    pub fn kernel_f64() -> GemvKernel<f64> {
        GemvKernel {
            axpy: axpy_f64,
            dot: dot_f64,
        }
    }

    unsafe fn axpy_f32(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        k: usize,
    ) {
        axpy_f32_impl(acc, w, x, xs, mat, ld, k)
    }

    /// Eight rows per pass over the accumulators (then four, then one; see `axpy_rows_f32`);
    /// the FMAs into one accumulator keep `p` order. Scalar tails use a fused multiply-add
    /// too, so every element rounds the same whichever part of the loop it falls in.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn axpy_f32_impl(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        k: usize,
    ) {
        let mut p = 0;
        while p + 8 <= k {
            // Prefetch the next pass's rows while there is one.
            axpy_rows_f32::<8>(acc, w, x, xs, mat, ld, p, p + 16 <= k);
            p += 8;
        }
        if p + 4 <= k {
            axpy_rows_f32::<4>(acc, w, x, xs, mat, ld, p, false);
            p += 4;
        }
        while p < k {
            let xp = *x.offset(p as isize * xs);
            let row = mat.offset(p as isize * ld);
            let xb = _mm256_set1_ps(xp);
            let mut j = 0;
            while j + 8 <= w {
                let v =
                    _mm256_fmadd_ps(xb, _mm256_loadu_ps(row.add(j)), _mm256_loadu_ps(acc.add(j)));
                _mm256_storeu_ps(acc.add(j), v);
                j += 8;
            }
            while j < w {
                *acc.add(j) = xp.mul_add(*row.add(j), *acc.add(j));
                j += 1;
            }
            p += 1;
        }
    }

    /// `R` rows in one pass over the accumulators (`R` FMAs per accumulator load and store, in
    /// `p` order); with `prefetch`, the next `R` rows are requested into L2 (`prefetcht2`) as
    /// this pass streams, one cache line per row per 16 outputs.
    ///
    /// Measured at 1x4096 @ 4096x4096 (GB/s, median of 9 rounds, one / two threads; noisy):
    /// 4 rows with `prefetcht0` one pass ahead (the former kernel) 13.7-19.7 / 18.6-26.6;
    /// 4 rows `prefetcht2`: 17.4-20.3 / 22.5-27.7; 8 rows `prefetcht2` 8 rows ahead
    /// 20.6-32.1 / 26.0-39.7 (NumPy/OpenBLAS in the same runs: 24.8-26.4 / 32.9-44.5);
    /// 16 or 32 rows ahead, `prefetcht0` at 8 rows or `prefetchnta` were no better. A T0
    /// prefetch a whole pass ahead (64-128 KiB) overflows the 32 KiB L1 that also holds the
    /// accumulators, so the lines were evicted before use.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn axpy_rows_f32<const R: usize>(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        p: usize,
        prefetch: bool,
    ) {
        let xv: [f32; R] = core::array::from_fn(|q| *x.offset((p + q) as isize * xs));
        let r: [*const f32; R] = core::array::from_fn(|q| mat.offset((p + q) as isize * ld));
        let xb: [__m256; R] = core::array::from_fn(|q| _mm256_set1_ps(xv[q]));
        let next: [*const f32; R] =
            core::array::from_fn(|q| mat.wrapping_offset((p + R + q) as isize * ld));
        let mut j = 0;
        while j + 16 <= w {
            let mut v0 = _mm256_loadu_ps(acc.add(j));
            let mut v1 = _mm256_loadu_ps(acc.add(j + 8));
            for q in 0..R {
                if prefetch {
                    _mm_prefetch::<_MM_HINT_T2>(next[q].wrapping_add(j) as *const i8);
                }
                v0 = _mm256_fmadd_ps(xb[q], _mm256_loadu_ps(r[q].add(j)), v0);
                v1 = _mm256_fmadd_ps(xb[q], _mm256_loadu_ps(r[q].add(j + 8)), v1);
            }
            _mm256_storeu_ps(acc.add(j), v0);
            _mm256_storeu_ps(acc.add(j + 8), v1);
            j += 16;
        }
        while j + 8 <= w {
            let mut v = _mm256_loadu_ps(acc.add(j));
            for q in 0..R {
                v = _mm256_fmadd_ps(xb[q], _mm256_loadu_ps(r[q].add(j)), v);
            }
            _mm256_storeu_ps(acc.add(j), v);
            j += 8;
        }
        while j < w {
            let mut v = *acc.add(j);
            for q in 0..R {
                v = xv[q].mul_add(*r[q].add(j), v);
            }
            *acc.add(j) = v;
            j += 1;
        }
    }

    unsafe fn dot_f32(
        x: *const f32,
        mat: *const f32,
        ld: isize,
        k: usize,
        out: *mut f32,
        count: usize,
    ) {
        dots_f32_impl(x, mat, ld, k, out, count)
    }

    /// Four lines at a time (four read streams in flight, each `x` chunk loaded once for all),
    /// then one at a time; both go through `dot_lines`, so a line's sum does not depend on
    /// which group it falls in.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dots_f32_impl(
        x: *const f32,
        mat: *const f32,
        ld: isize,
        k: usize,
        out: *mut f32,
        count: usize,
    ) {
        let mut r = 0;
        while r + 4 <= count {
            let lines: [*const f32; 4] =
                core::array::from_fn(|q| mat.offset((r + q) as isize * ld));
            let s = dot_lines::<4>(x, lines, k);
            for (q, v) in s.iter().enumerate() {
                *out.add(r + q) = *v;
            }
            r += 4;
        }
        while r < count {
            *out.add(r) = dot_lines::<1>(x, [mat.offset(r as isize * ld)], k)[0];
            r += 1;
        }
    }

    /// Per line: two 8-lane accumulators over alternating 8-value chunks, a fixed combining
    /// tree, then a fused scalar tail. Prefetches 1 KiB ahead in each stream.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_lines<const R: usize>(
        x: *const f32,
        lines: [*const f32; R],
        k: usize,
    ) -> [f32; R] {
        let mut acc0 = [_mm256_setzero_ps(); R];
        let mut acc1 = [_mm256_setzero_ps(); R];
        let mut p = 0;
        while p + 16 <= k {
            let x0 = _mm256_loadu_ps(x.add(p));
            let x1 = _mm256_loadu_ps(x.add(p + 8));
            for q in 0..R {
                _mm_prefetch::<_MM_HINT_T0>(lines[q].wrapping_add(p + PF_DIST) as *const i8);
                acc0[q] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(lines[q].add(p)), acc0[q]);
                acc1[q] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(lines[q].add(p + 8)), acc1[q]);
            }
            p += 16;
        }
        if p + 8 <= k {
            let x0 = _mm256_loadu_ps(x.add(p));
            for q in 0..R {
                acc0[q] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(lines[q].add(p)), acc0[q]);
            }
            p += 8;
        }
        let mut out = [0.0f32; R];
        for q in 0..R {
            let s = _mm256_add_ps(acc0[q], acc1[q]);
            let h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
            let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            let h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
            let mut sum = _mm_cvtss_f32(h);
            for pp in p..k {
                sum = (*x.add(pp)).mul_add(*lines[q].add(pp), sum);
            }
            out[q] = sum;
        }
        out
    }

    unsafe fn axpy_f64(
        acc: *mut f64,
        w: usize,
        x: *const f64,
        xs: isize,
        mat: *const f64,
        ld: isize,
        k: usize,
    ) {
        axpy_f64_impl(acc, w, x, xs, mat, ld, k)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn axpy_f64_impl(
        acc: *mut f64,
        w: usize,
        x: *const f64,
        xs: isize,
        mat: *const f64,
        ld: isize,
        k: usize,
    ) {
        for p in 0..k {
            let xp = *x.offset(p as isize * xs);
            let row = mat.offset(p as isize * ld);
            let xb = _mm256_set1_pd(xp);
            let mut j = 0;
            while j + 4 <= w {
                let v =
                    _mm256_fmadd_pd(xb, _mm256_loadu_pd(row.add(j)), _mm256_loadu_pd(acc.add(j)));
                _mm256_storeu_pd(acc.add(j), v);
                j += 4;
            }
            while j < w {
                *acc.add(j) = xp.mul_add(*row.add(j), *acc.add(j));
                j += 1;
            }
        }
    }

    unsafe fn dot_f64(
        x: *const f64,
        mat: *const f64,
        ld: isize,
        k: usize,
        out: *mut f64,
        count: usize,
    ) {
        for r in 0..count {
            *out.add(r) = dot_f64_impl(x, mat.offset(r as isize * ld), k);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_f64_impl(x: *const f64, v: *const f64, k: usize) -> f64 {
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut p = 0;
        while p + 16 <= k {
            for (q, a) in acc.iter_mut().enumerate() {
                let o = p + 4 * q;
                *a = _mm256_fmadd_pd(_mm256_loadu_pd(x.add(o)), _mm256_loadu_pd(v.add(o)), *a);
            }
            p += 16;
        }
        while p + 4 <= k {
            acc[0] = _mm256_fmadd_pd(_mm256_loadu_pd(x.add(p)), _mm256_loadu_pd(v.add(p)), acc[0]);
            p += 4;
        }
        let s = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
        let h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
        let h = _mm_add_sd(h, _mm_unpackhi_pd(h, h));
        let mut sum = _mm_cvtsd_f64(h);
        while p < k {
            sum = (*x.add(p)).mul_add(*v.add(p), sum);
            p += 1;
        }
        sum
    }
}

/// AVX-512 GEMV kernels: the axpy form on 16-lane vectors (the dot form stays on AVX2). Each
/// output element sees the same fused multiply-adds in the same `p` order as in the AVX2
/// kernel (tails run masked, not scalar, with the same per-element FMA), so the two give
/// bit-identical results. Halving the instructions per element matters for the products that
/// stay in cache (decode steps of small models: 1x128 @ 128x512 is all L1/L2 traffic).
#[cfg(target_arch = "x86_64")]
pub mod avx512 {
    use core::arch::x86_64::*;

    use super::GemvKernel;

    pub fn kernel_f32() -> GemvKernel<f32> {
        GemvKernel {
            axpy: axpy_f32,
            dot: super::avx2::kernel_f32().dot,
        }
    }

    unsafe fn axpy_f32(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        k: usize,
    ) {
        axpy_f32_impl(acc, w, x, xs, mat, ld, k)
    }

    /// Eight rows per pass over the accumulators, then four, then one (as the AVX2 kernel).
    #[target_feature(enable = "avx512f")]
    unsafe fn axpy_f32_impl(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        k: usize,
    ) {
        let mut p = 0;
        while p + 8 <= k {
            axpy_rows_f32::<8>(acc, w, x, xs, mat, ld, p, p + 16 <= k);
            p += 8;
        }
        if p + 4 <= k {
            axpy_rows_f32::<4>(acc, w, x, xs, mat, ld, p, false);
            p += 4;
        }
        while p < k {
            axpy_rows_f32::<1>(acc, w, x, xs, mat, ld, p, false);
            p += 1;
        }
    }

    /// `R` rows in one pass over the accumulators; with `prefetch`, the next `R` rows are
    /// requested into L2 as this pass streams (as the AVX2 kernel, one line per row per 16
    /// outputs).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    unsafe fn axpy_rows_f32<const R: usize>(
        acc: *mut f32,
        w: usize,
        x: *const f32,
        xs: isize,
        mat: *const f32,
        ld: isize,
        p: usize,
        prefetch: bool,
    ) {
        let r: [*const f32; R] = core::array::from_fn(|q| mat.offset((p + q) as isize * ld));
        let xb: [__m512; R] =
            core::array::from_fn(|q| _mm512_set1_ps(*x.offset((p + q) as isize * xs)));
        let next: [*const f32; R] =
            core::array::from_fn(|q| mat.wrapping_offset((p + R + q) as isize * ld));
        let mut j = 0;
        while j + 32 <= w {
            let mut v0 = _mm512_loadu_ps(acc.add(j));
            let mut v1 = _mm512_loadu_ps(acc.add(j + 16));
            for q in 0..R {
                if prefetch {
                    _mm_prefetch::<_MM_HINT_T2>(next[q].wrapping_add(j) as *const i8);
                    _mm_prefetch::<_MM_HINT_T2>(next[q].wrapping_add(j + 16) as *const i8);
                }
                v0 = _mm512_fmadd_ps(xb[q], _mm512_loadu_ps(r[q].add(j)), v0);
                v1 = _mm512_fmadd_ps(xb[q], _mm512_loadu_ps(r[q].add(j + 16)), v1);
            }
            _mm512_storeu_ps(acc.add(j), v0);
            _mm512_storeu_ps(acc.add(j + 16), v1);
            j += 32;
        }
        while j < w {
            let rem = w - j;
            let mk: __mmask16 = if rem >= 16 {
                0xffff
            } else {
                ((1u32 << rem) - 1) as u16
            };
            let mut v = _mm512_maskz_loadu_ps(mk, acc.add(j));
            for q in 0..R {
                v = _mm512_fmadd_ps(xb[q], _mm512_maskz_loadu_ps(mk, r[q].add(j)), v);
            }
            _mm512_mask_storeu_ps(acc.add(j), mk, v);
            j += 16;
        }
    }
}
