//! The tensor handle.
//!
//! A `Tensor` is a cheap `Arc` handle to {storage, layout, requires_grad flag, grad slot, tape
//! node}. Cloning shares everything; views share the storage with a new layout. Tensors are
//! immutable as values: ops return new tensors, and the only in-place writes are explicit ones
//! (optimizer updates, `assign`, `__setitem__`). Those bump the storage's version counter; the
//! tape records the version of every tensor a backward rule reads, and `backward` refuses a rule
//! whose saved tensors were written since (see `autograd/mod.rs`). `assign` also refuses, in grad
//! mode, a target that requires grad (the write would not be differentiated).
//!
//! Memory safety rests on one invariant: a tensor's layout addresses only elements inside its
//! storage. Every constructor either checks it (`from_parts`, `with_layout`: an error, not a
//! tensor, when the layout reaches outside) or reuses a layout already checked for the same
//! storage (`detach`, `with_grad_fn`, a contiguous layout over a fresh buffer of its size).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::autograd::Node;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::shape::checked_numel;
use crate::storage::Storage;

pub struct TensorInner {
    storage: Arc<Storage>,
    layout: Layout,
    requires_grad: AtomicBool,
    grad: Mutex<Option<Tensor>>,
    grad_fn: Option<Arc<Node>>,
}

/// A shared handle to an n-dimensional array (see the module docs).
#[derive(Clone)]
pub struct Tensor(Arc<TensorInner>);

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tensor(shape={:?}, dtype={})",
            self.shape(),
            self.dtype()
        )
    }
}

impl Tensor {
    /// The one place a `TensorInner` is built. Callers guarantee that `layout` lies within
    /// `storage` (checked, or inherited from a tensor over the same storage).
    fn assemble(storage: Arc<Storage>, layout: Layout, grad_fn: Option<Arc<Node>>) -> Tensor {
        debug_assert!(layout.check_within("tensor", storage.len()).is_ok());
        Tensor(Arc::new(TensorInner {
            storage,
            layout,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
            grad_fn,
        }))
    }

    /// A leaf tensor over `storage` with `layout`. Errors (instead of building a tensor that
    /// would read or write outside the buffer) when the layout addresses any element outside
    /// the storage, or its span overflows.
    pub fn from_parts(storage: Arc<Storage>, layout: Layout) -> Result<Tensor> {
        layout.check_within("from_parts", storage.len())?;
        Ok(Tensor::assemble(storage, layout, None))
    }

    /// `buf` as the output of a recorded op (same storage and layout, with `grad_fn` set).
    pub(crate) fn with_grad_fn(buf: &Tensor, grad_fn: Arc<Node>) -> Tensor {
        Tensor::assemble(
            Arc::clone(&buf.0.storage),
            buf.0.layout.clone(),
            Some(grad_fn),
        )
    }

    /// A contiguous tensor of `shape` over a fresh buffer the caller fills completely.
    pub fn empty(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let n = checked_numel("empty", shape)?;
        let s = Storage::new_uninit(dtype, n)?;
        // A contiguous layout of n elements at offset 0 over a buffer of n elements.
        Ok(Tensor::assemble(
            Arc::new(s),
            Layout::contiguous(shape),
            None,
        ))
    }

