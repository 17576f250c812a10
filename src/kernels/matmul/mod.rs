//! Matrix multiplication: `C = alpha * A @ B + beta * C` for f32 and f64 on strided operands.
//!
//! Contract (the tensor layer relies on it):
//! - Operands are raw pointers with row and column strides in elements (any sign, any value, so
//!   transposed views and slices are passed without a copy). `C` must not alias `A` or `B`.
//! - `beta == 0` never reads `C` (it may hold garbage or NaN).
//! - `k == 0` gives `C = beta * C` (or zeros when `beta == 0`); so does `alpha == 0`, which reads
//!   neither A nor B (the BLAS convention).
//! - Each element of `C` is computed by one thread in a fixed reduction order, so the result is
//!   bit-identical for any thread count.
//!
//! # Paths (chosen from the shapes and strides only, never from the thread count)
//! - `k == 0` or `alpha == 0`: scale C (`small::scale_c`).
//! - M == 1 or N == 1 with a streamable layout: GEMV (`gemv`), bandwidth-bound, no packing.
//! - `m*n*k <= small::TINY_WORK`: unpacked loop (`small::tiny`).
//! - otherwise the packed BLIS-style GEMM (`loops`, `pack`, `micro`).
//!
//! A C stored column-major is handled as `Cᵀ = Bᵀ Aᵀ` so the micro-kernels store along rows.
//!
//! `gemm_epilogue` adds a bias and an element-wise op to each finished tile while it is in L1
//! (`epilogue.rs`; the Dense layer's `act(x @ w + b)`); the unpacked paths apply it to all of C
//! after the product.
//!
//! # Batches
//! Entries whose A and C blocks are evenly spaced by `m` rows with one shared B (a Dense layer on
//! a (batch, tokens, features) input) are folded into one product with M = batch * m. Otherwise,
//! many or small entries run in parallel across entries (each on one thread), and few big ones
//! run one after another, each split across the threads.
//!
//! # Performance note (blocking, measured on the project machine)
//! The machine: 2 vCPUs of an AMD EPYC (family 25 model 17, i.e. Zen 4: it reports AVX-512,
//! although PERF-NOTES describes Zen 3), 32 KiB L1d and 1 MiB L2 per core, 32 MiB L3. One core
//! reaches 100-105 GFLOP/s f32 in our kernel, so it clocks above the 3.0 GHz of the 192 GFLOP/s
//! peak formula (2 cores x 2 FMA units x 8 lanes x 2 flops x 3.0 GHz).
//! - Micro-tile (AVX2): f32 6x16 / f64 6x8, 12 accumulator registers; the inner loop is 2 loads,
//!   6 broadcasts and 12 FMAs with no spills (checked in the disassembly). With everything in
//!   L2 (256^3) one thread runs 95-105 GFLOP/s, i.e. the FMA units are saturated.
//! - KC = 256: the 6x256 A micro-panel (6 KiB) and 256x16 B micro-panel (16 KiB) share the
//!   32 KiB L1. KC = 384 measured worse (75-99 vs 97-99 GFLOP/s at 1024^3, one thread); 128 and
//!   192 no better.
//! - MC = 144 (A block 144 KiB in L2): 96, 144, 288 and 480 were all within the machine's noise
//!   (95-103 GFLOP/s at 1024^3 and 2048^3, one thread); 144, BLIS's Zen 3 value, was kept.
//! - NC = 4080 (B block up to 4 MiB, L3): 1024 measured the same; the larger block packs B
//!   fewer times.
//! - Prefetching the C tile at the start of each micro-kernel call lifted one thread at
//!   1024^3 / 2048^3 from 74-85 to 97-103 GFLOP/s: C rows are 4-8 KiB apart, so without it each
//!   tile's epilogue waited on a dozen cache misses.
//! - Threads: the split runs through `threading::for_each_task`: the calling thread works on the
//!   first task at once while a pool worker is woken for the others, and tasks are claimed from
//!   a counter, so a late (or descheduled) helper costs at most its share, never a hand-off.
//!   The earlier `threading::install` (hand the whole product to the pool, sleep, be woken)
//!   cost ~10 us per call: 2 threads at 128^3 took 32.7 us against 42 on one (128 GFLOP/s);
//!   with the caller taking part, best rounds of the same probe (back-to-back calls from
//!   Python, fresh output) went 128^3: 128 -> 145-154, 192^3: 183 -> 191-196, 256^3:
//!   188 -> 194-200, 384^3: 203 -> 213 GFLOP/s. The split itself was not the problem: M (or N)
//!   is cut into at least one task per thread at any size, and into up to four per thread only
//!   when tasks stay 512 wide; 128- and 256-wide minimums measured the same at 128-384 (the
//!   same 2 tasks) and 3-10% worse at 512-1024 (B re-packed per task).
//!   A/B at larger sizes (same build, hand-off vs caller-takes-part chosen by a temporary
//!   switch, 0.2 s pause before each round, best/median of 7, three alternating runs):
//!   256^3 128-148 / 114-122 vs 171-196 / 159-191; 512^3 165-199 / 146-171 vs 180-185 /
//!   124-171; 1024^3 176-203 / 163-200 vs 188-203 / 158-181 GFLOP/s: no size where the
//!   hand-off is better beyond the noise, so one path serves every size.
//! - `PAR_WORK` = 70^3 multiply-adds: with the cheaper entry, 2 threads win clearly from 80^3
//!   (best rounds 80^3: 121 vs 87 GFLOP/s on one thread; 96^3: 140-150 vs 98) and lose at
//!   48^3 (54-57 vs 65). 64^3 is a toss-up kept on one thread: undisturbed, 2 threads ran
//!   88-93 vs 77, but when another process holds the second core a helper that claims a task
//!   and is then preempted stalls the call (64^3 fell to 48-68 in such runs, against 72-80 on
//!   one thread), and this machine is shared.
//! - Batches run across entries through the same `for_each_task`, one entry per task.
//! - f64 (6x8): ~50 GFLOP/s per core, the f64 FMA peak (half of f32's lanes).
//! - AVX-512 (f32 8x32, f64 8x16, `micro/avx512.rs`) is the default where the CPU has it: same
//!   FMA peak on Zen 4, but 10-40% faster from 64 to 512 (fewer loads and instructions per flop,
//!   fewer partial tiles than a 12-row tile), equal within noise at 1024-2048. Figures in that
//!   file; `FERROGRAD_GEMM_ISA=avx2` selects the AVX2 kernel for the whole process.
//!
//! Figures per shape against the `gemm` crate are in the header of `benches/matmul.rs` (taken
//! before the `for_each_task` change). Against NumPy 2.4 (OpenBLAS) and PyTorch 2.13 from Python
//! (`benches/bench_matmul.py`, 2 threads, best / median round GFLOP/s, fg/np and fg/torch on
//! best rounds), before (hand-off through `install`) and after (caller takes part). The machine
//! was shared with other builds (load average 1-2.5 on 2 vCPUs), so single runs move by
//! 20-30%; treat one row as one draw:
//!
//! | shape        | before: fg (fg/np)       | after: fg, 4 runs (fg/np)  | numpy, last run | torch, last run |
//! |--------------|--------------------------|----------------------------|-----------------|-----------------|
//! | square 64    | 72.9-79.7 (0.79-0.89)    | 76.3-79.2 (0.84-0.87)      | 90.4 / 87.4     | 68.5 / 54.1     |
//! | square 128   | 103-107 (0.84-0.87)      | 130-162 (1.11-1.84)        | 116.6 / 104.0   | 76.4 / 63.4     |
//! | square 256   | 124-145 (0.76-0.82)      | 171-194 (1.02-1.19)        | 168.1 / 158.8   | 130.1 / 114.2   |
//! | square 512   | 157-209 (0.80-1.04)      | 164-212 (0.82-1.06)        | 195.4 / 187.2   | 168.0 / 146.8   |
//! | square 1024  | 170-202 (0.88-1.00)      | 154-204 (0.85-1.00)        | 187.4 / 179.9   | 158.1 / 96.4    |
//! | square 2048  | 207 (1.01)               | 169-211 (0.84-1.01)        | 200.8 / 195.4   | 153.4 / 144.4   |
//! | GEMV GB/s    | 32.4 (0.82)              | 27.5-35.8 (0.81-0.92)      | 33.1            | 19.6            |
//! | bmm 32x(128x64 @ 64x128) | not measured | 161-183 (1.62-1.72)        | 99.4 / 86.4     | 132.4 / 116.2   |
//!
//! From 512^3 up our median rounds trail NumPy's (e.g. 132 vs 187 at 512^3) while best rounds
//! match. A per-call trace (25 calls in a row, 3 rounds) shows runs of ten or more consecutive
//! calls at one core's speed (80-100 GFLOP/s) between runs at 150-185: a neighbour process
//! holding the second core for tens of ms. With two tasks per product nothing can rebalance;
//! more, smaller tasks would (the caller takes the slow helper's share) but each re-packs the
//! whole other operand (8 tasks at 1024^3: 192-195 vs 210-213 best), so this wants a split that
//! shares the packed B block between threads (BLIS-style, with a barrier per block) - not done.
//!
//! Undisturbed Python probes of the same build (back-to-back calls, best of 7) reach 128^3:
//! 149-154, 256^3: 197-200, 512^3: 196-215, 1024^3: 192-213 GFLOP/s on 2 threads. 512^3 and
//! above are FMA-bound on both sides (OpenBLAS runs AVX-512 kernels here, we then ran AVX2 at ~100
//! GFLOP/s per core), so the ratio there is a coin toss decided by which library a neighbour's
//! process disturbed; 64^3 stays behind NumPy by the fixed per-call cost (0.7 us for a 1x1
//! product, of 6.5 us) and OpenBLAS's wider kernel.
//!
//! # Intel Emerald Rapids (family 6 model 207: 48 KiB L1d, 2 MiB L2 per core), 2026-12-06
//! The blocking is derived from the caches at run time (`blocking.rs`): on this 2 MiB-L2 core the
//! B block stays in L2 (mc/kc/nc = 2048/512/512, B-prefetching kernel), on the Zen cores above
//! the measured A-in-L2 constants stay. The FMA probe measures 170-177 GFLOP/s on one thread and
//! 335-354 on two; the 8x32 AVX-512 kernel alone, on L1-resident panels, runs 172-174 (so 16
//! accumulators cover two 512-bit FMA pipes; 12x32, 14x32 and 8x48 tiles measured the same or
//! lower). Interleaved A/B against PyTorch (MKL) in one process, 2 threads, best of 10 rounds
//! (`_set_gemm_blocking` switches the blocking between rounds; the machine was intermittently
//! loaded, so only same-run ratios mean anything), GFLOP/s, A-in-L2 / derived / torch:
//! 512^3 261 / 278 / 296; 1024^3 227 / 244 / 282; 2048^3 268 / 287 / 309; 4096x512 @ 512x2048
//! 286 / 319 / 246; 4096x512 @ 512x512 312 / 311 / 318. One thread, square: 2048^3 144 -> 159.
//! Still short of MKL on squares (0.88-0.98x); the gap is the kernel's efficiency inside the
//! blocked loops (82-86% of the probe's peak against MKL's 89-93%).
//! Packing A from row-major storage (the common case) uses 8x8 AVX transposes (`pack.rs`):
//! packing was 6% of single-thread time at 1024^3 in a profile before, 3% after.
//!
//! # Few rows (decode steps, small-batch RNN steps)
//! With at most four A panels (m <= 4*mr) the micro-kernels read B where it lies
//! (`loops::read_b_in_place`), rows at B's own stride with the prefetching kernel; only a ragged
//! last panel is packed. Emerald Rapids, 2 threads, GFLOP/s, best of 9 interleaved rounds,
//! in place / packed / PyTorch: 2x4096 @ 4096x4096 49 / 17 / 24; 4x768 @ 768x3072 100 / 33 / 48;
//! 8x4096 @ 4096x4096 154 / 65 / 88; 16x1024 @ 1024x4096 199 / 117 / 140; 32x1024 @ 1024x4096
//! 172 / 137 / 169; 32x4096 @ 4096x4096 157 / 157 / 161; 8x256 @ 256x1024 120 / 72 / 145;
//! 32x256 @ 256x1024 115 / 125 / 187 (the one loss, a product of 17 us).
//!
//! # ISA
//! Detected once, cached (`isa.rs`); the crate is built for generic x86-64, so the AVX2 and
//! AVX-512 kernels run through `#[target_feature]` functions. NEON would slot in as a further
//! `Isa` variant with its own `Kernel`/`GemvKernel` (see `isa.rs` for why it does not ship).
//!
//! # Since the table above
//! The table predates the AVX-512 kernels and the shared packing of big products (`loops.rs`,
//! `shared_split`). `benches/bench_matmul.py` after both (2 threads, best rounds, one run):
//! 64: 80 GFLOP/s (0.89x NumPy), 128: 160 (1.39x), 256: 196 (1.12x), 512: 209 (1.06x),
//! 1024: 193 (1.02x), 2048: 186 (1.02x), 4096x512 @ 512x2048: 179 (1.07x), 4096x512 @
//! 512x1536: 200 (1.03x), 4096x512 @ 512x512: 194 (1.07x), bmm 174 (1.85x).

