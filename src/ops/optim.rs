//! Fused optimizer step over a list of parameters (in place), with gradient clipping.

use std::cell::RefCell;

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

/// The bytes a contiguous tensor covers.
fn byte_range(t: &Tensor) -> (usize, usize) {
    let s = t.data_byte_ptr() as usize;
    (s, s + t.numel() * t.dtype().size())
}

/// Byte ranges `[start, end)` of tensors, in call order and sorted.
type RangeCache = (Vec<(usize, usize)>, Vec<(usize, usize)>);

thread_local! {
    /// The byte ranges (call order, then sorted) of the last step on this thread whose written
    /// tensors were found disjoint. A training loop passes the same tensors every step, so the
    /// sort runs once and later steps only compare in place. Measured (200 variables of 10
    /// elements with two slots each, the worst case: per-tensor cost, no arithmetic): the sort
    /// and check 10 us, the in-place compare 2.9 us, against a 24 us step; for real variables
    /// (thousands of elements and up) the kernel dominates and the check is noise.
    static LAST_DISJOINT: RefCell<RangeCache> =
        const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The tensors a step writes, in call order: each variable, then its slots (empty ones skipped).
fn written<'a>(
    params: &'a [Tensor],
    slots: &'a [Vec<Tensor>],
) -> impl Iterator<Item = (usize, &'a Tensor)> {
    params
        .iter()
        .zip(slots)
        .enumerate()
        .flat_map(|(i, (p, s))| std::iter::once(p).chain(s).map(move |t| (i, t)))
        .filter(|(_, t)| t.numel() > 0)
}

/// Every tensor a step writes (variables and slots) must own its bytes: two tasks writing one
/// address would race, and a gradient read while its bytes are written would alias the kernel's
/// `&mut` slice. Calls `f` with the written byte ranges sorted (for the gradient look-ups), or
/// returns an error naming the variables that share memory. O(k log k) in the number of tensors
/// the first time a set of ranges is seen on a thread, O(k) without allocating after; nothing
/// per element.
fn with_disjoint_written<R>(
    params: &[Tensor],
    slots: &[Vec<Tensor>],
    f: impl FnOnce(&[(usize, usize)]) -> Result<R>,
) -> Result<R> {
    LAST_DISJOINT.with(|cache| {
        let mut cache = cache.borrow_mut();
        let (order, sorted) = &mut *cache;
        let mut n = 0usize;
        let same = written(params, slots).all(|(_, t)| {
            n += 1;
            order.get(n - 1) == Some(&byte_range(t))
        }) && n == order.len();
        if !same {
            order.clear();
            order.extend(written(params, slots).map(|(_, t)| byte_range(t)));
            sorted.clone_from(order);
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[1].0 < w[0].1) {
                order.clear(); // never reuse a failed set
                sorted.clear();
                // Error path: find which variables, by index.
                let mut owned: Vec<(usize, usize, usize)> = written(params, slots)
                    .map(|(i, t)| {
                        let (a, b) = byte_range(t);
                        (a, b, i)
                    })
                    .collect();
                owned.sort_unstable();
                let which = match owned.windows(2).find(|w| w[1].0 < w[0].1) {
                    Some(w) if w[0].2 == w[1].2 => {
                        format!("variable {} and one of its slots share memory", w[0].2)
                    }
                    Some(w) => format!(
                        "variables {} and {} (or their slots) share memory",
                        w[0].2.min(w[1].2),
                        w[0].2.max(w[1].2)
                    ),
                    None => "two variables or slots share memory".to_string(),
                };
                return Err(Error::value(
                    "optimizer",
                    format!("{which}; every variable and slot must own its buffer"),
                ));
            }
        }
        f(sorted)
    })
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
    // Contiguous gradients in the parameter dtype, copied when they overlap a written tensor.
    let grads: Vec<Tensor> = with_disjoint_written(params, slots, |written| {
        grads
            .iter()
            .zip(params)
            .map(|(g, p)| {
                let g = super::contiguous_nograd(&super::cast_nograd(g, p.dtype())?)?;
                let (a, b) = byte_range(&g);
                let k = written.partition_point(|w| w.0 < b);
                if g.numel() > 0 && k > 0 && written[k - 1].1 > a {
                    return super::copy_owned(&g);
                }
                Ok(g)
            })
            .collect::<Result<_>>()
    })?;
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
            // SAFETY: validated above: contiguous buffers of the parameter's length whose byte
            // ranges do not overlap (variables and slots), gradients copied where they overlapped
            // one; tasks cover disjoint ranges. Unused slots are zero-length.
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
        if let Rule::Lamb { beta_1, beta_2, epsilon } = rule {
            lamb_trust_step::<T>(&ptrs.iter().map(|p| (p.w, p.s[0], p.s[1])).collect::<Vec<_>>(), params, &tasks, lr, t, beta_1, beta_2, epsilon, total);
        }
    }, _ => unreachable!());
    // In-place writes: a tape node that still holds a parameter (a graph built before this
    // step and not yet backpropagated) fails at backward instead of using the new values. One
    // atomic add per tensor per step.
    for (p, s) in params.iter().zip(slots) {
        p.bump_version();
        s.iter().for_each(Tensor::bump_version);
    }
    Ok(())
}

