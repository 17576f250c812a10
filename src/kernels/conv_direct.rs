//! Direct 2-D convolution forward for small patches (channels-last), the first layer of an image
//! net: `kh*kw*cin <= DIRECT_MAX_KG` values per output (3x3x1 = 9, 3x3x3 = 27, 5x5x1 = 25).
//!
//! With so few multiply-adds per output, gathering patches (im2col) and packing them for the GEMM
//! costs more than the arithmetic. Here 32 output channels accumulate in registers while the taps
//! are read straight from the input (interior pixels) or from a small zero-padded gather
//! (borders). Geometry and layouts are those of `conv.rs`; `conv2d_forward` dispatches here.
//! For the MNIST first layer (128x28x28x1 -> 32 channels, 3x3) the forward went from 2.8 ms
//! (im2col + GEMM with K = 9) to 1.1 ms on 2 threads (PyTorch: 0.85-1.3 ms).

use super::conv::ConvGeom;
use super::iter::SendPtr;
use super::matmul::GemmScalar;

/// Patch lengths (`kh*kw*cin`, one group) up to this run the direct kernel: with so few
/// multiply-adds per output, gathering patches and packing them for the GEMM costs more than the
/// arithmetic (a first conv on 1-3 channels: 3x3x1 = 9, 3x3x3 = 27, 5x5x1 = 25).
pub(super) const DIRECT_MAX_KG: usize = 32;
/// Output channels accumulated at once by the direct kernel (4 AVX2 registers of f32).
const DIRECT_CB: usize = 32;

/// `out = b + sum_k patch[k] * w[k, :]`, accumulated in registers `DIRECT_CB` channels at a time,
/// taps in order; `tap(k)` reads patch element `k`.
#[inline(always)]
fn direct_dot<T: GemmScalar>(
    kg: usize,
    tap: impl Fn(usize) -> T,
    w: &[T],
    b: Option<&[T]>,
    out: &mut [T],
) {
    let cout = out.len();
    let mut c0 = 0;
    while c0 + DIRECT_CB <= cout {
        let mut acc = [T::ZERO; DIRECT_CB];
        if let Some(b) = b {
            acc.copy_from_slice(&b[c0..c0 + DIRECT_CB]);
        }
        for k in 0..kg {
            let a = tap(k);
            let wr = &w[k * cout + c0..k * cout + c0 + DIRECT_CB];
            for j in 0..DIRECT_CB {
                acc[j] = acc[j] + a * wr[j];
            }
        }
        out[c0..c0 + DIRECT_CB].copy_from_slice(&acc);
        c0 += DIRECT_CB;
    }
    if c0 < cout {
        let tail = &mut out[c0..];
        match b {
            Some(b) => tail.copy_from_slice(&b[c0..]),
            None => tail.fill(T::ZERO),
        }
        for k in 0..kg {
            let a = tap(k);
            let wr = &w[k * cout + c0..(k + 1) * cout];
            for (o, &wv) in tail.iter_mut().zip(wr) {
                *o = *o + a * wv;
            }
        }
    }
}

/// `y[r] = b + patch(r) @ w` for output rows `r0..r0 + y.len() / cout`, one group, small patches.
/// Each output sums its taps in (ky, kx, c) order onto the bias, whatever the thread split.
#[inline(always)]
fn direct_rows_impl<T: GemmScalar>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    r0: usize,
    y: &mut [T],
) {
    let (kg, cout, cin) = (g.kg(), g.cout, g.cin);
    let per_img = g.oh * g.ow;
    // Patch element k = (ky, kx, c) sits at x offset `offs[k]` from the patch's top-left input.
    let mut offs = [0usize; DIRECT_MAX_KG];
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            for c in 0..cin {
                offs[(ky * g.kw + kx) * cin + c] = (ky * g.dh * g.w + kx * g.dw) * cin + c;
            }
        }
    }
    let offs = &offs[..kg];
    let span_y = (g.kh - 1) * g.dh;
    let span_x = (g.kw - 1) * g.dw;
    let mut patch = [T::ZERO; DIRECT_MAX_KG];
    // Walk (n, oy, ox) incrementally from r0: no divisions per output.
    let (mut n, rem) = (r0 / per_img, r0 % per_img);
    let (mut oy, mut ox) = (rem / g.ow, rem % g.ow);
    for out in y.chunks_exact_mut(cout) {
        let (y0, x0) = (oy * g.sh, ox * g.sw);
        let inside = y0 >= g.pad_top
            && y0 - g.pad_top + span_y < g.h
            && x0 >= g.pad_left
            && x0 - g.pad_left + span_x < g.w;
        if inside {
            // Every tap is in the image: read them straight from x.
            let base = ((n * g.h + y0 - g.pad_top) * g.w + x0 - g.pad_left) * cin;
            let xb = &x[base..base + offs[kg - 1] + 1];
            // SAFETY: offs[k] <= offs[kg - 1] < xb.len() (offsets grow with k).
            direct_dot(
                kg,
                |k| unsafe { *xb.get_unchecked(*offs.get_unchecked(k)) },
                w,
                b,
                out,
            );
        } else {
            // Border: gather the patch with zeros for the padding.
            let mut p = 0;
            for ky in 0..g.kh {
                let iy = g.in_y(oy, ky);
                for kx in 0..g.kw {
                    match (iy, g.in_x(ox, kx)) {
                        (Some(iy), Some(ix)) => {
                            let at = ((n * g.h + iy) * g.w + ix) * cin;
                            patch[p..p + cin].copy_from_slice(&x[at..at + cin]);
                        }
                        _ => patch[p..p + cin].fill(T::ZERO),
                    }
                    p += cin;
                }
            }
            direct_dot(kg, |k| patch[k], w, b, out);
        }
        ox += 1;
        if ox == g.ow {
            ox = 0;
            oy += 1;
            if oy == g.oh {
                oy = 0;
                n += 1;
            }
        }
    }
}

crate::simd_fn!(fn direct_rows<T: GemmScalar>(g: &ConvGeom, x: &[T], w: &[T], b: Option<&[T]>, r0: usize, y: &mut [T]) => direct_rows_impl);

/// The direct forward for small patches: parallel over blocks of output rows.
///
/// # Safety
/// As [`super::conv::conv2d_forward`], with `g.groups == 1` and `g.kg() <= DIRECT_MAX_KG`.
pub(super) unsafe fn conv2d_forward_direct<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    w: *const T,
    b: Option<*const T>,
    y: *mut T,
) {
    let rows = g.n * g.oh * g.ow;
    let xs = std::slice::from_raw_parts(x, g.n * g.h * g.w * g.cin);
    let ws = std::slice::from_raw_parts(w, g.kg() * g.cout);
    let bs = b.map(|b| std::slice::from_raw_parts(b, g.cout));
    let ys = std::slice::from_raw_parts_mut(y, rows * g.cout);
    const BLOCK: usize = 256;
    let work = rows * g.kg() * g.cout;
    if rows > BLOCK && crate::threading::should_parallelize(work, 1 << 16) {
        let yp = SendPtr(ys.as_mut_ptr());
        crate::threading::for_each_task(rows.div_ceil(BLOCK), |bi| {
            let r0 = bi * BLOCK;
            let nr = BLOCK.min(rows - r0);
            // SAFETY: block bi writes only its own rows of y.
            let yb =
                unsafe { std::slice::from_raw_parts_mut(yp.get().add(r0 * g.cout), nr * g.cout) };
            direct_rows(g, xs, ws, bs, r0, yb);
        });
    } else {
        direct_rows(g, xs, ws, bs, 0, ys);
    }
}
