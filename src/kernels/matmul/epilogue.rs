//! A fused epilogue for the GEMM: `C = act(A @ B + bias)`, applied to each `mr x nr` tile right
//! after its last depth block was stored, while the tile is still in L1.
//!
//! Why: a Dense layer computed as three ops (product, bias add, activation) streams its output
//! through memory three more times; on a (4096, 512) output that is as long as a quarter of the
//! product itself (GPT-small's feed-forward, 128 deep). Here the bias and the activation cost
//! their arithmetic only.
//!
//! Numerics: the tile holds exactly what the plain GEMM stores (`alpha * acc`, `beta == 0`), the
//! bias is added with one rounding and the activation is the element-wise kernel's
//! (`unary_slice`), so the result is bit-identical to the three separate ops.
//!
//! With `out` set, the activation's result goes there and C keeps the pre-activation values
//! (what the backward of GELU or SiLU reads); without it, the activation overwrites C.

use crate::kernels::math::Real;
use crate::kernels::unary::{unary_slice_impl, UnaryOp};

/// What the GEMM applies to each finished tile. Build with [`Epilogue::new`].
#[derive(Clone, Copy, Debug)]
pub struct Epilogue<T> {
    /// One value per column of C, or null.
    bias: *const T,
    act: Option<UnaryOp>,
    /// Where `act(C)` goes (unit column stride, row stride `rs_out`), or null: into C.
    out: *mut T,
    rs_out: isize,
    /// The tile routine for `T` (a generic kernel behind the ISA dispatch).
    apply: unsafe fn(&Epilogue<T>, *mut T, isize, usize, usize, usize, usize),
}

// SAFETY: the pointers are only dereferenced inside the GEMM, whose caller guarantees validity for
// the call's duration; distinct threads write disjoint tiles of C and of `out`.
unsafe impl<T: Send> Send for Epilogue<T> {}
unsafe impl<T: Sync> Sync for Epilogue<T> {}

impl<T: Real> Epilogue<T> {
    /// `bias`: one value per column of C; `act`: the element-wise op applied after it; `out`:
    /// where the activation's result goes (pointer to row 0, row stride), None for in place.
    /// An `out` without `act` receives nothing (the bias still lands in C).
    pub fn new(bias: Option<*const T>, act: Option<UnaryOp>, out: Option<(*mut T, isize)>) -> Self {
        let (out, rs_out) = out.unwrap_or((std::ptr::null_mut(), 0));
        Epilogue {
            bias: bias.unwrap_or(std::ptr::null()),
            act,
            out,
            rs_out,
            apply: apply_tile::<T>,
        }
    }
}

impl<T> Epilogue<T> {
    /// The same epilogue for the sub-problem whose C starts at row `r0`, column `c0`.
    pub(super) fn shifted(&self, r0: usize, c0: usize) -> Self {
        // Null (absent) pointers stay null.
        let bias = if self.bias.is_null() {
            self.bias
        } else {
            self.bias.wrapping_add(c0)
        };
        let out = if self.out.is_null() {
            self.out
        } else {
            self.out
                .wrapping_offset(r0 as isize * self.rs_out)
                .wrapping_add(c0)
        };
        Epilogue { bias, out, ..*self }
    }

    /// Applies the epilogue to the `m x n` block of C at `c` (row stride `rs_c`, unit column
    /// stride), whose top-left element is C's `(row, col)`.
    ///
    /// # Safety
    /// The block lies inside C (and `out`, when set), the bias holds `col + n` values, no other
    /// thread touches the block.
    #[inline]
    pub(super) unsafe fn run(
        &self,
        c: *mut T,
        rs_c: isize,
        row: usize,
        col: usize,
        m: usize,
        n: usize,
    ) {
        (self.apply)(self, c, rs_c, row, col, m, n)
    }
}

impl<T> Epilogue<T> {
    /// Starts loading the `m x n` block of `out` at `(row, col)` (when set) while the tile's
    /// last depth block is computed: the activation's stores then find their lines in cache.
    /// Without it, every row of a fresh `out` was a store miss that the tile waited for (the
    /// hardware prefetchers do not follow rows a whole output row apart); on GPT-small's
    /// feed-forward the epilogue took three times its arithmetic.
    #[inline]
    pub(super) fn prefetch_out(&self, row: usize, col: usize, m: usize, n: usize) {
        if self.out.is_null() || self.act.is_none() || n == 0 {
            return;
        }
        let bytes = n * std::mem::size_of::<T>();
        for i in 0..m {
            let start = self
                .out
                .wrapping_offset((row + i) as isize * self.rs_out)
                .wrapping_add(col) as *const u8;
            prefetch_span(start, bytes);
        }
    }
}

/// Prefetches the cache lines of `bytes` bytes from `start` into L1 (never faults).
#[inline(always)]
fn prefetch_span(start: *const u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut off = 0;
        while off < bytes {
            // SAFETY: prefetching never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(off) as *const i8) };
            off += 64;
        }
        // SAFETY: as above (the last line, when the span is not line-aligned).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(bytes - 1) as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, bytes);
}

/// Values per step of the epilogue: a tile (8 x 32 f32 with AVX-512, 6 x 16 with AVX2) fits
/// whole, so the activation runs as one long vector loop. Applied row by row (32 values), the
/// compiler's 64-value unrolled loop never ran and every value went through the scalar tail:
/// three times the arithmetic's cost.
const STEP: usize = 512;

