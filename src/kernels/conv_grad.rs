//! The two gradients of the 2-D convolution in `conv.rs` (same math, layouts and geometry):
//! the input gradient `dx` (also the forward pass of a transposed conv) and the weight gradient
//! `dw`. See `conv.rs` for the tiling, threading and determinism rules they share.

use super::conv::{conv2d_forward, im2col, tile_rows, ConvGeom, SCRATCH};
use super::iter::SendPtr;
use super::matmul::scratch::{with_buffer, Slot};
use super::matmul::{gemm, gemm_serial, GemmParams, GemmScalar, MatMut, MatRef, PackedB};

/// Target size of the weight-gradient patch buffer (one buffer, reused tile after tile).
const SCRATCH_WGRAD: usize = 1 << 18;
/// The weight gradient is summed in at most this many fixed partial accumulators...
const WGRAD_MAX_PARTS: usize = 8;
/// ...holding at most this many elements in all (beyond it, one accumulator and per-tile
/// parallelism inside the gather and the GEMM).
const WGRAD_PARTIALS_ELEMS: usize = 1 << 21;

/// The stride-1 input gradient runs as a forward conv (`ConvGeom::adjoint_as_forward`) only
/// with at least this many input channels: that GEMM has `cin` columns and `kh*kw*cout` depth,
/// the scatter form `kh*kw*cin` columns and `cout` depth, and a micro-kernel tile is 16-32
/// columns wide, so with few input channels most of the gather form's tile would be padding
/// (cnn_mid, cin 32: fwd+dx 12.9 -> 11.3 ms; MNIST's first layer, cin 1: 2.9 -> 8.0 ms).
pub(super) const ADJOINT_MIN_CIN: usize = 32;

/// The input gradient `dx = conv_adjoint(dy, w)` (also the forward pass of a transposed conv).
///
/// # Safety
/// As [`conv2d_forward`], with `dy` (n, oh, ow, cout) read and `dx` (n, h, w, cin) written.
pub unsafe fn conv2d_backward_input<T: GemmScalar>(
    g: &ConvGeom,
    dy: *const T,
    w: *const T,
    dx: *mut T,
) {
    let in_elems = g.n * g.h * g.w * g.cin;
    let (cig, cog, kg, groups) = (g.cig(), g.cog(), g.kg(), g.groups);
    let rows = g.n * g.oh * g.ow;
    if g.pointwise() {
        // dx_g = dy_g @ w_g^T: w_g^T (cog, cig) reads w with rs = 1, cs = cout.
        let ao: Vec<isize> = (0..groups).map(|gi| (gi * cog) as isize).collect();
        let co: Vec<isize> = (0..groups).map(|gi| (gi * cig) as isize).collect();
        let p = GemmParams {
            m: rows,
            n: cig,
            k: cog,
            alpha: T::ONE,
            beta: T::ZERO,
            a: MatRef {
                ptr: dy,
                rs: g.cout as isize,
                cs: 1,
            },
            b: MatRef {
                ptr: w,
                rs: 1,
                cs: g.cout as isize,
            },
            c: MatMut {
                ptr: dx,
                rs: g.cin as isize,
                cs: 1,
            },
            a_offsets: &ao,
            b_offsets: &ao,
            c_offsets: &co,
        };
        gemm(&p);
        return;
    }
    if let Some(gt) = g.adjoint_as_forward().filter(|_| g.cin >= ADJOINT_MIN_CIN) {
        // Stride 1: dx is a forward conv of dy with the flipped, transposed kernel; gathering
        // (no col2im scatter, no zero fill, the forward's packed weights and in-place A).
        let taps = g.kh * g.kw;
        let mut wt = vec![T::ZERO; taps * g.cout * g.cin];
        for tap in 0..taps {
            let flipped = taps - 1 - tap;
            for c in 0..g.cin {
                for j in 0..g.cout {
                    wt[(flipped * g.cout + j) * g.cin + c] = *w.add((tap * g.cin + c) * g.cout + j);
                }
            }
        }
        conv2d_forward(&gt, dy, wt.as_ptr(), None, dx);
        return;
    }
    std::slice::from_raw_parts_mut(dx, in_elems).fill(T::ZERO);
    let per_img = g.oh * g.ow;
    if per_img == 0 || g.cout == 0 || kg == 0 {
        return;
    }
    let t = tile_rows(kg * groups, SCRATCH).min(per_img);
    let ao: Vec<isize> = (0..groups).map(|gi| (gi * cog) as isize).collect();
    let co: Vec<isize> = (0..groups).map(|gi| (gi * t * kg) as isize).collect();
    let (dys, ws, dxs) = (SendPtr(dy as *mut T), SendPtr(w as *mut T), SendPtr(dx));
    let par = g.n > 1 && crate::threading::should_parallelize(rows * kg * g.cout, 1 << 16);
    // Every tile multiplies by the same w^T (cout x kg): pack it once (one group).
    let packed = (groups == 1 && (par || rows > t)).then(|| {
        let b = MatRef {
            ptr: w,
            rs: 1,
            cs: g.cout as isize,
        };
        PackedB::new(b, g.cout, kg)
    });
    let image = |s: *mut T, n: usize| {
        let dximg = unsafe { dxs.get().add(n * g.h * g.w * g.cin) };
        let mut q0 = 0;
        while q0 < per_img {
            // Level 1: one tile of this image's output positions, in order.
            let m = t.min(per_img - q0);
            // SAFETY: rows are inside dy; s holds groups*t*kg elements; only this task writes
            // image n of dx.
            unsafe {
                let p = GemmParams {
                    m,
                    n: kg,
                    k: cog,
                    alpha: T::ONE,
                    beta: T::ZERO,
                    a: MatRef {
                        ptr: dys.get().add((n * per_img + q0) * g.cout),
                        rs: g.cout as isize,
                        cs: 1,
                    },
                    b: MatRef {
                        ptr: ws.get(),
                        rs: 1,
                        cs: g.cout as isize,
                    },
                    c: MatMut {
                        ptr: s,
                        rs: kg as isize,
                        cs: 1,
                    },
                    a_offsets: &ao,
                    b_offsets: &ao,
                    c_offsets: &co,
                };
                if let Some(pb) = &packed {
                    pb.gemm_serial(m, T::ONE, p.a, T::ZERO, p.c);
                } else if par {
                    gemm_serial(&p);
                } else {
                    gemm(&p);
                }
                col2im_add(g, s, q0, m, t, dximg);
            }
            q0 += m;
        }
    };
    // The GEMM writes (beta = 0) every element of the rows col2im reads.
    let with_patch = |f: &dyn Fn(*mut T)| with_buffer::<T, _>(Slot::Patch, groups * t * kg, f);
    if par {
        crate::threading::for_each_task(g.n, |n| with_patch(&|s| image(s, n)));
    } else {
        with_patch(&|s| (0..g.n).for_each(|n| image(s, n)));
    }
}

