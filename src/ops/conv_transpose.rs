//! Transposed 2-D convolution (Keras `Conv2DTranspose` / `keras.ops.conv_transpose`), channels-last.
//!
//! x (N, H, W, Cin), kernel (kh, kw, Cout, Cin) as Keras stores it. The result is the adjoint of
//! the conv that maps a (N, OH, OW, Cout) image to (N, H, W, Cin) with that same kernel, so the
//! forward pass is the conv's input-gradient kernel and the backward passes are the conv's
//! forward and weight-gradient kernels (no code of its own beyond the geometry).
//!
//! Output size and padding follow Keras (`deconv_output_length` and the padding Keras' JAX
//! backend derives), with `keff = (k - 1) * dilation + 1`:
//! - valid: `out = (in - 1) * s + max(keff, s)` (+ output_padding instead of the max term's
//!   excess when given); the adjoint conv has no top padding.
//! - same: `out = in * s`, or `(in - 1) * s + keff % 2 + output_padding` when given; the adjoint
//!   conv's top padding is `keff - 1 - left` with `left = min(ceil(pad_len / 2), keff - 1)`,
//!   `pad_len = s + keff - 2` (or `keff + keff % 2 - 2 + output_padding`).

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::conv::ConvGeom;
use crate::tensor::Tensor;

use super::conv::{input_grad_raw, Padding};
use super::{cast, contiguous, finish};

/// Arguments of a transposed conv, one entry per spatial axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvTransposeArgs {
    pub strides: Vec<usize>,
    pub padding: Padding,
    pub output_padding: Option<Vec<usize>>,
    pub dilation: Vec<usize>,
}

/// (output length, adjoint conv's top padding) along one axis.
/// One axis of a transposed conv: `(output length, the adjoint conv's leading padding)` by Keras'
/// rule (module docs). Public so that the 3-D transposed conv (composed in Python from 2-D ones)
/// treats its depth axis exactly as the 2-D kernel treats height and width.
pub fn conv_transpose_axis(
    op: &str,
    len: usize,
    k: usize,
    s: usize,
    d: usize,
    pad: Padding,
    opad: Option<usize>,
) -> Result<(usize, usize)> {
    if k == 0 || len == 0 || s == 0 || d == 0 {
        return Err(Error::value(
            op,
            format!("expected a non-empty input axis and kernel size, stride and dilation >= 1, got input length {len}, kernel size {k}, stride {s}, dilation {d}"),
        ));
    }
    let keff = (k - 1)
        .checked_mul(d)
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| {
            Error::value(
                op,
                format!("kernel size {k} with dilation {d} is too large"),
            )
        })?;
    if let Some(p) = opad {
        if p >= s.max(d) {
            return Err(Error::value(
                op,
                format!("output_padding must be smaller than the stride or the dilation rate, received output_padding={p} with strides={s} and dilation_rate={d}"),
            ));
        }
    }
    let big = |v: Option<usize>| v.ok_or_else(|| Error::value(op, "the output size overflows"));
    let base = big((len - 1).checked_mul(s))?;
    match pad {
        Padding::Valid => {
            let out = match opad {
                None => big(base.checked_add(keff.max(s)))?,
                Some(p) => big(keff.checked_add(p).and_then(|v| base.checked_add(v)))?,
            };
            Ok((out, 0))
        }
        Padding::Same => {
            let (out, pad_len) = match opad {
                None => (big(len.checked_mul(s))?, big(s.checked_add(keff))? - 2),
                Some(p) => (
                    big(base.checked_add(keff % 2 + p))?,
                    big(keff.checked_add(keff % 2).and_then(|v| v.checked_add(p)))? - 2,
                ),
            };
            let left = (pad_len / 2 + pad_len % 2).min(keff - 1);
            Ok((out, keff - 1 - left))
        }
        Padding::Causal => Err(Error::value(
            op,
            "padding must be 'valid' or 'same' for conv_transpose, received padding='causal'",
        )),
    }
}

