//! Convolutions (channels-last, Keras kernel layout): conv1d/conv2d with groups and depthwise,
//! and the transposed 2-D convolution, each recorded as one tape op with a hand-written backward.
//!
//! Shapes: inputs (N, H, W, Cin) or (N, L, Cin); kernels (kh, kw, Cin/groups, Cout) or
//! (k, Cin/groups, Cout); `groups = Cin / kernel_in_channels` (keras.ops.conv infers it the same
//! way). A 1-D conv runs as a 2-D one with H = 1 (reshapes are views, recorded on the tape).
//! Padding: "valid"; "same" (TF: output = ceil(in / stride), the odd pixel of padding goes on
//! the bottom/right); "causal" (1-D only: (k-1)*dilation zeros on the left).

use crate::autograd::Op;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::conv::{
    conv2d_backward_input, conv2d_backward_weight, conv2d_forward, ConvGeom,
};
use crate::kernels::depthwise::{
    depthwise_backward_input, depthwise_backward_weight, depthwise_forward,
};
use crate::tensor::Tensor;
use crate::with_float;

use super::{cast, contiguous, contiguous_nograd, finish, reshape};

/// How a conv pads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Valid,
    Same,
    Causal,
}

impl Padding {
    /// Parses "valid", "same" or "causal" (case-insensitive, as Keras accepts).
    pub fn parse(op: &str, s: &str) -> Result<Padding> {
        match s.to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            "causal" => Ok(Padding::Causal),
            _ => Err(Error::value(
                op,
                format!("padding must be 'valid', 'same' or 'causal', received padding='{s}'"),
            )),
        }
    }
}

/// Strides, padding and dilation of a conv, one entry per spatial axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvArgs {
    pub strides: Vec<usize>,
    pub padding: Padding,
    pub dilation: Vec<usize>,
}

/// Checks that `v` has one positive entry per spatial axis.
fn check_per_axis(op: &str, name: &str, v: &[usize], nsp: usize) -> Result<()> {
    if v.len() != nsp || v.contains(&0) {
        return Err(Error::value(
            op,
            format!(
                "{name} must be {nsp} positive integers for a {nsp}-D conv, received {name}={v:?}"
            ),
        ));
    }
    Ok(())
}

/// (output length, padding before) along one axis.
pub(crate) fn out_len(
    op: &str,
    len: usize,
    k: usize,
    stride: usize,
    dil: usize,
    padding: Padding,
) -> Result<(usize, usize)> {
    if k == 0 || stride == 0 || dil == 0 {
        return Err(Error::value(
            op,
            format!(
                "kernel size, stride and dilation must be >= 1, got kernel size {k}, stride {stride}, dilation {dil}"
            ),
        ));
    }
    let keff = (k - 1)
        .checked_mul(dil)
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| {
            Error::value(
                op,
                format!("kernel size {k} with dilation {dil} is too large"),
            )
        })?;
    match padding {
        Padding::Valid => {
            if len < keff {
                return Err(Error::shape(
                    op,
                    format!(
                        "with padding='valid' the input length {len} must be at least the dilated kernel size {keff}"
                    ),
                ));
            }
            Ok(((len - keff) / stride + 1, 0))
        }
        Padding::Same => {
            let out = len.div_ceil(stride);
            if out == 0 {
                return Ok((0, 0));
            }
            let need = (out - 1).saturating_mul(stride).saturating_add(keff);
            Ok((out, need.saturating_sub(len) / 2))
        }
        Padding::Causal => Ok((len.div_ceil(stride), keff - 1)),
    }
}

/// Promotes `x` and `w` (and `b`) to one float dtype and makes them contiguous (recorded).
fn prepare(ts: &[&Tensor]) -> Result<Vec<Tensor>> {
    let dt = ts
        .iter()
        .map(|t| t.dtype())
        .fold(DType::Bool, DType::promote)
        .to_float();
    ts.iter().map(|t| contiguous(&cast(t, dt)?)).collect()
}

