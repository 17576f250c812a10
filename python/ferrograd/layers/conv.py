"""Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv1D/2D,
SeparableConv1D/2D.

The kernels run channels_last. ``data_format="channels_first"`` is implemented by transposing the
input to channels_last, convolving, and transposing the result back; the weights have the same
layout in both formats (as in Keras), so a model converts between formats without touching them.
The transposes cost one copy of the activations each way; a native channels_first kernel was
rejected as a second code path for a layout Keras itself discourages on CPU.
"""
from __future__ import annotations

from .. import activations, constraints, initializers, ops, regularizers
from ..symbolic.shapes import deconv_length
from .layer import Layer


def _tuple(name, value, n, allow_zero=False):
    """Keras' standardize_tuple: an int or n ints, positive (or non-negative with ``allow_zero``)."""
    v = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else None
    if v is None:
        try:
            v = tuple(value)
        except TypeError:
            v = ()
    low = 0 if allow_zero else 1
    if len(v) != n or any(not isinstance(d, int) or isinstance(d, bool) or d < low for d in v):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"The `{name}` argument must be a {kind} int or a tuple of {n} {kind} ints. "
                         f"Received: {name}={value}")
    return v


def standardize_data_format(data_format):
    """None -> ``keras.backend.image_data_format()`` ("channels_last"); else one of the two names."""
    if data_format is None:
        from .. import backend  # late: backend imports the layer base class

        return backend.image_data_format()
    df = str(data_format).lower()
    if df not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format}")
    return df


def standardize_padding(padding, allow_causal=False):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. Received: padding={padding}")
    return p


def to_channels_last(x):
    """(N, C, *spatial) -> (N, *spatial, C)."""
    return ops.transpose(x, (0, *range(2, x.ndim), 1))


def to_channels_first(x):
    """(N, *spatial, C) -> (N, C, *spatial)."""
    return ops.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))


def shape_to_last(shape):
    shape = tuple(shape)
    return (shape[0], *shape[2:], shape[1])


def shape_to_first(shape):
    shape = tuple(shape)
    return (shape[0], shape[-1], *shape[1:-1])


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
    """Keras' deconv_output_length (one rule with the ops' symbolic shapes)."""
    return deconv_length(length, k, padding, output_padding, stride, dilation)


def _reject_lora(layer, kwargs):
    # Keras' conv base class takes LoRA arguments through **kwargs; ferrograd has no LoRA yet.
    for name in ("lora_rank", "lora_alpha"):
        value = kwargs.pop(name, None)
        if value is not None:
            raise NotImplementedError(f"{type(layer).__name__}: `{name}` (LoRA fine-tuning) is not implemented in "
                                      f"ferrograd. Received: {name}={value!r}")


class _ConvBase(Layer):
    """What every convolution shares: geometry, activation, the channels_first wrapping."""

    rank = 2

    def _init_geometry(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                       allow_causal):
        r = self.rank
        self.kernel_size = _tuple("kernel_size", kernel_size, r)
        self.strides = _tuple("strides", strides, r)
        self.dilation_rate = _tuple("dilation_rate", dilation_rate, r)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = standardize_padding(padding, allow_causal)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)

    def _channels(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"ndim={self.rank + 2}, found ndim={len(input_shape)}. Full shape received: "
                             f"{tuple(input_shape)}")
        c = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if c is None:
            raise ValueError(f"{self.name}: the channel dimension of the inputs must be known, received shape "
                             f"{tuple(input_shape)}")
        return c

    def call(self, inputs):
        first = self.data_format == "channels_first"
        y = self._conv(to_channels_last(inputs) if first else inputs)  # (N, *spatial, C_out)
        if first:
            y = to_channels_first(y)  # (N, C_out, *spatial)
        # The activation runs in the layer's own layout, as in Keras (softmax acts on the last axis).
        return self.activation(y)

    def _out_channels(self, input_shape):
        return self.filters

    def _spatial_out(self, spatial):
        return tuple(conv_output_length(spatial[i], self.kernel_size[i], self.padding, self.strides[i],
                                        self.dilation_rate[i]) for i in range(self.rank))

    def compute_output_shape(self, input_shape):
        last = self.data_format == "channels_last"
        s = tuple(input_shape) if last else shape_to_last(input_shape)
        out = (s[0],) + self._spatial_out(s[1:-1]) + (self._out_channels(s),)
        return out if last else shape_to_first(out)

    def _geometry_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


