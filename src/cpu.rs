//! Facts about the CPU that benchmarks report: an estimate of the core clock.
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
