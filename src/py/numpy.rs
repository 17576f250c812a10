//! NumPy interop: tensors as arrays that share memory, arrays as tensors that share memory when
//! they are C-contiguous, aligned, writeable, native-endian and of a supported dtype.
//!
//! Bool arrays: Rust's `bool` must be the byte 0 or 1, but a NumPy bool array can hold any byte
//! (`np.array([0, 1, 2], np.uint8).view(bool)`, ctypes, a memory-mapped file). NumPy itself
//! reads such bytes as "nonzero is True" (`bool(a[2])`, boolean indexing), so `from_numpy`
//! checks every byte of a bool array (one vectorised pass over a mask, far cheaper than the copy
//! it may save) and, when one is neither 0 nor 1, returns a private copy with every nonzero byte
//! turned into True instead of sharing the memory. We normalise rather than raise because the
//! array is valid NumPy and has one obvious meaning; a ValueError would make users hunt for a
//! problem NumPy does not see. The limit, as in PyTorch: bytes written later through NumPy into
//! memory shared with a tensor (in either direction) are not re-checked.

use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Arc;

use numpy::npyffi::{self, npy_intp, PY_ARRAY_API};
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::dtype::DType;
use crate::layout::Layout;
use crate::storage::Storage;
use crate::tensor::Tensor;

fn descr<'py>(py: Python<'py>, d: DType) -> Bound<'py, numpy::PyArrayDescr> {
    match d {
        DType::F32 => numpy::dtype::<f32>(py),
        DType::F64 => numpy::dtype::<f64>(py),
        DType::I32 => numpy::dtype::<i32>(py),
        DType::I64 => numpy::dtype::<i64>(py),
        DType::Bool => numpy::dtype::<bool>(py),
    }
}

/// A NumPy array viewing `t`'s memory; `owner` (the Python tensor) keeps the storage alive.
pub fn to_numpy<'py>(
    py: Python<'py>,
    t: &Tensor,
    owner: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let item = t.dtype().size() as isize;
    let mut dims: Vec<npy_intp> = t.shape().iter().map(|&d| d as npy_intp).collect();
    let mut strides: Vec<npy_intp> = t
        .strides()
        .iter()
        .map(|&s| (s * item) as npy_intp)
        .collect();
    // SAFETY: the data pointer and strides address only elements inside the storage (layout
    // invariant); the base object keeps the storage alive as long as the array.
    unsafe {
        let data = t.storage().as_byte_ptr().add(t.offset() * t.dtype().size());
        let d = descr(py, t.dtype());
        let ptr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            d.into_dtype_ptr(),
            dims.len() as std::ffi::c_int,
            dims.as_mut_ptr(),
            strides.as_mut_ptr(),
            data as *mut c_void,
            npyffi::NPY_ARRAY_WRITEABLE,
            std::ptr::null_mut(),
        );
        if ptr.is_null() {
            return Err(PyErr::fetch(py));
        }
        let arr = Bound::from_owned_ptr(py, ptr);
        let base = owner.into_ptr();
        if PY_ARRAY_API.PyArray_SetBaseObject(py, ptr as *mut npyffi::PyArrayObject, base) < 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(arr)
    }
}

/// The tensor dtype an array dtype maps to (copying conversions for the unsupported widths).
fn target_dtype(arr: &Bound<'_, PyUntypedArray>) -> PyResult<(DType, bool)> {
    let d = arr.dtype();
    let kind = d.kind();
    let size = d.itemsize();
    // (dtype, exact: whether the array's own memory has exactly this layout)
    Ok(match (kind, size) {
        (b'f', 4) => (DType::F32, true),
        (b'f', 8) => (DType::F64, true),
        (b'f', 2) => (DType::F32, false),
        (b'i', 4) => (DType::I32, true),
        (b'i', 8) => (DType::I64, true),
        (b'i', 1) | (b'i', 2) | (b'u', 1) | (b'u', 2) => (DType::I32, false),
        (b'u', 4) | (b'u', 8) => (DType::I64, false),
        (b'b', 1) => (DType::Bool, true),
        _ => {
            return Err(PyTypeError::new_err(format!(
                "from_numpy: unsupported array dtype {}; expected a float, integer or bool array",
                d.str()?
            )))
        }
    })
}

