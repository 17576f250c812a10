//! The packed (BLIS/Goto) GEMM driver for one matrix product, and its split across threads.
//!
//! Loop nest for `Order::ABlockInL2`, outermost first (labels match the code):
//! - `jc`: columns of C in blocks of `nc` (B block sized for L3);
//! - `pc`: depth in blocks of `kc`; pack `B[pc.., jc..]` (kc x nc) into the thread's B buffer;
//! - `ic`: rows in blocks of `mc`; pack `A[ic.., pc..]` (mc x kc) into the thread's A buffer (L2);
//! - `jr`: `nr`-column micro-panels of the B block (one stays in L1 across the `ir` loop);
//! - `ir`: `mr`-row micro-panels of the A block; one micro-kernel call per `mr x nr` tile.
//!
//! `Order::BBlockInL2` (large L2 caches, see `blocking.rs`): `pc`, then `ic` (A blocks of up to
//! 4 MiB, packed once per depth block), then `jc` (a `kc x nc` B block packed into L2), then
//! `ir` outside `jr`, so one A micro-panel stays in L1 while the B block streams from L2 (with
//! the kernel's B prefetch). Both orders add the depth blocks of every C element in the same
//! order, so for a given blocking the results do not depend on the order's loop nest.
//!
//! Threads: C is cut into rectangles along M (row ranges in multiples of `mr`) when M is at
//! least N, else along N (multiples of `nr`); the calling thread and the team's helpers each
//! start on their own share of them and then help with the rest (`threading::for_each_task`),
//! so a late thread takes fewer.
//! - Products of at least `SHARED_PACK_WORK` multiply-adds pack the operand every rectangle
//!   needs (B for row ranges, A for column ranges) once, all threads together, into one shared
//!   buffer, then run up to four rectangles per thread, each packing only its own blocks of the
//!   other operand (`shared_split`). Two parallel phases per product (per stripe of at most
//!   16 MiB of packed operand), no custom barrier.
//! - Smaller ones give each rectangle the whole loop nest with its thread's own buffers (one
//!   parallel phase): each re-packs the other operand, a copy of O(k*n) values against
//!   O(m*n*k/tasks) FMAs, cheaper than a second phase at these sizes.
//!
//! Measured (2 threads, GFLOP/s, best of 5, three alternating runs each, shared packing off /
//! on): 1024^3 179-181 / 180-199; 2048^3 172-183 / 192-194; 4096x512 @ 512x2048 170-181 /
//! 173-195; 4096x512 @ 512x1536 180-191 / 160-202. At 256^3 the second phase cost more than the
//! copy saved (159-192 / 173-182), hence the threshold of 2^25 (just above 320^3).
//!
//! Determinism: an element's value depends only on the `kc` blocking of the depth (fixed by the
//! kernel, never by the thread count) and on the micro-kernel's in-order accumulation, so any
//! split gives bit-identical results.

use super::blocking::Order;
use super::epilogue::Epilogue;
use super::micro::{Kernel, MicroTile};
use super::pack::{pack_a, pack_b, Block};
use super::scratch::{with_buffer, Slot};
use super::{GemmScalar, MatMut, MatRef};

/// The `rows x cols` block of `m` whose top-left element is `(r0, c0)`.
///
/// # Safety
/// The block lies inside the operand.
#[inline]
unsafe fn block<T>(m: MatRef<T>, r0: usize, c0: usize, rows: usize, cols: usize) -> Block<T> {
    Block {
        ptr: m.ptr.offset(r0 as isize * m.rs + c0 as isize * m.cs),
        rs: m.rs,
        cs: m.cs,
        rows,
        cols,
    }
}

/// One (non-batched) product with offsets already applied.
#[derive(Clone, Copy)]
pub struct Single<T> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub alpha: T,
    pub beta: T,
    pub a: MatRef<T>,
    pub b: MatRef<T>,
    pub c: MatMut<T>,
    /// Applied to each tile of C after its last depth block (C then has unit column stride).
    pub epi: Option<Epilogue<T>>,
}

