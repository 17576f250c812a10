//! Fused recurrences (Keras' SimpleRNN, LSTM and GRU cells) over a whole sequence: forward and
//! backpropagation through time, one call each.
//!
//! Math, for the step at time t with previous state `hp` (and cell state `cp`), input projection
//! `x = xw[:, t]` (the caller's `inputs @ kernel`, one GEMM over all steps), input bias `b`,
//! recurrent kernel `U = [U_0 | U_1 | ...]` (u x G*u, gate blocks in Keras' order) and recurrent
//! dropout multipliers `m_g` (1 without dropout), `R_g = (hp * m_g) @ U_g`:
//! - simple: `h = act(x + b + R)`.
//! - lstm (i, f, c, o): `i, f, o = ract(x_g + b_g + R_g)`, `g = act(x_c + b_c + R_c)`,
//!   `c = f * cp + i * g`, `h = o * act(c)`.
//! - gru (z, r, h), reset after (Keras 3 default): `z, r = ract(x_g + b_g + R_g + rb_g)`,
//!   `q = R_h + rb_h`, `hh = act(x_h + b_h + r * q)`, `h = z * hp + (1 - z) * hh`.
//! - gru, reset before: as above without `rb`, but `R_h = (r * hp * m_h) @ U_h`.
//!
//! A masked step (mask False at (batch row, t)) keeps `hp`/`cp`; its output is the previous step's
//! output (zeros before any valid step) or zeros with `zero_output`, as Keras' `rnn` loop.
//!
//! Backward, per step in reverse: the output gradient (plus, through masked steps, the carried
//! gradient of outputs that repeated this one) and the state gradient give the pre-activation
//! gradients `dxw[:, t]` by the cells' chain rules; `dhp = sum_g (dR_g @ U_g^T) * m_g` plus the
//! direct paths (GRU's `z * dh`, reset-before's `r * da`). After the sweep the weight gradients are
//! GEMMs over all steps at once: `dU_g = (HP * m_g)^T @ dR_g` over the (B*T) rows, `db` and `drb`
//! column sums.
//!
//! Layout: every per-step buffer is (B, T, ...) indexed by time, like `xw`, so the step at time t
//! reads rows with stride `T * width`. Saved for the backward: the activated gates (B, T, G*u),
//! the state before each step `hp` (B, T, u), LSTM's cell state after each step (B, T, u), and
//! GRU's `q` (reset after) or `a = r * hp * m_h` (reset before) (B, T, u).
//!
//! Threads and determinism: each step is split over chunks of hidden units whose boundaries
//! depend only on the shapes, never on the thread count; a chunk's task runs the recurrent GEMM
//! for its columns of every gate (from a copy of `U` packed once per call) and then the gate math
//! for its units, so one barrier per step (two for GRU reset-before, whose `r` feeds the h-gate
//! product). Every element is computed by one task in a fixed order: results are bit-identical
//! for any thread count.
//!
//! Performance: the per-step products are small (batch rows x u x G*u); packing `U` once per call
//! instead of once per step (a plain GEMM call re-packs its B operand: 1 MiB for LSTM(256) every
//! step) is what makes the step GEMM run near the micro-kernel's speed. The gate math runs as
//! short vectorised passes over each chunk's rows (activation functions branch-free, compiled for
//! AVX2 at run time), a few percent of a step.

use super::iter::SendPtr;
use super::math::Real;
use super::matmul::{gemm, GemmParams, GemmScalar, MatMut, MatRef, PackedB};
use crate::simd_fn;
use crate::threading::for_each_task;

/// Element types of the recurrence (f32, f64).
pub trait RnnScalar: GemmScalar + Real {}
impl RnnScalar for f32 {}
impl RnnScalar for f64 {}

/// The activations the fused kernel evaluates itself (Keras names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Tanh,
    Sigmoid,
    Relu,
    Linear,
    /// Keras 3: `relu6(x + 3) / 6`.
    HardSigmoid,
}

impl Act {
    /// The activation named `name` (Keras' spelling), if the kernel has it.
    pub fn parse(name: &str) -> Option<Act> {
        Some(match name {
            "tanh" => Act::Tanh,
            "sigmoid" => Act::Sigmoid,
            "relu" => Act::Relu,
            "linear" => Act::Linear,
            "hard_sigmoid" => Act::HardSigmoid,
            _ => return None,
        })
    }
}

/// The cell a recurrence runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Simple,
    Lstm,
    Gru { reset_after: bool },
}

impl Cell {
    /// Gate blocks in the kernels (G).
    pub fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
        }
    }

    /// States carried from step to step (h, and LSTM's c).
    pub fn states(self) -> usize {
        match self {
            Cell::Lstm => 2,
            _ => 1,
        }
    }

    /// Whether the backward keeps a second pre-activation gradient for the recurrent product
    /// (GRU reset-after: the h block of `dR` is `dxw_h * r`).
    fn split_rec_grad(self) -> bool {
        self == Cell::Gru { reset_after: true }
    }

    /// Whether the buffer `aux` (B, T, u) is saved.
    pub fn has_aux(self) -> bool {
        matches!(self, Cell::Gru { .. })
    }
}

/// What the recorded op needs besides its tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnSpec {
    pub cell: Cell,
    pub act: Act,
    pub rec_act: Act,
    pub go_backwards: bool,
    pub zero_output: bool,
    pub has_bias: bool,
    pub has_rec_bias: bool,
    pub has_mask: bool,
    pub has_rec_masks: bool,
}