fn shape_err(op: &str, msg: String) -> Error {
    Error::shape(op, msg)
}

/// `keras.ops.conv` for channels-last inputs: 1-D for rank 3, 2-D for rank 4; optional bias.
pub fn conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, args: &ConvArgs) -> Result<Tensor> {
    let op = "conv";
    match (x.ndim(), w.ndim()) {
        (4, 4) => conv2d(x, w, b, args),
        (3, 3) => {
            check_per_axis(op, "strides", &args.strides, 1)?;
            check_per_axis(op, "dilation_rate", &args.dilation, 1)?;
            let (n, l, c) = (x.shape()[0], x.shape()[1], x.shape()[2]);
            let (k, ci, co) = (w.shape()[0], w.shape()[1], w.shape()[2]);
            let a2 = ConvArgs {
                strides: vec![1, args.strides[0]],
                padding: args.padding,
                dilation: vec![1, args.dilation[0]],
            };
            let y = conv2d(
                &reshape(x, &[n, 1, l, c])?,
                &reshape(w, &[1, k, ci, co])?,
                b,
                &a2,
            )?;
            let s = y.shape().to_vec();
            reshape(&y, &[s[0], s[2], s[3]])
        }
        (4, _) => Err(shape_err(
            op,
            format!(
                "expected a 4-D kernel (kh, kw, in_channels, out_channels) for a 4-D NHWC input, got kernel shape {:?}",
                w.shape()
            ),
        )),
        (3, _) => Err(shape_err(
            op,
            format!(
                "expected a 3-D kernel (k, in_channels, out_channels) for a 3-D NLC input, got kernel shape {:?}",
                w.shape()
            ),
        )),
        (_, 4) => Err(shape_err(
            op,
            format!("expected a 4-D NHWC input for a 2-D kernel, got shape {:?}", x.shape()),
        )),
        (_, 3) => Err(shape_err(
            op,
            format!("expected a 3-D NLC input for a 1-D kernel, got shape {:?}", x.shape()),
        )),
        _ => Err(shape_err(
            op,
            format!(
                "expected a 3-D (N, L, C) or 4-D (N, H, W, C) input with a kernel of the same rank, got input shape {:?} and kernel shape {:?}",
                x.shape(),
                w.shape()
            ),
        )),
    }
}

