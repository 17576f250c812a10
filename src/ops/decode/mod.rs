//! One inference step of a transformer decoder block against a key/value cache: the whole block
//! (norms, projections, cache write, attention, feed-forward, residuals) in one call, so
//! generation runs a handful of calls per token instead of a few dozen Python-level layer calls.
//!
//! The block is keras_hub's `TransformerDecoder` without cross-attention, pre-norm
//! (`normalize_first`, GPT-2) or post-norm: with `a = attention`, `f = feed-forward`,
//! - pre-norm:  `h = x + a(LN1 x)`, `y = h + f(LN2 h)`
//! - post-norm: `h = LN1(x + a(x))`, `y = LN2(h + f(h))`
//!
//! where `a(z) = softmax(q kᵀ / sqrt(H), causal) v Wo + bo` with `q = z Wq + bq` and the keys and
//! values of the cache, and `f(z) = act(z W1 + b1) W2 + b2`. The step's keys and values are
//! written into the cache in place (rows `index .. index + T` of its sequence axis) before the
//! attention reads rows `0 .. index + T`; query row `i` sees cache rows `0 ..= index + i`.
//!
//! Arguments are checked on tensors; the step itself runs on the kernels (GEMM/GEMV, fused layer
//! norm, fused attention, element-wise activation) over a few work buffers, with no tensor, view
//! or tape object per operation: a decode step of a small model is dominated by per-operation
//! overhead, not arithmetic (a 4-layer width-128 block went from ~40 us composed from tensor
//! ops to the figure in `benches/bench_gpt.py`). Inference only: nothing is recorded.

use crate::autograd::NoGradGuard;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::attention::{self as attn, AttnScalar, Problem, Strided};
use crate::kernels::iter::SendPtr;
use crate::kernels::layer_norm;
use crate::kernels::math::Real;
use crate::kernels::matmul::{gemm, gemm_serial, GemmParams, GemmScalar, MatMut, MatRef};
use crate::kernels::norm::NormScalar;
use crate::kernels::unary::{unary_slice, UnaryOp};
use crate::tensor::Tensor;

use super::contiguous_nograd;

mod few_rows;
use few_rows::{one_row_attention, project_split, SPLIT_ROWS};

const OP: &str = "decoder_block_step";

/// A dense projection: `kernel` (in, ...) read as (in, out) and an optional bias of `out` values.
pub struct Dense<'a> {
    pub kernel: &'a Tensor,
    pub bias: Option<&'a Tensor>,
}

/// A layer normalization's optional scale and offset.
pub struct Norm<'a> {
    pub gamma: Option<&'a Tensor>,
    pub beta: Option<&'a Tensor>,
}

/// The weights and settings of one decoder block.
pub struct DecoderBlock<'a> {
    pub attention_norm: Norm<'a>,
    /// Query, key and value kernels (D, N, H) with biases (N, H); output kernel (N, H, D).
    pub query: Dense<'a>,
    pub key: Dense<'a>,
    pub value: Dense<'a>,
    pub output: Dense<'a>,
    pub feedforward_norm: Norm<'a>,
    /// Intermediate (D, F) and output (F, D) kernels of the feed-forward network.
    pub intermediate: Dense<'a>,
    pub feedforward_output: Dense<'a>,
    pub activation: Option<UnaryOp>,
    pub normalize_first: bool,
    pub epsilon: f64,
}

fn shape_err(msg: String) -> Error {
    Error::shape(OP, msg)
}

/// A checked, contiguous projection: kernel (inp, out) and bias (out) or none.
struct Proj {
    kernel: Tensor,
    bias: Option<Tensor>,
    inp: usize,
    out: usize,
}

