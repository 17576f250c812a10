//! Fused optimizer step over a list of parameters (in place), with gradient clipping.

use crate::autograd::NoGradGuard;
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::kernels::optim::{update, Rule, Step};
use crate::tensor::Tensor;
use crate::with_float;

/// How gradients are clipped before the update (Keras' clipnorm / clipvalue / global_clipnorm).
#[derive(Clone, Copy, Debug, Default)]
pub struct Clip {
    pub norm: Option<f64>,
    pub value: Option<f64>,
    pub global_norm: Option<f64>,
}

/// The per-step settings shared by every variable of one optimizer step.
#[derive(Clone, Copy, Debug)]
pub struct StepConfig {
    pub lr: f64,
    pub weight_decay: f64,
    /// 1-based iteration count.
    pub t: u64,
    pub clip: Clip,
}

/// Sum of squares of a tensor's elements, in f64.
fn sum_squares(g: &Tensor) -> Result<f64> {
    let _ng = NoGradGuard::new();
    let s = super::sum(&super::mul(g, g)?, None, false)?;
    s.item_f64()
}

/// Applies one step of `rule` to every parameter. `slots[i]` holds `rule.slots()` tensors shaped
/// like `params[i]`. Parameters and slots are updated in place; gradients are only read.
pub fn optimizer_step(
    rule: Rule,
    cfg: StepConfig,
    params: &[Tensor],
    grads: &[Tensor],
    slots: &[Vec<Tensor>],
) -> Result<()> {
    let StepConfig {
        lr,
        weight_decay,
        t,
        clip,
    } = cfg;
    let op = "optimizer";
    if params.len() != grads.len() || params.len() != slots.len() {
        return Err(Error::value(
            op,
            format!(
                "got {} variables, {} gradients and {} slot lists",
                params.len(),
                grads.len(),
                slots.len()
            ),
        ));
    }
    if !lr.is_finite() || !weight_decay.is_finite() {
        return Err(Error::value(
            op,
            format!("learning_rate and weight_decay must be finite, got {lr} and {weight_decay}"),
        ));
    }
    for (i, ((p, g), s)) in params.iter().zip(grads).zip(slots).enumerate() {
        if !p.dtype().is_float() || !p.is_contiguous() {
            return Err(Error::dtype(
                op,
                format!(
                    "variable {i} must be a contiguous float tensor, got {} (contiguous: {})",
                    p.dtype(),
                    p.is_contiguous()
                ),
            ));
        }
        if g.shape() != p.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "gradient {i} has shape {:?} but its variable has shape {:?}",
                    g.shape(),
                    p.shape()
                ),
            ));
        }
        if s.len() != rule.slots() {
            return Err(Error::value(
                op,
                format!(
                    "variable {i} has {} slots, the rule needs {}",
                    s.len(),
                    rule.slots()
                ),
            ));
        }
        for st in s {
            if st.shape() != p.shape()
                || st.dtype() != p.dtype()
                || !st.is_contiguous()
                || st.shares_storage(p)
            {
                return Err(Error::value(op, format!("slot of variable {i} must be a separate contiguous {} tensor of shape {:?}", p.dtype(), p.shape())));
            }
        }
    }
    let global = match clip.global_norm {
        Some(c) => {
            let mut total = 0.0;
            for g in grads {
                total += sum_squares(g)?;
            }
            let n = total.sqrt();
            if n > c {
                c / n
            } else {
                1.0
            }
        }
        None => 1.0,
    };
    // Contiguous gradients in the parameter dtype.
    let grads: Vec<Tensor> = grads
        .iter()
        .zip(params)
        .map(|(g, p)| super::contiguous_nograd(&super::cast_nograd(g, p.dtype())?))
        .collect::<Result<_>>()?;
    let mut steps = Vec::with_capacity(params.len());
    for g in &grads {
        let mut scale = global;
        if let Some(c) = clip.norm {
            let n = sum_squares(g)?.sqrt();
            if n > c {
                scale *= c / n;
            }
        }
        steps.push(Step {
            lr,
            weight_decay,
            t,
            scale,
            clipvalue: clip.value.unwrap_or(f64::INFINITY),
        });
    }
    // Tasks: fixed chunks of every parameter, run across the pool (elementwise: any split gives
    // the same result).
    const CHUNK: usize = 1 << 15;
    let mut tasks: Vec<(usize, usize, usize)> = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let n = p.numel();
        let mut s = 0;
        while s < n {
            tasks.push((i, s, (s + CHUNK).min(n)));
            s += CHUNK;
        }
    }
    let total: usize = params.iter().map(|p| p.numel()).sum();
    with_float!(params.first().map(|p| p.dtype()).unwrap_or(crate::dtype::DType::F32), T => {
        struct Ptrs<T> { w: SendPtr<T>, g: SendPtr<T>, s: [SendPtr<T>; 3] }
        let mut ptrs: Vec<Ptrs<T>> = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            if p.dtype() != params[0].dtype() {
                return Err(Error::dtype(op, "all variables of one optimizer step must share a dtype"));
            }
            let sl = |k: usize| SendPtr(slots[i].get(k).map(|t| t.data_ptr::<T>()).unwrap_or(std::ptr::null_mut()));
            ptrs.push(Ptrs { w: SendPtr(p.data_ptr::<T>()), g: SendPtr(grads[i].data_ptr::<T>()), s: [sl(0), sl(1), sl(2)] });
        }
        let run = |&(i, s, e): &(usize, usize, usize)| {
            let pp = &ptrs[i];
            let len = e - s;
            // SAFETY: validated above: distinct contiguous buffers of the parameter's length;
            // tasks cover disjoint ranges. Unused slots are zero-length.
            unsafe {
                let sl = |k: usize| -> &mut [T] {
                    if pp.s[k].get().is_null() { &mut [] } else { std::slice::from_raw_parts_mut(pp.s[k].get().add(s), len) }
                };
                update(
                    rule,
                    steps[i],
                    std::slice::from_raw_parts_mut(pp.w.get().add(s), len),
                    std::slice::from_raw_parts(pp.g.get().add(s), len),
                    sl(0),
                    sl(1),
                    sl(2),
                );
            }
        };
        if crate::threading::should_parallelize(total, crate::threading::GRAIN) && tasks.len() > 1 {
            crate::threading::for_each_task(tasks.len(), |i| run(&tasks[i]));
        } else {
            tasks.iter().for_each(run);
        }
    }, _ => unreachable!());
    Ok(())
}
