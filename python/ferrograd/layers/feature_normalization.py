"""Normalization: the preprocessing layer that standardizes features with a mean and variance that
are given or learned by ``adapt`` (``keras.layers.Normalization``)."""
from __future__ import annotations

import math

import numpy as np

from .. import config, ops
from .._core import Tensor
from .layer import Layer


def _first(batch):
    """The inputs of a batch that may be ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), epsilon)`` per position of the kept ``axis``
    (``invert=True``: ``mean + x * max(sqrt(variance), epsilon)``).

    The statistics are given (``mean``, ``variance``) or computed by :meth:`adapt` over data:
    population mean and variance over every axis but ``axis``, streamed batch by batch for
    iterables, and stored in the non-trainable weights ``mean`` and ``variance`` (a ``count``
    weight exists as in Keras, which leaves it at 0).

    Example::

        norm = keras.layers.Normalization()
        norm.adapt(x_train)         # (N, features)
        model = keras.Sequential([norm, keras.layers.Dense(1)])

    Args:
        axis: the axis (or axes) that keep separate statistics (default -1; None: one mean and
            variance for everything).
        mean, variance: the statistics, broadcast over the kept axes (both or neither).
        invert: apply the inverse transformation.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_shape = None
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                                 f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")

    def build(self, input_shape):
        ndim = len(input_shape)
        self._build_shape = tuple(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim={ndim}, "
                             f"while axis={self.axis}")
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                                 f"inputs.shape={tuple(input_shape)}, with unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        self._stat_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(self._stat_shape, "zeros", name="mean", trainable=False)
            self.adapt_variance = self.add_weight(self._stat_shape, "ones", name="variance", trainable=False)
            self.count = self.add_weight((), "zeros", dtype="int64", name="count", trainable=False)
        else:
            self._given = [self._expand(v) for v in (self.input_mean, self.input_variance)]
        self.built = True

    def _expand(self, value):
        """A given statistic, placed on the kept axes and broadcast to ``_broadcast_shape``."""
        v = np.asarray(value, np.float32)
        shape = [1] * len(self._broadcast_shape)
        for i in range(1, v.ndim + 1):
            shape[self._keep_axis[-i]] = v.shape[-i]
        return ops.convert_to_tensor(np.ascontiguousarray(np.broadcast_to(v.reshape(shape), self._broadcast_shape)))

    def _stats(self):
        if self.input_mean is not None:
            return self._given
        return (ops.reshape(self.adapt_mean, self._broadcast_shape),
                ops.reshape(self.adapt_variance, self._broadcast_shape))

    def adapt(self, data):
        """Computes the mean and variance of ``data`` (an array, a tensor, a ``PyDataset`` or an
        iterable of batches) and stores them in the layer's weights."""
        from ..utils import PyDataset

        if isinstance(data, (np.ndarray, Tensor)):
            batches, shape = None, tuple(data.shape)
        elif isinstance(data, PyDataset):
            batches, shape = iter(data), tuple(_first(data[0]).shape)
        elif hasattr(data, "__iter__"):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
            first = _first(first)
            if not hasattr(first, "shape"):
                raise TypeError("adapt() expects an iterable that yields arrays or tensors with a `.shape` attribute. "
                                f"Got an element of type {type(first).__name__}.")
            shape = tuple(first.shape)

            def chain():
                yield first
                yield from it

            batches = chain()
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, tensors, "
                            "`keras.utils.PyDataset`, and iterables of batches (e.g. list, generator).")
        if self.input_mean is not None:
            raise ValueError("adapt() cannot be used when `mean` and `variance` were given to the layer")
        if not self.built:
            self.build(shape)
        else:
            for d in self._keep_axis:
                if shape[d] != self._build_shape[d]:
                    raise ValueError(f"The layer was built with input_shape={self._build_shape}, but adapt() is being "
                                     f"called with data with an incompatible shape, data.shape={shape}")
        if batches is None:
            x = ops.convert_to_tensor(np.asarray(data, np.float32) if isinstance(data, np.ndarray) else data)
            x = ops.cast(x, "float32")
            mean, var = ops.mean(x, axis=self._reduce_axis), ops.var(x, axis=self._reduce_axis)
        else:
            # Streamed: each batch's statistics merged into the running ones (Chan et al.).
            mean = var = None
            count = 0
            for batch in batches:
                b = ops.cast(ops.convert_to_tensor(np.asarray(_first(batch), np.float32)
                                                   if not isinstance(_first(batch), Tensor) else _first(batch)),
                             "float32")
                for d in self._keep_axis:
                    if b.shape[d] != self._build_shape[d]:
                        raise ValueError(f"adapt() yielded a batch with incompatible shape. Expected "
                                         f"{self._build_shape}, got {tuple(b.shape)}.")
                b_mean, b_var = ops.mean(b, axis=self._reduce_axis), ops.var(b, axis=self._reduce_axis)
                b_count = math.prod(b.shape[d] for d in self._reduce_axis)
                count += b_count
                w_new = b_count / count
                if mean is None:
                    mean, var = b_mean, b_var
                    continue
                new_mean = mean * (1.0 - w_new) + b_mean * w_new
                var = ((var + ops.square(mean - new_mean)) * (1.0 - w_new)
                       + (b_var + ops.square(b_mean - new_mean)) * w_new)
                mean = new_mean
        with _no_grad():
            self.adapt_mean.assign(ops.reshape(mean, self._stat_shape))
            self.adapt_variance.assign(ops.reshape(var, self._stat_shape))

    def call(self, inputs):
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        mean, variance = self._stats()
        scale = ops.maximum(ops.sqrt(variance), config.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, scale))
        return ops.divide(ops.subtract(inputs, mean), scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}


class _no_grad:  # noqa: N801 - a context manager
    def __enter__(self):
        from .. import _core

        self._prev = _core.set_grad_enabled(False)

    def __exit__(self, *exc):
        from .. import _core

        _core.set_grad_enabled(self._prev)
        return False