pub mod blocking;
mod epilogue;
pub mod gemv;
pub mod isa;
mod loops;
pub mod micro;
mod pack;
mod prepacked;
pub mod reference;
pub(crate) mod scratch;
mod small;

#[cfg(test)]
pub(crate) mod tests;

use self::gemv::GemvKernel;
use self::isa::Isa;
use self::loops::Single;
use self::micro::Kernel;

pub use self::epilogue::Epilogue;
pub use self::isa::{set_isa_override, supported_isas};
pub use self::prepacked::PackedB;

/// Element types the GEMM supports.
pub trait GemmScalar:
    Copy
    + Send
    + Sync
    + 'static
    + PartialEq
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;

    /// The packed-GEMM micro-kernel for `isa` (which the CPU supports), with the blocking of
    /// `blocking::apply` (cache sizes and overrides).
    fn kernel(isa: Isa) -> Kernel<Self>;

    /// The GEMV kernels for `isa` (which the CPU supports).
    fn gemv_kernel(isa: Isa) -> GemvKernel<Self>;

    /// Packs whole 8-step blocks of 8 depth-contiguous lines with SIMD transposes where the
    /// type has them (see `pack::pack_8_lines_f32`); returns the steps packed (0: none).
    ///
    /// # Safety
    /// `lines` holds 8 pointers, each valid for `depth` reads; `out` for `8 * depth` writes.
    unsafe fn pack_8_lines(lines: &[*const Self], depth: usize, out: *mut Self) -> usize {
        let _ = (lines, depth, out);
        0
    }
}

