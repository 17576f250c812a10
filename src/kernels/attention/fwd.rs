//! Forward tasks: one query block against every key block with the online softmax, and the
//! decode split (a few query rows against a long cache, in key chunks merged in order).

use super::tiles::{dot_w, lane_sum, mm};
use super::*;

/// Fills `s` (r x c, row stride BC) with the masked scores of rows i0.. against keys j0..
/// (`s` enters holding the raw products q.k).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn finish_scores<T: AttnScalar>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    j0: usize,
    r: usize,
    c: usize,
    s: &mut [T],
) {
    for ii in 0..r {
        let i = i0 + ii;
        let row = &mut s[ii * BC..ii * BC + c];
        for v in row.iter_mut() {
            *v = *v * pb.scale;
        }
        if let Some(bias) = pb.bias {
            let base = bias.ptr.get().offset(
                b as isize * bias.st[0] + n as isize * bias.st[1] + i as isize * bias.st[2],
            );
            for (jj, v) in row.iter_mut().enumerate() {
                *v = *v + *base.offset((j0 + jj) as isize * bias.st[3]);
            }
        }
        if let Some(mask) = pb.mask {
            let base = mask.ptr.get().offset(
                b as isize * mask.st[0] + n as isize * mask.st[1] + i as isize * mask.st[2],
            );
            for (jj, v) in row.iter_mut().enumerate() {
                if *base.offset((j0 + jj) as isize * mask.st[3]) == 0 {
                    *v = T::NEG_INF;
                }
            }
        }
        if pb.causal && j0 + c > i + 1 {
            let from = (i + 1).saturating_sub(j0);
            for v in row[from..].iter_mut() {
                *v = T::NEG_INF;
            }
        }
    }
}

/// Like [`finish_scores`] on the transposed block `st` (c x r, row stride BR: `st[jj*BR + ii]`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn finish_scores_t<T: AttnScalar>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    j0: usize,
    r: usize,
    c: usize,
    st: &mut [T],
) {
    for jj in 0..c {
        let j = j0 + jj;
        let row = &mut st[jj * BR..jj * BR + r];
        for v in row.iter_mut() {
            *v = *v * pb.scale;
        }
        if let Some(bias) = pb.bias {
            let base = bias.ptr.get().offset(
                b as isize * bias.st[0] + n as isize * bias.st[1] + j as isize * bias.st[3],
            );
            for (ii, v) in row.iter_mut().enumerate() {
                *v = *v + *base.offset((i0 + ii) as isize * bias.st[2]);
            }
        }
        if let Some(mask) = pb.mask {
            let base = mask.ptr.get().offset(
                b as isize * mask.st[0] + n as isize * mask.st[1] + j as isize * mask.st[3],
            );
            for (ii, v) in row.iter_mut().enumerate() {
                if *base.offset((i0 + ii) as isize * mask.st[2]) == 0 {
                    *v = T::NEG_INF;
                }
            }
        }
        // causal: key j is hidden from rows i < j
        if pb.causal && j > i0 {
            let upto = (j - i0).min(r);
            row[..upto].fill(T::NEG_INF);
        }
    }
}

/// Rows of the transposed score block the softmax passes keep in registers at a time.
const SM_ROWS: usize = 16;

/// Running maxima of rows `x0..x0+W` over the c keys of the transposed block `st` (row stride
/// BR), first multiplying the scores by `scale` when given.
#[inline(always)]
fn block_max<T: AttnScalar, const W: usize>(
    st: &mut [T],
    x0: usize,
    c: usize,
    m: &mut [T],
    scale: Option<T>,
) {
    let mut mx = [T::ZERO; W];
    mx.copy_from_slice(&m[x0..x0 + W]);
    for jj in 0..c {
        let row = &mut st[jj * BR + x0..jj * BR + x0 + W];
        if let Some(sc) = scale {
            for (mv, v) in mx.iter_mut().zip(row.iter_mut()) {
                *v = *v * sc;
                *mv = mv.max_(*v);
            }
        } else {
            for (mv, &v) in mx.iter_mut().zip(row.iter()) {
                *mv = mv.max_(v);
            }
        }
    }
    m[x0..x0 + W].copy_from_slice(&mx);
}