/// The inputs of one recurrence. Every pointer addresses a contiguous buffer of the stated shape.
pub struct Problem<T> {
    pub spec: RnnSpec,
    pub b: usize,
    pub t: usize,
    pub u: usize,
    /// (B, T, G*u)
    pub xw: SendPtr<T>,
    /// (u, G*u)
    pub rk: SendPtr<T>,
    /// (B, u)
    pub h0: SendPtr<T>,
    /// (B, u), LSTM only (else null)
    pub c0: SendPtr<T>,
    /// (G*u) when `spec.has_bias`
    pub bias: SendPtr<T>,
    /// (G*u) when `spec.has_rec_bias`
    pub rec_bias: SendPtr<T>,
    /// (B, T) bytes 0/1 when `spec.has_mask`
    pub mask: SendPtr<u8>,
    /// (G, B, u) when `spec.has_rec_masks`
    pub rec_masks: SendPtr<T>,
}

/// Buffers the forward fills for the backward (shapes in the module header).
#[derive(Clone, Copy)]
pub struct Saved<T> {
    pub gates: SendPtr<T>,
    pub hp: SendPtr<T>,
    /// LSTM only (else null)
    pub cs: SendPtr<T>,
    /// GRU only (else null)
    pub aux: SendPtr<T>,
}

/// The gradients the backward writes (each a fresh buffer; null when not wanted, except `dxw`).
#[derive(Clone, Copy)]
pub struct Grads<T> {
    /// (B, T, G*u): also the pre-activation gradients the weight GEMMs read.
    pub dxw: SendPtr<T>,
    /// (u, G*u)
    pub drk: SendPtr<T>,
    /// (B, u)
    pub dh0: SendPtr<T>,
    /// (B, u)
    pub dc0: SendPtr<T>,
    /// (G*u)
    pub dbias: SendPtr<T>,
    /// (G*u)
    pub drec_bias: SendPtr<T>,
}

/// Hidden-unit chunks (start, width) of a step: one chunk when the step is small, else chunks of
/// at least 32 units (a multiple of 16 wide where possible), at most 8. Shapes only.
fn chunks(b: usize, u: usize, g: usize) -> Vec<(usize, usize)> {
    // Below ~2^18 multiply-adds a step's GEMM takes a few microseconds: waking a helper per step
    // costs more than it saves.
    let n = if b * u * u * g < (1 << 18) {
        1
    } else {
        (u / 32).clamp(1, 8)
    };
    let w = u.div_ceil(n).div_ceil(16) * 16;
    let mut out = Vec::new();
    let mut j0 = 0;
    while j0 < u {
        let wc = w.min(u - j0);
        out.push((j0, wc));
        j0 += wc;
    }
    out
}

// ---- element-wise passes (compiled for AVX2 at run time through `simd_fn!`) --------------------

#[inline(always)]
fn act_of<T: Real>(a: Act, x: T) -> T {
    match a {
        Act::Tanh => x.tanh(),
        Act::Sigmoid => x.sigmoid(),
        Act::Relu => x.max_(T::c(0.0)),
        Act::Linear => x,
        Act::HardSigmoid => (x * T::c(1.0 / 6.0) + T::c(0.5)).max_(T::c(0.0)).min_(T::c(1.0)),
    }
}

/// The derivative of `a` at the point where it output `y`.
#[inline(always)]
fn dact_of<T: Real>(a: Act, y: T) -> T {
    let one = T::c(1.0);
    let zero = T::c(0.0);
    match a {
        Act::Tanh => one - y * y,
        Act::Sigmoid => y * (one - y),
        Act::Relu => {
            if y > zero {
                one
            } else {
                zero
            }
        }
        Act::Linear => one,
        Act::HardSigmoid => {
            if y > zero && y < one {
                T::c(1.0 / 6.0)
            } else {
                zero
            }
        }
    }
}

/// `v[j] = a(v[j])`, one clean loop per activation.
#[inline(always)]
fn apply_impl<T: Real>(a: Act, v: &mut [T]) {
    match a {
        Act::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
        Act::Sigmoid => v.iter_mut().for_each(|x| *x = x.sigmoid()),
        Act::Relu => v.iter_mut().for_each(|x| *x = act_of(Act::Relu, *x)),
        Act::Linear => {}
        Act::HardSigmoid => v.iter_mut().for_each(|x| *x = act_of(Act::HardSigmoid, *x)),
    }
}

/// `g[j] *= a'(at y[j])`.
#[inline(always)]
fn scale_dact_impl<T: Real>(a: Act, y: &[T], g: &mut [T]) {
    match a {
        Act::Tanh => g
            .iter_mut()
            .zip(y)
            .for_each(|(g, &y)| *g = *g * dact_of(Act::Tanh, y)),
        Act::Sigmoid => g
            .iter_mut()
            .zip(y)
            .for_each(|(g, &y)| *g = *g * dact_of(Act::Sigmoid, y)),
        Act::Relu => g
            .iter_mut()
            .zip(y)
            .for_each(|(g, &y)| *g = *g * dact_of(Act::Relu, y)),
        Act::Linear => {}
        Act::HardSigmoid => g
            .iter_mut()
            .zip(y)
            .for_each(|(g, &y)| *g = *g * dact_of(Act::HardSigmoid, y)),
    }
}

