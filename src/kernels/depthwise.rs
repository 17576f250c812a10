//! Depthwise 2-D convolution (one input channel per group), forward and both backward passes.
//!
//! Math: the grouped conv of `conv.rs` with `cin / groups == 1`; with `m = cout / cin` (the
//! depth multiplier), output channel `o` reads input channel `o / m`:
//! `y[n, oy, ox, o] = b[o] + sum_{ky, kx} x[n, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl, o / m] * w[ky, kx, 0, o]`.
//! Layout: as `conv.rs` (NHWC, kernel (kh, kw, 1, cout)); outputs never alias inputs.
//!
//! Performance: as a GEMM this is `cin` tiny products of depth kh*kw, which no GEMM runs well;
//! here every tap is one multiply-add over a contiguous channel run (vectorised), with no patch
//! buffer. Threads: forward splits over output rows, the input gradient over input rows (each
//! element gathers its taps in a fixed order), and the weight gradient over fixed blocks of
//! output positions whose partial sums are added in block order, so results are bit-identical
//! for any thread count.

use super::conv::ConvGeom;
use super::iter::SendPtr;
use super::matmul::GemmScalar;

/// Output positions per weight-gradient block (a constant: the block sums' order is fixed).
const WGRAD_BLOCK: usize = 1024;

fn par_rows(rows: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
    if rows > 1 && crate::threading::should_parallelize(work, 1 << 15) {
        crate::threading::for_each_index(rows, 1, f);
    } else {
        (0..rows).for_each(f);
    }
}

/// `acc[o] += xs[o / m] * ws[o]` over all output channels.
#[inline(always)]
fn tap<T: GemmScalar>(acc: &mut [T], xs: &[T], ws: &[T], m: usize) {
    if m == 1 {
        for ((a, &xv), &wv) in acc.iter_mut().zip(xs).zip(ws) {
            *a = *a + xv * wv;
        }
    } else {
        for (c, &xv) in xs.iter().enumerate() {
            let (a, wr) = (&mut acc[c * m..(c + 1) * m], &ws[c * m..(c + 1) * m]);
            for (a, &wv) in a.iter_mut().zip(wr) {
                *a = *a + xv * wv;
            }
        }
    }
}

/// Forward pass.
///
/// # Safety
/// As `conv2d_forward` in `conv.rs`, with `g.cin == g.groups`.
pub unsafe fn depthwise_forward<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    w: *const T,
    b: Option<*const T>,
    y: *mut T,
) {
    let (c, co) = (g.cin, g.cout);
    let m = co / c.max(1);
    let (xs, ws, ys) = (SendPtr(x as *mut T), SendPtr(w as *mut T), SendPtr(y));
    let bs = b.map(|b| SendPtr(b as *mut T));
    let work = g.n * g.oh * g.ow * co * g.kh * g.kw;
    par_rows(g.n * g.oh, work, |r| {
        let (n, oy) = (r / g.oh, r % g.oh);
        for ox in 0..g.ow {
            // SAFETY: output row r is written by this task only; reads stay inside x and w.
            let acc = unsafe {
                std::slice::from_raw_parts_mut(ys.get().add(((n * g.oh + oy) * g.ow + ox) * co), co)
            };
            match bs {
                Some(b) => acc.copy_from_slice(unsafe { std::slice::from_raw_parts(b.get(), co) }),
                None => acc.fill(T::ZERO),
            }
            for ky in 0..g.kh {
                let Some(iy) = g.in_y(oy, ky) else { continue };
                for kx in 0..g.kw {
                    let Some(ix) = g.in_x(ox, kx) else { continue };
                    let (xr, wr) = unsafe {
                        (
                            std::slice::from_raw_parts(
                                xs.get().add(((n * g.h + iy) * g.w + ix) * c),
                                c,
                            ),
                            std::slice::from_raw_parts(ws.get().add((ky * g.kw + kx) * co), co),
                        )
                    };
                    tap(acc, xr, wr, m);
                }
            }
        }
    });
}

/// Input gradient: `dx[n, iy, ix, c] = sum over taps reaching (iy, ix) and j < m of
/// dy[n, oy, ox, c*m + j] * w[ky, kx, 0, c*m + j]` (gathered, taps in row-major order).
///
/// # Safety
/// As `conv2d_backward_input` in `conv.rs`, with `g.cin == g.groups`.
pub unsafe fn depthwise_backward_input<T: GemmScalar>(
    g: &ConvGeom,
    dy: *const T,
    w: *const T,
    dx: *mut T,
) {
    let (c, co) = (g.cin, g.cout);
    let m = co / c.max(1);
    let (dys, ws, dxs) = (SendPtr(dy as *mut T), SendPtr(w as *mut T), SendPtr(dx));
    let work = g.n * g.oh * g.ow * co * g.kh * g.kw;
    // Output index o reaches input index i at tap k when o*s + k*d - pad == i.
    let src = |i: usize, k: usize, s: usize, d: usize, pad: usize, out: usize| -> Option<usize> {
        let v = i.saturating_add(pad).checked_sub(k * d)?;
        (v % s == 0 && v / s < out).then_some(v / s)
    };
    par_rows(g.n * g.h, work, |r| {
        let (n, iy) = (r / g.h, r % g.h);
        for ix in 0..g.w {
            // SAFETY: input row r of dx is written by this task only.
            let acc = unsafe {
                std::slice::from_raw_parts_mut(dxs.get().add(((n * g.h + iy) * g.w + ix) * c), c)
            };
            acc.fill(T::ZERO);
            for ky in 0..g.kh {
                let Some(oy) = src(iy, ky, g.sh, g.dh, g.pad_top, g.oh) else {
                    continue;
                };
                for kx in 0..g.kw {
                    let Some(ox) = src(ix, kx, g.sw, g.dw, g.pad_left, g.ow) else {
                        continue;
                    };
                    let (gr, wr) = unsafe {
                        (
                            std::slice::from_raw_parts(
                                dys.get().add(((n * g.oh + oy) * g.ow + ox) * co),
                                co,
                            ),
                            std::slice::from_raw_parts(ws.get().add((ky * g.kw + kx) * co), co),
                        )
                    };
                    for (ci, a) in acc.iter_mut().enumerate() {
                        for j in 0..m {
                            *a = *a + gr[ci * m + j] * wr[ci * m + j];
                        }
                    }
                }
            }
        }
    });
}

