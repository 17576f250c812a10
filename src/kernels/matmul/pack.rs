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
            // Whole 8x8 blocks through SIMD transposes where the type has them.
            let done = if W == 8 {
                T::pack_8_lines(&lines[..], depth, out)
            } else {
                0
            };
            for p in done..depth {
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

/// Packs `depth / 8 * 8` steps of 8 lines that are contiguous along the depth (`lines[r]` is
/// line `r`'s first value) into `out` as `depth` groups of 8 (line-major within a group): eight
/// 8x8 transposes in AVX registers per 64 steps instead of 64 scalar gathers. Returns the number
/// of steps packed (0 without AVX). f32 only.
///
/// Measured (Emerald Rapids, one thread, packing a row-major 2048x512 block into 8-row panels):
/// see `matmul/mod.rs`.
///
/// # Safety
/// `lines` holds 8 pointers, each valid for `depth` reads; `out` for `8 * depth` writes.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn pack_8_lines_f32(lines: &[*const f32], depth: usize, out: *mut f32) -> usize {
    if lines.len() != 8 || depth < 8 || !std::arch::is_x86_feature_detected!("avx") {
        return 0;
    }
    transpose_8x8_blocks(lines, depth, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_8x8_blocks(lines: &[*const f32], depth: usize, out: *mut f32) -> usize {
    use core::arch::x86_64::*;
    let full = depth / 8 * 8;
    let mut p = 0;
    while p < full {
        let r: [__m256; 8] = core::array::from_fn(|i| _mm256_loadu_ps(lines[i].add(p)));
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let cols = [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        for (j, c) in cols.iter().enumerate() {
            _mm256_storeu_ps(out.add((p + j) * 8), *c);
        }
        p += 8;
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD transposes against the scalar gathers, on depths around the 8-step blocks and
    /// lines at unrelated addresses.
    #[test]
    fn eight_line_transpose_matches_scalar_packing() {
        for depth in [0usize, 1, 7, 8, 9, 16, 17, 63, 64, 65, 257] {
            let src: Vec<f32> = (0..8 * (depth + 3)).map(|i| i as f32 * 0.5 - 7.0).collect();
            // Line r starts at r * (depth + 3) + (r % 3): a row stride plus ragged offsets.
            let lines: Vec<*const f32> = (0..8)
                .map(|r| unsafe { src.as_ptr().add(r * (depth + 3) + r % 3) })
                .collect();
            let mut got = vec![f32::NAN; 8 * depth];
            let done = unsafe { f32::pack_8_lines(&lines, depth, got.as_mut_ptr()) };
            assert_eq!(done % 8, 0);
            assert!(done <= depth);
            for p in 0..done {
                for (r, line) in lines.iter().enumerate() {
                    assert_eq!(
                        got[p * 8 + r],
                        unsafe { *line.add(p) },
                        "depth {depth} p {p}"
                    );
                }
            }
            // Through the packer: every step, the tail included.
            let mut full = vec![f32::NAN; 8 * depth];
            let stride = (depth + 3) as isize;
            unsafe { pack_panels(src.as_ptr(), stride, 1, 8, depth, 8, full.as_mut_ptr()) };
            for p in 0..depth {
                for r in 0..8 {
                    assert_eq!(full[p * 8 + r], src[r * (depth + 3) + p]);
                }
            }
        }
    }
}
