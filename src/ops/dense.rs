//! `act(x @ w + b)` as one op: the Dense layer's forward in one GEMM whose epilogue adds the bias
//! and applies the activation to each tile while it is in cache (`kernels/matmul/epilogue.rs`),
//! and its backward in one rule (the activation's derivative, then two GEMMs and a column sum).
//!
//! The values are bit-identical to `matmul`, `add` and the activation run one after another:
//! the same product, one rounding for the bias, the same element-wise kernel.

use crate::autograd::{needs_record, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::kernels::matmul::{gemm_epilogue, Epilogue, GemmParams, MatMut, MatRef};
use crate::kernels::unary::{unary_slice, UnaryOp};
use crate::tensor::Tensor;
use crate::threading::GRAIN;
use crate::with_float;

use super::{cast, contiguous_nograd, finish};

/// The recorded form of [`dense`]: the activation (None: the identity) and whether the bias is
/// the third input. Saved: the pre-activation values when the activation's derivative reads them
/// (GELU, SiLU, ...; followed by the output where it reads both, as ELU's), the output when it
/// reads only that (tanh, sigmoid, ReLU), else nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DenseSpec {
    pub act: Option<UnaryOp>,
    pub has_bias: bool,
}

impl DenseSpec {
    /// Whether the saved tensor is the output (else the pre-activation values, or nothing).
    fn saves_output(&self) -> bool {
        match self.act {
            None => false,
            // ReLU's and ReLU6's derivatives are the same functions of the output as of the
            // input (positive, below 6), so the pre-activation values need not be kept.
            Some(UnaryOp::Relu | UnaryOp::Relu6) => true,
            Some(op) => !op.backward_reads_input(),
        }
    }
}

/// `act(x @ w + b)`: `x` of shape (..., k), `w` (k, n), `b` (n,); the result is (..., n).
/// Float dtypes only (the operands are promoted to a common one).
pub fn dense(x: &Tensor, w: &Tensor, b: Option<&Tensor>, act: Option<UnaryOp>) -> Result<Tensor> {
    if x.ndim() == 0 || w.ndim() != 2 {
        return Err(Error::shape(
            "dense",
            format!(
                "expects inputs of at least 1 dimension and a 2-D kernel, got shapes {:?} and {:?}",
                x.shape(),
                w.shape()
            ),
        ));
    }
    let (k, n) = (w.shape()[0], w.shape()[1]);
    if x.shape()[x.ndim() - 1] != k {
        return Err(Error::shape(
            "dense",
            format!(
                "the last axis of the input ({:?}) must match the kernel's first ({:?})",
                x.shape(),
                w.shape()
            ),
        ));
    }
    if let Some(b) = b {
        if b.shape() != [n] {
            return Err(Error::shape(
                "dense",
                format!("the bias must have shape ({n},), got {:?}", b.shape()),
            ));
        }
    }
    let mut dt = DType::promote(x.dtype(), w.dtype());
    if let Some(b) = b {
        dt = DType::promote(dt, b.dtype());
    }
    if !dt.is_float() {
        return Err(Error::dtype(
            "dense",
            format!(
                "needs floating-point operands, got {} and {}",
                x.dtype(),
                w.dtype()
            ),
        ));
    }
    let x = cast(x, dt)?;
    let w = cast(w, dt)?;
    let b = b.map(|b| cast(b, dt)).transpose()?;
    let lead = &x.shape()[..x.ndim() - 1];
    let rows: usize = lead.iter().product();
    let mut shape = lead.to_vec();
    shape.push(n);
    let mut inputs = vec![&x, &w];
    if let Some(b) = &b {
        inputs.push(b);
    }
    let spec = DenseSpec {
        act,
        has_bias: b.is_some(),
    };
    let record = needs_record(&inputs);
    // The pre-activation values are kept (C), and the activation written to a second buffer,
    // only when the backward will read them.
    let keep_z = record && act.is_some() && !spec.saves_output();
    // Only cheap activations run inside the product's tiles: a transcendental one (GELU, SiLU,
    // tanh...) costs about as much as a 128-deep product, and in the tiles it ran 10-30% slower
    // than the same arithmetic as one streaming pass over the whole output (Emerald Rapids,
    // (4096, 128) @ (128, 512) with tanh-GELU: 3.1-3.5 vs 2.8-3.0 ms).
    let in_tile = act.is_none_or(cheap_activation);
    let y = Tensor::empty(&shape, dt)?;
    let z = if keep_z || !in_tile {
        Some(Tensor::empty(&shape, dt)?)
    } else {
        None
    };
    if y.numel() > 0 {
        // The rows of x as one (rows, k) matrix: its leading axes must merge into one stride.
        let xm = match merged_row_stride(&x) {
            Some(rs) => (x.clone(), rs),
            None => {
                let c = contiguous_nograd(&x)?;
                (c, k as isize)
            }
        };
        let (xt, x_rs) = xm;
        let x_cs = xt.strides()[xt.ndim() - 1];
        with_float!(dt, T => {
            let c = z.as_ref().unwrap_or(&y);
            let out = z.as_ref().map(|_| (y.data_ptr::<T>(), n as isize));
            let bias = b.as_ref().map(|b| b.data_ptr::<T>() as *const T);
            let epi = if in_tile {
                Epilogue::new(bias, act, out)
            } else {
                Epilogue::new(bias, None, None)
            };
            let p = GemmParams::<T> {
                m: rows,
                n,
                k,
                alpha: 1.0,
                beta: 0.0,
                a: MatRef { ptr: xt.data_ptr::<T>(), rs: x_rs, cs: x_cs },
                b: MatRef { ptr: w.data_ptr::<T>(), rs: w.strides()[0], cs: w.strides()[1] },
                c: MatMut { ptr: c.data_ptr::<T>(), rs: n as isize, cs: 1 },
                a_offsets: &[0],
                b_offsets: &[0],
                c_offsets: &[0],
            };
            // SAFETY: x (rows x k through its merged strides), w and the bias are valid for
            // reads; y and z are fresh contiguous (rows, n) buffers, distinct from the inputs.
            unsafe { gemm_epilogue(&p, &epi) };
            if let (false, Some(op), Some(z)) = (in_tile, act, &z) {
                // SAFETY: z and y are distinct contiguous buffers of y.numel() values.
                unsafe { activate::<T>(op, z.data_ptr::<T>(), y.data_ptr::<T>(), y.numel()) };
            }
        }, _ => unreachable!());
    }
    let z = if keep_z { z } else { None };
    let saved = if !record || act.is_none() {
        vec![]
    } else if let Some(z) = z {
        // ELU's and SELU's rules read the output as well as the input.
        if act.is_some_and(|op| op.backward_uses_output()) {
            vec![z, y.clone()]
        } else {
            vec![z]
        }
    } else if spec.saves_output() {
        vec![y.clone()]
    } else {
        vec![]
    };
    Ok(finish(y, Op::Dense(spec), &inputs, saved))
}

