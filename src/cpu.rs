//! Facts about the CPU that benchmarks report: an estimate of the core clock and the measured
//! floating-point peak.
//!
//! The GEMM benchmark states its throughput as a fraction of the machine's peak
//! (cores x FMA units x SIMD lanes x 2 flops x clock). The clock is the one figure no file on a
//! virtual machine gives reliably (`/proc/cpuinfo` shows the nominal 2.45-2.6 GHz of the host
//! part while cores boost well above it), so it is measured: a chain of dependent 64-bit integer
//! multiplications (`imul r64, r64`) has a latency of exactly 3 cycles on every x86-64 core in
//! use (AMD Zen 1-5, Intel since Nehalem, Golden Cove included), so timing a long chain gives
//! cycles per second.
//!
//! Rejected: a chain of `add reg, 1`. Intel's Golden Cove and later (Alder Lake P-cores,
//! Sapphire Rapids) fold additions of small immediates at register renaming, so several
//! "dependent" adds retire per cycle and the probe read 6-14 GHz there. A multiplication cannot
//! be folded that way and its latency has not changed in fifteen years of x86 cores.

/// Dependent multiplications per loop iteration (the loop counter runs in parallel on another
/// ALU, far from the critical path).
#[cfg(target_arch = "x86_64")]
const CHAIN: u64 = 8;

/// Latency in cycles of `imul r64, r64` on the x86-64 cores this probe targets.
#[cfg(target_arch = "x86_64")]
const IMUL_LATENCY: u64 = 3;

/// Estimates the clock of the calling thread's core in GHz: the best of `rounds` timings of
/// a chain of `CHAIN * iters` dependent multiplications (best, because a preempted round only reads
/// slower). None on architectures without the probe or when `rounds` or `iters` is zero.
pub fn measure_clock_ghz(rounds: usize, iters: u64) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        if rounds == 0 || iters == 0 {
            return None;
        }
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            // An odd multiplier keeps x from collapsing to zero (not that the hardware would
            // notice: x86 multipliers have no early exit on operand values).
            let mut x: u64 = std::hint::black_box(1);
            let m: u64 = std::hint::black_box(0x9E37_79B9_7F4A_7C15);
            let mut n: u64 = iters;
            // SAFETY: register-only arithmetic and a loop on `n`; no memory, no stack.
            unsafe {
                std::arch::asm!(
                    "2:",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "imul {x}, {m}",
                    "dec {n}",
                    "jnz 2b",
                    x = inout(reg) x,
                    m = in(reg) m,
                    n = inout(reg) n,
                    options(nomem, nostack),
                );
            }
            std::hint::black_box((x, n));
            best = best.min(start.elapsed().as_secs_f64());
        }
        if best > 0.0 {
            Some((IMUL_LATENCY * CHAIN * iters) as f64 / best / 1e9)
        } else {
            None
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rounds, iters);
        None
    }
}

/// Independent FMA chains per thread in the peak probe: enough to cover the FMA latency times the
/// pipes on every x86 core in use (4 cycles x 2 pipes = 8 chains; 12 for margin fit AVX2's 16
/// registers, AVX-512's 32 hold them all with room).
#[cfg(target_arch = "x86_64")]
const PEAK_CHAINS: usize = 12;

