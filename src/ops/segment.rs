//! Segment reductions along axis 0 (keras.ops.segment_max / segment_min / segment_prod):
//! `out[s] = reduce(values[i] for rows i with ids[i] == s)`, `out` of shape (segments, ...).
//!
//! Rows whose id is outside `[0, segments)` are dropped (Keras 3 on PyTorch: `scatter_reduce`
//! ignores them through its padding trick). An empty segment holds the reduction's identity:
//! -inf / +inf for float max / min (the type's lowest / highest value for integers), 1 for prod.
//! NaN propagates through max and min.
//!
//! Threads split the columns (the product of the trailing axes) into fixed blocks; every column
//! reads the rows in order, so results do not depend on the thread count.
//!
//! Gradients (float dtypes): max/min send `g[s]` to the rows that reached the extreme, split
//! equally between ties (as PyTorch's `amax`/`amin` reduction does); prod sends each row
//! `g[s]` times the product of the segment's other rows, computed exactly when rows are zero
//! (from the product of the nonzero rows and the count of zeros).

use crate::autograd::Op;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::binary::Num;
use crate::kernels::iter::SendPtr;
use crate::tensor::Tensor;
use crate::with_numeric;

use super::creation::full;
use super::{cast_nograd, contiguous, contiguous_nograd, finish};

/// Which reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    Max,
    Min,
    Prod,
}

impl SegmentKind {
    pub fn parse(op: &str, s: &str) -> Result<SegmentKind> {
        match s {
            "max" => Ok(SegmentKind::Max),
            "min" => Ok(SegmentKind::Min),
            "prod" => Ok(SegmentKind::Prod),
            _ => Err(Error::value(
                op,
                format!("the reduction must be 'max', 'min' or 'prod', got {s:?}"),
            )),
        }
    }

    fn identity(self) -> f64 {
        match self {
            SegmentKind::Max => f64::NEG_INFINITY,
            SegmentKind::Min => f64::INFINITY,
            SegmentKind::Prod => 1.0,
        }
    }
}

const COL_BLOCK: usize = 1024;

/// The segment ids as row targets: `Some(s)` for an id in range, `None` for a dropped row.
fn targets(op: &str, ids: &Tensor, rows: usize, segments: usize) -> Result<Vec<Option<usize>>> {
    if !ids.dtype().is_int() {
        return Err(Error::dtype(
            op,
            format!("segment_ids must be integers, got dtype {}", ids.dtype()),
        ));
    }
    if ids.ndim() != 1 || ids.numel() != rows {
        return Err(Error::shape(
            op,
            format!(
                "segment_ids must be 1-D with one id per row of data ({rows}), got shape {:?}",
                ids.shape()
            ),
        ));
    }
    let v = cast_nograd(&contiguous_nograd(ids)?, DType::I64)?;
    let v = contiguous_nograd(&v)?;
    // SAFETY: v is a contiguous int64 tensor of `rows` elements.
    let s = unsafe { std::slice::from_raw_parts(v.data_ptr::<i64>(), rows) };
    Ok(s.iter()
        .map(|&i| (i >= 0 && (i as u64) < segments as u64).then_some(i as usize))
        .collect())
}

/// Reduces rows into `out` (segments, cols), which holds the identity on entry.
///
/// # Safety
/// `x` addresses `rows * cols` values, `out` `segments * cols`; `tg` has `rows` entries < segments.
unsafe fn reduce_rows<T: Num>(
    kind: SegmentKind,
    x: *const T,
    tg: &[Option<usize>],
    cols: usize,
    out: *mut T,
) {
    let (xp, op) = (SendPtr(x as *mut T), SendPtr(out));
    let blocks = cols.div_ceil(COL_BLOCK);
    let run = |bi: usize| {
        let c0 = bi * COL_BLOCK;
        let w = COL_BLOCK.min(cols - c0);
        for (r, t) in tg.iter().enumerate() {
            let Some(s) = *t else { continue };
            let src = std::slice::from_raw_parts(xp.get().add(r * cols + c0), w);
            let dst = std::slice::from_raw_parts_mut(op.get().add(s * cols + c0), w);
            match kind {
                SegmentKind::Max => dst
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &v)| *d = T::max(*d, v)),
                SegmentKind::Min => dst
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &v)| *d = T::min(*d, v)),
                SegmentKind::Prod => dst
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &v)| *d = T::mul(*d, v)),
            }
        }
    };
    if blocks > 1 && tg.len() * cols >= 1 << 15 {
        crate::threading::for_each_task(blocks, run);
    } else {
        (0..blocks).for_each(run);
    }
}