/// Checks `d` as a projection from `inp` features: the kernel's leading axes must hold `inp`
/// elements (the query kernel (D, N, H), the output kernel (N, H, D)) and the bias, when there is
/// one, as many values as the kernel's remaining axes; `out`, when given, must match them.
fn proj(name: &str, d: &Dense<'_>, inp: usize, out: Option<usize>, dtype: DType) -> Result<Proj> {
    let k = d.kernel;
    let mut lead = 1usize;
    let split = (0..k.ndim()).find(|&i| {
        lead = lead.saturating_mul(k.shape()[i]);
        lead >= inp
    });
    let split = match split {
        Some(i) if lead == inp && i + 1 < k.ndim() => i + 1,
        _ => {
            return Err(shape_err(format!(
                "{name} kernel has shape {:?}, expected leading axes of {inp} elements (the inputs' features) and output axes after them",
                k.shape()
            )))
        }
    };
    let n: usize = k.shape()[split..].iter().product();
    if let Some(want) = out.filter(|&w| w != n) {
        return Err(shape_err(format!(
            "{name} kernel has shape {:?}, giving {n} outputs where the block needs {want}",
            k.shape()
        )));
    }
    if let Some(b) = d.bias {
        if b.numel() != n {
            return Err(shape_err(format!(
                "{name} bias has shape {:?}, expected {n} values",
                b.shape()
            )));
        }
    }
    Ok(Proj {
        kernel: contiguous_of(name, "kernel", k, dtype)?,
        bias: d
            .bias
            .map(|b| contiguous_of(name, "bias", b, dtype))
            .transpose()?,
        inp,
        out: n,
    })
}

fn contiguous_of(owner: &str, what: &str, t: &Tensor, dtype: DType) -> Result<Tensor> {
    if t.dtype() != dtype {
        return Err(Error::dtype(
            OP,
            format!(
                "{owner} {what} has dtype {}, expected the input's {dtype}",
                t.dtype()
            ),
        ));
    }
    contiguous_nograd(t)
}

/// A checked norm: gamma and beta of `d` values (or none).
struct CheckedNorm {
    gamma: Option<Tensor>,
    beta: Option<Tensor>,
}

fn checked_norm(name: &str, n: &Norm<'_>, d: usize, dtype: DType) -> Result<CheckedNorm> {
    let one = |what: &str, t: Option<&Tensor>| -> Result<Option<Tensor>> {
        match t {
            Some(t) if t.numel() != d || t.ndim() != 1 => Err(shape_err(format!(
                "{name} {what} has shape {:?}, expected ({d},)",
                t.shape()
            ))),
            Some(t) => Ok(Some(contiguous_of(name, what, t, dtype)?)),
            None => Ok(None),
        }
    };
    Ok(CheckedNorm {
        gamma: one("gamma", n.gamma)?,
        beta: one("beta", n.beta)?,
    })
}

