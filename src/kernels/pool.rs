//! 2-D max and average pooling (channels-last), forward and backward.
//!
//! Math: window (oy, ox) covers input rows `oy*sh - pt .. oy*sh - pt + kh` and columns likewise,
//! clipped to the image (padding never takes part).
//! - max: `y = max over the window`, `arg` = the flat spatial index `iy*w + ix` of the first
//!   maximum in row-major window order (PyTorch's tie rule); backward adds `dy` at `arg`.
//! - average: `y = sum / count` where `count` is the number of valid (non-padding) elements, as
//!   Keras/TF count with "same" padding; backward spreads `dy / count` over the valid elements.
//!
//! Layout: `x`/`dx` contiguous (n, h, w, c); `y`/`dy`/`arg` contiguous (n, oh, ow, c).
//! Aliasing: outputs never alias inputs.
//!
//! Performance: the channel axis is innermost, so every window step is a contiguous run over `c`
//! (vectorisable). Forward parallelises over output rows (n, oy); backward over images, since
//! overlapping windows add into the same input element: one task per image, windows in order,
//! so the result does not depend on the thread count.

use super::iter::SendPtr;
use crate::dtype::Element;

/// Pooling geometry (sizes validated by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeom {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub oh: usize,
    pub ow: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl PoolGeom {
    /// The clipped input range covered by output index `o` along one axis.
    #[inline]
    fn range(o: usize, s: usize, pad: usize, k: usize, len: usize) -> (usize, usize) {
        let start = o * s;
        let lo = start.saturating_sub(pad).min(len);
        let hi = start.saturating_add(k).saturating_sub(pad).min(len);
        (lo, hi)
    }
    #[inline]
    fn rows(&self, oy: usize) -> (usize, usize) {
        Self::range(oy, self.sh, self.pad_top, self.kh, self.h)
    }
    #[inline]
    fn cols(&self, ox: usize) -> (usize, usize) {
        Self::range(ox, self.sw, self.pad_left, self.kw, self.w)
    }
}

/// Float element types the pooling kernels run on.
pub trait PoolScalar:
    Element + std::ops::Add<Output = Self> + std::ops::Div<Output = Self> + std::ops::Mul<Output = Self>
{
}
impl PoolScalar for f32 {}
impl PoolScalar for f64 {}

/// Runs `f(n, oy)` for every output row, in parallel when the work is large.
fn for_rows(g: &PoolGeom, f: impl Fn(usize, usize) + Sync) {
    let rows = g.n * g.oh;
    let work = rows * g.ow * g.c * g.kh * g.kw;
    let run = |r: usize| f(r / g.oh.max(1), r % g.oh.max(1));
    if rows > 1 && crate::threading::should_parallelize(work, crate::threading::GRAIN) {
        crate::threading::for_each_index(rows, 1, run);
    } else {
        (0..rows).for_each(run);
    }
}

/// Runs `f(n)` for every image, in parallel when the work is large.
fn for_images(g: &PoolGeom, f: impl Fn(usize) + Sync) {
    let work = g.n * g.oh * g.ow * g.c * g.kh * g.kw;
    if g.n > 1 && crate::threading::should_parallelize(work, crate::threading::GRAIN) {
        crate::threading::for_each_task(g.n, &f);
    } else {
        (0..g.n).for_each(f);
    }
}

/// `b = max(b, v)` along a channel run; strictly greater keeps the first maximum and a NaN wins
/// (PyTorch's rule). Branch-free selects, so the loop vectorises.
#[inline(always)]
fn max_run_impl<T: PoolScalar>(yo: &mut [T], xi: &[T]) {
    #[allow(clippy::eq_op)] // v != v is the NaN test, generic over T
    for (b, &v) in yo.iter_mut().zip(xi) {
        *b = if (v > *b) | (v != v) { v } else { *b };
    }
}

/// As [`max_run_impl`], also recording `idx` in `ao` where the maximum changes.
#[inline(always)]
fn max_arg_run_impl<T: PoolScalar>(yo: &mut [T], ao: &mut [i64], xi: &[T], idx: i64) {
    let n = yo.len().min(ao.len()).min(xi.len());
    let (yo, ao, xi) = (&mut yo[..n], &mut ao[..n], &xi[..n]);
    for i in 0..n {
        let (v, b) = (xi[i], yo[i]);
        // `|`, not `||`: no branch, so the loop compiles to vector compares and blends.
        #[allow(clippy::eq_op)]
        let take = (v > b) | (v != v);
        yo[i] = if take { v } else { b };
        ao[i] = if take { idx } else { ao[i] };
    }
}

