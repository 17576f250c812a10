//! Integer bit operations (NumPy's `bitwise_and`, `left_shift`, `gcd`, ...): and, or, xor and not
//! on integers and bools, shifts, gcd and lcm on integers. Not differentiable (integer results).
//!
//! NumPy's rules where C leaves the result undefined: a shift by a negative count or by at least
//! the width gives 0 (left) or the sign fill, 0 or -1 (right); gcd and lcm are non-negative, with
//! `gcd(0, 0) = 0` and `lcm(x, 0) = 0`; lcm wraps on overflow as NumPy's does.

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::iter::{Plan, SendPtr};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use crate::threading::GRAIN;

use super::cast_nograd;

/// A bit operation of two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    LeftShift,
    RightShift,
    Gcd,
    Lcm,
}

impl BitOp {
    /// NumPy's name of the op.
    pub fn name(&self) -> &'static str {
        match self {
            BitOp::And => "bitwise_and",
            BitOp::Or => "bitwise_or",
            BitOp::Xor => "bitwise_xor",
            BitOp::LeftShift => "left_shift",
            BitOp::RightShift => "right_shift",
            BitOp::Gcd => "gcd",
            BitOp::Lcm => "lcm",
        }
    }

    /// and/or/xor keep bools as bools; the others compute on integers.
    fn bool_ok(&self) -> bool {
        matches!(self, BitOp::And | BitOp::Or | BitOp::Xor)
    }
}

/// Integer element types of the bit kernels.
trait BitInt: Element + std::ops::BitAnd<Output = Self> + std::ops::BitOr<Output = Self> {
    fn xor(self, o: Self) -> Self;
    fn not(self) -> Self;
    fn shl(self, s: Self) -> Self;
    fn shr(self, s: Self) -> Self;
    fn gcd(self, o: Self) -> Self;
    fn lcm(self, o: Self) -> Self;
}

macro_rules! bit_int {
    ($t:ty, $u:ty) => {
        impl BitInt for $t {
            #[inline(always)]
            fn xor(self, o: $t) -> $t {
                self ^ o
            }
            #[inline(always)]
            fn not(self) -> $t {
                !self
            }
            #[inline(always)]
            fn shl(self, s: $t) -> $t {
                if s < 0 || s as u64 >= <$t>::BITS as u64 {
                    0
                } else {
                    self << s
                }
            }
            #[inline(always)]
            fn shr(self, s: $t) -> $t {
                if s < 0 || s as u64 >= <$t>::BITS as u64 {
                    if self < 0 {
                        -1
                    } else {
                        0
                    }
                } else {
                    self >> s
                }
            }
            #[inline(always)]
            fn gcd(self, o: $t) -> $t {
                let (mut a, mut b): ($u, $u) = (self.unsigned_abs(), o.unsigned_abs());
                while b != 0 {
                    (a, b) = (b, a % b);
                }
                a as $t
            }
            #[inline(always)]
            fn lcm(self, o: $t) -> $t {
                if self == 0 || o == 0 {
                    return 0;
                }
                let g = self.gcd(o);
                (self / g).wrapping_mul(o).wrapping_abs()
            }
        }
    };
}

bit_int!(i32, u32);
bit_int!(i64, u64);

#[inline(always)]
fn apply<T: BitInt>(op: BitOp, a: T, b: T) -> T {
    match op {
        BitOp::And => a & b,
        BitOp::Or => a | b,
        BitOp::Xor => a.xor(b),
        BitOp::LeftShift => a.shl(b),
        BitOp::RightShift => a.shr(b),
        BitOp::Gcd => a.gcd(b),
        BitOp::Lcm => a.lcm(b),
    }
}

fn check_int(name: &str, what: &str, t: &Tensor, bool_ok: bool) -> Result<()> {
    let d = t.dtype();
    if d.is_int() || (bool_ok && d == DType::Bool) {
        return Ok(());
    }
    let want = if bool_ok {
        "integer or bool"
    } else {
        "integer"
    };
    Err(Error::dtype(
        name,
        format!("{what} has dtype {d}, expected an {want} tensor"),
    ))
}