/// `out[j] = x[j] + b[j] + r[j]`.
#[inline(always)]
fn add3_impl<T: Real>(x: &[T], b: &[T], r: &[T], out: &mut [T]) {
    for (((o, &x), &b), &r) in out.iter_mut().zip(x).zip(b).zip(r) {
        *o = x + b + r;
    }
}

simd_fn!(fn apply<T: Real>(a: Act, v: &mut [T]) => apply_impl);
simd_fn!(fn scale_dact<T: Real>(a: Act, y: &[T], g: &mut [T]) => scale_dact_impl);
simd_fn!(fn add3<T: Real>(x: &[T], b: &[T], r: &[T], out: &mut [T]) => add3_impl);

/// LSTM: `c = f * cp + i * g` into `c`, then `h = o * act(c)` into `h`.
#[inline(always)]
fn lstm_state_impl<T: Real>(a: Act, i: &[T], f: &[T], g: &[T], o: &[T], cp: &[T], c: &mut [T], h: &mut [T]) {
    for j in 0..c.len() {
        c[j] = f[j] * cp[j] + i[j] * g[j];
    }
    h.copy_from_slice(c);
    apply_impl(a, h);
    for j in 0..h.len() {
        h[j] = o[j] * h[j];
    }
}
simd_fn!(fn lstm_state<T: Real>(a: Act, i: &[T], f: &[T], g: &[T], o: &[T], cp: &[T], c: &mut [T], h: &mut [T]) => lstm_state_impl);

/// LSTM backward for one row: from `dh` and the carried `dc` (updated to the previous step's),
/// the pre-activation gradients `d[0..4]` (i, f, c, o).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_back_impl<T: Real>(
    a: Act,
    ra: Act,
    gi: &[T],
    gf: &[T],
    gg: &[T],
    go: &[T],
    c: &[T],
    cp: &[T],
    dh: &[T],
    dc: &mut [T],
    di: &mut [T],
    df: &mut [T],
    dg: &mut [T],
    dout: &mut [T],
) {
    // tc = act(c) in `dout`; di = dh * o * act'(c), the state's share of dc.
    dout.copy_from_slice(c);
    apply_impl(a, dout);
    for j in 0..dc.len() {
        di[j] = dh[j] * go[j];
    }
    scale_dact_impl(a, dout, di);
    for j in 0..dc.len() {
        let dct = dc[j] + di[j];
        dout[j] = dh[j] * dout[j];
        di[j] = dct * gg[j];
        df[j] = dct * cp[j];
        dg[j] = dct * gi[j];
        dc[j] = dct * gf[j];
    }
    scale_dact_impl(ra, gi, di);
    scale_dact_impl(ra, gf, df);
    scale_dact_impl(a, gg, dg);
    scale_dact_impl(ra, go, dout);
}

simd_fn!(fn lstm_back<T: Real>(a: Act, ra: Act, gi: &[T], gf: &[T], gg: &[T], go: &[T], c: &[T], cp: &[T], dh: &[T], dc: &mut [T], di: &mut [T], df: &mut [T], dg: &mut [T], dout: &mut [T]) => lstm_back_impl);

// ---- the forward -------------------------------------------------------------------------------

/// The processing step's time index.
#[inline(always)]
fn time_of(s: usize, t: usize, back: bool) -> usize {
    if back {
        t - 1 - s
    } else {
        s
    }
}

/// Gate groups that share the A operand of the recurrent product: `[lo, hi)` gate ranges.
/// Phase 0 runs before the gate math, phase 1 (GRU reset-before's h gate) after r is known.
fn groups(cell: Cell, rec_masks: bool) -> [Vec<(usize, usize)>; 2] {
    let g = cell.gates();
    let split = |lo: usize, hi: usize| -> Vec<(usize, usize)> {
        if rec_masks {
            (lo..hi).map(|k| (k, k + 1)).collect()
        } else {
            vec![(lo, hi)]
        }
    };
    match cell {
        Cell::Gru { reset_after: false } => [split(0, 2), split(2, 3)],
        _ => [split(0, g), vec![]],
    }
}

/// Slices of a raw buffer (the caller guarantees the range is valid and not aliased mutably
/// elsewhere for the slice's lifetime).
#[inline(always)]
unsafe fn sl<'a, T>(p: *const T, off: usize, n: usize) -> &'a [T] {
    std::slice::from_raw_parts(p.add(off), n)
}
#[inline(always)]
unsafe fn sl_mut<'a, T>(p: *mut T, off: usize, n: usize) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(p.add(off), n)
}

