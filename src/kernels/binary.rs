//! Binary elementwise kernels: arithmetic, comparisons, logical ops, `where`, casts and copies.
//!
//! Math: `out[i] = a[i] op b[i]` over a broadcast iteration (see `iter.rs`); each segment gives
//! the innermost strides of `a` and `b`: (1, 1), (1, 0) and (0, 1) runs are vectorised loops,
//! anything else is gathered into stack blocks first.
//! Integers follow NumPy's defined results and never trap: `+ - *` and `pow` wrap modulo 2^bits;
//! `x // 0` and `x % 0` give 0; `MIN // -1` wraps to MIN and `MIN % -1` is 0; floor division and
//! modulo round toward negative infinity (the remainder takes the divisor's sign). A negative
//! integer exponent is rejected before the kernel runs (`ops::binary`), as NumPy rejects it.
//! Aliasing: `out` is a fresh buffer and never overlaps the inputs.

use super::unary::GATHER_BLOCK;
use crate::dtype::Element;
use crate::simd_fn;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    FloorDiv,
    Mod,
    /// `atan2(a, b)`: the angle of the point (b, a), in [-pi, pi] (floats only).
    Atan2,
    /// C's `fmod`: the remainder of a truncated division, with the sign of `a` (NumPy's `fmod`);
    /// integers by zero give 0 (NumPy's value).
    Fmod,
    /// `sqrt(a^2 + b^2)` without overflow or underflow in between; infinite when either is
    /// infinite, even with a NaN (C's `hypot`; floats only).
    Hypot,
    /// The next representable value after `a` towards `b` (C's `nextafter`; floats only).
    NextAfter,
}

impl BinaryOp {
    pub fn name(&self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "subtract",
            BinaryOp::Mul => "multiply",
            BinaryOp::Div => "divide",
            BinaryOp::Pow => "power",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::FloorDiv => "floor_divide",
            BinaryOp::Mod => "mod",
            BinaryOp::Atan2 => "arctan2",
            BinaryOp::Fmod => "fmod",
            BinaryOp::Hypot => "hypot",
            BinaryOp::NextAfter => "nextafter",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn name(&self) -> &'static str {
        match self {
            CmpOp::Eq => "equal",
            CmpOp::Ne => "not_equal",
            CmpOp::Lt => "less",
            CmpOp::Le => "less_equal",
            CmpOp::Gt => "greater",
            CmpOp::Ge => "greater_equal",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
    Xor,
}

/// Numeric element types with the arithmetic the binary kernels need.
pub trait Num: Element {
    fn add(a: Self, b: Self) -> Self;
    fn sub(a: Self, b: Self) -> Self;
    fn mul(a: Self, b: Self) -> Self;
    fn div(a: Self, b: Self) -> Self;
    fn pow(a: Self, b: Self) -> Self;
    fn max(a: Self, b: Self) -> Self;
    fn min(a: Self, b: Self) -> Self;
    fn floordiv(a: Self, b: Self) -> Self;
    fn rem(a: Self, b: Self) -> Self;
    fn atan2(a: Self, b: Self) -> Self;
    fn fmod(a: Self, b: Self) -> Self;
    fn hypot(a: Self, b: Self) -> Self;
    fn nextafter(a: Self, b: Self) -> Self;
}

macro_rules! impl_num_float {
    ($t:ty, $pow:path, $atan2:path, $fmod:path, $hypot:path, $nextafter:path) => {
        impl Num for $t {
            #[inline(always)]
            fn hypot(a: $t, b: $t) -> $t {
                $hypot(a, b)
            }
            #[inline(always)]
            fn nextafter(a: $t, b: $t) -> $t {
                $nextafter(a, b)
            }
            #[inline(always)]
            fn atan2(a: $t, b: $t) -> $t {
                $atan2(a, b)
            }
            #[inline(always)]
            fn fmod(a: $t, b: $t) -> $t {
                $fmod(a, b)
            }
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                a + b
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                a - b
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a * b
            }
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                a / b
            }
            #[inline(always)]
            fn pow(a: $t, b: $t) -> $t {
                $pow(a, b)
            }
            // NaN-propagating, like NumPy's maximum/minimum.
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                if a > b || a != a {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                if a < b || a != a {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn floordiv(a: $t, b: $t) -> $t {
                // NumPy's (and Python's) rule: from the exact remainder, not `floor(a / b)`,
                // whose rounding gives 1 // 0.1 = 10 (NumPy: 9) and -1 // inf = -0 (NumPy: -1)
                if b == 0.0 {
                    return a / b;
                }
                let m = $fmod(a, b);
                let mut div = (a - m) / b;
                if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
                    div -= 1.0;
                }
                if div != 0.0 {
                    let f = div.floor();
                    if div - f > 0.5 {
                        f + 1.0
                    } else {
                        f
                    }
                } else {
                    (0.0 as $t).copysign(a / b)
                }
            }
            // Python/NumPy modulo: the result takes the divisor's sign (a zero too).
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                let r = a % b;
                if r != 0.0 {
                    if (r < 0.0) != (b < 0.0) {
                        r + b
                    } else {
                        r
                    }
                } else if b == 0.0 {
                    r
                } else {
                    (0.0 as $t).copysign(b)
                }
            }
        }
    };
}

