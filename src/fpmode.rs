//! Denormal handling for the kernels: flush-to-zero (FTZ) and denormals-are-zero (DAZ).
//!
//! Why: on x86 an arithmetic instruction that reads or produces a subnormal float takes a
//! microcode assist of about a hundred cycles per element. Training makes such values: gradients
//! of saturated units, Adam's moments decaying towards zero. keras.io's ViT on a 2-vCPU Emerald
//! Rapids had 2% subnormal gradients after three steps and its AdamW step ran 3x slower (330 ms
//! against 120 ms on the same weights with normal gradients); the GEMMs producing them slow down
//! the same way. TensorFlow and XLA run their CPU kernels with FTZ and DAZ set; ferrograd does the
//! same by default (`FERROGRAD_FLUSH_DENORMAL=0`, or `ferrograd.set_flush_denormal(False)`,
//! keeps IEEE subnormals, as PyTorch does by default).
//!
//! Scope: the mode is set around every binding call on the calling thread ([`Scope`]) and
//! restored afterwards, so Python and NumPy code on that thread keep IEEE behaviour. A parallel
//! call's task set carries its caller's bits and every thread runs the tasks in them, so results
//! stay bit-identical for any thread count whatever the entry point (Rust callers that never
//! enter a scope get IEEE subnormals on every thread). Other architectures: nothing to do (ARM's
//! equivalent is left at its default), and [`set_flush_denormal`] reports it unsupported.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

const FTZ: u32 = 1 << 15;
const DAZ: u32 = 1 << 6;

fn flag() -> &'static AtomicBool {
    static FLAG: OnceLock<AtomicBool> = OnceLock::new();
    FLAG.get_or_init(|| {
        let off = std::env::var("FERROGRAD_FLUSH_DENORMAL")
            .map(|v| matches!(v.trim(), "0" | "false" | "False" | "off"))
            .unwrap_or(false);
        AtomicBool::new(SUPPORTED && !off)
    })
}

/// Whether this build can flush subnormals (x86-64).
pub const SUPPORTED: bool = cfg!(target_arch = "x86_64");

/// Turns flushing on or off for every later kernel; returns whether the platform supports it
/// (off is always honoured).
pub fn set_flush_denormal(on: bool) -> bool {
    flag().store(on && SUPPORTED, Ordering::Relaxed);
    SUPPORTED
}

/// Whether kernels flush subnormals now.
pub fn flush_denormal() -> bool {
    flag().load(Ordering::Relaxed)
}

#[cfg(target_arch = "x86_64")]
fn read_csr() -> u32 {
    let mut v: u32 = 0;
    // SAFETY: stmxcsr stores the 32-bit MXCSR to the given address; no other effect.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags)) };
    v
}

#[cfg(target_arch = "x86_64")]
fn write_csr(v: u32) {
    // SAFETY: ldmxcsr loads MXCSR; `v` is a value read from MXCSR with only FTZ/DAZ changed, so
    // no reserved bit is set (which would fault).
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, readonly, preserves_flags))
    };
}

/// A thread's FTZ/DAZ bits (zero where the platform has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits(u32);

impl Bits {
    /// The calling thread's bits.
    pub fn current() -> Bits {
        #[cfg(target_arch = "x86_64")]
        return Bits(read_csr() & (FTZ | DAZ));
        #[cfg(not(target_arch = "x86_64"))]
        Bits(0)
    }

    /// The bits of the global mode ([`flush_denormal`]).
    fn of_mode() -> Bits {
        Bits(if flush_denormal() { FTZ | DAZ } else { 0 })
    }
}

/// Sets this thread's FTZ/DAZ bits while alive; restores the previous bits on drop.
pub struct Scope {
    #[cfg(target_arch = "x86_64")]
    saved: Option<u32>,
}

impl Scope {
    /// The global mode: around every binding call (module note).
    #[inline]
    pub fn enter() -> Scope {
        Scope::with(Bits::of_mode())
    }

    /// Exactly `bits` (a task set runs in its caller's mode on every thread).
    #[inline]
    pub fn with(bits: Bits) -> Scope {
        #[cfg(target_arch = "x86_64")]
        {
            let old = read_csr();
            let want = (old & !(FTZ | DAZ)) | bits.0;
            if want != old {
                write_csr(want);
                return Scope { saved: Some(old) };
            }
            Scope { saved: None }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = bits;
            Scope {}
        }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if let Some(old) = self.saved {
            write_csr(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_flushes_and_restores() {
        let before_mode = flush_denormal();
        let tiny = f32::MIN_POSITIVE; // smallest normal
        let x = std::hint::black_box(tiny);
        set_flush_denormal(true);
        let flushed = {
            let _s = Scope::enter();
            std::hint::black_box(x) * std::hint::black_box(0.5f32)
        };
        let ieee = std::hint::black_box(x) * std::hint::black_box(0.5f32);
        set_flush_denormal(false);
        let kept = {
            let _s = Scope::enter();
            std::hint::black_box(x) * std::hint::black_box(0.5f32)
        };
        set_flush_denormal(before_mode);
        assert!(
            ieee > 0.0 && kept == ieee,
            "outside a scope and with the mode off: IEEE subnormals"
        );
        if SUPPORTED {
            assert_eq!(flushed, 0.0, "FTZ inside the scope");
        }
    }
}