/// Adds patch rows `0..m` (output positions `q0..q0+m` of one image) back into that image.
///
/// # Safety
/// `s` holds a (groups, t, kg) tile; `dximg` one image of dx, written by this caller only.
unsafe fn col2im_add<T: GemmScalar>(
    g: &ConvGeom,
    s: *const T,
    q0: usize,
    m: usize,
    t: usize,
    dximg: *mut T,
) {
    let (cig, kg) = (g.cig(), g.kg());
    for i in 0..m {
        let q = q0 + i;
        let (oy, ox) = (q / g.ow, q % g.ow);
        for ky in 0..g.kh {
            let Some(iy) = g.in_y(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.in_x(ox, kx) else { continue };
                let col = (ky * g.kw + kx) * cig;
                let dst = dximg.add((iy * g.w + ix) * g.cin);
                for gi in 0..g.groups {
                    let src = s.add(gi * t * kg + i * kg + col);
                    let d = dst.add(gi * cig);
                    for c in 0..cig {
                        *d.add(c) = *d.add(c) + *src.add(c);
                    }
                }
            }
        }
    }
}

/// `dst += patch^T @ dy[r0..r0 + m]` per group (`beta = 1`): one tile of the weight gradient,
/// on the calling thread (`serial`) or split by the GEMM.
///
/// # Safety
/// `s` holds the tile's patches (groups, t, kg) at the group offsets `ao`; `dy` is the full
/// output gradient; `dst` a (kh, kw, cig, cout) accumulator with group offsets `bo`.
#[allow(clippy::too_many_arguments)]
unsafe fn wgrad_tile<T: GemmScalar>(
    g: &ConvGeom,
    s: *const T,
    dy: *const T,
    r0: usize,
    m: usize,
    dst: *mut T,
    (ao, bo): (&[isize], &[isize]),
    serial: bool,
) {
    let p = GemmParams {
        m: g.kg(),
        n: g.cog(),
        k: m,
        alpha: T::ONE,
        beta: T::ONE,
        a: MatRef {
            ptr: s,
            rs: 1,
            cs: g.kg() as isize,
        },
        b: MatRef {
            ptr: dy.add(r0 * g.cout),
            rs: g.cout as isize,
            cs: 1,
        },
        c: MatMut {
            ptr: dst,
            rs: g.cout as isize,
            cs: 1,
        },
        a_offsets: ao,
        b_offsets: bo,
        c_offsets: bo,
    };
    if serial {
        gemm_serial(&p);
    } else {
        gemm(&p);
    }
}

