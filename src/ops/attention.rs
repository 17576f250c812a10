//! Scaled dot-product attention (keras.ops.dot_product_attention layout) on the fused kernel in
//! `kernels/attention.rs`: argument checks, the broadcast views of bias and mask, the tape.

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::attention::{self as k, AttnScalar, Bwd, Problem, Strided};
use crate::kernels::iter::SendPtr;
use crate::tensor::Tensor;

use super::{cast, cast_nograd, contiguous, contiguous_nograd, finish, sum_to, zeros};

const OP: &str = "dot_product_attention";

/// The recorded attention's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttentionSpec {
    pub scale: f64,
    pub causal: bool,
    pub has_bias: bool,
    pub has_mask: bool,
    /// Dropout rate on the attention weights (0: none) and the key of its mask.
    pub dropout: f64,
    pub seed: u64,
}

fn strides4(op_what: &str, t: &Tensor, full: &[usize; 4]) -> Result<[isize; 4]> {
    if t.ndim() > 4 {
        return Err(Error::shape(
            OP,
            format!(
                "{op_what} has shape {:?} (rank {}), expected at most rank 4, broadcastable to (B, N, T, S) = {:?}",
                t.shape(),
                t.ndim(),
                full
            ),
        ));
    }
    let l = t.layout().broadcast_to(full).map_err(|_| {
        Error::shape(
            OP,
            format!(
                "{op_what} of shape {:?} does not broadcast to (B, N, T, S) = {:?}",
                t.shape(),
                full
            ),
        )
    })?;
    let s = l.strides();
    Ok([s[0], s[1], s[2], s[3]])
}

fn check_qkv(q: &Tensor, key: &Tensor, v: &Tensor) -> Result<[usize; 6]> {
    for (name, t) in [("query", q), ("key", key), ("value", v)] {
        if !t.dtype().is_float() {
            return Err(Error::dtype(
                OP,
                format!(
                    "{name} has dtype {}, expected float32 or float64",
                    t.dtype()
                ),
            ));
        }
        if t.ndim() != 4 {
            return Err(Error::shape(
                OP,
                format!(
                    "{name} has shape {:?} (rank {}), expected rank 4: query (B, T, N, H), key and value (B, S, K, H)",
                    t.shape(),
                    t.ndim()
                ),
            ));
        }
    }
    if key.dtype() != q.dtype() || v.dtype() != q.dtype() {
        return Err(Error::dtype(
            OP,
            format!(
                "query, key and value must share one dtype, got {}, {} and {}",
                q.dtype(),
                key.dtype(),
                v.dtype()
            ),
        ));
    }
    let (qs, ks, vs) = (q.shape(), key.shape(), v.shape());
    if ks != vs {
        return Err(Error::shape(
            OP,
            format!("key has shape {ks:?} but value has shape {vs:?}; expected both (B, S, K, H)"),
        ));
    }
    if qs[0] != ks[0] {
        return Err(Error::shape(
            OP,
            format!(
                "batch sizes differ: query {qs:?} has B={}, key {ks:?} has B={}",
                qs[0], ks[0]
            ),
        ));
    }
    if qs[3] != ks[3] {
        return Err(Error::shape(
            OP,
            format!(
                "head sizes differ: query {qs:?} has H={}, key {ks:?} has H={}",
                qs[3], ks[3]
            ),
        ));
    }
    let (n, kh) = (qs[2], ks[2]);
    if kh == 0 && n > 0 || kh > 0 && n % kh != 0 {
        return Err(Error::shape(
            OP,
            format!(
                "the number of query heads ({n}, query {qs:?}) must be a multiple of the number of key/value heads ({kh}, key {ks:?})"
            ),
        ));
    }
    Ok([qs[0], qs[1], ks[1], n, kh, qs[3]])
}

