//! Backpropagation through time: the reverse sweep (per step, each chunk's share of `dh` from the
//! next step's gradients, then its gate chain rules), and the weight gradients as GEMMs over all
//! steps at once.

use super::cell_math::*;
use super::*;
use crate::kernels::matmul::{gemm, GemmParams, MatMut, MatRef, PackedB};
use crate::threading::for_each_task;

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
    // Without a mask every step writes all of its dxw rows; masked rows are skipped (zeros).
    if n_dxw > 0 && spec.has_mask {
        sl_mut(gr.dxw.get(), 0, n_dxw)
            .iter_mut()
            .for_each(|v| *v = T::ZERO);
    }
    if b == 0 || t == 0 || u == 0 {
        for (ptr, n) in [
            (gr.drk, u * gu),
            (gr.dbias, gu),
            (gr.drec_bias, gu),
            (gr.dh0, b * u),
            (gr.dc0, b * u),
        ] {
            if !ptr.get().is_null() && n > 0 {
                sl_mut(ptr.get(), 0, n)
                    .iter_mut()
                    .for_each(|v| *v = T::ZERO);
            }
        }
        return;
    }
    let sp = split(b, u, g);
    let ch = &sp.chunks;
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
            [
                grp[0].iter().map(pk).collect(),
                grp[1].iter().map(pk).collect(),
            ]
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
            sl_mut(dc_c.as_mut_ptr(), r * u, u).copy_from_slice(sl(
                dy.get(),
                (r * ys + t + 1) * u,
                u,
            ));
        }
    }
    // Bias gradients per batch row, summed over time while each step's pre-activation
    // gradients are still in cache (a column sum over all B*T rows afterwards re-read them from
    // memory: 2% of an LSTM(256) training step); the rows are added in order at the end.
    let want_db = !gr.dbias.get().is_null();
    let want_drb = !gr.drec_bias.get().is_null();
    let mut db_rows = vec![T::ZERO; if want_db { b * gu } else { 0 }];
    let mut drb_rows = vec![T::ZERO; if want_drb { b * gu } else { 0 }];
    let bufs = BackBufs {
        dh_c: SendPtr(dh_c.as_mut_ptr()),
        dc_c: SendPtr(dc_c.as_mut_ptr()),
        dout_c: SendPtr(dout_c.as_mut_ptr()),
        dhr: SendPtr(dhr.as_mut_ptr()),
        drec,
        dy,
        db_rows: SendPtr(db_rows.as_mut_ptr()),
        drb_rows: SendPtr(drb_rows.as_mut_ptr()),
    };
    let packs = &packs;
    let phases = if grp[1].is_empty() { 1 } else { 2 };
    let grp = &grp;
    // dhr[:, chunk] = sum over groups of phase `phase` of dR[:, time] @ U^T (masked per gate).
    let rec_product = |(r0, r1): (usize, usize), ci: usize, time: usize, phase: usize| {
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
                r1 - r0,
                T::ONE,
                MatRef {
                    ptr: src.get().add((r0 * t + time) * width + lo * u),
                    rs: (t * width) as isize,
                    cs: 1,
                },
                T::ZERO,
                MatMut {
                    ptr: bufs.dhr.get().add((slot * b + r0) * u + j0),
                    rs: u as isize,
                    cs: 1,
                },
            );
        }
    };
    // One reverse step for rows `rows` of chunk ci.
    let step = |rows: (usize, usize), ci: usize, s: usize, phase: usize| {
        let tt = time_of(s, t, spec.go_backwards);
        if phase == 0 {
            let tn = (s + 1 < t).then(|| time_of(s + 1, t, spec.go_backwards));
            if let Some(tn) = tn {
                rec_product(rows, ci, tn, 0);
            }
            back_math(p, sv, gr, &bufs, rows, ch[ci], s, tt, tn.is_some(), 0);
        } else {
            // GRU reset-before: da = dxw_h @ U_h^T at this step, then dr and r * da.
            rec_product(rows, ci, tt, 1);
            back_math(p, sv, gr, &bufs, rows, ch[ci], s, tt, true, 1);
        }
        if phase + 1 == phases {
            add_bias_rows(p, gr, &bufs, rows, ch[ci], tt);
        }
    };
    // dh0 = the recurrent product of the first step plus the carried direct part; dc0.
    let tt0 = time_of(0, t, spec.go_backwards);
    let initial = |(r0, r1): (usize, usize), ci: usize| {
        rec_product((r0, r1), ci, tt0, 0);
        let (j0, w) = ch[ci];
        for r in r0..r1 {
            if !gr.dh0.get().is_null() {
                let dst = sl_mut(gr.dh0.get(), r * u + j0, w);
                dst.copy_from_slice(sl(bufs.dh_c.get(), r * u + j0, w));
                add_rec(p, &bufs, dst, r, j0, w);
            }
            if !gr.dc0.get().is_null() {
                sl_mut(gr.dc0.get(), r * u + j0, w).copy_from_slice(sl(
                    bufs.dc_c.get(),
                    r * u + j0,
                    w,
                ));
            }
        }
    };
    if sp.rows.len() > 1 {
        // Independent rows: each task runs the whole reverse sweep for its rows.
        for_each_task(sp.rows.len(), |bi| {
            for s in (0..t).rev() {
                for phase in 0..phases {
                    step(sp.rows[bi], 0, s, phase);
                }
            }
            initial(sp.rows[bi], 0);
        });
    } else {
        for s in (0..t).rev() {
            for phase in 0..phases {
                for_each_task(ch.len(), |ci| step((0, b), ci, s, phase));
            }
        }
        for_each_task(ch.len(), |ci| initial((0, b), ci));
    }
    weight_grads(p, sv, gr, drec);
    for (dst, rows_sum) in [(gr.dbias, &db_rows), (gr.drec_bias, &drb_rows)] {
        if !dst.get().is_null() {
            let d = sl_mut(dst.get(), 0, gu);
            d.copy_from_slice(&rows_sum[..gu]);
            for r in 1..b {
                accumulate(d, &rows_sum[r * gu..(r + 1) * gu]);
            }
        }
    }
}

