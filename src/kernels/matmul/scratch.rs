//! Per-thread packing buffers, reused across calls so the GEMM allocates only when a thread
//! first needs a bigger buffer than it has had (never inside the blocked loops).
//!
//! The buffer is taken out of the thread-local slot for the duration of its use and put back
//! afterwards, rather than borrowed through a `RefCell`: if a Rayon worker ever ran a second GEMM
//! while one was in progress on the same thread (work stealing inside a join), the inner call
//! would simply allocate a fresh buffer instead of panicking on a double borrow.

use std::cell::Cell;

/// One 64-byte, 64-byte-aligned unit: packed panels start on cache-line boundaries.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

thread_local! {
    static A_BUF: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
    static B_BUF: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
    static SHARED_BUF: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
    static PATCH_BUF: Cell<Vec<Line>> = const { Cell::new(Vec::new()) };
}

/// Which of the thread's buffers to use (A and B blocks are live at the same time; `Shared`
/// holds an operand packed once for every thread of one product, owned by the calling thread,
/// at most 16 MiB (`loops::SHARED_PACK_BYTES`) and kept for the next product like the others;
/// `Patch` is a convolution's gathered patch tile, live while the GEMM uses A and B).
#[derive(Clone, Copy)]
pub enum Slot {
    A,
    B,
    Shared,
    Patch,
}

/// Runs `f` with a pointer to at least `elems` values of `T` (64-byte aligned, contents
/// unspecified) from the calling thread's buffer `slot`.
pub fn with_buffer<T, R>(slot: Slot, elems: usize, f: impl FnOnce(*mut T) -> R) -> R {
    let key = match slot {
        Slot::A => &A_BUF,
        Slot::B => &B_BUF,
        Slot::Shared => &SHARED_BUF,
        Slot::Patch => &PATCH_BUF,
    };
    let bytes = elems.saturating_mul(std::mem::size_of::<T>());
    let lines = bytes.div_ceil(64).max(1);
    let mut buf = key.with(|c| c.take());
    if buf.len() < lines {
        buf = vec![Line([0; 64]); lines];
    }
    let r = f(buf.as_mut_ptr().cast::<T>());
    key.with(|c| c.set(buf));
    r
}