/// `softmax(scale * q k^T + bias, masked) v` with Keras' layout: query (B, T, N, H), key and
/// value (B, S, K, H) with K dividing N; `bias` (float) and `mask` (bool, True = attend)
/// broadcastable to (B, N, T, S); `is_causal` lets row i see keys j <= i (Keras' lower
/// triangle on the (T, S) grid). Rows with no visible key give zeros. `dropout_rate` > 0 drops
/// attention weights (inverted dropout, training) with a mask keyed by `seed` (or the global
/// generator's next key) that the backward regenerates.
#[allow(clippy::too_many_arguments)]
pub fn dot_product_attention(
    q: &Tensor,
    key: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    mask: Option<&Tensor>,
    scale: Option<f64>,
    is_causal: bool,
    dropout_rate: f64,
    seed: Option<u64>,
) -> Result<Tensor> {
    let [b, t, s, n, _, h] = check_qkv(q, key, v)?;
    if !(0.0..1.0).contains(&dropout_rate) {
        return Err(Error::value(
            OP,
            format!("dropout_rate must be in [0, 1), got {dropout_rate}"),
        ));
    }
    let scale = scale.unwrap_or(1.0 / (h.max(1) as f64).sqrt());
    if !scale.is_finite() {
        return Err(Error::value(
            OP,
            format!("scale must be finite, got {scale}"),
        ));
    }
    let full = [b, n, t, s];
    let bias = match bias {
        Some(bt) => {
            if !bt.dtype().is_float() {
                return Err(Error::dtype(
                    OP,
                    format!(
                        "bias has dtype {}, expected a float tensor (use mask= for booleans)",
                        bt.dtype()
                    ),
                ));
            }
            strides4("bias", bt, &full)?;
            Some(cast(bt, q.dtype())?)
        }
        None => None,
    };
    let mask = match mask {
        Some(m) => {
            if m.dtype() != DType::Bool {
                return Err(Error::dtype(
                    OP,
                    format!(
                        "mask has dtype {}, expected bool (True = attend); pass float offsets as bias=",
                        m.dtype()
                    ),
                ));
            }
            strides4("mask", m, &full)?;
            Some(m.clone())
        }
        None => None,
    };
    let (qc, kc, vc) = (contiguous(q)?, contiguous(key)?, contiguous(v)?);
    let out = Tensor::empty(&[b, t, n, h], q.dtype())?;
    let lse = Tensor::empty(&[b, n, t], q.dtype())?;
    let spec = AttentionSpec {
        scale,
        causal: is_causal,
        has_bias: bias.is_some(),
        has_mask: mask.is_some(),
        dropout: dropout_rate,
        seed: if dropout_rate > 0.0 {
            super::next_key(seed)
        } else {
            0
        },
    };
    macro_rules! go {
        ($T:ty) => {{
            let pb = problem::<$T>(&spec, &qc, &kc, &vc, bias.as_ref(), mask.as_ref())?;
            // SAFETY: q/k/v are contiguous of the checked shapes, bias/mask are read through
            // their broadcast layouts, out/lse are fresh buffers of the output shapes.
            unsafe {
                k::forward(
                    &pb,
                    out.data_ptr::<$T>(),
                    lse.data_ptr::<$T>(),
                    k::attn_isa(),
                )
            };
        }};
    }
    match q.dtype() {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
    let mut inputs: Vec<&Tensor> = vec![&qc, &kc, &vc];
    if let Some(bt) = &bias {
        inputs.push(bt);
    }
    if let Some(m) = &mask {
        inputs.push(m);
    }
    let saved = if needs_record(&inputs) {
        vec![out.clone(), lse]
    } else {
        vec![]
    };
    Ok(finish(out, Op::Attention(spec), &inputs, saved))
}

fn problem<T: AttnScalar>(
    spec: &AttentionSpec,
    q: &Tensor,
    key: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    mask: Option<&Tensor>,
) -> Result<Problem<T>> {
    let (qs, ks) = (q.shape(), key.shape());
    let full = [qs[0], qs[2], qs[1], ks[1]];
    let bias = match bias {
        Some(bt) => Some(Strided {
            ptr: SendPtr(bt.data_ptr::<T>()),
            st: strides4("bias", bt, &full)?,
        }),
        None => None,
    };
    let mask = match mask {
        Some(m) => Some(Strided {
            ptr: SendPtr(m.data_byte_ptr()),
            st: strides4("mask", m, &full)?,
        }),
        None => None,
    };
    Ok(Problem {
        b: qs[0],
        t: qs[1],
        s: ks[1],
        n: qs[2],
        kh: ks[2],
        h: qs[3],
        scale: T::from_f64(spec.scale),
        causal: spec.causal,
        q: SendPtr(q.data_ptr::<T>()),
        k: SendPtr(key.data_ptr::<T>()),
        v: SendPtr(v.data_ptr::<T>()),
        kv_head_major: false,
        q_head_major: false,
        bias,
        mask,
        dropout: (spec.dropout > 0.0).then(|| k::Dropout {
            // rate in (0, 1): the threshold fits u32 (rate * 2^32 < 2^32).
            threshold: (spec.dropout * 4_294_967_296.0) as u32,
            scale: T::from_f64(1.0 / (1.0 - spec.dropout)),
            seed: spec.seed,
        }),
    })
}

/// Gradients of [`dot_product_attention`]'s inputs `[q, k, v, (bias), (mask)]` from the output
/// gradient `g` and the saved `[out, lse]`.
pub(crate) fn attention_backward(
    spec: &AttentionSpec,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let (q, key, v) = (&inputs[0], &inputs[1], &inputs[2]);
    let (out, lse) = match saved {
        [o, l] => (o, l),
        _ => return Err(Error::autograd(OP, "the forward output was not saved")),
    };
    let bias = if spec.has_bias {
        Some(&inputs[3])
    } else {
        None
    };
    let mask = if spec.has_mask {
        Some(&inputs[3 + spec.has_bias as usize])
    } else {
        None
    };
    let need_bias = spec.has_bias && need.get(3).copied().unwrap_or(false);
    let g = contiguous_nograd(&cast_nograd(g, q.dtype())?)?;
    let dq = zeros(q.shape(), q.dtype())?;
    let dk = Tensor::empty(key.shape(), q.dtype())?;
    let dv = Tensor::empty(v.shape(), q.dtype())?;
    let (qs, ks) = (q.shape(), key.shape());
    let dbias = if need_bias {
        Some(zeros(&[qs[0], qs[2], qs[1], ks[1]], q.dtype())?)
    } else {
        None
    };
    macro_rules! go {
        ($T:ty) => {{
            let pb = problem::<$T>(spec, q, key, v, bias, mask)?;
            let bw = Bwd {
                out: SendPtr(out.data_ptr::<$T>()),
                lse: SendPtr(lse.data_ptr::<$T>()),
                dout: SendPtr(g.data_ptr::<$T>()),
                dq: SendPtr(dq.data_ptr::<$T>()),
                dk: SendPtr(dk.data_ptr::<$T>()),
                dv: SendPtr(dv.data_ptr::<$T>()),
                dbias: dbias.as_ref().map(|d| SendPtr(d.data_ptr::<$T>())),
                dvec: SendPtr(std::ptr::null_mut()),
            };
            // SAFETY: the inputs are the contiguous tensors the forward ran on, `out`/`lse` its
            // outputs, `g` contiguous of the output's shape; the gradients are fresh buffers.
            unsafe { k::backward(&pb, &bw, k::attn_isa()) };
        }};
    }
    match q.dtype() {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
    let mut grads = vec![
        need[0].then_some(dq),
        need[1].then_some(dk),
        need[2].then_some(dv),
    ];
    if spec.has_bias {
        grads.push(match (&dbias, bias) {
            (Some(d), Some(bt)) => Some(sum_to(d, bt.shape())?),
            _ => None,
        });
    }
    if spec.has_mask {
        grads.push(None);
    }
    Ok(grads)
}