/// `None` when every byte is 0 or 1 (the memory can be shared as `bool`); otherwise a fresh
/// bool tensor of `shape` holding `byte != 0` (see the module docs).
fn normalised_bool_copy(bytes: &[u8], shape: &[usize]) -> PyResult<Option<Tensor>> {
    // `fold` with `|` rather than `any`: no early exit, so the loop vectorises.
    if bytes.iter().fold(0u8, |acc, &b| acc | (b & !1)) == 0 {
        return Ok(None);
    }
    let t = Tensor::empty(shape, DType::Bool)?;
    let out = t.data_ptr::<bool>();
    for (i, &b) in bytes.iter().enumerate() {
        // SAFETY: `t` is a fresh contiguous buffer of bytes.len() bools that nothing else sees
        // yet; raw writes (no reference to the stale bytes) fill every element with a valid
        // bool before the tensor is returned.
        unsafe { out.add(i).write(b != 0) };
    }
    Ok(Some(t))
}

/// Holds the NumPy array whose memory a tensor borrows.
struct ArrayOwner(#[allow(dead_code)] Py<PyAny>);

/// A tensor over `arr`'s memory when possible (see the module docs), else over a converted copy.
/// `dtype` forces a conversion; `copy` forces a private copy.
pub fn from_numpy(
    py: Python<'_>,
    arr: &Bound<'_, PyUntypedArray>,
    dtype: Option<DType>,
    copy: bool,
) -> PyResult<Tensor> {
    let (natural, exact) = target_dtype(arr)?;
    let want = dtype.unwrap_or(natural);
    if arr.dtype().kind() == b'u'
        && arr.dtype().itemsize() == 8
        && want == DType::I64
        && arr.len() > 0
    {
        // numpy's astype would wrap 2**64 - 1 to -1 silently; one max() over a rare dtype instead.
        let max: u64 = arr.call_method0("max")?.extract()?;
        if max > i64::MAX as u64 {
            return Err(pyo3::exceptions::PyOverflowError::new_err(format!(
                "from_numpy: uint64 value {max} does not fit int64 (max {}); expected values below 2**63, or pass dtype='float64'",
                i64::MAX
            )));
        }
    }
    let flags = unsafe { (*arr.as_array_ptr()).fields.flags };
    let aligned = flags & npyffi::NPY_ARRAY_ALIGNED != 0;
    let writeable = flags & npyffi::NPY_ARRAY_WRITEABLE != 0;
    let native = arr.dtype().is_native_byteorder().unwrap_or(true);
    let shareable = exact
        && want == natural
        && aligned
        && writeable
        && native
        && arr.is_c_contiguous()
        && !copy;
    let arr: Bound<'_, PyUntypedArray> = if shareable {
        arr.clone()
    } else {
        let np = py.import("numpy")?;
        let d = descr(py, want);
        // order="C": the default order="K" keeps a transposed (Fortran-ordered) array Fortran-
        // ordered, and reading that buffer as C-contiguous transposed the values.
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("order", "C")?;
        let conv = np.call_method("array", (arr, d), Some(&kwargs))?;
        // np.array copies into a fresh C-contiguous, aligned, native array of `want`.
        conv.cast_into::<PyUntypedArray>()
            .map_err(|e| PyTypeError::new_err(e.to_string()))?
    };
    let shape: Vec<usize> = arr.shape().to_vec();
    let n: usize = shape.iter().product();
    let data = unsafe { (*arr.as_array_ptr()).fields.data } as *mut u8;
    // Zero-size arrays may have a dangling data pointer: give them their own buffer.
    if n == 0 || data.is_null() {
        return Ok(Tensor::empty(&shape, want)?);
    }
    if want == DType::Bool {
        // SAFETY: the array is C-contiguous and holds n one-byte elements at `data`; we hold
        // the GIL, so no Python code writes them while we read.
        let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, n) };
        if let Some(t) = normalised_bool_copy(bytes, &shape)? {
            return Ok(t);
        }
    }
    let owner = ArrayOwner(arr.clone().into_any().unbind());
    // SAFETY: the array is C-contiguous, aligned, of dtype `want`, holds n elements, and the
    // owner keeps it alive as long as the storage.
    let storage =
        unsafe { Storage::from_external(NonNull::new_unchecked(data), n, want, Box::new(owner)) };
    Ok(Tensor::from_parts(
        Arc::new(storage),
        Layout::contiguous(&shape),
    )?)
}