/// 2-D conv: x (N, H, W, Cin), w (kh, kw, Cin/groups, Cout), b (Cout,).
pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, args: &ConvArgs) -> Result<Tensor> {
    let op = "conv";
    if x.ndim() != 4 || w.ndim() != 4 {
        return Err(shape_err(
            op,
            format!(
                "expected a 4-D NHWC input and a 4-D kernel, got shapes {:?} and {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    check_per_axis(op, "strides", &args.strides, 2)?;
    check_per_axis(op, "dilation_rate", &args.dilation, 2)?;
    if args.padding == Padding::Causal && x.shape()[1] != 1 {
        return Err(Error::value(
            op,
            "padding='causal' is only supported for 1-D convs",
        ));
    }
    let (n, h, wd, cin) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (kh, kw, kci, cout) = (w.shape()[0], w.shape()[1], w.shape()[2], w.shape()[3]);
    if kh == 0 || kw == 0 || kci == 0 || cout == 0 || h == 0 || wd == 0 {
        return Err(shape_err(
            op,
            format!(
                "input spatial sizes and all kernel dimensions must be positive, got input shape {:?} and kernel shape {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    if cin % kci != 0 {
        return Err(shape_err(
            op,
            format!(
                "the input has {cin} channels, which is not a multiple of the kernel's {kci} input channels (kernel shape {:?})",
                w.shape()
            ),
        ));
    }
    let groups = cin / kci;
    if cout % groups != 0 {
        return Err(shape_err(
            op,
            format!(
                "{groups} groups ({cin} input channels / {kci} per group) do not divide the kernel's {cout} output channels"
            ),
        ));
    }
    if let Some(b) = b {
        if b.shape() != [cout] {
            return Err(shape_err(
                op,
                format!(
                    "bias must have shape ({cout},) to match the kernel, got shape {:?}",
                    b.shape()
                ),
            ));
        }
    }
    let pad_mode = if args.padding == Padding::Causal {
        Padding::Valid
    } else {
        args.padding
    };
    let (oh, pt) = out_len(op, h, kh, args.strides[0], args.dilation[0], pad_mode)?;
    let (ow, pl) = out_len(op, wd, kw, args.strides[1], args.dilation[1], args.padding)?;
    let geom = ConvGeom {
        n,
        h,
        w: wd,
        cin,
        oh,
        ow,
        cout,
        kh,
        kw,
        sh: args.strides[0],
        sw: args.strides[1],
        dh: args.dilation[0],
        dw: args.dilation[1],
        pad_top: pt,
        pad_left: pl,
        groups,
    };
    let mut ins = vec![x, w];
    ins.extend(b);
    let ts = prepare(&ins)?;
    let y = forward_raw(&geom, &ts[0], &ts[1], ts.get(2))?;
    let refs: Vec<&Tensor> = ts.iter().collect();
    Ok(finish(y, Op::Conv2d { geom }, &refs, vec![]))
}

/// `keras.ops.depthwise_conv`: kernel (kh, kw, Cin, multiplier) (or (k, Cin, m) for 1-D); output
/// channel `c * multiplier + m`. Runs as a grouped conv with groups = Cin.
pub fn depthwise_conv(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    args: &ConvArgs,
) -> Result<Tensor> {
    let op = "depthwise_conv";
    let nd = w.ndim();
    if !(nd == 3 || nd == 4) || x.ndim() != nd {
        return Err(shape_err(
            op,
            format!(
                "expected a 4-D NHWC input with a 4-D kernel (kh, kw, in_channels, multiplier) or a 3-D NLC input with a 3-D kernel, got shapes {:?} and {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    let cin = x.shape()[nd - 1];
    if w.shape()[nd - 2] != cin {
        return Err(shape_err(
            op,
            format!(
                "the kernel's input channels ({}) must equal the input's channels ({cin}); kernel shape {:?}",
                w.shape()[nd - 2],
                w.shape()
            ),
        ));
    }
    let mut ks = w.shape()[..nd - 2].to_vec();
    ks.extend_from_slice(&[1, cin * w.shape()[nd - 1]]);
    conv(x, &reshape(w, &ks)?, b, args)
}

fn unsupported(op: &str, dt: DType) -> Error {
    Error::dtype(op, format!("expected float32 or float64 tensors, got {dt}"))
}

/// Forward kernel on prepared (contiguous, same float dtype) tensors.
pub(crate) fn forward_raw(
    g: &ConvGeom,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Result<Tensor> {
    let y = Tensor::empty(&[g.n, g.oh, g.ow, g.cout], x.dtype())?;
    with_float!(x.dtype(), T => {
        // SAFETY: shapes were validated against the geometry; all tensors contiguous; y fresh.
        unsafe {
            let (xp, wp, yp) = (x.data_ptr::<T>(), w.data_ptr::<T>(), y.data_ptr::<T>());
            let bp = b.map(|b| b.data_ptr::<T>() as *const T);
            if g.is_depthwise() {
                depthwise_forward(g, xp, wp, bp, yp)
            } else {
                conv2d_forward(g, xp, wp, bp, yp)
            }
        }
    }, _ => return Err(unsupported("conv", x.dtype())));
    Ok(y)
}

/// Input gradient (the transposed conv) on prepared tensors: dy (N, oh, ow, cout) -> (N, h, w, cin).
pub(crate) fn input_grad_raw(g: &ConvGeom, dy: &Tensor, w: &Tensor) -> Result<Tensor> {
    let dy = contiguous_nograd(dy)?;
    let dx = Tensor::empty(&[g.n, g.h, g.w, g.cin], w.dtype())?;
    with_float!(w.dtype(), T => {
        // SAFETY: as above; dx fresh.
        unsafe {
            let (gp, wp, dp) = (dy.data_ptr::<T>(), w.data_ptr::<T>(), dx.data_ptr::<T>());
            if g.is_depthwise() {
                depthwise_backward_input(g, gp, wp, dp)
            } else {
                conv2d_backward_input(g, gp, wp, dp)
            }
        }
    }, _ => return Err(unsupported("conv", w.dtype())));
    Ok(dx)
}

/// Weight gradient on prepared tensors: x (N, h, w, cin), dy (N, oh, ow, cout) -> (kh, kw, cig, cout).
pub(crate) fn weight_grad_raw(g: &ConvGeom, x: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let dy = contiguous_nograd(dy)?;
    let x = contiguous_nograd(x)?;
    let dw = Tensor::empty(&[g.kh, g.kw, g.cin / g.groups, g.cout], x.dtype())?;
    with_float!(x.dtype(), T => {
        // SAFETY: as above; dw fresh.
        unsafe {
            let (xp, gp, dp) = (x.data_ptr::<T>(), dy.data_ptr::<T>(), dw.data_ptr::<T>());
            if g.is_depthwise() {
                depthwise_backward_weight(g, xp, gp, dp)
            } else {
                conv2d_backward_weight(g, xp, gp, dp)
            }
        }
    }, _ => return Err(unsupported("conv", x.dtype())));
    Ok(dw)
}

/// Backward of [`Op::Conv2d`]: gradients of [x, w, (b)].
pub(crate) fn conv2d_backward(
    g: &ConvGeom,
    inputs: &[Tensor],
    dy: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let dy = contiguous_nograd(&super::cast_nograd(dy, inputs[0].dtype())?)?;
    let mut out = vec![None; inputs.len()];
    if need[0] {
        out[0] = Some(input_grad_raw(g, &dy, &inputs[1])?);
    }
    if need[1] {
        out[1] = Some(weight_grad_raw(g, &inputs[0], &dy)?);
    }
    if inputs.len() > 2 && need[2] {
        out[2] = Some(super::sum(&dy, Some(&[0, 1, 2]), false)?);
    }
    Ok(out)
}

/// Backward of [`Op::Conv2dTranspose`]: the geometry is the forward conv's (from the transposed
/// output back to its input), so the roles of the three kernels swap.
pub(crate) fn conv2d_transpose_backward(
    g: &ConvGeom,
    inputs: &[Tensor],
    dy: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let dy = contiguous_nograd(&super::cast_nograd(dy, inputs[0].dtype())?)?;
    let dx = if need[0] {
        Some(forward_raw(g, &dy, &inputs[1], None)?)
    } else {
        None
    };
    let dw = if need[1] {
        Some(weight_grad_raw(g, &dy, &inputs[0])?)
    } else {
        None
    };
    Ok(vec![dx, dw])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tf_rule() {
        // in 5, k 3, s 2: out 3, total pad (3-1)*2+3-5 = 2, 1 on top.
        assert_eq!(out_len("t", 5, 3, 2, 1, Padding::Same).unwrap(), (3, 1));
        // in 6, k 3, s 2: out 3, total 1, 0 on top (the extra goes to the bottom).
        assert_eq!(out_len("t", 6, 3, 2, 1, Padding::Same).unwrap(), (3, 0));
        assert_eq!(out_len("t", 7, 3, 1, 2, Padding::Valid).unwrap(), (3, 0));
        assert_eq!(out_len("t", 7, 3, 2, 2, Padding::Causal).unwrap(), (4, 4));
        assert!(out_len("t", 2, 3, 1, 1, Padding::Valid).is_err());
    }
}
