//! The forward sweep: per step, each chunk's recurrent GEMM from the packed U, then its gate math.

use super::cell_math::*;
use super::*;
use crate::kernels::matmul::{MatMut, MatRef, PackedB};
use crate::threading::for_each_task;

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
    let sp = split(b, u, g);
    let ch = &sp.chunks;
    let grp = groups(cell, spec.has_rec_masks);
    // U with the columns of each chunk's gates side by side: chunk (j0, w) owns columns
    // [g*j0, g*(j0+w)), gate k at g*j0 + k*w. A gate group of a chunk is one column range.
    let up: Vec<T> = {
        let mut v = vec![T::ZERO; u * gu];
        for r in 0..u {
            for &(j0, w) in ch {
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
            [
                grp[0].iter().map(pk).collect(),
                grp[1].iter().map(pk).collect(),
            ]
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
    let phases = if grp[1].is_empty() { 1 } else { 2 };
    // One task: rows [r0, r1) of chunk ci at step s, phase `phase`.
    let task = |(r0, r1): (usize, usize), ci: usize, s: usize, phase: usize| {
        let tt = time_of(s, t, spec.go_backwards);
        let par = s & 1;
        let (j0, w) = ch[ci];
        for (gi, &(lo, _)) in grp[phase].iter().enumerate() {
            let a = if phase == 1 {
                // GRU reset-before: the h product reads a = r * hp * m_h (saved in aux).
                MatRef {
                    ptr: sv.aux.get().add((r0 * t + tt) * u),
                    rs: (t * u) as isize,
                    cs: 1,
                }
            } else if spec.has_rec_masks {
                MatRef {
                    ptr: hpm_p.get().add(((par * g + lo) * b + r0) * u),
                    rs: u as isize,
                    cs: 1,
                }
            } else {
                MatRef {
                    ptr: sv.hp.get().add((r0 * t + tt) * u),
                    rs: (t * u) as isize,
                    cs: 1,
                }
            };
            packs[ci][phase][gi].gemm_serial(
                r1 - r0,
                T::ONE,
                a,
                T::ZERO,
                MatMut {
                    ptr: zr_p.get().add(r0 * gu + g * j0 + lo * w),
                    rs: gu as isize,
                    cs: 1,
                },
            );
        }
        step_math(
            p,
            sv,
            y,
            StepCtx {
                s,
                tt,
                j0,
                w,
                rows: (r0, r1),
                phase,
                zr: zr_p,
                hpm: hpm_p,
                bias,
                rbias,
                ys,
            },
        );
    };
    if sp.rows.len() > 1 {
        // Rows are independent recurrences: each task runs the whole sequence for its rows.
        for_each_task(sp.rows.len(), |bi| {
            for s in 0..t {
                for phase in 0..phases {
                    task(sp.rows[bi], 0, s, phase);
                }
            }
        });
    } else {
        for s in 0..t {
            for phase in 0..phases {
                for_each_task(ch.len(), |ci| task((0, b), ci, s, phase));
            }
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
    rows: (usize, usize),
    phase: usize,
    zr: SendPtr<T>,
    hpm: SendPtr<T>,
    bias: &'a [T],
    rbias: &'a [T],
    ys: usize,
}

/// The gate math of one chunk at one step, for the rows `c.rows`.
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
    for r in c.rows.0..c.rows.1 {
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
                let cp = if s == 0 {
                    sl(p.c0.get(), r * u + j0, w)
                } else {
                    sl(sv.cs.get(), (r * t + tp) * u + j0, w)
                };
                let cnew = sl_mut(sv.cs.get(), (r * t + tt) * u + j0, w);
                if (spec.act, spec.rec_act) == (Act::Tanh, Act::Sigmoid) {
                    let x = [xw(0), xw(1), xw(2), xw(3)];
                    let bb = [bk(0), bk(1), bk(2), bk(3)];
                    let z = [zk(0), zk(1), zk(2), zk(3)];
                    lstm_fwd_default(
                        x,
                        bb,
                        z,
                        cp,
                        [gate(0), gate(1), gate(2), gate(3)],
                        cnew,
                        hnew,
                    );
                } else {
                    for k in 0..4 {
                        add3(xw(k), bk(k), zk(k), gate(k));
                    }
                    apply(spec.rec_act, gate(0));
                    apply(spec.rec_act, gate(1));
                    apply(spec.act, gate(2));
                    apply(spec.rec_act, gate(3));
                    lstm_state(spec.act, gate(0), gate(1), gate(2), gate(3), cp, cnew, hnew);
                }
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
