//! Fused optimizer updates: one pass over each parameter updates it and its slots in place.
//!
//! Math (Keras 3 formulas; `g` is the gradient after clipping, `lr` the learning rate, `t` the
//! 1-based step). Decoupled weight decay first: `w -= lr * wd * w`.
//! - SGD: `v = mu v - lr g; w += v` (Nesterov: `w += mu v - lr g`); without momentum `w -= lr g`.
//! - Adam: `m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;`
//!   `a = lr sqrt(1-b2^t) / (1-b1^t); w -= a m / (sqrt(v) + eps)` (AMSGrad: `vhat = max(vhat, v)`
//!   in place of `v`). AdamW is Adam with weight decay.
//! - RMSprop: `v = rho v + (1-rho) g^2`; centered: `mg = rho mg + (1-rho) g`, `d = v - mg^2 + eps`,
//!   else `d = v + eps`; `inc = lr g / sqrt(d)`; momentum: `s = mu s + inc; w -= s`, else `w -= inc`.
//! - Adagrad: `a += g^2; w -= lr g / sqrt(a + eps)` (the accumulator starts at Keras'
//!   `initial_accumulator_value`, set by the caller).
//! - Adadelta: `ag = rho ag + (1-rho) g^2; d = -sqrt(ad + eps) g / sqrt(ag + eps);`
//!   `ad = rho ad + (1-rho) d^2; w += lr d`.
//! - Adamax: `m += (g - m)(1-b1); u = max(b2 u, |g|); w -= lr m / ((1-b1^t)(u + eps))`.
//! - Nadam: `m += (g - m)(1-b1); v += (g^2 - v)(1-b2); mhat = cm m + cg g` (the two
//!   momentum-schedule coefficients come from the caller, which keeps Keras' running product);
//!   `w -= lr mhat / (sqrt(v / (1-b2^t)) + eps)`.
//! - Lion: `w -= lr sign(b1 m + (1-b1) g); m = b2 m + (1-b2) g`.
//! - Ftrl (`p` the learning-rate power, <= 0): `n' = n + g^2;`
//!   `z += g + 2 l2s w - (n'^-p - n^-p) / lr * w;` `w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 l2)`
//!   with `l2 = l2_strength + beta / (2 lr)`; `n' -> n` (the accumulator starts at Keras'
//!   `initial_accumulator_value`, set by the caller).
//!
//! - Lamb (two passes; the caller runs the second, which needs per-variable norms): first
//!   `m += (g - m)(1-b1); v += (g^2 - v)(1-b2)` (after the decay of `w`), then with
//!   `r = (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)` and the trust ratio
//!   `q = |w| / |r|` (1 when either norm is 0): `w -= lr q r` ([`lamb_direction`]).
//!
//! Gradient clipping is folded in: `g = clamp(scale * g, -clipvalue, clipvalue)` where `scale`
//! comes from clipnorm / global_clipnorm (computed by the caller).
//! Layout: contiguous slices of equal length. Aliasing: the parameter and slot buffers are distinct
//! and written in place; the gradient is read only. Elementwise, so thread counts do not change
//! results; one fused pass reads g and writes w + slots once instead of ~8 separate ops.

use super::math::Real;
use crate::simd_fn;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    Sgd {
        momentum: f64,
        nesterov: bool,
    },
    Adam {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
        amsgrad: bool,
    },
    RmsProp {
        rho: f64,
        momentum: f64,
        epsilon: f64,
        centered: bool,
    },
    Adagrad {
        epsilon: f64,
    },
    Adadelta {
        rho: f64,
        epsilon: f64,
    },
    Adamax {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
    },
    Nadam {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
        /// Coefficient of the momentum in the Nesterov estimate (`u_{t+1} / (1 - prod u_..t+1)`).
        m_coef: f64,
        /// Coefficient of the gradient (`(1 - u_t) / (1 - prod u_..t)`).
        g_coef: f64,
    },
    Lion {
        beta_1: f64,
        beta_2: f64,
    },
    Ftrl {
        lr_power: f64,
        l1: f64,
        l2: f64,
        l2_shrinkage: f64,
        beta: f64,
    },
    /// The moment pass of Lamb (see the module docs; the trust-ratio step follows it).
    Lamb {
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
    },
}

