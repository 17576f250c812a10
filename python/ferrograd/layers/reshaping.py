"""Reshaping layers: UpSampling1D/2D, ZeroPadding2D, Cropping2D, Permute, RepeatVector, Lambda."""
from __future__ import annotations

from .. import ops
from .conv import _tuple
from .layer import Layer


def _pairs(name, value):
    """((top, bottom), (left, right)) from an int, a pair of ints or a pair of pairs (Keras' rule)."""
    if isinstance(value, int):
        return ((value, value), (value, value))
    value = tuple(value)
    if len(value) == 2 and all(isinstance(v, int) for v in value):
        return ((value[0], value[0]), (value[1], value[1]))
    if len(value) == 2 and all(len(tuple(v)) == 2 for v in value):
        out = tuple(tuple(int(x) for x in v) for v in value)
        if any(x < 0 for v in out for x in v):
            raise ValueError(f"`{name}` must be non-negative. Received: {name}={value}")
        return out
    raise ValueError(f"`{name}` should be an int, a tuple of 2 ints or a tuple of 2 tuples of 2 ints. "
                     f"Received: {name}={value}")


class UpSampling2D(Layer):
    """Repeats rows and columns ``size`` times (nearest) or interpolates (bilinear)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"interpolation should be 'nearest' or 'bilinear'. Received: {interpolation}")
        self.size = _tuple("size", size, 2)
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return ops.upsample_nearest(inputs, self.size)
        return ops.upsample_bilinear(inputs, self.size)

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] * self.size[0], None if s[2] is None else s[2] * self.size[1],
                s[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "interpolation": self.interpolation}


class UpSampling1D(Layer):
    """Repeats each step ``size`` times."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or size <= 0:
            raise ValueError(f"size must be a positive int. Received: size={size}")
        self.size = size

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] * self.size, s[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding2D(Layer):
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs("padding", padding)

    def call(self, inputs):
        (t, b), (lft, r) = self.padding
        return ops.pad(inputs, ((0, 0), (t, b), (lft, r), (0, 0)))

    def compute_output_shape(self, s):
        (t, b), (lft, r) = self.padding
        return (s[0], None if s[1] is None else s[1] + t + b, None if s[2] is None else s[2] + lft + r, s[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class Cropping2D(Layer):
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs("cropping", cropping)

    def call(self, inputs):
        (t, b), (lft, r) = self.cropping
        h, w = inputs.shape[1], inputs.shape[2]
        if t + b >= h or lft + r >= w:
            raise ValueError(f"{self.name}: cropping {self.cropping} leaves nothing of an input of shape "
                             f"{tuple(inputs.shape)}")
        return inputs[:, t:h - b, lft:w - r, :]

    def compute_output_shape(self, s):
        (t, b), (lft, r) = self.cropping
        return (s[0], None if s[1] is None else s[1] - t - b, None if s[2] is None else s[2] - lft - r, s[3])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-based as in Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, s):
        return (s[0],) + tuple(s[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"n must be a positive int. Received: n={n}")
        self.n = n

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"RepeatVector expects a 2-D input, received shape {tuple(inputs.shape)}")
        return ops.broadcast_to(ops.expand_dims(inputs, 1), (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, s):
        return (s[0], self.n, s[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps a function of tensors as a layer (not loadable from a saved file: that would run code)."""

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda expects a callable, received {function!r}")
        self.function = function
        self.output_shape = output_shape
        self.arguments = arguments or {}

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, s):
        if self.output_shape is None:
            raise NotImplementedError("Lambda layers need `output_shape` for summary shape inference")
        return (s[0],) + tuple(self.output_shape)

    def get_config(self):
        raise ValueError("Lambda layers cannot be serialized: loading them would execute code. Use a custom "
                         "layer registered with @keras.saving.register_keras_serializable")
