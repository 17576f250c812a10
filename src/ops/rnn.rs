//! The fused recurrence of Keras' SimpleRNN, LSTM and GRU layers (`kernels/rnn.rs`): argument
//! checks, the saved buffers and the tape. One recorded op per layer call, whatever the length.

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::kernels::rnn::{self as k, Act, Cell, RnnScalar, RnnSpec};
use crate::tensor::Tensor;

use super::{cast, cast_nograd, contiguous, contiguous_nograd, finish};

const OP: &str = "rnn_sequence";

/// The optional inputs of [`rnn_sequence`].
#[derive(Default)]
pub struct RnnInputs<'a> {
    /// (B, u), LSTM only (required there).
    pub c0: Option<&'a Tensor>,
    /// (G*u,)
    pub bias: Option<&'a Tensor>,
    /// (G*u,), GRU with reset after only.
    pub rec_bias: Option<&'a Tensor>,
    /// bool (B, T)
    pub mask: Option<&'a Tensor>,
    /// (G, B, u)
    pub rec_masks: Option<&'a Tensor>,
}

/// The cell and how it runs.
#[derive(Clone, Copy, Debug)]
pub struct RnnConfig<'a> {
    pub cell: &'a str,
    pub reset_after: bool,
    pub activation: &'a str,
    pub recurrent_activation: &'a str,
    pub go_backwards: bool,
    pub zero_output_for_mask: bool,
}

fn parse_cell(name: &str, reset_after: bool) -> Result<Cell> {
    Ok(match name {
        "simple" => Cell::Simple,
        "lstm" => Cell::Lstm,
        "gru" => Cell::Gru { reset_after },
        other => {
            return Err(Error::value(
                OP,
                format!("unknown cell {other:?}, expected \"simple\", \"lstm\" or \"gru\""),
            ))
        }
    })
}

fn parse_act(arg: &str, name: &str) -> Result<Act> {
    Act::parse(name).ok_or_else(|| {
        Error::value(
            OP,
            format!("{arg}={name:?} is not computed by the fused kernel; expected one of \"tanh\", \"sigmoid\", \"relu\", \"linear\", \"hard_sigmoid\""),
        )
    })
}

fn expect_shape(what: &str, t: &Tensor, want: &[usize], meaning: &str) -> Result<()> {
    if t.shape() != want {
        return Err(Error::shape(
            OP,
            format!(
                "{what} has shape {:?}, expected {want:?} {meaning}",
                t.shape()
            ),
        ));
    }
    Ok(())
}

