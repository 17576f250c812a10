"""Adaptive pooling layers: AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D
(``keras.layers`` names, arguments and configs).

Output cell ``i`` of a spatial axis of length ``L`` pooled to ``n`` covers the input range
``[floor(i L / n), ceil((i + 1) L / n))`` (the bins PyTorch and Keras use; neighbouring bins may
overlap). Pooling is separable (a window is a box), so each spatial axis is reduced in turn: one
gather of the ``(n, K)`` window indices (K the widest bin; narrower bins repeat their last index,
which leaves a max unchanged and is weighted out of a mean), then a max or weighted sum over K.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from .conv import standardize_data_format
from .layer import Layer


def _bins(length, n):
    i = np.arange(n)
    start = (i * length) // n
    end = -((-(i + 1) * length) // n)  # ceil
    width = end - start
    k = int(width.max())
    idx = np.minimum(start[:, None] + np.arange(k)[None, :], end[:, None] - 1)  # (n, K)
    weight = (np.arange(k)[None, :] < width[:, None]) / width[:, None]  # (n, K)
    return idx.astype(np.int64), weight.astype(np.float32), k


def _pool_axis(x, axis, n, mode):
    length = x.shape[axis]
    idx, weight, k = _bins(length, n)
    g = ops.take(x, ops.convert_to_tensor(idx.reshape(-1)), axis=axis)  # axis now n*K long
    shape = tuple(x.shape[:axis]) + (n, k) + tuple(x.shape[axis + 1:])
    g = ops.reshape(g, shape)
    if mode == "max":
        return ops.max(g, axis=axis + 1)
    wshape = [1] * len(shape)
    wshape[axis], wshape[axis + 1] = n, k
    return ops.sum(ops.multiply(g, ops.convert_to_tensor(weight.reshape(wshape))), axis=axis + 1)


class _AdaptivePooling(Layer):
    _rank = 1
    _mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        size = (output_size,) * self._rank if isinstance(output_size, int) else tuple(output_size)
        if len(size) != self._rank or any(not isinstance(s, int) or s <= 0 for s in size):
            raise ValueError(f"`output_size` must be an integer or a tuple of {self._rank} positive integers. "
                             f"Received: output_size={output_size}")
        self.output_size = size
        self.data_format = standardize_data_format(data_format)

    def _spatial_axes(self, ndim):
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self._rank))

    def call(self, inputs):
        if inputs.ndim != self._rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"ndim={self._rank + 2}, found ndim={inputs.ndim}. Full shape received: "
                             f"{tuple(inputs.shape)}")
        x = inputs
        for axis, n in zip(self._spatial_axes(x.ndim), self.output_size):
            x = _pool_axis(x, axis, n, self._mode)
        return x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, n in zip(self._spatial_axes(len(shape)), self.output_size):
            shape[axis] = n
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Averages (batch, steps, channels) down to ``output_size`` steps (see the module note).

    Args: output_size, data_format.
    """

    _rank, _mode = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Averages (batch, height, width, channels) down to ``output_size`` (an int or (h, w)).

    Args: output_size, data_format.
    """

    _rank, _mode = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Averages (batch, depth, height, width, channels) down to ``output_size``.

    Args: output_size, data_format.
    """

    _rank, _mode = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max-pools (batch, steps, channels) down to ``output_size`` steps.

    Args: output_size, data_format.
    """

    _rank, _mode = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max-pools (batch, height, width, channels) down to ``output_size``.

    Args: output_size, data_format.
    """

    _rank, _mode = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max-pools (batch, depth, height, width, channels) down to ``output_size``.

    Args: output_size, data_format.
    """

    _rank, _mode = 3, "max"