impl_num_float!(
    f32,
    libm::powf,
    libm::atan2f,
    libm::fmodf,
    libm::hypotf,
    libm::nextafterf
);
impl_num_float!(
    f64,
    libm::pow,
    libm::atan2,
    libm::fmod,
    libm::hypot,
    libm::nextafter
);

macro_rules! impl_num_int {
    ($t:ty) => {
        impl Num for $t {
            // Not reached through `ops::binary` (integer operands of atan2 are promoted to
            // float32); truncates like a float-to-int cast.
            #[inline(always)]
            fn atan2(a: $t, b: $t) -> $t {
                libm::atan2(a as f64, b as f64) as $t
            }
            // Not reached through `ops::binary` either (promoted to float32).
            #[inline(always)]
            fn hypot(a: $t, b: $t) -> $t {
                libm::hypot(a as f64, b as f64) as $t
            }
            // Not reached through `ops::binary` either (promoted to float32).
            #[inline(always)]
            fn nextafter(a: $t, b: $t) -> $t {
                a + (b > a) as $t - (b < a) as $t
            }
            #[inline(always)]
            fn fmod(a: $t, b: $t) -> $t {
                if b == 0 {
                    0
                } else {
                    a.wrapping_rem(b)
                }
            }
            #[inline(always)]
            fn add(a: $t, b: $t) -> $t {
                a.wrapping_add(b)
            }
            #[inline(always)]
            fn sub(a: $t, b: $t) -> $t {
                a.wrapping_sub(b)
            }
            #[inline(always)]
            fn mul(a: $t, b: $t) -> $t {
                a.wrapping_mul(b)
            }
            #[inline(always)]
            fn div(a: $t, b: $t) -> $t {
                Self::floordiv(a, b)
            }
            // A negative exponent never reaches here from `ops::binary` (NumPy raises for it); the
            // kernel still defines it (the integer part of 1/a^|b|) so it stays total.
            #[inline(always)]
            fn pow(a: $t, b: $t) -> $t {
                if b < 0 {
                    match a {
                        1 => 1,
                        -1 => {
                            if b % 2 == 0 {
                                1
                            } else {
                                -1
                            }
                        }
                        _ => 0,
                    }
                } else {
                    // Square-and-multiply over the whole exponent: wraps like NumPy's, and needs no
                    // clamp of `b` to u32 (which would change the parity of huge exponents).
                    let (mut base, mut e, mut acc) = (a, b as u64, 1 as $t);
                    while e > 0 {
                        if e & 1 == 1 {
                            acc = acc.wrapping_mul(base);
                        }
                        base = base.wrapping_mul(base);
                        e >>= 1;
                    }
                    acc
                }
            }
            #[inline(always)]
            fn max(a: $t, b: $t) -> $t {
                if a > b {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn min(a: $t, b: $t) -> $t {
                if a < b {
                    a
                } else {
                    b
                }
            }
            #[inline(always)]
            fn floordiv(a: $t, b: $t) -> $t {
                if b == 0 {
                    return 0;
                }
                // wrapping_*: MIN // -1 wraps to MIN and MIN % -1 is 0, as in NumPy (plain `/` and
                // `%` would panic on that one pair).
                let q = a.wrapping_div(b);
                if (a.wrapping_rem(b) != 0) && ((a < 0) != (b < 0)) {
                    q.wrapping_sub(1)
                } else {
                    q
                }
            }
            #[inline(always)]
            fn rem(a: $t, b: $t) -> $t {
                if b == 0 {
                    return 0;
                }
                let r = a.wrapping_rem(b);
                if r != 0 && ((r < 0) != (b < 0)) {
                    r + b
                } else {
                    r
                }
            }
        }
    };
}

impl_num_int!(i32);
impl_num_int!(i64);

#[inline(always)]
fn apply<T: Num>(op: BinaryOp, a: T, b: T) -> T {
    match op {
        BinaryOp::Add => T::add(a, b),
        BinaryOp::Sub => T::sub(a, b),
        BinaryOp::Mul => T::mul(a, b),
        BinaryOp::Div => T::div(a, b),
        BinaryOp::Pow => T::pow(a, b),
        BinaryOp::Maximum => T::max(a, b),
        BinaryOp::Minimum => T::min(a, b),
        BinaryOp::FloorDiv => T::floordiv(a, b),
        BinaryOp::Mod => T::rem(a, b),
        BinaryOp::Atan2 => T::atan2(a, b),
        BinaryOp::Fmod => T::fmod(a, b),
        BinaryOp::Hypot => T::hypot(a, b),
        BinaryOp::NextAfter => T::nextafter(a, b),
    }
}

/// Contiguous body: `sa`/`sb` are each 0 (broadcast scalar) or 1 (contiguous).
#[inline(always)]
fn binary_contig_impl<T: Num>(op: BinaryOp, a: &[T], sa: usize, b: &[T], sb: usize, out: &mut [T]) {
    macro_rules! arms {
        ($($op:ident => $f:path),*) => {
            match op {
                $(BinaryOp::$op => {
                    match (sa, sb) {
                        (1, 1) => for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) { *o = $f(x, y); },
                        (1, _) => { let y = b[0]; for (o, &x) in out.iter_mut().zip(a) { *o = $f(x, y); } }
                        (_, 1) => { let x = a[0]; for (o, &y) in out.iter_mut().zip(b) { *o = $f(x, y); } }
                        _ => { let v = $f(a[0], b[0]); for o in out.iter_mut() { *o = v; } }
                    }
                })*
            }
        };
    }
    arms!(Add => T::add, Sub => T::sub, Mul => T::mul, Div => T::div, Pow => T::pow,
          Maximum => T::max, Minimum => T::min, FloorDiv => T::floordiv, Mod => T::rem, Atan2 => T::atan2, Fmod => T::fmod, Hypot => T::hypot,
          NextAfter => T::nextafter);
}

simd_fn!(
    fn binary_contig<T: Num>(op: BinaryOp, a: &[T], sa: usize, b: &[T], sb: usize, out: &mut [T]) => binary_contig_impl
);

/// `out[0..n] = a[i*sa] op b[i*sb]` with `out` contiguous.
///
/// # Safety
/// Pointers valid for `n` elements at their strides.
pub unsafe fn binary_segment<T: Num>(
    op: BinaryOp,
    a: *const T,
    sa: isize,
    b: *const T,
    sb: isize,
    out: *mut T,
    n: usize,
) {
    let simple = |s: isize| s == 0 || s == 1;
    if simple(sa) && simple(sb) {
        let la = if sa == 1 { n } else { 1 };
        let lb = if sb == 1 { n } else { 1 };
        binary_contig(
            op,
            std::slice::from_raw_parts(a, la),
            sa as usize,
            std::slice::from_raw_parts(b, lb),
            sb as usize,
            std::slice::from_raw_parts_mut(out, n),
        );
        return;
    }
    let _ = apply::<T>;
    let mut ba = [T::default(); GATHER_BLOCK];
    let mut bb = [T::default(); GATHER_BLOCK];
    let mut done = 0;
    while done < n {
        let m = (n - done).min(GATHER_BLOCK);
        for i in 0..m {
            ba[i] = *a.offset((done + i) as isize * sa);
            bb[i] = *b.offset((done + i) as isize * sb);
        }
        binary_contig(
            op,
            &ba[..m],
            1,
            &bb[..m],
            1,
            std::slice::from_raw_parts_mut(out.add(done), m),
        );
        done += m;
    }
}

/// Scalar reference of one binary op (tests).
pub fn binary_scalar<T: Num>(op: BinaryOp, a: T, b: T) -> T {
    apply(op, a, b)
}

/// `out[i] = a[i*sa] cmp b[i*sb]`.
///
/// # Safety
/// Pointers valid for `n` elements at their strides.
pub unsafe fn compare_segment<T: Element>(
    op: CmpOp,
    a: *const T,
    sa: isize,
    b: *const T,
    sb: isize,
    out: *mut bool,
    n: usize,
) {
    macro_rules! go {
        (|$x:ident, $y:ident| $e:expr) => {
            for i in 0..n {
                let $x = *a.offset(i as isize * sa);
                let $y = *b.offset(i as isize * sb);
                *out.add(i) = $e;
            }
        };
    }
    match op {
        CmpOp::Eq => go!(|x, y| x == y),
        CmpOp::Ne => go!(|x, y| x != y),
        CmpOp::Lt => go!(|x, y| x < y),
        CmpOp::Le => go!(|x, y| x <= y),
        CmpOp::Gt => go!(|x, y| x > y),
        CmpOp::Ge => go!(|x, y| x >= y),
    }
}

/// `out[i] = a[i*sa] logic b[i*sb]` on bools.
///
/// # Safety
/// Pointers valid for `n` elements at their strides.
pub unsafe fn logic_segment(
    op: LogicOp,
    a: *const bool,
    sa: isize,
    b: *const bool,
    sb: isize,
    out: *mut bool,
    n: usize,
) {
    for i in 0..n {
        let x = *a.offset(i as isize * sa);
        let y = *b.offset(i as isize * sb);
        *out.add(i) = match op {
            LogicOp::And => x & y,
            LogicOp::Or => x | y,
            LogicOp::Xor => x ^ y,
        };
    }
}

/// `out[i] = c[i] ? a[i] : b[i]`.
///
/// # Safety
/// Pointers valid for `n` elements at their strides.
#[allow(clippy::too_many_arguments)]
pub unsafe fn where_segment<T: Element>(
    c: *const bool,
    sc: isize,
    a: *const T,
    sa: isize,
    b: *const T,
    sb: isize,
    out: *mut T,
    n: usize,
) {
    for i in 0..n {
        let ii = i as isize;
        *out.add(i) = if *c.offset(ii * sc) {
            *a.offset(ii * sa)
        } else {
            *b.offset(ii * sb)
        };
    }
}

/// Converts one element between dtypes with NumPy's `astype` semantics (floats to ints truncate
/// toward zero and saturate; NaN becomes 0; anything nonzero becomes `true`).
#[inline(always)]
pub fn cast_one<S: Element, D: Element>(v: S) -> D {
    let src_exact_int = !S::DTYPE.is_float();
    let dst_int = !D::DTYPE.is_float();
    if src_exact_int && dst_int {
        D::from_i64(v.to_i64())
    } else {
        D::from_f64(v.to_f64())
    }
}

/// `out[0..n] = cast(src[i*s])`.
///
/// # Safety
/// Pointers valid for `n` elements at their strides.
pub unsafe fn cast_segment<S: Element, D: Element>(src: *const S, s: isize, out: *mut D, n: usize) {
    if S::DTYPE == D::DTYPE && s == 1 {
        std::ptr::copy_nonoverlapping(src as *const D, out, n);
        return;
    }
    for i in 0..n {
        *out.add(i) = cast_one::<S, D>(*src.offset(i as isize * s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_style_modulo_and_floordiv() {
        assert_eq!(<i64 as Num>::rem(-7, 3), 2);
        assert_eq!(<i64 as Num>::floordiv(-7, 3), -3);
        assert_eq!(<i64 as Num>::floordiv(7, 0), 0);
        assert_eq!(<f64 as Num>::rem(-7.0, 3.0), 2.0);
        assert_eq!(<i32 as Num>::pow(2, 10), 1024);
        assert_eq!(<i32 as Num>::pow(2, -1), 0);
    }

    #[test]
    fn integer_edge_values_never_trap() {
        // (a, b, a // b, a % b) as NumPy gives them.
        let cases64 = [
            (i64::MIN, -1, i64::MIN, 0),
            (i64::MIN, 0, 0, 0),
            (i64::MIN, 1, i64::MIN, 0),
            (i64::MIN, i64::MAX, -2, i64::MAX - 1),
            (i64::MAX, i64::MIN, -1, -1),
            (i64::MAX, -1, -i64::MAX, 0),
            (-1, i64::MIN, 0, -1),
            (0, 0, 0, 0),
        ];
        for (a, b, q, r) in cases64 {
            assert_eq!(<i64 as Num>::floordiv(a, b), q, "{a} // {b}");
            assert_eq!(<i64 as Num>::rem(a, b), r, "{a} % {b}");
        }
        assert_eq!(<i32 as Num>::floordiv(i32::MIN, -1), i32::MIN);
        assert_eq!(<i32 as Num>::rem(i32::MIN, -1), 0);
        assert_eq!(<i32 as Num>::rem(i32::MIN, i32::MAX), i32::MAX - 1);
        assert_eq!(<i64 as Num>::add(i64::MAX, 1), i64::MIN);
        assert_eq!(<i64 as Num>::mul(i64::MIN, -1), i64::MIN);
        assert_eq!(<i32 as Num>::sub(i32::MIN, 1), i32::MAX);
    }

    #[test]
    fn integer_pow_wraps_over_the_whole_exponent() {
        assert_eq!(<i64 as Num>::pow(-1, i64::MAX), -1);
        assert_eq!(<i64 as Num>::pow(-1, 1 << 40), 1);
        assert_eq!(<i64 as Num>::pow(2, 70), 0);
        assert_eq!(<i64 as Num>::pow(3, 0), 1);
        assert_eq!(
            <i32 as Num>::pow(3, i32::MAX),
            3i32.wrapping_pow(i32::MAX as u32)
        );
        assert_eq!(<i64 as Num>::pow(i64::MIN, 2), 0);
    }

    #[test]
    fn segments_match_scalar() {
        let a: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..3000).map(|i| (i as f32).cos()).collect();
        for op in [
            BinaryOp::Add,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Maximum,
            BinaryOp::Pow,
            BinaryOp::Mod,
            BinaryOp::Atan2,
            BinaryOp::Fmod,
            BinaryOp::Hypot,
            BinaryOp::NextAfter,
            BinaryOp::FloorDiv,
        ] {
            let mut out = vec![0f32; 1000];
            unsafe { binary_segment(op, a.as_ptr(), 1, b.as_ptr(), 3, out.as_mut_ptr(), 1000) };
            for i in 0..1000 {
                let r = binary_scalar(op, a[i], b[3 * i]);
                assert!(out[i] == r || (out[i].is_nan() && r.is_nan()), "{op:?} {i}");
            }
        }
    }

    #[test]
    fn casts() {
        assert_eq!(cast_one::<f32, i32>(-2.7), -2);
        assert_eq!(cast_one::<f64, i32>(f64::NAN), 0);
        assert!(cast_one::<f32, bool>(0.1));
        assert_eq!(cast_one::<i64, i32>(1 << 33), 0);
        assert_eq!(cast_one::<bool, f32>(true), 1.0);
    }
}
