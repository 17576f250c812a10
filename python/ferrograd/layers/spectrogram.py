"""``layers.STFTSpectrogram`` and ``layers.MelSpectrogram``. STFTSpectrogram: short-time Fourier
transforms as two strided 1-D convolutions with
``initializers.STFT`` kernels (Keras' construction: the real and imaginary parts of the windowed
Fourier basis), so the spectrogram runs on the core's convolution kernels and its kernels can be
trained. Modes, shapes, padding and the epsilon floors follow Keras 3.15. MelSpectrogram runs
``ops.stft`` (the FFT kernel) and a mel filter bank."""
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


_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _hertz_to_mel(hz):
    return ops.multiply(ops.log(ops.add(ops.divide(hz, _MEL_BREAK_FREQUENCY_HERTZ), 1.0)), _MEL_HIGH_FREQUENCY_Q)


def linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz,
                                upper_edge_hertz, dtype="float32"):
    """The (num_spectrogram_bins, num_mel_bins) matrix of triangular mel filters (the HTK mel
    scale, 1127 ln(1 + f / 700)), as TensorFlow and Keras build it: bin 0 (DC) gets no weight;
    filter m rises from mel edge m to m + 1 and falls to m + 2, the edges equally spaced in mel
    between the two edge frequencies."""
    nyquist = sampling_rate / 2.0
    freqs = ops.linspace(0.0, nyquist, num_spectrogram_bins, dtype=dtype)[1:]
    bins_mel = ops.expand_dims(_hertz_to_mel(freqs), 1)  # (S - 1, 1)
    lo = float(_hertz_to_mel(ops.convert_to_tensor(float(lower_edge_hertz), dtype)))
    hi = float(_hertz_to_mel(ops.convert_to_tensor(float(upper_edge_hertz), dtype)))
    edges = ops.linspace(lo, hi, num_mel_bins + 2, dtype=dtype)
    lower, center, upper = (ops.reshape(edges[i:i + num_mel_bins], (1, num_mel_bins)) for i in range(3))
    lower_slopes = ops.divide(ops.subtract(bins_mel, lower), ops.subtract(center, lower))
    upper_slopes = ops.divide(ops.subtract(upper, bins_mel), ops.subtract(upper, center))
    weights = ops.maximum(0.0, ops.minimum(lower_slopes, upper_slopes))
    return ops.pad(weights, [(1, 0), (0, 0)])


class MelSpectrogram(Layer):
    """Mel spectrograms of raw audio: (batch, samples) or (samples,) -> (batch, num_mel_bins,
    frames) (or (num_mel_bins, frames)), as ``keras.layers.MelSpectrogram``.

    The magnitude of ``ops.stft`` (centred frames, ``window``) raised to ``mag_exp``, projected on
    ``num_mel_bins`` triangular filters between ``min_freq`` and ``max_freq`` (default: half the
    sampling rate), and with ``power_to_db`` converted to decibels relative to ``ref_power``,
    floored at ``min_power`` and clipped ``top_db`` below the batch's maximum.

    Args: fft_length (2048), sequence_stride (512), sequence_length (default fft_length), window
    ("hann", "hamming" or None), sampling_rate (16000), num_mel_bins (128), min_freq (20.0),
    max_freq, power_to_db (True), top_db (80.0), mag_exp (2.0), min_power (1e-10), ref_power (1.0).
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann", sampling_rate=16000,
                 num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0,
                 min_power=1e-10, ref_power=1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to   `sequence_length`. Received: "
                             f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}.")
        if window not in ("hann", "hamming", None):
            raise ValueError(f'`window` must be "hann", "hamming" or None. Received: window={window!r}')
        for name, value in (("sequence_stride", sequence_stride), ("num_mel_bins", num_mel_bins),
                            ("sampling_rate", sampling_rate)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)
        self._mel = {}

    def _matrix(self, bins, dtype):
        key = (bins, dtype)
        if key not in self._mel:
            self._mel[key] = linear_to_mel_weight_matrix(self.num_mel_bins, bins, self.sampling_rate, self.min_freq,
                                                         self.max_freq, dtype)
        return self._mel[key]

    def call(self, inputs):
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        x = ops.cast(ops.convert_to_tensor(inputs), dtype)
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length, window=self.window,
                              center=True)
        spec = ops.power(ops.sqrt(ops.add(ops.square(real), ops.square(imag))), self.mag_exp)
        out = ops.tensordot(spec, self._matrix(spec.shape[-1], dtype), axes=1)
        if self.power_to_db:
            log_spec = ops.multiply(ops.log10(ops.maximum(out, self.min_power)), 10.0)
            ref = 10.0 * math.log10(max(abs(float(self.ref_power)), self.min_power))
            log_spec = ops.subtract(log_spec, ref)
            out = ops.maximum(log_spec, ops.subtract(ops.max(log_spec), self.top_db))
        return ops.cast(ops.swapaxes(out, -1, -2), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        n = input_shape[-1]
        half = self.fft_length // 2
        frames = None if n is None else 1 + (n + 2 * half - self.fft_length) // self.sequence_stride
        return tuple(input_shape[:-1]) + (self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}
