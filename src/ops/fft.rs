//! Discrete Fourier transform over the last complex axis: `x` is `[..., n, 2]` (real and
//! imaginary parts), the result has the same shape. The forward transform is unscaled, the inverse
//! scaled by 1/n (NumPy's and Keras' "backward" normalization). Both are linear, and the adjoint
//! of one is the other up to the scale, which gives the backward rule.

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::fft::fft_rows;
use crate::tensor::Tensor;
use crate::with_float;

use super::{contiguous, finish};

fn check(x: &Tensor) -> Result<(usize, usize)> {
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            "fft",
            format!("expected a float tensor, got {}", x.dtype()),
        ));
    }
    let s = x.shape();
    if s.len() < 2 || s[s.len() - 1] != 2 {
        return Err(Error::shape(
            "fft",
            format!("expected a [..., n, 2] tensor (real and imaginary parts), got shape {s:?}"),
        ));
    }
    let n = s[s.len() - 2];
    let rows = s[..s.len() - 2].iter().product();
    Ok((rows, n))
}

/// The transform without recording (`scale` multiplies the result).
pub(crate) fn fft_raw(x: &Tensor, inverse: bool, scale: f64) -> Result<Tensor> {
    let (rows, n) = check(x)?;
    let xc = contiguous(x)?;
    let out = Tensor::empty(xc.shape(), xc.dtype())?;
    // SAFETY: both buffers hold rows * n * 2 elements of the dtype and are distinct.
    with_float!(xc.dtype(), T => unsafe {
        fft_rows(xc.data_ptr::<T>() as *const T, out.data_ptr::<T>(), rows, n, inverse, scale)
    }?, _ => unreachable!());
    Ok(out)
}

/// Forward (`inverse = false`, unscaled) or inverse (scaled by 1/n) DFT over axis -2 of a
/// `[..., n, 2]` float tensor.
pub fn fft(x: &Tensor, inverse: bool) -> Result<Tensor> {
    let (_, n) = check(x)?;
    let scale = if inverse && n > 0 {
        1.0 / n as f64
    } else {
        1.0
    };
    let out = fft_raw(x, inverse, scale)?;
    Ok(finish(out, Op::Fft { inverse }, &[x], vec![]))
}

/// The gradient of `fft(x, inverse)` for the output gradient `g`.
pub(crate) fn fft_backward(g: &Tensor, inverse: bool) -> Result<Tensor> {
    let (_, n) = check(g)?;
    if inverse {
        fft_raw(g, false, if n > 0 { 1.0 / n as f64 } else { 1.0 })
    } else {
        fft_raw(g, true, 1.0)
    }
}