/// f32 FMA throughput of one thread in GFLOP/s: `iters` steps of `PEAK_CHAINS` independent FMAs on
/// the widest vectors the CPU has, timed. Register-only, so it measures the FMA pipes alone: the
/// ceiling a GEMM can approach, whatever the clock, the number of FMA units or the vector width
/// (Zen 4 issues a 512-bit FMA as two 256-bit halves, Intel server cores have two full 512-bit
/// pipes; the probe does not need to know).
#[cfg(target_arch = "x86_64")]
fn fma_thread_gflops(iters: u64) -> Option<f64> {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    unsafe fn run512(iters: u64) -> f32 {
        let m = _mm512_set1_ps(std::hint::black_box(0.999_999));
        let c = _mm512_set1_ps(std::hint::black_box(1e-7));
        let mut acc = [_mm512_set1_ps(1.0); PEAK_CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let mut s = _mm512_setzero_ps();
        for a in acc {
            s = _mm512_add_ps(s, a);
        }
        _mm512_reduce_add_ps(s)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn run256(iters: u64) -> f32 {
        let m = _mm256_set1_ps(std::hint::black_box(0.999_999));
        let c = _mm256_set1_ps(std::hint::black_box(1e-7));
        let mut acc = [_mm256_set1_ps(1.0); PEAK_CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        let mut out = [0f32; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), s);
        out.iter().sum()
    }

    let lanes = if is_x86_feature_detected!("avx512f") {
        16
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        8
    } else {
        return None;
    };
    let start = std::time::Instant::now();
    // SAFETY: the features were checked above; register-only arithmetic.
    let v = unsafe {
        if lanes == 16 {
            run512(iters)
        } else {
            run256(iters)
        }
    };
    std::hint::black_box(v);
    let secs = start.elapsed().as_secs_f64();
    (secs > 0.0).then(|| (iters as f64 * (PEAK_CHAINS * lanes * 2) as f64) / secs / 1e9)
}

/// The measured f32 FMA peak in GFLOP/s of `threads` threads running at once (the best of
/// `rounds` rounds of `iters` steps per thread, summed over the threads), or None without
/// AVX2/FMA (or off x86-64) or when `rounds`, `iters` or `threads` is zero.
///
/// The threads run through the kernels' own thread team, one task each; a task waits (at most
/// 200 ms) until every task has started, so the timed loops overlap and the figure is the
/// machine's, not one core's times two. A thread count above the team's size measures the team.
pub fn measure_fma_peak_gflops(threads: usize, rounds: usize, iters: u64) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        if threads == 0 || rounds == 0 || iters == 0 {
            return None;
        }
        let threads = threads.min(crate::threading::num_threads().max(1));
        let mut best: Option<f64> = None;
        for _ in 0..rounds {
            let started = AtomicUsize::new(0);
            let per_thread = Mutex::new(Vec::with_capacity(threads));
            let task = |_: usize| {
                started.fetch_add(1, Ordering::AcqRel);
                let t0 = std::time::Instant::now();
                while started.load(Ordering::Acquire) < threads
                    && t0.elapsed() < std::time::Duration::from_millis(200)
                {
                    std::hint::spin_loop();
                }
                let g = fma_thread_gflops(iters);
                if let Ok(mut v) = per_thread.lock() {
                    v.push(g);
                }
            };
            if threads == 1 {
                task(0);
            } else {
                crate::threading::for_each_task(threads, task);
            }
            let v = per_thread.into_inner().unwrap_or_else(|p| p.into_inner());
            let total: Option<f64> = v.into_iter().sum();
            if let Some(t) = total {
                best = Some(best.map_or(t, |b: f64| b.max(t)));
            }
        }
        best
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (threads, rounds, iters);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_estimate_is_plausible() {
        let est = measure_clock_ghz(3, 2_000_000);
        if cfg!(target_arch = "x86_64") {
            // Any real core runs between a few hundred MHz and ~7 GHz; a preempted test machine
            // only lowers the figure.
            let g = est.expect("the probe exists on x86-64");
            assert!(g > 0.05 && g < 8.0, "{g} GHz");
        } else {
            assert_eq!(est, None);
        }
        assert_eq!(measure_clock_ghz(0, 10), None);
    }

    #[test]
    fn fma_peak_is_plausible() {
        let one = measure_fma_peak_gflops(1, 2, 200_000);
        if cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("fma") {
            // 8-32 f32 FMA lanes per cycle at 0.05-7 GHz.
            let g = one.expect("the probe exists with FMA");
            assert!(g > 0.5 && g < 1000.0, "{g} GFLOP/s");
        }
        assert_eq!(measure_fma_peak_gflops(0, 1, 10), None);
        assert_eq!(measure_fma_peak_gflops(1, 0, 10), None);
        assert_eq!(measure_fma_peak_gflops(1, 1, 0), None);
    }
}