impl Rule {
    /// Number of slot tensors (same shape as the parameter) the rule keeps.
    pub fn slots(&self) -> usize {
        match self {
            Rule::Sgd { momentum, .. } => usize::from(*momentum != 0.0),
            Rule::Adam { amsgrad, .. } => 2 + usize::from(*amsgrad),
            Rule::RmsProp {
                momentum, centered, ..
            } => 1 + usize::from(*momentum != 0.0) + usize::from(*centered),
            Rule::Adagrad { .. } | Rule::Lion { .. } => 1,
            Rule::Adadelta { .. }
            | Rule::Adamax { .. }
            | Rule::Nadam { .. }
            | Rule::Ftrl { .. }
            | Rule::Lamb { .. } => 2,
        }
    }
}

/// Per-step scalars.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub lr: f64,
    pub weight_decay: f64,
    /// 1-based iteration count (Adam's bias correction).
    pub t: u64,
    /// Multiplies the gradient (clipnorm / global_clipnorm); 1 for none.
    pub scale: f64,
    /// Clips the scaled gradient to [-clipvalue, clipvalue]; infinity for none.
    pub clipvalue: f64,
}

/// Updates `w` and its `slots` from `g` (all contiguous, equal length).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // w, g and every slot share the index
fn update_impl<T: Real>(
    rule: Rule,
    s: Step,
    w: &mut [T],
    g: &[T],
    s0: &mut [T],
    s1: &mut [T],
    s2: &mut [T],
) {
    let n = w.len();
    let c = T::c;
    let (lr, scale, cv) = (c(s.lr), c(s.scale), c(s.clipvalue));
    let decay = c(1.0 - s.lr * s.weight_decay);
    let use_decay = s.weight_decay != 0.0;
    let clip = |x: T| -> T {
        let y = x * scale;
        if y > cv {
            cv
        } else if y < -cv {
            -cv
        } else {
            y
        }
    };
    match rule {
        Rule::Sgd { momentum, nesterov } => {
            let mu = c(momentum);
            if momentum == 0.0 {
                for i in 0..n {
                    let wi = if use_decay { w[i] * decay } else { w[i] };
                    w[i] = wi - lr * clip(g[i]);
                }
            } else {
                for i in 0..n {
                    let gi = clip(g[i]);
                    let wi = if use_decay { w[i] * decay } else { w[i] };
                    let v = mu * s0[i] - lr * gi;
                    s0[i] = v;
                    w[i] = if nesterov {
                        wi + mu * v - lr * gi
                    } else {
                        wi + v
                    };
                }
            }
        }
        Rule::Adam {
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        } => {
            let t = s.t as f64;
            let alpha = c(s.lr * (1.0 - beta_2.powf(t)).sqrt() / (1.0 - beta_1.powf(t)));
            let (b1, b2, eps) = (c(beta_1), c(beta_2), c(epsilon));
            let (ob1, ob2) = (c(1.0 - beta_1), c(1.0 - beta_2));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let m = b1 * s0[i] + ob1 * gi;
                let v = b2 * s1[i] + ob2 * gi * gi;
                s0[i] = m;
                s1[i] = v;
                let vv = if amsgrad {
                    let h = if v > s2[i] { v } else { s2[i] };
                    s2[i] = h;
                    h
                } else {
                    v
                };
                w[i] = wi - alpha * m / (vv.sqrt() + eps);
            }
        }
        Rule::RmsProp {
            rho,
            momentum,
            epsilon,
            centered,
        } => {
            let (r, or, eps, mu) = (c(rho), c(1.0 - rho), c(epsilon), c(momentum));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let v = r * s0[i] + or * gi * gi;
                s0[i] = v;
                let d = if centered {
                    // slot order: velocity, [momentum], [average gradient]
                    let k = if momentum != 0.0 {
                        &mut s2[i]
                    } else {
                        &mut s1[i]
                    };
                    let mg = r * *k + or * gi;
                    *k = mg;
                    v - mg * mg + eps
                } else {
                    v + eps
                };
                let inc = lr * gi / d.sqrt();
                w[i] = if momentum != 0.0 {
                    let m = mu * s1[i] + inc;
                    s1[i] = m;
                    wi - m
                } else {
                    wi - inc
                };
            }
        }
        Rule::Adagrad { epsilon } => {
            let eps = c(epsilon);
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let a = s0[i] + gi * gi;
                s0[i] = a;
                w[i] = wi - lr * gi / (a + eps).sqrt();
            }
        }
        Rule::Adadelta { rho, epsilon } => {
            let (r, or, eps) = (c(rho), c(1.0 - rho), c(epsilon));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let ag = r * s0[i] + or * gi * gi;
                s0[i] = ag;
                let d = -((s1[i] + eps).sqrt() * gi) / (ag + eps).sqrt();
                s1[i] = r * s1[i] + or * d * d;
                w[i] = wi + lr * d;
            }
        }
        Rule::Adamax {
            beta_1,
            beta_2,
            epsilon,
        } => {
            let (ob1, b2, eps) = (c(1.0 - beta_1), c(beta_2), c(epsilon));
            let bias = c(1.0 - beta_1.powf(s.t as f64));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let m = s0[i] + (gi - s0[i]) * ob1;
                s0[i] = m;
                let a = gi.abs();
                let bu = b2 * s1[i];
                let u = if bu > a { bu } else { a };
                s1[i] = u;
                w[i] = wi - lr * m / (bias * (u + eps));
            }
        }
        Rule::Nadam {
            beta_1,
            beta_2,
            epsilon,
            m_coef,
            g_coef,
        } => {
            let (ob1, ob2, eps) = (c(1.0 - beta_1), c(1.0 - beta_2), c(epsilon));
            let (cm, cg) = (c(m_coef), c(g_coef));
            let vbias = c(1.0 - beta_2.powf(s.t as f64));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let m = s0[i] + (gi - s0[i]) * ob1;
                let v = s1[i] + (gi * gi - s1[i]) * ob2;
                s0[i] = m;
                s1[i] = v;
                let mhat = cm * m + cg * gi;
                w[i] = wi - mhat * lr / ((v / vbias).sqrt() + eps);
            }
        }
        Rule::Ftrl {
            lr_power,
            l1,
            l2,
            l2_shrinkage,
            beta,
        } => {
            let np = c(-lr_power);
            let (l1, two_l2) = (c(l1), c(2.0 * (l2 + beta / (2.0 * s.lr))));
            let two_l2s = c(2.0 * l2_shrinkage);
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let n_old = s0[i];
                let n_new = n_old + gi * gi;
                let (pn, po) = (n_new.powf(np), n_old.powf(np));
                let z = s1[i] + (gi + two_l2s * wi) - (pn - po) / lr * wi;
                s1[i] = z;
                let zc = if z < -l1 {
                    -l1
                } else if z > l1 {
                    l1
                } else {
                    z
                };
                w[i] = (zc - z) / (pn / lr + two_l2);
                s0[i] = n_new;
            }
        }
        Rule::Lamb { beta_1, beta_2, .. } => {
            let (ob1, ob2) = (c(1.0 - beta_1), c(1.0 - beta_2));
            for i in 0..n {
                let gi = clip(g[i]);
                if use_decay {
                    w[i] = w[i] * decay;
                }
                s0[i] = s0[i] + (gi - s0[i]) * ob1;
                s1[i] = s1[i] + (gi * gi - s1[i]) * ob2;
            }
        }
        Rule::Lion { beta_1, beta_2 } => {
            let (b1, ob1, b2, ob2) = (c(beta_1), c(1.0 - beta_1), c(beta_2), c(1.0 - beta_2));
            let (zero, one) = (c(0.0), c(1.0));
            for i in 0..n {
                let gi = clip(g[i]);
                let wi = if use_decay { w[i] * decay } else { w[i] };
                let u = s0[i] * b1 + gi * ob1;
                let sign = if u > zero {
                    one
                } else if u < zero {
                    -one
                } else {
                    zero
                };
                w[i] = wi - lr * sign;
                s0[i] = s0[i] * b2 + gi * ob2;
            }
        }
    }
}

