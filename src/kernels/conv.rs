//! 2-D convolution (channels-last) as GEMM-shaped work: forward here, input and weight gradients in
//! `conv_grad.rs`.
//!
//! Math (cross-correlation, as Keras/TF/PyTorch compute it), for group `g` with
//! `cig = cin / groups` input and `cog = cout / groups` output channels per group:
//! `y[n, oy, ox, g*cog + j] = b[g*cog + j]
//!     + sum_{ky, kx, c} x[n, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl, g*cig + c] * w[ky, kx, c, g*cog + j]`
//! where out-of-range input positions read as zero (implicit zero padding). Only the top/left
//! padding is needed: positions past the bottom/right edge are simply skipped, and the output size
//! `(oh, ow)` is given by the caller (so the same geometry also describes a transposed conv).
//!
//! Layout: `x` is contiguous (n, h, w, cin); `w` contiguous (kh, kw, cig, cout) as Keras stores it,
//! i.e. per group a (kh*kw*cig, cog) matrix with row stride `cout`; `y` contiguous (n, oh, ow, cout).
//! The "patch" matrix of group g has one row per output position and columns ordered (ky, kx, c),
//! matching the weight rows, so `Y_g = P_g @ W_g`.
//!
//! Aliasing: outputs never alias inputs.
//!
//! Performance: a 1x1, stride-1, unpadded conv is a plain GEMM on the input (no copy). A forward
//! conv whose patch is at most `DIRECT_MAX_KG` values (first layers) runs the direct kernel in
//! `conv_direct.rs`. Otherwise the patches of one tile of output rows at a time are gathered
//! (im2col) into a scratch buffer of at most `SCRATCH` elements per task, never the full
//! kh*kw-times-larger patch tensor.
//! Forward parallelises over tiles and the input gradient over images (col2im adds overlap only
//! within an image); each tile's GEMM then runs on its task's thread (`gemm_serial`: splitting
//! it again re-packed the weights per task; cnn_mid input gradient 8.4 -> 5.9 ms). The weight
//! gradient splits the tiles into up to `WGRAD_MAX_PARTS` fixed runs, each summed on one thread
//! into its own accumulator, the accumulators added in order at the end (their number depends on
//! the shapes only); when the accumulators would be too big it walks tiles in order with
//! `beta = 1` and parallel gather and GEMM. Tile sizes are constants, so every output element's
//! reduction order, and hence the result, is the same for any thread count.
//! Rejected: one whole-tensor im2col (kh*kw times the input's memory), and per-thread partial
//! weight gradients (their order would depend on the thread count).

use super::conv_direct::DIRECT_MAX_KG;
use super::iter::SendPtr;
use super::matmul::scratch::{with_buffer, Slot};
use super::matmul::{gemm, gemm_serial, GemmParams, GemmScalar, MatMut, MatRef, PackedB};

pub use super::conv_grad::{conv2d_backward_input, conv2d_backward_weight};

/// Target size (elements) of one task's patch scratch buffer.
pub(super) const SCRATCH: usize = 1 << 16;

/// Output rows per task of a 1x1 conv with a bias (each task's rows get their bias while in
/// cache; 256 rows of 256 channels are 256 KiB).
const POINTWISE_TILE_ROWS: usize = 256;

/// Everything a conv kernel needs to know about the problem (all sizes validated by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub cin: usize,
    pub oh: usize,
    pub ow: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub groups: usize,
}