fn per_axis(op: &str, name: &str, v: &[usize], zero_ok: bool) -> Result<()> {
    if v.len() != 2 || (!zero_ok && v.contains(&0)) {
        return Err(Error::value(
            op,
            format!(
                "{name} must be 2 {} integers for a 2-D transposed conv, received {name}={v:?}",
                if zero_ok { "non-negative" } else { "positive" }
            ),
        ));
    }
    Ok(())
}

/// Transposed 2-D conv: x (N, H, W, Cin), w (kh, kw, Cout, Cin) -> (N, OH, OW, Cout).
pub fn conv2d_transpose(x: &Tensor, w: &Tensor, args: &ConvTransposeArgs) -> Result<Tensor> {
    let op = "conv_transpose";
    if x.ndim() != 4 || w.ndim() != 4 {
        return Err(Error::shape(
            op,
            format!(
                "expected a 4-D NHWC input and a 4-D kernel (kh, kw, out_channels, in_channels), got shapes {:?} and {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    per_axis(op, "strides", &args.strides, false)?;
    per_axis(op, "dilation_rate", &args.dilation, false)?;
    if let Some(p) = &args.output_padding {
        per_axis(op, "output_padding", p, true)?;
    }
    let (n, h, wd, cin) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (kh, kw, cout, kci) = (w.shape()[0], w.shape()[1], w.shape()[2], w.shape()[3]);
    if kh == 0 || kw == 0 || cout == 0 || h == 0 || wd == 0 {
        return Err(Error::shape(
            op,
            format!(
                "input spatial sizes and all kernel dimensions must be positive, got input shape {:?} and kernel shape {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    if kci != cin {
        return Err(Error::shape(
            op,
            format!(
                "the kernel's last axis ({kci}) must equal the input's channels ({cin}); kernel shape {:?} is (kh, kw, out_channels, in_channels)",
                w.shape()
            ),
        ));
    }
    let op_at = |i: usize| args.output_padding.as_ref().map(|p| p[i]);
    let (oh, pt) = conv_transpose_axis(
        op,
        h,
        kh,
        args.strides[0],
        args.dilation[0],
        args.padding,
        op_at(0),
    )?;
    let (ow, pl) = conv_transpose_axis(
        op,
        wd,
        kw,
        args.strides[1],
        args.dilation[1],
        args.padding,
        op_at(1),
    )?;
    // The adjoint conv: from (N, oh, ow, cout) to (N, h, w, cin).
    let geom = ConvGeom {
        n,
        h: oh,
        w: ow,
        cin: cout,
        oh: h,
        ow: wd,
        cout: cin,
        kh,
        kw,
        sh: args.strides[0],
        sw: args.strides[1],
        dh: args.dilation[0],
        dw: args.dilation[1],
        pad_top: pt,
        pad_left: pl,
        groups: 1,
    };
    let dt = crate::dtype::DType::promote(x.dtype(), w.dtype()).to_float();
    let xc = contiguous(&cast(x, dt)?)?;
    let wc = contiguous(&cast(w, dt)?)?;
    let y = input_grad_raw(&geom, &xc, &wc)?;
    Ok(finish(y, Op::Conv2dTranspose { geom }, &[&xc, &wc], vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_keras() {
        let a = |len, k, s, p, o| conv_transpose_axis("t", len, k, s, 1, p, o).unwrap();
        assert_eq!(a(4, 3, 2, Padding::Valid, None), (9, 0));
        assert_eq!(a(4, 2, 3, Padding::Valid, None), (12, 0));
        assert_eq!(a(4, 3, 2, Padding::Same, None), (8, 0));
        assert_eq!(a(4, 4, 2, Padding::Same, None), (8, 1));
        assert_eq!(a(4, 3, 1, Padding::Same, None), (4, 1));
        assert_eq!(a(4, 3, 2, Padding::Same, Some(1)), (8, 0));
        assert!(conv_transpose_axis("t", 4, 3, 2, 1, Padding::Same, Some(2)).is_err());
    }
}
