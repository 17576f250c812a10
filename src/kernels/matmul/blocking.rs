//! Cache blocking of the packed GEMM, derived at run time from the cache sizes of the CPU.
//!
//! Two loop orders share the packing and the micro-kernels (`loops.rs`):
//! - [`Order::ABlockInL2`] (BLIS's order): an `mc x kc` A block stays in L2 while one `kc x nr`
//!   B micro-panel at a time sits in L1 and every A micro-panel of the block streams past it.
//!   Right for small private L2 caches (AMD Zen 3: 512 KiB, Zen 4: 1 MiB), where it was measured
//!   (the constants in `micro/avx2.rs` and `micro/avx512.rs`, notes in `matmul/mod.rs`).
//! - [`Order::BBlockInL2`]: a `kc x nc` B block stays in L2 while one `mr x kc` A micro-panel at
//!   a time sits in L1 and every B micro-panel of the block streams past it; A is packed in large
//!   blocks (L3). Right for large L2 caches (Intel Sapphire/Emerald Rapids: 2 MiB, 48 KiB L1d):
//!   the B micro-panel of the other order (`kc * nr` values, 32 KiB at kc = 256) fills two thirds
//!   of L1 and is evicted by the A stream, while here the L1 holds a 16 KiB A panel and the B
//!   stream comes from L2 at 16 bytes per cycle, a quarter of its bandwidth.
//!
//! # The rule (`size` = bytes per value)
//! - `kc` for [`Order::BBlockInL2`]: the A micro-panel takes at most a third of L1d
//!   (`mr * kc * size <= l1d / 3`), rounded down to a multiple of 64, capped at 512; below 256
//!   the order is not used (C would be read and written twice as often per flop).
//! - `nc`: the B block takes at most half of L2 (`kc * nc * size <= l2 / 2`), the other half for
//!   C tiles, the A stream and the other thread's data; a multiple of `nr`.
//! - The order is [`Order::BBlockInL2`] only when that `nc` still holds at least 16 B micro-panels
//!   (each A micro-panel fetched from L3 then serves 16 micro-kernel calls, enough to hide its
//!   fetch): L2 >= 2 * kc * 16 * nr * size, 2 MiB for the AVX-512 f32 kernel (kc = 512, nr = 32).
//!   Otherwise the kernel's measured [`Order::ABlockInL2`] blocking is kept.
//! - `mc` for [`Order::BBlockInL2`]: A blocks of at most 4 MiB (`mc * kc * size`), a multiple of
//!   `mr`, so one block covers the rows of most products and A is packed once per depth block.
//!
//! Measured on a 2-vCPU Intel Xeon (family 6 model 207, Emerald Rapids: 48 KiB L1d, 2 MiB L2),
//! one thread, the 8x32 AVX-512 micro-kernel, a stand-alone five-loop driver timing the kernel
//! calls only (best of 7, GFLOP/s; the FMA peak probe measured 170-177): n = 2048, ABlockInL2
//! (mc, kc, nc) = (144, 256, 4064): 137-144; (480, 256, 4096): 134-144; (144, 384, 4096): 134-139;
//! BBlockInL2 (2048, 256, 1024): 155; (2048, 512, 512): 162-164; (2048, 384, 768): 164;
//! (2048, 512, 1024), a 2 MiB B block: 125. The kernel alone on L1-resident panels: 172-174.
//!
//! Determinism: the blocking is fixed per process (CPU and overrides), never by the thread count
//! or the shapes' split, so results stay bit-identical for any thread count. Different machines
//! may block the depth differently (`kc`), which changes rounding, as any BLAS does.
//!
//! Overrides: `FERROGRAD_GEMM_BLOCKING=mc,kc,nc,order` (order `a` or `b`; read once) for the
//! process, [`set_blocking_override`] for the calling thread (tests force both orders and tiny
//! blocks on any machine).

use std::cell::Cell;
use std::sync::OnceLock;

use super::micro::Kernel;

/// Which packed block stays in L2 (see the module note).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// A block (`mc x kc`) in L2, B micro-panel in L1; micro-tiles walk down A inside.
    ABlockInL2,
    /// B block (`kc x nc`) in L2, A micro-panel in L1; micro-tiles walk along B inside.
    BBlockInL2,
}

/// The cache blocking of one kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Blocking {
    pub mc: usize,
    pub kc: usize,
    pub nc: usize,
    pub order: Order,
}

