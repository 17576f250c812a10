//! Unary elementwise kernels and their backward rules.
//!
//! Math: `y[i] = f(x[i])` for the ops in [`UnaryOp`]; backward `gx[i] = gy[i] * f'(x[i])`, written
//! with the saved output `y` where that is cheaper (exp, tanh, sigmoid, sqrt, reciprocal).
//! Layout: the slice kernels take contiguous slices of equal length; strided inputs are gathered
//! into a small stack block first, so every op has exactly one vectorised loop.
//! Aliasing: `y` may not overlap `x` (outputs are fresh buffers).

use super::math::Real;
use crate::simd_fn;

/// The unary ops with a float kernel. Parameters are stored as f64 and converted per dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Abs,
    Exp,
    Log,
    Log1p,
    Expm1,
    Sqrt,
    Rsqrt,
    Square,
    Reciprocal,
    Sin,
    Cos,
    Asin,
    Acos,
    Atan,
    Asinh,
    Acosh,
    Atanh,
    Tanh,
    Sigmoid,
    Relu,
    Relu6,
    LeakyRelu(f64),
    Elu(f64),
    Selu,
    Gelu,
    GeluTanh,
    Silu,
    Softplus,
    Softsign,
    Erf,
    Erfinv,
    Sign,
    Floor,
    Ceil,
    Round,
    Clip(f64, f64),
}

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

impl UnaryOp {
    /// The op's public name (for errors and repr).
    pub fn name(&self) -> &'static str {
        match self {
            UnaryOp::Neg => "negative",
            UnaryOp::Abs => "abs",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Square => "square",
            UnaryOp::Reciprocal => "reciprocal",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Asin => "arcsin",
            UnaryOp::Acos => "arccos",
            UnaryOp::Atan => "arctan",
            UnaryOp::Asinh => "arcsinh",
            UnaryOp::Acosh => "arccosh",
            UnaryOp::Atanh => "arctanh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Relu => "relu",
            UnaryOp::Relu6 => "relu6",
            UnaryOp::LeakyRelu(_) => "leaky_relu",
            UnaryOp::Elu(_) => "elu",
            UnaryOp::Selu => "selu",
            UnaryOp::Gelu => "gelu",
            UnaryOp::GeluTanh => "gelu",
            UnaryOp::Silu => "silu",
            UnaryOp::Softplus => "softplus",
            UnaryOp::Softsign => "softsign",
            UnaryOp::Erf => "erf",
            UnaryOp::Erfinv => "erfinv",
            UnaryOp::Sign => "sign",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Clip(..) => "clip",
        }
    }

    /// Ops whose derivative is zero almost everywhere: results do not require grad.
    pub fn is_piecewise_constant(&self) -> bool {
        matches!(
            self,
            UnaryOp::Sign | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round
        )
    }

    /// Whether the backward rule reads the forward output (so it must be saved).
    pub fn backward_uses_output(&self) -> bool {
        matches!(
            self,
            UnaryOp::Exp
                | UnaryOp::Expm1
                | UnaryOp::Sqrt
                | UnaryOp::Rsqrt
                | UnaryOp::Reciprocal
                | UnaryOp::Tanh
                | UnaryOp::Sigmoid
                | UnaryOp::Elu(_)
                | UnaryOp::Selu
                | UnaryOp::Erfinv
        )
    }

    /// Whether the backward rule reads the input's values (the autograd version check needs to
    /// know: an in-place write to an input the rule never reads cannot change the gradient).
    /// Must agree with `unary_backward_impl`.
    pub fn backward_reads_input(&self) -> bool {
        !matches!(
            self,
            UnaryOp::Neg
                | UnaryOp::Exp
                | UnaryOp::Expm1
                | UnaryOp::Sqrt
                | UnaryOp::Rsqrt
                | UnaryOp::Reciprocal
                | UnaryOp::Tanh
                | UnaryOp::Sigmoid
                | UnaryOp::Erfinv
                | UnaryOp::Sign
                | UnaryOp::Floor
                | UnaryOp::Ceil
                | UnaryOp::Round
        )
    }
}

#[inline(always)]
fn gelu_tanh_inner<T: Real>(v: T) -> T {
    T::c(SQRT_2_OVER_PI) * (v + T::c(GELU_C) * v * v * v)
}

