"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Masking.

Masks (Keras 3): Dense, Activation and Dropout pass the incoming mask through unchanged; Flatten
and Reshape do not support masking (the mask is dropped); Masking creates one.
"""
from __future__ import annotations

import math

from .. import _core, activations, constraints, initializers, ops, regularizers
from .. import random as _random
from .conv import standardize_data_format, to_channels_last
from .layer import Layer

_Tensor = _core.Tensor
# Input dtypes the fused dense op takes (the kernel and bias are promoted with them, as in matmul).
_FUSED_DTYPES = ("float32", "float64")


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis of N-D inputs.

    Example: ``Dense(64, activation="relu")(x)`` with ``x`` of shape (batch, 32) gives (batch, 64).

    Args:
        units: output width (positive int).
        activation: activation name or callable (None: linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: initializer names, dicts or instances.
        kernel_regularizer, bias_regularizer: penalties on the weights, added to the model loss.
        activity_regularizer: penalty on the layer's output, added to the model loss.
        kernel_constraint, bias_constraint: projections applied after each optimizer step.
        lora_rank, lora_alpha, quantization_config: Keras' LoRA and quantization options; not
            implemented (anything but None raises NotImplementedError).
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        for arg, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                           ("quantization_config", quantization_config)):
            if value is not None:
                raise NotImplementedError(f"Dense: `{arg}` (LoRA / quantization) is not implemented in ferrograd. "
                                          f"Received: {arg}={value!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"{self.name}: the last dimension of the inputs must be known, got {input_shape}")
        self.kernel = self.add_weight((input_shape[-1], self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.units,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer, constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected axis -1 "
                             f"of input shape to have value {self.kernel.shape[0]}, but received input with shape "
                             f"{tuple(inputs.shape)}")
        if type(inputs) is _Tensor and inputs.dtype in _FUSED_DTYPES:
            act = activations._core_activation(self.activation)
            if act is not False:
                # One op: the product, the bias and the activation (applied to each tile of the
                # product while it is in cache); the same values as the three ops below.
                name, param = act or (None, None)
                return _core.dense(inputs, self.kernel, self.bias, name, param)
        y = ops.matmul(inputs, self.kernel)  # (..., units)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        cfg = {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
               "use_bias": self.use_bias,
               "kernel_initializer": initializers.serialize(self.kernel_initializer),
               "bias_initializer": initializers.serialize(self.bias_initializer),
               "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
               "bias_regularizer": regularizers.serialize(self.bias_regularizer),
               "kernel_constraint": constraints.serialize(self.kernel_constraint),
               "bias_constraint": constraints.serialize(self.bias_constraint),
               "quantization_config": None}
        # Keras' Dense lists activity_regularizer only when one is set (its base config adds it).
        if getattr(self, "activity_regularizer", None) is not None:
            cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return cfg


class Activation(Layer):
    """Applies an activation function: ``Activation("relu")(x)`` is ``relu(x)``.

    Args: activation (name or callable).
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs during training and scales the rest by 1/(1-rate).

    Args:
        rate: fraction to drop, in [0, 1].
        noise_shape: the shape of the keep/drop pattern, broadcast over the inputs (None entries
            take the input's size), e.g. (batch, 1, features) drops whole features for every step.
        seed: makes the pattern sequence reproducible.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        keep = _random.uniform(shape, 0.0, 1.0, inputs.dtype, self._seed_gen) >= self.rate  # bool mask
        return inputs * ops.cast(keep, inputs.dtype) * (1.0 / (1.0 - self.rate))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class Flatten(Layer):
    """Flattens all axes but the batch axis; with ``data_format="channels_first"`` the input is
    first moved to channels_last, so the order of the features matches a channels_last model.

    Args: data_format.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = to_channels_last(inputs)
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (one entry may be -1).

    Example: ``Reshape((2, -1))`` on (N, 3, 4) gives (N, 2, 6).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        if -1 in self.target_shape and all(d is not None for d in input_shape[1:]):
            known = math.prod(d for d in self.target_shape if d != -1)
            total = math.prod(input_shape[1:])
            return (input_shape[0],) + tuple(total // known if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``.

    The output mask is ``any(inputs != mask_value, axis=-1)`` (shape (batch, steps), True =
    keep), and the masked steps of the output are set to 0. Layers downstream that support
    masking skip or ignore the masked steps (GlobalAveragePooling1D averages the others).

    Example: ``Masking(0.0)`` on (N, T, C) padded with zero steps.

    Args: mask_value (default 0.0).
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)  # (B, T)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)  # (B, T, 1)
        return ops.where(keep, inputs, 0.0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
