//! Backward rules: one exhaustive match over [`Op`]. Each rule returns one optional gradient per
//! input (None where the input needs none); it runs under `no_grad`, composing tensor ops.

use super::Op;
use crate::error::Result;
use crate::kernels::binary::{BinaryOp, CmpOp};
use crate::kernels::unary::UnaryOp;
use crate::ops;
use crate::tensor::Tensor;

fn need_any(need: &[bool]) -> bool {
    need.iter().any(|&b| b)
}

/// Gradients of `op`'s inputs given the output gradient `g`.
pub(super) fn rule(
    op: &Op,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    if !need_any(need) {
        return Ok(vec![None; inputs.len()]);
    }
    let x = &inputs[0];
    let one = |t: Tensor| Ok(vec![Some(t)]);
    match op {
        Op::Unary(u) => one(ops::unary_backward(*u, x, saved.first(), g)?),
        Op::Binary(b) => binary_rule(*b, &inputs[0], &inputs[1], saved, g, need),
        Op::Where => {
            let (c, a, b) = (&inputs[0], &inputs[1], &inputs[2]);
            let z = ops::full(&[], 0.0, g.dtype())?;
            let ga = if need[1] {
                Some(ops::sum_to(&ops::where_(c, g, &z)?, a.shape())?)
            } else {
                None
            };
            let gb = if need[2] {
                Some(ops::sum_to(&ops::where_(c, &z, g)?, b.shape())?)
            } else {
                None
            };
            Ok(vec![None, ga, gb])
        }
        Op::Cast { from } => one(ops::cast(g, *from)?),
        Op::Copy => one(g.clone()),
        Op::Sum { axes, keepdims } => one(ops::expand_reduced(g, x.shape(), axes, *keepdims)?),
        Op::MaxMin { axes, keepdims } => {
            let out = ops::expand_reduced(&saved[0], x.shape(), axes, *keepdims)?;
            let mask = ops::cast(&ops::compare(x, &out, CmpOp::Eq)?, x.dtype())?;
            let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            let count = ops::sum(&mask, Some(&ax), true)?;
            let gk = if *keepdims {
                g.clone()
            } else {
                ops::expand_reduced(g, x.shape(), axes, false)?
            };
            let share = ops::div(&gk, &count)?;
            one(ops::mul(&mask, &share)?)
        }
        Op::Prod { axes, keepdims } => one(ops::prod_backward(x, g, axes, *keepdims)?),
        Op::Softmax { .. } => one(ops::softmax_backward(&saved[0], g, false)?),
        Op::LogSoftmax { .. } => one(ops::softmax_backward(&saved[0], g, true)?),
        Op::Cumsum { .. } => one(ops::cumsum_raw(g, true)?),
        Op::Fft { inverse } => one(ops::fft_backward(g, *inverse)?),
        Op::Cumprod => one(ops::cumprod_backward(x, &saved[0], g)?),
        Op::SegmentReduce { kind, .. } => Ok(vec![
            Some(ops::segment_reduce_backward(
                *kind, x, &inputs[1], &saved[0], g,
            )?),
            None,
        ]),
        Op::Reshape => one(ops::reshape(g, x.shape())?),
        Op::Permute { perm } => {
            let mut inv = vec![0usize; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inv[p] = i;
            }
            one(ops::permute(g, &inv)?)
        }
        Op::BroadcastTo => one(ops::sum_to(g, x.shape())?),
        Op::View(map) => one(ops::view_backward(map, x.shape(), x.dtype(), g)?),
        Op::Concat { axis } => {
            let mut start = 0isize;
            let mut out = Vec::with_capacity(inputs.len());
            for (t, &nd) in inputs.iter().zip(need) {
                let len = t.shape()[*axis] as isize;
                out.push(if nd {
                    Some(ops::slice_axis(
                        g,
                        *axis as isize,
                        Some(start),
                        Some(start + len),
                        1,
                    )?)
                } else {
                    None
                });
                start += len;
            }
            Ok(out)
        }
        Op::Pad { before } => {
            let items: Vec<ops::IndexItem> = before
                .iter()
                .zip(x.shape())
                .map(|(&b, &n)| ops::IndexItem::Slice {
                    start: Some(b as isize),
                    stop: Some((b + n) as isize),
                    step: 1,
                })
                .collect();
            one(ops::index(g, &items)?)
        }
        Op::Take { axis } => Ok(vec![
            Some(ops::take_backward(
                x.shape(),
                x.dtype(),
                &inputs[1],
                *axis,
                g,
            )?),
            None,
        ]),
        Op::IndexAdd { axis } => Ok(vec![
            Some(ops::take(g, &inputs[1], Some(*axis as isize))?),
            None,
        ]),
        Op::TakeAlongAxis { axis } => Ok(vec![
            Some(ops::take_along_axis_backward(
                x.shape(),
                x.dtype(),
                &inputs[1],
                *axis,
                g,
            )?),
            None,
        ]),
        Op::MatMul => {
            let (a, b) = (&inputs[0], &inputs[1]);
            let ga = if need[0] {
                let bt = ops::swapaxes(b, -1, -2)?;
                Some(ops::sum_to(&ops::matmul(g, &bt)?, a.shape())?)
            } else {
                None
            };
            let gb = if need[1] && b.ndim() == 2 && a.ndim() > 2 {
                // A matrix shared by a batch (`x @ kernel` on (..., K) inputs): fold the batch
                // into the rows, one (K, rows) @ (rows, N) GEMM, instead of a (..., K, N) batch of
                // products summed afterwards (batch-times the memory and a reduction pass).
                let (k, n) = (b.shape()[0], b.shape()[1]);
                let rows: usize = a.shape()[..a.ndim() - 1].iter().product();
                let a2 = ops::reshape(a, &[rows, k])?;
                let g2 = ops::reshape(g, &[rows, n])?;
                Some(ops::matmul(&ops::swapaxes(&a2, -1, -2)?, &g2)?)
            } else if need[1] {
                let at = ops::swapaxes(a, -1, -2)?;
                Some(ops::sum_to(&ops::matmul(&at, g)?, b.shape())?)
            } else {
                None
            };
            Ok(vec![ga, gb])
        }
        Op::Dense(spec) => ops::dense_backward(spec, inputs, saved, g, need),
        Op::Conv2d { geom } => ops::conv2d_backward(geom, inputs, g, need),
        Op::Conv2dTranspose { geom } => ops::conv2d_transpose_backward(geom, inputs, g, need),
        Op::MaxPool2d { geom } => {
            let arg = saved.first().ok_or_else(|| {
                crate::error::Error::autograd("max_pool", "the argmax indices were not saved")
            })?;
            one(ops::pool_backward(geom, x, Some(arg), g)?)
        }
        Op::AvgPool2d { geom } => one(ops::pool_backward(geom, x, None, g)?),
        Op::BatchNorm => ops::batch_norm_backward(inputs, saved, g, need),
        Op::Attention(spec) => ops::attention_backward(spec, inputs, saved, g, need),
        Op::LayerNorm(spec) => ops::layer_norm_backward(spec, inputs, saved, g, need),
        Op::Rnn(spec) => ops::rnn_backward(spec, inputs, saved, g, need),
        Op::Linalg(l) => ops::linalg_backward(l, inputs, saved, g, need),
        Op::Custom(rule) => custom_rule(rule.as_ref(), inputs, g),
        Op::SoftmaxXent { sparse } => {
            let gx = if need[0] {
                Some(ops::softmax_xent_grad(&saved[0], &inputs[1], *sparse, g)?)
            } else {
                None
            };
            // d loss / d target = -g log p (dense targets only; labels have no gradient).
            let gt = if need[1] && !*sparse {
                let gk = ops::expand_dims(g, -1)?;
                Some(ops::mul(
                    &ops::unary(&ops::unary(&saved[0], UnaryOp::Log)?, UnaryOp::Neg)?,
                    &gk,
                )?)
            } else {
                None
            };
            Ok(vec![gx, gt])
        }
    }
}