/// Runs a whole sequence through a Keras cell: returns `Y` (B, T + S, u) holding the output of
/// every processing step, then the final hidden state and (LSTM) the final cell state.
///
/// `xw` (B, T, G*u) is the input projection of every step (without bias), `rk` (u, G*u) the
/// recurrent kernel, `h0` (B, u) the initial state. The math and mask semantics are in
/// `kernels/rnn.rs`.
pub fn rnn_sequence(
    xw: &Tensor,
    rk: &Tensor,
    h0: &Tensor,
    opt: &RnnInputs<'_>,
    cfg: &RnnConfig<'_>,
) -> Result<Tensor> {
    let cell = parse_cell(cfg.cell, cfg.reset_after)?;
    let act = parse_act("activation", cfg.activation)?;
    let rec_act = parse_act("recurrent_activation", cfg.recurrent_activation)?;
    let g = cell.gates();
    if !xw.dtype().is_float() {
        return Err(Error::dtype(
            OP,
            format!("xw has dtype {}, expected float32 or float64", xw.dtype()),
        ));
    }
    let dt = xw.dtype();
    if xw.ndim() != 3 {
        return Err(Error::shape(
            OP,
            format!(
                "xw has shape {:?} (rank {}), expected rank 3 (batch, time, {g} * units)",
                xw.shape(),
                xw.ndim()
            ),
        ));
    }
    let (b, t, gu) = (xw.shape()[0], xw.shape()[1], xw.shape()[2]);
    if rk.ndim() != 2 || rk.shape()[0] == 0 || rk.shape()[1] != g * rk.shape()[0] {
        return Err(Error::shape(
            OP,
            format!(
                "recurrent_kernel has shape {:?}, expected (units, {g} * units) with units >= 1 for a {} cell",
                rk.shape(),
                cfg.cell
            ),
        ));
    }
    let u = rk.shape()[0];
    if gu != g * u {
        return Err(Error::shape(
            OP,
            format!(
                "xw has shape {:?}: its last axis must be {g} * units = {} (recurrent_kernel {:?})",
                xw.shape(),
                g * u,
                rk.shape()
            ),
        ));
    }
    if t == 0 {
        return Err(Error::shape(
            OP,
            format!(
                "xw has shape {:?}: the sequence needs at least one time step",
                xw.shape()
            ),
        ));
    }
    expect_shape("h0", h0, &[b, u], "(batch, units)")?;
    match (cell, opt.c0) {
        (Cell::Lstm, None) => {
            return Err(Error::value(
                OP,
                "an LSTM needs c0, the initial cell state (batch, units)",
            ))
        }
        (Cell::Lstm, Some(c)) => expect_shape("c0", c, &[b, u], "(batch, units)")?,
        (_, Some(_)) => {
            return Err(Error::value(
                OP,
                format!("c0 is given but a {} cell has no cell state", cfg.cell),
            ))
        }
        _ => {}
    }
    if let Some(bt) = opt.bias {
        expect_shape("bias", bt, &[gu], "(gates * units,)")?;
    }
    if let Some(rb) = opt.rec_bias {
        if cell != (Cell::Gru { reset_after: true }) {
            return Err(Error::value(
                OP,
                "recurrent_bias is only used by a GRU with reset_after=True",
            ));
        }
        expect_shape("recurrent_bias", rb, &[gu], "(3 * units,)")?;
    }
    if let Some(m) = opt.mask {
        if m.dtype() != DType::Bool {
            return Err(Error::dtype(
                OP,
                format!("mask has dtype {}, expected bool", m.dtype()),
            ));
        }
        expect_shape("mask", m, &[b, t], "(batch, time)")?;
    }
    if let Some(m) = opt.rec_masks {
        expect_shape("recurrent_masks", m, &[g, b, u], "(gates, batch, units)")?;
    }
    let fl = |x: &Tensor, name: &str| -> Result<Tensor> {
        if !x.dtype().is_float() {
            return Err(Error::dtype(
                OP,
                format!("{name} has dtype {}, expected a float dtype", x.dtype()),
            ));
        }
        contiguous(&cast(x, dt)?)
    };
    let xw = contiguous(xw)?;
    let rk = fl(rk, "recurrent_kernel")?;
    let h0 = fl(h0, "h0")?;
    let c0 = opt.c0.map(|c| fl(c, "c0")).transpose()?;
    let bias = opt.bias.map(|x| fl(x, "bias")).transpose()?;
    let rec_bias = opt.rec_bias.map(|x| fl(x, "recurrent_bias")).transpose()?;
    let mask = opt.mask.map(contiguous).transpose()?;
    let rec_masks = opt
        .rec_masks
        .map(|x| fl(x, "recurrent_masks"))
        .transpose()?;
    let spec = RnnSpec {
        cell,
        act,
        rec_act,
        go_backwards: cfg.go_backwards,
        zero_output: cfg.zero_output_for_mask,
        has_bias: bias.is_some(),
        has_rec_bias: rec_bias.is_some(),
        has_mask: mask.is_some(),
        has_rec_masks: rec_masks.is_some(),
    };
    let mut inputs: Vec<&Tensor> = vec![&xw, &rk, &h0];
    for x in [&c0, &bias, &rec_bias, &mask, &rec_masks]
        .into_iter()
        .flatten()
    {
        inputs.push(x);
    }
    let y = Tensor::empty(&[b, t + cell.states(), u], dt)?;
    let gates = Tensor::empty(&[b, t, gu], dt)?;
    let hp = Tensor::empty(&[b, t, u], dt)?;
    let cs = if cell == Cell::Lstm {
        Some(Tensor::empty(&[b, t, u], dt)?)
    } else {
        None
    };
    let aux = if cell.has_aux() {
        Some(Tensor::empty(&[b, t, u], dt)?)
    } else {
        None
    };
    let ins = Ins {
        xw: &xw,
        rk: &rk,
        h0: &h0,
        c0: c0.as_ref(),
        bias: bias.as_ref(),
        rec_bias: rec_bias.as_ref(),
        mask: mask.as_ref(),
        rec_masks: rec_masks.as_ref(),
    };
    macro_rules! go {
        ($T:ty) => {{
            let pb = problem::<$T>(spec, b, t, u, &ins);
            let sv = saved_ptrs::<$T>(&gates, &hp, cs.as_ref(), aux.as_ref());
            // SAFETY: every input is contiguous of the checked shape and dtype; the output and
            // saved buffers are fresh tensors of the shapes the kernel documents.
            unsafe { k::forward(&pb, &sv, SendPtr(y.data_ptr::<$T>())) };
        }};
    }
    match dt {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
    let saved = if needs_record(&inputs) {
        [Some(gates), Some(hp), cs, aux]
            .into_iter()
            .flatten()
            .collect()
    } else {
        vec![]
    };
    Ok(finish(y, Op::Rnn(spec), &inputs, saved))
}

struct Ins<'a> {
    xw: &'a Tensor,
    rk: &'a Tensor,
    h0: &'a Tensor,
    c0: Option<&'a Tensor>,
    bias: Option<&'a Tensor>,
    rec_bias: Option<&'a Tensor>,
    mask: Option<&'a Tensor>,
    rec_masks: Option<&'a Tensor>,
}

fn ptr_or_null<T: RnnScalar>(t: Option<&Tensor>) -> SendPtr<T> {
    SendPtr(t.map_or(std::ptr::null_mut(), |t| t.data_ptr::<T>()))
}