/// Runs the recurrence: writes `y` (B, T + S, u) and the saved buffers.
///
/// # Safety
/// Every pointer of `p`, `sv` and `y` addresses a buffer of the shape stated for it (module header
/// and [`Problem`]); the output and saved buffers do not overlap each other or the inputs.
pub unsafe fn forward<T: RnnScalar>(p: &Problem<T>, sv: &Saved<T>, y: SendPtr<T>) {
    let (b, t, u) = (p.b, p.t, p.u);
    let spec = p.spec;
    let cell = spec.cell;
    let g = cell.gates();
    let gu = g * u;
    let ys = t + cell.states();
    if b == 0 || t == 0 || u == 0 {
        return;
    }
    let ch = chunks(b, u, g);
    let grp = groups(cell, spec.has_rec_masks);
    // U with the columns of each chunk's gates side by side: chunk (j0, w) owns columns
    // [g*j0, g*(j0+w)), gate k at g*j0 + k*w. A gate group of a chunk is one column range.
    let up: Vec<T> = {
        let mut v = vec![T::ZERO; u * gu];
        for r in 0..u {
            for &(j0, w) in &ch {
                for k in 0..g {
                    let src = sl(p.rk.get(), r * gu + k * u + j0, w);
                    v[r * gu + g * j0 + k * w..r * gu + g * j0 + (k + 1) * w].copy_from_slice(src);
                }
            }
        }
        v
    };
    // packs[c][phase][i]: chunk c's columns of gate group grp[phase][i].
    let packs: Vec<[Vec<PackedB<T>>; 2]> = ch
        .iter()
        .map(|&(j0, w)| {
            let pk = |&(lo, hi): &(usize, usize)| {
                PackedB::new(
                    MatRef {
                        ptr: up.as_ptr().add(g * j0 + lo * w),
                        rs: gu as isize,
                        cs: 1,
                    },
                    u,
                    (hi - lo) * w,
                )
            };
            [grp[0].iter().map(pk).collect(), grp[1].iter().map(pk).collect()]
        })
        .collect();
    let zeros = vec![T::ZERO; gu];
    let bias: &[T] = if spec.has_bias {
        sl(p.bias.get(), 0, gu)
    } else {
        &zeros
    };
    let rbias: &[T] = if spec.has_rec_bias {
        sl(p.rec_bias.get(), 0, gu)
    } else {
        &zeros
    };
    // Recurrent products of the step, in `up`'s column order.
    let mut zr = vec![T::ZERO; b * gu];
    // The A operands `hp * m_k` per gate, double-buffered by step parity (2, G, B, u).
    let mut hpm = vec![T::ZERO; if spec.has_rec_masks { 2 * g * b * u } else { 0 }];
    let zr_p = SendPtr(zr.as_mut_ptr());
    let hpm_p = SendPtr(hpm.as_mut_ptr());
    let tt0 = time_of(0, t, spec.go_backwards);
    // HP at the first step is h0.
    for r in 0..b {
        sl_mut(sv.hp.get(), (r * t + tt0) * u, u).copy_from_slice(sl(p.h0.get(), r * u, u));
        if spec.has_rec_masks {
            for k in 0..g {
                let m = sl(p.rec_masks.get(), (k * b + r) * u, u);
                let h = sl(p.h0.get(), r * u, u);
                let dst = sl_mut(hpm_p.get(), (k * b + r) * u, u);
                for j in 0..u {
                    dst[j] = h[j] * m[j];
                }
            }
        }
    }
    for s in 0..t {
        let tt = time_of(s, t, spec.go_backwards);
        let par = s & 1;
        // The A operand of group (lo, hi) at this step.
        let a_of = |lo: usize| -> MatRef<T> {
            if spec.has_rec_masks {
                MatRef {
                    ptr: hpm_p.get().add((par * g + lo) * b * u),
                    rs: u as isize,
                    cs: 1,
                }
            } else {
                MatRef {
                    ptr: sv.hp.get().add(tt * u),
                    rs: (t * u) as isize,
                    cs: 1,
                }
            }
        };
        let phases = if grp[1].is_empty() { 1 } else { 2 };
        for phase in 0..phases {
            for_each_task(ch.len(), |ci| {
                let (j0, w) = ch[ci];
                for (gi, &(lo, _)) in grp[phase].iter().enumerate() {
                    let a = if phase == 1 {
                        // GRU reset-before: the h product reads a = r * hp * m_h (saved in aux).
                        MatRef {
                            ptr: sv.aux.get().add(tt * u),
                            rs: (t * u) as isize,
                            cs: 1,
                        }
                    } else {
                        a_of(lo)
                    };
                    packs[ci][phase][gi].gemm_serial(
                        b,
                        T::ONE,
                        a,
                        T::ZERO,
                        MatMut {
                            ptr: zr_p.get().add(g * j0 + lo * w),
                            rs: gu as isize,
                            cs: 1,
                        },
                    );
                }
                step_math(p, sv, y, StepCtx {
                    s,
                    tt,
                    j0,
                    w,
                    phase,
                    zr: zr_p,
                    hpm: hpm_p,
                    bias,
                    rbias,
                    ys,
                });
            });
        }
    }
}

/// Where one chunk's gate math runs.
#[derive(Clone, Copy)]
struct StepCtx<'a, T> {
    s: usize,
    tt: usize,
    j0: usize,
    w: usize,
    phase: usize,
    zr: SendPtr<T>,
    hpm: SendPtr<T>,
    bias: &'a [T],
    rbias: &'a [T],
    ys: usize,
}