/// Lamb's second pass: per variable, `|w|` and `|r|` summed over its chunks (each chunk a task,
/// the partial sums added in chunk order, so the ratio does not depend on the thread count), then
/// `w -= lr * q * r` with the trust ratio `q = |w| / |r|` (1 when either is 0).
#[allow(clippy::too_many_arguments)]
fn lamb_trust_step<T: crate::kernels::math::Real>(
    ptrs: &[(SendPtr<T>, SendPtr<T>, SendPtr<T>)],
    params: &[Tensor],
    tasks: &[(usize, usize, usize)],
    lr: f64,
    t: u64,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    total: usize,
) {
    use crate::kernels::optim::lamb_direction;
    let c = T::c;
    let tt = t as i32;
    let (b1b, b2b, eps) = (
        c(1.0 - beta_1.powi(tt)),
        c(1.0 - beta_2.powi(tt)),
        c(epsilon),
    );
    let par =
        crate::threading::should_parallelize(total, crate::threading::GRAIN) && tasks.len() > 1;
    // (sum w^2, sum r^2) per task.
    let mut partial = vec![(0.0f64, 0.0f64); tasks.len()];
    let part = SendPtr(partial.as_mut_ptr());
    let sums = |k: usize| {
        let (i, s, e) = tasks[k];
        let (w, m, v) = ptrs[i];
        let (mut sw, mut sr) = (0.0f64, 0.0f64);
        for j in s..e {
            // SAFETY: j < numel of variable i; w, m, v are its contiguous buffers (validated by
            // optimizer_step); this pass only reads them.
            let (wj, mj, vj) = unsafe { (*w.get().add(j), *m.get().add(j), *v.get().add(j)) };
            let r = lamb_direction(mj, vj, b1b, b2b, eps);
            sw += (wj * wj).to_f64();
            sr += (r * r).to_f64();
        }
        // SAFETY: one task writes its own entry.
        unsafe { *part.get().add(k) = (sw, sr) };
    };
    if par {
        crate::threading::for_each_task(tasks.len(), sums);
    } else {
        (0..tasks.len()).for_each(sums);
    }
    let mut ratio = vec![1.0f64; params.len()];
    let mut acc = vec![(0.0f64, 0.0f64); params.len()];
    for (k, &(i, _, _)) in tasks.iter().enumerate() {
        acc[i].0 += partial[k].0;
        acc[i].1 += partial[k].1;
    }
    for (i, &(sw, sr)) in acc.iter().enumerate() {
        let (nw, nr) = (sw.sqrt(), sr.sqrt());
        if nw > 0.0 && nr > 0.0 {
            ratio[i] = nw / nr;
        }
    }
    let apply = |k: usize| {
        let (i, s, e) = tasks[k];
        let (w, m, v) = ptrs[i];
        let step = c(lr * ratio[i]);
        for j in s..e {
            // SAFETY: as above; tasks cover disjoint ranges of w.
            unsafe {
                let r = lamb_direction(*m.get().add(j), *v.get().add(j), b1b, b2b, eps);
                *w.get().add(j) = *w.get().add(j) - step * r;
            }
        }
    };
    if par {
        crate::threading::for_each_task(tasks.len(), apply);
    } else {
        (0..tasks.len()).for_each(apply);
    }
}
