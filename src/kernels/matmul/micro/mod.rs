//! Register-blocked micro-kernels: each computes one `mr x nr` tile of C from a packed A
//! micro-panel (`kc` steps of `mr` values) and a packed B micro-panel (`kc` steps of `nr`
//! values), keeping the whole tile in registers across the `kc` loop.
//!
//! Numerics (identical in every kernel, so the tile a C element falls into never changes its
//! value): `acc = sum over p in 0..kc, in order, of a[p] * b[p]`, then
//! `c = alpha * acc` when `beta == 0` (C not read) or `c = alpha * acc + beta * c` (two products
//! and one add, never fused). The SIMD kernels use FMA in the `kc` loop, the scalar kernel a
//! multiply and an add, so the two differ by rounding only.

/// Starts loading the `rows` rows of a C tile (first and last byte of each) while the `kc` loop
/// runs: with large N the rows are a page apart and mostly outside L1/L2, and the epilogue
/// would otherwise wait on a dozen misses per tile. Prefetches never fault, so a tile whose
/// rows are partly outside C (an edge tile) is harmless.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn prefetch_c(c: *const u8, rs_bytes: isize, row_bytes: usize, rows: usize) {
    use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    for i in 0..rows as isize {
        let row = c.wrapping_offset(i * rs_bytes);
        // SAFETY: prefetching never faults.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(row as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(row_bytes - 1) as *const i8);
        }
    }
}

/// How far ahead (in `kc` steps) the streaming kernels prefetch the B panel: 8 steps of a
/// 128-byte B row are 1 KiB, about 64 cycles of FMAs, several L2 latencies (measured on an
/// Emerald Rapids core, BBlockInL2 order, n = 2048, one thread: 151 -> 157-164 GFLOP/s at 8
/// steps, 160-163 at 16).
pub(crate) const B_PREFETCH_STEPS: usize = 8;

/// Prefetches the B row `B_PREFETCH_STEPS` steps past `b` (steps `rs_b` values apart; the row
/// is `row_bytes` long, at most two cache lines) into L1. Prefetches never fault, so running
/// past the panel's end is harmless.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn prefetch_b<T>(b: *const T, rs_b: isize, row_bytes: usize) {
    use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    let step = rs_b.wrapping_mul(std::mem::size_of::<T>() as isize);
    let ahead = b.wrapping_byte_offset(step.wrapping_mul(B_PREFETCH_STEPS as isize)) as *const u8;
    // SAFETY: prefetching never faults.
    unsafe {
        _mm_prefetch::<_MM_HINT_T0>(ahead as *const i8);
        if row_bytes > 64 {
            _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64) as *const i8);
        }
    }
}

