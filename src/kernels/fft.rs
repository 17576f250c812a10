//! Complex discrete Fourier transforms over the last axis of `[rows, n, 2]` buffers (real and
//! imaginary parts interleaved), in f64 whatever the storage type.
//!
//! `X_k = scale * sum_j x_j exp(sign * 2 pi i j k / n)` with `sign = -1` (forward) or `+1`
//! (inverse). Power-of-two lengths run an iterative radix-2 transform; other lengths use
//! Bluestein's chirp-z algorithm (a length-`n` DFT as a circular convolution of power-of-two
//! length `m >= 2n - 1`), so every length costs O(n log n). The plan (twiddles, chirp and the
//! chirp's transform) is built once per call and shared by the rows; rows run in parallel, each
//! thread with its own scratch buffers, so the result does not depend on the thread count.

use std::f64::consts::PI;

use crate::alloc::try_vec;
use crate::dtype::Element;
use crate::error::Result;
use crate::kernels::iter::SendPtr;

/// A power-of-two transform on split real/imaginary arrays: the bit-reversal table, and for each
/// butterfly span `h` (1, 2, 4, ..., n/2) its twiddles `exp(sign pi i k / h)`, k < h, stored
/// contiguously at offset `h - 1`, so each stage's inner loop reads them in order and vectorizes.
struct Radix2 {
    n: usize,
    rev: Vec<usize>,
    twr: Vec<f64>,
    twi: Vec<f64>,
}

/// `n` zeros, or a `Memory` error (a huge length must raise MemoryError, not abort).
fn zeros(n: usize) -> Result<Vec<f64>> {
    let mut v = try_vec::<f64>("fft", n)?;
    v.resize(n, 0.0);
    Ok(v)
}

impl Radix2 {
    fn new(n: usize, sign: f64) -> Result<Radix2> {
        debug_assert!(n.is_power_of_two());
        let bits = n.trailing_zeros();
        let mut rev = try_vec::<usize>("fft", n)?;
        rev.extend((0..n).map(|i| {
            if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            }
        }));
        let (mut twr, mut twi) = (zeros(n.max(1) - 1)?, zeros(n.max(1) - 1)?);
        let mut h = 1;
        while h < n {
            for k in 0..h {
                let t = sign * PI * k as f64 / h as f64;
                twr[h - 1 + k] = t.cos();
                twi[h - 1 + k] = t.sin();
            }
            h *= 2;
        }
        Ok(Radix2 { n, rev, twr, twi })
    }

    /// In-place unscaled transform of (`re`, `im`), each of length n.
    fn run(&self, re: &mut [f64], im: &mut [f64]) {
        let n = self.n;
        for i in 0..n {
            let j = self.rev[i];
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        if n >= 2 {
            for (r, m) in re.chunks_exact_mut(2).zip(im.chunks_exact_mut(2)) {
                let (ar, ai, br, bi) = (r[0], m[0], r[1], m[1]);
                r[0] = ar + br;
                m[0] = ai + bi;
                r[1] = ar - br;
                m[1] = ai - bi;
            }
        }
        let mut h = 2;
        while h < n {
            let (wr, wi) = (&self.twr[h - 1..2 * h - 1], &self.twi[h - 1..2 * h - 1]);
            for (r, m) in re.chunks_exact_mut(2 * h).zip(im.chunks_exact_mut(2 * h)) {
                let (lr, hr) = r.split_at_mut(h);
                let (li, hi) = m.split_at_mut(h);
                for k in 0..h {
                    let (xr, xi) = (hr[k], hi[k]);
                    let br = xr * wr[k] - xi * wi[k];
                    let bi = xr * wi[k] + xi * wr[k];
                    let (ar, ai) = (lr[k], li[k]);
                    lr[k] = ar + br;
                    li[k] = ai + bi;
                    hr[k] = ar - br;
                    hi[k] = ai - bi;
                }
            }
            h *= 2;
        }
    }
}

/// Bluestein: `X_k = c_k sum_j (x_j c_j) conj(c_{k-j})` with the chirp `c_j = exp(sign pi i j^2 / n)`,
/// the sum a circular convolution of length `m` done with two radix-2 transforms.
struct Bluestein {
    cr: Vec<f64>,
    ci: Vec<f64>,
    /// The forward transform of the conjugate chirp, laid out for circular convolution, over m.
    hr: Vec<f64>,
    hi: Vec<f64>,
    fwd: Radix2,
    inv: Radix2,
}

