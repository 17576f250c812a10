"""Pooling layers: max / average, 1D / 2D / 3D, and their global forms.

The kernels run channels_last; ``data_format="channels_first"`` transposes around them (see
conv.py). Masks, as in Keras 3: only GlobalAveragePooling1D reads one (it averages the unmasked
steps and returns no mask); the other pooling layers do not support masking and drop it.
"""
from __future__ import annotations

from .. import ops
from .conv import (
    _tuple,
    conv_output_length,
    shape_to_first,
    shape_to_last,
    standardize_data_format,
    standardize_padding,
    to_channels_first,
    to_channels_last,
)
from .layer import Layer


class _Pool(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        self.pool_size = _tuple("pool_size", pool_size, r)
        self.strides = self.pool_size if strides is None else _tuple("strides", strides, r)
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        f = ops.max_pool if self.kind == "max" else ops.average_pool
        if self.data_format == "channels_first":
            y = f(to_channels_last(inputs), self.pool_size, self.strides, self.padding)  # (N, *spatial', C)
            return to_channels_first(y)
        return f(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        last = self.data_format == "channels_last"
        s = tuple(input_shape) if last else shape_to_last(input_shape)
        spatial = tuple(conv_output_length(s[1 + i], self.pool_size[i], self.padding, self.strides[i])
                        for i in range(self.rank))
        out = (s[0],) + spatial + (s[-1],)
        return out if last else shape_to_first(out)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pool):
    """Maximum over windows of ``pool_size`` steps (strides default to pool_size).

    Example: ``MaxPooling1D(2)`` on (N, 7, C) gives (N, 3, C).

    Args: pool_size, strides, padding ("valid", "same"), data_format.
    """

    rank, kind = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pool):
    """Maximum over ``pool_size`` windows (default 2x2, strides = pool_size).

    Example: ``MaxPooling2D()`` on (N, 28, 28, C) gives (N, 14, 14, C).

    Args: pool_size, strides, padding ("valid", "same"), data_format.
    """

    rank, kind = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pool):
    """Mean over windows of ``pool_size`` steps; with "same" padding each window is divided by its
    number of real (non-padding) steps, as Keras does.

    Example: ``AveragePooling1D(3, padding="same")`` on (N, 7, C) gives (N, 3, C).

    Args: pool_size (required, as in Keras), strides, padding, data_format.
    """

    rank, kind = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pool):
    """Mean over ``pool_size`` windows (strides default to pool_size).

    Example: ``AveragePooling2D(2)`` on (N, 8, 8, C) gives (N, 4, 4, C).

    Args: pool_size (required, as in Keras), strides, padding, data_format.
    """

    rank, kind = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pool):
    """Maximum over ``pool_size`` volumes (default 2x2x2, strides = pool_size).

    Example: ``MaxPooling3D()`` on (N, 8, 16, 16, C) gives (N, 4, 8, 8, C).

    Args: pool_size, strides, padding ("valid", "same"), data_format.
    """

    rank, kind = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pool):
    """Mean over ``pool_size`` volumes (strides default to pool_size); with "same" padding each
    window is divided by its number of real elements, as Keras does.

    Example: ``AveragePooling3D(2)`` on (N, 8, 8, 8, C) gives (N, 4, 4, 4, C).

    Args: pool_size (required, as in Keras), strides, padding, data_format.
    """

    rank, kind = 3, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPool(Layer):
    rank = 2
    kind = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)

    def _axes(self):
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def _check_rank(self, shape):
        if len(shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"ndim={self.rank + 2}, found ndim={len(shape)}. Full shape received: {tuple(shape)}")

    def call(self, inputs):
        self._check_rank(inputs.shape)
        f = ops.mean if self.kind == "average" else ops.max
        return f(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        self._check_rank(s)
        if self.keepdims:
            return tuple(1 if i in self._axes() else d for i, d in enumerate(s))
        return (s[0], s[1] if self.data_format == "channels_first" else s[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPool):
    """Mean over the steps axis: (N, steps, C) -> (N, C).

    With a mask (batch, steps), only the unmasked steps are averaged:
    ``y[n, c] = sum_t m[n, t] x[n, t, c] / sum_t m[n, t]``; the output carries no mask.

    Example: ``GlobalAveragePooling1D()(x, mask=m)``.

    Args: data_format, keepdims.
    """

    rank, kind = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        self._check_rank(inputs.shape)
        steps = self._axes()[0]
        m = ops.expand_dims(ops.cast(mask, "bool"), 2 if self.data_format == "channels_last" else 1)
        total = ops.sum(ops.where(m, inputs, 0.0), axis=steps, keepdims=self.keepdims)  # (N, C)
        count = ops.sum(ops.cast(m, inputs.dtype), axis=steps, keepdims=self.keepdims)  # (N, 1)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with keepdims).

    Args: data_format, keepdims.
    """

    rank, kind = 2, "average"


class GlobalMaxPooling1D(_GlobalPool):
    """Maximum over the steps axis: (N, steps, C) -> (N, C). As in Keras it does not support
    masking (an incoming mask is dropped; masked steps take part in the maximum).

    Args: data_format, keepdims.
    """

    rank, kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPool):
    """Maximum over height and width: (N, H, W, C) -> (N, C).

    Args: data_format, keepdims.
    """

    rank, kind = 2, "max"


class GlobalAveragePooling3D(_GlobalPool):
    """Mean over depth, height and width: (N, D, H, W, C) -> (N, C) (or (N, 1, 1, 1, C) with keepdims).

    Args: data_format, keepdims.
    """

    rank, kind = 3, "average"


class GlobalMaxPooling3D(_GlobalPool):
    """Maximum over depth, height and width: (N, D, H, W, C) -> (N, C).

    Args: data_format, keepdims.
    """

    rank, kind = 3, "max"