/// Defines an x86 micro-kernel `$name` (safe-to-store `MicroFn`) for an `$mr x 2*$lanes` tile:
/// `$mr` rows of two vectors of `$lanes` values, accumulated with FMAs over the packed panels,
/// then written with the epilogue of the module note (full tiles with contiguous rows directly
/// from registers, partial or strided tiles through [`store_tile`]). The AVX2 and AVX-512
/// kernels differ only in the vector type, the intrinsics and the tile shape.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_micro_kernel {
    (
        $name:ident, $name_pf:ident, $t:ty, $feature:literal, mr = $mr:expr, lanes = $lanes:expr,
        zero = $zero:path, load = $load:path, splat = $splat:path, fma = $fma:path,
        mul = $mul:path, add = $add:path, store = $store:path
    ) => {
        /// # Safety
        /// See [`MicroFn`](crate::kernels::matmul::micro::MicroFn); the CPU supports the
        /// kernel's instruction set.
        unsafe fn $name(t: &$crate::kernels::matmul::micro::MicroTile<$t>) {
            $name::dispatch::<false>(t)
        }

        /// [`$name`] with a software prefetch of the B panel `B_PREFETCH_STEPS` steps ahead, for
        /// the `BBlockInL2` order (B micro-panels stream from L2 rather than sit in L1).
        ///
        /// # Safety
        /// As for the plain kernel.
        unsafe fn $name_pf(t: &$crate::kernels::matmul::micro::MicroTile<$t>) {
            $name::dispatch::<true>(t)
        }

        /// The shared body of both entry points (a module of the entry point's name: functions
        /// and modules live in different namespaces).
        mod $name {
            use super::*;

            // A tile with few real rows (the bottom edge of C: a batch of 32 leaves 2 rows below
            // five 6-row tiles) runs a shorter kernel instead of multiplying zero padding. Each
            // element's accumulation is the same chain of FMAs in every variant (prefetching
            // included), so results do not depend on which one ran.
            #[inline(always)]
            pub(super) unsafe fn dispatch<const PF: bool>(
                t: &$crate::kernels::matmul::micro::MicroTile<$t>,
            ) {
                // `R` rows are computed; packed A panels keep their `$mr`-row stride (see below).
                #[target_feature(enable = $feature)]
                unsafe fn body<const R: usize, const PF: bool>(
                    t: &$crate::kernels::matmul::micro::MicroTile<$t>,
                ) {
                    const NR: usize = 2 * $lanes;
                    let size = std::mem::size_of::<$t>();
                    $crate::kernels::matmul::micro::prefetch_c(
                        t.c as *const u8,
                        t.rs_c * size as isize,
                        NR * size,
                        R,
                    );
                    let mut acc = [[$zero(); 2]; R];
                    let mut b = t.b;
                    if t.rs_a == 1 && t.cs_a == $mr as isize {
                        // Packed A panel: one pointer bumped by `mr` per step.
                        let mut a = t.a;
                        for _ in 0..t.kc {
                            if PF {
                                $crate::kernels::matmul::micro::prefetch_b(b, t.rs_b, NR * size);
                            }
                            let b0 = $load(b);
                            let b1 = $load(b.add($lanes));
                            // Fully unrolled by the compiler (R is a constant).
                            for (i, row) in acc.iter_mut().enumerate() {
                                let ai = $splat(*a.add(i));
                                row[0] = $fma(ai, b0, row[0]);
                                row[1] = $fma(ai, b1, row[1]);
                            }
                            a = a.add($mr);
                            // Wrapping: B read in place ends past its last row.
                            b = b.wrapping_offset(t.rs_b);
                        }
                    } else {
                        // A read in place: one pointer per row and a shared offset along the depth.
                        let rows: [*const $t; R] =
                            core::array::from_fn(|i| t.a.wrapping_offset(i as isize * t.rs_a));
                        let mut off = 0isize;
                        for _ in 0..t.kc {
                            if PF {
                                $crate::kernels::matmul::micro::prefetch_b(b, t.rs_b, NR * size);
                            }
                            let b0 = $load(b);
                            let b1 = $load(b.add($lanes));
                            for (i, row) in acc.iter_mut().enumerate() {
                                let ai = $splat(*rows[i].offset(off));
                                row[0] = $fma(ai, b0, row[0]);
                                row[1] = $fma(ai, b1, row[1]);
                            }
                            off += t.cs_a;
                            // Wrapping: B read in place ends past its last row.
                            b = b.wrapping_offset(t.rs_b);
                        }
                    }
                    if t.m == R && t.n == NR && t.cs_c == 1 {
                        let alpha = $splat(t.alpha);
                        let beta = $splat(t.beta);
                        let read_c = t.beta != 0.0;
                        for (i, row) in acc.iter().enumerate() {
                            let c = t.c.offset(i as isize * t.rs_c);
                            for (h, v) in row.iter().enumerate() {
                                let dst = c.add($lanes * h);
                                let mut r = $mul(alpha, *v);
                                if read_c {
                                    r = $add(r, $mul(beta, $load(dst)));
                                }
                                $store(dst, r);
                            }
                        }
                    } else {
                        // Partial tile or strided C: spill the raw sums and let the shared epilogue
                        // write them (same alpha/beta operations as the fast path above).
                        let mut tile = [0.0 as $t; $mr * NR];
                        for (i, row) in acc.iter().enumerate() {
                            $store(tile.as_mut_ptr().add(i * NR), row[0]);
                            $store(tile.as_mut_ptr().add(i * NR + $lanes), row[1]);
                        }
                        $crate::kernels::matmul::micro::store_tile(t, &tile, NR);
                    }
                }
                match t.m {
                    0..=2 => body::<2, PF>(t),
                    3..=4 => body::<4, PF>(t),
                    5..=6 if $mr > 6 => body::<6, PF>(t),
                    _ => body::<{ $mr }, PF>(t),
                }
            }
        }
    };
}

