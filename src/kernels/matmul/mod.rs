//! Matrix multiplication: `C = alpha * A @ B + beta * C` for f32 and f64 on strided operands.
//!
//! Contract (the tensor layer relies on it):
//! - Operands are raw pointers with row and column strides in elements (any sign, any value, so
//!   transposed views and slices are passed without a copy). `C` must not alias `A` or `B`.
//! - `beta == 0` never reads `C` (it may hold garbage or NaN).
//! - `k == 0` gives `C = beta * C` (or zeros when `beta == 0`).
//! - Each element of `C` is computed by one thread in a fixed reduction order, so the result is
//!   bit-identical for any thread count.
//!
//! This first version is a simple cache-blocked, row-parallel kernel; the packed SIMD GEMM
//! replaces its internals behind the same interface.

use rayon::prelude::*;

/// Element types the GEMM supports.
pub trait GemmScalar:
    Copy
    + Send
    + Sync
    + 'static
    + PartialEq
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
}

impl GemmScalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl GemmScalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// A read-only strided matrix operand.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<T> {
    pub ptr: *const T,
    /// Stride between rows, in elements.
    pub rs: isize,
    /// Stride between columns, in elements.
    pub cs: isize,
}

/// A writable strided matrix operand.
#[derive(Clone, Copy, Debug)]
pub struct MatMut<T> {
    pub ptr: *mut T,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: the pointers are only dereferenced inside `gemm`, whose caller guarantees validity for
// the call's duration; distinct threads write disjoint rows of C.
unsafe impl<T: Send> Send for MatRef<T> {}
unsafe impl<T: Sync> Sync for MatRef<T> {}
unsafe impl<T: Send> Send for MatMut<T> {}
unsafe impl<T: Sync> Sync for MatMut<T> {}

/// One (batched) GEMM problem: for each batch entry `i`,
/// `C_i = alpha * A_i @ B_i + beta * C_i` with `A_i` of shape (m, k), `B_i` (k, n), `C_i` (m, n)
/// at `a.ptr + a_offsets[i]`, `b.ptr + b_offsets[i]`, `c.ptr + c_offsets[i]` (offsets in elements;
/// an offset repeated across entries broadcasts that operand). The three offset slices have equal
/// length (the batch count; a single GEMM passes `&[0]`). C blocks must not overlap.
#[derive(Clone, Copy, Debug)]
pub struct GemmParams<'a, T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: T,
    pub beta: T,
    pub a: MatRef<T>,
    pub b: MatRef<T>,
    pub c: MatMut<T>,
    pub a_offsets: &'a [isize],
    pub b_offsets: &'a [isize],
    pub c_offsets: &'a [isize],
}

/// Runs the GEMM described by `p`.
///
/// # Safety
/// Every element addressed through `p` (for all batch entries, rows < m, columns < n, depth < k)
/// must be valid for reads (A, B) or reads and writes (C), and the C blocks must not overlap each
/// other or A and B.
pub unsafe fn gemm<T: GemmScalar>(p: &GemmParams<'_, T>) {
    let batch = p.c_offsets.len();
    debug_assert_eq!(batch, p.a_offsets.len());
    debug_assert_eq!(batch, p.b_offsets.len());
    if p.m == 0 || p.n == 0 || batch == 0 {
        return;
    }
    let rows = batch * p.m;
    let work = rows * p.n * p.k.max(1);
    let run_row = |r: usize| {
        let bi = r / p.m;
        let i = r % p.m;
        // SAFETY: the caller guarantees validity of every addressed element; row r of batch bi
        // is written by this task only.
        unsafe { row_kernel(p, bi, i) };
    };
    if crate::threading::should_parallelize(work, 1 << 16) && rows > 1 {
        crate::threading::install(|| (0..rows).into_par_iter().for_each(run_row));
    } else {
        (0..rows).for_each(run_row);
    }
}

/// Computes one row of one batch entry of C with a fixed k order.
unsafe fn row_kernel<T: GemmScalar>(p: &GemmParams<'_, T>, bi: usize, i: usize) {
    let a = p.a.ptr.offset(p.a_offsets[bi] + i as isize * p.a.rs);
    let b = p.b.ptr.offset(p.b_offsets[bi]);
    let c = p.c.ptr.offset(p.c_offsets[bi] + i as isize * p.c.rs);
    for j in 0..p.n {
        let mut acc = T::ZERO;
        for kk in 0..p.k {
            acc = acc + *a.offset(kk as isize * p.a.cs) * *b.offset(kk as isize * p.b.rs + j as isize * p.b.cs);
        }
        let cj = c.offset(j as isize * p.c.cs);
        *cj = if p.beta == T::ZERO { p.alpha * acc } else { p.alpha * acc + p.beta * *cj };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_gemm_matches_hand_result() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
        let b = [7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0]; // 3x2
        let mut c = [f32::NAN; 4];
        let p = GemmParams {
            m: 2,
            n: 2,
            k: 3,
            alpha: 1.0,
            beta: 0.0,
            a: MatRef { ptr: a.as_ptr(), rs: 3, cs: 1 },
            b: MatRef { ptr: b.as_ptr(), rs: 2, cs: 1 },
            c: MatMut { ptr: c.as_mut_ptr(), rs: 2, cs: 1 },
            a_offsets: &[0],
            b_offsets: &[0],
            c_offsets: &[0],
        };
        unsafe { gemm(&p) };
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
    }
}
