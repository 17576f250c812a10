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

use super::Kernel;
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
        order: crate::kernels::matmul::blocking::Order::ABlockInL2,
        micro: micro_f32,
        micro_streaming_b: micro_f32_pf,
    }
}

/// f64 6x8: same register budget, half the lanes.
pub fn kernel_f64() -> Kernel<f64> {
    Kernel {
        isa: Isa::Avx2,
        mr: MR,
        nr: NR_F64,
        mc: 72,
        kc: 256,
        nc: 2040,
        order: crate::kernels::matmul::blocking::Order::ABlockInL2,
        micro: micro_f64,
        micro_streaming_b: micro_f64_pf,
    }
}

x86_micro_kernel!(
    micro_f32,
    micro_f32_pf,
    f32,
    "avx2,fma",
    mr = MR,
    lanes = 8,
    zero = _mm256_setzero_ps,
    load = _mm256_loadu_ps,
    splat = _mm256_set1_ps,
    fma = _mm256_fmadd_ps,
    mul = _mm256_mul_ps,
    add = _mm256_add_ps,
    store = _mm256_storeu_ps
);

x86_micro_kernel!(
    micro_f64,
    micro_f64_pf,
    f64,
    "avx2,fma",
    mr = MR,
    lanes = 4,
    zero = _mm256_setzero_pd,
    load = _mm256_loadu_pd,
    splat = _mm256_set1_pd,
    fma = _mm256_fmadd_pd,
    mul = _mm256_mul_pd,
    add = _mm256_add_pd,
    store = _mm256_storeu_pd
);

// The tile widths the blocking uses are the macro's two vectors.
const _: () = assert!(NR_F32 == 2 * 8 && NR_F64 == 2 * 4);