impl<T: GemmScalar> Single<T> {
    /// The sub-problem of rows `r0..r1` and columns `c0..c1` of C.
    ///
    /// # Safety
    /// The ranges lie inside the problem.
    unsafe fn sub(&self, r0: usize, r1: usize, c0: usize, c1: usize) -> Single<T> {
        Single {
            m: r1 - r0,
            n: c1 - c0,
            k: self.k,
            alpha: self.alpha,
            beta: self.beta,
            a: MatRef {
                ptr: self.a.ptr.offset(r0 as isize * self.a.rs),
                ..self.a
            },
            b: MatRef {
                ptr: self.b.ptr.offset(c0 as isize * self.b.cs),
                ..self.b
            },
            c: MatMut {
                ptr: self
                    .c
                    .ptr
                    .offset(r0 as isize * self.c.rs + c0 as isize * self.c.cs),
                ..self.c
            },
            epi: self.epi.map(|e| e.shifted(r0, c0)),
        }
    }
}

/// Runs the packed GEMM, split over `threads` threads (1 runs on the caller).
///
/// # Safety
/// As for [`super::gemm`]; `k > 0`.
pub unsafe fn packed<T: GemmScalar>(s: &Single<T>, kern: &Kernel<T>, threads: usize) {
    let (along_m, unit, extent) = if s.m >= s.n {
        (true, kern.mr, s.m)
    } else {
        (false, kern.nr, s.n)
    };
    if threads <= 1 || extent <= unit {
        run_block(s, kern, Shared::None);
        return;
    }
    let work = s.m.saturating_mul(s.n).saturating_mul(s.k);
    let (min_work, cap_bytes) = shared_limits();
    // One panel of the shared operand over the whole depth must fit the cap: a very deep
    // product (k in the millions) keeps the per-task packing, whose buffers are `kc` deep.
    let panel = if along_m { kern.nr } else { kern.mr };
    let panel_bytes =
        s.k.saturating_mul(panel)
            .saturating_mul(std::mem::size_of::<T>());
    // The BBlockInL2 order packs each B block straight into the L2 of the core that uses it; a
    // shared B, packed by all threads into one buffer (in L3), measured slower there (Emerald
    // Rapids, 2 threads, GFLOP/s, best of 10, shared vs per task: 1024^3 280 vs 288-296,
    // 2048^3 273 vs 290-303), while each task re-packing B costs about 1% of its FMAs. Splitting
    // squares along N instead (shared A, no B packed twice) measured the same within noise
    // (512^3 265 vs 266, 1024^3 284 vs 270, 2048^3 294 vs 300), so the split rule is kept.
    // A shared A (column split) stays: each task still packs only its own B columns.
    if work >= min_work && panel_bytes <= cap_bytes && (kern.order == Order::ABlockInL2 || !along_m)
    {
        shared_split(s, kern, threads, along_m, unit, extent, cap_bytes);
        return;
    }
    let units = extent.div_ceil(unit);
    // Up to TASKS_PER_THREAD rectangles per thread, each at least MIN_TASK_EXTENT wide, and a
    // multiple of the thread count so no thread is left with an extra one: on a shared machine
    // a core can be taken away mid-product, and several tasks per thread let the other thread
    // steal the remainder instead of waiting. Each task re-packs the other operand's whole
    // block, so tasks must stay large.
    let tpt = match kern.order {
        Order::ABlockInL2 => TASKS_PER_THREAD,
        Order::BBlockInL2 => TASKS_PER_THREAD_B_IN_L2,
    };
    let per_thread = (extent / MIN_TASK_EXTENT).min(threads * tpt) / threads.max(1);
    let tasks = (per_thread.max(1) * threads).min(units);
    // One task runs directly on the caller (no task set, no helper posted).
    if tasks <= 1 {
        run_block(s, kern, Shared::None);
        return;
    }
    let bound = |t: usize| (units * t / tasks * unit).min(extent);
    crate::threading::for_each_task(tasks, |t| {
        let (lo, hi) = (bound(t), bound(t + 1));
        // SAFETY: rectangles are disjoint (distinct row or column ranges of C) and inside it.
        unsafe {
            let part = if along_m {
                s.sub(lo, hi, 0, s.n)
            } else {
                s.sub(0, s.m, lo, hi)
            };
            run_block(&part, kern, Shared::None);
        }
    });
}

/// See [`packed`]: task granularity of the split without a shared operand.
const TASKS_PER_THREAD: usize = 4;
/// The same for the BBlockInL2 order, where every task packs all of B (Emerald Rapids, 2
/// threads, 1024^3 / 2048^3, GFLOP/s: 1 per thread 296 / 290, 2 per thread 288 / 303).
const TASKS_PER_THREAD_B_IN_L2: usize = 2;
const MIN_TASK_EXTENT: usize = 512;