    /// A contiguous tensor holding `data` with `shape`.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel("tensor", shape)?;
        if n != data.len() {
            return Err(Error::shape(
                "tensor",
                format!(
                    "{} values cannot fill shape {shape:?} ({n} elements)",
                    data.len()
                ),
            ));
        }
        let t = Tensor::empty(shape, T::DTYPE)?;
        // SAFETY: fresh buffer of n elements of T.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), t.data_ptr::<T>(), n) };
        Ok(t)
    }

    /// A 0-d tensor.
    pub fn scalar<T: Element>(v: T) -> Result<Tensor> {
        Tensor::from_vec(vec![v], &[])
    }

    // ---- accessors -------------------------------------------------------------------------

    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }
    #[inline]
    pub fn strides(&self) -> &[isize] {
        &self.0.layout.strides
    }
    #[inline]
    pub fn offset(&self) -> usize {
        self.0.layout.offset
    }
    #[inline]
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }
    #[inline]
    pub fn dtype(&self) -> DType {
        self.0.storage.dtype()
    }
    #[inline]
    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }
    #[inline]
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }
    #[inline]
    pub fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }
    /// Whether two handles are the same tensor object.
    pub fn same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// Whether two tensors share storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// How many in-place writes this tensor's storage has seen (shared by all its views).
    #[inline]
    pub fn version(&self) -> u64 {
        self.0.storage.version()
    }

    /// Records an in-place write to this tensor's storage (see [`Storage::bump_version`]).
    #[inline]
    pub fn bump_version(&self) {
        self.0.storage.bump_version()
    }

    /// Pointer to the first logical element (`offset` applied).
    #[inline]
    pub fn data_ptr<T: Element>(&self) -> *mut T {
        // SAFETY: every constructor checked the layout against the storage (module docs), so
        // offset <= storage.len() and the result points into the buffer or one past its end.
        unsafe { self.0.storage.ptr::<T>().add(self.0.layout.offset) }
    }

    /// Byte pointer to the first logical element (`offset` applied).
    #[inline]
    pub fn data_byte_ptr(&self) -> *mut u8 {
        // SAFETY: as in `data_ptr`: offset <= storage.len(), so offset * size stays within the
        // buffer's bytes or one past its end.
        unsafe {
            self.0
                .storage
                .as_byte_ptr()
                .add(self.0.layout.offset * self.dtype().size())
        }
    }

    /// The elements in row-major order (copies when the tensor is a strided view).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            return Err(Error::dtype(
                "to_vec",
                format!(
                    "tensor has dtype {} but {} was requested",
                    self.dtype(),
                    T::DTYPE
                ),
            ));
        }
        let c = crate::ops::contiguous_nograd(self)?;
        // SAFETY: contiguous tensor with numel elements of T.
        Ok(unsafe { std::slice::from_raw_parts(c.data_ptr::<T>(), c.numel()) }.to_vec())
    }

    /// The elements converted to int64 (exact for integer and bool tensors).
    pub fn to_vec_any_i64(&self) -> Result<Vec<i64>> {
        crate::ops::cast_nograd(self, DType::I64)?.to_vec::<i64>()
    }

    /// The single element of a one-element tensor, as f64.
    pub fn item_f64(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(Error::value(
                "item",
                format!(
                    "only one-element tensors can be converted to a scalar, got shape {:?}",
                    self.shape()
                ),
            ));
        }
        Ok(crate::with_dtype!(self.dtype(), T => unsafe { (*self.data_ptr::<T>()).to_f64() }))
    }

    // ---- autograd state ---------------------------------------------------------------------

    /// Whether gradients flow to or through this tensor.
    #[inline]
    pub fn requires_grad(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// Marks a leaf as a parameter to differentiate with respect to.
    pub fn set_requires_grad(&self, flag: bool) -> Result<()> {
        if self.0.grad_fn.is_some() {
            return Err(Error::autograd(
                "requires_grad",
                "can only change requires_grad on leaf tensors; use detach() to get a new leaf",
            ));
        }
        if flag && !self.dtype().is_float() {
            return Err(Error::dtype(
                "requires_grad",
                format!(
                    "only floating-point tensors can require gradients, got {}",
                    self.dtype()
                ),
            ));
        }
        self.0.requires_grad.store(flag, Ordering::Relaxed);
        Ok(())
    }

    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    #[inline]
    pub fn grad_fn(&self) -> Option<&Arc<Node>> {
        self.0.grad_fn.as_ref()
    }

    /// The accumulated gradient of a leaf.
    pub fn grad(&self) -> Option<Tensor> {
        match self.0.grad.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replaces the stored gradient.
    pub fn set_grad(&self, g: Option<Tensor>) -> Result<()> {
        if let Some(g) = &g {
            if g.shape() != self.shape() || g.dtype() != self.dtype() {
                return Err(Error::shape(
                    "grad",
                    format!(
                        "assigned gradient has shape {:?} and dtype {} but the tensor has shape {:?} and dtype {}",
                        g.shape(),
                        g.dtype(),
                        self.shape(),
                        self.dtype()
                    ),
                ));
            }
        }
        let mut slot = match self.0.grad.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        *slot = g;
        Ok(())
    }

    /// Adds `g` into the stored gradient (used by backward).
    pub(crate) fn accumulate_grad(&self, g: Tensor) -> Result<()> {
        let mut slot = match self.0.grad.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let new = match slot.take() {
            None => crate::ops::contiguous_nograd(&g)?,
            Some(old) => crate::ops::add_nograd(&old, &g)?,
        };
        *slot = Some(new);
        Ok(())
    }

    /// A new leaf sharing this tensor's data (and version counter), cut off from the tape.
    pub fn detach(&self) -> Tensor {
        // Same storage, same (already checked) layout.
        Tensor::assemble(self.0.storage.clone(), self.0.layout.clone(), None)
    }

    /// A view of the same storage with another layout and no tape node (internal building
    /// block). The layout is checked against the storage like `from_parts`: the view helpers
    /// trust their normalised arguments, and this is the last check before kernels do pointer
    /// arithmetic with the result.
    /// An empty view addresses nothing: its offset is reset to 0, so that slicing an empty tensor
    /// (`x[..., 1]` of a (2, 0, 2) tensor) never points past the buffer.
    pub(crate) fn with_layout(&self, mut layout: Layout) -> Result<Tensor> {
        if layout.numel() == 0 {
            layout.offset = 0;
        }
        layout.check_within("view", self.0.storage.len())?;
        Ok(Tensor::assemble(self.0.storage.clone(), layout, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(n: usize) -> Arc<Storage> {
        Arc::new(Storage::zeros(DType::F32, n).unwrap())
    }

    #[test]
    fn empty_views_of_empty_storage_are_allowed() {
        let t = Tensor::from_parts(storage(0), Layout::contiguous(&[2, 0, 2])).unwrap();
        let l = Layout::new(&[2, 0, 1], &[2, 2, 1], 1).unwrap();
        let v = t.with_layout(l).unwrap();
        assert_eq!(v.shape(), &[2, 0, 1]);
        assert_eq!(v.numel(), 0);
    }

    #[test]
    fn from_parts_accepts_layouts_inside_the_storage() {
        let t = Tensor::from_parts(storage(6), Layout::contiguous(&[2, 3])).unwrap();
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![0.0; 6]);
        // Transposed, reversed, broadcast and offset views of the same six elements.
        for (shape, strides, offset) in [
            (vec![3, 2], vec![1, 3], 0),
            (vec![6], vec![-1], 5),
            (vec![4, 3], vec![0, 1], 3),
            (vec![0, 9], vec![9, 1], 6),
        ] {
            let l = Layout::new(&shape, &strides, offset).unwrap();
            assert!(
                Tensor::from_parts(storage(6), l).is_ok(),
                "{shape:?} {strides:?}"
            );
        }
    }

    #[test]
    fn from_parts_refuses_layouts_outside_the_storage() {
        for (shape, strides, offset) in [
            (vec![2, 3], vec![3, 1], 1), // one past the end
            (vec![7], vec![1], 0),       // too many elements
            (vec![3], vec![3], 0),       // stride steps past the end
            (vec![3], vec![-1], 1),      // negative stride walks below 0
            (vec![2], vec![1], 1 << 62), // offset far outside
            (vec![0], vec![1], 7),       // empty but offset past the end
        ] {
            let l = Layout::new(&shape, &strides, offset).unwrap();
            let e = Tensor::from_parts(storage(6), l).unwrap_err();
            assert!(matches!(e, Error::Value { .. }), "{e}");
            assert!(e.to_string().contains("from_parts"), "{e}");
            assert!(
                e.to_string().contains("outside a storage of 6 elements"),
                "{e}"
            );
        }
        // Overflowing spans are refused when the layout is built.
        assert!(Layout::new(&[1 << 40, 1 << 40], &[1 << 40, 1], 0).is_err());
    }

    #[test]
    fn with_layout_checks_too() {
        let t = Tensor::from_parts(storage(6), Layout::contiguous(&[6])).unwrap();
        assert!(t.with_layout(Layout::contiguous(&[2, 3])).is_ok());
        let e = t.with_layout(Layout::contiguous(&[2, 4])).unwrap_err();
        assert!(e.to_string().contains("view"), "{e}");
    }

    #[test]
    fn views_share_the_version_counter() {
        let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
        let v = t.with_layout(Layout::contiguous(&[1, 3])).unwrap();
        let d = t.detach();
        assert_eq!(t.version(), 0);
        v.bump_version();
        assert_eq!((t.version(), d.version()), (1, 1));
        let c = crate::ops::copy_owned(&t).unwrap();
        assert_eq!(c.version(), 0);
    }
}