impl GemmScalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn kernel(isa: Isa) -> Kernel<Self> {
        blocking::apply(match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => micro::avx2::kernel_f32(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => micro::avx512::kernel_f32(),
            _ => micro::scalar::kernel(),
        })
    }

    fn gemv_kernel(isa: Isa) -> GemvKernel<Self> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => gemv::avx512::kernel_f32(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => gemv::avx2::kernel_f32(),
            _ => gemv::scalar_kernel(),
        }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn pack_8_lines(lines: &[*const Self], depth: usize, out: *mut Self) -> usize {
        pack::pack_8_lines_f32(lines, depth, out)
    }
}

impl GemmScalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn kernel(isa: Isa) -> Kernel<Self> {
        blocking::apply(match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => micro::avx2::kernel_f64(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => micro::avx512::kernel_f64(),
            _ => micro::scalar::kernel(),
        })
    }

    fn gemv_kernel(isa: Isa) -> GemvKernel<Self> {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512 => gemv::avx2::kernel_f64(),
            _ => gemv::scalar_kernel(),
        }
    }
}

/// A read-only strided matrix operand.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<T> {
    pub ptr: *const T,
    /// Stride between rows, in elements.
    pub rs: isize,
    /// Stride between columns, in elements.
    pub cs: isize,
}