/// The weight gradient `dw = sum over output positions of patch^T @ dy` (per group).
///
/// # Safety
/// As [`conv2d_forward`], with `x` and `dy` read and `dw` (kh, kw, cig, cout) written.
pub unsafe fn conv2d_backward_weight<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    dy: *const T,
    dw: *mut T,
) {
    let (cig, cog, kg, groups) = (g.cig(), g.cog(), g.kg(), g.groups);
    let rows = g.n * g.oh * g.ow;
    std::slice::from_raw_parts_mut(dw, kg * g.cout).fill(T::ZERO);
    if rows == 0 || g.cout == 0 || kg == 0 {
        return;
    }
    let bo: Vec<isize> = (0..groups).map(|gi| (gi * cog) as isize).collect();
    if g.pointwise() {
        // dw_g (cig, cog) = x_g^T @ dy_g over all positions at once.
        let ao: Vec<isize> = (0..groups).map(|gi| (gi * cig) as isize).collect();
        let p = GemmParams {
            m: cig,
            n: cog,
            k: rows,
            alpha: T::ONE,
            beta: T::ZERO,
            a: MatRef {
                ptr: x,
                rs: 1,
                cs: g.cin as isize,
            },
            b: MatRef {
                ptr: dy,
                rs: g.cout as isize,
                cs: 1,
            },
            c: MatMut {
                ptr: dw,
                rs: g.cout as isize,
                cs: 1,
            },
            a_offsets: &ao,
            b_offsets: &bo,
            c_offsets: &bo,
        };
        gemm(&p);
        return;
    }
    let t = tile_rows(kg * groups, SCRATCH_WGRAD).min(rows);
    let ao: Vec<isize> = (0..groups).map(|gi| (gi * t * kg) as isize).collect();
    let ntiles = rows.div_ceil(t);
    let dw_elems = kg * g.cout;
    // Fixed partial sums (their number comes from the shapes only, never the thread count, and
    // they are added in order at the end, so the result is the same for any thread count): each
    // part gathers and multiplies its own run of tiles on one thread, with no hand-off per tile.
    let parts = (WGRAD_PARTIALS_ELEMS / dw_elems.max(1))
        .clamp(1, WGRAD_MAX_PARTS)
        .min(ntiles);
    // Shapes only (not the thread count) decide the path: the two sum in different orders.
    if parts > 1 && rows * kg * g.cout >= 1 << 16 {
        let mut partial = vec![T::ZERO; (parts - 1) * dw_elems];
        let (pp, dws, xs, dys) = (
            SendPtr(partial.as_mut_ptr()),
            SendPtr(dw),
            SendPtr(x as *mut T),
            SendPtr(dy as *mut T),
        );
        let per = ntiles.div_ceil(parts);
        crate::threading::for_each_task(parts, |pi| {
            with_buffer::<T, _>(Slot::Patch, groups * t * kg, |s| {
                // SAFETY: part pi writes only its own accumulator (dw itself for part 0).
                let dst = unsafe {
                    if pi == 0 {
                        dws.get()
                    } else {
                        pp.get().add((pi - 1) * dw_elems)
                    }
                };
                for ti in pi * per..((pi + 1) * per).min(ntiles) {
                    let r0 = ti * t;
                    let m = t.min(rows - r0);
                    // SAFETY: rows r0..r0+m are inside the output; s holds a full tile.
                    unsafe {
                        im2col(g, xs.get(), r0, (0, m), t, s);
                        wgrad_tile(g, s, dys.get(), r0, m, dst, (&ao, &bo), true);
                    }
                }
            })
        });
        let d = std::slice::from_raw_parts_mut(dw, dw_elems);
        for part in partial.chunks_exact(dw_elems) {
            for (a, &b) in d.iter_mut().zip(part) {
                *a = *a + b;
            }
        }
        return;
    }
    let mut s = vec![T::ZERO; groups * t * kg];
    let sp = SendPtr(s.as_mut_ptr());
    let xs = SendPtr(x as *mut T);
    let mut r0 = 0;
    while r0 < rows {
        // Level 1: tiles in a fixed order; each adds its patch^T @ dy into dw (beta = 1).
        let m = t.min(rows - r0);
        // The gather is a pure copy, so splitting it across threads cannot change the result.
        let chunk = 64;
        let nchunks = m.div_ceil(chunk);
        let fill = |c: usize| {
            let (a, b) = (c * chunk, ((c + 1) * chunk).min(m));
            // SAFETY: chunks write disjoint rows of the scratch tile.
            unsafe { im2col(g, xs.get(), r0, (a, b), t, sp.get()) };
        };
        if nchunks > 1 && crate::threading::should_parallelize(m * kg * groups, 1 << 14) {
            crate::threading::for_each_task(nchunks, fill);
        } else {
            (0..nchunks).for_each(fill);
        }
        wgrad_tile(g, s.as_ptr(), dy, r0, m, dw, (&ao, &bo), false);
        r0 += m;
    }
}
