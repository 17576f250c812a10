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