/// `y = op(x)` over contiguous slices (the vectorised body; see `simd.rs`).
#[inline(always)]
pub fn unary_slice_impl<T: Real>(op: UnaryOp, x: &[T], y: &mut [T]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let zero = T::c(0.0);
    let one = T::c(1.0);
    macro_rules! map {
        (|$v:ident| $e:expr) => {
            for (o, &$v) in y.iter_mut().zip(x.iter()) {
                *o = $e;
            }
        };
    }
    match op {
        UnaryOp::Neg => map!(|v| -v),
        UnaryOp::Abs => map!(|v| v.abs()),
        UnaryOp::Exp => map!(|v| v.exp()),
        UnaryOp::Log => map!(|v| v.ln()),
        UnaryOp::Log1p => map!(|v| v.ln1p()),
        UnaryOp::Expm1 => map!(|v| v.expm1()),
        UnaryOp::Sqrt => map!(|v| v.sqrt()),
        UnaryOp::Rsqrt => map!(|v| one / v.sqrt()),
        UnaryOp::Square => map!(|v| v * v),
        UnaryOp::Reciprocal => map!(|v| one / v),
        UnaryOp::Sin => map!(|v| v.sin()),
        UnaryOp::Cos => map!(|v| v.cos()),
        UnaryOp::Asin => map!(|v| v.asin()),
        UnaryOp::Acos => map!(|v| v.acos()),
        UnaryOp::Atan => map!(|v| v.atan()),
        UnaryOp::Asinh => map!(|v| v.asinh()),
        UnaryOp::Acosh => map!(|v| v.acosh()),
        UnaryOp::Atanh => map!(|v| v.atanh()),
        UnaryOp::Tanh => map!(|v| v.tanh()),
        UnaryOp::Sigmoid => map!(|v| v.sigmoid()),
        UnaryOp::Relu => map!(|v| if v > zero || v.is_nan() { v } else { zero }),
        UnaryOp::Relu6 => {
            let six = T::c(6.0);
            map!(|v| if v.is_nan() {
                v
            } else if v < zero {
                zero
            } else if v > six {
                six
            } else {
                v
            })
        }
        UnaryOp::LeakyRelu(a) => {
            let a = T::c(a);
            map!(|v| if v >= zero { v } else { v * a })
        }
        UnaryOp::Elu(a) => {
            let a = T::c(a);
            map!(|v| if v > zero { v } else { a * v.expm1() })
        }
        UnaryOp::Selu => {
            let (al, sc) = (T::c(SELU_ALPHA), T::c(SELU_SCALE));
            map!(|v| if v > zero {
                sc * v
            } else {
                sc * al * v.expm1()
            })
        }
        UnaryOp::Gelu => map!(|v| v * v.normal_cdf()),
        UnaryOp::GeluTanh => {
            let h = T::c(0.5);
            map!(|v| h * v * (one + gelu_tanh_inner(v).tanh()))
        }
        UnaryOp::Silu => map!(|v| v * v.sigmoid()),
        UnaryOp::Softplus => map!(|v| v.max_(zero) + (-v.abs()).exp().ln1p()),
        UnaryOp::Softsign => map!(|v| v / (one + v.abs())),
        UnaryOp::Erf => map!(|v| v.erf()),
        UnaryOp::Erfinv => map!(|v| T::c(super::math::erfinv_f64(v.to_f64()))),
        UnaryOp::Sign => map!(|v| if v > zero {
            one
        } else if v < zero {
            -one
        } else {
            v
        }),
        UnaryOp::Floor => map!(|v| v.floor()),
        UnaryOp::Ceil => map!(|v| v.ceil()),
        UnaryOp::Round => map!(|v| v.round_even()),
        UnaryOp::Clip(lo, hi) => {
            let (lo, hi) = (T::c(lo), T::c(hi));
            map!(|v| if v < lo {
                lo
            } else if v > hi {
                hi
            } else {
                v
            })
        }
    }
}

simd_fn!(
    /// `y = op(x)` on contiguous slices, on the best ISA.
    pub fn unary_slice<T: Real>(op: UnaryOp, x: &[T], y: &mut [T]) => unary_slice_impl, avx512
);