impl Bluestein {
    fn new(n: usize, sign: f64) -> Result<Bluestein> {
        let m = (2 * n - 1).next_power_of_two();
        // j^2 mod 2n keeps the angle small (exp is 2n-periodic in j^2 here)
        let two_n = 2 * n as u128;
        let (mut cr, mut ci) = (zeros(n)?, zeros(n)?);
        for j in 0..n {
            let q = (j as u128 * j as u128 % two_n) as f64;
            let t = sign * PI * q / n as f64;
            cr[j] = t.cos();
            ci[j] = t.sin();
        }
        let fwd = Radix2::new(m, -1.0)?;
        let inv = Radix2::new(m, 1.0)?;
        let (mut hr, mut hi) = (zeros(m)?, zeros(m)?);
        hr[0] = cr[0];
        hi[0] = -ci[0];
        for t in 1..n {
            hr[t] = cr[t];
            hi[t] = -ci[t];
            hr[m - t] = cr[t];
            hi[m - t] = -ci[t];
        }
        fwd.run(&mut hr, &mut hi);
        Ok(Bluestein {
            cr,
            ci,
            hr,
            hi,
            fwd,
            inv,
        })
    }

    /// Unscaled transform of (`re`, `im`) (length n) in place, with work arrays of length m.
    fn run(&self, re: &mut [f64], im: &mut [f64], wr: &mut [f64], wi: &mut [f64]) {
        let n = self.cr.len();
        let m = wr.len();
        for j in 0..m {
            if j < n {
                let (a, b, c, d) = (re[j], im[j], self.cr[j], self.ci[j]);
                wr[j] = a * c - b * d;
                wi[j] = a * d + b * c;
            } else {
                wr[j] = 0.0;
                wi[j] = 0.0;
            }
        }
        self.fwd.run(wr, wi);
        for j in 0..m {
            let (a, b, c, d) = (wr[j], wi[j], self.hr[j], self.hi[j]);
            wr[j] = a * c - b * d;
            wi[j] = a * d + b * c;
        }
        self.inv.run(wr, wi);
        let inv_m = 1.0 / m as f64;
        for k in 0..n {
            let (a, b, c, d) = (wr[k], wi[k], self.cr[k], self.ci[k]);
            re[k] = (a * c - b * d) * inv_m;
            im[k] = (a * d + b * c) * inv_m;
        }
    }
}

enum Plan {
    Radix2(Radix2),
    Bluestein(Bluestein),
}

impl Plan {
    fn new(n: usize, inverse: bool) -> Result<Plan> {
        let sign = if inverse { 1.0 } else { -1.0 };
        Ok(if n.is_power_of_two() {
            Plan::Radix2(Radix2::new(n, sign)?)
        } else {
            Plan::Bluestein(Bluestein::new(n, sign)?)
        })
    }

    fn work_len(&self) -> usize {
        match self {
            Plan::Radix2(_) => 0,
            Plan::Bluestein(b) => b.fwd.n,
        }
    }

    fn run(&self, re: &mut [f64], im: &mut [f64], wr: &mut [f64], wi: &mut [f64]) {
        match self {
            Plan::Radix2(r) => r.run(re, im),
            Plan::Bluestein(b) => b.run(re, im, wr, wi),
        }
    }
}

