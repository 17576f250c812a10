//! The element-wise gate math of the recurrences: short passes over one chunk's row, written as
//! plain loops and compiled for AVX2 at run time (`simd_fn!`); activation functions branch-free.

use super::Act;
use crate::kernels::math::Real;
use crate::simd_fn;

#[inline(always)]
pub(super) fn act_of<T: Real>(a: Act, x: T) -> T {
    match a {
        Act::Tanh => x.tanh(),
        Act::Sigmoid => x.sigmoid(),
        Act::Relu => x.max_(T::c(0.0)),
        Act::Linear => x,
        Act::HardSigmoid => (x * T::c(1.0 / 6.0) + T::c(0.5))
            .max_(T::c(0.0))
            .min_(T::c(1.0)),
    }
}

/// The derivative of `a` at the point where it output `y`.
#[inline(always)]
pub(super) fn dact_of<T: Real>(a: Act, y: T) -> T {
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
pub(super) fn apply_impl<T: Real>(a: Act, v: &mut [T]) {
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
pub(super) fn scale_dact_impl<T: Real>(a: Act, y: &[T], g: &mut [T]) {
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
pub(super) fn add3_impl<T: Real>(x: &[T], b: &[T], r: &[T], out: &mut [T]) {
    for (((o, &x), &b), &r) in out.iter_mut().zip(x).zip(b).zip(r) {
        *o = x + b + r;
    }
}

/// `acc[j] += v[j]`.
#[inline(always)]
pub(super) fn accumulate_impl<T: Real>(acc: &mut [T], v: &[T]) {
    for (a, &x) in acc.iter_mut().zip(v) {
        *a = *a + x;
    }
}

simd_fn!(pub(super) fn accumulate<T: Real>(acc: &mut [T], v: &[T]) => accumulate_impl, avx512);
simd_fn!(pub(super) fn apply<T: Real>(a: Act, v: &mut [T]) => apply_impl, avx512);
simd_fn!(pub(super) fn scale_dact<T: Real>(a: Act, y: &[T], g: &mut [T]) => scale_dact_impl, avx512);
simd_fn!(pub(super) fn add3<T: Real>(x: &[T], b: &[T], r: &[T], out: &mut [T]) => add3_impl, avx512);

/// LSTM: `c = f * cp + i * g` into `c`, then `h = o * act(c)` into `h`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn lstm_state_impl<T: Real>(
    a: Act,
    i: &[T],
    f: &[T],
    g: &[T],
    o: &[T],
    cp: &[T],
    c: &mut [T],
    h: &mut [T],
) {
    for j in 0..c.len() {
        c[j] = f[j] * cp[j] + i[j] * g[j];
    }
    h.copy_from_slice(c);
    apply_impl(a, h);
    for j in 0..h.len() {
        h[j] = o[j] * h[j];
    }
}
simd_fn!(pub(super) fn lstm_state<T: Real>(a: Act, i: &[T], f: &[T], g: &[T], o: &[T], cp: &[T], c: &mut [T], h: &mut [T]) => lstm_state_impl, avx512);

/// LSTM forward for one row with Keras' default activations (tanh, sigmoid) in one pass: the
/// generic path's eleven passes over the row cost about 15% of a step.
#[inline(always)]
#[allow(clippy::type_complexity)]
pub(super) fn lstm_fwd_default_impl<T: Real>(
    x: [&[T]; 4],
    b: [&[T]; 4],
    z: [&[T]; 4],
    cp: &[T],
    gates: [&mut [T]; 4],
    c: &mut [T],
    h: &mut [T],
) {
    let n = c.len();
    let [gi, gf, gg, go] = gates;
    // Re-sliced to one length so the loop compiles without bounds checks (and vectorises).
    let (gi, gf, gg, go, h, cp) = (
        &mut gi[..n],
        &mut gf[..n],
        &mut gg[..n],
        &mut go[..n],
        &mut h[..n],
        &cp[..n],
    );
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    let (b0, b1, b2, b3) = (&b[0][..n], &b[1][..n], &b[2][..n], &b[3][..n]);
    let (z0, z1, z2, z3) = (&z[0][..n], &z[1][..n], &z[2][..n], &z[3][..n]);
    for j in 0..n {
        let i = (x0[j] + b0[j] + z0[j]).sigmoid();
        let f = (x1[j] + b1[j] + z1[j]).sigmoid();
        let g = (x2[j] + b2[j] + z2[j]).tanh();
        let o = (x3[j] + b3[j] + z3[j]).sigmoid();
        let cn = f * cp[j] + i * g;
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        c[j] = cn;
        h[j] = o * cn.tanh();
    }
}
simd_fn!(pub(super) fn lstm_fwd_default<T: Real>(x: [&[T]; 4], b: [&[T]; 4], z: [&[T]; 4], cp: &[T], gates: [&mut [T]; 4], c: &mut [T], h: &mut [T]) => lstm_fwd_default_impl, avx512);

/// LSTM backward for one row: from `dh` and the carried `dc` (updated to the previous step's),
/// the pre-activation gradients `d[0..4]` (i, f, c, o).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn lstm_back_impl<T: Real>(
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

simd_fn!(pub(super) fn lstm_back<T: Real>(a: Act, ra: Act, gi: &[T], gf: &[T], gg: &[T], go: &[T], c: &[T], cp: &[T], dh: &[T], dc: &mut [T], di: &mut [T], df: &mut [T], dg: &mut [T], dout: &mut [T]) => lstm_back_impl, avx512);

/// GRU: `h = z * hp + (1 - z) * hh`.
#[inline(always)]
pub(super) fn gru_mix_impl<T: Real>(z: &[T], hp: &[T], hh: &[T], h: &mut [T]) {
    for j in 0..h.len() {
        h[j] = z[j] * hp[j] + (T::c(1.0) - z[j]) * hh[j];
    }
}
simd_fn!(pub(super) fn gru_mix<T: Real>(z: &[T], hp: &[T], hh: &[T], h: &mut [T]) => gru_mix_impl, avx512);