impl ConvGeom {
    /// Whether each group has one input channel (depthwise; `depthwise.rs` runs it).
    pub fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.cin == self.groups
    }
    #[inline]
    pub(super) fn cig(&self) -> usize {
        self.cin / self.groups
    }
    #[inline]
    pub(super) fn cog(&self) -> usize {
        self.cout / self.groups
    }
    /// Columns of one group's patch matrix.
    #[inline]
    pub(crate) fn kg(&self) -> usize {
        self.kh * self.kw * self.cig()
    }
    /// For a stride-1, ungrouped, non-pointwise conv whose padding is at most the dilated
    /// kernel extent: the geometry of the forward conv that computes its input gradient,
    /// `dx[iy, ix, c] = sum over (ky', kx', j) of dy[iy + ky'*dh - pt', ix + kx'*dw - pl', j] *
    /// w[kh-1-ky', kw-1-kx', c, j]` with `pt' = (kh-1)*dh - pt` (and the same along x): dy is
    /// its input, dx its output, the flipped and transposed kernel (kh, kw, cout, cin) its weight.
    pub(super) fn adjoint_as_forward(&self) -> Option<ConvGeom> {
        let ext_h = (self.kh - 1) * self.dh;
        let ext_w = (self.kw - 1) * self.dw;
        (self.sh == 1
            && self.sw == 1
            && self.groups == 1
            && !self.pointwise()
            && self.pad_top <= ext_h
            && self.pad_left <= ext_w)
            .then(|| ConvGeom {
                n: self.n,
                h: self.oh,
                w: self.ow,
                cin: self.cout,
                oh: self.h,
                ow: self.w,
                cout: self.cin,
                kh: self.kh,
                kw: self.kw,
                sh: 1,
                sw: 1,
                dh: self.dh,
                dw: self.dw,
                pad_top: ext_h - self.pad_top,
                pad_left: ext_w - self.pad_left,
                groups: 1,
            })
    }
    /// Whether the patch matrix is the input itself.
    pub(super) fn pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.pad_top == 0
            && self.pad_left == 0
            && self.oh == self.h
            && self.ow == self.w
    }
    /// Input row (or column) read by output index `o` at kernel tap `k`, if inside the image
    /// (saturating: absurd dilations must give "outside", never wrap).
    #[inline]
    pub(crate) fn in_y(&self, o: usize, k: usize) -> Option<usize> {
        let v = (o * self.sh)
            .saturating_add(k * self.dh)
            .checked_sub(self.pad_top)?;
        (v < self.h).then_some(v)
    }
    #[inline]
    pub(crate) fn in_x(&self, o: usize, k: usize) -> Option<usize> {
        let v = (o * self.sw)
            .saturating_add(k * self.dw)
            .checked_sub(self.pad_left)?;
        (v < self.w).then_some(v)
    }
}

/// Rows per tile for a patch matrix of `cols` columns in total and a scratch budget.
pub(super) fn tile_rows(cols: usize, budget: usize) -> usize {
    (budget / cols.max(1)).clamp(8, 4096)
}

/// Gathers patch rows `i0..i1` of a tile starting at output row `r0` into `s`, laid out as
/// (groups, t, kg) (`t` = the tile's row capacity).
///
/// # Safety
/// `x` valid for the geometry's input; `s` valid for groups*t*kg writes; rows inside the output.
pub(super) unsafe fn im2col<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    r0: usize,
    (i0, i1): (usize, usize),
    t: usize,
    s: *mut T,
) {
    let (cig, kg) = (g.cig(), g.kg());
    let per_img = g.oh * g.ow;
    for i in i0..i1 {
        // Level 1: one output position.
        let r = r0 + i;
        let (n, rem) = (r / per_img, r % per_img);
        let (oy, ox) = (rem / g.ow, rem % g.ow);
        let x0 = (ox * g.sw).checked_sub(g.pad_left);
        let row_inside = g.groups == 1 && g.dw == 1 && matches!(x0, Some(x0) if x0 + g.kw <= g.w);
        for ky in 0..g.kh {
            // Level 2: one kernel tap.
            let iy = g.in_y(oy, ky);
            if let (true, Some(iy), Some(x0)) = (row_inside, iy, x0) {
                // The kw taps of this kernel row are adjacent in the input: one copy of kw*cin.
                let src = x.add(((n * g.h + iy) * g.w + x0) * g.cin);
                let dst = s.add(i * kg + ky * g.kw * cig);
                std::ptr::copy_nonoverlapping(src, dst, g.kw * cig);
                continue;
            }
            for kx in 0..g.kw {
                let col = (ky * g.kw + kx) * cig;
                let src = match (iy, g.in_x(ox, kx)) {
                    (Some(iy), Some(ix)) => Some(x.add(((n * g.h + iy) * g.w + ix) * g.cin)),
                    _ => None,
                };
                for gi in 0..g.groups {
                    // Level 3: one group's channel run.
                    let dst = s.add(gi * t * kg + i * kg + col);
                    match src {
                        Some(p) => std::ptr::copy_nonoverlapping(p.add(gi * cig), dst, cig),
                        None => std::slice::from_raw_parts_mut(dst, cig).fill(T::ZERO),
                    }
                }
            }
        }
    }
}

