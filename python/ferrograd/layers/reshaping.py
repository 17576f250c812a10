"""Reshaping layers: UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, Permute, RepeatVector,
Lambda.

``data_format="channels_first"`` is implemented: padding and cropping act on the spatial axes
directly, UpSampling2D transposes around its channels_last kernel. None of these layers supports
masking in Keras 3 except Lambda given a ``mask``.
"""
from __future__ import annotations

import inspect

from .. import ops
from .conv import _tuple, standardize_data_format, to_channels_first, to_channels_last
from .layer import Layer


def _pairs(name, value, n=2):
    """n (before, after) pairs from an int, n ints or n pairs of ints (Keras' rule for the 2-D and
    3-D padding and cropping layers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        out = ((value, value),) * n
    else:
        try:
            value_t = tuple(value)
        except TypeError:
            value_t = ()
        if len(value_t) == n and all(isinstance(v, int) and not isinstance(v, bool) for v in value_t):
            out = tuple((v, v) for v in value_t)
        elif len(value_t) == n and all(not isinstance(v, int) and _is_pair(v) for v in value_t):
            out = tuple(tuple(int(x) for x in v) for v in value_t)
        else:
            raise ValueError(f"`{name}` should be an int, a tuple of {n} ints or a tuple of {n} tuples of 2 ints. "
                             f"Received: {name}={value}")
    if any(x < 0 for v in out for x in v):
        raise ValueError(f"`{name}` must be non-negative. Received: {name}={value}")
    return out


def _is_pair(v):
    try:
        return len(tuple(v)) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    except TypeError:
        return False


def _spatial_axes(data_format, rank):
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


class UpSampling2D(Layer):
    """Repeats rows and columns ``size`` times (nearest) or interpolates (bilinear, half-pixel centres).

    Example: ``UpSampling2D(2)`` on (N, 4, 4, C) gives (N, 8, 8, C).

    Args: size (int or pair), data_format, interpolation ("nearest" or "bilinear"; Keras' other
    modes raise).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"ferrograd's UpSampling2D supports interpolation 'nearest' or 'bilinear'. Received: "
                             f"interpolation={interpolation}")
        self.size = _tuple("size", size, 2)
        self.data_format = standardize_data_format(data_format)
        self.interpolation = interpolation

    def call(self, inputs):
        first = self.data_format == "channels_first"
        x = to_channels_last(inputs) if first else inputs  # (N, H, W, C)
        f = ops.upsample_nearest if self.interpolation == "nearest" else ops.upsample_bilinear
        y = f(x, self.size)  # (N, H * sh, W * sw, C)
        return to_channels_first(y) if first else y

    def compute_output_shape(self, s):
        out = list(s)
        for ax, k in zip(_spatial_axes(self.data_format, 2), self.size):
            out[ax] = None if s[ax] is None else s[ax] * k
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling1D(Layer):
    """Repeats each step ``size`` times: (N, T, C) -> (N, T * size, C).

    Args: size (positive int).
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"size must be a positive int. Received: size={size}")
        self.size = size

    def call(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected ndim=3, "
                             f"found ndim={inputs.ndim}. Full shape received: {tuple(inputs.shape)}")
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] * self.size, s[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding1D(Layer):
    """Adds zeros before and after the steps axis: (N, T, C) -> (N, left + T + right, C).

    Args: padding (int or (left, right)), data_format.
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _tuple("padding", padding, 2, allow_zero=True)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        pw = [(0, 0)] * 3
        pw[_spatial_axes(self.data_format, 1)[0]] = self.padding
        return ops.pad(inputs, pw)

    def compute_output_shape(self, s):
        out = list(s)
        ax = _spatial_axes(self.data_format, 1)[0]
        out[ax] = None if s[ax] is None else s[ax] + sum(self.padding)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros: ``padding`` = ((top, bottom), (left, right)).

    Example: ``ZeroPadding2D(1)`` on (N, 4, 4, C) gives (N, 6, 6, C).

    Args: padding (int, pair of ints or pair of pairs), data_format.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs("padding", padding)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        pw = [(0, 0)] * 4
        for ax, p in zip(_spatial_axes(self.data_format, 2), self.padding):
            pw[ax] = p
        return ops.pad(inputs, pw)

    def compute_output_shape(self, s):
        out = list(s)
        for ax, p in zip(_spatial_axes(self.data_format, 2), self.padding):
            out[ax] = None if s[ax] is None else s[ax] + sum(p)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


def _crop(layer, inputs, axes, cropping):
    if inputs.ndim != len(axes) + 2:
        raise ValueError(f"Input 0 of layer \"{layer.name}\" is incompatible with the layer: expected "
                         f"ndim={len(axes) + 2}, found ndim={inputs.ndim}. Full shape received: {tuple(inputs.shape)}")
    index = [slice(None)] * inputs.ndim
    for ax, (a, b) in zip(axes, cropping):
        n = inputs.shape[ax]
        if a + b >= n:
            raise ValueError(f"{layer.name}: cropping {layer.cropping} leaves nothing of an input of shape "
                             f"{tuple(inputs.shape)}")
        index[ax] = slice(a, n - b)
    return inputs[tuple(index)]


