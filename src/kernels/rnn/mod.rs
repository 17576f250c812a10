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
//! GEMMs over all steps at once: `dU_g = (HP * m_g)^T @ dR_g` over the (B*T) rows. `db` and `drb`
//! are summed per batch row during the sweep, while each step's gradients are in cache, then over
//! the rows in order (the same order for any split, so still bit-identical across thread counts).
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
use super::matmul::GemmScalar;

mod backward;
mod cell_math;
mod forward;
#[cfg(test)]
mod tests;

pub use backward::backward;
pub use forward::forward;

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
    pub(super) fn split_rec_grad(self) -> bool {
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

/// How a call's steps are shared between threads (shapes and the thread count only).
pub(super) struct Split {
    /// Batch-row blocks `[r0, r1)`, each an independent recurrence run by one task over the
    /// whole sequence (no barrier per step); one block when the split is over units instead.
    pub rows: Vec<(usize, usize)>,
    /// Hidden-unit chunks `(start, width)`: each step's tasks when `rows` has one block.
    pub chunks: Vec<(usize, usize)>,
}

/// Rows first: with at least 8 rows per thread, each thread runs its rows' recurrence from the
/// first step to the last, sharing only the packed U. Otherwise each step is split over chunks
/// of at least 64 units, with a barrier per step. Small steps (below ~2^18 multiply-adds, a few
/// microseconds) stay on one thread.
///
/// Measured (LSTM(256), batch 32, 64 steps, forward, 2 threads, Zen 3): one chunk 16.9 ms;
/// 2 chunks 9.9-10.2, 4 chunks 10.3-10.6, 8 chunks 12.1-12.3 (narrower chunks re-pack the
/// step's A operand more often for smaller products); see the module header for rows.
///
/// Results do not depend on the split: each element of the step GEMM is the same dot product
/// in the same order whichever rows or columns its call covers, and the gate math is per element.
pub(super) fn split(b: usize, u: usize, g: usize) -> Split {
    let threads = crate::threading::num_threads();
    let whole = Split {
        rows: vec![(0, b)],
        chunks: vec![(0, u)],
    };
    if threads <= 1 || b * u * u * g < (1 << 18) {
        return whole;
    }
    let blocks = threads.min(b / 8);
    if blocks >= 2 {
        return Split {
            rows: (0..blocks)
                .map(|k| (k * b / blocks, (k + 1) * b / blocks))
                .collect(),
            chunks: vec![(0, u)],
        };
    }
    let n = (u / 64).clamp(1, 4);
    let w = u.div_ceil(n).div_ceil(16) * 16;
    let mut chunks = Vec::new();
    let mut j0 = 0;
    while j0 < u {
        let wc = w.min(u - j0);
        chunks.push((j0, wc));
        j0 += wc;
    }
    Split {
        rows: vec![(0, b)],
        chunks,
    }
}

// ---- shared by the forward and the backward ----------------------------------------------------

/// The processing step's time index.
#[inline(always)]
pub(super) fn time_of(s: usize, t: usize, back: bool) -> usize {
    if back {
        t - 1 - s
    } else {
        s
    }
}

/// Gate groups that share the A operand of the recurrent product: `[lo, hi)` gate ranges.
/// Phase 0 runs before the gate math, phase 1 (GRU reset-before's h gate) after r is known.
pub(super) fn groups(cell: Cell, rec_masks: bool) -> [Vec<(usize, usize)>; 2] {
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
pub(super) unsafe fn sl<'a, T>(p: *const T, off: usize, n: usize) -> &'a [T] {
    std::slice::from_raw_parts(p.add(off), n)
}
#[inline(always)]
pub(super) unsafe fn sl_mut<'a, T>(p: *mut T, off: usize, n: usize) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(p.add(off), n)
}
