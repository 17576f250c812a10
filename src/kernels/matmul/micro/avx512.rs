//! AVX-512F micro-kernels (x86-64): f32 8x32 and f64 8x16.
//!
//! Tile shape: 8 rows x 2 zmm vectors = 16 accumulators, plus 2 registers for the B row and one
//! for the broadcast A value. Each `kc` step issues 16 independent FMAs against 2 loads and 8
//! broadcasts: per flop, 2.4x fewer loads and about half the instructions of the AVX2 6x16
//! kernel. On Zen 4 a 512-bit FMA runs at the rate of two 256-bit ones, so the peak is the same;
//! the gain is front-end and load-port headroom.
//!
//! Measured on the project machine (Zen 4, GFLOP/s, square n, best of 5, noisy +-10-20%):
//! one thread, AVX2 6x16 vs this kernel: n=64 61-78 vs 74-87, 128 79-94 vs 92-103,
//! 256 87-98 vs 101-106, 512 91-93 vs 98-104, 1024 99-101 vs 100, 2048 99-101 vs 96-104;
//! two threads: 64 58 vs 75-86, 128 140-143 vs 168-174, 256 141-155 vs 192-204, 512 121-170
//! vs 212, 1024 180-192 vs 188, 2048 179-182 vs 170-184. A 12x32 tile (24 accumulators,
//! kc = 128) was slower than AVX2 everywhere (54-87 GFLOP/s on one thread): more partial tiles
//! at small sizes and twice the C traffic per flop from the shorter `kc`.
//!
//! Only reachable after `Isa::Avx512.is_supported()` returned true (see `isa.rs`).

use core::arch::x86_64::*;

use super::{store_tile, Kernel, MicroTile};
use crate::kernels::matmul::isa::Isa;

pub const MR: usize = 8;
pub const NR_F32: usize = 32;
pub const NR_F64: usize = 16;

pub fn kernel_f32() -> Kernel<f32> {
    Kernel {
        isa: Isa::Avx512,
        mr: MR,
        nr: NR_F32,
        mc: 144,
        kc: 256,
        nc: 4064,
        micro: micro_f32,
    }
}

pub fn kernel_f64() -> Kernel<f64> {
    Kernel {
        isa: Isa::Avx512,
        mr: MR,
        nr: NR_F64,
        mc: 72,
        kc: 128,
        nc: 2032,
        micro: micro_f64,
    }
}

/// As in the AVX2 kernel: start loading the C tile's rows while the `kc` loop runs.
#[inline(always)]
unsafe fn prefetch_c(c: *const u8, rs_bytes: isize, row_bytes: usize) {
    for i in 0..MR as isize {
        let row = c.wrapping_offset(i * rs_bytes);
        _mm_prefetch::<_MM_HINT_T0>(row as *const i8);
        _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(row_bytes - 1) as *const i8);
    }
}

/// # Safety
/// See [`super::MicroFn`]; the CPU supports AVX-512F.
unsafe fn micro_f32(t: &MicroTile<f32>) {
    micro_f32_impl(t)
}

#[target_feature(enable = "avx512f")]
unsafe fn micro_f32_impl(t: &MicroTile<f32>) {
    prefetch_c(t.c as *const u8, t.rs_c * 4, NR_F32 * 4);
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    let mut a = t.a;
    let mut b = t.b;
    for _ in 0..t.kc {
        let b0 = _mm512_loadu_ps(b);
        let b1 = _mm512_loadu_ps(b.add(16));
        // Fully unrolled by the compiler (MR is a constant): 8 broadcasts, 16 FMAs.
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm512_set1_ps(*a.add(i));
            row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
            row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
        }
        a = a.add(MR);
        b = b.add(NR_F32);
    }
    let alpha = _mm512_set1_ps(t.alpha);
    if t.m == MR && t.n == NR_F32 && t.cs_c == 1 {
        let read_c = t.beta != 0.0;
        let beta = _mm512_set1_ps(t.beta);
        for (i, row) in acc.iter().enumerate() {
            let c = t.c.offset(i as isize * t.rs_c);
            for (h, v) in row.iter().enumerate() {
                let dst = c.add(16 * h);
                let mut r = _mm512_mul_ps(alpha, *v);
                if read_c {
                    r = _mm512_add_ps(r, _mm512_mul_ps(beta, _mm512_loadu_ps(dst)));
                }
                _mm512_storeu_ps(dst, r);
            }
        }
    } else {
        // Partial tile or strided C: the shared epilogue (same alpha/beta operations).
        let mut tile = [0.0f32; MR * NR_F32];
        for (i, row) in acc.iter().enumerate() {
            _mm512_storeu_ps(tile.as_mut_ptr().add(i * NR_F32), row[0]);
            _mm512_storeu_ps(tile.as_mut_ptr().add(i * NR_F32 + 16), row[1]);
        }
        store_tile(t, &tile, NR_F32);
    }
}

/// # Safety
/// See [`super::MicroFn`]; the CPU supports AVX-512F.
unsafe fn micro_f64(t: &MicroTile<f64>) {
    micro_f64_impl(t)
}

#[target_feature(enable = "avx512f")]
unsafe fn micro_f64_impl(t: &MicroTile<f64>) {
    prefetch_c(t.c as *const u8, t.rs_c * 8, NR_F64 * 8);
    let mut acc = [[_mm512_setzero_pd(); 2]; MR];
    let mut a = t.a;
    let mut b = t.b;
    for _ in 0..t.kc {
        let b0 = _mm512_loadu_pd(b);
        let b1 = _mm512_loadu_pd(b.add(8));
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = _mm512_set1_pd(*a.add(i));
            row[0] = _mm512_fmadd_pd(ai, b0, row[0]);
            row[1] = _mm512_fmadd_pd(ai, b1, row[1]);
        }
        a = a.add(MR);
        b = b.add(NR_F64);
    }
    let alpha = _mm512_set1_pd(t.alpha);
    if t.m == MR && t.n == NR_F64 && t.cs_c == 1 {
        let read_c = t.beta != 0.0;
        let beta = _mm512_set1_pd(t.beta);
        for (i, row) in acc.iter().enumerate() {
            let c = t.c.offset(i as isize * t.rs_c);
            for (h, v) in row.iter().enumerate() {
                let dst = c.add(8 * h);
                let mut r = _mm512_mul_pd(alpha, *v);
                if read_c {
                    r = _mm512_add_pd(r, _mm512_mul_pd(beta, _mm512_loadu_pd(dst)));
                }
                _mm512_storeu_pd(dst, r);
            }
        }
    } else {
        let mut tile = [0.0f64; MR * NR_F64];
        for (i, row) in acc.iter().enumerate() {
            _mm512_storeu_pd(tile.as_mut_ptr().add(i * NR_F64), row[0]);
            _mm512_storeu_pd(tile.as_mut_ptr().add(i * NR_F64 + 8), row[1]);
        }
        store_tile(t, &tile, NR_F64);
    }
}