/// Transforms `rows` rows of `n` interleaved complex values from `src` into `dst` (both
/// `rows * n * 2` elements), multiplying by `scale`. `n >= 1`. Fails (a `Memory` error, `dst`
/// then partly written) when the plan or a task's work buffers cannot be allocated.
///
/// # Safety
/// `src` and `dst` must be valid for `rows * n * 2` elements and must not overlap.
pub unsafe fn fft_rows<T: Element>(
    src: *const T,
    dst: *mut T,
    rows: usize,
    n: usize,
    inverse: bool,
    scale: f64,
) -> Result<()> {
    if rows == 0 || n == 0 {
        return Ok(());
    }
    let plan = Plan::new(n, inverse)?;
    let wl = plan.work_len();
    let (sp, dp) = (SendPtr(src as *mut T), SendPtr(dst));
    // rows per task: about 16k complex values of work each
    let per = (16_384 / n).clamp(1, rows);
    let tasks = rows.div_ceil(per);
    // The first task whose work buffers could not be allocated (its rows are left unwritten
    // and the call fails).
    let failed = std::sync::Mutex::new(None);
    let body = |t: usize| {
        let bufs =
            (|| Ok::<_, crate::error::Error>((zeros(n)?, zeros(n)?, zeros(wl)?, zeros(wl)?)))();
        let (mut re, mut im, mut wr, mut wi) = match bufs {
            Ok(b) => b,
            Err(e) => {
                let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                return;
            }
        };
        for r in t * per..((t + 1) * per).min(rows) {
            // SAFETY: row r lies inside both buffers; tasks write disjoint rows.
            unsafe {
                let s = sp.get().add(r * n * 2) as *const T;
                for j in 0..n {
                    re[j] = (*s.add(2 * j)).to_f64();
                    im[j] = (*s.add(2 * j + 1)).to_f64();
                }
                plan.run(&mut re, &mut im, &mut wr, &mut wi);
                let d = dp.get().add(r * n * 2);
                for j in 0..n {
                    *d.add(2 * j) = T::from_f64(re[j] * scale);
                    *d.add(2 * j + 1) = T::from_f64(im[j] * scale);
                }
            }
        }
    };
    if tasks > 1 && crate::threading::should_parallelize(rows * n, crate::threading::GRAIN / 8) {
        crate::threading::for_each_task(tasks, body);
    } else {
        (0..tasks).for_each(body);
    }
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_too_big_for_memory_are_errors_not_aborts() {
        for n in [1usize << 58, (1usize << 57) + 3] {
            for inverse in [false, true] {
                let err = Plan::new(n, inverse)
                    .err()
                    .expect("no memory for this plan");
                assert!(err.to_string().contains("fft"), "{err}");
            }
        }
    }

    /// The O(n^2) definition, in f64.
    fn naive(x: &[f64], n: usize, inverse: bool) -> Vec<f64> {
        let sign = if inverse { 1.0 } else { -1.0 };
        let mut out = vec![0.0; 2 * n];
        for k in 0..n {
            let (mut re, mut im) = (0.0, 0.0);
            for j in 0..n {
                let t = sign * 2.0 * PI * ((j * k) % n) as f64 / n as f64;
                let (c, s) = (t.cos(), t.sin());
                re += x[2 * j] * c - x[2 * j + 1] * s;
                im += x[2 * j] * s + x[2 * j + 1] * c;
            }
            out[2 * k] = re;
            out[2 * k + 1] = im;
        }
        out
    }

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_the_definition_on_awkward_lengths() {
        for &n in &[1usize, 2, 3, 5, 7, 8, 12, 17, 64, 100, 127, 1000, 1024] {
            for &inverse in &[false, true] {
                let rows = 3;
                let x = data(rows * n * 2, n as u64);
                let mut y = vec![0.0f64; x.len()];
                unsafe { fft_rows(x.as_ptr(), y.as_mut_ptr(), rows, n, inverse, 1.0).unwrap() };
                for r in 0..rows {
                    let want = naive(&x[r * 2 * n..(r + 1) * 2 * n], n, inverse);
                    let got = &y[r * 2 * n..(r + 1) * 2 * n];
                    let err = want
                        .iter()
                        .zip(got)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(err < 1e-9 * n as f64, "n={n} inverse={inverse} err={err}");
                }
            }
        }
    }

    #[test]
    fn inverse_undoes_forward_in_f32_with_many_rows() {
        // enough rows to run threaded
        let (rows, n) = (300, 30);
        let x: Vec<f32> = data(rows * n * 2, 9).iter().map(|&v| v as f32).collect();
        let mut y = vec![0.0f32; x.len()];
        let mut z = vec![0.0f32; x.len()];
        unsafe {
            fft_rows(x.as_ptr(), y.as_mut_ptr(), rows, n, false, 1.0).unwrap();
            fft_rows(y.as_ptr(), z.as_mut_ptr(), rows, n, true, 1.0 / n as f64).unwrap();
        }
        let err = x
            .iter()
            .zip(&z)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "err={err}");
    }
}