/// Runs `block` on `x` (B, T, D) at positions `index .. index + T`, writing the step's keys and
/// values into `cache` (B, 2, S, N, H) in place; returns the block's output (B, T, D).
///
/// The cache may be a view (a layer's slice of a whole model's cache) but each (batch, key or
/// value) plane of it must be contiguous (S, N, H); it must not require grad while grad mode is
/// on, and its storage version is bumped, as for any in-place write.
pub fn decoder_block_step(
    x: &Tensor,
    cache: &Tensor,
    index: usize,
    block: &DecoderBlock<'_>,
) -> Result<Tensor> {
    if !x.dtype().is_float() || x.ndim() != 3 {
        return Err(Error::value(
            OP,
            format!(
                "x must be a float tensor (batch, tokens, features), got dtype {} and shape {:?}",
                x.dtype(),
                x.shape()
            ),
        ));
    }
    let dtype = x.dtype();
    let [b, t, d] = [x.shape()[0], x.shape()[1], x.shape()[2]];
    if cache.ndim() != 5 || cache.shape()[0] != b || cache.shape()[1] != 2 {
        return Err(shape_err(format!(
            "cache must be (batch, 2, length, heads, head_dim) with batch {b}, got shape {:?}",
            cache.shape()
        )));
    }
    if cache.dtype() != dtype {
        return Err(Error::dtype(
            OP,
            format!(
                "cache has dtype {}, expected the input's {dtype}",
                cache.dtype()
            ),
        ));
    }
    if cache.requires_grad() && crate::autograd::is_grad_enabled() {
        return Err(Error::autograd(
            OP,
            "the cache requires grad; run decoding in no_grad() or detach the cache",
        ));
    }
    let [s, n, h] = [cache.shape()[2], cache.shape()[3], cache.shape()[4]];
    let st = cache.strides();
    let plane_contiguous =
        n * h == 0 || (st[4] == 1 && st[3] == h as isize && (s <= 1 || st[2] == (n * h) as isize));
    if !plane_contiguous || st[0] < 0 || st[1] < 0 {
        return Err(Error::value(
            OP,
            format!(
                "each cache plane (length, heads, head_dim) must be contiguous; got shape {:?} with strides {st:?}",
                cache.shape()
            ),
        ));
    }
    let end = index.checked_add(t).filter(|&e| e <= s).ok_or_else(|| {
        Error::value(
            OP,
            format!("cache_update_index {index} + {t} tokens runs past the cache's length {s}"),
        )
    })?;
    if !(block.epsilon.is_finite() && block.epsilon >= 0.0) {
        return Err(Error::value(
            OP,
            format!(
                "epsilon must be a finite number >= 0, got {}",
                block.epsilon
            ),
        ));
    }
    let nh = n * h;
    let q = proj("query", &block.query, d, Some(nh), dtype)?;
    let k = proj("key", &block.key, d, Some(nh), dtype)?;
    let v = proj("value", &block.value, d, Some(nh), dtype)?;
    let o = proj("attention output", &block.output, nh, Some(d), dtype)?;
    let f1 = proj("intermediate", &block.intermediate, d, None, dtype)?;
    let f2 = proj(
        "feedforward output",
        &block.feedforward_output,
        f1.out,
        Some(d),
        dtype,
    )?;
    let n1 = checked_norm("attention norm", &block.attention_norm, d, dtype)?;
    let n2 = checked_norm("feedforward norm", &block.feedforward_norm, d, dtype)?;
    let _ng = NoGradGuard::new();
    let xc = contiguous_nograd(x)?;
    let y = Tensor::empty(&[b, t, d], dtype)?;
    let w = Weights {
        q: &q,
        k: &k,
        v: &v,
        o: &o,
        f1: &f1,
        f2: &f2,
        n1: &n1,
        n2: &n2,
    };
    let geo = Geometry {
        b,
        t,
        d,
        n,
        h,
        index,
        end,
        cache: cache.data_byte_ptr() as usize,
        batch_stride: st[0],
        kv_stride: st[1],
    };
    macro_rules! go {
        ($T:ty) => {{
            // SAFETY: every weight is contiguous of the checked size; x and y are contiguous
            // (B, T, D); the cache's planes are contiguous (checked above) and rows
            // index..end lie inside its length.
            unsafe {
                run::<$T>(
                    &geo,
                    &w,
                    block,
                    std::slice::from_raw_parts(xc.data_ptr::<$T>(), b * t * d),
                    y.data_ptr::<$T>(),
                )
            }
        }};
    }
    match dtype {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
    cache.bump_version();
    Ok(y)
}

struct Weights<'a> {
    q: &'a Proj,
    k: &'a Proj,
    v: &'a Proj,
    o: &'a Proj,
    f1: &'a Proj,
    f2: &'a Proj,
    n1: &'a CheckedNorm,
    n2: &'a CheckedNorm,
}

/// Sizes and the cache's address (as an integer: the element type is chosen later).
struct Geometry {
    b: usize,
    t: usize,
    d: usize,
    n: usize,
    h: usize,
    index: usize,
    end: usize,
    cache: usize,
    batch_stride: isize,
    kv_stride: isize,
}

trait StepScalar: GemmScalar + AttnScalar + NormScalar + Real + Element {}
impl StepScalar for f32 {}
impl StepScalar for f64 {}

fn data<T: Element>(t: &Tensor) -> &[T] {
    // SAFETY: callers pass contiguous tensors of element type T (checked in `proj` and
    // `checked_norm`).
    unsafe { std::slice::from_raw_parts(t.data_ptr::<T>(), t.numel()) }
}

