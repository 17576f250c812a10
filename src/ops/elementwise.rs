//! Elementwise ops: unary math and activations, broadcasting binary arithmetic, comparisons,
//! logical ops, `where`, casts and copies.

use crate::autograd::{needs_record, NoGradGuard, Op};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::binary::{
    binary_segment, cast_segment, compare_segment, logic_segment, where_segment, BinaryOp, CmpOp,
    LogicOp,
};
use crate::kernels::iter::{Plan, SendPtr};
use crate::kernels::unary::{unary_backward_slice, unary_segment, UnaryOp};
use crate::shape::{broadcast_many, broadcast_shapes};
use crate::tensor::Tensor;
use crate::threading::GRAIN;
use crate::{with_dtype, with_float, with_numeric};

use super::{finish, full};

/// `op(x)` elementwise. Integer inputs are computed in float32 (Keras' floatx), except for the
/// ops that are exact on integers (negative, abs, square, sign, relu), which keep the dtype.
pub fn unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    if !x.dtype().is_float() {
        return unary_int(x, op);
    }
    let out = Tensor::empty(x.shape(), x.dtype())?;
    if x.numel() > 0 {
        with_float!(x.dtype(), T => {
            let plan = Plan::new(x.shape(), [x.strides(), out.strides()]);
            let [sx, _] = plan.inner_strides();
            let (xp, yp) = (SendPtr(x.data_ptr::<T>()), SendPtr(out.data_ptr::<T>()));
            plan.run([0, 0], GRAIN, |o, n| unsafe {
                unary_segment(op, xp.get().offset(o[0]), sx, yp.get().offset(o[1]), n)
            });
        }, _ => unreachable!());
    }
    if op.is_piecewise_constant() {
        return Ok(out);
    }
    let saved = if op.backward_uses_output() && needs_record(&[x]) {
        vec![out.clone()]
    } else {
        vec![]
    };
    Ok(finish(out.clone(), Op::Unary(op), &[x], saved))
}

fn unary_int(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    let _g = NoGradGuard::new();
    let zero = || full(&[], 0.0, x.dtype());
    match op {
        UnaryOp::Neg => binary(&zero()?, x, BinaryOp::Sub),
        UnaryOp::Abs => {
            let neg = binary(&zero()?, x, BinaryOp::Sub)?;
            binary(x, &neg, BinaryOp::Maximum)
        }
        UnaryOp::Square => binary(x, x, BinaryOp::Mul),
        UnaryOp::Relu => binary(x, &zero()?, BinaryOp::Maximum),
        UnaryOp::Sign => {
            let pos = cast(&compare(x, &zero()?, CmpOp::Gt)?, x.dtype())?;
            let neg = cast(&compare(x, &zero()?, CmpOp::Lt)?, x.dtype())?;
            binary(&pos, &neg, BinaryOp::Sub)
        }
        UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => cast(x, x.dtype()),
        UnaryOp::Clip(lo, hi) => {
            // Bools clip as integers (NumPy gives [0, 1] for clip([False, True], -1, 1)); the
            // bounds converted to bool would both read as `true`.
            let dt = if x.dtype() == DType::Bool {
                DType::I32
            } else {
                x.dtype()
            };
            let lo = full(&[], lo.ceil(), dt)?;
            let hi = full(&[], hi.floor(), dt)?;
            binary(&binary(x, &lo, BinaryOp::Maximum)?, &hi, BinaryOp::Minimum)
        }
        _ => {
            drop(_g);
            unary(&cast(x, DType::F32)?, op)
        }
    }
}

/// Backward of a unary op: `gx = g * op'(x)` (one fused kernel).
pub(crate) fn unary_backward(
    op: UnaryOp,
    x: &Tensor,
    y: Option<&Tensor>,
    g: &Tensor,
) -> Result<Tensor> {
    let x = contiguous_nograd(x)?;
    let g = contiguous_nograd(&cast_nograd(g, x.dtype())?)?;
    let y = match y {
        Some(y) => contiguous_nograd(y)?,
        None => x.clone(),
    };
    let out = Tensor::empty(x.shape(), x.dtype())?;
    let n = x.numel();
    with_float!(x.dtype(), T => unsafe {
        let xs = std::slice::from_raw_parts(x.data_ptr::<T>(), n);
        let ys = std::slice::from_raw_parts(y.data_ptr::<T>(), n);
        let gs = std::slice::from_raw_parts(g.data_ptr::<T>(), n);
        let os = SendPtr(out.data_ptr::<T>());
        let chunk = GRAIN;
        if crate::threading::should_parallelize(n, chunk) {
            crate::threading::for_each_task(n.div_ceil(chunk), |c| {
                let s = c * chunk;
                let e = (s + chunk).min(n);
                // SAFETY: chunk c writes only its own range of the output.
                let o = std::slice::from_raw_parts_mut(os.get().add(s), e - s);
                unary_backward_slice(op, &xs[s..e], &ys[s..e], &gs[s..e], o);
            });
        } else {
            unary_backward_slice(op, xs, ys, gs, std::slice::from_raw_parts_mut(os.get(), n));
        }
    }, _ => return Err(Error::dtype(op.name(), format!("backward needs a float tensor, got {}", x.dtype()))));
    Ok(out)
}

