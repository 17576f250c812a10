//! Portable micro-kernel: plain Rust, generic over the element type. It is the fallback on CPUs
//! without a SIMD kernel and the independent implementation the SIMD kernels are tested against.
//! A 4x4 tile keeps 16 accumulators, enough for the compiler to keep them in registers on any
//! target without spilling.

use super::{store_tile, Kernel, MicroTile};
use crate::kernels::matmul::isa::Isa;
use crate::kernels::matmul::GemmScalar;

pub const MR: usize = 4;
pub const NR: usize = 4;

/// The scalar kernel with blocking sized for typical L1/L2 caches (it is compute-bound well
/// below peak, so the blocking matters little).
pub fn kernel<T: GemmScalar>() -> Kernel<T> {
    Kernel {
        isa: Isa::Scalar,
        mr: MR,
        nr: NR,
        mc: 64,
        kc: 256,
        nc: 1024,
        order: crate::kernels::matmul::blocking::Order::ABlockInL2,
        micro: micro::<T>,
        micro_streaming_b: micro::<T>,
    }
}

/// # Safety
/// See [`super::MicroFn`].
unsafe fn micro<T: GemmScalar>(t: &MicroTile<T>) {
    let mut acc = [T::ZERO; MR * NR];
    let mut b = t.b;
    for p in 0..t.kc as isize {
        for i in 0..MR {
            let ai = *t.a.offset(i as isize * t.rs_a + p * t.cs_a);
            for j in 0..NR {
                acc[i * NR + j] = acc[i * NR + j] + ai * *b.add(j);
            }
        }
        b = b.wrapping_offset(t.rs_b);
    }
    store_tile(t, &acc, NR);
}