/// `a op b` elementwise with NumPy broadcasting; integers promote as in arithmetic, two bools
/// stay bool for and/or/xor (a bool with an integer computes in the integer's type).
pub fn bitwise(a: &Tensor, b: &Tensor, op: BitOp) -> Result<Tensor> {
    let name = op.name();
    check_int(name, "the first operand", a, op.bool_ok())?;
    check_int(name, "the second operand", b, op.bool_ok())?;
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let dt = match DType::promote(a.dtype(), b.dtype()) {
        DType::Bool if op.bool_ok() => DType::Bool,
        DType::Bool => DType::I32,
        d => d,
    };
    if dt == DType::Bool {
        let lop = match op {
            BitOp::And => crate::kernels::binary::LogicOp::And,
            BitOp::Or => crate::kernels::binary::LogicOp::Or,
            _ => crate::kernels::binary::LogicOp::Xor,
        };
        return super::logical(a, b, lop);
    }
    let a = cast_nograd(a, dt)?;
    let b = cast_nograd(b, dt)?;
    let out = Tensor::empty(&shape, dt)?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let la = a.layout().broadcast_to(&shape)?;
    let lb = b.layout().broadcast_to(&shape)?;
    macro_rules! go {
        ($T:ty) => {{
            let plan = Plan::new(&shape, [la.strides(), lb.strides(), out.strides()]);
            let [sa, sb, _] = plan.inner_strides();
            let (ap, bp, yp) = (
                SendPtr(a.data_ptr::<$T>()),
                SendPtr(b.data_ptr::<$T>()),
                SendPtr(out.data_ptr::<$T>()),
            );
            plan.run([0, 0, 0], GRAIN, |o, n| {
                // SAFETY: the plan hands each call a run of n elements inside the three
                // layouts (a and b broadcast to the output's shape, checked above).
                unsafe {
                    let (pa, pb, py) = (
                        ap.get().offset(o[0]),
                        bp.get().offset(o[1]),
                        yp.get().offset(o[2]),
                    );
                    for i in 0..n {
                        *py.add(i) =
                            apply(op, *pa.offset(i as isize * sa), *pb.offset(i as isize * sb));
                    }
                }
            });
        }};
    }
    match dt {
        DType::I32 => go!(i32),
        DType::I64 => go!(i64),
        other => return Err(Error::dtype(name, format!("unsupported dtype {other}"))),
    }
    Ok(out)
}

/// `~x`: bit complement of integers, logical not of bools.
pub fn bitwise_not(x: &Tensor) -> Result<Tensor> {
    check_int("bitwise_not", "the operand", x, true)?;
    if x.dtype() == DType::Bool {
        return super::logical_not(x);
    }
    let xc = super::contiguous_nograd(x)?;
    let out = Tensor::empty(x.shape(), x.dtype())?;
    macro_rules! go {
        ($T:ty) => {{
            // SAFETY: xc and out are contiguous buffers of x's element count and type.
            let (src, dst) = unsafe {
                (
                    std::slice::from_raw_parts(xc.data_ptr::<$T>(), xc.numel()),
                    std::slice::from_raw_parts_mut(out.data_ptr::<$T>(), out.numel()),
                )
            };
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s.not();
            }
        }};
    }
    match x.dtype() {
        DType::I32 => go!(i32),
        DType::I64 => go!(i64),
        other => {
            return Err(Error::dtype(
                "bitwise_not",
                format!("unsupported dtype {other}"),
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_edge_rules() {
        assert_eq!(1i64.shl(63), i64::MIN);
        assert_eq!(1i64.shl(64), 0);
        assert_eq!(1i64.shl(-1), 0);
        assert_eq!((-8i64).shr(70), -1);
        assert_eq!(8i32.shr(32), 0);
        assert_eq!((-8i32).shr(1), -4);
        assert_eq!(0i64.gcd(0), 0);
        assert_eq!((-12i64).gcd(18), 6);
        assert_eq!(4i32.lcm(-6), 12);
        assert_eq!(0i32.lcm(5), 0);
    }
}
