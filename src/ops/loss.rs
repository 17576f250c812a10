//! Fused softmax cross-entropy (the loss of every classifier), per sample.

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::loss::{softmax_xent_backward, softmax_xent_rows, Targets};
use crate::tensor::Tensor;
use crate::with_float;

use super::{cast, cast_nograd, contiguous, contiguous_nograd, finish};

/// Validated labels (int64, contiguous, in `0..n`).
fn labels(target: &Tensor, n: usize) -> Result<Tensor> {
    let op = "sparse_categorical_crossentropy";
    if !target.dtype().is_int() {
        return Err(Error::dtype(
            op,
            format!("labels must be integers, got dtype {}", target.dtype()),
        ));
    }
    let t = super::copy_as(&contiguous_nograd(target)?, DType::I64)?;
    // SAFETY: fresh contiguous int64 tensor.
    let s = unsafe { std::slice::from_raw_parts(t.data_ptr::<i64>(), t.numel()) };
    if let Some(&bad) = s.iter().find(|&&v| v < 0 || v as usize >= n) {
        return Err(Error::index(
            op,
            format!("label {bad} is out of range for {n} classes (expected 0 <= label < {n})"),
        ));
    }
    Ok(t)
}

/// Cross-entropy of `softmax(logits)` (classes on the last axis) against integer labels
/// (`sparse`, shape `logits.shape[:-1]`) or target distributions (shape of `logits`).
/// Returns one loss per sample, shape `logits.shape[:-1]`.
pub fn softmax_cross_entropy(logits: &Tensor, target: &Tensor, sparse: bool) -> Result<Tensor> {
    let op = if sparse {
        "sparse_categorical_crossentropy"
    } else {
        "categorical_crossentropy"
    };
    if logits.ndim() == 0 {
        return Err(Error::shape(
            op,
            "logits must have a class axis (rank >= 1), got a scalar",
        ));
    }
    let x = contiguous(&cast(logits, logits.dtype().to_float())?)?;
    let n = x.shape()[x.ndim() - 1];
    let lead = &x.shape()[..x.ndim() - 1];
    let t = if sparse {
        if target.shape() != lead {
            return Err(Error::shape(
                op,
                format!(
                    "labels of shape {:?} do not match logits of shape {:?} (expected {:?})",
                    target.shape(),
                    x.shape(),
                    lead
                ),
            ));
        }
        labels(target, n)?
    } else {
        if target.shape() != x.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "targets of shape {:?} do not match logits of shape {:?}",
                    target.shape(),
                    x.shape()
                ),
            ));
        }
        contiguous(&cast(target, x.dtype())?)?
    };
    let rows = x.numel().checked_div(n).unwrap_or(0);
    let loss = Tensor::empty(lead, x.dtype())?;
    let probs = Tensor::empty(x.shape(), x.dtype())?;
    with_float!(x.dtype(), T => unsafe {
        let lab;
        let targets = if sparse {
            lab = std::slice::from_raw_parts(t.data_ptr::<i64>(), t.numel());
            Targets::Sparse(lab)
        } else {
            Targets::Dense(crate::kernels::iter::SendPtr(t.data_ptr::<T>()))
        };
        softmax_xent_rows(x.data_ptr::<T>(), &targets, rows, n, loss.data_ptr::<T>(), probs.data_ptr::<T>());
    }, _ => unreachable!());
    let saved = if needs_record(&[&x, &t]) {
        vec![probs]
    } else {
        vec![]
    };
    Ok(finish(loss, Op::SoftmaxXent { sparse }, &[&x, &t], saved))
}

/// Gradient of [`softmax_cross_entropy`] with respect to the logits.
pub(crate) fn softmax_xent_grad(
    probs: &Tensor,
    target: &Tensor,
    sparse: bool,
    g: &Tensor,
) -> Result<Tensor> {
    let n = probs.shape()[probs.ndim() - 1];
    let rows = probs.numel().checked_div(n).unwrap_or(0);
    let g = contiguous_nograd(&cast_nograd(g, probs.dtype())?)?;
    let dx = Tensor::empty(probs.shape(), probs.dtype())?;
    with_float!(probs.dtype(), T => unsafe {
        let lab;
        let targets = if sparse {
            lab = std::slice::from_raw_parts(target.data_ptr::<i64>(), target.numel());
            Targets::Sparse(lab)
        } else {
            Targets::Dense(crate::kernels::iter::SendPtr(target.data_ptr::<T>()))
        };
        softmax_xent_backward(probs.data_ptr::<T>(), &targets, g.data_ptr::<T>(), rows, n, dx.data_ptr::<T>());
    }, _ => return Err(Error::dtype("categorical_crossentropy", "backward needs float logits")));
    Ok(dx)
}