/// `out[s] = reduce(values[i] for i with ids[i] == s)` along axis 0; see the module docs.
pub fn segment_reduce(
    values: &Tensor,
    ids: &Tensor,
    segments: usize,
    kind: SegmentKind,
) -> Result<Tensor> {
    const OP: &str = "segment_reduce";
    if values.ndim() == 0 {
        return Err(Error::value(
            OP,
            "data must have at least one axis (the rows to reduce), got a 0-d tensor",
        ));
    }
    if values.dtype() == DType::Bool {
        return Err(Error::dtype(OP, "data must be numeric, got bool"));
    }
    let rows = values.shape()[0];
    let tg = targets(OP, ids, rows, segments)?;
    let vc = contiguous(values)?;
    let mut shape = values.shape().to_vec();
    shape[0] = segments;
    let cols: usize = shape[1..].iter().product();
    let out = full(&shape, kind.identity(), values.dtype())?;
    if rows > 0 && cols > 0 && segments > 0 {
        // SAFETY: vc is contiguous (rows, cols), out is a fresh (segments, cols) buffer and every
        // target is < segments.
        with_numeric!(values.dtype(), T => unsafe { reduce_rows::<T>(kind, vc.data_ptr::<T>(), &tg, cols, out.data_ptr::<T>()) },
            _ => return Err(Error::dtype(OP, format!("data must be float32, float64, int32 or int64, got {}", values.dtype()))));
    }
    if !values.dtype().is_float() {
        return Ok(out);
    }
    // The ids travel as int64 with dropped rows at -1.
    let tid: Vec<i64> = tg.iter().map(|t| t.map_or(-1, |s| s as i64)).collect();
    let ids64 = Tensor::from_vec(tid, &[rows])?;
    Ok(finish(
        out.clone(),
        Op::SegmentReduce { kind, segments },
        &[&vc, &ids64],
        vec![out],
    ))
}

/// The gradient of `segment_reduce` with respect to `values` (float dtypes).
pub fn segment_reduce_backward(
    kind: SegmentKind,
    values: &Tensor,
    ids: &Tensor,
    out: &Tensor,
    g: &Tensor,
) -> Result<Tensor> {
    let x = contiguous_nograd(values)?;
    let g = contiguous_nograd(&cast_nograd(g, x.dtype())?)?;
    let out = contiguous_nograd(out)?;
    let rows = x.shape()[0];
    let segments = out.shape()[0];
    let cols: usize = x.shape()[1..].iter().product();
    let gx = full(x.shape(), 0.0, x.dtype())?;
    // SAFETY: ids is the int64 (rows,) tensor the forward saved.
    let tg: Vec<Option<usize>> =
        unsafe { std::slice::from_raw_parts(contiguous_nograd(ids)?.data_ptr::<i64>(), rows) }
            .iter()
            .map(|&i| (i >= 0).then_some(i as usize))
            .collect();
    if rows == 0 || cols == 0 {
        return Ok(gx);
    }
    match x.dtype() {
        // SAFETY: x, gx (rows, cols), out, g (segments, cols) contiguous; targets < segments.
        DType::F32 => unsafe { backward_rows::<f32>(kind, &x, &tg, &out, &g, &gx, segments, cols) },
        DType::F64 => unsafe { backward_rows::<f64>(kind, &x, &tg, &out, &g, &gx, segments, cols) },
        d => {
            return Err(Error::dtype(
                "segment_reduce",
                format!("gradients need float data, got {d}"),
            ))
        }
    }
    Ok(gx)
}

/// # Safety
/// As [`segment_reduce_backward`]'s body states.
#[allow(clippy::too_many_arguments)]
unsafe fn backward_rows<T: crate::kernels::math::Real>(
    kind: SegmentKind,
    x: &Tensor,
    tg: &[Option<usize>],
    out: &Tensor,
    g: &Tensor,
    gx: &Tensor,
    segments: usize,
    cols: usize,
) {
    let xs = std::slice::from_raw_parts(x.data_ptr::<T>(), tg.len() * cols);
    let os = std::slice::from_raw_parts(out.data_ptr::<T>(), segments * cols);
    let gs = std::slice::from_raw_parts(g.data_ptr::<T>(), segments * cols);
    let dx = std::slice::from_raw_parts_mut(gx.data_ptr::<T>(), tg.len() * cols);
    match kind {
        SegmentKind::Max | SegmentKind::Min => {
            // Ties share the gradient equally: count them first.
            let mut count = vec![0u32; segments * cols];
            for (r, t) in tg.iter().enumerate() {
                let Some(s) = *t else { continue };
                for j in 0..cols {
                    if xs[r * cols + j] == os[s * cols + j] {
                        count[s * cols + j] += 1;
                    }
                }
            }
            for (r, t) in tg.iter().enumerate() {
                let Some(s) = *t else { continue };
                for j in 0..cols {
                    let k = s * cols + j;
                    if xs[r * cols + j] == os[k] {
                        dx[r * cols + j] = gs[k] / T::c(count[k] as f64);
                    }
                }
            }
        }
        SegmentKind::Prod => {
            // Per (segment, column): the number of zero rows and the product of the nonzero ones.
            let mut zeros = vec![0u32; segments * cols];
            let mut nz = vec![T::c(1.0); segments * cols];
            for (r, t) in tg.iter().enumerate() {
                let Some(s) = *t else { continue };
                for j in 0..cols {
                    let v = xs[r * cols + j];
                    if v == T::c(0.0) {
                        zeros[s * cols + j] += 1;
                    } else {
                        nz[s * cols + j] = nz[s * cols + j] * v;
                    }
                }
            }
            for (r, t) in tg.iter().enumerate() {
                let Some(s) = *t else { continue };
                for j in 0..cols {
                    let k = s * cols + j;
                    let v = xs[r * cols + j];
                    let others = match (zeros[k], v == T::c(0.0)) {
                        (0, _) => nz[k] / v,
                        (1, true) => nz[k],
                        _ => T::c(0.0),
                    };
                    dx[r * cols + j] = gs[k] * others;
                }
            }
        }
    }
}