struct BackBufs<T> {
    dh_c: SendPtr<T>,
    dc_c: SendPtr<T>,
    dout_c: SendPtr<T>,
    dhr: SendPtr<T>,
    drec: SendPtr<T>,
    dy: SendPtr<T>,
    /// (B, G*u) per-row sums over time of dxw / of dR (when the bias gradients are wanted).
    db_rows: SendPtr<T>,
    drb_rows: SendPtr<T>,
}

/// Adds this step's pre-activation gradients (rows `r0..r1`, the chunk's units of every gate) to
/// the per-row bias-gradient sums. A masked step wrote zeros there, so it adds nothing.
unsafe fn add_bias_rows<T: RnnScalar>(
    p: &Problem<T>,
    gr: &Grads<T>,
    bufs: &BackBufs<T>,
    (r0, r1): (usize, usize),
    (j0, w): (usize, usize),
    tt: usize,
) {
    let (t, u) = (p.t, p.u);
    let gu = p.spec.cell.gates() * u;
    for (want, acc, src) in [
        (!gr.dbias.get().is_null(), bufs.db_rows, gr.dxw),
        (!gr.drec_bias.get().is_null(), bufs.drb_rows, bufs.drec),
    ] {
        if !want {
            continue;
        }
        for r in r0..r1 {
            for k in 0..p.spec.cell.gates() {
                accumulate(
                    sl_mut(acc.get(), r * gu + k * u + j0, w),
                    sl(src.get(), (r * t + tt) * gu + k * u + j0, w),
                );
            }
        }
    }
}

/// `dst += dhr[row]` (masked per gate: `sum_k dhr_k * m_k`, gates in order).
#[inline(always)]
unsafe fn add_rec<T: RnnScalar>(
    p: &Problem<T>,
    bufs: &BackBufs<T>,
    dst: &mut [T],
    r: usize,
    j0: usize,
    w: usize,
) {
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
    (r0, r1): (usize, usize),
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
    for r in r0..r1 {
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
            let da = sl(
                bufs.dhr.get(),
                if spec.has_rec_masks { 2 * b * u } else { 0 } + r * u + j0,
                w,
            );
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
unsafe fn weight_grads<T: RnnScalar>(
    p: &Problem<T>,
    sv: &Saved<T>,
    gr: &Grads<T>,
    drec: SendPtr<T>,
) {
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
}