/// Products of at least this many multiply-adds pack the shared operand once, cooperatively
/// (see [`shared_split`]).
const SHARED_PACK_WORK: usize = 1 << 25;

/// Largest shared packed operand, in bytes: wider products are cut into column (or row)
/// stripes of at most this many packed bytes, each packed and then computed in turn.
const SHARED_PACK_BYTES: usize = 16 << 20;

#[cfg(test)]
thread_local! {
    /// Lets tests send small products through [`shared_split`]: (minimum work, stripe cap).
    pub static SHARED_LIMITS: std::cell::Cell<Option<(usize, usize)>> =
        const { std::cell::Cell::new(None) };
}

/// The minimum work and the stripe cap in bytes of [`shared_split`].
fn shared_limits() -> (usize, usize) {
    #[cfg(test)]
    if let Some(l) = SHARED_LIMITS.with(|c| c.get()) {
        return l;
    }
    (SHARED_PACK_WORK, SHARED_PACK_BYTES)
}

/// The operand packed once for every task of a product, whole (all its depth blocks).
///
/// Layout: for the depth block starting at `pc` (of depth `kc`), the panels that cover the
/// whole split-free extent `len` (rounded up to the panel width `w`) start at `pc * padded`; the
/// panel holding line `x` (a multiple of `w`) starts `x * kc` further on: exactly the layout
/// [`pack_a`]/[`pack_b`] give one block, so a block of it is read as if packed on the spot.
#[derive(Clone, Copy)]
pub(super) enum Shared<T> {
    None,
    /// B packed for columns `0..padded` of the sub-problem.
    B {
        ptr: *const T,
        padded: usize,
    },
    /// A packed for rows `0..padded` of the sub-problem.
    A {
        ptr: *const T,
        padded: usize,
    },
}

// SAFETY: the packed buffer is written before any task reads it and only read afterwards.
unsafe impl<T: Sync> Sync for Shared<T> {}
unsafe impl<T: Send> Send for Shared<T> {}

