//! Paths that skip packing: tiny products (packing and zero-padding a few values costs more than
//! the arithmetic) and the degenerate `k == 0` / `alpha == 0` cases (C = beta * C).

use super::loops::Single;
use super::GemmScalar;

/// Products with at most this many multiply-adds take the unpacked loop. Measured on the project
/// machine (one thread, f32, n x n x n, best of 7): unpacked 63 / 83 / 134 / 225 / 372 ns at
/// n = 2 / 4 / 6 / 8 / 10 against packed AVX2 110 / 135 / 152 / 213 / 261 ns; the packed path's
/// fixed cost (~100 ns: buffers, packing, a full zero-padded tile) is recovered at about 8^3.
pub const TINY_WORK: usize = 512;

/// Unpacked triple loop, each element reduced in depth order.
///
/// # Safety
/// As for [`super::gemm`].
pub unsafe fn tiny<T: GemmScalar>(s: &Single<T>) {
    for i in 0..s.m {
        let arow = s.a.ptr.offset(i as isize * s.a.rs);
        let crow = s.c.ptr.offset(i as isize * s.c.rs);
        for j in 0..s.n {
            let bcol = s.b.ptr.offset(j as isize * s.b.cs);
            let mut acc = T::ZERO;
            for p in 0..s.k {
                acc = acc + *arow.offset(p as isize * s.a.cs) * *bcol.offset(p as isize * s.b.rs);
            }
            let dst = crow.offset(j as isize * s.c.cs);
            let v = s.alpha * acc;
            *dst = if s.beta == T::ZERO {
                v
            } else {
                v + s.beta * *dst
            };
        }
    }
}

/// `C = beta * C` (zeros without reading C when `beta == 0`): the result when `k == 0` or
/// `alpha == 0` (A and B are then not read, as in BLAS).
///
/// # Safety
/// As for [`super::gemm`].
pub unsafe fn scale_c<T: GemmScalar>(s: &Single<T>) {
    for i in 0..s.m {
        let crow = s.c.ptr.offset(i as isize * s.c.rs);
        for j in 0..s.n {
            let dst = crow.offset(j as isize * s.c.cs);
            *dst = if s.beta == T::ZERO {
                T::ZERO
            } else {
                s.beta * *dst
            };
        }
    }
}