/// The dtype an arithmetic op computes in.
fn arith_dtype(op: BinaryOp, a: DType, b: DType) -> DType {
    let d = DType::promote(a, b);
    match op {
        BinaryOp::Div | BinaryOp::Atan2 | BinaryOp::Hypot | BinaryOp::NextAfter
            if !d.is_float() =>
        {
            DType::F32
        }
        _ if d == DType::Bool => DType::I32,
        _ => d,
    }
}

/// `a op b` with NumPy broadcasting and type promotion.
pub fn binary(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<Tensor> {
    if a.dtype() == DType::Bool && b.dtype() == DType::Bool {
        // NumPy, JAX and PyTorch keep bool for bool operands: + and maximum are "or", * and
        // minimum are "and"; bool - bool is refused. The rest computes in integers as NumPy does.
        match op {
            BinaryOp::Add | BinaryOp::Maximum => return logical_as(op.name(), a, b, LogicOp::Or),
            BinaryOp::Mul | BinaryOp::Minimum => return logical_as(op.name(), a, b, LogicOp::And),
            BinaryOp::Sub => {
                return Err(Error::dtype(
                    "subtract",
                    "subtracting two bool tensors is not supported; expected numeric operands \
                     (cast one to an integer dtype) or logical_xor",
                ))
            }
            _ => {}
        }
    }
    let dt = arith_dtype(op, a.dtype(), b.dtype());
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let a = cast(a, dt)?;
    let b = cast(b, dt)?;
    if op == BinaryOp::Pow && dt.is_int() {
        // NumPy's rule: an integer result cannot hold 1/a^k, so a negative exponent is an error
        // rather than a silent 0. One scan of the (usually scalar) exponent; integer pow is rare.
        if let Some(e) = b.to_vec_any_i64()?.into_iter().find(|&e| e < 0) {
            return Err(Error::value(
                "power",
                format!(
                    "integers to negative integer powers are not allowed (got exponent {e} with \
                     {dt} operands); expected exponents >= 0, or cast the base to a float dtype"
                ),
            ));
        }
    }
    let out = Tensor::empty(&shape, dt)?;
    if out.numel() > 0 {
        let la = a.layout().broadcast_to(&shape)?;
        let lb = b.layout().broadcast_to(&shape)?;
        with_numeric!(dt, T => {
            let plan = Plan::new(&shape, [&la.strides, &lb.strides, out.strides()]);
            let [sa, sb, _] = plan.inner_strides();
            let (ap, bp, op_) = (SendPtr(a.data_ptr::<T>()), SendPtr(b.data_ptr::<T>()), SendPtr(out.data_ptr::<T>()));
            plan.run([0, 0, 0], GRAIN, |o, n| unsafe {
                binary_segment(op, ap.get().offset(o[0]), sa, bp.get().offset(o[1]), sb, op_.get().offset(o[2]), n)
            });
        }, _ => unreachable!());
    }
    if !dt.is_float() || op == BinaryOp::FloorDiv {
        return Ok(out);
    }
    let saved = if matches!(op, BinaryOp::Pow | BinaryOp::Hypot) && needs_record(&[&a, &b]) {
        vec![out.clone()]
    } else {
        vec![]
    };
    Ok(finish(out.clone(), Op::Binary(op), &[&a, &b], saved))
}

pub fn add(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(a, b, BinaryOp::Add)
}
pub fn sub(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(a, b, BinaryOp::Sub)
}
pub fn mul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(a, b, BinaryOp::Mul)
}
pub fn div(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    binary(a, b, BinaryOp::Div)
}

/// `a + b` without recording (gradient accumulation).
pub fn add_nograd(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let _g = NoGradGuard::new();
    binary(a, b, BinaryOp::Add)
}

/// `x * s` for a scalar `s`, in x's dtype.
pub fn mul_scalar(x: &Tensor, s: f64) -> Result<Tensor> {
    let c = full(&[], s, x.dtype().to_float())?;
    binary(x, &c, BinaryOp::Mul)
}