/// `gx = gy * op'(x)` (with `y = op(x)`) over contiguous slices of equal length.
#[inline(always)]
pub fn unary_backward_impl<T: Real>(op: UnaryOp, x: &[T], y: &[T], gy: &[T], gx: &mut [T]) {
    let n = gx.len();
    let (x, y, gy) = (&x[..n], &y[..n], &gy[..n]);
    let zero = T::c(0.0);
    let one = T::c(1.0);
    let half = T::c(0.5);
    macro_rules! map {
        (|$xv:ident, $yv:ident, $g:ident| $e:expr) => {
            for i in 0..n {
                let ($xv, $yv, $g) = (x[i], y[i], gy[i]);
                let _ = (&$xv, &$yv);
                gx[i] = $e;
            }
        };
    }
    match op {
        UnaryOp::Neg => map!(|v, _y, g| -g),
        UnaryOp::Abs => map!(|v, _y, g| if v > zero {
            g
        } else if v < zero {
            -g
        } else {
            zero
        }),
        UnaryOp::Exp => map!(|_v, yv, g| g * yv),
        UnaryOp::Log => map!(|v, _y, g| g / v),
        UnaryOp::Log1p => map!(|v, _y, g| g / (one + v)),
        UnaryOp::Expm1 => map!(|_v, yv, g| g * (yv + one)),
        UnaryOp::Sqrt => map!(|_v, yv, g| g * half / yv),
        UnaryOp::Rsqrt => map!(|_v, yv, g| -half * g * yv * yv * yv),
        UnaryOp::Square => map!(|v, _y, g| g * T::c(2.0) * v),
        UnaryOp::Reciprocal => map!(|_v, yv, g| -g * yv * yv),
        UnaryOp::Sin => map!(|v, _y, g| g * v.cos()),
        UnaryOp::Cos => map!(|v, _y, g| -g * v.sin()),
        UnaryOp::Asin => map!(|v, _y, g| g / (one - v * v).sqrt()),
        UnaryOp::Acos => map!(|v, _y, g| -g / (one - v * v).sqrt()),
        UnaryOp::Atan => map!(|v, _y, g| g / (one + v * v)),
        UnaryOp::Asinh => map!(|v, _y, g| g / (v * v + one).sqrt()),
        UnaryOp::Acosh => map!(|v, _y, g| g / (v * v - one).sqrt()),
        UnaryOp::Atanh => map!(|v, _y, g| g / (one - v * v)),
        UnaryOp::Tanh => map!(|_v, yv, g| g * (one - yv * yv)),
        UnaryOp::Sigmoid => map!(|_v, yv, g| g * yv * (one - yv)),
        UnaryOp::Relu => map!(|v, _y, g| if v > zero { g } else { zero }),
        UnaryOp::Relu6 => map!(|v, _y, g| if v > zero && v < T::c(6.0) { g } else { zero }),
        UnaryOp::LeakyRelu(a) => {
            let a = T::c(a);
            map!(|v, _y, g| if v >= zero { g } else { g * a })
        }
        UnaryOp::Elu(a) => {
            let a = T::c(a);
            map!(|v, yv, g| if v > zero { g } else { g * (yv + a) })
        }
        UnaryOp::Selu => {
            let (al, sc) = (T::c(SELU_ALPHA), T::c(SELU_SCALE));
            map!(|v, yv, g| if v > zero { g * sc } else { g * (yv + sc * al) })
        }
        UnaryOp::Gelu => {
            let inv_sqrt_2pi = T::c(0.398_942_280_401_432_7);
            map!(|v, _y, g| {
                let cdf = v.normal_cdf();
                let pdf = inv_sqrt_2pi * (-half * v * v).exp();
                g * (cdf + v * pdf)
            })
        }
        UnaryOp::GeluTanh => {
            let k = T::c(SQRT_2_OVER_PI);
            let c3 = T::c(3.0 * GELU_C);
            map!(|v, _y, g| {
                let t = gelu_tanh_inner(v).tanh();
                g * (half * (one + t) + half * v * (one - t * t) * k * (one + c3 * v * v))
            })
        }
        UnaryOp::Silu => map!(|v, _y, g| {
            let s = v.sigmoid();
            g * (s + v * s * (one - s))
        }),
        UnaryOp::Softplus => map!(|v, _y, g| g * v.sigmoid()),
        UnaryOp::Softsign => map!(|v, _y, g| {
            let d = one + v.abs();
            g / (d * d)
        }),
        UnaryOp::Erfinv => {
            // d/dy erfinv(y) = sqrt(pi) / 2 * exp(erfinv(y)^2)
            let k = T::c(std::f64::consts::PI.sqrt() / 2.0);
            map!(|_v, yv, g| g * k * (yv * yv).exp())
        }
        UnaryOp::Erf => {
            let k = T::c(std::f64::consts::FRAC_2_SQRT_PI);
            map!(|v, _y, g| g * k * (-(v * v)).exp())
        }
        UnaryOp::Sign | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => map!(|_v, _y, _g| zero),
        UnaryOp::Clip(lo, hi) => {
            let (lo, hi) = (T::c(lo), T::c(hi));
            map!(|v, _y, g| if v >= lo && v <= hi { g } else { zero })
        }
    }
}