/// A writable strided matrix operand.
#[derive(Clone, Copy, Debug)]
pub struct MatMut<T> {
    pub ptr: *mut T,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: the pointers are only dereferenced inside `gemm`, whose caller guarantees validity for
// the call's duration; distinct threads write disjoint parts of C.
unsafe impl<T: Send> Send for MatRef<T> {}
unsafe impl<T: Sync> Sync for MatRef<T> {}
unsafe impl<T: Send> Send for MatMut<T> {}
unsafe impl<T: Sync> Sync for MatMut<T> {}

/// One (batched) GEMM problem: for each batch entry `i`,
/// `C_i = alpha * A_i @ B_i + beta * C_i` with `A_i` of shape (m, k), `B_i` (k, n), `C_i` (m, n)
/// at `a.ptr + a_offsets[i]`, `b.ptr + b_offsets[i]`, `c.ptr + c_offsets[i]` (offsets in elements;
/// an offset repeated across entries broadcasts that operand). The three offset slices have equal
/// length (the batch count; a single GEMM passes `&[0]`). C blocks must not overlap.
#[derive(Clone, Copy, Debug)]
pub struct GemmParams<'a, T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: T,
    pub beta: T,
    pub a: MatRef<T>,
    pub b: MatRef<T>,
    pub c: MatMut<T>,
    pub a_offsets: &'a [isize],
    pub b_offsets: &'a [isize],
    pub c_offsets: &'a [isize],
}

