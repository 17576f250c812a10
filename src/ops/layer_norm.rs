//! Fused layer normalization / RMS normalization over the last axis (kernels/layer_norm.rs).

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::layer_norm as k;
use crate::kernels::norm::NormScalar;
use crate::tensor::Tensor;

use super::norm::{check_param, slice};
use super::{cast_nograd, contiguous, contiguous_nograd, finish};

const OP: &str = "layer_norm";

/// The recorded normalization's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormSpec {
    pub rms: bool,
    pub has_gamma: bool,
    pub has_beta: bool,
}

/// `y = (x - mean) / sqrt(var + eps) * gamma + beta` over the last axis (`rms`: `y = x /
/// sqrt(mean(x^2) + eps) * gamma + beta`); gamma and beta (shape `(c,)`) are optional.
pub fn layer_norm(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    eps: f64,
    rms: bool,
) -> Result<Tensor> {
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            OP,
            format!("expected a float input, got dtype {}", x.dtype()),
        ));
    }
    if x.ndim() < 1 {
        return Err(Error::shape(
            OP,
            "expected an input with a feature axis (rank >= 1), got a scalar",
        ));
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(Error::value(
            OP,
            format!("epsilon must be a finite number >= 0, got {eps}"),
        ));
    }
    let c = x.shape()[x.ndim() - 1];
    let m = x.numel().checked_div(c).unwrap_or(0);
    if let Some(g) = gamma {
        check_param(OP, "gamma", g, c, x.dtype(), "feature of the last axis")?;
    }
    if let Some(b) = beta {
        check_param(OP, "beta", b, c, x.dtype(), "feature of the last axis")?;
    }
    let xc = contiguous(x)?;
    let gc = gamma.map(contiguous).transpose()?;
    let bc = beta.map(contiguous).transpose()?;
    let y = Tensor::empty(x.shape(), x.dtype())?;
    macro_rules! go {
        ($T:ty) => {{
            // SAFETY: y is a fresh contiguous buffer of x's size.
            unsafe {
                k::forward::<$T>(
                    slice(&xc),
                    y.data_ptr::<$T>(),
                    m,
                    c,
                    gc.as_ref().map(slice::<$T>),
                    bc.as_ref().map(slice::<$T>),
                    eps,
                    rms,
                )
            }
        }};
    }
    let stats = match x.dtype() {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    };
    let mut inputs: Vec<&Tensor> = vec![&xc];
    inputs.extend(gc.iter());
    inputs.extend(bc.iter());
    let saved = if needs_record(&inputs) {
        vec![Tensor::from_vec(stats, &[m, 2])?]
    } else {
        vec![]
    };
    let spec = LayerNormSpec {
        rms,
        has_gamma: gc.is_some(),
        has_beta: bc.is_some(),
    };
    Ok(finish(y, Op::LayerNorm(spec), &inputs, saved))
}

/// Gradients of [`layer_norm`]'s inputs `[x, (gamma), (beta)]` from `g` and the saved
/// per-row (mean, rstd) (f64, shape (m, 2)).
pub(crate) fn layer_norm_backward(
    spec: &LayerNormSpec,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let x = &inputs[0];
    let gamma = if spec.has_gamma {
        Some(&inputs[1])
    } else {
        None
    };
    let stats = match saved {
        [s] => s,
        _ => return Err(Error::autograd(OP, "the row statistics were not saved")),
    };
    let c = x.shape()[x.ndim() - 1];
    let m = x.numel().checked_div(c).unwrap_or(0);
    let g = contiguous_nograd(&cast_nograd(g, x.dtype())?)?;
    #[allow(clippy::too_many_arguments)]
    fn go<T: NormScalar>(
        x: &Tensor,
        g: &Tensor,
        gamma: Option<&Tensor>,
        stats: &[f64],
        m: usize,
        c: usize,
        spec: &LayerNormSpec,
        need: &[bool],
    ) -> Result<Vec<Option<Tensor>>> {
        let dx = if need[0] {
            Some(Tensor::empty(x.shape(), x.dtype())?)
        } else {
            None
        };
        // SAFETY: x and g are contiguous of m * c values, dx fresh of the same size.
        let (dg, db) = unsafe {
            k::backward::<T>(
                slice(x),
                slice(g),
                dx.as_ref().map(|t| t.data_ptr::<T>()),
                m,
                c,
                gamma.map(slice::<T>),
                spec.rms,
                stats,
            )
        };
        let to_t = |v: &[f64]| {
            Tensor::from_vec(v.iter().map(|&a| T::from_f64(a)).collect::<Vec<T>>(), &[c])
        };
        let mut out = vec![dx];
        let mut i = 1;
        if spec.has_gamma {
            out.push(if need[i] { Some(to_t(&dg)?) } else { None });
            i += 1;
        }
        if spec.has_beta {
            out.push(if need[i] { Some(to_t(&db)?) } else { None });
        }
        Ok(out)
    }
    let st = slice::<f64>(stats);
    match x.dtype() {
        DType::F32 => go::<f32>(x, &g, gamma, st, m, c, spec, need),
        DType::F64 => go::<f64>(x, &g, gamma, st, m, c, spec, need),
        other => Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
}
