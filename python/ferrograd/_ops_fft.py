"""Fourier ops of ``keras.ops``: ``fft``, ``fft2``, ``ifft2``, ``rfft``, ``irfft``, ``stft``,
``istft`` and ``extract_sequences``.

Complex values travel as Keras passes them, a tuple ``(real, imag)`` of float tensors of one shape.
All transforms run on one Rust kernel, ``_core.fft``: a DFT over axis -2 of a ``[..., n, 2]``
tensor (radix-2 for powers of two, Bluestein's chirp-z otherwise, so O(n log n) for every length;
f64 arithmetic inside). Real transforms are built around it with differentiable views, pads and
flips, so every op here has gradients. Normalization is NumPy's default ("backward"): forward
transforms are unscaled and inverse ones divide by n.
"""
from __future__ import annotations

import math

import numpy as _np

from . import _core
from . import ops as _ops

__all__ = ["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "extract_sequences"]


def _pair(x):
    """The (real, imag) tuple as one [..., n, 2] tensor."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x!r}")
    re, im = (_ops.convert_to_tensor(v) for v in x)
    if tuple(re.shape) != tuple(im.shape):
        raise ValueError("Input `x` should be a tuple of two tensors - real and imaginary. Both the real and "
                         f"imaginary parts should have the same shape. Received: x[0].shape = {tuple(re.shape)}, "
                         f"x[1].shape = {tuple(im.shape)}")
    if not (re.dtype.startswith("float") and im.dtype.startswith("float")):
        raise ValueError(f"At least one tensor in input `x` is not of type float. Received: dtypes {re.dtype} and "
                         f"{im.dtype}.")
    if re.dtype != im.dtype:
        dt = "float64" if "float64" in (re.dtype, im.dtype) else "float32"
        re, im = _ops.cast(re, dt), _ops.cast(im, dt)
    if re.ndim < 1:
        raise ValueError(f"fft: the inputs must have at least one axis, received shape {tuple(re.shape)}")
    return _ops.stack([re, im], axis=-1)


def _unpair(z):
    return z[..., 0], z[..., 1]


def _dft(z, inverse=False, axis=-2):
    """The DFT of the [..., 2] tensor ``z`` along ``axis`` (counted on z, so -2 is the last complex axis)."""
    if z.shape[axis] == 0:
        raise ValueError(f"fft: cannot transform an empty axis (shape {tuple(z.shape[:-1])})")
    if axis in (-2, z.ndim - 2):
        return _core.fft(z, inverse)
    z = _ops.swapaxes(z, axis, -2)
    return _ops.swapaxes(_core.fft(z, inverse), axis, -2)


def fft(x):
    """The discrete Fourier transform along the last axis of ``x = (real, imag)``; returns
    ``(real, imag)``."""
    return _unpair(_dft(_pair(x)))


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``."""
    z = _pair(x)
    if z.ndim < 3:
        raise ValueError(f"fft2: the inputs need at least two axes, received shape {tuple(z.shape[:-1])}")
    return _unpair(_dft(_dft(z), axis=-3))


def ifft2(x):
    """The 2-D inverse discrete Fourier transform (divided by the number of points) over the last
    two axes of ``x = (real, imag)``."""
    z = _pair(x)
    if z.ndim < 3:
        raise ValueError(f"ifft2: the inputs need at least two axes, received shape {tuple(z.shape[:-1])}")
    return _unpair(_dft(_dft(z, True), True, axis=-3))


def _fit_last(x, n):
    """``x`` cropped or zero-padded along the last axis to ``n``."""
    m = x.shape[-1]
    if n < m:
        return x[..., :n]
    if n > m:
        return _ops.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - m)])
    return x


