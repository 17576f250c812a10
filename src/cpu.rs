//! Facts about the CPU that benchmarks report: an estimate of the core clock.
//!
//! The GEMM benchmark states its throughput as a fraction of the machine's peak
//! (cores x FMA units x SIMD lanes x 2 flops x clock). The clock is the one figure no file on a
//! virtual machine gives reliably (`/proc/cpuinfo` shows the nominal 2.45-2.6 GHz of the host
//! part while cores boost well above it), so it is measured: a chain of dependent integer
//! additions retires one per cycle on every x86-64 core in use, so timing a long chain gives
//! cycles per second.

/// Dependent additions per loop iteration (the loop counter runs in parallel on another ALU).
#[cfg(target_arch = "x86_64")]
const CHAIN: u64 = 8;

/// Estimates the clock of the calling thread's core in GHz: the best of `rounds` timings of
/// a chain of `CHAIN * iters` dependent additions (best, because a preempted round only reads
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
            let mut x: u64 = 0;
            let mut n: u64 = iters;
            // SAFETY: register-only arithmetic and a loop on `n`; no memory, no stack.
            unsafe {
                std::arch::asm!(
                    "2:",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "add {x}, 1",
                    "dec {n}",
                    "jnz 2b",
                    x = inout(reg) x,
                    n = inout(reg) n,
                    options(nomem, nostack),
                );
            }
            std::hint::black_box((x, n));
            best = best.min(start.elapsed().as_secs_f64());
        }
        if best > 0.0 {
            Some((CHAIN * iters) as f64 / best / 1e9)
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
}