/// The gate math of one chunk at one step, for every batch row.
unsafe fn step_math<T: RnnScalar>(p: &Problem<T>, sv: &Saved<T>, y: SendPtr<T>, c: StepCtx<'_, T>) {
    let (b, t, u) = (p.b, p.t, p.u);
    let spec = p.spec;
    let g = spec.cell.gates();
    let gu = g * u;
    let (s, tt, j0, w) = (c.s, c.tt, c.j0, c.w);
    let last = s + 1 == t;
    let tn = if last {
        0
    } else {
        time_of(s + 1, t, spec.go_backwards)
    };
    let tp = if s == 0 {
        0
    } else {
        time_of(s - 1, t, spec.go_backwards)
    };
    for r in 0..b {
        let valid = !spec.has_mask || *p.mask.get().add(r * t + tt) != 0;
        let xw = |k: usize| sl(p.xw.get(), (r * t + tt) * gu + k * u + j0, w);
        let bk = |k: usize| &c.bias[k * u + j0..k * u + j0 + w];
        let zk = |k: usize| sl(c.zr.get(), r * gu + g * j0 + k * w, w);
        let gate = |k: usize| sl_mut(sv.gates.get(), (r * t + tt) * gu + k * u + j0, w);
        let hp = sl(sv.hp.get(), (r * t + tt) * u + j0, w);
        // The new hidden state goes to HP of the next step, or to Y[:, T] after the last.
        let hnew = if last {
            sl_mut(y.get(), (r * c.ys + t) * u + j0, w)
        } else {
            sl_mut(sv.hp.get(), (r * t + tn) * u + j0, w)
        };
        match spec.cell {
            Cell::Simple => {
                let h = gate(0);
                add3(xw(0), bk(0), zk(0), h);
                apply(spec.act, h);
                hnew.copy_from_slice(if valid { h } else { hp });
            }
            Cell::Lstm => {
                for k in 0..4 {
                    add3(xw(k), bk(k), zk(k), gate(k));
                }
                apply(spec.rec_act, gate(0));
                apply(spec.rec_act, gate(1));
                apply(spec.act, gate(2));
                apply(spec.rec_act, gate(3));
                let cp = if s == 0 {
                    sl(p.c0.get(), r * u + j0, w)
                } else {
                    sl(sv.cs.get(), (r * t + tp) * u + j0, w)
                };
                let cnew = sl_mut(sv.cs.get(), (r * t + tt) * u + j0, w);
                lstm_state(spec.act, gate(0), gate(1), gate(2), gate(3), cp, cnew, hnew);
                if !valid {
                    cnew.copy_from_slice(cp);
                    hnew.copy_from_slice(hp);
                }
                if last {
                    sl_mut(y.get(), (r * c.ys + t + 1) * u + j0, w).copy_from_slice(cnew);
                }
            }
            Cell::Gru { reset_after } => {
                let aux = sl_mut(sv.aux.get(), (r * t + tt) * u + j0, w);
                if c.phase == 0 {
                    // z and r (and, reset-after, q and the candidate).
                    for k in 0..2 {
                        let rb = &c.rbias[k * u + j0..k * u + j0 + w];
                        let gk = gate(k);
                        add3(xw(k), bk(k), zk(k), gk);
                        for j in 0..w {
                            gk[j] = gk[j] + rb[j];
                        }
                        apply(spec.rec_act, gk);
                    }
                    let (zg, rg) = (gate(0), gate(1));
                    if reset_after {
                        let rb = &c.rbias[2 * u + j0..2 * u + j0 + w];
                        let (xh, bh, zh) = (xw(2), bk(2), zk(2));
                        let hh = gate(2);
                        for j in 0..w {
                            aux[j] = zh[j] + rb[j];
                            hh[j] = xh[j] + bh[j] + rg[j] * aux[j];
                        }
                        apply(spec.act, hh);
                        gru_mix(zg, hp, hh, hnew);
                        if !valid {
                            hnew.copy_from_slice(hp);
                        }
                    } else {
                        // a = r * hp * m_h, the A operand of the h product in phase 1.
                        for j in 0..w {
                            aux[j] = rg[j] * hp[j];
                        }
                        if spec.has_rec_masks {
                            let m = sl(p.rec_masks.get(), (2 * b + r) * u + j0, w);
                            for j in 0..w {
                                aux[j] = aux[j] * m[j];
                            }
                        }
                        // The output is written in phase 1.
                        continue;
                    }
                } else {
                    let (xh, bh, zh) = (xw(2), bk(2), zk(2));
                    let hh = gate(2);
                    add3(xh, bh, zh, hh);
                    apply(spec.act, hh);
                    gru_mix(gate(0), hp, hh, hnew);
                    if !valid {
                        hnew.copy_from_slice(hp);
                    }
                }
            }
        }
        // Output of this step, then the next step's masked A operands.
        let out = sl_mut(y.get(), (r * c.ys + s) * u + j0, w);
        if valid {
            out.copy_from_slice(hnew);
        } else if spec.zero_output || s == 0 {
            out.iter_mut().for_each(|v| *v = T::ZERO);
        } else {
            let prev = sl(y.get(), (r * c.ys + s - 1) * u + j0, w);
            out.copy_from_slice(prev);
        }
        if spec.has_rec_masks && !last {
            let par = (s + 1) & 1;
            for k in 0..g {
                let m = sl(p.rec_masks.get(), (k * b + r) * u + j0, w);
                let dst = sl_mut(c.hpm.get(), ((par * g + k) * b + r) * u + j0, w);
                for j in 0..w {
                    dst[j] = hnew[j] * m[j];
                }
            }
        }
    }
}

/// GRU: `h = z * hp + (1 - z) * hh`.
#[inline(always)]
fn gru_mix_impl<T: Real>(z: &[T], hp: &[T], hh: &[T], h: &mut [T]) {
    for j in 0..h.len() {
        h[j] = z[j] * hp[j] + (T::c(1.0) - z[j]) * hh[j];
    }
}
simd_fn!(fn gru_mix<T: Real>(z: &[T], hp: &[T], hh: &[T], h: &mut [T]) => gru_mix_impl);

// ---- the backward ------------------------------------------------------------------------------

