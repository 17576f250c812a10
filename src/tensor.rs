//! The tensor handle.
//!
//! A `Tensor` is a cheap `Arc` handle to {storage, layout, requires_grad flag, grad slot, tape
//! node}. Cloning shares everything; views share the storage with a new layout. Tensors are
//! immutable as values: ops return new tensors, and the only in-place writes are explicit ones
//! (optimizer updates, `assign`), which are refused on tensors the tape may still read.

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
    /// A leaf tensor over `storage` with `layout` (the layout must address only valid elements).
    pub fn from_parts(storage: Arc<Storage>, layout: Layout) -> Tensor {
        Tensor(Arc::new(TensorInner {
            storage,
            layout,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
            grad_fn: None,
        }))
    }

    /// A tensor produced by an op; `grad_fn` is set when the tape recorded it.
    pub(crate) fn from_op(
        storage: Arc<Storage>,
        layout: Layout,
        grad_fn: Option<Arc<Node>>,
    ) -> Tensor {
        Tensor(Arc::new(TensorInner {
            storage,
            layout,
            requires_grad: AtomicBool::new(false),
            grad: Mutex::new(None),
            grad_fn,
        }))
    }

    /// A contiguous tensor of `shape` over a fresh buffer the caller fills completely.
    pub fn empty(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let n = checked_numel("empty", shape)?;
        let s = Storage::new_uninit(dtype, n)?;
        Ok(Tensor::from_parts(Arc::new(s), Layout::contiguous(shape)))
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

    /// Pointer to the first logical element (`offset` applied).
    #[inline]
    pub fn data_ptr<T: Element>(&self) -> *mut T {
        // SAFETY: the layout invariant keeps offset inside the storage.
        unsafe { self.0.storage.ptr::<T>().add(self.0.layout.offset) }
    }

    /// Byte pointer to the first logical element (`offset` applied).
    #[inline]
    pub fn data_byte_ptr(&self) -> *mut u8 {
        // SAFETY: the layout invariant keeps offset inside the storage.
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

    /// A new leaf sharing this tensor's data, cut off from the tape.
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), self.0.layout.clone())
    }

    /// A view of the same storage with another layout and no tape node (internal building block).
    pub(crate) fn with_layout(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout)
    }
}
