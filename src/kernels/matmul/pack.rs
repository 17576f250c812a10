//! Operand packing: copies a block of A or B, read through any strides, into the contiguous
//! micro-panel order the micro-kernels stream, zero-padding the ragged edge so every kernel call
//! computes a full tile. Transposed operands and views therefore never need a copy of their own:
//! the stride pattern is absorbed here, once per block, and amortised over the block's reuse
//! (each packed A value is used `nc` times, each packed B value `mc` times).
//!
//! Layouts (`T` elements):
//! - A block `mc x kc` -> `ceil(mc/mr)` panels; panel `q` holds, for `p in 0..kc`, the `mr` values
//!   `A[q*mr + r, p]`, `r in 0..mr`.
//! - B block `kc x nc` -> `ceil(nc/nr)` panels; panel `q` holds, for `p in 0..kc`, the `nr` values
//!   `B[p, q*nr + c]`, `c in 0..nr`.

use super::GemmScalar;

/// A strided source block: element `(i, j)` is at `ptr + i*rs + j*cs`.
#[derive(Clone, Copy)]
pub struct Block<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
    pub rows: usize,
    pub cols: usize,
}

/// Packs `A` (rows = m-direction, cols = depth) into `mr`-row panels at `dst`.
///
/// # Safety
/// Every element of the block is readable; `dst` holds `ceil(rows/mr)*mr*cols` values.
pub unsafe fn pack_a<T: GemmScalar>(src: Block<T>, mr: usize, dst: *mut T) {
    pack_panels(src.ptr, src.rs, src.cs, src.rows, src.cols, mr, dst)
}

/// Packs `B` (rows = depth, cols = n-direction) into `nr`-column panels at `dst`.
///
/// # Safety
/// Every element of the block is readable; `dst` holds `ceil(cols/nr)*nr*rows` values.
pub unsafe fn pack_b<T: GemmScalar>(src: Block<T>, nr: usize, dst: *mut T) {
    // B's panels are A's layout for the transposed block: swap the roles of the two strides.
    pack_panels(src.ptr, src.cs, src.rs, src.cols, src.rows, nr, dst)
}

/// The one packing routine: `len` lines along the panel direction (stride `ls`), `depth` steps
/// (stride `ds`), `w` lines per panel; writes `depth * w` values per panel, padding with zeros.
/// Dispatches to a copy specialised for the panel width, so the per-step copies are fixed-size
/// (fully unrolled, no `memcpy` call per 64 bytes).
#[inline]
unsafe fn pack_panels<T: GemmScalar>(
    src: *const T,
    ls: isize,
    ds: isize,
    len: usize,
    depth: usize,
    w: usize,
    dst: *mut T,
) {
    match w {
        4 => pack_w::<T, 4>(src, ls, ds, len, depth, dst),
        6 => pack_w::<T, 6>(src, ls, ds, len, depth, dst),
        8 => pack_w::<T, 8>(src, ls, ds, len, depth, dst),
        16 => pack_w::<T, 16>(src, ls, ds, len, depth, dst),
        32 => pack_w::<T, 32>(src, ls, ds, len, depth, dst),
        _ => pack_any(src, ls, ds, len, depth, w, dst),
    }
}

#[inline]
unsafe fn pack_w<T: GemmScalar, const W: usize>(
    src: *const T,
    ls: isize,
    ds: isize,
    len: usize,
    depth: usize,
    dst: *mut T,
) {
    let mut out = dst;
    let mut l0 = 0;
    while l0 + W <= len {
        let base = src.offset(l0 as isize * ls);
        if ls == 1 {
            // The `W` values of one depth step are adjacent (A column-major, B row-major, the
            // common layouts): one fixed-size copy per step.
            for p in 0..depth {
                let v = (base.offset(p as isize * ds) as *const [T; W]).read_unaligned();
                (out.add(p * W) as *mut [T; W]).write_unaligned(v);
            }
        } else if ds == 1 {
            // Each line is contiguous along the depth (A row-major, B transposed): W sequential
            // read streams, one contiguous W-value write per step.
            let lines: [*const T; W] = core::array::from_fn(|r| base.offset(r as isize * ls));
            for p in 0..depth {
                let v: [T; W] = core::array::from_fn(|r| *lines[r].add(p));
                (out.add(p * W) as *mut [T; W]).write_unaligned(v);
            }
        } else {
            for p in 0..depth {
                let s = base.offset(p as isize * ds);
                let v: [T; W] = core::array::from_fn(|r| *s.offset(r as isize * ls));
                (out.add(p * W) as *mut [T; W]).write_unaligned(v);
            }
        }
        out = out.add(W * depth);
        l0 += W;
    }
    if l0 < len {
        pack_any(
            src.offset(l0 as isize * ls),
            ls,
            ds,
            len - l0,
            depth,
            W,
            out,
        );
    }
}

/// Any width, any strides; also the ragged last panel (zero-padded).
unsafe fn pack_any<T: GemmScalar>(
    src: *const T,
    ls: isize,
    ds: isize,
    len: usize,
    depth: usize,
    w: usize,
    dst: *mut T,
) {
    let mut out = dst;
    let mut l0 = 0;
    while l0 < len {
        let lw = w.min(len - l0);
        let base = src.offset(l0 as isize * ls);
        for p in 0..depth {
            let s = base.offset(p as isize * ds);
            let d = out.add(p * w);
            for r in 0..lw {
                *d.add(r) = *s.offset(r as isize * ls);
            }
            for r in lw..w {
                *d.add(r) = T::ZERO;
            }
        }
        out = out.add(w * depth);
        l0 += w;
    }
}