simd_fn!(
    /// Backward of a unary op on contiguous slices, on the best ISA.
    pub fn unary_backward_slice<T: Real>(op: UnaryOp, x: &[T], y: &[T], gy: &[T], gx: &mut [T]) => unary_backward_impl, avx512
);

/// Block size for gathering strided runs into contiguous scratch (fits L1 comfortably).
pub const GATHER_BLOCK: usize = 256;

/// `y[0..n] = op(x[0], x[sx], x[2 sx], ...)`, with `y` contiguous.
///
/// # Safety
/// `x` must be valid for `n` reads at stride `sx`, `y` for `n` writes.
pub unsafe fn unary_segment<T: Real>(op: UnaryOp, x: *const T, sx: isize, y: *mut T, n: usize) {
    if sx == 1 {
        unary_slice(
            op,
            std::slice::from_raw_parts(x, n),
            std::slice::from_raw_parts_mut(y, n),
        );
        return;
    }
    let mut buf = [T::default(); GATHER_BLOCK];
    let mut done = 0;
    while done < n {
        let m = (n - done).min(GATHER_BLOCK);
        for (i, b) in buf[..m].iter_mut().enumerate() {
            *b = *x.offset((done + i) as isize * sx);
        }
        unary_slice(
            op,
            &buf[..m],
            std::slice::from_raw_parts_mut(y.add(done), m),
        );
        done += m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::simd;

    const OPS: &[UnaryOp] = &[
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Log1p,
        UnaryOp::Expm1,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Square,
        UnaryOp::Reciprocal,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Asin,
        UnaryOp::Acos,
        UnaryOp::Atan,
        UnaryOp::Asinh,
        UnaryOp::Acosh,
        UnaryOp::Atanh,
        UnaryOp::Tanh,
        UnaryOp::Sigmoid,
        UnaryOp::Relu,
        UnaryOp::Relu6,
        UnaryOp::LeakyRelu(0.2),
        UnaryOp::Elu(1.0),
        UnaryOp::Selu,
        UnaryOp::Gelu,
        UnaryOp::GeluTanh,
        UnaryOp::Silu,
        UnaryOp::Softplus,
        UnaryOp::Softsign,
        UnaryOp::Erf,
        UnaryOp::Erfinv,
        UnaryOp::Sign,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Clip(-0.5, 0.7),
    ];

    #[test]
    fn simd_matches_scalar_bit_for_bit() {
        for n in [1usize, 3, 17, 1000, 1031] {
            let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.731).sin() * 7.0).collect();
            for &op in OPS {
                let mut a = vec![0f32; n];
                let mut b = vec![0f32; n];
                unary_slice_impl(op, &x, &mut a);
                unary_slice(op, &x, &mut b);
                for i in 0..n {
                    assert!(
                        a[i].to_bits() == b[i].to_bits() || (a[i].is_nan() && b[i].is_nan()),
                        "{op:?} n={n} i={i}: {} vs {}",
                        a[i],
                        b[i]
                    );
                }
            }
        }
        let _ = simd::isa();
    }

    #[test]
    fn strided_segment_matches_contiguous() {
        let x: Vec<f64> = (0..3000).map(|i| i as f64 * 0.01 - 10.0).collect();
        let mut y = vec![0f64; 1000];
        unsafe { unary_segment(UnaryOp::Tanh, x.as_ptr().add(2), 3, y.as_mut_ptr(), 1000) };
        for i in 0..1000 {
            assert_eq!(y[i], libm::tanh(x[2 + 3 * i]));
        }
    }
}
