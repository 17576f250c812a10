//! NumPy interop: tensors as arrays that share memory, arrays as tensors that share memory when
//! they are C-contiguous, aligned, writeable, native-endian and of a supported dtype.

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
        let conv = np.call_method1("array", (arr, d))?;
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
    let owner = ArrayOwner(arr.clone().into_any().unbind());
    // SAFETY: the array is C-contiguous, aligned, of dtype `want`, holds n elements, and the
    // owner keeps it alive as long as the storage.
    let storage =
        unsafe { Storage::from_external(NonNull::new_unchecked(data), n, want, Box::new(owner)) };
    Ok(Tensor::from_parts(
        Arc::new(storage),
        Layout::contiguous(&shape),
    ))
}
