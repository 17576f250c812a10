//! Which instruction set the GEMM runs on: detected once per process, cached, and overridable on
//! the calling thread (tests and benches force each kernel the host supports) or for the process
//! with `FERROGRAD_GEMM_ISA=scalar|avx2|avx512` (read once, at the first GEMM; an ISA the CPU
//! lacks is ignored).
//!
//! The crate is built for generic x86-64, so AVX2 and AVX-512 code is only reachable through
//! `#[target_feature]` functions selected here at run time. A NEON kernel would slot in as a new
//! `Isa` variant, a detection branch in [`detect`] and an arm in `GemmScalar::kernel` /
//! `GemmScalar::gemv_kernel`; the tests then cover it through `supported_isas`. NEON does not
//! ship: it cannot be run or cross-built here.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Error, Result};

/// An instruction set with a GEMM micro-kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable Rust, no explicit SIMD: the fallback and the reference the SIMD kernels are
    /// tested against.
    Scalar,
    /// x86-64 AVX2 + FMA (256-bit vectors, 16 registers).
    Avx2,
    /// x86-64 AVX-512F (512-bit vectors, 32 registers); GEMV stays on the AVX2 kernel.
    Avx512,
}

impl Isa {
    /// Every ISA this build knows, fastest last.
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    /// Whether the running CPU can execute this ISA's kernels.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2 => avx2_fma_available(),
            Isa::Avx512 => avx512_available(),
        }
    }

    fn code(self) -> u8 {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 2,
            Isa::Avx512 => 3,
        }
    }

    fn from_code(c: u8) -> Option<Isa> {
        match c {
            1 => Some(Isa::Scalar),
            2 => Some(Isa::Avx2),
            3 => Some(Isa::Avx512),
            _ => None,
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2_fma_available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_fma_available() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn avx512_available() -> bool {
    avx2_fma_available() && is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512_available() -> bool {
    false
}

/// The ISA named by `FERROGRAD_GEMM_ISA`, when set, known and supported by this CPU.
fn from_env() -> Option<Isa> {
    let v = std::env::var("FERROGRAD_GEMM_ISA").ok()?;
    let isa = match v.trim().to_ascii_lowercase().as_str() {
        "scalar" => Isa::Scalar,
        "avx2" => Isa::Avx2,
        "avx512" => Isa::Avx512,
        _ => return None,
    };
    isa.is_supported().then_some(isa)
}

/// The ISAs the running CPU supports, scalar first.
pub fn supported_isas() -> Vec<Isa> {
    Isa::ALL
        .iter()
        .copied()
        .filter(|i| i.is_supported())
        .collect()
}

/// The best ISA of this CPU (detected on first call, then read from a cached atomic).
pub fn detect() -> Isa {
    static DETECTED: AtomicU8 = AtomicU8::new(0);
    if let Some(isa) = Isa::from_code(DETECTED.load(Ordering::Relaxed)) {
        return isa;
    }
    let isa = from_env().unwrap_or(if Isa::Avx512.is_supported() {
        Isa::Avx512
    } else if Isa::Avx2.is_supported() {
        Isa::Avx2
    } else {
        Isa::Scalar
    });
    DETECTED.store(isa.code(), Ordering::Relaxed);
    isa
}

thread_local! {
    // Per calling thread on purpose: a process-global override would let one test's forced
    // kernel leak into another test running in parallel (and break its bit-identity checks).
    static OVERRIDE: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// Forces the ISA for GEMMs started from the calling thread (`None` restores detection).
/// Fails, changing nothing, when the CPU cannot run `isa`.
pub fn set_isa_override(isa: Option<Isa>) -> Result<()> {
    if let Some(i) = isa {
        if !i.is_supported() {
            return Err(Error::value(
                "matmul",
                format!(
                    "ISA {i:?} is not supported by this CPU (supported: {:?})",
                    supported_isas()
                ),
            ));
        }
    }
    OVERRIDE.with(|o| o.set(isa));
    Ok(())
}

/// The ISA a GEMM started from this thread uses now.
pub fn active() -> Isa {
    OVERRIDE.with(|o| o.get()).unwrap_or_else(detect)
}