/// Whether `rule(op, ..)` reads the values of input `i` (saved tensors are always read). The
/// version check in `backward` compares only these, so an in-place write to an input whose
/// values the gradient does not depend on (the operands of `add`, the source of a reshape) is
/// allowed, as in PyTorch, which saves only what the formula needs. Exhaustive like `rule`, and
/// kept next to it: a rule that starts reading an input must say so here.
pub(super) fn reads_input(op: &Op, i: usize, need: &[bool]) -> bool {
    let needs = |k: usize| need.get(k).copied().unwrap_or(false);
    match op {
        Op::Unary(u) => i == 0 && u.backward_reads_input(),
        Op::Binary(b) => match b {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::FloorDiv => false,
            // ga = g * b, gb = g * a
            BinaryOp::Mul => i < 2 && needs(1 - i),
            // ga = g / b (also used by gb); gb reads a
            BinaryOp::Div => i == 1 || (i == 0 && needs(1)),
            BinaryOp::Pow | BinaryOp::Maximum | BinaryOp::Minimum | BinaryOp::Atan2 => i < 2,
            // ga = g * a / out, gb = g * b / out
            BinaryOp::Hypot => i < 2,
            // ga = g: nextafter(a, b) differs from a by one ulp
            BinaryOp::NextAfter => false,
            // gb = -g * trunc(a / b) reads both
            BinaryOp::Fmod => i < 2 && needs(1),
            BinaryOp::Mod => i < 2 && needs(1),
        },
        Op::Where => i == 0,
        Op::MaxMin { .. } | Op::Prod { .. } | Op::Cumprod => i == 0,
        // the values are compared with the result; the ids route the gradient
        Op::SegmentReduce { .. } => true,
        Op::Cast { .. }
        | Op::Copy
        | Op::Sum { .. }
        | Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::Cumsum { .. }
        | Op::Fft { .. }
        | Op::Reshape
        | Op::Permute { .. }
        | Op::BroadcastTo
        | Op::View(_)
        | Op::Concat { .. }
        | Op::Pad { .. }
        | Op::AvgPool2d { .. }
        | Op::MaxPool2d { .. } => false,
        // the indices
        Op::Take { .. } | Op::TakeAlongAxis { .. } | Op::IndexAdd { .. } => i == 1,
        // gx reads w, gw reads x; the bias gradient reads nothing
        Op::MatMul | Op::Conv2d { .. } | Op::Conv2dTranspose { .. } => i < 2 && needs(1 - i),
        // dx reads w, dw reads x; the bias is never read (the activation reads saved values)
        Op::Dense(_) => i < 2 && needs(1 - i),
        // x and gamma (beta's gradient is a sum of g)
        Op::BatchNorm => i < 2,
        // the logits gradient reads the labels/targets; the target gradient only the saved probs
        Op::SoftmaxXent { .. } => i == 1 && needs(0),
        // the backward recomputes the probabilities from q, k, bias and mask, and reads v
        Op::Attention(_) => true,
        // x (xhat and dgamma) and gamma (dx); beta's gradient is a sum of g
        Op::LayerNorm(s) => i == 0 || (s.has_gamma && i == 1),
        // det/slogdet invert x; the solves read a
        Op::Linalg(_) => true,
        // the user's rule closes over what it reads; the tape cannot see it
        Op::Custom(_) => false,
        // the recurrent kernel, c0, the masks (h0 and the gates live in the saved buffers; the
        // biases and xw are not read)
        Op::Rnn(s) => {
            i == 1
                || (s.cell == crate::kernels::rnn::Cell::Lstm && i == 3)
                || (s.has_mask || s.has_rec_masks) && i >= 3
        }
    }
}

