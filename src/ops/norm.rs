//! Fused batch normalization (training mode) over every axis but the last.

use crate::autograd::{needs_record, Op};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::norm::{apply_affine, batch_stats, grad_sums, input_grad, NormScalar};
use crate::tensor::Tensor;

use super::{cast_nograd, contiguous, contiguous_nograd, finish};

const OP: &str = "batch_norm";

/// Checks a per-feature parameter of a normalization op: shape `(c,)` and the input's dtype
/// (`per` names what one value covers in the message: "channel", "feature of the last axis").
pub(super) fn check_param(
    op: &str,
    name: &str,
    p: &Tensor,
    c: usize,
    dtype: DType,
    per: &str,
) -> Result<()> {
    if p.shape() != [c] {
        return Err(Error::shape(
            op,
            format!(
                "{name} has shape {:?}, expected ({c},) (one value per {per})",
                p.shape()
            ),
        ));
    }
    if p.dtype() != dtype {
        return Err(Error::dtype(
            op,
            format!(
                "{name} has dtype {}, expected {dtype} like the input",
                p.dtype()
            ),
        ));
    }
    Ok(())
}

/// The elements of a contiguous tensor of element type T.
pub(super) fn slice<T: Element>(t: &Tensor) -> &[T] {
    // SAFETY: callers pass contiguous tensors of element type T.
    unsafe { std::slice::from_raw_parts(t.data_ptr::<T>(), t.numel()) }
}

/// Normalizes `x` (channels on the last axis) with its batch statistics:
/// `y = (x - mean) / sqrt(var + eps) * gamma + beta`. Returns `(y, mean, var)`, the statistics
/// (biased variance, shape `(c,)`, no gradient) for the caller's moving averages. `y` records
/// one autograd node with inputs `[x, gamma, beta]`.
pub fn batch_norm_train(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            OP,
            format!("expected a float input, got dtype {}", x.dtype()),
        ));
    }
    if x.ndim() < 1 {
        return Err(Error::shape(
            OP,
            "expected an input with a channel axis (rank >= 1), got a scalar",
        ));
    }
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::value(
            OP,
            format!("epsilon must be a positive finite number, got {eps}"),
        ));
    }
    let c = x.shape()[x.ndim() - 1];
    check_param(OP, "gamma", gamma, c, x.dtype(), "channel")?;
    check_param(OP, "beta", beta, c, x.dtype(), "channel")?;
    let m = x.numel().checked_div(c).unwrap_or(0);
    if m == 0 && c > 0 {
        return Err(Error::value(
            OP,
            format!("training statistics need at least one value per channel, got an input of shape {:?}", x.shape()),
        ));
    }
    let xc = contiguous(x)?;
    // Views (a strided slice of a weight) are read through their layout, never as raw memory.
    let (gamma, beta) = (&contiguous(gamma)?, &contiguous(beta)?);
    let y = Tensor::empty(x.shape(), x.dtype())?;
    macro_rules! run {
        ($T:ty) => {{
            let (mean, var) = if c == 0 {
                (vec![], vec![])
            } else {
                batch_stats::<$T>(slice(&xc), m, c)
            };
            let inv: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
            let (gs, bs) = (slice::<$T>(gamma), slice::<$T>(beta));
            let scale: Vec<$T> = (0..c)
                .map(|j| <$T>::from_f64(gs[j].to_f64() * inv[j]))
                .collect();
            let shift: Vec<$T> = (0..c)
                .map(|j| <$T>::from_f64(bs[j].to_f64() - mean[j] * gs[j].to_f64() * inv[j]))
                .collect();
            if c > 0 {
                // SAFETY: y is a fresh contiguous buffer of x's size.
                unsafe { apply_affine::<$T>(slice(&xc), m, c, &scale, &shift, y.data_ptr::<$T>()) };
            }
            let mean_t = Tensor::from_vec(
                mean.iter().map(|&v| <$T>::from_f64(v)).collect::<Vec<$T>>(),
                &[c],
            )?;
            let var_t = Tensor::from_vec(
                var.iter().map(|&v| <$T>::from_f64(v)).collect::<Vec<$T>>(),
                &[c],
            )?;
            let saved = if needs_record(&[&xc, gamma, beta]) {
                vec![Tensor::from_vec(mean, &[c])?, Tensor::from_vec(inv, &[c])?]
            } else {
                vec![]
            };
            Ok((
                finish(y, Op::BatchNorm, &[&xc, gamma, beta], saved),
                mean_t,
                var_t,
            ))
        }};
    }
    match x.dtype() {
        DType::F32 => run!(f32),
        DType::F64 => run!(f64),
        other => Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
}