/// Elementwise comparison with broadcasting; returns bool.
pub fn compare(a: &Tensor, b: &Tensor, op: CmpOp) -> Result<Tensor> {
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let dt = DType::promote(a.dtype(), b.dtype());
    let a = cast_nograd(a, dt)?;
    let b = cast_nograd(b, dt)?;
    let out = Tensor::empty(&shape, DType::Bool)?;
    if out.numel() > 0 {
        let la = a.layout().broadcast_to(&shape)?;
        let lb = b.layout().broadcast_to(&shape)?;
        with_dtype!(dt, T => {
            let plan = Plan::new(&shape, [&la.strides, &lb.strides, out.strides()]);
            let [sa, sb, _] = plan.inner_strides();
            let (ap, bp, op_) = (SendPtr(a.data_ptr::<T>()), SendPtr(b.data_ptr::<T>()), SendPtr(out.data_ptr::<bool>()));
            plan.run([0, 0, 0], GRAIN, |o, n| unsafe {
                compare_segment(op, ap.get().offset(o[0]), sa, bp.get().offset(o[1]), sb, op_.get().offset(o[2]), n)
            });
        });
    }
    Ok(out)
}

/// Logical and/or/xor (inputs are converted to bool: nonzero is true).
pub fn logical(a: &Tensor, b: &Tensor, op: LogicOp) -> Result<Tensor> {
    let name = match op {
        LogicOp::And => "logical_and",
        LogicOp::Or => "logical_or",
        LogicOp::Xor => "logical_xor",
    };
    logical_as(name, a, b, op)
}

/// [`logical`] whose errors name the op the caller was asked for (`add` of two bools is "or").
fn logical_as(name: &str, a: &Tensor, b: &Tensor, op: LogicOp) -> Result<Tensor> {
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let a = cast_nograd(a, DType::Bool)?;
    let b = cast_nograd(b, DType::Bool)?;
    let out = Tensor::empty(&shape, DType::Bool)?;
    if out.numel() > 0 {
        let la = a.layout().broadcast_to(&shape)?;
        let lb = b.layout().broadcast_to(&shape)?;
        let plan = Plan::new(&shape, [&la.strides, &lb.strides, out.strides()]);
        let [sa, sb, _] = plan.inner_strides();
        let (ap, bp, op_) = (
            SendPtr(a.data_ptr::<bool>()),
            SendPtr(b.data_ptr::<bool>()),
            SendPtr(out.data_ptr::<bool>()),
        );
        plan.run([0, 0, 0], GRAIN, |o, n| unsafe {
            logic_segment(
                op,
                ap.get().offset(o[0]),
                sa,
                bp.get().offset(o[1]),
                sb,
                op_.get().offset(o[2]),
                n,
            )
        });
    }
    Ok(out)
}

/// Logical not (nonzero is true).
pub fn logical_not(x: &Tensor) -> Result<Tensor> {
    let f = full(&[], 0.0, DType::Bool)?;
    compare(&cast_nograd(x, DType::Bool)?, &f, CmpOp::Eq)
}

/// `cond ? a : b` elementwise with broadcasting of all three.
pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_many("where", &[cond.shape(), a.shape(), b.shape()])?;
    let dt = DType::promote(a.dtype(), b.dtype());
    let c = cast_nograd(cond, DType::Bool)?;
    let a = cast(a, dt)?;
    let b = cast(b, dt)?;
    let out = Tensor::empty(&shape, dt)?;
    if out.numel() > 0 {
        let lc = c.layout().broadcast_to(&shape)?;
        let la = a.layout().broadcast_to(&shape)?;
        let lb = b.layout().broadcast_to(&shape)?;
        with_dtype!(dt, T => {
            let plan = Plan::new(&shape, [&lc.strides, &la.strides, &lb.strides, out.strides()]);
            let [sc, sa, sb, _] = plan.inner_strides();
            let cp = SendPtr(c.data_ptr::<bool>());
            let (ap, bp, op_) = (SendPtr(a.data_ptr::<T>()), SendPtr(b.data_ptr::<T>()), SendPtr(out.data_ptr::<T>()));
            plan.run([0, 0, 0, 0], GRAIN, |o, n| unsafe {
                where_segment(cp.get().offset(o[0]), sc, ap.get().offset(o[1]), sa, bp.get().offset(o[2]), sb, op_.get().offset(o[3]), n)
            });
        });
    }
    if !dt.is_float() {
        return Ok(out);
    }
    Ok(finish(out.clone(), Op::Where, &[&c, &a, &b], vec![]))
}

/// Converts to `dtype` (returns the same tensor when the dtype already matches).
pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    let out = copy_as(x, dtype)?;
    if x.dtype().is_float() && dtype.is_float() {
        return Ok(finish(
            out.clone(),
            Op::Cast { from: x.dtype() },
            &[x],
            vec![],
        ));
    }
    Ok(out)
}

/// [`cast`] without recording.
pub fn cast_nograd(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    copy_as(x, dtype)
}

