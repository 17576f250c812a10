"""Pooling layers (channels_last): max / average, 1D / 2D, and their global forms."""
from __future__ import annotations

from .. import ops
from .conv import _tuple, conv_output_length
from .layer import Layer


class _Pool(Layer):
    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        self.pool_size = _tuple("pool_size", pool_size, r)
        self.strides = self.pool_size if strides is None else _tuple("strides", strides, r)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ferrograd layers are channels_last only. Received: data_format={data_format}")
        self.padding = padding
        self.data_format = "channels_last"

    def call(self, inputs):
        f = ops.max_pool if self.kind == "max" else ops.average_pool
        return f(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        spatial = tuple(conv_output_length(input_shape[1 + i], self.pool_size[i], self.padding, self.strides[i])
                        for i in range(self.rank))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pool):
    rank, kind = 1, "max"


class MaxPooling2D(_Pool):
    """Maximum over ``pool_size`` windows (default 2x2, strides = pool_size)."""

    rank, kind = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pool):
    rank, kind = 1, "average"


class AveragePooling2D(_Pool):
    rank, kind = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPool(Layer):
    rank = 2
    kind = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ferrograd layers are channels_last only. Received: data_format={data_format}")
        self.keepdims = keepdims

    def call(self, inputs):
        axes = tuple(range(1, 1 + self.rank))
        f = ops.mean if self.kind == "average" else ops.max
        return f(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPool):
    rank, kind = 1, "average"


class GlobalAveragePooling2D(_GlobalPool):
    rank, kind = 2, "average"


class GlobalMaxPooling1D(_GlobalPool):
    rank, kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPool):
    rank, kind = 2, "max"
