//! Run-time ISA selection.
//!
//! Kernels are written once as `#[inline(always)]` generic Rust and compiled twice: inside a
//! `#[target_feature(enable = "avx2,fma")]` wrapper (the compiler vectorises with 256-bit
//! registers) and as plain code (the scalar reference, SSE2 at most on x86-64). The choice is made
//! once from CPUID and cached, so a wheel built for generic x86-64 still runs AVX2 code on an AVX2
//! machine. Tests force the scalar path with [`set_force_scalar`] and compare bit for bit.
//! On aarch64, NEON is part of the base ISA, so the plain build is already vectorised.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// The instruction sets kernels are specialised for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Isa {
    Scalar,
    Avx2,
}

static FORCE_SCALAR: AtomicU8 = AtomicU8::new(0);

fn detected() -> Isa {
    static D: OnceLock<Isa> = OnceLock::new();
    *D.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Scalar
    })
}

/// The ISA kernels use now.
#[inline]
pub fn isa() -> Isa {
    if FORCE_SCALAR.load(Ordering::Relaxed) != 0 {
        Isa::Scalar
    } else {
        detected()
    }
}

/// The best ISA this CPU supports (ignoring the override).
pub fn best_isa() -> Isa {
    detected()
}

#[inline]
pub fn use_avx2() -> bool {
    isa() == Isa::Avx2
}

/// Whether kernels built with [`simd_fn!`]'s `avx512` form take their AVX-512 build: the AVX2
/// build is in use (so not forced scalar) and the GEMM's ISA choice is AVX-512 (so
/// `FERROGRAD_GEMM_ISA=avx2` turns it off too). Cached after the first call.
#[inline]
pub fn use_avx512() -> bool {
    static D: OnceLock<bool> = OnceLock::new();
    use_avx2() && *D.get_or_init(|| super::matmul::isa::detect() == super::matmul::isa::Isa::Avx512)
}

/// Forces the scalar reference kernels (for tests); `false` restores automatic selection.
pub fn set_force_scalar(force: bool) {
    FORCE_SCALAR.store(force as u8, Ordering::Relaxed);
}

/// Defines `pub fn $name<T: Bound>(args)` that runs `$imp::<T>(args)` compiled for the best ISA.
#[macro_export]
macro_rules! simd_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident<$T:ident : $($bound:path)|+>($($a:ident : $t:ty),* $(,)?) $(-> $ret:ty)? => $imp:ident) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$T: $($bound +)+>($($a: $t),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2<$T: $($bound +)+>($($a: $t),*) $(-> $ret)? {
                    $imp::<$T>($($a),*)
                }
                if $crate::kernels::simd::use_avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
                    return unsafe { avx2::<$T>($($a),*) };
                }
            }
            $imp::<$T>($($a),*)
        }
    };
    // The same, plus a build with AVX-512 enabled (taken first where `use_avx512()`): worth it
    // for compute-bound loops (transcendental gate math), where 16 lanes halve the time. The
    // source has no `mul_add`, so every build still computes bit-identical results.
    ($(#[$m:meta])* $vis:vis fn $name:ident<$T:ident : $($bound:path)|+>($($a:ident : $t:ty),* $(,)?) $(-> $ret:ty)? => $imp:ident, avx512) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<$T: $($bound +)+>($($a: $t),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512<$T: $($bound +)+>($($a: $t),*) $(-> $ret)? {
                    $imp::<$T>($($a),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2<$T: $($bound +)+>($($a: $t),*) $(-> $ret)? {
                    $imp::<$T>($($a),*)
                }
                if $crate::kernels::simd::use_avx512() {
                    // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked at run time).
                    return unsafe { avx512::<$T>($($a),*) };
                }
                if $crate::kernels::simd::use_avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked at run time).
                    return unsafe { avx2::<$T>($($a),*) };
                }
            }
            $imp::<$T>($($a),*)
        }
    };
}