pub mod scalar;

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;

use super::isa::Isa;
use super::GemmScalar;

/// One micro-kernel call: the packed panels, the destination and how much of the tile is real.
pub struct MicroTile<T> {
    /// Depth of the packed panels.
    pub kc: usize,
    /// A micro-panel: element `(i, p)` (row `i < mr`, depth `p < kc`) at `a + i*rs_a + p*cs_a`.
    /// Packed panels (`rs_a = 1`, `cs_a = mr`) zero-pad the rows past `m`; A read in place
    /// (any other strides) is only passed for full panels (`m == mr`).
    pub a: *const T,
    pub rs_a: isize,
    pub cs_a: isize,
    /// B micro-panel: `kc` rows of `nr` contiguous values, row `p` at `b + p*rs_b`. Packed
    /// panels (`rs_b = nr`) zero-pad the columns past `n`; B read in place (`rs_b` = its row
    /// stride) is only passed for full panels (`n == nr`).
    pub b: *const T,
    pub rs_b: isize,
    /// Top-left element of the destination tile in C.
    pub c: *mut T,
    pub rs_c: isize,
    pub cs_c: isize,
    /// Rows (<= mr) and columns (<= nr) of the tile that exist in C.
    pub m: usize,
    pub n: usize,
    pub alpha: T,
    pub beta: T,
}

/// A micro-kernel entry point.
///
/// # Safety
/// The A panel's `mr x kc` elements (through its strides) and the packed B panel's `kc * nr`
/// values are readable, the `m x n` destination elements are
/// valid for reads and writes (reads only when `beta != 0`), and the CPU supports the kernel's ISA.
pub type MicroFn<T> = unsafe fn(&MicroTile<T>);

/// A micro-kernel with its tile shape and the cache blocking chosen for it.
#[derive(Clone, Copy)]
pub struct Kernel<T> {
    pub isa: Isa,
    /// Tile rows and columns.
    pub mr: usize,
    pub nr: usize,
    /// Rows of A packed per block (L2-resident), a multiple of `mr`.
    pub mc: usize,
    /// Depth of one packed block (the A and B micro-panels live in L1 across it).
    pub kc: usize,
    /// Columns of B packed per block (L3-resident), a multiple of `nr`.
    pub nc: usize,
    /// Which block stays in L2 (`blocking.rs`); the constructors give the measured
    /// `ABlockInL2` blocking, `blocking::apply` replaces it where the caches call for it.
    pub order: super::blocking::Order,
    pub micro: MicroFn<T>,
    /// The same kernel prefetching the B panel ahead, for `Order::BBlockInL2` (the scalar
    /// kernel passes itself).
    pub micro_streaming_b: MicroFn<T>,
}

/// Writes an accumulated tile (row-major, row stride `ld`) to C with the epilogue above.
/// Shared by every kernel for partial tiles and non-unit column strides.
///
/// # Safety
/// As for [`MicroFn`]; `acc` holds at least `t.m` rows of `ld` values.
#[inline]
pub unsafe fn store_tile<T: GemmScalar>(t: &MicroTile<T>, acc: &[T], ld: usize) {
    for i in 0..t.m {
        let row = t.c.offset(i as isize * t.rs_c);
        for j in 0..t.n {
            let dst = row.offset(j as isize * t.cs_c);
            let v = t.alpha * acc[i * ld + j];
            *dst = if t.beta == T::ZERO {
                v
            } else {
                v + t.beta * *dst
            };
        }
    }
}