/// Backpropagation through time: from `dy` (B, T + S, u) writes the gradients of `g`.
///
/// # Safety
/// As [`forward`], with `sv` the buffers the forward of the same problem filled, `dy` contiguous
/// (B, T + S, u), and every non-null gradient pointer a fresh buffer of its shape (`dxw` always).
pub unsafe fn backward<T: RnnScalar>(p: &Problem<T>, sv: &Saved<T>, dy: SendPtr<T>, gr: &Grads<T>) {
    let (b, t, u) = (p.b, p.t, p.u);
    let spec = p.spec;
    let cell = spec.cell;
    let g = cell.gates();
    let gu = g * u;
    let ys = t + cell.states();
    let n_dxw = b * t * gu;
    if n_dxw > 0 {
        sl_mut(gr.dxw.get(), 0, n_dxw).iter_mut().for_each(|v| *v = T::ZERO);
    }
    if b == 0 || t == 0 || u == 0 {
        for (ptr, n) in [(gr.drk, u * gu), (gr.dbias, gu), (gr.drec_bias, gu), (gr.dh0, b * u), (gr.dc0, b * u)] {
            if !ptr.get().is_null() && n > 0 {
                sl_mut(ptr.get(), 0, n).iter_mut().for_each(|v| *v = T::ZERO);
            }
        }
        return;
    }
    let ch = chunks(b, u, g);
    let grp = groups(cell, spec.has_rec_masks);
    // dR: the gradient of the recurrent products (differs from dxw only for GRU reset-after).
    let mut drec_own = vec![T::ZERO; if cell.split_rec_grad() { b * t * gu } else { 0 }];
    let drec = if cell.split_rec_grad() {
        SendPtr(drec_own.as_mut_ptr())
    } else {
        gr.dxw
    };
    // Packed U^T column blocks: packs[c][phase][i] is (hi-lo)*u x w, rows j0..j0+w of U.
    let packs: Vec<[Vec<PackedB<T>>; 2]> = ch
        .iter()
        .map(|&(j0, w)| {
            let pk = |&(lo, hi): &(usize, usize)| {
                PackedB::new(
                    MatRef {
                        ptr: p.rk.get().add(j0 * gu + lo * u),
                        rs: 1,
                        cs: gu as isize,
                    },
                    (hi - lo) * u,
                    w,
                )
            };
            [grp[0].iter().map(pk).collect(), grp[1].iter().map(pk).collect()]
        })
        .collect();
    // Carried per (row, unit): the direct part of dh, LSTM's dc, the output-gradient carry.
    let mut dh_c = vec![T::ZERO; b * u];
    let mut dc_c = vec![T::ZERO; b * u];
    let mut dout_c = vec![T::ZERO; b * u];
    // The recurrent product's contribution to dh (per gate when masked: (G, B, u)).
    let mut dhr = vec![T::ZERO; b * u * if spec.has_rec_masks { g } else { 1 }];
    for r in 0..b {
        sl_mut(dh_c.as_mut_ptr(), r * u, u).copy_from_slice(sl(dy.get(), (r * ys + t) * u, u));
        if cell == Cell::Lstm {
            sl_mut(dc_c.as_mut_ptr(), r * u, u).copy_from_slice(sl(dy.get(), (r * ys + t + 1) * u, u));
        }
    }
    let bufs = BackBufs {
        dh_c: SendPtr(dh_c.as_mut_ptr()),
        dc_c: SendPtr(dc_c.as_mut_ptr()),
        dout_c: SendPtr(dout_c.as_mut_ptr()),
        dhr: SendPtr(dhr.as_mut_ptr()),
        drec,
        dy,
    };
    let packs = &packs;
    let grp = &grp;
    let ch = &ch;
    // dhr[:, chunk] = sum over groups of phase `phase` of dR[:, time] @ U^T (masked per gate).
    let rec_product = |ci: usize, time: usize, phase: usize| {
        let (j0, _) = ch[ci];
        for (gi, &(lo, _)) in grp[phase].iter().enumerate() {
            let (src, width) = if phase == 1 {
                // GRU reset-before: the h block of dxw (its A is `a`, not hp).
                (gr.dxw, gu)
            } else {
                (drec, gu)
            };
            let slot = if spec.has_rec_masks { lo } else { 0 };
            packs[ci][phase][gi].gemm_serial(
                b,
                T::ONE,
                MatRef {
                    ptr: src.get().add(time * width + lo * u),
                    rs: (t * width) as isize,
                    cs: 1,
                },
                T::ZERO,
                MatMut {
                    ptr: bufs.dhr.get().add(slot * b * u + j0),
                    rs: u as isize,
                    cs: 1,
                },
            );
        }
    };
    for s in (0..t).rev() {
        let tt = time_of(s, t, spec.go_backwards);
        let tn = if s + 1 < t {
            Some(time_of(s + 1, t, spec.go_backwards))
        } else {
            None
        };
        for_each_task(ch.len(), |ci| {
            if let Some(tn) = tn {
                rec_product(ci, tn, 0);
            }
            back_math(p, sv, gr, &bufs, ch[ci], s, tt, tn.is_some(), 0);
        });
        if !grp[1].is_empty() {
            // GRU reset-before: da = dxw_h @ U_h^T at this step, then dr and r * da.
            for_each_task(ch.len(), |ci| {
                rec_product(ci, tt, 1);
                back_math(p, sv, gr, &bufs, ch[ci], s, tt, true, 1);
            });
        }
    }
    // dh0 = the recurrent product of the first step plus the carried direct part; dc0.
    let tt0 = time_of(0, t, spec.go_backwards);
    for_each_task(ch.len(), |ci| {
        rec_product(ci, tt0, 0);
        let (j0, w) = ch[ci];
        for r in 0..b {
            let dst = if gr.dh0.get().is_null() {
                None
            } else {
                Some(sl_mut(gr.dh0.get(), r * u + j0, w))
            };
            if let Some(dst) = dst {
                let direct = sl(bufs.dh_c.get(), r * u + j0, w);
                dst.copy_from_slice(direct);
                add_rec(p, &bufs, dst, r, j0, w);
            }
            if !gr.dc0.get().is_null() {
                sl_mut(gr.dc0.get(), r * u + j0, w).copy_from_slice(sl(bufs.dc_c.get(), r * u + j0, w));
            }
        }
    });
    weight_grads(p, sv, gr, drec);
}

