//! Storage: one shared, 64-byte-aligned buffer of elements of one dtype.
//!
//! Storage is shared by every view of it (`Arc<Storage>`). Buffers come from the caching
//! allocator (`alloc.rs`) or from outside (a NumPy array whose memory a tensor borrows, kept alive
//! by an owner handle). Mutation goes through raw pointers: a kernel writes only into storage it
//! just created, or into storage an in-place op (optimizer update, `__setitem__`) targets under the
//! caller's exclusive use; this mirrors NumPy and PyTorch, where views alias freely.
//!
//! Version counter (as PyTorch's): every in-place write through the crate's API (`assign`,
//! `__setitem__`, the fused optimizer step) bumps the storage's `version`, so every view of the
//! storage sees it. The tape records the versions of the tensors a backward rule will read and
//! `backward` refuses to run a rule whose inputs changed since (`autograd/mod.rs`). One relaxed
//! atomic add per in-place op, one load per recorded input: no scan, nothing in the kernels.
//! Writes the crate cannot see (through a NumPy array sharing the memory) do not count, as in
//! PyTorch.

use std::any::Any;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::alloc;
use crate::dtype::{DType, Element};
use crate::error::Result;

enum Owner {
    /// Returned to the caching allocator on drop.
    Pool { class: usize },
    /// Memory owned by someone else (e.g. a NumPy array); dropping the box releases it.
    External(#[allow(dead_code)] Box<dyn Any + Send + Sync>),
}

pub struct Storage {
    ptr: NonNull<u8>,
    len: usize,
    dtype: DType,
    owner: Owner,
    /// In-place writes so far (see the module docs).
    version: AtomicU64,
}

// SAFETY: the buffer is plain memory; concurrent access discipline is the kernels' contract
// (outputs are written by disjoint tasks, inputs only read).
unsafe impl Send for Storage {}
unsafe impl Sync for Storage {}

impl Storage {
    /// A buffer of `len` elements whose contents are unspecified (zeros or stale values of an
    /// earlier tensor). The caller must write every element before reading it.
    pub fn new_uninit(dtype: DType, len: usize) -> Result<Storage> {
        let bytes = len.checked_mul(dtype.size()).ok_or_else(|| {
            crate::error::Error::memory(
                "alloc",
                format!("{len} elements of {dtype} need more bytes than the address space holds"),
            )
        })?;
        let (ptr, class) = alloc::acquire(bytes)?;
        Ok(Storage {
            ptr,
            len,
            dtype,
            owner: Owner::Pool { class },
            version: AtomicU64::new(0),
        })
    }

    /// A zero-filled buffer.
    pub fn zeros(dtype: DType, len: usize) -> Result<Storage> {
        let s = Storage::new_uninit(dtype, len)?;
        // SAFETY: the buffer has len*size bytes.
        unsafe { std::ptr::write_bytes(s.ptr.as_ptr(), 0, len * dtype.size()) };
        Ok(s)
    }

    /// Wraps memory owned elsewhere.
    ///
    /// # Safety
    /// `ptr` must be valid for `len` elements of `dtype`, aligned for it, and stay valid while
    /// `owner` is alive.
    pub unsafe fn from_external(
        ptr: NonNull<u8>,
        len: usize,
        dtype: DType,
        owner: Box<dyn Any + Send + Sync>,
    ) -> Storage {
        Storage {
            ptr,
            len,
            dtype,
            owner: Owner::External(owner),
            version: AtomicU64::new(0),
        }
    }

    #[inline]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// How many in-place writes the storage has seen (shared by all its views).
    #[inline]
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records one in-place write. Every op that writes into an existing tensor's storage calls
    /// this after the write, so a tape node that saved the tensor sees the change.
    #[inline]
    pub fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn as_byte_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Typed base pointer. `T` must match the dtype (checked in debug builds).
    #[inline]
    pub fn ptr<T: Element>(&self) -> *mut T {
        debug_assert_eq!(T::DTYPE, self.dtype);
        self.ptr.as_ptr() as *mut T
    }

    /// The whole buffer as a slice.
    #[inline]
    pub fn as_slice<T: Element>(&self) -> &[T] {
        assert_eq!(
            T::DTYPE,
            self.dtype,
            "storage dtype mismatch (internal error)"
        );
        // SAFETY: the buffer holds len initialised elements of T.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr() as *const T, self.len) }
    }

    /// The whole buffer as a mutable slice.
    ///
    /// # Safety
    /// No other reference to the buffer's elements may be used while the slice lives.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice<T: Element>(&self) -> &mut [T] {
        assert_eq!(
            T::DTYPE,
            self.dtype,
            "storage dtype mismatch (internal error)"
        );
        std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut T, self.len)
    }

    /// Whether the memory belongs to someone else (a NumPy array).
    pub fn is_external(&self) -> bool {
        matches!(self.owner, Owner::External(_))
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Owner::Pool { class } = self.owner {
            // SAFETY: ptr came from alloc::acquire with this class and is not used again.
            unsafe { alloc::release(self.ptr, class) };
        }
    }
}