simd_fn!(
    /// One fused update on the best ISA (see the module docs).
    pub fn update<T: Real>(rule: Rule, s: Step, w: &mut [T], g: &[T], s0: &mut [T], s1: &mut [T], s2: &mut [T]) => update_impl, avx512
);

/// Lamb's update direction at one element: `(m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)`.
#[inline(always)]
pub fn lamb_direction<T: Real>(m: T, v: T, b1_bias: T, b2_bias: T, eps: T) -> T {
    (m / b1_bias) / ((v / b2_bias).sqrt() + eps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr() {
        // With bias correction the first Adam step is lr * g / (|g| + eps') ~ lr * sign(g).
        let mut w = vec![1.0f64, -1.0];
        let g = vec![0.5f64, -2.0];
        let (mut m, mut v, mut z) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
        let rule = Rule::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        };
        let s = Step {
            lr: 0.01,
            weight_decay: 0.0,
            t: 1,
            scale: 1.0,
            clipvalue: f64::INFINITY,
        };
        update(rule, s, &mut w, &g, &mut m, &mut v, &mut z);
        assert!(
            (w[0] - 0.99).abs() < 1e-6 && (w[1] + 0.99).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn sgd_momentum_and_clipping() {
        let mut w = vec![0.0f32; 3];
        let g = vec![10.0f32, -0.5, 0.2];
        let mut v = vec![0.0f32; 3];
        let rule = Rule::Sgd {
            momentum: 0.9,
            nesterov: false,
        };
        let s = Step {
            lr: 0.1,
            weight_decay: 0.0,
            t: 1,
            scale: 1.0,
            clipvalue: 1.0,
        };
        update(rule, s, &mut w, &g, &mut v, &mut [], &mut []);
        for (a, b) in w.iter().zip([-0.1f32, 0.05, -0.02]) {
            assert!((a - b).abs() < 1e-7, "{w:?}");
        }
        assert_eq!(v, w);
    }

    #[test]
    fn ftrl_l1_zeroes_small_linear_terms() {
        // one step from w = 0, n = 0.1: z = g, w = (clip(z, -l1, l1) - z) / (sqrt(n') / lr)
        let mut w = vec![0.0f64; 2];
        let g = vec![0.05f64, 2.0];
        let (mut n, mut z) = (vec![0.1f64; 2], vec![0.0f64; 2]);
        let rule = Rule::Ftrl {
            lr_power: -0.5,
            l1: 0.1,
            l2: 0.0,
            l2_shrinkage: 0.0,
            beta: 0.0,
        };
        let s = Step {
            lr: 0.5,
            weight_decay: 0.0,
            t: 1,
            scale: 1.0,
            clipvalue: f64::INFINITY,
        };
        update(rule, s, &mut w, &g, &mut n, &mut z, &mut []);
        assert_eq!(w[0], 0.0); // |z| <= l1: exactly zero (the sparsity FTRL is used for)
        let want = (0.1 - 2.0) / ((0.1f64 + 4.0).sqrt() / 0.5);
        assert!((w[1] - want).abs() < 1e-12, "{w:?}");
        assert_eq!(z, g);
        assert!((n[1] - 4.1).abs() < 1e-12);
    }
}