/// `c = alpha * a @ b + beta * c` on row-major operands (row strides `lda`, `ldb`, `ldc`),
/// threaded unless `serial` (callers already inside a task set pass `serial`).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_rows<T: GemmScalar>(
    (m, n, k): (usize, usize, usize),
    alpha: T,
    beta: T,
    (a, lda): (*const T, usize),
    (b, ldb): (*const T, usize),
    (c, ldc): (*mut T, usize),
    serial: bool,
) {
    let params = GemmParams {
        m,
        n,
        k,
        alpha,
        beta,
        a: MatRef {
            ptr: a,
            rs: lda as isize,
            cs: 1,
        },
        b: MatRef {
            ptr: b,
            rs: ldb as isize,
            cs: 1,
        },
        c: MatMut {
            ptr: c,
            rs: ldc as isize,
            cs: 1,
        },
        a_offsets: &[0],
        b_offsets: &[0],
        c_offsets: &[0],
    };
    if serial {
        gemm_serial(&params);
    } else {
        gemm(&params);
    }
}

/// `out[:, lo..hi] = a @ kernel[:, lo..hi] + bias[lo..hi]` with `a` (m, p.inp) and `out`
/// (m, p.out); the bias is written first and the product accumulated onto it (beta = 1).
unsafe fn project_cols<T: StepScalar>(
    p: &Proj,
    a: *const T,
    m: usize,
    out: *mut T,
    (lo, hi): (usize, usize),
    serial: bool,
) {
    if hi <= lo {
        return;
    }
    let beta = match &p.bias {
        Some(bias) => {
            let bias = &data::<T>(bias)[lo..hi];
            for r in 0..m {
                std::slice::from_raw_parts_mut(out.add(r * p.out + lo), hi - lo)
                    .copy_from_slice(bias);
            }
            <T as GemmScalar>::ONE
        }
        None => <T as GemmScalar>::ZERO,
    };
    let one = <T as GemmScalar>::ONE;
    gemm_rows(
        (m, hi - lo, p.inp),
        one,
        beta,
        (a, p.inp),
        (p.kernel.data_ptr::<T>().add(lo) as *const T, p.out),
        (out.add(lo), p.out),
        serial,
    );
}

/// `out (m x p.out) = a (m x p.inp) @ kernel + bias` on the threaded GEMM.
unsafe fn project<T: StepScalar>(p: &Proj, a: &[T], m: usize, out: &mut [T]) {
    project_cols(p, a.as_ptr(), m, out.as_mut_ptr(), (0, p.out), false);
}

/// `y = LN(x)` over rows of `c` values.
unsafe fn norm<T: StepScalar>(nm: &CheckedNorm, x: &[T], y: &mut [T], c: usize, eps: f64) {
    layer_norm::forward::<T>(
        x,
        y.as_mut_ptr(),
        x.len() / c.max(1),
        c,
        nm.gamma.as_ref().map(data::<T>),
        nm.beta.as_ref().map(data::<T>),
        eps,
        false,
    );
}

fn add_into<T: StepScalar>(acc: &mut [T], other: &[T]) {
    for (a, &o) in acc.iter_mut().zip(other) {
        *a = *a + o;
    }
}

