//! Backward tasks: dk/dv per key block (optionally dq in the same task) and dq per query
//! block, recomputing the probabilities block by block from the forward's log-sum-exp.

use super::fwd::finish_scores;
use super::tiles::mm;
use super::*;

/// Backward buffers and the forward's saved values.
#[derive(Clone, Copy)]
pub struct Bwd<T> {
    pub out: SendPtr<T>,
    pub lse: SendPtr<T>,
    pub dout: SendPtr<T>,
    pub dq: SendPtr<T>,
    pub dk: SendPtr<T>,
    pub dv: SendPtr<T>,
    /// full (B, N, T, S) contiguous, zero-filled, when the bias needs a gradient
    pub dbias: Option<SendPtr<T>>,
    /// `D_i = do_i . o_i` per (b, n, row), (B, N, T); filled by [`backward`]
    pub dvec: SendPtr<T>,
}
// SAFETY: as for Problem: tasks write disjoint parts.
unsafe impl<T: Send> Send for Bwd<T> {}
unsafe impl<T: Sync> Sync for Bwd<T> {}

/// The shared middle of both backward passes for one (query block, key block) pair: leaves p
/// in `sc.s` and `scale * ds` in `sc.dp` (r x c), and writes ds to dbias when asked.
/// Expects `sc.kt` / `sc.vt` to hold the transposed K and V blocks.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block_ds<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    n: usize,
    i0: usize,
    r: usize,
    j0: usize,
    c: usize,
    write_dbias: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
    let do0 = bw.dout.get().add(pb.qin(b, i0, n)) as *const T;
    mm::<T, F, R, W>(
        r,
        c,
        h,
        q0,
        pb.ldqin(),
        1,
        sc.kt.as_ptr(),
        BC as isize,
        sc.s.as_mut_ptr(),
        BC as isize,
        true,
    );
    // Blocks with no bias, mask or causal cut take the scale in the exp pass.
    let plain = pb.bias.is_none() && pb.mask.is_none() && !(pb.causal && j0 + c > i0 + 1);
    if !plain {
        finish_scores(pb, b, n, i0, j0, r, c, &mut sc.s);
    }
    let lse0 = bw.lse.get().add((b * pb.n + n) * pb.t + i0);
    for ii in 0..r {
        let lse = *lse0.add(ii);
        let row = &mut sc.s[ii * BC..ii * BC + c];
        if lse == T::NEG_INF {
            row.fill(T::ZERO);
        } else if plain {
            for v in row.iter_mut() {
                let sv = *v * pb.scale;
                let e = (sv - lse).exp_sm::<F>();
                *v = if sv == T::NEG_INF { T::ZERO } else { e };
            }
        } else {
            for v in row.iter_mut() {
                let e = (*v - lse).exp_sm::<F>();
                *v = if *v == T::NEG_INF { T::ZERO } else { e };
            }
        }
    }
    let dvec = bw.dvec.get().add((b * pb.n + n) * pb.t + i0) as *const T;
    mm::<T, F, R, W>(
        r,
        c,
        h,
        do0,
        pb.ldqin(),
        1,
        sc.vt.as_ptr(),
        BC as isize,
        sc.dp.as_mut_ptr(),
        BC as isize,
        true,
    );
    for ii in 0..r {
        let d = *dvec.add(ii);
        if let Some(dr) = &pb.dropout {
            // With O = (M * P) V: dP = M * (dO V^T), and p becomes M * p for dv.
            let key = dr.row_key((b * pb.n + n) * pb.t + i0 + ii);
            let prow = &mut sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (jj, (g, p)) in drow.iter_mut().zip(prow.iter_mut()).enumerate() {
                let mlt = dr.mult(key, j0 + jj);
                *g = *p * (mlt * *g - d);
                *p = *p * mlt;
            }
        } else if !(write_dbias && bw.dbias.is_some()) {
            // (the scale folded in: the same two roundings as the separate pass below)
            let prow = &sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (g, &p) in drow.iter_mut().zip(prow) {
                *g = (p * (*g - d)) * pb.scale;
            }
            continue;
        } else {
            let prow = &sc.s[ii * BC..ii * BC + c];
            let drow = &mut sc.dp[ii * BC..ii * BC + c];
            for (g, &p) in drow.iter_mut().zip(prow) {
                *g = p * (*g - d);
            }
        }
        let drow = &mut sc.dp[ii * BC..ii * BC + c];
        if write_dbias {
            if let Some(db) = bw.dbias {
                let dst = db.get().add(((b * pb.n + n) * pb.t + i0 + ii) * pb.s + j0);
                for (jj, &g) in drow.iter().enumerate() {
                    *dst.add(jj) = g;
                }
            }
        }
        for g in drow.iter_mut() {
            *g = *g * pb.scale;
        }
    }
}