def _length(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, _np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def rfft(x, fft_length=None):
    """The DFT of the real ``x`` along its last axis (cropped or zero-padded to ``fft_length``);
    returns the ``fft_length // 2 + 1`` non-negative frequencies as ``(real, imag)``."""
    x = _ops.convert_to_tensor(x)
    if not x.dtype.startswith("float"):
        x = _ops.cast(x, "float32")
    if x.ndim < 1:
        raise ValueError(f"rfft: the input must have at least one axis, received shape {tuple(x.shape)}")
    n = x.shape[-1] if fft_length is None else _length("fft_length", fft_length)
    x = _fit_last(x, n)
    z = _dft(_ops.stack([x, _ops.zeros_like(x)], axis=-1))
    return _unpair(z[..., : n // 2 + 1, :])


def irfft(x, fft_length=None):
    """The inverse of ``rfft``: from the non-negative frequencies ``x = (real, imag)`` (m of them)
    to a real signal of ``fft_length`` samples (default ``2 (m - 1)``); the negative frequencies
    are the conjugates, and the imaginary parts of the zero (and, for even lengths, Nyquist)
    frequencies are ignored, as NumPy does."""
    z = _pair(x)
    m = z.shape[-2]
    n = 2 * (m - 1) if fft_length is None else _length("fft_length", fft_length)
    if n < 1:
        raise ValueError(f"irfft: a spectrum of {m} bin(s) gives no samples; pass fft_length")
    half = n // 2 + 1
    if m > half:
        z = z[..., :half, :]
    elif m < half:
        z = _ops.pad(z, [(0, 0)] * (z.ndim - 2) + [(0, half - m), (0, 0)])
    tail = n - half  # bins half..n-1 mirror bins n-half..1
    if tail > 0:
        mirror = _ops.flip(z[..., 1:1 + tail, :], axis=-2)
        mirror = _ops.multiply(mirror, _ops.convert_to_tensor(_np.array([1.0, -1.0], dtype=z.dtype)))
        z = _ops.concatenate([z, mirror], axis=-2)
    return _dft(z, True)[..., 0]


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: ``(..., n) -> (..., num, sequence_length)`` with frame ``i``
    starting at ``i * sequence_stride`` and ``num = 1 + (n - sequence_length) // sequence_stride``."""
    x = _ops.convert_to_tensor(x)
    length = _length("sequence_length", sequence_length)
    stride = _length("sequence_stride", sequence_stride)
    if x.ndim < 1 or x.shape[-1] < length:
        raise ValueError(f"extract_sequences: the last axis ({tuple(x.shape)}) is shorter than "
                         f"sequence_length={length}")
    num = 1 + (x.shape[-1] - length) // stride
    idx = _np.arange(num, dtype=_np.int64)[:, None] * stride + _np.arange(length, dtype=_np.int64)[None, :]
    return _ops.take(x, _ops.convert_to_tensor(idx), axis=-1)


def _window(window, length, dtype):
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError('If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                             f"Received: window={window}")
        k = _ops.arange(length, dtype=dtype)
        c = _ops.cos(_ops.multiply(k, 2.0 * math.pi / length))  # periodic windows
        a = 0.5 if window == "hann" else 0.54
        return _ops.subtract(a, _ops.multiply(c, 1.0 - a))
    win = _ops.cast(_ops.convert_to_tensor(window), dtype)
    if win.ndim != 1 or win.shape[0] != length:
        raise ValueError(f"The shape of `window` must be equal to [sequence_length].Received: window shape="
                         f"{tuple(win.shape)}")
    return win


def _stft_args(sequence_length, sequence_stride, fft_length):
    length = _length("sequence_length", sequence_length)
    stride = _length("sequence_stride", sequence_stride)
    nfft = _length("fft_length", fft_length)
    if nfft < length:
        raise ValueError(f"`fft_length` must equal or larger than `sequence_length`. Received: "
                         f"sequence_length={length}, fft_length={nfft}")
    return length, stride, nfft


def _centered(win, length, nfft):
    left = (nfft - length) // 2
    return _ops.pad(win, [(left, nfft - length - left)]) if nfft > length else win


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform of the real signals ``x`` (..., samples): frames of
    ``sequence_length`` samples every ``sequence_stride``, multiplied by ``window`` ("hann",
    "hamming", None or a tensor of ``sequence_length``, centred in ``fft_length``), each
    transformed with ``rfft(fft_length)``. With ``center`` the signal is first padded by
    ``fft_length // 2`` on both sides by reflection. Returns ``(real, imag)``, each
    (..., frames, fft_length // 2 + 1)."""
    x = _ops.convert_to_tensor(x)
    if x.dtype not in ("float32", "float64"):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    length, stride, nfft = _stft_args(sequence_length, sequence_stride, fft_length)
    win = _window(window, length, x.dtype)
    if x.ndim < 1:
        raise ValueError(f"stft: the input must have at least one axis, received shape {tuple(x.shape)}")
    if center:
        p = nfft // 2
        if x.shape[-1] <= p:
            raise ValueError(f"stft: center=True reflects fft_length // 2 = {p} samples, which needs more than {p} "
                             f"samples; received {x.shape[-1]}")
        x = _ops.pad(x, [(0, 0)] * (x.ndim - 1) + [(p, p)], mode="reflect")
    frames = extract_sequences(x, nfft, stride)  # (..., F, nfft)
    if win is not None:
        frames = _ops.multiply(frames, _centered(win, length, nfft))
    elif nfft > length:
        frames = _ops.multiply(frames, _centered(_ops.ones((length,), dtype=x.dtype), length, nfft))
    return rfft(frames, nfft)


def _overlap_add(frames, stride):
    """Sums frames (..., N, L) placed every ``stride`` samples: (..., stride (N - 1) + L)."""
    *batch, n, length = frames.shape
    out_len = stride * (n - 1) + length
    idx = (_np.arange(n, dtype=_np.int64)[:, None] * stride + _np.arange(length, dtype=_np.int64)[None, :])
    flat = _ops.reshape(frames, (-1, n * length))  # (B, N L)
    summed = _ops.segment_sum(_ops.transpose(flat), _ops.convert_to_tensor(idx.reshape(-1)), num_segments=out_len)
    return _ops.reshape(_ops.transpose(summed), tuple(batch) + (out_len,))


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse of ``stft``: each frame of ``x = (real, imag)`` (..., frames, bins) is inverted with
    ``irfft(fft_length)``, windowed and overlap-added; ``center`` removes the ``fft_length // 2``
    padding and ``length`` crops (or zero-pads) the result.

    As Keras 3 computes it: with a window and ``sequence_length == fft_length`` and ``center`` (the
    usual case), the sum is divided by the overlap-added squared window (where it is above 1e-11),
    which inverts ``stft`` exactly; otherwise each frame is multiplied by the window divided by the
    squared window summed over the overlapping hop positions."""
    z = _pair(x)
    length_, stride, nfft = _stft_args(sequence_length, sequence_stride, fft_length)
    dtype = z.dtype
    win = _window(window, length_, dtype)
    frames = irfft(_unpair(z), nfft)  # (..., F, nfft)
    if frames.ndim < 2:
        raise ValueError(f"istft: expected (..., frames, bins) inputs, received shape {tuple(z.shape[:-1])}")
    nframes = frames.shape[-2]
    if win is not None and length_ == nfft and center:
        signal = _overlap_add(_ops.multiply(frames, win), stride)
        envelope = _overlap_add(_ops.broadcast_to(_ops.square(win), (nframes, nfft)), stride)
        ok = _ops.greater(envelope, 1e-11)
        signal = _ops.where(ok, _ops.divide(signal, _ops.where(ok, envelope, 1.0)), 0.0)
    else:
        if win is not None:
            win = _centered(win, length_, nfft)
            overlaps = -(-nfft // stride)
            denom = _ops.pad(_ops.square(win), [(0, overlaps * stride - nfft)])
            denom = _ops.sum(_ops.reshape(denom, (overlaps, stride)), axis=0)  # per hop phase
            denom = _ops.reshape(_ops.tile(denom, (overlaps,)), (overlaps * stride,))[:nfft]
            frames = _ops.multiply(frames, _ops.divide(win, denom))
        signal = _overlap_add(frames, stride)
    total = signal.shape[-1]
    start = nfft // 2 if center else 0
    if length is not None:
        end = start + int(length)
        if end > total:
            signal = _ops.pad(signal, [(0, 0)] * (signal.ndim - 1) + [(0, end - total)])
    else:
        end = total - nfft // 2 if center else total
    return signal[..., start:end]