/// `p = exp(s - max)` (0 for masked scores) over rows `x0..x0+W` of the transposed block,
/// written back, and the rows' sums of p (added in key order) into `part`.
#[inline(always)]
fn block_exp<T: AttnScalar, const F: bool, const W: usize>(
    st: &mut [T],
    x0: usize,
    c: usize,
    m: &[T],
    part: &mut [T],
) {
    let mut mx = [T::ZERO; W];
    mx.copy_from_slice(&m[x0..x0 + W]);
    let mut sum = [T::ZERO; W];
    for jj in 0..c {
        let row = &mut st[jj * BR + x0..jj * BR + x0 + W];
        for ((v, &mv), sv) in row.iter_mut().zip(mx.iter()).zip(sum.iter_mut()) {
            let e = (*v - mv).exp_sm::<F>();
            let p = if *v == T::NEG_INF { T::ZERO } else { e };
            *v = p;
            *sv = *sv + p;
        }
    }
    part[x0..x0 + W].copy_from_slice(&sum);
}

/// Forward over query rows `i0..i0+r` of (b, n) against keys `j_lo..j_hi`: leaves the
/// unnormalised output in `sc.acc` (r x H), the running max in `sc.m` and sum in `sc.l`.
/// Works on the transposed scores (keys x rows) so that the softmax statistics run along
/// contiguous rows of r values, and on Q^T packed once per call (K is read in place).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn fwd_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    b: usize,
    n: usize,
    i0: usize,
    r: usize,
    j_lo: usize,
    j_hi: usize,
    direct: bool,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let kvh = n / pb.group();
    sc.acc[..r * h].fill(T::ZERO);
    sc.m[..r].fill(T::NEG_INF);
    sc.l[..r].fill(T::ZERO);
    let q0 = pb.q.get().add(pb.qin(b, i0, n)) as *const T;
    if !direct {
        // Q^T: kt[x * BR + ii] = q[i0 + ii][x] (kt holds H x max(BR, BC))
        for ii in 0..r {
            let row = q0.offset(ii as isize * pb.ldqin());
            for x in 0..h {
                *sc.kt.get_unchecked_mut(x * BR + ii) = *row.add(x);
            }
        }
    }
    let mut j0 = j_lo;
    while j0 < j_hi {
        if pb.causal && j0 > i0 + r - 1 {
            break;
        }
        let c = BC.min(j_hi - j0);
        let k0 = pb.k.get().add(pb.kin(b, j0, kvh)) as *const T;
        let v0 = pb.v.get().add(pb.kin(b, j0, kvh)) as *const T;
        let st = &mut sc.s;
        if direct {
            for jj in 0..c {
                let kj = k0.offset(jj as isize * pb.ldkin());
                for ii in 0..r {
                    st[jj * BR + ii] = dot_w::<T, F, W>(q0.offset(ii as isize * pb.ldqin()), kj, h);
                }
            }
        } else {
            mm::<T, F, R, W>(
                c,
                r,
                h,
                k0,
                pb.ldkin(),
                1,
                sc.kt.as_ptr(),
                BR as isize,
                st.as_mut_ptr(),
                BR as isize,
                true,
            );
        }
        // Blocks with no bias, mask or causal cut take the scale in the max pass below.
        let plain = pb.bias.is_none() && pb.mask.is_none() && !(pb.causal && j0 + c > i0 + 1);
        if !plain {
            finish_scores_t(pb, b, n, i0, j0, r, c, st);
        }
        // Online softmax, vectorised along the r rows.
        let (m, l, alpha, part) = (
            &mut sc.m[..r],
            &mut sc.l[..r],
            &mut sc.d[..r],
            &mut sc.part[..r],
        );
        alpha.copy_from_slice(m);
        let scale = plain.then_some(pb.scale);
        let mut x0 = 0;
        while x0 + SM_ROWS <= r {
            block_max::<T, SM_ROWS>(st, x0, c, m, scale);
            block_exp::<T, F, SM_ROWS>(st, x0, c, m, part);
            x0 += SM_ROWS;
        }
        for x in x0..r {
            block_max::<T, 1>(st, x, c, m, scale);
            block_exp::<T, F, 1>(st, x, c, m, part);
        }
        for ((a, &mx), (lv, &pv)) in alpha
            .iter_mut()
            .zip(m.iter())
            .zip(l.iter_mut().zip(part.iter()))
        {
            let e = (*a - mx).exp_sm::<F>();
            *a = if *a == T::NEG_INF { T::ZERO } else { e };
            *lv = *lv * *a + pv;
        }
        for (ii, &a) in alpha.iter().enumerate() {
            if a != T::ONE {
                for v in sc.acc[ii * h..(ii + 1) * h].iter_mut() {
                    *v = *v * a;
                }
            }
        }
        if let Some(dr) = &pb.dropout {
            // The sum l above keeps the undropped p: dropout acts on the normalised weights.
            for ii in 0..r {
                let key = dr.row_key((b * pb.n + n) * pb.t + i0 + ii);
                for jj in 0..c {
                    let v = &mut sc.s[jj * BR + ii];
                    *v = *v * dr.mult(key, j0 + jj);
                }
            }
        }
        mm::<T, F, R, W>(
            r,
            h,
            c,
            sc.s.as_ptr(),
            1,
            BR as isize,
            v0,
            pb.ldkin(),
            sc.acc.as_mut_ptr(),
            h as isize,
            false,
        );
        j0 += c;
    }
}

