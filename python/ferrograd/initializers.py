"""Weight initializers (``keras.initializers`` names, arguments and fan rules)."""
from __future__ import annotations

import math

import numpy as np

from . import _core, _serialization
from . import random as _random

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal", "Orthogonal", "Identity", "get", "serialize", "deserialize"]


def _fans(shape):
    """Keras' fan computation: dense (in, out); conv kernels (*spatial, in, out)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, dtype=None)`` returns a new tensor."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return _core.full(tuple(shape), 0.0, dtype or "float32")


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _core.full(tuple(shape), 1.0, dtype or "float32")


class Constant(Initializer):
    """Fills with ``value``: a scalar, or an array broadcast to the requested shape (Keras 3: e.g.
    ``Embedding(..., embeddings_initializer=Constant(pretrained_matrix))``)."""

    def __init__(self, value=0.0):
        if isinstance(value, _core.Tensor):
            value = value.numpy()
        if np.ndim(value) == 0:
            self.value = float(value)
        else:
            self.value = np.asarray(value, dtype=np.float64)

    def __call__(self, shape, dtype=None):
        if isinstance(self.value, float):
            return _core.full(tuple(shape), self.value, dtype or "float32")
        try:
            full = np.broadcast_to(self.value, tuple(shape))
        except ValueError:
            raise ValueError(f"Constant: a value of shape {self.value.shape} cannot fill a variable of shape "
                             f"{tuple(shape)}") from None
        return _core.from_numpy(np.ascontiguousarray(full, dtype=dtype or "float32"))

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _seed(self):
        # A fixed seed gives the same values every call, as Keras' stateless initializers do.
        return self.seed


class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _random.normal(shape, self.mean, self.stddev, dtype or "float32", self._seed())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return _random.uniform(shape, self.minval, self.maxval, dtype or "float32", self._seed())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _random.truncated_normal(shape, self.mean, self.stddev, dtype or "float32", self._seed())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Scale / fan variance with a truncated normal, untruncated normal or uniform distribution."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}; expected fan_in, fan_out or fan_avg")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, fan)
        dtype = dtype or "float32"
        if self.distribution == "truncated_normal":
            # stddev of a standard normal truncated to [-2, 2]
            return _random.truncated_normal(shape, 0.0, math.sqrt(var) / 0.87962566103423978, dtype, self._seed())
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(var), dtype, self._seed())
        limit = math.sqrt(3.0 * var)
        return _random.uniform(shape, -limit, limit, dtype, self._seed())

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution):
    class _P(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self):
            return {"seed": self.seed}

    _P.__name__ = _P.__qualname__ = name
    return _P


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix over the last axis, scaled by ``gain``."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, received: {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _random.normal((max(rows, cols), min(rows, cols)), dtype="float64", seed=self._seed()).numpy()
        # QR decomposition of a Gaussian matrix (policy in NumPy: a one-off O(n^3) at build time).
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return _core.from_numpy(np.ascontiguousarray((self.gain * q).reshape(shape)), dtype or "float32")

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, received: {tuple(shape)}")
        return _core.eye(shape[0], shape[1], 0, dtype or "float32") * self.gain

    def get_config(self):
        return {"gain": self.gain}


_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "boxcar")


def _window(window, n, periodic):
    """scipy.signal.get_window(window, n, fftbins=periodic) for the windows ferrograd has (float64)."""
    from . import ops

    if window in _WINDOWS:
        make = {"hann": ops.hanning, "hamming": ops.hamming, "blackman": ops.blackman, "bartlett": ops.bartlett,
                "boxcar": lambda m: ops.ones((m,))}[window]
    else:
        raise ValueError(f"STFT: window {window!r} is not available in ferrograd (it has {', '.join(_WINDOWS)}; or "
                         "pass the window's values as an array)")
    w = np.asarray(make(n + 1 if periodic else n).numpy(), np.float64)
    return w[:n] if periodic else w


class STFT(Initializer):
    """The real or imaginary parts of the discrete Fourier basis, optionally windowed and scaled, as
    conv kernels of shape ``(frame_length, 1, fft_length // 2 + 1)`` (Keras' ``STFTInitializer``, the
    kernel of ``STFTSpectrogram``).

    Args: side ("real" or "imag"), window (one of SciPy's names "hann", "hamming", "blackman",
    "bartlett", "boxcar", an array of ``frame_length`` values, or None), scaling ("density":
    divide by the window's L2 norm, "spectrum": by its L1 norm, or None), periodic (a periodic
    rather than symmetric window).
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, False)  # an unknown window fails here, as in Keras
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        from . import ops

        dtype = dtype or "float32"
        frame_length, _, fft_length = shape
        win, scaling = None, 1
        if self.window is not None:
            w = self.window
            if isinstance(w, str):
                w = _window(w, frame_length, self.periodic)
            win = ops.convert_to_tensor(np.asarray(w), dtype=dtype)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(f"The shape of `window` must be equal to [frame_length]. Received: window shape="
                                 f"{tuple(win.shape)}")
            win = ops.reshape(win, (frame_length, 1, 1))
            if self.scaling == "density":
                scaling = ops.sqrt(ops.sum(ops.square(win)))
            elif self.scaling == "spectrum":
                scaling = ops.sum(ops.abs(win))
        freq = ops.divide(ops.reshape(ops.arange(fft_length, dtype=dtype), (1, 1, fft_length)), (fft_length - 1) * 2)
        time = ops.reshape(ops.arange(frame_length, dtype=dtype), (frame_length, 1, 1))
        args = ops.multiply(ops.multiply(ops.multiply(time, -2.0), freq), ops.arccos(ops.cast(-1, dtype)))
        kernel = ops.cos(args) if self.side == "real" else ops.sin(args)
        if win is not None:
            kernel = ops.divide(ops.multiply(kernel, win), scaling)
        return kernel

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
    "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity, "stft": STFT,
}
for _cls in list(_BY_NAME.values()):
    _BY_NAME[_cls.__name__] = _cls
# Keras 3's short aliases (Embedding's default is "uniform").
_BY_NAME.update({"uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones})


# Keras' lower-case and long aliases of the classes
constant, zeros, ones, identity, orthogonal = Constant, Zeros, Ones, Identity, Orthogonal
random_normal, random_uniform, truncated_normal, variance_scaling = (RandomNormal, RandomUniform, TruncatedNormal,
                                                                     VarianceScaling)
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal
stft = STFTInitializer = STFT
__all__ += ["constant", "zeros", "ones", "identity", "orthogonal", "random_normal", "random_uniform",
            "truncated_normal", "variance_scaling", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
            "lecun_normal", "lecun_uniform", "IdentityInitializer", "OrthogonalInitializer", "STFT", "STFTInitializer",
            "stft"]


def serialize(init):
    """Keras 3's form: ``{"module": "keras.initializers", "class_name", "config", "registered_name"}``."""
    return _serialization.serialize_object(init, "keras.initializers", "initializer")


def deserialize(config):
    """The initializer described by ``serialize``'s output (or a bare class name)."""
    return _serialization.deserialize_object(config, _BY_NAME, "initializer")


def get(identifier):
    """An initializer from a name (``"glorot_uniform"``), a serialized dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
