//! The naive triple loop: the scalar reference every fast path is tested against. It reads
//! operands through their strides exactly as the contract states and accumulates each element's
//! products in depth order, single-threaded, with no blocking.

use super::{GemmParams, GemmScalar};

/// `C_i = alpha * A_i @ B_i + beta * C_i` for every batch entry (`beta == 0` does not read C).
///
/// # Safety
/// The same contract as [`super::gemm`].
pub unsafe fn gemm_naive<T: GemmScalar>(p: &GemmParams<'_, T>) {
    let batch = p
        .c_offsets
        .len()
        .min(p.a_offsets.len())
        .min(p.b_offsets.len());
    for e in 0..batch {
        let a = p.a.ptr.offset(p.a_offsets[e]);
        let b = p.b.ptr.offset(p.b_offsets[e]);
        let c = p.c.ptr.offset(p.c_offsets[e]);
        for i in 0..p.m {
            for j in 0..p.n {
                let mut acc = T::ZERO;
                for kk in 0..p.k {
                    let x = *a.offset(i as isize * p.a.rs + kk as isize * p.a.cs);
                    let y = *b.offset(kk as isize * p.b.rs + j as isize * p.b.cs);
                    acc = acc + x * y;
                }
                let dst = c.offset(i as isize * p.c.rs + j as isize * p.c.cs);
                *dst = if p.beta == T::ZERO {
                    p.alpha * acc
                } else {
                    p.alpha * acc + p.beta * *dst
                };
            }
        }
    }
}
