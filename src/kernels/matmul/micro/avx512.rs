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

use super::Kernel;
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
        order: crate::kernels::matmul::blocking::Order::ABlockInL2,
        micro: micro_f32,
        micro_streaming_b: micro_f32_pf,
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
        order: crate::kernels::matmul::blocking::Order::ABlockInL2,
        micro: micro_f64,
        micro_streaming_b: micro_f64_pf,
    }
}

x86_micro_kernel!(
    micro_f32,
    micro_f32_pf,
    f32,
    "avx512f",
    mr = MR,
    lanes = 16,
    zero = _mm512_setzero_ps,
    load = _mm512_loadu_ps,
    splat = _mm512_set1_ps,
    fma = _mm512_fmadd_ps,
    mul = _mm512_mul_ps,
    add = _mm512_add_ps,
    store = _mm512_storeu_ps
);

x86_micro_kernel!(
    micro_f64,
    micro_f64_pf,
    f64,
    "avx512f",
    mr = MR,
    lanes = 8,
    zero = _mm512_setzero_pd,
    load = _mm512_loadu_pd,
    splat = _mm512_set1_pd,
    fma = _mm512_fmadd_pd,
    mul = _mm512_mul_pd,
    add = _mm512_add_pd,
    store = _mm512_storeu_pd
);

// The tile widths the blocking uses are the macro's two vectors.
const _: () = assert!(NR_F32 == 2 * 16 && NR_F64 == 2 * 8);
