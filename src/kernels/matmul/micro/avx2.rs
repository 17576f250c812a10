//! AVX2 + FMA micro-kernels (x86-64): f32 6x16 and f64 6x8.
//!
//! Tile shape: 6 rows x 2 vectors = 12 accumulator registers, plus 2 for the B row and 1 for the
//! broadcast A value = 15 of the 16 ymm registers. Each `kc` step issues 12 independent FMAs
//! against 2 loads and 6 broadcasts, enough chains to cover the FMA latency (4 cycles x 2 pipes =
//! 8 in flight needed) with no spills. 4x24 (also 12 accumulators) is the usual alternative; it
//! was not tried, since 6x16 already saturates the FMA units when its operands are in cache.
//!
//! Only reachable after `Isa::Avx2.is_supported()` returned true (see `isa.rs`).

use core::arch::x86_64::*;

use super::{store_tile, Kernel, MicroTile};
use crate::kernels::matmul::isa::Isa;

pub const MR: usize = 6;
pub const NR_F32: usize = 16;
pub const NR_F64: usize = 8;

/// f32 6x16 with the blocking measured on the reference machine (see the module note in
/// `matmul/mod.rs`).
pub fn kernel_f32() -> Kernel<f32> {
    Kernel {
        isa: Isa::Avx2,
        mr: MR,
        nr: NR_F32,
        mc: 144,
        kc: 256,
        nc: 4080,
        micro: micro_f32,
    }
}

/// f64 6x8: same register budget, half the lanes, so `kc` halves to keep the panels' bytes.
pub fn kernel_f64() -> Kernel<f64> {
    Kernel {
        isa: Isa::Avx2,
        mr: MR,
        nr: NR_F64,
        mc: 72,
        kc: 256,
        nc: 2040,
        micro: micro_f64,
    }
}

/// Starts loading the C tile's rows (first and last byte of each) while the `kc` loop runs:
/// with large N the rows are a page apart and mostly outside L1/L2, and the epilogue would
/// otherwise wait on up to 12 misses per tile. Prefetches never fault, so a tile whose rows are
/// partly outside C (an edge tile) is harmless.
#[inline(always)]
unsafe fn prefetch_c(c: *const u8, rs_bytes: isize, row_bytes: usize) {
    for i in 0..MR as isize {
        let row = c.wrapping_offset(i * rs_bytes);
        _mm_prefetch::<_MM_HINT_T0>(row as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(row_bytes - 1) as *const i8);
    }
}

/// # Safety
/// See [`super::MicroFn`]; the CPU supports AVX2 and FMA.
unsafe fn micro_f32(t: &MicroTile<f32>) {
    micro_f32_impl(t)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32_impl(t: &MicroTile<f32>) {
    prefetch_c(t.c as *const u8, t.rs_c * 4, NR_F32 * 4);
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    let mut a = t.a;
    let mut b = t.b;
    for _ in 0..t.kc {
        let b0 = _mm256_loadu_ps(b);
        let b1 = _mm256_loadu_ps(b.add(8));
        // Fully unrolled by the compiler (MR is a constant): 6 broadcasts, 12 FMAs.
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm256_broadcast_ss(&*a.add(i));
            row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
        }
        a = a.add(MR);
        b = b.add(NR_F32);
    }
    let alpha = _mm256_set1_ps(t.alpha);
    if t.m == MR && t.n == NR_F32 && t.cs_c == 1 {
        let read_c = t.beta != 0.0;
        let beta = _mm256_set1_ps(t.beta);
        for (i, row) in acc.iter().enumerate() {
            let c = t.c.offset(i as isize * t.rs_c);
            for (h, v) in row.iter().enumerate() {
                let dst = c.add(8 * h);
                let mut r = _mm256_mul_ps(alpha, *v);
                if read_c {
                    r = _mm256_add_ps(r, _mm256_mul_ps(beta, _mm256_loadu_ps(dst)));
                }
                _mm256_storeu_ps(dst, r);
            }
        }
    } else {
        // Partial tile or strided C: spill the raw sums and let the shared epilogue write them
        // (it applies alpha/beta with the same operations as the fast path above).
        let mut tile = [0.0f32; MR * NR_F32];
        for (i, row) in acc.iter().enumerate() {
            _mm256_storeu_ps(tile.as_mut_ptr().add(i * NR_F32), row[0]);
            _mm256_storeu_ps(tile.as_mut_ptr().add(i * NR_F32 + 8), row[1]);
        }
        store_tile(t, &tile, NR_F32);
    }
}

/// # Safety
/// See [`super::MicroFn`]; the CPU supports AVX2 and FMA.
unsafe fn micro_f64(t: &MicroTile<f64>) {
    micro_f64_impl(t)
}

#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f64_impl(t: &MicroTile<f64>) {
    prefetch_c(t.c as *const u8, t.rs_c * 8, NR_F64 * 8);
    let mut acc = [[_mm256_setzero_pd(); 2]; MR];
    let mut a = t.a;
    let mut b = t.b;
    for _ in 0..t.kc {
        let b0 = _mm256_loadu_pd(b);
        let b1 = _mm256_loadu_pd(b.add(4));
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm256_broadcast_sd(&*a.add(i));
            row[0] = _mm256_fmadd_pd(ai, b0, row[0]);
            row[1] = _mm256_fmadd_pd(ai, b1, row[1]);
        }
        a = a.add(MR);
        b = b.add(NR_F64);
    }
    let alpha = _mm256_set1_pd(t.alpha);
    if t.m == MR && t.n == NR_F64 && t.cs_c == 1 {
        let read_c = t.beta != 0.0;
        let beta = _mm256_set1_pd(t.beta);
        for (i, row) in acc.iter().enumerate() {
            let c = t.c.offset(i as isize * t.rs_c);
            for (h, v) in row.iter().enumerate() {
                let dst = c.add(4 * h);
                let mut r = _mm256_mul_pd(alpha, *v);
                if read_c {
                    r = _mm256_add_pd(r, _mm256_mul_pd(beta, _mm256_loadu_pd(dst)));
                }
                _mm256_storeu_pd(dst, r);
            }
        }
    } else {
        let mut tile = [0.0f64; MR * NR_F64];
        for (i, row) in acc.iter().enumerate() {
            _mm256_storeu_pd(tile.as_mut_ptr().add(i * NR_F64), row[0]);
            _mm256_storeu_pd(tile.as_mut_ptr().add(i * NR_F64 + 4), row[1]);
        }
        store_tile(t, &tile, NR_F64);
    }
}