class Cropping1D(Layer):
    """Removes steps from the start and end: (N, T, C) -> (N, T - start - end, C).

    Args: cropping (int or (start, end)).
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _tuple("cropping", cropping, 2, allow_zero=True)

    def call(self, inputs):
        return _crop(self, inputs, (1,), (self.cropping,))

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] - sum(self.cropping), s[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Removes rows and columns: ``cropping`` = ((top, bottom), (left, right)).

    Example: ``Cropping2D(((1, 0), (2, 2)))`` on (N, 8, 8, C) gives (N, 7, 4, C).

    Args: cropping (int, pair of ints or pair of pairs), data_format.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs("cropping", cropping)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        return _crop(self, inputs, _spatial_axes(self.data_format, 2), self.cropping)

    def compute_output_shape(self, s):
        out = list(s)
        for ax, c in zip(_spatial_axes(self.data_format, 2), self.cropping):
            out[ax] = None if s[ax] is None else s[ax] - sum(c)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling3D(Layer):
    """Repeats each depth slice, row and column ``size`` times (nearest): (N, D, H, W, C) ->
    (N, D * sd, H * sh, W * sw, C).

    Args: size (int or triple), data_format.
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = _tuple("size", size, 3)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        _check_ndim(self, inputs, 5)
        y = inputs
        for ax, k in zip(_spatial_axes(self.data_format, 3), self.size):
            if k > 1:
                y = ops.repeat(y, k, axis=ax)
        return y

    def compute_output_shape(self, s):
        out = list(s)
        for ax, k in zip(_spatial_axes(self.data_format, 3), self.size):
            out[ax] = None if s[ax] is None else s[ax] * k
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class ZeroPadding3D(Layer):
    """Adds zeros around the three spatial axes: ``padding`` = ((front, back), (top, bottom),
    (left, right)).

    Example: ``ZeroPadding3D(1)`` on (N, 4, 4, 4, C) gives (N, 6, 6, 6, C).

    Args: padding (int, triple of ints or triple of pairs), data_format.
    """

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs("padding", padding, 3)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        _check_ndim(self, inputs, 5)
        pw = [(0, 0)] * 5
        for ax, p in zip(_spatial_axes(self.data_format, 3), self.padding):
            pw[ax] = p
        return ops.pad(inputs, pw)

    def compute_output_shape(self, s):
        out = list(s)
        for ax, p in zip(_spatial_axes(self.data_format, 3), self.padding):
            out[ax] = None if s[ax] is None else s[ax] + sum(p)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping3D(Layer):
    """Removes slices from both ends of the three spatial axes: ``cropping`` = ((front, back),
    (top, bottom), (left, right)).

    Example: ``Cropping3D(((1, 1), (2, 2), (0, 0)))`` on (N, 8, 8, 8, C) gives (N, 6, 4, 8, C).

    Args: cropping (int, triple of ints or triple of pairs), data_format.
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs("cropping", cropping, 3)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        return _crop(self, inputs, _spatial_axes(self.data_format, 3), self.cropping)

    def compute_output_shape(self, s):
        out = list(s)
        for ax, c in zip(_spatial_axes(self.data_format, 3), self.cropping):
            out[ax] = None if s[ax] is None else s[ax] - sum(c)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


def _check_ndim(layer, inputs, ndim):
    if inputs.ndim != ndim:
        raise ValueError(f"Input 0 of layer \"{layer.name}\" is incompatible with the layer: expected ndim={ndim}, "
                         f"found ndim={inputs.ndim}. Full shape received: {tuple(inputs.shape)}")


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-based as in Keras.

    Example: ``Permute((2, 1))`` on (N, 10, 64) gives (N, 64, 10).
    """

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
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
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
    """Wraps a function of tensors as a layer (not loadable from a saved file: that would run code).

    Args:
        function: ``function(inputs, **arguments)``; it also receives ``mask`` / ``training`` when
            its signature names them.
        output_shape: the output shape without the batch axis, or a callable of the input shape.
        mask: None (no masking), a callable ``mask(inputs, previous_mask)``, or a fixed mask tensor
            returned as the output mask.
        arguments: extra keyword arguments for ``function``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda expects a callable, received {function!r}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        self.arguments = arguments or {}
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_mask = "mask" in params
        self._fn_expects_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, s):
        if self._output_shape is None:
            # As Keras: the function traced on a symbolic tensor of that shape (no kernel runs).
            from ..symbolic import KerasTensor, map_structure, tracing

            with tracing():
                out = self.call(KerasTensor(s, self.dtype) if all(d is None or isinstance(d, int) for d in s)
                                else [KerasTensor(t, self.dtype) for t in s])
            return map_structure(lambda t: t.shape, out) if isinstance(out, (list, tuple)) else out.shape
        if callable(self._output_shape):
            return self._output_shape(s)
        return (s[0],) + tuple(self._output_shape)

    def get_config(self):
        raise ValueError("Lambda layers cannot be serialized: loading them would execute code. Use a custom "
                         "layer registered with @keras.saving.register_keras_serializable")