struct BackBufs<T> {
    dh_c: SendPtr<T>,
    dc_c: SendPtr<T>,
    dout_c: SendPtr<T>,
    dhr: SendPtr<T>,
    drec: SendPtr<T>,
    dy: SendPtr<T>,
}

/// `dst += dhr[row]` (masked per gate: `sum_k dhr_k * m_k`, gates in order).
#[inline(always)]
unsafe fn add_rec<T: RnnScalar>(p: &Problem<T>, bufs: &BackBufs<T>, dst: &mut [T], r: usize, j0: usize, w: usize) {
    let (b, u) = (p.b, p.u);
    if p.spec.has_rec_masks {
        let phase0 = groups(p.spec.cell, true)[0].len();
        for k in 0..phase0 {
            let d = sl(bufs.dhr.get(), (k * b + r) * u + j0, w);
            let m = sl(p.rec_masks.get(), (k * b + r) * u + j0, w);
            for j in 0..w {
                dst[j] = dst[j] + d[j] * m[j];
            }
        }
    } else {
        let d = sl(bufs.dhr.get(), r * u + j0, w);
        for j in 0..w {
            dst[j] = dst[j] + d[j];
        }
    }
}

/// The gate chain rules of one chunk at step `s` (time `tt`), every batch row.
#[allow(clippy::too_many_arguments)]
unsafe fn back_math<T: RnnScalar>(
    p: &Problem<T>,
    sv: &Saved<T>,
    gr: &Grads<T>,
    bufs: &BackBufs<T>,
    (j0, w): (usize, usize),
    s: usize,
    tt: usize,
    has_rec: bool,
    phase: usize,
) {
    let (b, t, u) = (p.b, p.t, p.u);
    let spec = p.spec;
    let g = spec.cell.gates();
    let gu = g * u;
    let ys = t + spec.cell.states();
    let mut dh = vec![T::ZERO; w];
    let tp = if s == 0 {
        None
    } else {
        Some(time_of(s - 1, t, spec.go_backwards))
    };
    for r in 0..b {
        let valid = !spec.has_mask || *p.mask.get().add(r * t + tt) != 0;
        let gate = |k: usize| sl(sv.gates.get(), (r * t + tt) * gu + k * u + j0, w);
        let dx = |k: usize| sl_mut(gr.dxw.get(), (r * t + tt) * gu + k * u + j0, w);
        let hp = sl(sv.hp.get(), (r * t + tt) * u + j0, w);
        let dh_c = sl_mut(bufs.dh_c.get(), r * u + j0, w);
        if phase == 1 {
            // GRU reset-before, second half: dhr holds da = dxw_h @ U_h^T.
            if !valid {
                continue;
            }
            let da = sl(bufs.dhr.get(), if spec.has_rec_masks { 2 * b * u } else { 0 } + r * u + j0, w);
            let rg = gate(1);
            let dr = dx(1);
            if spec.has_rec_masks {
                let m = sl(p.rec_masks.get(), (2 * b + r) * u + j0, w);
                for j in 0..w {
                    dr[j] = da[j] * hp[j] * m[j];
                    dh_c[j] = dh_c[j] + da[j] * rg[j] * m[j];
                }
            } else {
                for j in 0..w {
                    dr[j] = da[j] * hp[j];
                    dh_c[j] = dh_c[j] + da[j] * rg[j];
                }
            }
            scale_dact(spec.rec_act, rg, dr);
            continue;
        }
        // dh of this step's new state: recurrent product of the next step + direct carry, plus
        // the output gradient (and the carried gradient of later outputs that repeated this one).
        dh.copy_from_slice(dh_c);
        if has_rec {
            add_rec(p, bufs, &mut dh, r, j0, w);
        }
        let dyo = sl(bufs.dy.get(), (r * ys + s) * u + j0, w);
        let dout = sl_mut(bufs.dout_c.get(), r * u + j0, w);
        if !valid {
            // State carried: dh passes to the previous step; the output repeated the previous one.
            dh_c.copy_from_slice(&dh);
            for j in 0..w {
                dout[j] = if spec.zero_output {
                    T::ZERO
                } else {
                    dout[j] + dyo[j]
                };
            }
            continue;
        }
        for j in 0..w {
            dh[j] = dh[j] + dyo[j] + dout[j];
            dout[j] = T::ZERO;
        }
        match spec.cell {
            Cell::Simple => {
                let d = dx(0);
                d.copy_from_slice(&dh);
                scale_dact(spec.act, gate(0), d);
                dh_c.iter_mut().for_each(|v| *v = T::ZERO);
            }
            Cell::Lstm => {
                let c = sl(sv.cs.get(), (r * t + tt) * u + j0, w);
                let cp = match tp {
                    None => sl(p.c0.get(), r * u + j0, w),
                    Some(tp) => sl(sv.cs.get(), (r * t + tp) * u + j0, w),
                };
                let dc = sl_mut(bufs.dc_c.get(), r * u + j0, w);
                lstm_back(
                    spec.act,
                    spec.rec_act,
                    gate(0),
                    gate(1),
                    gate(2),
                    gate(3),
                    c,
                    cp,
                    &dh,
                    dc,
                    dx(0),
                    dx(1),
                    dx(2),
                    dx(3),
                );
                dh_c.iter_mut().for_each(|v| *v = T::ZERO);
            }
            Cell::Gru { reset_after } => {
                let (zg, rg, hh) = (gate(0), gate(1), gate(2));
                let aux = sl(sv.aux.get(), (r * t + tt) * u + j0, w);
                let (dz, dr, dph) = (dx(0), dx(1), dx(2));
                for j in 0..w {
                    dph[j] = dh[j] * (T::c(1.0) - zg[j]);
                    dz[j] = dh[j] * (hp[j] - hh[j]);
                    dh_c[j] = dh[j] * zg[j];
                }
                scale_dact(spec.act, hh, dph);
                scale_dact(spec.rec_act, zg, dz);
                if reset_after {
                    // q = aux; dR_h = dph * r; dr = dph * q.
                    let drh = sl_mut(bufs.drec.get(), (r * t + tt) * gu + 2 * u + j0, w);
                    for j in 0..w {
                        dr[j] = dph[j] * aux[j];
                        drh[j] = dph[j] * rg[j];
                    }
                    scale_dact(spec.rec_act, rg, dr);
                    for k in 0..2 {
                        sl_mut(bufs.drec.get(), (r * t + tt) * gu + k * u + j0, w)
                            .copy_from_slice(sl(gr.dxw.get(), (r * t + tt) * gu + k * u + j0, w));
                    }
                }
            }
        }
    }
}

