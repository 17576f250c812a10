//! The attention kernel's register-tiled block products (`mm`, one build per ISA) and dot
//! products; see the parent module's SIMD note.

use super::{madd, AttnScalar, LANES};

/// `c[r*ldc + x] += sum_p a[r*rsa + p*csa] * b[p*ldb + x]` for r < m, x < n, p < k ascending
/// (each element starts from its value in c, or from 0 without reading c when `zero`, and adds
/// the k products in order, whatever tile computes it).
///
/// # Safety
/// Every addressed element must be valid; c must not overlap a or b.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn mm<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    m: usize,
    n: usize,
    k: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    ldb: isize,
    c: *mut T,
    ldc: isize,
    zero: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if F && std::mem::size_of::<T>() == 4 && (W == 32 || W == 16) {
        // The f32 builds run explicit register tiles (the compiler left the generic tile
        // scalar); T is f32 here, so the casts only restate the type.
        let (a, b, c) = (a as *const f32, b as *const f32, c as *mut f32);
        if W == 32 {
            x86::mm512(m, n, k, a, rsa, csa, b, ldb, c, ldc, zero);
        } else {
            x86::mm256(m, n, k, a, rsa, csa, b, ldb, c, ldc, zero);
        }
        return;
    }
    let mut r0 = 0;
    while r0 + R <= m {
        mm_rows::<T, F, R, W>(
            n,
            k,
            a.offset(r0 as isize * rsa),
            rsa,
            csa,
            b,
            ldb,
            c.offset(r0 as isize * ldc),
            ldc,
            zero,
        );
        r0 += R;
    }
    while r0 < m {
        mm_rows::<T, F, 1, W>(
            n,
            k,
            a.offset(r0 as isize * rsa),
            rsa,
            csa,
            b,
            ldb,
            c.offset(r0 as isize * ldc),
            ldc,
            zero,
        );
        r0 += 1;
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn mm_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    n: usize,
    k: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    ldb: isize,
    c: *mut T,
    ldc: isize,
    zero: bool,
) {
    let mut c0 = 0usize;
    while c0 + W <= n {
        let mut acc = [[T::ZERO; W]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            let cr = c.offset(r as isize * ldc).add(c0);
            if !zero {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = *cr.add(x);
                }
            }
        }
        for p in 0..k {
            let bp = b.offset(p as isize * ldb).add(c0);
            for (r, row) in acc.iter_mut().enumerate() {
                let av = *a.offset(r as isize * rsa + p as isize * csa);
                for (x, v) in row.iter_mut().enumerate() {
                    *v = madd::<T, F>(av, *bp.add(x), *v);
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            let cr = c.offset(r as isize * ldc).add(c0);
            for (x, v) in row.iter().enumerate() {
                *cr.add(x) = *v;
            }
        }
        c0 += W;
    }
    for x in c0..n {
        for r in 0..R {
            let cr = c.offset(r as isize * ldc).add(x);
            let mut acc = if zero { T::ZERO } else { *cr };
            for p in 0..k {
                acc = madd::<T, F>(
                    *a.offset(r as isize * rsa + p as isize * csa),
                    *b.offset(p as isize * ldb).add(x),
                    acc,
                );
            }
            *cr = acc;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! f32 register tiles of `mm` (same contract, same per-element order: each element starts
    //! from c and adds its k products with FMA in order).
    use std::arch::x86_64::*;

    /// The full-width part of a register tile: `R` rows of two `$w`-lane vectors per step across
    /// the columns, accumulated with FMA over `k` in order. Evaluates to the first column not
    /// covered (the ISA's tail handles the rest). One body for the AVX-512 and AVX2 tiles, which
    /// differ only in the vector width and intrinsics.
    macro_rules! full_column_tiles {
        ($w:expr, $zero_v:ident, $load:ident, $store:ident, $set1:ident, $fma:ident,
         $r:ident, $n:expr, $k:expr, $a:expr, $rsa:expr, $csa:expr, $b:expr, $ldb:expr, $c:expr,
         $ldc:expr, $zero:expr) => {{
            let mut c0 = 0usize;
            while c0 + 2 * $w <= $n {
                let mut acc = [[$zero_v(); 2]; $r];
                for (r, row) in acc.iter_mut().enumerate() {
                    let cr = $c.offset(r as isize * $ldc).add(c0);
                    if !$zero {
                        row[0] = $load(cr);
                        row[1] = $load(cr.add($w));
                    }
                }
                for p in 0..$k {
                    let bp = $b.offset(p as isize * $ldb).add(c0);
                    let b0 = $load(bp);
                    let b1 = $load(bp.add($w));
                    for (r, row) in acc.iter_mut().enumerate() {
                        let av = $set1(*$a.offset(r as isize * $rsa + p as isize * $csa));
                        row[0] = $fma(av, b0, row[0]);
                        row[1] = $fma(av, b1, row[1]);
                    }
                }
                for (r, row) in acc.iter().enumerate() {
                    let cr = $c.offset(r as isize * $ldc).add(c0);
                    $store(cr, row[0]);
                    $store(cr.add($w), row[1]);
                }
                c0 += 2 * $w;
            }
            c0
        }};
    }

    macro_rules! rows_dispatch {
        ($tile:ident, $rows:expr, $m:expr, $n:expr, $k:expr, $a:expr, $rsa:expr, $csa:expr, $b:expr, $ldb:expr, $c:expr, $ldc:expr, $zero:expr) => {{
            let mut r0 = 0usize;
            while r0 < $m {
                let ar = $a.offset(r0 as isize * $rsa);
                let cr = $c.offset(r0 as isize * $ldc);
                let rows = ($m - r0).min($rows);
                match rows {
                    8 => $tile::<8>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    7 => $tile::<7>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    6 => $tile::<6>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    5 => $tile::<5>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    4 => $tile::<4>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    3 => $tile::<3>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    2 => $tile::<2>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                    _ => $tile::<1>($n, $k, ar, $rsa, $csa, $b, $ldb, cr, $ldc, $zero),
                }
                r0 += rows;
            }
        }};
    }

    /// # Safety
    /// As `mm`; the CPU supports AVX-512F (the caller is compiled for it).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn mm512(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        rows_dispatch!(tile512, 8, m, n, k, a, rsa, csa, b, ldb, c, ldc, zero)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile512<const R: usize>(
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        let mut c0 = full_column_tiles!(
            16,
            _mm512_setzero_ps,
            _mm512_loadu_ps,
            _mm512_storeu_ps,
            _mm512_set1_ps,
            _mm512_fmadd_ps,
            R,
            n,
            k,
            a,
            rsa,
            csa,
            b,
            ldb,
            c,
            ldc,
            zero
        );
        while c0 < n {
            let rem = n - c0;
            let mk: __mmask16 = if rem >= 16 {
                0xffff
            } else {
                ((1u32 << rem) - 1) as u16
            };
            let mut acc = [_mm512_setzero_ps(); R];
            for (r, v) in acc.iter_mut().enumerate() {
                if !zero {
                    *v = _mm512_maskz_loadu_ps(mk, c.offset(r as isize * ldc).add(c0));
                }
            }
            for p in 0..k {
                let b0 = _mm512_maskz_loadu_ps(mk, b.offset(p as isize * ldb).add(c0));
                for (r, v) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*a.offset(r as isize * rsa + p as isize * csa));
                    *v = _mm512_fmadd_ps(av, b0, *v);
                }
            }
            for (r, v) in acc.iter().enumerate() {
                _mm512_mask_storeu_ps(c.offset(r as isize * ldc).add(c0), mk, *v);
            }
            c0 += 16;
        }
    }

    /// # Safety
    /// As `mm`; the CPU supports AVX2 and FMA (the caller is compiled for them).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub unsafe fn mm256(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        rows_dispatch!(tile256, 6, m, n, k, a, rsa, csa, b, ldb, c, ldc, zero)
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn tile256<const R: usize>(
        n: usize,
        k: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        ldb: isize,
        c: *mut f32,
        ldc: isize,
        zero: bool,
    ) {
        let c0 = full_column_tiles!(
            8,
            _mm256_setzero_ps,
            _mm256_loadu_ps,
            _mm256_storeu_ps,
            _mm256_set1_ps,
            _mm256_fmadd_ps,
            R,
            n,
            k,
            a,
            rsa,
            csa,
            b,
            ldb,
            c,
            ldc,
            zero
        );
        // Remaining columns one at a time with scalar FMA (the same rounding as the vector FMA).
        for x in c0..n {
            for r in 0..R {
                let cr = c.offset(r as isize * ldc).add(x);
                let mut acc = if zero { 0.0 } else { *cr };
                for p in 0..k {
                    acc = (*a.offset(r as isize * rsa + p as isize * csa))
                        .mul_add(*b.offset(p as isize * ldb).add(x), acc);
                }
                *cr = acc;
            }
        }
    }
}

/// `x . y` over `h` terms in `LANES` partial sums added in a fixed tree (same in every build).
#[inline(always)]
pub(super) unsafe fn dot<T: AttnScalar, const F: bool>(x: *const T, y: *const T, h: usize) -> T {
    let mut acc = [T::ZERO; LANES];
    let mut p = 0;
    while p + LANES <= h {
        for (l, a) in acc.iter_mut().enumerate() {
            *a = madd::<T, F>(*x.add(p + l), *y.add(p + l), *a);
        }
        p += LANES;
    }
    for (l, a) in acc.iter_mut().enumerate().take(h - p) {
        *a = madd::<T, F>(*x.add(p + l), *y.add(p + l), *a);
    }
    lane_sum(&acc)
}

#[inline(always)]
pub(super) fn lane_sum<T: AttnScalar>(acc: &[T; LANES]) -> T {
    let mut w = *acc;
    let mut half = LANES / 2;
    while half > 0 {
        for l in 0..half {
            w[l] = w[l] + w[l + half];
        }
        half /= 2;
    }
    w[0]
}

/// `x . y` for the decode scores: 16-lane AVX-512 accumulators in the AVX-512 f32 build (a
/// fixed order too), [`dot`] otherwise.
#[inline(always)]
pub(super) unsafe fn dot_w<T: AttnScalar, const F: bool, const W: usize>(
    x: *const T,
    y: *const T,
    h: usize,
) -> T {
    #[cfg(target_arch = "x86_64")]
    if F && W == 32 && std::mem::size_of::<T>() == 4 {
        use std::arch::x86_64::*;
        let (x, y) = (x as *const f32, y as *const f32);
        let mut acc = _mm512_setzero_ps();
        let mut p = 0;
        while p < h {
            let rem = h - p;
            let mk: __mmask16 = if rem >= 16 {
                0xffff
            } else {
                ((1u32 << rem) - 1) as u16
            };
            acc = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(mk, x.add(p)),
                _mm512_maskz_loadu_ps(mk, y.add(p)),
                acc,
            );
            p += 16;
        }
        let v = _mm512_reduce_add_ps(acc);
        // T is f32 here
        return T::from_f64(v as f64);
    }
    dot::<T, F>(x, y, h)
}
