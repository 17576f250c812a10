//! Bindings about the machine rather than tensors: which kernels run (SIMD ISA, GEMM blocking
//! and their overrides for tests and benchmarks), the clock and FMA-peak probes benchmarks report
//! against, and the caching allocator's state.

use super::errors::guard;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Forces the scalar reference kernels (tests); False restores automatic ISA selection.
#[pyfunction]
fn _set_force_scalar(on: bool) -> PyResult<()> {
    guard("_set_force_scalar", || {
        crate::kernels::simd::set_force_scalar(on);
        Ok(())
    })
}

/// The ISA kernels run on now: "avx2" or "scalar".
#[pyfunction]
fn simd_isa() -> PyResult<&'static str> {
    guard("simd_isa", || {
        Ok(match crate::kernels::simd::isa() {
            crate::kernels::simd::Isa::Avx2 => "avx2",
            crate::kernels::simd::Isa::Scalar => "scalar",
        })
    })
}

/// An estimate of the core clock in GHz (timed chain of dependent multiplications, best of
/// `rounds` rounds of `8 * iters` multiplications of 3 cycles each), or None where the probe does
/// not exist. For benchmarks. The work is bounded (rounds * iters <= 1e8, 2.4e9 cycles, under a
/// second on any core of 2.5 GHz or more) so a call cannot hang.
#[pyfunction]
#[pyo3(signature = (rounds = 5, iters = 5_000_000))]
fn _measure_clock_ghz(py: Python<'_>, rounds: usize, iters: u64) -> PyResult<Option<f64>> {
    guard("_measure_clock_ghz", || {
        const MAX_WORK: u64 = 100_000_000;
        if rounds == 0 || iters == 0 || (rounds as u64).saturating_mul(iters) > MAX_WORK {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "_measure_clock_ghz: expected rounds >= 1, iters >= 1 and rounds * iters <= {MAX_WORK}, \
             received rounds={rounds}, iters={iters}"
        )));
        }
        Ok(py.detach(|| crate::cpu::measure_clock_ghz(rounds, iters)))
    })
}

/// The measured f32 FMA peak in GFLOP/s of `threads` threads at once (best of `rounds` rounds of
/// `iters` steps of 12 independent FMAs per thread on the widest vectors), or None where the
/// probe does not exist. For benchmarks' "% of peak". Bounded like `_measure_clock_ghz`.
#[pyfunction]
#[pyo3(signature = (threads = 1, rounds = 5, iters = 2_000_000))]
fn _measure_fma_peak(
    py: Python<'_>,
    threads: usize,
    rounds: usize,
    iters: u64,
) -> PyResult<Option<f64>> {
    guard("_measure_fma_peak", || {
        const MAX_WORK: u64 = 100_000_000;
        if threads == 0
            || threads > 4096
            || rounds == 0
            || iters == 0
            || (rounds as u64).saturating_mul(iters) > MAX_WORK
        {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "_measure_fma_peak: expected 1 <= threads <= 4096, rounds >= 1, iters >= 1 and \
                 rounds * iters <= {MAX_WORK}, received threads={threads}, rounds={rounds}, \
                 iters={iters}"
            )));
        }
        Ok(py.detach(|| crate::cpu::measure_fma_peak_gflops(threads, rounds, iters)))
    })
}

/// Forces the GEMM cache blocking for products started from the calling thread:
/// `"mc,kc,nc,order"` (order `a`: A block in L2, `b`: B block in L2), or None to return to the
/// blocking derived from the caches. For benchmarks and experiments (the process-wide form is
/// the `FERROGRAD_GEMM_BLOCKING` environment variable).
#[pyfunction]
#[pyo3(signature = (spec = None))]
fn _set_gemm_blocking(spec: Option<&str>) -> PyResult<()> {
    guard("_set_gemm_blocking", || {
        let b = match spec {
            None => None,
            Some(s) => Some(
                crate::kernels::matmul::blocking::parse_override(s).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "_set_gemm_blocking: expected \"mc,kc,nc,order\" with sizes from 1 to \
                     1048576 and order a or b, received {s:?}"
                    ))
                })?,
            ),
        };
        crate::kernels::matmul::blocking::set_blocking_override(b);
        Ok(())
    })
}

/// The f32 GEMM's kernel and blocking on the calling thread, and the detected caches:
/// a dict with isa, mr, nr, mc, kc, nc, order ("a" or "b"), l1d, l2, l3 (bytes, 0 = unknown).
#[pyfunction]
fn _gemm_config(py: Python<'_>) -> PyResult<Py<pyo3::types::PyDict>> {
    guard("_gemm_config", || {
        use crate::kernels::matmul::{blocking, isa, GemmScalar};
        let k = <f32 as GemmScalar>::kernel(isa::active());
        let c = blocking::caches();
        let d = pyo3::types::PyDict::new(py);
        d.set_item("isa", format!("{:?}", k.isa).to_lowercase())?;
        d.set_item("mr", k.mr)?;
        d.set_item("nr", k.nr)?;
        d.set_item("mc", k.mc)?;
        d.set_item("kc", k.kc)?;
        d.set_item("nc", k.nc)?;
        let order = match k.order {
            blocking::Order::ABlockInL2 => "a",
            blocking::Order::BBlockInL2 => "b",
        };
        d.set_item("order", order)?;
        d.set_item("l1d", c.l1d)?;
        d.set_item("l2", c.l2)?;
        d.set_item("l3", c.l3)?;
        Ok(d.unbind())
    })
}

/// Frees the buffers held by the caching allocator.
#[pyfunction]
fn empty_cache() -> PyResult<()> {
    guard("empty_cache", || {
        crate::alloc::empty_cache();
        Ok(())
    })
}

/// (bytes cached, hits, misses) of the caching allocator.
#[pyfunction]
fn cache_stats() -> PyResult<(usize, u64, u64)> {
    guard("cache_stats", || Ok(crate::alloc::stats()))
}

/// Turns flushing of subnormal floats in the kernels on or off (see `fpmode.rs`); returns whether
/// the platform supports it.
#[pyfunction]
fn set_flush_denormal(mode: bool) -> PyResult<bool> {
    guard("set_flush_denormal", || {
        Ok(crate::fpmode::set_flush_denormal(mode))
    })
}

/// Whether the kernels flush subnormal floats to zero now.
#[pyfunction]
fn is_flush_denormal_enabled() -> PyResult<bool> {
    guard("is_flush_denormal_enabled", || {
        Ok(crate::fpmode::flush_denormal())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),*) => { $( m.add_function(wrap_pyfunction!($f, m)?)?; )* };
    }
    add!(
        _set_force_scalar,
        simd_isa,
        _measure_clock_ghz,
        _measure_fma_peak,
        _set_gemm_blocking,
        _gemm_config,
        empty_cache,
        cache_stats,
        set_flush_denormal,
        is_flush_denormal_enabled
    );
    Ok(())
}