class _Conv(_ConvBase):
    _causal_ok = True  # Conv1D only; the transposed convolutions take "valid" / "same"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        _reject_lora(self, kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups}.")
        if filters % groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. Received: "
                             f"groups={groups}, filters={filters}.")
        self.filters = filters
        self.groups = groups
        self._init_geometry(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                            allow_causal=self.rank == 1 and self._causal_ok)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        cin = self._channels(input_shape)
        if cin % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {cin} channels (full input shape "
                             f"is {tuple(input_shape)}).")
        self.kernel = self.add_weight(self.kernel_size + (cin // self.groups, self.filters), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    def _conv(self, x):
        return ops.conv(x, self.kernel, strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate, bias=self.bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **self._geometry_config(), "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); kernel (k, in/groups, filters).

    ``y[n, t, f] = activation(sum_{i, c} x[n, t*stride + i*dilation, c] * kernel[i, c, f] + bias[f])``
    (with "causal" padding the input is left-padded so that step t sees only steps <= t).

    Example: ``Conv1D(8, 3, padding="causal")`` on (N, 20, 4) gives (N, 20, 8).

    Args:
        filters, kernel_size, strides, padding ("valid", "same", "causal"), data_format,
        dilation_rate, groups, activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: as in Keras.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, in/groups, filters).

    ``y[n, i, j, f] = activation(sum_{a, b, c} x[n, i*sh + a*dh, j*sw + b*dw, c] * kernel[a, b, c, f] + bias[f])``

    Example: ``Conv2D(32, 3, activation="relu")`` on (N, 28, 28, 1) gives (N, 26, 26, 32).

    Args: as :class:`Conv1D`, with pairs for kernel_size, strides and dilation_rate.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, height, width, channels); kernel (kd, kh, kw, in/groups, filters).

    ``y[n, d, i, j, f] = activation(sum_{a, b, e, c} x[n, d*sd + a*dd, i*sh + b*dh, j*sw + e*dw, c]
    * kernel[a, b, e, c, f] + bias[f])``. Runs as one 2-D convolution per kernel depth tap (see
    ``ferrograd._ops_conv3d``).

    Example: ``Conv3D(8, 3, padding="same")`` on (N, 16, 32, 32, 1) gives (N, 16, 32, 32, 8).

    Args: as :class:`Conv1D`, with triples for kernel_size, strides and dilation_rate.
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class _ConvTranspose(_Conv):
    _causal_ok = False

    def __init__(self, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation,
                 use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                 activity_regularizer, kernel_constraint, bias_constraint, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation, use_bias,
                         kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = _tuple("output_padding", output_padding, self.rank, allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"Strides must be greater than output padding. Received strides={self.strides}, "
                                 f"output_padding={self.output_padding}.")

    def build(self, input_shape):
        cin = self._channels(input_shape)
        self.kernel = self.add_weight(self.kernel_size + (self.filters, cin), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    def _conv(self, x):
        y = ops.conv_transpose(x, self.kernel, strides=self.strides, padding=self.padding,
                               output_padding=self.output_padding, dilation_rate=self.dilation_rate)
        return y + self.bias if self.bias is not None else y

    def _spatial_out(self, spatial):
        op = self.output_padding or (None,) * self.rank
        return tuple(deconv_output_length(spatial[i], self.kernel_size[i], self.padding, op[i], self.strides[i],
                                          self.dilation_rate[i]) for i in range(self.rank))

    def get_config(self):
        cfg = {**super().get_config(), "output_padding": self.output_padding}
        cfg.pop("groups")
        return cfg


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (the adjoint of Conv1D); kernel (k, filters, in).

    Example: ``Conv1DTranspose(4, 3, strides=2)`` on (N, 5, 2) gives (N, 11, 4).

    Args: filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
    activation, use_bias and the initializers, regularizers and constraints, as in Keras.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (the adjoint of Conv2D); kernel (kh, kw, filters, in).

    Output length per axis: ``in * stride`` ("same") or ``in * stride + max(k_eff - stride, 0)``
    ("valid"), or Keras' formula with ``output_padding``.

    Example: ``Conv2DTranspose(8, 2, strides=2)`` on (N, 4, 4, 16) gives (N, 8, 8, 8).

    Args: as :class:`Conv1DTranspose`, with pairs.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution (the adjoint of Conv3D); kernel (kd, kh, kw, filters, in).

    Output length per axis as :class:`Conv2DTranspose`.

    Example: ``Conv3DTranspose(4, 2, strides=2)`` on (N, 4, 4, 4, 8) gives (N, 8, 8, 8, 4).

    Args: as :class:`Conv1DTranspose`, with triples.
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class _DepthwiseConv(_ConvBase):
    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                 use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                 activity_regularizer, depthwise_constraint, bias_constraint, **kwargs):
        _reject_lora(self, kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a strictly positive value. "
                             f"Received depth_multiplier={depth_multiplier}.")
        self.depth_multiplier = depth_multiplier
        self._init_geometry(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                            allow_causal=False)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        cin = self._channels(input_shape)
        self.kernel = self.add_weight(self.kernel_size + (cin, self.depth_multiplier), self.depthwise_initializer,
                                      name="kernel", regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint)
        self.bias = (self.add_weight((cin * self.depth_multiplier,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    def _conv(self, x):
        return ops.depthwise_conv(x, self.kernel, strides=self.strides, padding=self.padding,
                                  dilation_rate=self.dilation_rate, bias=self.bias)

    def _out_channels(self, s):
        return None if s[-1] is None else s[-1] * self.depth_multiplier

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, **self._geometry_config(),
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class DepthwiseConv1D(_DepthwiseConv):
    """Per-channel 1-D convolution; kernel (k, in, depth_multiplier).

    Output channel ``c * depth_multiplier + m`` convolves input channel c with ``kernel[:, c, m]``.

    Example: ``DepthwiseConv1D(3, depth_multiplier=2)`` on (N, 10, 4) gives (N, 8, 8).

    Args: kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
    use_bias, depthwise/bias initializers, regularizers and constraints, activity_regularizer.
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(_DepthwiseConv):
    """Per-channel 2-D convolution; kernel (kh, kw, in, depth_multiplier).

    Example: ``DepthwiseConv2D(3, padding="same")`` on (N, 8, 8, 16) gives (N, 8, 8, 16).

    Args: as :class:`DepthwiseConv1D`, with pairs.
    """

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class _SeparableConv(_ConvBase):
    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                 activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                 depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs):
        _reject_lora(self, kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={filters}.")
        if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
            raise ValueError(f"Invalid value for argument `depth_multiplier`. Expected a strictly positive value. "
                             f"Received depth_multiplier={depth_multiplier}.")
        self.filters = filters
        self.depth_multiplier = depth_multiplier
        self._init_geometry(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                            allow_causal=False)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        cin = self._channels(input_shape)
        mid = cin * self.depth_multiplier
        # Keras' weights and order: depthwise_kernel, pointwise_kernel, bias.
        self.depthwise_kernel = self.add_weight(self.kernel_size + (cin, self.depth_multiplier),
                                                self.depthwise_initializer, name="depthwise_kernel",
                                                regularizer=self.depthwise_regularizer,
                                                constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight((1,) * self.rank + (mid, self.filters), self.pointwise_initializer,
                                                name="pointwise_kernel", regularizer=self.pointwise_regularizer,
                                                constraint=self.pointwise_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    def _conv(self, x):
        h = ops.depthwise_conv(x, self.depthwise_kernel, strides=self.strides, padding=self.padding,
                               dilation_rate=self.dilation_rate)  # (N, *spatial', C_in * depth_multiplier)
        return ops.conv(h, self.pointwise_kernel, bias=self.bias)  # (N, *spatial', filters)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, "filters": self.filters,
                **self._geometry_config(),
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class SeparableConv1D(_SeparableConv):
    """Depthwise 1-D convolution followed by a pointwise (kernel size 1) convolution, then bias
    and activation; weights depthwise_kernel (k, in, depth_multiplier), pointwise_kernel
    (1, in * depth_multiplier, filters), bias (filters,).

    Example: ``SeparableConv1D(8, 3)`` on (N, 10, 4) gives (N, 8, 8).

    Args: filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
    activation, use_bias, and the depthwise/pointwise/bias initializers, regularizers, constraints.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(_SeparableConv):
    """Depthwise 2-D convolution followed by a 1x1 pointwise convolution, then bias and activation.

    Example: ``SeparableConv2D(32, 3, padding="same")`` on (N, 16, 16, 8) gives (N, 16, 16, 32).

    Args: as :class:`SeparableConv1D`, with pairs.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
