//! The packed (BLIS/Goto) GEMM driver for one matrix product, and its split across threads.
//!
//! Loop nest, outermost first (labels match the code):
//! - `jc`: columns of C in blocks of `nc` (B block sized for L3);
//! - `pc`: depth in blocks of `kc`; pack `B[pc.., jc..]` (kc x nc) into the thread's B buffer;
//! - `ic`: rows in blocks of `mc`; pack `A[ic.., pc..]` (mc x kc) into the thread's A buffer (L2);
//! - `jr`: `nr`-column micro-panels of the B block (one stays in L1 across the `ir` loop);
//! - `ir`: `mr`-row micro-panels of the A block; one micro-kernel call per `mr x nr` tile.
//!
//! Threads: C is cut into rectangles along M (row ranges in multiples of `mr`) when M is at
//! least N, else along N (multiples of `nr`): one per thread, or up to four per thread when each
//! is still at least 512 wide. Each rectangle runs the whole loop nest as one task with its
//! thread's own buffers; the calling thread and the pool helpers claim tasks from a counter
//! (`threading::for_each_task`), so a late thread takes fewer. No barrier or shared buffer is
//! needed; the cost is packing the other operand once per task, a streaming copy of
//! O(k*n) values against O(m*n*k/tasks) FMAs (a few percent with 256-row tasks, measured, see
//! `packed`; less with the 512-row minimum).
//!
//! Determinism: an element's value depends only on the `kc` blocking of the depth (fixed by the
//! kernel, never by the thread count) and on the micro-kernel's in-order accumulation, so any
//! split gives bit-identical results.

use super::micro::{Kernel, MicroTile};
use super::pack::{pack_a, pack_b, Block};
use super::scratch::{with_buffer, Slot};
use super::{GemmScalar, MatMut, MatRef};

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
    let units = extent.div_ceil(unit);
    // Up to TASKS_PER_THREAD rectangles per thread, each at least MIN_TASK_EXTENT wide, and a
    // multiple of the thread count so no thread is left with an extra one: on a shared machine
    // a core can be taken away mid-product, and several tasks per thread let the other thread
    // steal the remainder instead of waiting. Each task re-packs the other operand's whole
    // block, so tasks must stay large (at 2048^3, two threads: 199-202 GFLOP/s with 512-row
    // tasks against 185-195 with 256-row ones).
    let per_thread = (extent / MIN_TASK_EXTENT).min(threads * TASKS_PER_THREAD) / threads.max(1);
    let tasks = (per_thread.max(1) * threads).min(units);
    // One task runs directly on the caller (no task set, no helper posted).
    if threads <= 1 || tasks <= 1 {
        run_block(s, kern);
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
            run_block(&part, kern);
        }
    });
}

/// See [`packed`]: task granularity of the thread split.
const TASKS_PER_THREAD: usize = 4;
const MIN_TASK_EXTENT: usize = 512;

/// The five-loop nest for one rectangle of C on the calling thread.
///
/// # Safety
/// As for [`packed`].
unsafe fn run_block<T: GemmScalar>(s: &Single<T>, kern: &Kernel<T>) {
    if s.m == 0 || s.n == 0 {
        return;
    }
    let (mr, nr) = (kern.mr, kern.nr);
    let kc_max = kern.kc.min(s.k);
    let mc_max = kern.mc.min(s.m.div_ceil(mr) * mr);
    let nc_max = kern.nc.min(s.n.div_ceil(nr) * nr);
    with_buffer::<T, _>(Slot::B, kc_max * nc_max, |bbuf| {
        with_buffer::<T, _>(Slot::A, kc_max * mc_max, |abuf| {
            // jc: L3 blocks of B columns.
            for jc in (0..s.n).step_by(kern.nc) {
                let nc = kern.nc.min(s.n - jc);
                // pc: depth blocks; the first applies beta, later ones accumulate into C.
                for pc in (0..s.k).step_by(kern.kc) {
                    let kc = kern.kc.min(s.k - pc);
                    let beta = if pc == 0 { s.beta } else { T::ONE };
                    let bsrc = Block {
                        ptr: s.b.ptr.offset(pc as isize * s.b.rs + jc as isize * s.b.cs),
                        rs: s.b.rs,
                        cs: s.b.cs,
                        rows: kc,
                        cols: nc,
                    };
                    pack_b(bsrc, nr, bbuf);
                    // ic: L2 blocks of A rows.
                    for ic in (0..s.m).step_by(kern.mc) {
                        let mc = kern.mc.min(s.m - ic);
                        let asrc = Block {
                            ptr: s.a.ptr.offset(ic as isize * s.a.rs + pc as isize * s.a.cs),
                            rs: s.a.rs,
                            cs: s.a.cs,
                            rows: mc,
                            cols: kc,
                        };
                        pack_a(asrc, mr, abuf);
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
                                abuf,
                                bbuf,
                            },
                        );
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
    abuf: *const T,
    bbuf: *const T,
}

#[inline]
unsafe fn macro_kernel<T: GemmScalar>(s: &Single<T>, kern: &Kernel<T>, blk: MacroBlock<T>) {
    let (mr, nr, kc) = (kern.mr, kern.nr, blk.kc);
    // jr: B micro-panels (L1-resident while every A micro-panel passes over it).
    for jr in (0..blk.nc).step_by(nr) {
        let bpanel = blk.bbuf.add(jr * kc);
        let col = blk.jc + jr;
        // ir: A micro-panels.
        for ir in (0..blk.mc).step_by(mr) {
            let row = blk.ic + ir;
            let tile = MicroTile {
                kc,
                a: blk.abuf.add(ir * kc),
                b: bpanel,
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
            (kern.micro)(&tile);
        }
    }
}