/// dk and dv of key block `kb` of (b, kv head); with `with_dq`, also adds this block's share
/// to dq of every query head of the group (the caller owns all of them).
#[inline(always)]
unsafe fn kv_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    kvh: usize,
    kb: usize,
    with_dq: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let j0 = kb * BC;
    let c = BC.min(pb.s - j0);
    let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
    let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
    pack_t(k0, pb.ldkin(), c, h, &mut sc.kt);
    pack_t(v0, pb.ldkin(), c, h, &mut sc.vt);
    sc.acc[..c * h].fill(T::ZERO);
    sc.acc2[..c * h].fill(T::ZERO);
    let g = pb.group();
    for n in kvh * g..(kvh + 1) * g {
        let mut i0 = 0;
        while i0 < pb.t {
            let r = BR.min(pb.t - i0);
            if pb.causal && j0 > i0 + r - 1 {
                i0 += r;
                continue;
            }
            block_ds::<T, F, R, W>(pb, bw, b, n, i0, r, j0, c, true, sc);
            let do0 = bw.dout.get().add(pb.qin(b, i0, n)) as *const T;
            let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
            // dv += p^T do, dk += (scale ds)^T q
            mm::<T, F, R, W>(
                c,
                h,
                r,
                sc.s.as_ptr(),
                1,
                BC as isize,
                do0,
                pb.ldqin(),
                sc.acc2.as_mut_ptr(),
                h as isize,
                false,
            );
            mm::<T, F, R, W>(
                c,
                h,
                r,
                sc.dp.as_ptr(),
                1,
                BC as isize,
                q0,
                pb.ldqin(),
                sc.acc.as_mut_ptr(),
                h as isize,
                false,
            );
            if with_dq {
                let dq0 = bw.dq.get().add(pb.qin(b, i0, n));
                mm::<T, F, R, W>(
                    r,
                    h,
                    c,
                    sc.dp.as_ptr(),
                    BC as isize,
                    1,
                    k0,
                    pb.ldkin(),
                    dq0,
                    pb.ldqin(),
                    false,
                );
            }
            i0 += r;
        }
    }
    for jj in 0..c {
        let dk = bw.dk.get().add(pb.koff(b, j0 + jj, kvh));
        let dv = bw.dv.get().add(pb.koff(b, j0 + jj, kvh));
        for x in 0..h {
            *dk.add(x) = sc.acc[jj * h + x];
            *dv.add(x) = sc.acc2[jj * h + x];
        }
    }
}

/// dq of query block `qb` of (b, n), over the key blocks in order (the second pass).
#[inline(always)]
unsafe fn q_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    b: usize,
    n: usize,
    qb: usize,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let kvh = n / pb.group();
    let i0 = qb * BR;
    let r = BR.min(pb.t - i0);
    let mut j0 = 0;
    while j0 < pb.s {
        if pb.causal && j0 > i0 + r - 1 {
            break;
        }
        let c = BC.min(pb.s - j0);
        let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
        let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
        pack_t(k0, pb.ldkin(), c, h, &mut sc.kt);
        pack_t(v0, pb.ldkin(), c, h, &mut sc.vt);
        block_ds::<T, F, R, W>(pb, bw, b, n, i0, r, j0, c, false, sc);
        let dq0 = bw.dq.get().add(pb.qin(b, i0, n));
        mm::<T, F, R, W>(
            r,
            h,
            c,
            sc.dp.as_ptr(),
            BC as isize,
            1,
            k0,
            pb.ldkin(),
            dq0,
            pb.ldqin(),
            false,
        );
        j0 += c;
    }
}

/// The backward task kinds.
#[derive(Clone, Copy)]
pub(crate) enum BwdTask {
    /// (b, kv head) with dq accumulated in the same task
    Head(usize),
    /// key block task index over (b, kv head, key block), dk/dv only
    KeyBlock(usize),
    /// query block task index over (b, n, query block), dq only
    QueryBlock(usize),
}

#[inline(always)]
pub(super) unsafe fn bwd_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    bw: &Bwd<T>,
    task: BwdTask,
) {
    let mut sc = Scratch::<T>::new(pb.h);
    let nkb = pb.s.div_ceil(BC);
    let nqb = pb.t.div_ceil(BR);
    match task {
        BwdTask::Head(t) => {
            let (b, kvh) = (t / pb.kh, t % pb.kh);
            for kb in 0..nkb {
                kv_task_impl::<T, F, R, W>(pb, bw, b, kvh, kb, true, &mut sc);
            }
        }
        BwdTask::KeyBlock(t) => {
            let kb = t % nkb;
            let bk = t / nkb;
            kv_task_impl::<T, F, R, W>(pb, bw, bk / pb.kh, bk % pb.kh, kb, false, &mut sc);
        }
        BwdTask::QueryBlock(t) => {
            let qb = t % nqb;
            let bn = t / nqb;
            q_task_impl::<T, F, R, W>(pb, bw, bn / pb.n, bn % pb.n, qb, &mut sc);
        }
    }
}