/// The split for big products: the operand every task needs (B when tasks own row ranges of
/// C, A when they own column ranges) is packed once, by all threads together, into one shared
/// buffer; then the tasks run, each packing only its own blocks of the other operand. Without
/// this each task re-packs the whole shared operand: at 4096x512 @ 512x2048 in 8 tasks that is
/// 8 copies of a 4 MiB B.
///
/// Operands wider than [`SHARED_PACK_BYTES`] are taken in stripes (two parallel phases per
/// stripe). Each phase is one `for_each_task`, so a late helper costs at most its share.
/// Numerics are unchanged: the same `kc` blocks and micro-kernel calls as [`run_block`].
///
/// # Safety
/// As for [`packed`].
unsafe fn shared_split<T: GemmScalar>(
    s: &Single<T>,
    kern: &Kernel<T>,
    threads: usize,
    along_m: bool,
    unit: usize,
    extent: usize,
    cap_bytes: usize,
) {
    // The shared operand's panel width and its extent (columns of B, or rows of A).
    let (w, len) = if along_m {
        (kern.nr, s.n)
    } else {
        (kern.mr, s.m)
    };
    let size = std::mem::size_of::<T>().max(1);
    // Stripe width: a multiple of the L3 block (`nc` for B, `mc` for A) when one fits, so
    // stripes never cut a block the single-buffer loops would have kept whole.
    let l3_block = if along_m { kern.nc } else { kern.mc };
    let max_lines = (cap_bytes / size / s.k.max(1)).max(w);
    let stripe = if max_lines >= l3_block {
        max_lines / l3_block * l3_block
    } else {
        max_lines / w * w
    };
    let stripe = stripe.min(len.div_ceil(w) * w);
    let units = extent.div_ceil(unit);
    // Tasks over the split extent: up to 4 per thread, each at least 128 units of rows/cols
    // wide, as a multiple of the thread count.
    let per_thread = (extent / SHARED_MIN_TASK_EXTENT).min(threads * TASKS_PER_THREAD) / threads;
    let tasks = (per_thread.max(1) * threads).min(units);
    let bound = |t: usize| (units * t / tasks * unit).min(extent);
    with_buffer::<T, _>(Slot::Shared, s.k * stripe, |buf| {
        let buf_addr = buf as usize;
        for x0 in (0..len).step_by(stripe) {
            let x1 = (x0 + stripe).min(len);
            let lines = x1 - x0;
            let panels = lines.div_ceil(w);
            let padded = panels * w;
            // Phase 1: pack the stripe, panels split evenly across pack tasks.
            let pack_tasks = threads.min(panels);
            crate::threading::for_each_task(pack_tasks, |t| {
                let p0 = panels * t / pack_tasks;
                let p1 = panels * (t + 1) / pack_tasks;
                if p0 == p1 {
                    return;
                }
                let dst0 = buf_addr as *mut T;
                for pc in (0..s.k).step_by(kern.kc) {
                    let kc = kern.kc.min(s.k - pc);
                    let l0 = x0 + p0 * w;
                    let l1 = (x0 + p1 * w).min(x1);
                    // SAFETY: the source block lies inside the operand; the destination
                    // panels p0..p1 of this depth block lie inside the buffer and no other
                    // task writes them.
                    unsafe {
                        let dst = dst0.add(pc * padded + p0 * w * kc);
                        if along_m {
                            pack_b(block(s.b, pc, l0, kc, l1 - l0), w, dst);
                        } else {
                            pack_a(block(s.a, l0, pc, l1 - l0, kc), w, dst);
                        }
                    }
                }
            });
            // Phase 2: the tasks, each on its own rows (or columns) of this stripe.
            let shared = if along_m {
                Shared::B {
                    ptr: buf_addr as *const T,
                    padded,
                }
            } else {
                Shared::A {
                    ptr: buf_addr as *const T,
                    padded,
                }
            };
            crate::threading::for_each_task(tasks, |t| {
                let (lo, hi) = (bound(t), bound(t + 1));
                if lo >= hi {
                    return;
                }
                // SAFETY: rectangles are disjoint and inside C; the shared operand is packed.
                unsafe {
                    let part = if along_m {
                        s.sub(lo, hi, x0, x1)
                    } else {
                        s.sub(x0, x1, lo, hi)
                    };
                    run_block(&part, kern, shared);
                }
            });
        }
    });
}

/// See [`shared_split`]: the smallest task extent once the shared operand is packed once.
const SHARED_MIN_TASK_EXTENT: usize = 128;

