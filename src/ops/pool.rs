//! Max and average pooling, 1-D (N, L, C) and 2-D (N, H, W, C), channels-last (keras.ops
//! `max_pool` / `average_pool`). 1-D runs as 2-D with H = 1. Padding "valid" or "same" (TF rule);
//! padded positions never take part: max ignores them and average divides by the number of valid
//! elements, as Keras does.

use crate::autograd::Op;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::pool::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, PoolGeom,
};
use crate::tensor::Tensor;
use crate::with_float;

use super::conv::{out_len, Padding};
use super::{cast, contiguous, contiguous_nograd, finish, reshape};

/// Which pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Average,
}

impl PoolKind {
    fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max_pool",
            PoolKind::Average => "average_pool",
        }
    }
}

/// Pools `x` (rank 3 or 4) with `pool_size` and `strides` (one entry per spatial axis).
pub fn pool(
    x: &Tensor,
    kind: PoolKind,
    pool_size: &[usize],
    strides: &[usize],
    padding: Padding,
) -> Result<Tensor> {
    let op = kind.name();
    let nsp = match x.ndim() {
        3 => 1,
        4 => 2,
        _ => {
            return Err(Error::shape(
                op,
                format!(
                    "expected a 3-D (N, L, C) or 4-D (N, H, W, C) input, got shape {:?}",
                    x.shape()
                ),
            ))
        }
    };
    for (name, v) in [("pool_size", pool_size), ("strides", strides)] {
        if v.len() != nsp || v.contains(&0) {
            return Err(Error::value(
                op,
                format!("{name} must be {nsp} positive integers for a {nsp}-D pooling, received {name}={v:?}"),
            ));
        }
    }
    if padding == Padding::Causal {
        return Err(Error::value(
            op,
            "padding must be 'valid' or 'same', received padding='causal'",
        ));
    }
    if nsp == 1 {
        let (n, l, c) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        let y = pool(
            &reshape(x, &[n, 1, l, c])?,
            kind,
            &[1, pool_size[0]],
            &[1, strides[0]],
            padding,
        )?;
        let s = y.shape().to_vec();
        return reshape(&y, &[s[0], s[2], s[3]]);
    }
    let (n, h, w, c) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    if h == 0 || w == 0 {
        return Err(Error::shape(
            op,
            format!(
                "spatial sizes must be positive, got input shape {:?}",
                x.shape()
            ),
        ));
    }
    let (oh, pt) = out_len(op, h, pool_size[0], strides[0], 1, padding)?;
    let (ow, pl) = out_len(op, w, pool_size[1], strides[1], 1, padding)?;
    let geom = PoolGeom {
        n,
        h,
        w,
        c,
        oh,
        ow,
        kh: pool_size[0],
        kw: pool_size[1],
        sh: strides[0],
        sw: strides[1],
        pad_top: pt,
        pad_left: pl,
    };
    let xc = contiguous(&cast(x, x.dtype().to_float())?)?;
    let y = Tensor::empty(&[n, oh, ow, c], xc.dtype())?;
    let unsupported = || Error::dtype(op, format!("expected a float tensor, got {}", xc.dtype()));
    match kind {
        PoolKind::Max => {
            // The argmax indices are only needed by backward: skip them when nothing records.
            let arg = if crate::autograd::needs_record(&[&xc]) {
                Some(Tensor::empty(&[n, oh, ow, c], DType::I64)?)
            } else {
                None
            };
            with_float!(xc.dtype(), T => {
                // SAFETY: shapes match the geometry; y and arg are fresh.
                unsafe { max_pool_forward(&geom, xc.data_ptr::<T>(), y.data_ptr::<T>(), arg.as_ref().map(|a| a.data_ptr::<i64>())) }
            }, _ => return Err(unsupported()));
            Ok(finish(
                y,
                Op::MaxPool2d { geom },
                &[&xc],
                arg.into_iter().collect(),
            ))
        }
        PoolKind::Average => {
            with_float!(xc.dtype(), T => {
                // SAFETY: as above.
                unsafe { avg_pool_forward(&geom, xc.data_ptr::<T>(), y.data_ptr::<T>()) }
            }, _ => return Err(unsupported()));
            Ok(finish(y, Op::AvgPool2d { geom }, &[&xc], vec![]))
        }
    }
}

/// Backward of [`Op::MaxPool2d`] (`arg` saved by the forward pass) and [`Op::AvgPool2d`] (None).
pub(crate) fn pool_backward(
    g: &PoolGeom,
    x: &Tensor,
    arg: Option<&Tensor>,
    dy: &Tensor,
) -> Result<Tensor> {
    let dy = contiguous_nograd(&super::cast_nograd(dy, x.dtype())?)?;
    let dx = Tensor::empty(&[g.n, g.h, g.w, g.c], x.dtype())?;
    with_float!(x.dtype(), T => {
        // SAFETY: dy has the output shape, arg the indices the forward pass wrote; dx fresh.
        unsafe {
            match arg {
                Some(a) => max_pool_backward(g, dy.data_ptr::<T>(), a.data_ptr::<i64>(), dx.data_ptr::<T>()),
                None => avg_pool_backward(g, dy.data_ptr::<T>(), dx.data_ptr::<T>()),
            }
        }
    }, _ => return Err(Error::dtype("pool", format!("expected a float tensor, got {}", x.dtype()))));
    Ok(dx)
}