/// Forward task outputs.
#[derive(Clone, Copy)]
pub struct FwdOut<T> {
    pub out: SendPtr<T>,
    pub lse: SendPtr<T>,
    /// decode partials: per (b, n, chunk, row) H outputs then max and sum
    pub part: SendPtr<T>,
}
// SAFETY: as for Problem: tasks write disjoint parts.
unsafe impl<T: Send> Send for FwdOut<T> {}
unsafe impl<T: Sync> Sync for FwdOut<T> {}

#[inline(always)]
pub(super) unsafe fn fwd_task_impl<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
) {
    let h = pb.h;
    if pb.decode_split() > 1 {
        decode_task_impl::<T, F, W>(pb, o, task);
        return;
    }
    let nqb = pb.t.div_ceil(BR);
    let mut sc = take_scratch::<T>(h);
    fwd_task_rows::<T, F, R, W>(pb, o, task, nqb, &mut sc);
    put_scratch(sc);
}

#[inline(always)]
unsafe fn fwd_task_rows<T: AttnScalar, const F: bool, const R: usize, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
    nqb: usize,
    sc: &mut Scratch<T>,
) {
    let h = pb.h;
    let qb = task % nqb;
    let bn = task / nqb;
    let (b, n) = (bn / pb.n, bn % pb.n);
    let i0 = qb * BR;
    let r = BR.min(pb.t - i0);
    // A few rows (decode steps) take one dot product per (row, key): the register tiles are W
    // rows wide and would compute mostly padding.
    fwd_rows::<T, F, R, W>(pb, b, n, i0, r, 0, pb.s, r <= DIRECT_ROWS, sc);
    for ii in 0..r {
        let dst = o.out.get().add(pb.qoff(b, i0 + ii, n));
        let l = sc.l[ii];
        let inv = if l == T::ZERO { T::ZERO } else { T::ONE / l };
        for x in 0..h {
            *dst.add(x) = sc.acc[ii * h + x] * inv;
        }
        *o.lse.get().add((b * pb.n + n) * pb.t + i0 + ii) = if l == T::ZERO {
            T::NEG_INF
        } else {
            sc.m[ii] + l.ln_()
        };
    }
}