/// The five-loop nest for one rectangle of C on the calling thread; `shared` is the other
/// operand already packed for this rectangle (whole), or `Shared::None` to pack it here.
///
/// # Safety
/// As for [`packed`]; a shared operand covers the rectangle's columns (B) or rows (A).
pub(super) unsafe fn run_block<T: GemmScalar>(s: &Single<T>, kern: &Kernel<T>, shared: Shared<T>) {
    if s.m == 0 || s.n == 0 {
        return;
    }
    let (mr, nr) = (kern.mr, kern.nr);
    let kc_max = kern.kc.min(s.k);
    let mc_max = kern.mc.min(s.m.div_ceil(mr) * mr);
    let nc_max = kern.nc.min(s.n.div_ceil(nr) * nr);
    let b_direct = !matches!(shared, Shared::B { .. }) && read_b_in_place(s, kern);
    let b_elems = if matches!(shared, Shared::B { .. }) {
        0
    } else if b_direct {
        // Only the ragged last panel of each block is packed (zero-padded).
        kc_max * nr
    } else {
        kc_max * nc_max
    };
    let direct = !matches!(shared, Shared::A { .. }) && read_a_in_place(s, kern);
    let a_elems = if matches!(shared, Shared::A { .. }) {
        0
    } else if direct {
        // Only the ragged last panel of each block is packed (zero-padded).
        kc_max * mr
    } else {
        kc_max * mc_max
    };
    // The A block (`ic`, `pc`): shared, read in place (its ragged last panel packed), or packed.
    let a_block = |ic: usize, mc: usize, pc: usize, kc: usize, aown: *mut T| -> *const T {
        if let Shared::A { ptr, padded } = shared {
            ptr.add(pc * padded + ic * kc)
        } else if direct {
            let full = mc / mr * mr;
            if full < mc {
                pack_a(block(s.a, ic + full, pc, mc - full, kc), mr, aown);
            }
            aown as *const T
        } else {
            pack_a(block(s.a, ic, pc, mc, kc), mr, aown);
            aown as *const T
        }
    };
    let b_block = |jc: usize, nc: usize, pc: usize, kc: usize, bown: *mut T| -> *const T {
        if let Shared::B { ptr, padded } = shared {
            ptr.add(pc * padded + jc * kc)
        } else if b_direct {
            let full = nc / nr * nr;
            if full < nc {
                pack_b(block(s.b, pc, jc + full, kc, nc - full), nr, bown);
            }
            bown as *const T
        } else {
            pack_b(block(s.b, pc, jc, kc, nc), nr, bown);
            bown as *const T
        }
    };
    let run = |ic, jc, mc, nc, pc, kc, abuf, bbuf| {
        // The first depth block applies beta, later ones accumulate into C.
        let beta = if pc == 0 { s.beta } else { T::ONE };
        let a_in_place =
            direct.then(|| s.a.ptr.offset(ic as isize * s.a.rs + pc as isize * s.a.cs));
        let b_in_place =
            b_direct.then(|| s.b.ptr.offset(pc as isize * s.b.rs + jc as isize * s.b.cs));
        macro_kernel(
            s,
            kern,
            MacroBlock {
                ic,
                jc,
                mc,
                nc,
                kc,
                beta,
                last: pc + kc >= s.k,
                abuf,
                a_in_place,
                bbuf,
                b_in_place,
            },
        );
    };
    with_buffer::<T, _>(Slot::B, b_elems, |bown| {
        with_buffer::<T, _>(Slot::A, a_elems, |aown| match kern.order {
            Order::ABlockInL2 => {
                // jc: L3 blocks of B columns; pc: depth blocks; ic: L2 blocks of A rows.
                for jc in (0..s.n).step_by(kern.nc) {
                    let nc = kern.nc.min(s.n - jc);
                    for pc in (0..s.k).step_by(kern.kc) {
                        let kc = kern.kc.min(s.k - pc);
                        let bbuf = b_block(jc, nc, pc, kc, bown);
                        for ic in (0..s.m).step_by(kern.mc) {
                            let mc = kern.mc.min(s.m - ic);
                            let abuf = a_block(ic, mc, pc, kc, aown);
                            run(ic, jc, mc, nc, pc, kc, abuf, bbuf);
                        }
                    }
                }
            }
            Order::BBlockInL2 => {
                // pc: depth blocks; ic: large (L3) blocks of A rows, packed once per depth
                // block; jc: L2 blocks of B columns.
                for pc in (0..s.k).step_by(kern.kc) {
                    let kc = kern.kc.min(s.k - pc);
                    for ic in (0..s.m).step_by(kern.mc) {
                        let mc = kern.mc.min(s.m - ic);
                        let abuf = a_block(ic, mc, pc, kc, aown);
                        for jc in (0..s.n).step_by(kern.nc) {
                            let nc = kern.nc.min(s.n - jc);
                            let bbuf = b_block(jc, nc, pc, kc, bown);
                            run(ic, jc, mc, nc, pc, kc, abuf, bbuf);
                        }
                    }
                }
            }
        })
    });
}

/// One packed `mc x nc` block pair, ready for the micro-kernels.
struct MacroBlock<T> {
    ic: usize,
    jc: usize,
    mc: usize,
    nc: usize,
    kc: usize,
    beta: T,
    /// The last depth block: the tiles are final, and the epilogue runs on them.
    last: bool,
    /// The packed A block; with `a_in_place`, only its ragged last panel.
    abuf: *const T,
    /// A's block `(ic, pc)` read in place (full panels), when [`read_a_in_place`] chose it.
    a_in_place: Option<*const T>,
    /// The packed B block; with `b_in_place`, only its ragged last panel.
    bbuf: *const T,
    /// B's block `(pc, jc)` read in place (full panels), when [`read_b_in_place`] chose it.
    b_in_place: Option<*const T>,
}

