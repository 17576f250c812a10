"""Convolution layers (channels_last): Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D."""
from __future__ import annotations

from .. import activations, initializers, ops
from .layer import Layer


def _tuple(name, value, n):
    v = (value,) * n if isinstance(value, int) else tuple(value)
    if len(v) != n or any(not isinstance(d, int) or d <= 0 for d in v):
        raise ValueError(f"`{name}` must be a positive int or a tuple of {n} positive ints. Received: {name}={value}")
    return v


def conv_output_length(length, k, padding, stride, dilation=1):
    """Keras' conv_output_length."""
    if length is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - k + 1
    return max(0, (out + stride - 1) // stride)


def deconv_output_length(length, k, padding, output_padding, stride, dilation=1):
    """Keras' deconv_output_length."""
    if length is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(k - stride, 0)
        return length * stride
    pad = k // 2 if padding == "same" else 0
    return (length - 1) * stride + k - 2 * pad + output_padding


class _Conv(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        allowed = ("valid", "same", "causal") if r == 1 else ("valid", "same")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in allowed:
            raise ValueError(f"The `padding` argument must be one of {allowed}. Received: padding={padding}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ferrograd layers are channels_last only. Received: data_format={data_format}")
        if not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. Received: "
                             f"groups={groups}, filters={filters}.")
        self.filters = filters
        self.kernel_size = _tuple("kernel_size", kernel_size, r)
        self.strides = _tuple("strides", strides, r)
        self.dilation_rate = _tuple("dilation_rate", dilation_rate, r)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={strides} and dilation_rate={dilation_rate}")
        self.padding = padding
        self.data_format = "channels_last"
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer

    def build(self, input_shape):
        cin = input_shape[-1]
        if cin is None or cin % self.groups:
            raise ValueError(f"{self.name}: the input channels ({cin}) must be known and divisible by "
                             f"groups={self.groups}")
        self.kernel = self.add_weight(self.kernel_size + (cin // self.groups, self.filters), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer) if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        y = ops.conv(inputs, self.kernel, strides=self.strides, padding=self.padding,
                     dilation_rate=self.dilation_rate, bias=self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        spatial = tuple(conv_output_length(input_shape[1 + i], self.kernel_size[i], self.padding, self.strides[i],
                                           self.dilation_rate[i]) for i in range(self.rank))
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); kernel (k, in/groups, filters)."""

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, in/groups, filters).

    Example: ``Conv2D(32, 3, activation="relu")`` on (N, 28, 28, 1) gives (N, 26, 26, 32).
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the adjoint of Conv2D); kernel (kh, kw, filters, in)."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, **kwargs)
        self.output_padding = None if output_padding is None else _tuple("output_padding", output_padding, 2) \
            if output_padding not in (0, (0, 0)) else (0, 0)

    def build(self, input_shape):
        self.kernel = self.add_weight(self.kernel_size + (self.filters, input_shape[-1]), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias") if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        y = ops.conv_transpose(inputs, self.kernel, strides=self.strides, padding=self.padding,
                               output_padding=self.output_padding, dilation_rate=self.dilation_rate)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        op = self.output_padding or (None, None)
        spatial = tuple(deconv_output_length(input_shape[1 + i], self.kernel_size[i], self.padding, op[i],
                                             self.strides[i], self.dilation_rate[i]) for i in range(2))
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        cfg = {**super().get_config(), "output_padding": self.output_padding}
        cfg.pop("groups")
        return cfg


class DepthwiseConv2D(Layer):
    """Per-channel 2-D convolution; kernel (kh, kw, in, depth_multiplier)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = _tuple("kernel_size", kernel_size, 2)
        self.strides = _tuple("strides", strides, 2)
        self.dilation_rate = _tuple("dilation_rate", dilation_rate, 2)
        if padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
        if not isinstance(depth_multiplier, int) or depth_multiplier <= 0:
            raise ValueError(f"depth_multiplier must be a positive int. Received: depth_multiplier={depth_multiplier}")
        self.padding = padding
        self.depth_multiplier = depth_multiplier
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        cin = input_shape[-1]
        self.kernel = self.add_weight(self.kernel_size + (cin, self.depth_multiplier), self.depthwise_initializer,
                                      name="kernel")
        self.bias = (self.add_weight((cin * self.depth_multiplier,), self.bias_initializer, name="bias")
                     if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        y = ops.depthwise_conv(inputs, self.kernel, strides=self.strides, padding=self.padding,
                               dilation_rate=self.dilation_rate, bias=self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        spatial = tuple(conv_output_length(input_shape[1 + i], self.kernel_size[i], self.padding, self.strides[i],
                                           self.dilation_rate[i]) for i in range(2))
        return (input_shape[0],) + spatial + (input_shape[-1] * self.depth_multiplier,)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "depth_multiplier": self.depth_multiplier,
                "dilation_rate": self.dilation_rate, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias}


class SeparableConv2D(Layer):
    """Depthwise 2-D convolution followed by a 1x1 pointwise convolution."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.depthwise = DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate,
                                         use_bias=False, depthwise_initializer=depthwise_initializer,
                                         name=self.name + "_depthwise")
        self.pointwise = Conv2D(filters, 1, activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                                name=self.name + "_pointwise")
        self._cfg = {"kernel_size": self.depthwise.kernel_size, "strides": self.depthwise.strides,
                     "padding": padding, "dilation_rate": self.depthwise.dilation_rate,
                     "depth_multiplier": depth_multiplier,
                     "activation": activations.serialize(activations.get(activation)),
                     "use_bias": use_bias}

    def build(self, input_shape):
        self.depthwise.build(input_shape)
        self.depthwise.built = True
        self.pointwise.build(self.depthwise.compute_output_shape(input_shape))
        self.pointwise.built = True
        self.built = True

    def call(self, inputs):
        return self.pointwise(self.depthwise(inputs))

    def compute_output_shape(self, input_shape):
        return self.pointwise.compute_output_shape(self.depthwise.compute_output_shape(input_shape))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **self._cfg}