/// Decode: task (b, key chunk) runs every head and query row against the chunk's keys, key
/// by key across heads, so K and V are read in address order (one pass over the cache);
/// leaves per (b, n, chunk, row) the unnormalised output, max and sum for [`merge_task`].
#[inline(always)]
unsafe fn decode_task_impl<T: AttnScalar, const F: bool, const W: usize>(
    pb: &Problem<T>,
    o: &FwdOut<T>,
    task: usize,
) {
    let (h, t, nh) = (pb.h, pb.t, pb.n);
    let split = pb.decode_split();
    let (b, chunk) = (task / split, task % split);
    let rows = nh * t;
    let g = pb.group();
    let j_lo = chunk * DECODE_CHUNK;
    let j_hi = (j_lo + DECODE_CHUNK).min(pb.s);
    let slot = |n: usize, i: usize| {
        o.part
            .get()
            .add((((b * nh + n) * split + chunk) * t + i) * (h + 2))
    };
    for n in 0..nh {
        for i in 0..t {
            let d = slot(n, i);
            for x in 0..h {
                *d.add(x) = T::ZERO;
            }
            *d.add(h) = T::NEG_INF;
            *d.add(h + 1) = T::ZERO;
        }
    }
    let mut st = vec![T::ZERO; rows * BC];
    let mut j0 = j_lo;
    while j0 < j_hi {
        let c = BC.min(j_hi - j0);
        for jj in 0..c {
            for n in 0..nh {
                let kj = pb.k.get().add(pb.kin(b, j0 + jj, n / g)) as *const T;
                for i in 0..t {
                    let qi = pb.q.get().add(pb.qin(b, i, n)) as *const T;
                    st[(n * t + i) * BC + jj] = dot_w::<T, F, W>(qi, kj, h);
                }
            }
        }
        for n in 0..nh {
            for i in 0..t {
                let row = &mut st[(n * t + i) * BC..(n * t + i) * BC + BC];
                finish_scores(pb, b, n, i, j0, 1, c, row);
                let d = slot(n, i);
                let old = *d.add(h);
                let mut mx = old;
                for &v in row[..c].iter() {
                    mx = mx.max_(v);
                }
                if mx == T::NEG_INF {
                    row[..c].fill(T::ZERO);
                    continue;
                }
                let mut part = [T::ZERO; LANES];
                for chunk in row[..c].chunks_mut(LANES) {
                    for (v, acc) in chunk.iter_mut().zip(part.iter_mut()) {
                        let e = (*v - mx).exp_sm::<F>();
                        let p = if *v == T::NEG_INF { T::ZERO } else { e };
                        *v = p;
                        *acc = *acc + p;
                    }
                }
                let a = if old == T::NEG_INF {
                    T::ZERO
                } else {
                    (old - mx).exp_sm::<F>()
                };
                *d.add(h + 1) = *d.add(h + 1) * a + lane_sum(&part);
                *d.add(h) = mx;
                if a != T::ONE {
                    for x in 0..h {
                        *d.add(x) = *d.add(x) * a;
                    }
                }
            }
        }
        for jj in 0..c {
            for n in 0..nh {
                let vj = pb.v.get().add(pb.kin(b, j0 + jj, n / g)) as *const T;
                for i in 0..t {
                    let p = st[(n * t + i) * BC + jj];
                    if p == T::ZERO {
                        continue;
                    }
                    let d = std::slice::from_raw_parts_mut(slot(n, i), h);
                    let vs = std::slice::from_raw_parts(vj, h);
                    for (a, &vv) in d.iter_mut().zip(vs) {
                        *a = madd::<T, F>(p, vv, *a);
                    }
                }
            }
        }
        j0 += c;
    }
}

/// Merges the decode partials of (b, n) = `task` in chunk order.
pub(super) unsafe fn merge_task<T: AttnScalar>(pb: &Problem<T>, o: &FwdOut<T>, task: usize) {
    let h = pb.h;
    let split = pb.decode_split();
    let (b, n) = (task / pb.n, task % pb.n);
    let mut acc = vec![T::ZERO; h];
    for i in 0..pb.t {
        let part = |c: usize| {
            o.part
                .get()
                .add((((b * pb.n + n) * split + c) * pb.t + i) * (h + 2)) as *const T
        };
        let mut mx = T::NEG_INF;
        for c in 0..split {
            mx = mx.max_(*part(c).add(h));
        }
        acc.fill(T::ZERO);
        let mut l = T::ZERO;
        if mx != T::NEG_INF {
            for c in 0..split {
                let p = part(c);
                let mc = *p.add(h);
                if mc == T::NEG_INF {
                    continue;
                }
                let a = (mc - mx).exp_();
                l = l + *p.add(h + 1) * a;
                for (x, v) in acc.iter_mut().enumerate() {
                    *v = *v + *p.add(x) * a;
                }
            }
        }
        let inv = if l == T::ZERO { T::ZERO } else { T::ONE / l };
        let dst = o.out.get().add(pb.qoff(b, i, n));
        for (x, v) in acc.iter().enumerate() {
            *dst.add(x) = *v * inv;
        }
        *o.lse.get().add((b * pb.n + n) * pb.t + i) = if l == T::ZERO {
            T::NEG_INF
        } else {
            mx + l.ln_()
        };
    }
}