/// `d = g` where `a == idx`, else 0 (the gradient of one window element).
#[inline(always)]
fn route_run_impl<T: PoolScalar>(d: &mut [T], g: &[T], a: &[i64], idx: i64) {
    let n = d.len().min(g.len()).min(a.len());
    let (d, g, a) = (&mut d[..n], &g[..n], &a[..n]);
    for i in 0..n {
        d[i] = if a[i] == idx { g[i] } else { T::zero() };
    }
}

crate::simd_fn!(fn route_run<T: PoolScalar>(d: &mut [T], g: &[T], a: &[i64], idx: i64) => route_run_impl);
crate::simd_fn!(fn max_run<T: PoolScalar>(yo: &mut [T], xi: &[T]) => max_run_impl);
crate::simd_fn!(fn max_arg_run<T: PoolScalar>(yo: &mut [T], ao: &mut [i64], xi: &[T], idx: i64) => max_arg_run_impl);

/// Max pooling; `arg` (when given: only backward needs it) receives the flat spatial index of
/// each maximum (-1 for an empty window).
///
/// # Safety
/// Pointers valid for the contiguous shapes in the module docs; no aliasing.
pub unsafe fn max_pool_forward<T: PoolScalar>(
    g: &PoolGeom,
    x: *const T,
    y: *mut T,
    arg: Option<*mut i64>,
) {
    let (xs, ys) = (SendPtr(x as *mut T), SendPtr(y));
    let args = arg.map(SendPtr);
    let c = g.c;
    for_rows(g, |n, oy| {
        let (y0, y1) = g.rows(oy);
        for ox in 0..g.ow {
            let (x0, x1) = g.cols(ox);
            let o = ((n * g.oh + oy) * g.ow + ox) * c;
            // SAFETY: row (n, oy) of y/arg is written by this task only; reads stay in the image.
            let yo = unsafe { std::slice::from_raw_parts_mut(ys.get().add(o), c) };
            let mut ao = args.map(|a| unsafe { std::slice::from_raw_parts_mut(a.get().add(o), c) });
            let mut first = true;
            for iy in y0..y1 {
                for ix in x0..x1 {
                    let idx = (iy * g.w + ix) as i64;
                    let xi = unsafe {
                        std::slice::from_raw_parts(xs.get().add(((n * g.h + iy) * g.w + ix) * c), c)
                    };
                    if first {
                        yo.copy_from_slice(xi);
                        if let Some(ao) = ao.as_deref_mut() {
                            ao.fill(idx);
                        }
                        first = false;
                        continue;
                    }
                    match ao.as_deref_mut() {
                        Some(ao) => max_arg_run(yo, ao, xi, idx),
                        None => max_run(yo, xi),
                    }
                }
            }
            if first {
                yo.fill(T::zero());
                if let Some(ao) = ao {
                    ao.fill(-1);
                }
            }
        }
    });
}

/// `dx[arg] += dy` per channel (dx is fully written).
///
/// # Safety
/// As [`max_pool_forward`]; `arg` holds indices it produced for this geometry.
pub unsafe fn max_pool_backward<T: PoolScalar>(
    g: &PoolGeom,
    dy: *const T,
    arg: *const i64,
    dx: *mut T,
) {
    let img = g.h * g.w * g.c;
    let tiled = g.sh == g.kh && g.sw == g.kw && g.pad_top == 0 && g.pad_left == 0;
    if !tiled || g.oh * g.kh < g.h || g.ow * g.kw < g.w {
        std::slice::from_raw_parts_mut(dx, g.n * img).fill(T::zero());
    }
    let (dys, args, dxs) = (SendPtr(dy as *mut T), SendPtr(arg as *mut i64), SendPtr(dx));
    let per = g.oh * g.ow * g.c;
    if per == 0 {
        return;
    }
    if tiled {
        // Windows tile the image without overlap (the usual pool_size == strides): every input
        // element belongs to at most one window, so each is written once, by a vector select.
        for_images(g, |n| {
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    let o = ((n * g.oh + oy) * g.ow + ox) * g.c;
                    // SAFETY: window (oy, ox) of image n is written by this task only.
                    let (gr, ar) = unsafe {
                        (
                            std::slice::from_raw_parts(dys.get().add(o), g.c),
                            std::slice::from_raw_parts(args.get().add(o), g.c),
                        )
                    };
                    // Clipped: with "same" padding the last window may reach past the image.
                    for iy in oy * g.kh..((oy + 1) * g.kh).min(g.h) {
                        for ix in ox * g.kw..((ox + 1) * g.kw).min(g.w) {
                            let at = ((n * g.h + iy) * g.w + ix) * g.c;
                            let d =
                                unsafe { std::slice::from_raw_parts_mut(dxs.get().add(at), g.c) };
                            route_run(d, gr, ar, (iy * g.w + ix) as i64);
                        }
                    }
                }
            }
        });
        return;
    }
    for_images(g, |n| {
        // SAFETY: image n of dx is written by this task only.
        let d = unsafe { std::slice::from_raw_parts_mut(dxs.get().add(n * img), img) };
        let gy = unsafe { std::slice::from_raw_parts(dys.get().add(n * per), per) };
        let a = unsafe { std::slice::from_raw_parts(args.get().add(n * per), per) };
        for (gr, ar) in gy.chunks_exact(g.c).zip(a.chunks_exact(g.c)) {
            // One output position: channel ch goes to input position ar[ch] (no division per value).
            for (ch, (&gv, &ai)) in gr.iter().zip(ar).enumerate() {
                if ai >= 0 {
                    let i = ai as usize * g.c + ch;
                    d[i] = d[i] + gv;
                }
            }
        }
    });
}

