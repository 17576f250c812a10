//! A right operand packed once for many products that share it: a convolution multiplies tile
//! after tile of gathered patches by the same weights, and packing those weights again for every
//! tile cost as much as packing the tile itself (the B block of a 227x288 @ 288x64 forward tile
//! is 18K values against the tile's 65K; the input-gradient tile 227x64 @ 64x288 packs 18K of
//! weights against 15K of its own).
//!
//! The buffer holds B in exactly the layout [`super::loops`] reads a shared B from (all columns,
//! every depth block), so the products run the same loop nest and micro-kernel calls, and give
//! bit-identical results to [`super::gemm_serial`] on the unpacked operand.

use super::isa;
use super::loops::{run_block, Shared, Single};
use super::micro::Kernel;
use super::pack::{pack_b, Block};
use super::{GemmScalar, MatMut, MatRef};

/// One 64-byte, 64-byte-aligned unit of the packed buffer.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

/// `B` (`k x n`) packed for the kernel of the ISA active when it was built.
pub struct PackedB<T> {
    buf: Vec<Line>,
    k: usize,
    n: usize,
    /// Columns rounded up to the kernel's panel width.
    padded: usize,
    /// The kernel and blocking the buffer was packed for (the products must use the same
    /// `kc` and `nr`, whichever thread runs them and whatever its overrides).
    kern: Kernel<T>,
}

// SAFETY: after `new` the buffer is only read.
unsafe impl<T: Sync> Sync for PackedB<T> {}
unsafe impl<T: Send> Send for PackedB<T> {}

impl<T: GemmScalar> PackedB<T> {
    /// Packs `b` (`k x n`, any strides).
    ///
    /// # Safety
    /// Every element `b[p, j]`, `p < k`, `j < n`, is readable.
    pub unsafe fn new(b: MatRef<T>, k: usize, n: usize) -> Self {
        let isa = isa::active();
        let kern = T::kernel(isa);
        let padded = n.div_ceil(kern.nr) * kern.nr;
        let elems = k * padded;
        let bytes = elems * std::mem::size_of::<T>();
        let mut buf = vec![Line([0; 64]); bytes.div_ceil(64).max(1)];
        let dst = buf.as_mut_ptr().cast::<T>();
        for pc in (0..k).step_by(kern.kc) {
            let kc = kern.kc.min(k - pc);
            let src = Block {
                ptr: b.ptr.offset(pc as isize * b.rs),
                rs: b.rs,
                cs: b.cs,
                rows: kc,
                cols: n,
            };
            pack_b(src, kern.nr, dst.add(pc * padded));
        }
        PackedB {
            buf,
            k,
            n,
            padded,
            kern,
        }
    }

    /// `C = alpha * A @ B + beta * C` on the calling thread, for `m` rows of A (`m x k`, any
    /// strides) and C (`m x n`, unit column stride).
    ///
    /// # Safety
    /// A's `m x k` elements are readable; C's `m x n` elements are writable and overlap
    /// neither A nor the packed buffer.
    pub unsafe fn gemm_serial(&self, m: usize, alpha: T, a: MatRef<T>, beta: T, c: MatMut<T>) {
        let s = Single {
            m,
            n: self.n,
            k: self.k,
            alpha,
            beta,
            a,
            // Never read: the packed buffer stands in for B.
            b: MatRef {
                ptr: std::ptr::null(),
                rs: 0,
                cs: 0,
            },
            c,
            epi: None,
        };
        if m == 0 || self.n == 0 {
            return;
        }
        if self.k == 0 || alpha == T::ZERO {
            super::small::scale_c(&s);
            return;
        }
        run_block(
            &s,
            &self.kern,
            Shared::B {
                ptr: self.buf.as_ptr().cast::<T>(),
                padded: self.padded,
            },
        );
    }
}