/// Data cache sizes of one core, in bytes (0 = unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Caches {
    pub l1d: usize,
    pub l2: usize,
    pub l3: usize,
}

/// The caches of the core running the process, read once: CPUID (leaf 4 on Intel,
/// 0x8000001D on AMD), else Linux's sysfs, else unknown (zeros).
pub fn caches() -> Caches {
    static CACHES: OnceLock<Caches> = OnceLock::new();
    *CACHES.get_or_init(|| {
        let c = cpuid_caches();
        if c.l1d > 0 && c.l2 > 0 {
            c
        } else {
            sysfs_caches()
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn cpuid_caches() -> Caches {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // CPUID exists on every x86-64 CPU; leaves above the reported maxima are never asked.
    let l0 = __cpuid(0);
    let amd = l0.ebx == 0x6874_7541; // "Auth"enticAMD
    let hygon = l0.ebx == 0x6f67_7948; // "Hygo"nGenuine
    let (max_std, max_ext, vendor_amd) = (l0.eax, __cpuid(0x8000_0000).eax, amd || hygon);
    let leaf = if vendor_amd {
        (max_ext >= 0x8000_001D).then_some(0x8000_001D)
    } else {
        (max_std >= 4).then_some(4)
    };
    let mut out = Caches::default();
    let Some(leaf) = leaf else { return out };
    for sub in 0..16 {
        let r = __cpuid_count(leaf, sub);
        let kind = r.eax & 0x1F; // 0 = no more caches, 1 = data, 2 = instruction, 3 = unified
        if kind == 0 {
            break;
        }
        if kind == 2 {
            continue;
        }
        let level = (r.eax >> 5) & 0x7;
        let ways = ((r.ebx >> 22) & 0x3FF) as usize + 1;
        let parts = ((r.ebx >> 12) & 0x3FF) as usize + 1;
        let line = (r.ebx & 0xFFF) as usize + 1;
        let sets = r.ecx as usize + 1;
        let size = ways * parts * line * sets;
        match level {
            1 => out.l1d = size,
            2 => out.l2 = size,
            3 => out.l3 = size,
            _ => {}
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
fn cpuid_caches() -> Caches {
    Caches::default()
}

/// Cache sizes from `/sys/devices/system/cpu/cpu0/cache/index*/{level,type,size}`.
fn sysfs_caches() -> Caches {
    let mut out = Caches::default();
    for i in 0..8 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
        else {
            continue;
        };
        if kind.trim() == "Instruction" {
            continue;
        }
        let size = parse_size(size.trim()).unwrap_or(0);
        match level.trim() {
            "1" => out.l1d = size,
            "2" => out.l2 = size,
            "3" => out.l3 = size,
            _ => {}
        }
    }
    out
}

/// "48K", "2048K", "32M" or a plain byte count.
fn parse_size(s: &str) -> Option<usize> {
    let (num, mul) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1 << 10),
        b'M' | b'm' => (&s[..s.len() - 1], 1 << 20),
        b'G' | b'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<usize>().ok()?.checked_mul(mul)
}

/// The blocking for a kernel of tile `mr x nr` on values of `size` bytes, given the caches and
/// the kernel's measured [`Order::ABlockInL2`] blocking `measured` (the rule of the module note).
pub fn derive(mr: usize, nr: usize, size: usize, caches: Caches, measured: Blocking) -> Blocking {
    if caches.l1d == 0 || caches.l2 == 0 || mr == 0 || nr == 0 || size == 0 {
        return measured;
    }
    let kc = (caches.l1d / 3 / (mr * size)) / 64 * 64;
    let kc = kc.min(512);
    if kc < 256 {
        return measured;
    }
    let nc = (caches.l2 / 2 / (kc * size)) / nr * nr;
    if nc < 16 * nr {
        return measured;
    }
    let mc = ((4 << 20) / (kc * size)) / mr * mr;
    Blocking {
        mc: mc.max(mr),
        kc,
        nc,
        order: Order::BBlockInL2,
    }
}

/// `FERROGRAD_GEMM_BLOCKING=mc,kc,nc,order`, when set and well formed (read once).
fn from_env() -> Option<Blocking> {
    static ENV: OnceLock<Option<Blocking>> = OnceLock::new();
    *ENV.get_or_init(|| parse_override(&std::env::var("FERROGRAD_GEMM_BLOCKING").ok()?))
}

/// Parses "mc,kc,nc,order" (positive sizes, order `a` or `b`).
pub fn parse_override(s: &str) -> Option<Blocking> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [mc, kc, nc, order] = parts.as_slice() else {
        return None;
    };
    let size = |v: &str| v.parse::<usize>().ok().filter(|&x| x > 0 && x <= 1 << 20);
    let order = match order.to_ascii_lowercase().as_str() {
        "a" => Order::ABlockInL2,
        "b" => Order::BBlockInL2,
        _ => return None,
    };
    Some(Blocking {
        mc: size(mc)?,
        kc: size(kc)?,
        nc: size(nc)?,
        order,
    })
}

thread_local! {
    // Per thread, like the ISA override, so one test's forced blocking never reaches another.
    static OVERRIDE: Cell<Option<Blocking>> = const { Cell::new(None) };
}

/// Forces the blocking of GEMMs started from the calling thread (`None` restores the derived
/// one). `mc` and `nc` are rounded up to the kernel's tile; any positive sizes work (tests).
pub fn set_blocking_override(b: Option<Blocking>) {
    OVERRIDE.with(|o| o.set(b));
}

/// `kern` with the blocking this thread's GEMMs use: the thread's override, else the process
/// override, else the one derived from the caches.
pub fn apply<T>(mut kern: Kernel<T>) -> Kernel<T> {
    let measured = Blocking {
        mc: kern.mc,
        kc: kern.kc,
        nc: kern.nc,
        order: Order::ABlockInL2,
    };
    let b = OVERRIDE
        .with(|o| o.get())
        .or_else(from_env)
        .unwrap_or_else(|| {
            derive(
                kern.mr,
                kern.nr,
                std::mem::size_of::<T>(),
                caches(),
                measured,
            )
        });
    kern.mc = b.mc.div_ceil(kern.mr) * kern.mr;
    kern.kc = b.kc;
    kern.nc = b.nc.div_ceil(kern.nr) * kern.nr;
    kern.order = b.order;
    if b.order == Order::BBlockInL2 {
        kern.micro = kern.micro_streaming_b;
    }
    kern
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZEN4: Caches = Caches {
        l1d: 32 << 10,
        l2: 1 << 20,
        l3: 32 << 20,
    };
    const SPR: Caches = Caches {
        l1d: 48 << 10,
        l2: 2 << 20,
        l3: 105 << 20,
    };
    const MEASURED: Blocking = Blocking {
        mc: 144,
        kc: 256,
        nc: 4064,
        order: Order::ABlockInL2,
    };

    #[test]
    fn rule_keeps_small_l2_machines_on_their_measured_blocking() {
        assert_eq!(derive(8, 32, 4, ZEN4, MEASURED), MEASURED);
        let zen3 = Caches {
            l1d: 32 << 10,
            l2: 512 << 10,
            l3: 32 << 20,
        };
        assert_eq!(derive(6, 16, 4, zen3, MEASURED), MEASURED);
        // f64 on Zen 4 would fit 32 panels in half of L2, but only at kc = 128.
        assert_eq!(derive(8, 16, 8, ZEN4, MEASURED), MEASURED);
        assert_eq!(derive(8, 32, 4, Caches::default(), MEASURED), MEASURED);
    }

    #[test]
    fn rule_on_a_large_l2_keeps_the_b_block_in_l2() {
        let b = derive(8, 32, 4, SPR, MEASURED);
        assert_eq!(
            b,
            Blocking {
                mc: 2048,
                kc: 512,
                nc: 512,
                order: Order::BBlockInL2
            }
        );
        // f64 on the same caches: half the depth, same bytes.
        let d = derive(8, 16, 8, SPR, MEASURED);
        assert_eq!((d.kc, d.nc, d.order), (256, 512, Order::BBlockInL2));
    }

    #[test]
    fn override_strings() {
        assert_eq!(
            parse_override("16, 8, 64, b"),
            Some(Blocking {
                mc: 16,
                kc: 8,
                nc: 64,
                order: Order::BBlockInL2
            })
        );
        for bad in ["", "1,2,3", "1,2,3,c", "0,2,3,a", "1,2,3,a,5", "x,2,3,a"] {
            assert_eq!(parse_override(bad), None, "{bad}");
        }
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("K"), None);
    }

    #[test]
    fn detected_caches_are_plausible_or_unknown() {
        let c = caches();
        if c.l1d != 0 {
            assert!((4 << 10..=1 << 20).contains(&c.l1d), "{c:?}");
        }
        if c.l2 != 0 {
            assert!((64 << 10..=64 << 20).contains(&c.l2), "{c:?}");
        }
    }
}