/// Whether the micro-kernels read A where it lies instead of packing it: for products with at
/// most four B panels (n <= 4*nr: conv tiles with 32-128 output channels, narrow Dense layers),
/// each packed A value would serve at most four micro-kernel calls, too few to repay the copy;
/// A must be contiguous along a row or a column (the broadcasts then walk at most `mr`
/// cache-line streams). Same sums in the same order as the packed path, so results are
/// bit-identical.
///
/// Measured, one thread, AVX-512 f32, GFLOP/s (packed / in place): 4096x512 @ 512x64 69.8 /
/// 101.7; 25088x288 @ 288x64 69.7 / 79.0; 227x288 @ 288x64 89.0 / 101.4; 4096x512 @ 512x128
/// 93.7 / 104.0; 25088x288 @ 288x128 86.2 / 92.8. At n = 256 (8 panels) the gain was 1-3%,
/// within the noise, so the limit stays at four panels.
#[inline]
fn read_a_in_place<T>(s: &Single<T>, kern: &Kernel<T>) -> bool {
    s.n <= 4 * kern.nr && s.m >= kern.mr && (s.a.cs == 1 || s.a.rs == 1)
}

/// Whether the micro-kernels read B where it lies instead of packing it: for products with at
/// most four A panels (m <= 4*mr: decode steps of a batch of sequences, RNN steps of a small
/// batch, a Dense layer on a few samples), each packed B value would serve at most four
/// micro-kernel calls, and packing a large weight matrix costs as much memory traffic as the
/// product itself. B must have unit column stride (its rows are then `nr`-wide vector loads at
/// the row stride; the kernel prefetches the rows ahead). Same sums in the same order as the
/// packed path, so results are bit-identical.
///
/// Measured: see `matmul/mod.rs` ("Few rows"): 1.3-3x the packed path up to m = 16.
#[inline]
fn read_b_in_place<T>(s: &Single<T>, kern: &Kernel<T>) -> bool {
    s.m <= 4 * kern.mr && s.n >= kern.nr && s.b.cs == 1
}

#[inline]
unsafe fn macro_kernel<T: GemmScalar>(s: &Single<T>, kern: &Kernel<T>, blk: MacroBlock<T>) {
    let (mr, nr, kc) = (kern.mr, kern.nr, blk.kc);
    let tile = |ir: usize, jr: usize| {
        let row = blk.ic + ir;
        let col = blk.jc + jr;
        let (a, rs_a, cs_a) = match blk.a_in_place {
            Some(a) if ir + mr <= blk.mc => (a.offset(ir as isize * s.a.rs), s.a.rs, s.a.cs),
            // The packed ragged panel sits at the start of the buffer.
            Some(_) => (blk.abuf, 1, mr as isize),
            None => (blk.abuf.add(ir * kc), 1, mr as isize),
        };
        let (b, rs_b) = match blk.b_in_place {
            Some(b) if jr + nr <= blk.nc => (b.offset(jr as isize * s.b.cs), s.b.rs),
            // The packed ragged panel sits at the start of the buffer.
            Some(_) => (blk.bbuf, nr as isize),
            None => (blk.bbuf.add(jr * kc), nr as isize),
        };
        let tile = MicroTile {
            kc,
            a,
            rs_a,
            cs_a,
            b,
            rs_b,
            c: s.c
                .ptr
                .offset(row as isize * s.c.rs + col as isize * s.c.cs),
            rs_c: s.c.rs,
            cs_c: s.c.cs,
            m: mr.min(blk.mc - ir),
            n: nr.min(blk.nc - jr),
            alpha: s.alpha,
            beta: blk.beta,
        };
        if blk.last {
            if let Some(e) = &s.epi {
                e.prefetch_out(row, col, tile.m, tile.n);
            }
        }
        // B read in place streams from memory: the kernel that prefetches its rows ahead.
        if blk.b_in_place.is_some() {
            (kern.micro_streaming_b)(&tile);
        } else {
            (kern.micro)(&tile);
        }
        if blk.last {
            if let Some(e) = &s.epi {
                // The tile was just stored: it is in L1.
                e.run(tile.c, s.c.rs, row, col, tile.m, tile.n);
            }
        }
    };
    match kern.order {
        // jr outer: one B micro-panel stays in L1 while the A micro-panels pass over it.
        Order::ABlockInL2 => {
            for jr in (0..blk.nc).step_by(nr) {
                for ir in (0..blk.mc).step_by(mr) {
                    tile(ir, jr);
                }
            }
        }
        // ir outer: one A micro-panel stays in L1 while the B block streams from L2.
        Order::BBlockInL2 => {
            for ir in (0..blk.mc).step_by(mr) {
                for jr in (0..blk.nc).step_by(nr) {
                    tile(ir, jr);
                }
            }
        }
    }
}