fn binary_rule(
    op: BinaryOp,
    a: &Tensor,
    b: &Tensor,
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let (ga, gb): (Option<Tensor>, Option<Tensor>) = match op {
        BinaryOp::Add => (Some(g.clone()), Some(g.clone())),
        BinaryOp::Sub => (Some(g.clone()), Some(ops::unary(g, UnaryOp::Neg)?)),
        BinaryOp::Mul => (
            if need[0] { Some(ops::mul(g, b)?) } else { None },
            if need[1] { Some(ops::mul(g, a)?) } else { None },
        ),
        BinaryOp::Div => {
            let ga = ops::div(g, b)?;
            let gb = if need[1] {
                // -g a / b^2 = -(g / b) * (a / b)
                Some(ops::unary(&ops::mul(&ga, &ops::div(a, b)?)?, UnaryOp::Neg)?)
            } else {
                None
            };
            (Some(ga), gb)
        }
        BinaryOp::Pow => {
            let out = &saved[0];
            let ga = if need[0] {
                // g * b * a^(b-1)
                let one = ops::full(&[], 1.0, a.dtype())?;
                let p = ops::binary(a, &ops::sub(b, &one)?, BinaryOp::Pow)?;
                Some(ops::mul(&ops::mul(g, b)?, &p)?)
            } else {
                None
            };
            let gb = if need[1] {
                // g * a^b * ln(a), taken as 0 where a^b == 0 (PyTorch's convention at a == 0)
                let l = ops::unary(a, UnaryOp::Log)?;
                let t = ops::mul(&ops::mul(g, out)?, &l)?;
                let z = ops::full(&[], 0.0, a.dtype())?;
                let nz = ops::compare(out, &z, CmpOp::Ne)?;
                Some(ops::where_(&nz, &t, &z)?)
            } else {
                None
            };
            (ga, gb)
        }
        BinaryOp::Fmod => {
            // fmod(a, b) = a - trunc(a / b) * b: d/da = 1, d/db = -trunc(a / b) = (fmod - a) / b
            let gb = if need[1] {
                let q = ops::div(&ops::sub(&ops::binary(a, b, BinaryOp::Fmod)?, a)?, b)?;
                Some(ops::mul(g, &q)?)
            } else {
                None
            };
            (Some(g.clone()), gb)
        }
        BinaryOp::NextAfter => (Some(g.clone()), None),
        BinaryOp::Hypot => {
            // d/da hypot(a, b) = a / hypot(a, b); 0 where the result is 0 (a subgradient)
            let out = &saved[0];
            let z = ops::full(&[], 0.0, out.dtype())?;
            let safe = ops::where_(
                &ops::compare(out, &z, CmpOp::Eq)?,
                &ops::full(&[], 1.0, out.dtype())?,
                out,
            )?;
            let r = ops::div(g, &safe)?;
            let ga = if need[0] {
                Some(ops::mul(&r, a)?)
            } else {
                None
            };
            let gb = if need[1] {
                Some(ops::mul(&r, b)?)
            } else {
                None
            };
            (ga, gb)
        }
        BinaryOp::Atan2 => {
            // d/da atan2(a, b) = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
            let r = ops::div(g, &ops::add(&ops::mul(a, a)?, &ops::mul(b, b)?)?)?;
            let ga = if need[0] {
                Some(ops::mul(&r, b)?)
            } else {
                None
            };
            let gb = if need[1] {
                Some(ops::unary(&ops::mul(&r, a)?, UnaryOp::Neg)?)
            } else {
                None
            };
            (ga, gb)
        }
        BinaryOp::Maximum | BinaryOp::Minimum => {
            let pick = if op == BinaryOp::Maximum {
                CmpOp::Gt
            } else {
                CmpOp::Lt
            };
            let wa = ops::cast(&ops::compare(a, b, pick)?, g.dtype())?;
            let tie =
                ops::mul_scalar(&ops::cast(&ops::compare(a, b, CmpOp::Eq)?, g.dtype())?, 0.5)?;
            let sa = ops::add(&wa, &tie)?;
            let ga = ops::mul(g, &sa)?;
            let gb = if need[1] {
                Some(ops::sub(g, &ga)?)
            } else {
                None
            };
            (Some(ga), gb)
        }
        BinaryOp::Mod => {
            // a mod b = a - b * floor(a / b)
            let gb = if need[1] {
                let q = ops::unary(&ops::div(a, b)?, UnaryOp::Floor)?;
                Some(ops::unary(&ops::mul(g, &q)?, UnaryOp::Neg)?)
            } else {
                None
            };
            (Some(g.clone()), gb)
        }
        BinaryOp::FloorDiv => (None, None),
    };
    let ga = match ga {
        Some(t) if need[0] => Some(ops::sum_to(&t, a.shape())?),
        _ => None,
    };
    let gb = match gb {
        Some(t) if need[1] => Some(ops::sum_to(&t, b.shape())?),
        _ => None,
    };
    Ok(vec![ga, gb])
}