/// A contiguous copy in `dtype` (no recording).
pub(crate) fn copy_as(x: &Tensor, dtype: DType) -> Result<Tensor> {
    let out = Tensor::empty(x.shape(), dtype)?;
    if x.numel() == 0 {
        return Ok(out);
    }
    with_dtype!(x.dtype(), S => with_dtype!(dtype, D => {
        let plan = Plan::new(x.shape(), [x.strides(), out.strides()]);
        let [sx, _] = plan.inner_strides();
        let (xp, yp) = (SendPtr(x.data_ptr::<S>()), SendPtr(out.data_ptr::<D>()));
        plan.run([0, 0], GRAIN, |o, n| unsafe { cast_segment::<S, D>(xp.get().offset(o[0]), sx, yp.get().offset(o[1]), n) });
    }));
    Ok(out)
}

/// A row-major contiguous tensor with the same values (the same tensor if already contiguous).
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    if x.is_contiguous() {
        return Ok(x.clone());
    }
    let out = copy_as(x, x.dtype())?;
    Ok(finish(out.clone(), Op::Copy, &[x], vec![]))
}

/// [`contiguous`] without recording.
pub fn contiguous_nograd(x: &Tensor) -> Result<Tensor> {
    if x.is_contiguous() {
        return Ok(x.clone());
    }
    copy_as(x, x.dtype())
}

/// Clips values into `[lo, hi]` (gradient passes where `lo <= x <= hi`).
pub fn clip(x: &Tensor, lo: f64, hi: f64) -> Result<Tensor> {
    if lo.is_nan() || hi.is_nan() {
        return Err(Error::value(
            "clip",
            format!("bounds must not be NaN, got min={lo}, max={hi}"),
        ));
    }
    unary(x, UnaryOp::Clip(lo, hi))
}

/// Copies `src` (broadcast to `dst`'s shape) into the view `dst` in place.
///
/// Refused in grad mode when `dst` requires grad (the write would not be differentiated), and
/// when `dst` is a view whose elements overlap (a broadcast view: several elements share one
/// address, so the write is ambiguous and two tasks could race on it). Bumps `dst`'s storage
/// version, so a tape node that saved any view of it fails at backward instead of computing
/// gradients from the new values (`autograd/mod.rs`).
pub fn assign(dst: &Tensor, src: &Tensor) -> Result<()> {
    if dst.requires_grad() && crate::autograd::is_grad_enabled() {
        return Err(Error::autograd(
            "assign",
            "in-place write to a tensor that requires grad; wrap it in no_grad() or detach() first",
        ));
    }
    if !dst.layout().is_non_overlapping() {
        return Err(Error::value(
            "assign",
            format!(
                "cannot write into a view whose elements share memory (shape {:?}, strides {:?}, e.g. a broadcast); write into a copy instead",
                dst.shape(),
                dst.strides()
            ),
        ));
    }
    let src = cast_nograd(src, dst.dtype())?;
    let ls = src.layout().broadcast_to(dst.shape()).map_err(|_| {
        Error::shape(
            "assign",
            format!(
                "cannot assign a value of shape {:?} to a view of shape {:?}",
                src.shape(),
                dst.shape()
            ),
        )
    })?;
    if dst.numel() == 0 {
        return Ok(());
    }
    // Copy through a contiguous temporary when the source shares storage (overlap safety).
    let src = if src.shares_storage(dst) {
        contiguous_nograd(&src.with_layout(ls.clone())?)?
    } else {
        src.with_layout(ls)?
    };
    with_dtype!(dst.dtype(), T => {
        let plan = Plan::new(dst.shape(), [src.strides(), dst.strides()]);
        let [ss, sd] = plan.inner_strides();
        let (sp, dp) = (SendPtr(src.data_ptr::<T>()), SendPtr(dst.data_ptr::<T>()));
        // SAFETY: both layouts were checked against their storages, and the plan hands each
        // task its own offsets and run length within dst's index space; dst's elements have
        // distinct addresses (checked above), so tasks write disjoint elements, and src does
        // not alias dst (copied above when it shared the storage).
        plan.run([0, 0], GRAIN, |o, n| unsafe {
            let s = sp.get().offset(o[0]);
            let d = dp.get().offset(o[1]);
            for i in 0..n as isize {
                *d.offset(i * sd) = *s.offset(i * ss);
            }
        });
    });
    dst.bump_version();
    Ok(())
}

/// A fresh contiguous copy that owns its memory (not recorded: the result is a new leaf).
pub fn copy_owned(x: &Tensor) -> Result<Tensor> {
    copy_as(x, x.dtype())
}

/// A fresh contiguous copy, recorded on the tape as an identity.
pub fn clone(x: &Tensor) -> Result<Tensor> {
    let out = copy_as(x, x.dtype())?;
    Ok(finish(out, Op::Copy, &[x], vec![]))
}