/// See [`Epilogue::run`].
unsafe fn apply_tile<T: Real>(
    e: &Epilogue<T>,
    c: *mut T,
    rs_c: isize,
    row: usize,
    col: usize,
    m: usize,
    n: usize,
) {
    if n == 0 || (e.bias.is_null() && e.act.is_none()) {
        return;
    }
    let bias = if e.bias.is_null() {
        &[][..]
    } else {
        std::slice::from_raw_parts(e.bias.add(col), n)
    };
    // Blocks of whole rows, or pieces of one row when a row is longer than a step.
    let (rows_per, width) = if n <= STEP { (STEP / n, n) } else { (1, STEP) };
    let mut i = 0;
    while i < m {
        let rows = rows_per.min(m - i);
        let mut j = 0;
        while j < n {
            let w = width.min(n - j);
            let block = Block {
                c: c.offset(i as isize * rs_c).add(j),
                rs_c,
                out: if e.out.is_null() || e.act.is_none() {
                    std::ptr::null_mut()
                } else {
                    e.out.offset((row + i) as isize * e.rs_out).add(col + j)
                },
                rs_out: e.rs_out,
                rows,
                width: w,
            };
            let b = if bias.is_empty() {
                bias
            } else {
                &bias[j..j + w]
            };
            block_epilogue(block, b, e.act);
            j += w;
        }
        i += rows;
    }
}

/// `rows x width` values of C (and of `out`, when not null) with at most [`STEP`] values.
#[derive(Clone, Copy)]
struct Block<T> {
    c: *mut T,
    rs_c: isize,
    out: *mut T,
    rs_out: isize,
    rows: usize,
    width: usize,
}

crate::simd_fn!(
    /// One block of the epilogue: `c += bias` (when `bias` is not empty), then `out = act(c)`
    /// (when `out` is set) or `c = act(c)`.
    fn block_epilogue<T: Real>(blk: Block<T>, bias: &[T], act: Option<UnaryOp>) => block_epilogue_impl, avx512
);

#[inline(always)]
fn block_epilogue_impl<T: Real>(blk: Block<T>, bias: &[T], act: Option<UnaryOp>) {
    let (w, rows) = (blk.width, blk.rows);
    let len = w * rows;
    // SAFETY (every raw access below): the caller's block lies inside C and `out` (see
    // `Epilogue::run`), `rows * width <= STEP`.
    let c_row = |i: usize| unsafe {
        std::slice::from_raw_parts_mut(blk.c.offset(i as isize * blk.rs_c), w)
    };
    let Some(op) = act else {
        for i in 0..rows {
            let r = c_row(i);
            add_bias(r, bias);
        }
        return;
    };
    // The pre-activation values, contiguous: the activation then runs as one long loop.
    let mut z = [std::mem::MaybeUninit::<T>::uninit(); STEP];
    let mut y = [std::mem::MaybeUninit::<T>::uninit(); STEP];
    // SAFETY: MaybeUninit<T> has T's layout; every value of z[..len] is written before it is
    // read, and y[..len] is written by the activation (which never reads it) before it is read.
    let z = unsafe { std::slice::from_raw_parts_mut(z.as_mut_ptr().cast::<T>(), len) };
    let y = unsafe { std::slice::from_raw_parts_mut(y.as_mut_ptr().cast::<T>(), len) };
    for (i, zrow) in z.chunks_exact_mut(w).enumerate() {
        let r = c_row(i);
        add_bias(r, bias);
        copy(zrow, r);
    }
    unary_slice_impl(op, z, y);
    for (i, yrow) in y.chunks_exact(w).enumerate() {
        let dst = if blk.out.is_null() {
            c_row(i)
        } else {
            unsafe { std::slice::from_raw_parts_mut(blk.out.offset(i as isize * blk.rs_out), w) }
        };
        copy(dst, yrow);
    }
}

/// Values per vector step of the small loops below: a fixed-length inner loop the compiler turns
/// into whole vector operations (a loop over a 32-value row, unrolled 4 x 16 by the compiler,
/// would run its scalar remainder only).
const LANES: usize = 16;

/// `row += bias` (nothing when `bias` is empty).
#[inline(always)]
fn add_bias<T: Real>(row: &mut [T], bias: &[T]) {
    if bias.is_empty() {
        return;
    }
    let mut rc = row.chunks_exact_mut(LANES);
    let mut bc = bias.chunks_exact(LANES);
    for (r, b) in (&mut rc).zip(&mut bc) {
        // Through a local array: the compiler cannot rule out that the row and the bias
        // overlap, and left the in-place loop scalar.
        let mut t = [T::default(); LANES];
        t.copy_from_slice(r);
        for (v, &bv) in t.iter_mut().zip(b) {
            *v = *v + bv;
        }
        r.copy_from_slice(&t);
    }
    for (r, &b) in rc.into_remainder().iter_mut().zip(bc.remainder()) {
        *r = *r + b;
    }
}

/// `dst = src` (equal lengths).
#[inline(always)]
fn copy<T: Real>(dst: &mut [T], src: &[T]) {
    let mut dc = dst.chunks_exact_mut(LANES);
    let mut sc = src.chunks_exact(LANES);
    for (d, s) in (&mut dc).zip(&mut sc) {
        d.copy_from_slice(s);
    }
    for (d, &s) in dc.into_remainder().iter_mut().zip(sc.remainder()) {
        *d = s;
    }
}
