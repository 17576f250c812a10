//! Matrix product with NumPy's `matmul` semantics: 1-D operands are promoted (and the added axis
//! removed after), batch axes broadcast, and batches fold into the row dimension of a single GEMM
//! when the right operand is shared and the left one's batch rows are evenly spaced.

use crate::autograd::Op;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::matmul::{gemm, GemmParams, MatMut, MatRef};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use crate::with_float;

use super::{cast, expand_dims, finish, squeeze};

/// `a @ b`.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(Error::value(
            "matmul",
            format!(
                "operands must be at least 1-D, got shapes {:?} and {:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let dt = DType::promote(a.dtype(), b.dtype());
    if !dt.is_float() {
        // Integer matmul runs in float64 (exact below 2^53) and converts back.
        let r = matmul(&cast(a, DType::F64)?, &cast(b, DType::F64)?)?;
        return super::cast_nograd(&r, dt);
    }
    let a = cast(a, dt)?;
    let b = cast(b, dt)?;
    let (a2, sq_a) = if a.ndim() == 1 {
        (expand_dims(&a, 0)?, true)
    } else {
        (a.clone(), false)
    };
    let (b2, sq_b) = if b.ndim() == 1 {
        (expand_dims(&b, -1)?, true)
    } else {
        (b.clone(), false)
    };
    let out = matmul_nd(&a2, &b2)?;
    match (sq_a, sq_b) {
        (true, true) => squeeze(&out, Some(&[-2, -1])),
        (true, false) => squeeze(&out, Some(&[-2])),
        (false, true) => squeeze(&out, Some(&[-1])),
        (false, false) => Ok(out),
    }
}

/// Batch offsets (in elements) of `t` broadcast over `batch` (row-major batch enumeration).
fn batch_offsets(t: &Tensor, batch: &[usize]) -> Vec<isize> {
    let nb = t.ndim() - 2;
    let lead = batch.len() - nb;
    let strides: Vec<isize> = (0..batch.len())
        .map(|i| {
            if i < lead || t.shape()[i - lead] == 1 {
                0
            } else {
                t.strides()[i - lead]
            }
        })
        .collect();
    let total: usize = batch.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; batch.len()];
    for _ in 0..total {
        out.push(
            idx.iter()
                .zip(&strides)
                .map(|(&i, &s)| i as isize * s)
                .sum(),
        );
        for d in (0..batch.len()).rev() {
            idx[d] += 1;
            if idx[d] < batch[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// Both operands at least 2-D.
fn matmul_nd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, k) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    let (k2, n) = (b.shape()[b.ndim() - 2], b.shape()[b.ndim() - 1]);
    if k != k2 {
        return Err(Error::shape(
            "matmul",
            format!(
                "inner dimensions do not match: shapes {:?} and {:?} (contracting {k} with {k2})",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let batch = broadcast_shapes(
        "matmul",
        &a.shape()[..a.ndim() - 2],
        &b.shape()[..b.ndim() - 2],
    )?;
    let mut shape = batch.clone();
    shape.extend_from_slice(&[m, n]);
    let out = Tensor::empty(&shape, a.dtype())?;
    let nbatch: usize = batch.iter().product();
    if out.numel() > 0 {
        let ao = batch_offsets(a, &batch);
        let bo = batch_offsets(b, &batch);
        let (ars, acs) = (a.strides()[a.ndim() - 2], a.strides()[a.ndim() - 1]);
        let (brs, bcs) = (b.strides()[b.ndim() - 2], b.strides()[b.ndim() - 1]);
        // Fold batches into rows when B is shared by every batch and A's batches are evenly
        // spaced so that its rows continue across batches: one big GEMM instead of many small ones.
        let spacing = if ao.len() > 1 { ao[1] - ao[0] } else { 0 };
        let even = ao.windows(2).all(|w| w[1] - w[0] == spacing);
        let fold = nbatch > 1
            && bo.iter().all(|&o| o == bo[0])
            && even
            && (m == 1 || spacing == m as isize * ars);
        let (mm, nb, ars) = if fold {
            (m * nbatch, 1, if m == 1 { spacing } else { ars })
        } else {
            (m, nbatch, ars)
        };
        let (ao, bo) = if fold {
            (vec![ao[0]], vec![bo[0]])
        } else {
            (ao, bo)
        };
        let co: Vec<isize> = (0..nb as isize).map(|i| i * (mm * n) as isize).collect();
        with_float!(a.dtype(), T => {
            let p = GemmParams::<T> {
                m: mm,
                n,
                k,
                alpha: 1.0,
                beta: 0.0,
                a: MatRef { ptr: a.data_ptr::<T>(), rs: ars, cs: acs },
                b: MatRef { ptr: b.data_ptr::<T>(), rs: brs, cs: bcs },
                c: MatMut { ptr: out.data_ptr::<T>(), rs: n as isize, cs: 1 },
                a_offsets: &ao,
                b_offsets: &bo,
                c_offsets: &co,
            };
            // SAFETY: shapes and broadcast offsets were derived from valid layouts; C is fresh.
            unsafe { gemm(&p) };
        }, _ => unreachable!());
    }
    Ok(finish(out, Op::MatMul, &[a, b], vec![]))
}
