//! Seeded random tensors.
//!
//! A counter-based generator: element `i` of a draw with key `k` is a pure function
//! `splitmix64(k + i * golden)`, so generation parallelises freely and gives the same values
//! for any thread count. Each draw without an explicit seed takes a fresh key from a global
//! (seed, counter) state; `seed(s)` resets it, so programs are reproducible run to run.

use std::sync::Mutex;

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::iter::SendPtr;
use crate::tensor::Tensor;
use crate::with_float;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline(always)]
pub(crate) fn bits(key: u64, i: u64) -> u64 {
    mix(key.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// Uniform in (0, 1] from 53 random bits.
#[inline(always)]
fn unit_open0(b: u64) -> f64 {
    ((b >> 11) as f64 + 1.0) * (1.0 / 9_007_199_254_740_992.0)
}

/// Uniform in [0, 1) from 53 random bits.
#[inline(always)]
pub(crate) fn unit(b: u64) -> f64 {
    (b >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

static STATE: Mutex<Option<(u64, u64)>> = Mutex::new(None);

/// Resets the global generator.
pub fn seed(s: u64) {
    let mut st = match STATE.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    *st = Some((s, 0));
}

/// A fresh key: from `seed` when given, else the next one of the global state.
pub fn next_key(seed: Option<u64>) -> u64 {
    if let Some(s) = seed {
        return mix(s ^ 0x5EED_5EED_5EED_5EED);
    }
    let mut st = match STATE.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let (s, c) = st.get_or_insert_with(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        (mix(t ^ std::process::id() as u64), 0)
    });
    *c += 1;
    mix(s.wrapping_add(c.wrapping_mul(GOLDEN)) ^ 0xA5A5_A5A5_A5A5_A5A5)
}

fn fill<T: Element>(t: &Tensor, f: impl Fn(u64) -> T + Sync) {
    let n = t.numel();
    let p = SendPtr(t.data_ptr::<T>());
    let chunk = crate::threading::GRAIN;
    let body = |c: usize| {
        for i in c * chunk..((c + 1) * chunk).min(n) {
            // SAFETY: i < n; chunks are disjoint.
            unsafe { *p.get().add(i) = f(i as u64) };
        }
    };
    if crate::threading::should_parallelize(n, chunk) {
        crate::threading::for_each_task(n.div_ceil(chunk), body);
    } else {
        (0..n.div_ceil(chunk)).for_each(body);
    }
}

/// Checks the arguments of the normal-family draws.
fn normal_args(op: &str, mean: f64, stddev: f64, dtype: DType) -> Result<()> {
    float_dtype(op, dtype)?;
    if !(mean.is_finite() && stddev.is_finite()) || stddev < 0.0 {
        return Err(Error::value(
            op,
            format!("expected finite mean and stddev >= 0, got {mean} and {stddev}"),
        ));
    }
    Ok(())
}

fn float_dtype(op: &str, dtype: DType) -> Result<()> {
    if !dtype.is_float() {
        return Err(Error::dtype(
            op,
            format!("expected a float dtype, got {dtype}"),
        ));
    }
    Ok(())
}

/// Uniform values in `[low, high)`.
pub fn uniform(
    shape: &[usize],
    low: f64,
    high: f64,
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    float_dtype("uniform", dtype)?;
    if !(low.is_finite() && high.is_finite()) || high < low {
        return Err(Error::value(
            "uniform",
            format!("expected finite minval <= maxval, got {low} and {high}"),
        ));
    }
    let key = next_key(seed);
    let t = Tensor::empty(shape, dtype)?;
    with_float!(dtype, T => fill::<T>(&t, |i| {
        let v = T::from_f64(low + (high - low) * unit(bits(key, i)));
        // Rounding to f32 can reach `high`; keep the interval half-open.
        if v.to_f64() >= high && high > low { T::from_f64(low) } else { v }
    }), _ => unreachable!());
    Ok(t)
}

#[inline(always)]
fn std_normal(key: u64, i: u64) -> f64 {
    let b1 = bits(key, 2 * i);
    let b2 = bits(key, 2 * i + 1);
    (-2.0 * unit_open0(b1).ln()).sqrt() * (std::f64::consts::TAU * unit(b2)).cos()
}

/// Normal values with the given mean and standard deviation.
pub fn normal(
    shape: &[usize],
    mean: f64,
    stddev: f64,
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    normal_args("normal", mean, stddev, dtype)?;
    let key = next_key(seed);
    let t = Tensor::empty(shape, dtype)?;
    with_float!(dtype, T => fill::<T>(&t, |i| T::from_f64(mean + stddev * std_normal(key, i))), _ => unreachable!());
    Ok(t)
}

/// Normal values redrawn until within two standard deviations of the mean (Keras' truncated_normal).
pub fn truncated_normal(
    shape: &[usize],
    mean: f64,
    stddev: f64,
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    normal_args("truncated_normal", mean, stddev, dtype)?;
    let key = next_key(seed);
    let t = Tensor::empty(shape, dtype)?;
    with_float!(dtype, T => fill::<T>(&t, |i| {
        let mut attempt = 0u64;
        loop {
            let z = std_normal(mix(key ^ attempt.wrapping_mul(GOLDEN)), i);
            // P(|z| > 2) = 4.6%: 64 rejections in a row has probability ~1e-85.
            if z.abs() <= 2.0 || attempt == 64 {
                break T::from_f64(mean + stddev * z.clamp(-2.0, 2.0));
            }
            attempt += 1;
        }
    }), _ => unreachable!());
    Ok(t)
}

/// Uniform integers in `[low, high)` as int64 (or int32).
pub fn randint(
    shape: &[usize],
    low: i64,
    high: i64,
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    if high <= low {
        return Err(Error::value(
            "randint",
            format!("expected low < high, got {low} and {high}"),
        ));
    }
    if !dtype.is_int() {
        return Err(Error::dtype(
            "randint",
            format!("expected an integer dtype, got {dtype}"),
        ));
    }
    let key = next_key(seed);
    let span = (high - low) as u128;
    let t = Tensor::empty(shape, dtype)?;
    crate::with_numeric!(dtype, T => fill::<T>(&t, |i| {
        // Multiply-shift maps 64 random bits to [0, span) with negligible bias.
        let r = ((bits(key, i) as u128 * span) >> 64) as i64;
        T::from_i64(low + r)
    }), _ => unreachable!());
    Ok(t)
}

/// ln of one Gamma(alpha, 1) draw, element `i` of stream `key` (Marsaglia and Tsang 2000).
/// Alphas below 1 draw Gamma(alpha + 1) and multiply by u^(1/alpha); the result stays in log
/// space so that tiny alphas do not underflow to 0 (a Beta draw divides two of them).
fn ln_gamma_draw(alpha: f64, key: u64, i: u64) -> f64 {
    let a = if alpha < 1.0 { alpha + 1.0 } else { alpha };
    let d = a - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    let mut attempt = 0u64;
    let ln_x = loop {
        let k = mix(key ^ attempt.wrapping_mul(GOLDEN));
        let z = std_normal(k, 2 * i); // bits 4i and 4i + 1
        let v = (1.0 + c * z).powi(3);
        if v > 0.0 {
            let u = unit_open0(bits(k, 4 * i + 2));
            let ln_v = v.ln();
            if u < 1.0 - 0.0331 * z.powi(4) || u.ln() < 0.5 * z * z + d * (1.0 - v + ln_v) {
                break d.ln() + ln_v;
            }
        }
        attempt += 1;
        // Each try is accepted with probability >= 0.95: 64 rejections in a row never happen.
        if attempt == 64 {
            break d.ln();
        }
    };
    if alpha < 1.0 {
        ln_x + unit_open0(bits(key, 4 * i + 3)).ln() / alpha
    } else {
        ln_x
    }
}

/// Checks gamma/beta parameters: finite, > 0, one value or one per element.
fn shape_params(op: &str, what: &str, p: &[f64], n: usize) -> Result<()> {
    if p.len() != 1 && p.len() != n {
        return Err(Error::shape(
            op,
            format!(
                "{what} must hold one value or one per element ({n}), got {}",
                p.len()
            ),
        ));
    }
    if let Some(bad) = p.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(Error::value(
            op,
            format!("{what} must be finite and > 0, got {bad}"),
        ));
    }
    Ok(())
}

#[inline(always)]
fn param(p: &[f64], i: u64) -> f64 {
    if p.len() == 1 {
        p[0]
    } else {
        p[i as usize]
    }
}

/// Gamma(alpha, 1) draws; `alpha` holds one value or one per element.
pub fn gamma(shape: &[usize], alpha: &[f64], dtype: DType, seed: Option<u64>) -> Result<Tensor> {
    float_dtype("gamma", dtype)?;
    let n = crate::shape::checked_numel("gamma", shape)?;
    shape_params("gamma", "alpha", alpha, n)?;
    let key = next_key(seed);
    let t = Tensor::empty(shape, dtype)?;
    with_float!(dtype, T => fill::<T>(&t, |i| T::from_f64(ln_gamma_draw(param(alpha, i), key, i).exp())),
        _ => unreachable!());
    Ok(t)
}

/// Beta(alpha, beta) draws as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta), computed as
/// 1 / (1 + exp(ln Y - ln X)) so that small parameters give 0 or 1, never NaN.
pub fn beta(
    shape: &[usize],
    alpha: &[f64],
    beta: &[f64],
    dtype: DType,
    seed: Option<u64>,
) -> Result<Tensor> {
    float_dtype("beta", dtype)?;
    let n = crate::shape::checked_numel("beta", shape)?;
    shape_params("beta", "alpha", alpha, n)?;
    shape_params("beta", "beta", beta, n)?;
    let key = next_key(seed);
    let key_y = mix(key ^ 0xB57A_B57A_B57A_B57A);
    let t = Tensor::empty(shape, dtype)?;
    with_float!(dtype, T => fill::<T>(&t, |i| {
        let lx = ln_gamma_draw(param(alpha, i), key, i);
        let ly = ln_gamma_draw(param(beta, i), key_y, i);
        T::from_f64(1.0 / (1.0 + (ly - lx).exp()))
    }), _ => unreachable!());
    Ok(t)
}

/// A random permutation of 0..n (Fisher-Yates driven by the counter generator).
pub fn permutation(n: usize, seed: Option<u64>) -> Result<Tensor> {
    let key = next_key(seed);
    crate::shape::checked_numel("permutation", &[n])?;
    let mut v = crate::alloc::try_vec("permutation", n)?;
    v.extend(0..n as i64);
    for i in (1..n).rev() {
        let j = ((bits(key, i as u64) as u128 * (i as u128 + 1)) >> 64) as usize;
        v.swap(i, j);
    }
    Tensor::from_vec(v, &[n])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(t: &Tensor) -> (f64, f64) {
        let v: Vec<f64> = t.to_vec::<f64>().unwrap();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
        (m, var)
    }

    #[test]
    fn gamma_moments_match_alpha() {
        // Gamma(a, 1): mean a, variance a; 200k draws give ~0.3% relative error on the mean.
        for &a in &[0.05, 0.3, 1.0, 3.7, 50.0] {
            let t = gamma(&[200_000], &[a], DType::F64, Some(7)).unwrap();
            let (m, var) = stats(&t);
            assert!((m - a).abs() < 0.02 * a + 1e-3, "alpha {a}: mean {m}");
            assert!(
                (var - a).abs() < 0.05 * a + 1e-3,
                "alpha {a}: variance {var}"
            );
        }
    }

    #[test]
    fn beta_moments_and_tiny_parameters() {
        for &(a, b) in &[(0.2, 0.2), (2.0, 5.0), (0.5, 3.0), (30.0, 1.0)] {
            let t = beta(&[200_000], &[a], &[b], DType::F64, Some(3)).unwrap();
            let (m, var) = stats(&t);
            let want_m = a / (a + b);
            let want_var = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!(
                (m - want_m).abs() < 0.01,
                "beta({a},{b}) mean {m} vs {want_m}"
            );
            assert!(
                (var - want_var).abs() < 0.1 * want_var,
                "beta({a},{b}) var {var} vs {want_var}"
            );
        }
        // Gamma draws with alpha = 1e-4 underflow f64; the log-space ratio still gives 0 or 1.
        let t = beta(&[10_000], &[1e-4], &[1e-4], DType::F32, Some(1)).unwrap();
        let v = t.to_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
    }

    #[test]
    fn per_element_parameters_and_bad_values() {
        let t = gamma(&[2], &[1e-3, 1e3], DType::F64, Some(5)).unwrap();
        let v = t.to_vec::<f64>().unwrap();
        assert!(v[0] < 1.0 && v[1] > 800.0, "{v:?}");
        assert!(gamma(&[3], &[1.0, 2.0], DType::F32, None).is_err());
        assert!(gamma(&[3], &[0.0], DType::F32, None).is_err());
        assert!(gamma(&[3], &[f64::NAN], DType::F32, None).is_err());
        assert!(beta(&[3], &[1.0], &[-1.0], DType::F32, None).is_err());
        assert!(gamma(&[3], &[1.0], DType::I32, None).is_err());
        // a seed fixes the draw
        let a = beta(&[64], &[0.7], &[1.3], DType::F32, Some(11)).unwrap();
        let b = beta(&[64], &[0.7], &[1.3], DType::F32, Some(11)).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    }
}