/// Gradients of [`batch_norm_train`]'s inputs `[x, gamma, beta]` from the output gradient `g`
/// and the saved `[mean, inv_std]` (f64, shape `(c,)`).
pub(crate) fn batch_norm_backward(
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let (x, gamma) = (&inputs[0], &inputs[1]);
    let (mean_t, inv_t) = match saved {
        [m, i] => (m, i),
        _ => return Err(Error::autograd(OP, "the batch statistics were not saved")),
    };
    let c = x.shape()[x.ndim() - 1];
    let m = x.numel().checked_div(c).unwrap_or(0);
    let g = contiguous_nograd(&cast_nograd(g, x.dtype())?)?;
    let (mean, inv) = (slice::<f64>(mean_t), slice::<f64>(inv_t));
    #[allow(clippy::too_many_arguments)]
    fn go<T: NormScalar>(
        x: &Tensor,
        gamma: &Tensor,
        g: &Tensor,
        m: usize,
        c: usize,
        mean: &[f64],
        inv: &[f64],
        need: &[bool],
    ) -> Result<Vec<Option<Tensor>>> {
        let (xs, gs, gam) = (slice::<T>(x), slice::<T>(g), slice::<T>(gamma));
        let (sg, sgx) = if c == 0 {
            (vec![], vec![])
        } else {
            grad_sums::<T>(xs, gs, m, c, mean)
        };
        let dgamma: Vec<f64> = (0..c).map(|j| sgx[j] * inv[j]).collect();
        let dx = if need[0] {
            // dx = k (g - dbeta/m - (x - mean) inv dgamma/m), k = gamma inv, expanded to p g + q x + r.
            let mf = m as f64;
            let mut p = Vec::with_capacity(c);
            let mut q = Vec::with_capacity(c);
            let mut r = Vec::with_capacity(c);
            for j in 0..c {
                let k = gam[j].to_f64() * inv[j];
                let qj = -k * inv[j] * dgamma[j] / mf;
                p.push(T::from_f64(k));
                q.push(T::from_f64(qj));
                r.push(T::from_f64(-k * sg[j] / mf - qj * mean[j]));
            }
            let dx = Tensor::empty(x.shape(), x.dtype())?;
            if c > 0 {
                // SAFETY: dx is fresh and contiguous; g and x are contiguous of the same size.
                unsafe { input_grad::<T>(gs, xs, m, c, &p, &q, &r, dx.data_ptr::<T>()) };
            }
            Some(dx)
        } else {
            None
        };
        let to_t = |v: &[f64]| {
            Tensor::from_vec(v.iter().map(|&a| T::from_f64(a)).collect::<Vec<T>>(), &[c])
        };
        let dg = if need[1] { Some(to_t(&dgamma)?) } else { None };
        let db = if need[2] { Some(to_t(&sg)?) } else { None };
        Ok(vec![dx, dg, db])
    }
    match x.dtype() {
        DType::F32 => go::<f32>(x, gamma, &g, m, c, mean, inv, need),
        DType::F64 => go::<f64>(x, gamma, &g, m, c, mean, inv, need),
        other => Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
}
