"""``layers.STFTSpectrogram``: short-time Fourier transforms as two strided 1-D convolutions with
``initializers.STFT`` kernels (Keras' construction: the real and imaginary parts of the windowed
Fourier basis), so the spectrogram runs on the core's convolution kernels and its kernels can be
trained. Modes, shapes, padding and the epsilon floors follow Keras 3.15."""
from __future__ import annotations

import math
import warnings

from .. import backend, initializers, ops
from .conv import standardize_data_format
from .input_spec import InputSpec
from .layer import Layer

_MODES = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class STFTSpectrogram(Layer):
    """Spectrograms of (batch, time, channels) signals (or (batch, channels, time) with
    ``data_format="channels_first"``).

    Args:
        mode: "log" (log magnitude, the default), "magnitude", "psd" (one-sided power spectral
            density), "real", "imag", "angle" or "stft" (real and imaginary parts concatenated).
        frame_length: samples per frame (the window length).
        frame_step: samples between frames (default ``frame_length // 2``).
        fft_length: FFT size, at least ``frame_length`` (default: the next power of two).
        window, periodic, scaling: as ``initializers.STFT``.
        padding: "valid" or "same".
        expand_dims: keep channels and frequencies apart: (batch, time, freq, channels) instead
            of (batch, time, channels * freq).
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann", periodic=False,
                 scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("`frame_step` should be a positive integer not greater than `frame_length`. Received "
                             f"frame_step={frame_step}, frame_length={frame_length}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. Received "
                             f"fft_length={fft_length}, frame_length={frame_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}",
                          stacklevel=2)
        if mode not in _MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_MODES)}. Received: mode={mode}")
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        if padding not in ["valid", "same"]:
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding}")
        if isinstance(window, str):
            initializers.STFT("real", window)  # an unknown window fails here, as in Keras
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step, self.fft_length = mode, frame_length, frame_step, fft_length
        self._frame_step = frame_step or frame_length // 2
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window, self.periodic, self.scaling, self.padding = window, periodic, scaling, padding
        self.expand_dims = expand_dims
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=initializers.STFT(
                "real", self.window, self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=initializers.STFT(
                "imag", self.window, self.scaling, self.periodic))
        self.built = True

    def _apply_conv(self, inputs, kernel):
        """(batch, channels, freq, frames): every channel framed and projected on its own."""
        if self.data_format == "channels_last":
            _, time_seq, channels = inputs.shape
            x = ops.transpose(inputs, (0, 2, 1))
        else:
            _, channels, time_seq = inputs.shape
            x = inputs
        x = ops.reshape(x, (-1, time_seq, 1))
        y = ops.conv(x, ops.cast(kernel, x.dtype), strides=self._frame_step, padding=self.padding)
        y = ops.transpose(y, (0, 2, 1))  # (batch * channels, freq, frames)
        return ops.reshape(y, (-1, channels, y.shape[1], y.shape[2]))

    def _adjust_shapes(self, outputs):
        _, channels, freq, frames = outputs.shape
        if self.expand_dims:
            return ops.transpose(outputs, (0, 3, 2, 1) if self.data_format == "channels_last" else (0, 1, 3, 2))
        outputs = ops.reshape(outputs, (-1, channels * freq, frames))
        return ops.transpose(outputs, (0, 2, 1)) if self.data_format == "channels_last" else outputs

    def call(self, inputs):
        if inputs.dtype not in ("float16", "float32", "float64"):
            raise TypeError(f"Invalid input type. Expected `float16`, `float32` or `float64`. Received: input "
                            f"type={inputs.dtype}")
        real = self._apply_conv(inputs, self.real_kernel) if self.mode != "imag" else None
        imag = self._apply_conv(inputs, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._adjust_shapes(real)
        if self.mode == "imag":
            return self._adjust_shapes(imag)
        if self.mode == "angle":
            return self._adjust_shapes(ops.arctan2(imag, real))
        if self.mode == "stft":
            return self._adjust_shapes(ops.concatenate([real, imag], axis=2))
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":
            # one-sided: the bins between DC and Nyquist count twice
            return self._adjust_shapes(power + ops.pad(power[:, :, 1:-1, :], [(0, 0), (0, 0), (1, 1), (0, 0)]))
        eps = backend.epsilon()
        linear = self._adjust_shapes(ops.sqrt(ops.maximum(power, eps)))
        return linear if self.mode == "magnitude" else ops.log(ops.maximum(linear, eps))

    def compute_output_shape(self, input_shape):
        channels_last = self.data_format == "channels_last"
        batch = input_shape[0]
        time_seq = input_shape[1] if channels_last else input_shape[2]
        channels = input_shape[-1] if channels_last else input_shape[1]
        freq = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time_seq is None:
            frames = None
        elif self.padding == "valid":
            frames = (time_seq - self.frame_length) // self._frame_step + 1
        else:
            frames = -(-time_seq // self._frame_step)
        if self.expand_dims:
            return (batch, frames, freq, channels) if channels_last else (batch, channels, frames, freq)
        flat = None if channels is None else freq * channels
        return (batch, frames, flat) if channels_last else (batch, flat, frames)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}