/// Runs a user rule and checks what it returns: one gradient (or None) per input, each of its
/// input's shape (cast to its dtype).
fn custom_rule(
    rule: &dyn super::op::CustomBackward,
    inputs: &[Tensor],
    g: &Tensor,
) -> Result<Vec<Option<Tensor>>> {
    let grads = rule.backward(g, inputs.len())?;
    if grads.len() != inputs.len() {
        return Err(crate::error::Error::value(
            "custom_gradient",
            format!(
                "the gradient function returned {} gradient(s) for {} tensor input(s)",
                grads.len(),
                inputs.len()
            ),
        ));
    }
    grads
        .into_iter()
        .zip(inputs)
        .enumerate()
        .map(|(i, (gi, x))| match gi {
            None => Ok(None),
            Some(gi) => {
                let gi = if gi.shape() == x.shape() {
                    gi
                } else if crate::shape::broadcast_shapes("custom_gradient", gi.shape(), x.shape())
                    .ok()
                    .as_deref()
                    == Some(x.shape())
                {
                    ops::broadcast_to(&gi, x.shape())?
                } else {
                    return Err(crate::error::Error::shape(
                        "custom_gradient",
                        format!(
                            "gradient {i} has shape {:?}, but its input has shape {:?}",
                            gi.shape(),
                            x.shape()
                        ),
                    ));
                };
                Ok(Some(if gi.dtype() == x.dtype() {
                    gi
                } else {
                    ops::cast(&gi, x.dtype())?
                }))
            }
        })
        .collect()
}