/// Weight gradient: `dw[ky, kx, 0, o] = sum over output positions of x[..., o / m] * dy[..., o]`.
///
/// # Safety
/// As `conv2d_backward_weight` in `conv.rs`, with `g.cin == g.groups`.
pub unsafe fn depthwise_backward_weight<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    dy: *const T,
    dw: *mut T,
) {
    let (c, co) = (g.cin, g.cout);
    let m = co / c.max(1);
    let taps = g.kh * g.kw;
    let rows = g.n * g.oh * g.ow;
    let nblocks = rows.div_ceil(WGRAD_BLOCK);
    let mut partial = vec![T::ZERO; nblocks * taps * co];
    let (xs, dys, ps) = (
        SendPtr(x as *mut T),
        SendPtr(dy as *mut T),
        SendPtr(partial.as_mut_ptr()),
    );
    par_rows(nblocks, rows * taps * co, |bi| {
        // SAFETY: block bi owns its slice of `partial`; reads stay inside x and dy.
        let acc =
            unsafe { std::slice::from_raw_parts_mut(ps.get().add(bi * taps * co), taps * co) };
        for r in bi * WGRAD_BLOCK..((bi + 1) * WGRAD_BLOCK).min(rows) {
            let (n, q) = (r / (g.oh * g.ow), r % (g.oh * g.ow));
            let (oy, ox) = (q / g.ow, q % g.ow);
            let gr = unsafe { std::slice::from_raw_parts(dys.get().add(r * co), co) };
            for ky in 0..g.kh {
                let Some(iy) = g.in_y(oy, ky) else { continue };
                for kx in 0..g.kw {
                    let Some(ix) = g.in_x(ox, kx) else { continue };
                    let xr = unsafe {
                        std::slice::from_raw_parts(xs.get().add(((n * g.h + iy) * g.w + ix) * c), c)
                    };
                    let t = (ky * g.kw + kx) * co;
                    tap(&mut acc[t..t + co], xr, gr, m);
                }
            }
        }
    });
    let out = std::slice::from_raw_parts_mut(dw, taps * co);
    out.fill(T::ZERO);
    for p in partial.chunks_exact(taps * co) {
        // Level 1: block partial sums, always in block order.
        for (o, &v) in out.iter_mut().zip(p) {
            *o = *o + v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::conv::{conv2d_backward_input, conv2d_backward_weight, conv2d_forward};
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 7) * 2654435761 + seed) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn matches_the_grouped_gemm_path() {
        // 3 channels, multiplier 2, stride 2, dilation (1, 2), padding on both sides.
        let g = ConvGeom {
            n: 2,
            h: 7,
            w: 8,
            cin: 3,
            oh: 4,
            ow: 4,
            cout: 6,
            kh: 3,
            kw: 2,
            sh: 2,
            sw: 2,
            dh: 1,
            dw: 2,
            pad_top: 1,
            pad_left: 1,
            groups: 3,
        };
        let x = data(g.n * g.h * g.w * g.cin, 1);
        let w = data(g.kh * g.kw * g.cout, 2);
        let b = data(g.cout, 3);
        let dy = data(g.n * g.oh * g.ow * g.cout, 4);
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-12);
        let (mut y1, mut y2) = (vec![0.0; dy.len()], vec![0.0; dy.len()]);
        let (mut dx1, mut dx2) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut dw1, mut dw2) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        unsafe {
            depthwise_forward(
                &g,
                x.as_ptr(),
                w.as_ptr(),
                Some(b.as_ptr()),
                y1.as_mut_ptr(),
            );
            conv2d_forward(
                &g,
                x.as_ptr(),
                w.as_ptr(),
                Some(b.as_ptr()),
                y2.as_mut_ptr(),
            );
            depthwise_backward_input(&g, dy.as_ptr(), w.as_ptr(), dx1.as_mut_ptr());
            conv2d_backward_input(&g, dy.as_ptr(), w.as_ptr(), dx2.as_mut_ptr());
            depthwise_backward_weight(&g, x.as_ptr(), dy.as_ptr(), dw1.as_mut_ptr());
            conv2d_backward_weight(&g, x.as_ptr(), dy.as_ptr(), dw2.as_mut_ptr());
        }
        assert!(close(&y1, &y2));
        assert!(close(&dx1, &dx2));
        assert!(close(&dw1, &dw2));
    }
}
