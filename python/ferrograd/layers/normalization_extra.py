"""Per-sample normalization layers: LayerNormalization, RMSNormalization, GroupNormalization and
UnitNormalization (Keras 3 names, arguments, defaults, weights and configs).

They are composed from the Rust reductions and element-wise kernels (``ops.layer_normalization``
and friends); a fused layer-norm kernel can replace the body of ``call`` without touching the API.
"""
from __future__ import annotations

import warnings

from .. import constraints, initializers, ops, regularizers
from .layer import Layer


def _check_axis(name, axis):
    if isinstance(axis, (list, tuple)):
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                            f"{axis!r}")
        return list(axis)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
    return axis


def _axes_in_bounds(layer, input_shape):
    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    for a in axes:
        if a >= len(input_shape) or a < -len(input_shape):
            raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. "
                             f"Received: axis={layer.axis}")
    return tuple(input_shape)


def _param_shape(layer, input_shape):
    """Keras' rule: the sizes of the normalized axes (``axis`` becomes a sorted list once built)."""
    _axes_in_bounds(layer, input_shape)
    if isinstance(layer.axis, list):
        layer.axis = sorted(layer.axis)
        shape = tuple(input_shape[a] for a in layer.axis)
    else:
        shape = (input_shape[layer.axis],)
        layer.axis = [layer.axis]
    if any(d is None for d in shape):
        raise ValueError(f"{layer.name}: the normalized axes {layer.axis} of the input shape {tuple(input_shape)} "
                         "must be known")
    return shape


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis``: ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``.

    Statistics are per sample (no moving averages; training and inference compute the same).
    ``rms_scaling=True`` is Keras' deprecated variant ``x / sqrt(var + epsilon) * gamma`` (no
    centering, no beta); use :class:`RMSNormalization` for RMS norm.

    Example: ``LayerNormalization()(x)`` on (B, T, D) normalizes each D-vector; weights gamma (D,)
    and beta (D,).

    Args:
        axis: the axis or axes to normalize over (-1).
        epsilon: added to the variance (1e-3, Keras' default).
        center, scale: whether to learn beta / gamma.
        rms_scaling: Keras' deprecated RMS-style scaling (warns, as Keras).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: as in Keras.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                          "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                          "please use `keras.layers.RMSNormalization` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.axis = _check_axis("LayerNormalization", axis)
        if epsilon is None or epsilon < 0:
            raise ValueError(f"epsilon must be a non-negative number. Received: epsilon={epsilon}")
        self.epsilon = epsilon
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        shape = _param_shape(self, input_shape)
        self.gamma = (self.add_weight(shape, self.gamma_initializer, name="gamma", regularizer=self.gamma_regularizer,
                                      constraint=self.gamma_constraint)
                      if self.scale or self.rms_scaling else None)
        self.beta = (self.add_weight(shape, self.beta_initializer, name="beta", regularizer=self.beta_regularizer,
                                     constraint=self.beta_constraint)
                     if self.center and not self.rms_scaling else None)
        self.built = True

    def call(self, inputs):
        return ops.layer_normalization(inputs, self.gamma, self.beta, self.axis, self.epsilon,  # same shape
                                       rms_scaling=self.rms_scaling)

    def compute_output_shape(self, input_shape):
        return _axes_in_bounds(self, input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class RMSNormalization(Layer):
    """Root-mean-square normalization: ``y = x / sqrt(mean(x^2) + epsilon) * scale`` over ``axis``.

    Example: ``RMSNormalization()(x)`` on (B, T, D); one weight ``scale`` (D,) initialized to ones.

    Args:
        axis: the axis or axes to normalize over (-1).
        epsilon: added to the mean square (1e-6).
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = _check_axis("RMSNormalization", axis)
        if epsilon is None or epsilon < 0:
            raise ValueError(f"epsilon must be a non-negative number. Received: epsilon={epsilon}")
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(_param_shape(self, input_shape), "ones", name="scale")
        self.built = True

    def call(self, x):
        return ops.rms_normalization(x, scale=self.scale, axis=self.axis, epsilon=self.epsilon)  # same shape

    def compute_output_shape(self, input_shape):
        return _axes_in_bounds(self, input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels: the ``axis`` channels are split into
    ``groups`` groups and each group is normalized over its channels and every other non-batch
    axis, then scaled by gamma and shifted by beta per channel. ``groups=-1`` is instance
    normalization (one channel per group); ``groups=1`` normalizes like LayerNormalization over
    all non-batch axes.

    Example: ``GroupNormalization(groups=4)(x)`` on (B, H, W, 16).

    Args:
        groups: the number of groups (divides the channels; -1 for one per channel). Default 32.
        axis: the channel axis (-1).
        epsilon, center, scale, beta/gamma initializers, regularizers and constraints: as in
            LayerNormalization.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a positive integer (or `-1` "
                             f"for instance normalization). Received: groups={groups}")
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"GroupNormalization: axis must be an int. Received: axis={axis!r}")
        self.groups, self.axis, self.epsilon = groups, axis, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        _axes_in_bounds(self, input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer received "
                             f"an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.gamma = (self.add_weight((dim,), self.gamma_initializer, name="gamma", regularizer=self.gamma_regularizer,
                                      constraint=self.gamma_constraint) if self.scale else None)
        self.beta = (self.add_weight((dim,), self.beta_initializer, name="beta", regularizer=self.beta_regularizer,
                                     constraint=self.beta_constraint) if self.center else None)
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        nd = len(shape)
        ax = self.axis % nd
        g = self.groups
        grouped = shape[:ax] + (g, shape[ax] // g) + shape[ax + 1:]
        x = ops.reshape(inputs, grouped)  # (B, .., G, C/G, ..)
        red = tuple(i for i in range(1, nd + 1) if i != ax)  # every non-batch axis but the group axis
        mean = ops.mean(x, axis=red, keepdims=True)
        var = ops.var(x, axis=red, keepdims=True)
        inv = ops.rsqrt(var + self.epsilon)
        bshape = [1] * (nd + 1)
        bshape[ax], bshape[ax + 1] = g, shape[ax] // g
        if self.gamma is not None:
            inv = inv * ops.reshape(self.gamma, bshape)
        res = -mean * inv
        if self.beta is not None:
            res = res + ops.reshape(self.beta, bshape)
        return ops.reshape(x * inv + res, shape)  # same shape as inputs

    def compute_output_shape(self, input_shape):
        return _axes_in_bounds(self, input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``y = x / max(||x||, 1e-12)``.

    Example: ``UnitNormalization()(x)`` on (B, D) gives rows of norm 1.

    Args:
        axis: the axis or axes the norm is taken over (-1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                            f"Received: axis={axis}")
        self.supports_masking = True

    def call(self, inputs):
        return ops.normalize(inputs, axis=self.axis, order=2, epsilon=1e-12)  # same shape

    def compute_output_shape(self, input_shape):
        return _axes_in_bounds(self, input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
