//! Register-blocked micro-kernels: each computes one `mr x nr` tile of C from a packed A
//! micro-panel (`kc` steps of `mr` values) and a packed B micro-panel (`kc` steps of `nr`
//! values), keeping the whole tile in registers across the `kc` loop.
//!
//! Numerics (identical in every kernel, so the tile a C element falls into never changes its
//! value): `acc = sum over p in 0..kc, in order, of a[p] * b[p]`, then
//! `c = alpha * acc` when `beta == 0` (C not read) or `c = alpha * acc + beta * c` (two products
//! and one add, never fused). The SIMD kernels use FMA in the `kc` loop, the scalar kernel a
//! multiply and an add, so the two differ by rounding only.

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
    /// Packed A micro-panel: `kc` groups of `mr` values (rows past `m` are zero padding).
    pub a: *const T,
    /// Packed B micro-panel: `kc` groups of `nr` values (columns past `n` are zero padding).
    pub b: *const T,
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
/// The packed panels hold `kc * mr` and `kc * nr` values, the `m x n` destination elements are
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
    pub micro: MicroFn<T>,
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