/// Activations applied inside the product's tiles (a compare or a multiply per value).
fn cheap_activation(op: UnaryOp) -> bool {
    matches!(op, UnaryOp::Relu | UnaryOp::Relu6 | UnaryOp::LeakyRelu(_))
}

/// `y = op(z)` over `n` contiguous values, in parallel chunks.
///
/// # Safety
/// `z` and `y` are valid for `n` values and do not overlap.
unsafe fn activate<T: crate::kernels::math::Real>(op: UnaryOp, z: *const T, y: *mut T, n: usize) {
    let (zp, yp) = (SendPtr(z as *mut T), SendPtr(y));
    let chunk = GRAIN;
    let run = |c: usize| {
        let s = c * chunk;
        let e = (s + chunk).min(n);
        // SAFETY: chunk c reads and writes only its own range.
        unsafe {
            unary_slice(
                op,
                std::slice::from_raw_parts(zp.get().add(s), e - s),
                std::slice::from_raw_parts_mut(yp.get().add(s), e - s),
            )
        }
    };
    if crate::threading::should_parallelize(n, chunk) {
        crate::threading::for_each_task(n.div_ceil(chunk), run);
    } else {
        (0..n.div_ceil(chunk)).for_each(run);
    }
}

/// The stride between consecutive rows of `x` seen as a (rows, last axis) matrix, when its
/// leading axes merge into one (size-1 axes impose nothing), else None.
fn merged_row_stride(x: &Tensor) -> Option<isize> {
    let nd = x.ndim();
    let (shape, strides) = (x.shape(), x.strides());
    let mut rs: Option<isize> = None;
    // Walk the leading axes from the innermost: each must step by the next one's whole extent.
    let mut expect: Option<isize> = None;
    for i in (0..nd - 1).rev() {
        if shape[i] == 1 {
            continue;
        }
        match expect {
            None => rs = Some(strides[i]),
            Some(e) if e == strides[i] => {}
            Some(_) => return None,
        }
        expect = Some(strides[i].checked_mul(shape[i] as isize)?);
    }
    Some(rs.unwrap_or(shape[nd - 1] as isize))
}

/// Gradients of [`dense`]'s inputs (x, w and, when present, b) given the output's `g`.
pub(crate) fn dense_backward(
    spec: &DenseSpec,
    inputs: &[Tensor],
    saved: &[Tensor],
    g: &Tensor,
    need: &[bool],
) -> Result<Vec<Option<Tensor>>> {
    let (x, w) = (&inputs[0], &inputs[1]);
    let (k, n) = (w.shape()[0], w.shape()[1]);
    let rows: usize = x.shape()[..x.ndim() - 1].iter().product();
    let dz = match spec.act {
        None => g.clone(),
        Some(op) => {
            let s = saved.first().ok_or_else(|| {
                Error::autograd("dense", "the activation's input or output was not saved")
            })?;
            if spec.saves_output() {
                // The output stands in for the input: ReLU's rule reads the input only where
                // the output agrees with it (positive, below 6), tanh's and sigmoid's not at all.
                super::unary_backward(op, s, Some(s), g)?
            } else {
                super::unary_backward(op, s, saved.get(1), g)?
            }
        }
    };
    let dz2 = super::reshape(&dz, &[rows, n])?;
    let gx = if need[0] {
        let wt = super::swapaxes(w, 0, 1)?;
        Some(super::reshape(&super::matmul(&dz2, &wt)?, x.shape())?)
    } else {
        None
    };
    let gw = if need[1] {
        let x2 = super::reshape(x, &[rows, k])?;
        Some(super::matmul(&super::swapaxes(&x2, 0, 1)?, &dz2)?)
    } else {
        None
    };
    let mut out = vec![gx, gw];
    if spec.has_bias {
        out.push(if need.get(2).copied().unwrap_or(false) {
            Some(super::sum(&dz2, Some(&[0]), false)?)
        } else {
            None
        });
    }
    Ok(out)
}