/// After the sweep: `dU`, `dbias`, `drec_bias` from the pre-activation gradients of all steps.
unsafe fn weight_grads<T: RnnScalar>(p: &Problem<T>, sv: &Saved<T>, gr: &Grads<T>, drec: SendPtr<T>) {
    let (b, t, u) = (p.b, p.t, p.u);
    let spec = p.spec;
    let cell = spec.cell;
    let g = cell.gates();
    let gu = g * u;
    let rows = b * t;
    if !gr.drk.get().is_null() {
        // dU[:, block] = A^T @ dR[:, block] over the B*T rows; A = hp (masked per gate), or
        // `a` for GRU reset-before's h gate.
        let mut tmp = vec![T::ZERO; if spec.has_rec_masks { rows * u } else { 0 }];
        let mut blocks: Vec<(usize, usize, bool)> = Vec::new(); // (lo, hi, reads aux)
        for (phase, gs) in groups(cell, spec.has_rec_masks).iter().enumerate() {
            for &(lo, hi) in gs {
                blocks.push((lo, hi, phase == 1));
            }
        }
        for (lo, hi, aux) in blocks {
            let a_ptr: *const T = if aux {
                sv.aux.get()
            } else if spec.has_rec_masks {
                // hp * m_lo, the mask broadcast over time.
                for r in 0..b {
                    let m = sl(p.rec_masks.get(), (lo * b + r) * u, u);
                    for tt in 0..t {
                        let h = sl(sv.hp.get(), (r * t + tt) * u, u);
                        let d = &mut tmp[(r * t + tt) * u..(r * t + tt + 1) * u];
                        for j in 0..u {
                            d[j] = h[j] * m[j];
                        }
                    }
                }
                tmp.as_ptr()
            } else {
                sv.hp.get()
            };
            let src = if aux { gr.dxw } else { drec };
            gemm(&GemmParams {
                m: u,
                n: (hi - lo) * u,
                k: rows,
                alpha: T::ONE,
                beta: T::ZERO,
                a: MatRef {
                    ptr: a_ptr,
                    rs: 1,
                    cs: u as isize,
                },
                b: MatRef {
                    ptr: src.get().add(lo * u),
                    rs: gu as isize,
                    cs: 1,
                },
                c: MatMut {
                    ptr: gr.drk.get().add(lo * u),
                    rs: gu as isize,
                    cs: 1,
                },
                a_offsets: &[0],
                b_offsets: &[0],
                c_offsets: &[0],
            });
        }
    }
    for (dst, src) in [(gr.dbias, gr.dxw), (gr.drec_bias, drec)] {
        if dst.get().is_null() {
            continue;
        }
        col_sums(src, rows, gu, dst);
    }
}

/// `dst[j] = sum over rows r of src[r, j]` in row order (per column block, in parallel).
unsafe fn col_sums<T: RnnScalar>(src: SendPtr<T>, rows: usize, cols: usize, dst: SendPtr<T>) {
    const BLOCK: usize = 256;
    let nb = cols.div_ceil(BLOCK);
    let go = |bi: usize| {
        let c0 = bi * BLOCK;
        let w = BLOCK.min(cols - c0);
        let d = sl_mut(dst.get(), c0, w);
        d.iter_mut().for_each(|v| *v = T::ZERO);
        for r in 0..rows {
            let s = sl(src.get(), r * cols + c0, w);
            for j in 0..w {
                d[j] = d[j] + s[j];
            }
        }
    };
    if rows * cols < (1 << 16) {
        (0..nb).for_each(go);
    } else {
        for_each_task(nb, go);
    }
}