/// `y = conv(x, w) + b`.
///
/// # Safety
/// Pointers valid for the contiguous shapes in the module docs (`b`: cout elements); `y` does not
/// alias the inputs; the geometry is consistent (groups divide cin and cout).
pub unsafe fn conv2d_forward<T: GemmScalar>(
    g: &ConvGeom,
    x: *const T,
    w: *const T,
    b: Option<*const T>,
    y: *mut T,
) {
    let rows = g.n * g.oh * g.ow;
    if rows == 0 || g.cout == 0 {
        return;
    }
    let (cig, cog, kg, groups) = (g.cig(), g.cog(), g.kg(), g.groups);
    if groups == 1 && kg <= DIRECT_MAX_KG && !g.pointwise() {
        super::conv_direct::conv2d_forward_direct(g, x, w, b, y);
        return;
    }
    // The bias is added to each tile of output rows right after its GEMM wrote them (beta = 0),
    // while they are in cache. Filling y with the bias first and accumulating onto it (beta = 1)
    // cost a whole extra write and read of y from memory: on Emerald Rapids, 2 threads, the 1x1
    // conv 16x28x28x128->256 took 3.7 ms against 2.7 ms for the same product without it.
    let bias = b.map(|b| SendPtr(b as *mut T));
    let yb = SendPtr(y);
    let add_bias = |r0: usize, m: usize| {
        if let Some(bp) = bias {
            // SAFETY: rows r0..r0+m are inside y and written by the caller's task only; the bias
            // holds cout values.
            unsafe {
                let bs = std::slice::from_raw_parts(bp.get() as *const T, g.cout);
                let rows_out =
                    std::slice::from_raw_parts_mut(yb.get().add(r0 * g.cout), m * g.cout);
                for row in rows_out.chunks_exact_mut(g.cout) {
                    for (v, &bv) in row.iter_mut().zip(bs) {
                        *v = *v + bv;
                    }
                }
            }
        }
    };
    let beta = T::ZERO;
    let offs = |a: usize, b: usize, c: usize| -> (Vec<isize>, Vec<isize>, Vec<isize>) {
        (
            (0..groups).map(|gi| (gi * a) as isize).collect(),
            (0..groups).map(|gi| (gi * b) as isize).collect(),
            (0..groups).map(|gi| (gi * c) as isize).collect(),
        )
    };
    if g.pointwise() {
        let (ao, bo, co) = offs(cig, cog, cog);
        let whole = || {
            let p = GemmParams {
                m: rows,
                n: cog,
                k: cig,
                alpha: T::ONE,
                beta,
                a: MatRef {
                    ptr: x,
                    rs: g.cin as isize,
                    cs: 1,
                },
                b: MatRef {
                    ptr: w,
                    rs: g.cout as isize,
                    cs: 1,
                },
                c: MatMut {
                    ptr: y,
                    rs: g.cout as isize,
                    cs: 1,
                },
                a_offsets: &ao,
                b_offsets: &bo,
                c_offsets: &co,
            };
            gemm(&p);
        };
        let t = POINTWISE_TILE_ROWS.min(rows);
        let ntiles = rows.div_ceil(t);
        let par = ntiles > 1 && crate::threading::should_parallelize(rows * cig * g.cout, 1 << 16);
        if bias.is_none() || groups > 1 || !par {
            whole();
            add_bias(0, rows);
            return;
        }
        // With a bias: row tiles in parallel, each a product on the shared packed weights and
        // then its bias while the tile is in cache.
        let packed = PackedB::new(
            MatRef {
                ptr: w,
                rs: g.cout as isize,
                cs: 1,
            },
            cig,
            g.cout,
        );
        let (xs, ys) = (SendPtr(x as *mut T), SendPtr(y));
        crate::threading::for_each_task(ntiles, |ti| {
            let r0 = ti * t;
            let m = t.min(rows - r0);
            // SAFETY: rows r0..r0+m are inside x and y; this task alone writes them.
            unsafe {
                let a = MatRef {
                    ptr: xs.get().add(r0 * g.cin) as *const T,
                    rs: g.cin as isize,
                    cs: 1,
                };
                let c = MatMut {
                    ptr: ys.get().add(r0 * g.cout),
                    rs: g.cout as isize,
                    cs: 1,
                };
                packed.gemm_serial(m, T::ONE, a, T::ZERO, c);
            }
            add_bias(r0, m);
        });
        return;
    }
    let t = tile_rows(kg * groups, SCRATCH).min(rows);
    let ntiles = rows.div_ceil(t);
    let (xs, ws, ys) = (SendPtr(x as *mut T), SendPtr(w as *mut T), SendPtr(y));
    let (ao, bo, co) = offs(t * kg, cog, cog);
    let par = ntiles > 1 && crate::threading::should_parallelize(rows * kg * g.cout, 1 << 16);
    // Several tiles share one weight matrix: pack it once (one group; grouped convs keep the
    // per-tile GEMM).
    let packed = (groups == 1 && (par || ntiles > 1)).then(|| {
        let b = MatRef {
            ptr: w,
            rs: g.cout as isize,
            cs: 1,
        };
        PackedB::new(b, kg, g.cout)
    });
    let tile = |s: *mut T, ti: usize| {
        let r0 = ti * t;
        let m = t.min(rows - r0);
        // SAFETY: rows r0..r0+m are inside the output; s holds groups*t*kg elements; this task
        // alone writes output rows r0..r0+m.
        unsafe {
            im2col(g, xs.get(), r0, (0, m), t, s);
            let p = GemmParams {
                m,
                n: cog,
                k: kg,
                alpha: T::ONE,
                beta,
                a: MatRef {
                    ptr: s,
                    rs: kg as isize,
                    cs: 1,
                },
                b: MatRef {
                    ptr: ws.get(),
                    rs: g.cout as isize,
                    cs: 1,
                },
                c: MatMut {
                    ptr: ys.get().add(r0 * g.cout),
                    rs: g.cout as isize,
                    cs: 1,
                },
                a_offsets: &ao,
                b_offsets: &bo,
                c_offsets: &co,
            };
            if let Some(pb) = &packed {
                pb.gemm_serial(m, T::ONE, p.a, beta, p.c);
            } else if par {
                // Tiles already run in parallel: splitting each tile's product again would
                // only re-pack the weights per task.
                gemm_serial(&p);
            } else {
                gemm(&p);
            }
        }
        add_bias(r0, m);
    };
    // Each task gathers into its thread's patch buffer (every element of a used row is
    // written by im2col, so the buffer's old contents never leak into a result).
    let with_patch = |f: &dyn Fn(*mut T)| with_buffer::<T, _>(Slot::Patch, groups * t * kg, f);
    if par {
        crate::threading::for_each_task(ntiles, |ti| with_patch(&|s| tile(s, ti)));
    } else {
        with_patch(&|s| (0..ntiles).for_each(|ti| tile(s, ti)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct 7-loop reference.
    fn reference(g: &ConvGeom, x: &[f64], w: &[f64]) -> Vec<f64> {
        let (cig, cog) = (g.cin / g.groups, g.cout / g.groups);
        let mut y = vec![0.0; g.n * g.oh * g.ow * g.cout];
        for n in 0..g.n {
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    for co in 0..g.cout {
                        let gi = co / cog;
                        let mut acc = 0.0;
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                let (Some(iy), Some(ix)) = (g.in_y(oy, ky), g.in_x(ox, kx)) else {
                                    continue;
                                };
                                for c in 0..cig {
                                    acc += x[((n * g.h + iy) * g.w + ix) * g.cin + gi * cig + c]
                                        * w[((ky * g.kw + kx) * cig + c) * g.cout + co];
                                }
                            }
                        }
                        y[((n * g.oh + oy) * g.ow + ox) * g.cout + co] = acc;
                    }
                }
            }
        }
        y
    }

    fn geom() -> ConvGeom {
        ConvGeom {
            n: 2,
            h: 7,
            w: 6,
            cin: 4,
            oh: 4,
            ow: 3,
            cout: 6,
            kh: 3,
            kw: 2,
            sh: 2,
            sw: 2,
            dh: 1,
            dw: 2,
            pad_top: 1,
            pad_left: 1,
            groups: 2,
        }
    }

    fn data(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 1) * 2654435761 + seed) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn forward_matches_direct_loops() {
        let g = geom();
        let x = data(g.n * g.h * g.w * g.cin, 1);
        let w = data(g.kh * g.kw * (g.cin / g.groups) * g.cout, 2);
        let mut y = vec![f64::NAN; g.n * g.oh * g.ow * g.cout];
        unsafe { conv2d_forward(&g, x.as_ptr(), w.as_ptr(), None, y.as_mut_ptr()) };
        for (a, b) in y.iter().zip(reference(&g, &x, &w)) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    /// Stride-1 geometries, whose input gradient runs as a forward conv of dy
    /// (`adjoint_as_forward`): dilations, asymmetric and zero padding, output smaller and larger
    /// than the input, against the direct reference through the adjoint identity.
    #[test]
    fn stride_one_input_gradient_is_the_adjoint() {
        use super::super::conv_grad::ADJOINT_MIN_CIN;
        for (kh, kw, dh, dw, pt, pl, oh, ow) in [
            (3, 3, 1, 1, 1, 1, 7, 6),
            (3, 2, 2, 1, 2, 0, 5, 5),
            (2, 3, 1, 2, 0, 4, 6, 3),
            (5, 1, 1, 1, 4, 0, 11, 6),
            (3, 3, 1, 1, 0, 0, 5, 4),
        ] {
            let g = ConvGeom {
                n: 2,
                h: 7,
                w: 6,
                cin: ADJOINT_MIN_CIN,
                oh,
                ow,
                cout: 3,
                kh,
                kw,
                sh: 1,
                sw: 1,
                dh,
                dw,
                pad_top: pt,
                pad_left: pl,
                groups: 1,
            };
            assert!(g.adjoint_as_forward().is_some());
            let x = data(g.n * g.h * g.w * g.cin, 6);
            let w = data(g.kh * g.kw * g.cin * g.cout, 7);
            let dy = data(g.n * g.oh * g.ow * g.cout, 8);
            let mut dx = vec![f64::NAN; x.len()];
            unsafe { conv2d_backward_input(&g, dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr()) };
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
            // <conv(x, w), dy> == <x, dx> for every x: check with x and with unit vectors.
            assert!((dot(&reference(&g, &x, &w), &dy) - dot(&x, &dx)).abs() < 1e-9);
            for i in (0..x.len()).step_by(13) {
                let mut e = vec![0.0; x.len()];
                e[i] = 1.0;
                let want = dot(&reference(&g, &e, &w), &dy);
                assert!(
                    (want - dx[i]).abs() < 1e-12,
                    "{kh}x{kw} d{dh},{dw} p{pt},{pl}: {i}"
                );
            }
        }
    }

    /// The bias is added per tile after the tile's product: 1x1 convs split into row tiles
    /// (one group and two), and a 3x3 conv over several tiles, against the reference plus bias,
    /// on one and two threads.
    #[test]
    fn bias_is_added_once_to_every_row() {
        let shapes = [
            // (n, h, w, cin, cout, k, pad, groups)
            (3, 15, 14, 8, 24, 1, 0, 1),
            (2, 17, 9, 8, 12, 1, 0, 2),
            (2, 23, 21, 16, 40, 3, 1, 1),
        ];
        for (n, h, w, cin, cout, k, pad, groups) in shapes {
            let g = ConvGeom {
                n,
                h,
                w,
                cin,
                oh: h + 2 * pad - (k - 1),
                ow: w + 2 * pad - (k - 1),
                cout,
                kh: k,
                kw: k,
                sh: 1,
                sw: 1,
                dh: 1,
                dw: 1,
                pad_top: pad,
                pad_left: pad,
                groups,
            };
            let x = data(g.n * g.h * g.w * g.cin, 11);
            let wt = data(g.kh * g.kw * (g.cin / g.groups) * g.cout, 12);
            let b = data(g.cout, 13);
            let want: Vec<f64> = reference(&g, &x, &wt)
                .iter()
                .enumerate()
                .map(|(i, v)| v + b[i % g.cout])
                .collect();
            let (one, two) = crate::kernels::matmul::tests::with_threads(|| {
                let mut y = vec![f64::NAN; want.len()];
                unsafe {
                    conv2d_forward(
                        &g,
                        x.as_ptr(),
                        wt.as_ptr(),
                        Some(b.as_ptr()),
                        y.as_mut_ptr(),
                    )
                };
                y
            });
            for (i, (a, r)) in one.iter().zip(&want).enumerate() {
                assert!((a - r).abs() < 1e-12, "{g:?} [{i}]: {a} vs {r}");
            }
            assert_eq!(one, two, "{g:?}: one vs two threads");
        }
    }

    #[test]
    fn backward_passes_are_adjoints() {
        // <conv(x, w), dy> == <x, dx(dy, w)> == <w, dw(x, dy)>.
        let g = geom();
        let x = data(g.n * g.h * g.w * g.cin, 3);
        let w = data(g.kh * g.kw * (g.cin / g.groups) * g.cout, 4);
        let dy = data(g.n * g.oh * g.ow * g.cout, 5);
        let y = reference(&g, &x, &w);
        let mut dx = vec![f64::NAN; x.len()];
        let mut dw = vec![f64::NAN; w.len()];
        unsafe {
            conv2d_backward_input(&g, dy.as_ptr(), w.as_ptr(), dx.as_mut_ptr());
            conv2d_backward_weight(&g, x.as_ptr(), dy.as_ptr(), dw.as_mut_ptr());
        }
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        let lhs = dot(&y, &dy);
        assert!((lhs - dot(&x, &dx)).abs() < 1e-9);
        assert!((lhs - dot(&w, &dw)).abs() < 1e-9);
    }
}