/// Products with fewer multiply-adds than this (70^3) run on one thread: below it, posting a
/// helper task and packing B once more cost more than a second thread saves, or risk more than
/// they save on a shared machine (measured, see the performance note above).
const PAR_WORK: usize = 70 * 70 * 70;

/// Runs the GEMM described by `p`.
///
/// # Safety
/// Every element addressed through `p` (for all batch entries, rows < m, columns < n, depth < k)
/// must be valid for reads (A, B) or reads and writes (C), and the C blocks must not overlap each
/// other or A and B. (Offset slices of unequal length are a contract violation; the shortest
/// length is used.)
pub unsafe fn gemm<T: GemmScalar>(p: &GemmParams<'_, T>) {
    gemm_on(p, crate::threading::num_threads())
}

/// [`gemm`] on the calling thread only: for callers that already run many products in parallel
/// (conv tiles), where splitting each product again would re-pack B per task for nothing.
///
/// # Safety
/// As [`gemm`].
pub unsafe fn gemm_serial<T: GemmScalar>(p: &GemmParams<'_, T>) {
    gemm_on(p, 1)
}

unsafe fn gemm_on<T: GemmScalar>(p: &GemmParams<'_, T>, threads: usize) {
    let batch = p
        .c_offsets
        .len()
        .min(p.a_offsets.len())
        .min(p.b_offsets.len());
    debug_assert!(p.a_offsets.len() == batch && p.b_offsets.len() == batch);
    if p.m == 0 || p.n == 0 || batch == 0 {
        return;
    }
    let isa = isa::active();
    let kern = T::kernel(isa);
    let gk = T::gemv_kernel(isa);
    if let Some(s) = fold_batch(p, batch) {
        single(&s, &kern, &gk, threads);
        return;
    }
    let entry = |e: usize| entry_single(p, e, None);
    let per = p.m.saturating_mul(p.n).saturating_mul(p.k.max(1));
    let total = per.saturating_mul(batch);
    let across = batch > 1
        && threads > 1
        && total >= PAR_WORK
        && (batch >= 4 * threads || per < 8 * PAR_WORK);
    if across {
        crate::threading::for_each_task(batch, |e| {
            // SAFETY: entries write disjoint C blocks (contract); each runs on one thread.
            unsafe { single(&entry(e), &kern, &gk, 1) }
        });
    } else {
        for e in 0..batch {
            single(&entry(e), &kern, &gk, threads);
        }
    }
}

/// Batch entry `e` of `p` as one product (offsets applied), with the epilogue `epi`.
fn entry_single<T: GemmScalar>(
    p: &GemmParams<'_, T>,
    e: usize,
    epi: Option<Epilogue<T>>,
) -> Single<T> {
    Single {
        m: p.m,
        n: p.n,
        k: p.k,
        alpha: p.alpha,
        beta: p.beta,
        a: MatRef {
            ptr: p.a.ptr.wrapping_offset(p.a_offsets[e]),
            ..p.a
        },
        b: MatRef {
            ptr: p.b.ptr.wrapping_offset(p.b_offsets[e]),
            ..p.b
        },
        c: MatMut {
            ptr: p.c.ptr.wrapping_offset(p.c_offsets[e]),
            ..p.c
        },
        epi,
    }
}