/// Average pooling over the valid elements of each window.
///
/// # Safety
/// As [`max_pool_forward`].
pub unsafe fn avg_pool_forward<T: PoolScalar>(g: &PoolGeom, x: *const T, y: *mut T) {
    let (xs, ys) = (SendPtr(x as *mut T), SendPtr(y));
    let c = g.c;
    for_rows(g, |n, oy| {
        let (y0, y1) = g.rows(oy);
        for ox in 0..g.ow {
            let (x0, x1) = g.cols(ox);
            let o = ((n * g.oh + oy) * g.ow + ox) * c;
            // SAFETY: row (n, oy) of y is written by this task only.
            let yo = unsafe { std::slice::from_raw_parts_mut(ys.get().add(o), c) };
            yo.fill(T::zero());
            for iy in y0..y1 {
                for ix in x0..x1 {
                    let xi = unsafe {
                        std::slice::from_raw_parts(xs.get().add(((n * g.h + iy) * g.w + ix) * c), c)
                    };
                    for (a, &v) in yo.iter_mut().zip(xi) {
                        *a = *a + v;
                    }
                }
            }
            let count = (y1 - y0) * (x1 - x0);
            if count > 0 {
                let inv = T::from_f64(count as f64);
                for a in yo.iter_mut() {
                    *a = *a / inv;
                }
            }
        }
    });
}

/// `dx += dy / count` over each window's valid elements (dx is fully written).
///
/// # Safety
/// As [`max_pool_forward`].
pub unsafe fn avg_pool_backward<T: PoolScalar>(g: &PoolGeom, dy: *const T, dx: *mut T) {
    let img = g.h * g.w * g.c;
    std::slice::from_raw_parts_mut(dx, g.n * img).fill(T::zero());
    let (dys, dxs) = (SendPtr(dy as *mut T), SendPtr(dx));
    let c = g.c;
    for_images(g, |n| {
        // SAFETY: image n of dx is written by this task only.
        let d = unsafe { std::slice::from_raw_parts_mut(dxs.get().add(n * img), img) };
        for oy in 0..g.oh {
            let (y0, y1) = g.rows(oy);
            for ox in 0..g.ow {
                let (x0, x1) = g.cols(ox);
                let count = (y1 - y0) * (x1 - x0);
                if count == 0 {
                    continue;
                }
                let cnt = T::from_f64(count as f64);
                let o = ((n * g.oh + oy) * g.ow + ox) * c;
                let gy = unsafe { std::slice::from_raw_parts(dys.get().add(o), c) };
                for iy in y0..y1 {
                    for ix in x0..x1 {
                        let di = &mut d[(iy * g.w + ix) * c..(iy * g.w + ix + 1) * c];
                        for (a, &v) in di.iter_mut().zip(gy) {
                            *a = *a + v / cnt;
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_counts_valid_elements_and_first_max_wins() {
        // 1x3x3x1 input, 2x2 windows, stride 2, "same" (pad bottom/right only).
        let g = PoolGeom {
            n: 1,
            h: 3,
            w: 3,
            c: 1,
            oh: 2,
            ow: 2,
            kh: 2,
            kw: 2,
            sh: 2,
            sw: 2,
            pad_top: 0,
            pad_left: 0,
        };
        let x = [1.0f64, 5.0, 2.0, 5.0, 0.0, 3.0, 4.0, 6.0, 7.0];
        let mut y = [0.0f64; 4];
        let mut a = [0i64; 4];
        unsafe { max_pool_forward(&g, x.as_ptr(), y.as_mut_ptr(), Some(a.as_mut_ptr())) };
        assert_eq!(y, [5.0, 3.0, 6.0, 7.0]);
        assert_eq!(a, [1, 5, 7, 8]);
        unsafe { avg_pool_forward(&g, x.as_ptr(), y.as_mut_ptr()) };
        assert_eq!(y, [11.0 / 4.0, 2.5, 5.0, 7.0]);
        let mut dx = [f64::NAN; 9];
        unsafe { avg_pool_backward(&g, [4.0, 2.0, 2.0, 1.0].as_ptr(), dx.as_mut_ptr()) };
        assert_eq!(dx, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    }
}