fn problem<T: RnnScalar>(
    spec: RnnSpec,
    b: usize,
    t: usize,
    u: usize,
    i: &Ins<'_>,
) -> k::Problem<T> {
    k::Problem {
        spec,
        b,
        t,
        u,
        xw: SendPtr(i.xw.data_ptr::<T>()),
        rk: SendPtr(i.rk.data_ptr::<T>()),
        h0: SendPtr(i.h0.data_ptr::<T>()),
        c0: ptr_or_null(i.c0),
        bias: ptr_or_null(i.bias),
        rec_bias: ptr_or_null(i.rec_bias),
        mask: SendPtr(i.mask.map_or(std::ptr::null_mut(), |m| m.data_byte_ptr())),
        rec_masks: ptr_or_null(i.rec_masks),
    }
}

fn saved_ptrs<T: RnnScalar>(
    gates: &Tensor,
    hp: &Tensor,
    cs: Option<&Tensor>,
    aux: Option<&Tensor>,
) -> k::Saved<T> {
    k::Saved {
        gates: SendPtr(gates.data_ptr::<T>()),
        hp: SendPtr(hp.data_ptr::<T>()),
        cs: ptr_or_null(cs),
        aux: ptr_or_null(aux),
    }
}

/// Gradients of [`rnn_sequence`]'s inputs (in the recorded order: xw, rk, h0, then c0, bias,
/// rec_bias, mask, rec_masks when present) from the gradient `g` of `Y`.
pub(crate) fn rnn_backward(
    spec: &RnnSpec,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let spec = *spec;
    let (xw, rk, h0) = (&inputs[0], &inputs[1], &inputs[2]);
    let mut next = 3;
    let mut take = |present: bool| -> Option<(usize, &Tensor)> {
        if present {
            next += 1;
            Some((next - 1, &inputs[next - 1]))
        } else {
            None
        }
    };
    let c0 = take(spec.cell == Cell::Lstm);
    let bias = take(spec.has_bias);
    let rec_bias = take(spec.has_rec_bias);
    let mask = take(spec.has_mask);
    let rec_masks = take(spec.has_rec_masks);
    let want = |i: usize| need.get(i).copied().unwrap_or(false);
    let (gates, hp) = match saved {
        [gt, h, ..] => (gt, h),
        _ => return Err(Error::autograd(OP, "the forward buffers were not saved")),
    };
    let cs = (spec.cell == Cell::Lstm).then(|| &saved[2]);
    let aux = spec.cell.has_aux().then(|| &saved[2]);
    let dt = xw.dtype();
    let g = contiguous_nograd(&cast_nograd(g, dt)?)?;
    let (b, t, gu) = (xw.shape()[0], xw.shape()[1], xw.shape()[2]);
    let u = rk.shape()[0];
    let dxw = Tensor::empty(&[b, t, gu], dt)?;
    let fresh = |on: bool, shape: &[usize]| -> Result<Option<Tensor>> {
        if on {
            Ok(Some(Tensor::empty(shape, dt)?))
        } else {
            Ok(None)
        }
    };
    let drk = fresh(want(1), &[u, gu])?;
    let dh0 = fresh(want(2), &[b, u])?;
    let dc0 = fresh(c0.is_some_and(|(i, _)| want(i)), &[b, u])?;
    let dbias = fresh(bias.is_some_and(|(i, _)| want(i)), &[gu])?;
    let drb = fresh(rec_bias.is_some_and(|(i, _)| want(i)), &[gu])?;
    let ins = Ins {
        xw,
        rk,
        h0,
        c0: c0.map(|(_, x)| x),
        bias: bias.map(|(_, x)| x),
        rec_bias: rec_bias.map(|(_, x)| x),
        mask: mask.map(|(_, x)| x),
        rec_masks: rec_masks.map(|(_, x)| x),
    };
    macro_rules! go {
        ($T:ty) => {{
            let pb = problem::<$T>(spec, b, t, u, &ins);
            let sv = saved_ptrs::<$T>(gates, hp, cs, aux);
            let gr = k::Grads {
                dxw: SendPtr(dxw.data_ptr::<$T>()),
                drk: ptr_or_null(drk.as_ref()),
                dh0: ptr_or_null(dh0.as_ref()),
                dc0: ptr_or_null(dc0.as_ref()),
                dbias: ptr_or_null(dbias.as_ref()),
                drec_bias: ptr_or_null(drb.as_ref()),
            };
            // SAFETY: the inputs are the contiguous tensors the forward ran on, the saved
            // buffers its own, `g` contiguous of Y's shape; the gradients are fresh buffers.
            unsafe { k::backward(&pb, &sv, SendPtr(g.data_ptr::<$T>()), &gr) };
        }};
    }
    match dt {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        other => return Err(Error::dtype(OP, format!("unsupported dtype {other}"))),
    }
    let mut grads = vec![want(0).then_some(dxw), drk, dh0];
    if c0.is_some() {
        grads.push(dc0);
    }
    if bias.is_some() {
        grads.push(dbias);
    }
    if rec_bias.is_some() {
        grads.push(drb);
    }
    if mask.is_some() {
        grads.push(None);
    }
    if rec_masks.is_some() {
        grads.push(None);
    }
    Ok(grads)
}