/// Folds a batch into one product with M = batch * m when B is shared by every entry and the A
/// and C entries are spaced exactly `m` rows apart (so the stacked rows form one strided matrix).
fn fold_batch<T: GemmScalar>(p: &GemmParams<'_, T>, batch: usize) -> Option<Single<T>> {
    if batch < 2 || p.b_offsets[1..batch].iter().any(|&o| o != p.b_offsets[0]) {
        return None;
    }
    let m = isize::try_from(p.m).ok()?;
    let a_step = m.checked_mul(p.a.rs)?;
    let c_step = m.checked_mul(p.c.rs)?;
    for e in 1..batch {
        let ei = isize::try_from(e).ok()?;
        if p.a_offsets[e] != p.a_offsets[0].checked_add(ei.checked_mul(a_step)?)?
            || p.c_offsets[e] != p.c_offsets[0].checked_add(ei.checked_mul(c_step)?)?
        {
            return None;
        }
    }
    Some(Single {
        m: p.m.checked_mul(batch)?,
        n: p.n,
        k: p.k,
        alpha: p.alpha,
        beta: p.beta,
        a: MatRef {
            ptr: p.a.ptr.wrapping_offset(p.a_offsets[0]),
            ..p.a
        },
        b: MatRef {
            ptr: p.b.ptr.wrapping_offset(p.b_offsets[0]),
            ..p.b
        },
        c: MatMut {
            ptr: p.c.ptr.wrapping_offset(p.c_offsets[0]),
            ..p.c
        },
        epi: None,
    })
}

/// One product: picks the path (from shapes and strides only) and the thread count.
unsafe fn single<T: GemmScalar>(
    s: &Single<T>,
    kern: &Kernel<T>,
    gk: &GemvKernel<T>,
    threads: usize,
) {
    if s.k == 0 || s.alpha == T::ZERO {
        small::scale_c(s);
        whole_epilogue(s);
        return;
    }
    // A column-major C: compute Cᵀ = Bᵀ Aᵀ, whose rows are C's contiguous columns (never with an
    // epilogue, whose C has unit column stride).
    let t;
    let s = if s.c.cs != 1 && s.c.rs == 1 && s.epi.is_none() {
        t = Single {
            m: s.n,
            n: s.m,
            k: s.k,
            alpha: s.alpha,
            beta: s.beta,
            a: MatRef {
                ptr: s.b.ptr,
                rs: s.b.cs,
                cs: s.b.rs,
            },
            b: MatRef {
                ptr: s.a.ptr,
                rs: s.a.cs,
                cs: s.a.rs,
            },
            c: MatMut {
                ptr: s.c.ptr,
                rs: s.c.cs,
                cs: s.c.rs,
            },
            epi: None,
        };
        &t
    } else {
        s
    };
    if (s.m == 1 || s.n == 1) && gemv::try_run(s, gk, threads) {
        whole_epilogue(s);
        return;
    }
    let work = s.m.saturating_mul(s.n).saturating_mul(s.k);
    if work <= small::TINY_WORK {
        small::tiny(s);
        whole_epilogue(s);
        return;
    }
    // The packed path applies the epilogue tile by tile.
    loops::packed(s, kern, if work >= PAR_WORK { threads } else { 1 });
}

/// The epilogue over all of C, for the paths that do not run it per tile (a vector or tiny
/// product, or `k == 0`: few values, or C = act(bias)).
///
/// # Safety
/// As for [`single`].
unsafe fn whole_epilogue<T: GemmScalar>(s: &Single<T>) {
    if let Some(e) = &s.epi {
        e.run(s.c.ptr, s.c.rs, 0, 0, s.m, s.n);
    }
}

/// `C = act(A @ B + bias)` for one product (see [`Epilogue`]): the plain GEMM (`alpha`,
/// `beta`) then the epilogue on each finished tile of C, on all threads.
///
/// # Safety
/// As for [`gemm`] with a single entry (offset slices of length 1); C has unit column stride;
/// the epilogue's bias holds `n` values and its `out` (when set) an `m x n` block of unit column
/// stride that overlaps none of A, B and C.
pub unsafe fn gemm_epilogue<T: GemmScalar>(p: &GemmParams<'_, T>, epi: &Epilogue<T>) {
    debug_assert!(p.c.cs == 1 && p.a_offsets.len() == 1);
    if p.m == 0 || p.n == 0 || p.a_offsets.is_empty() || p.b_offsets.is_empty() {
        return;
    }
    if p.c_offsets.is_empty() {
        return;
    }
    let isa = isa::active();
    let s = entry_single(p, 0, Some(*epi));
    single(
        &s,
        &T::kernel(isa),
        &T::gemv_kernel(isa),
        crate::threading::num_threads(),
    );
}