/// The step on the kernels (see [`decoder_block_step`]); `y` receives (B, T, D).
unsafe fn run<T: StepScalar>(
    g: &Geometry,
    w: &Weights<'_>,
    block: &DecoderBlock<'_>,
    x: &[T],
    y: *mut T,
) {
    let (m, d, nh, eps) = (g.b * g.t, g.d, g.n * g.h, block.epsilon);
    let pre = block.normalize_first;
    let zero = <T as GemmScalar>::ZERO;
    // ---- self-attention
    let mut z = vec![zero; m * d];
    if pre {
        norm(w.n1, x, &mut z, d, eps);
    } else {
        z.copy_from_slice(x);
    }
    let mut att = vec![zero; m * nh];
    if g.t == 1 {
        one_row_attention(g, w, &z, &mut att);
    } else {
        rows_attention(g, w, &z, &mut att);
    }
    // ---- output projection and residual: h = x + a (pre) or LN1(x + a) (post)
    let split = m <= SPLIT_ROWS;
    let mut hid = vec![zero; m * d];
    if split {
        project_split(w.o, &att, m, &mut hid, None);
    } else {
        project(w.o, &att, m, &mut hid);
    }
    add_into(&mut hid, x);
    if !pre {
        z.copy_from_slice(&hid);
        norm(w.n1, &z, &mut hid, d, eps);
    }
    // ---- feed-forward
    if pre {
        norm(w.n2, &hid, &mut z, d, eps);
    } else {
        z.copy_from_slice(&hid);
    }
    let width = w.f1.out;
    let mut f = vec![zero; m * width];
    let out = std::slice::from_raw_parts_mut(y, m * d);
    if split {
        project_split(w.f1, &z, m, &mut f, block.activation);
        project_split(w.f2, &f, m, out, None);
    } else {
        project(w.f1, &z, m, &mut f);
        if let Some(op) = block.activation {
            let mut fa = vec![zero; m * width];
            unary_slice(op, &f, &mut fa);
            f = fa;
        }
        project(w.f2, &f, m, out);
    }
    add_into(out, &hid);
    if !pre {
        z.copy_from_slice(out);
        norm(w.n2, &z, out, d, eps);
    }
}

/// The attention sublayer for T > 1 query rows per batch entry (prefill): the projections on the
/// threaded GEMM, the step's keys and values copied into the cache, then the fused attention
/// kernel per batch entry over cache rows `0 .. end`; `att` receives (B*T, N*H).
unsafe fn rows_attention<T: StepScalar>(g: &Geometry, w: &Weights<'_>, z: &[T], att: &mut [T]) {
    let (m, nh) = (g.b * g.t, g.n * g.h);
    let zero = <T as GemmScalar>::ZERO;
    let cache = g.cache as *mut T;
    let mut q = vec![zero; m * nh];
    let mut kv = vec![zero; m * nh];
    project(w.q, z, m, &mut q);
    for (plane, p) in [(0isize, w.k), (1, w.v)] {
        project(p, z, m, &mut kv);
        for bi in 0..g.b {
            let dst = cache
                .offset(bi as isize * g.batch_stride + plane * g.kv_stride)
                .add(g.index * nh);
            std::ptr::copy_nonoverlapping(kv.as_ptr().add(bi * g.t * nh), dst, g.t * nh);
        }
    }
    // Query row i (position index + i) sees keys 0 ..= index + i: Keras' causal triangle when
    // the step starts at 0, an explicit mask otherwise.
    let causal = g.index == 0;
    let mask: Vec<u8> = if g.index > 0 {
        (0..g.t)
            .flat_map(|i| (0..g.end).map(move |j| u8::from(j <= g.index + i)))
            .collect()
    } else {
        Vec::new()
    };
    let mut lse = vec![zero; g.n * g.t];
    for bi in 0..g.b {
        let base = cache.offset(bi as isize * g.batch_stride);
        let pb = Problem::<T> {
            b: 1,
            t: g.t,
            s: g.end,
            n: g.n,
            kh: g.n,
            h: g.h,
            scale: <T as Element>::from_f64(1.0 / (g.h.max(1) as f64).sqrt()),
            causal,
            q: SendPtr(q.as_mut_ptr().add(bi * g.t * nh)),
            k: SendPtr(base),
            v: SendPtr(base.offset(g.kv_stride)),
            kv_head_major: false,
            q_head_major: false,
            bias: None,
            mask: (!mask.is_empty()).then_some(Strided {
                ptr: SendPtr(mask.as_ptr() as *mut u8),
                st: [0, 0, g.end as isize, 1],
            }),
            dropout: None,
        };
        attn::forward(
            &pb,
            att.as_mut_ptr().add(bi * g.t * nh),
            lse.as_mut_ptr(),
            attn::attn_isa(),
        );
    }
}
