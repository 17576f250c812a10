"""Regularization layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization (``keras.layers`` names, arguments and configs).

The noise layers act only in training (``training=True``, or inside ``fit``) and return their
inputs unchanged at inference; with ``seed`` their draws are reproducible (a ``SeedGenerator``
per layer, as Keras). Each passes the incoming mask through.
"""
from __future__ import annotations

import math

from .. import ops, regularizers
from .. import random as _random
from .conv import standardize_data_format
from .core import Dropout
from .layer import Layer


def _check_rate(rate):
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                         f"Received: rate={rate}")


class _SameShape(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class SpatialDropout1D(Dropout):
    """Dropout of whole feature maps: on (batch, steps, channels) a channel is dropped for every
    step at once (noise shape (batch, 1, channels)); the kept ones are scaled by 1/(1-rate).

    Args: rate (in [0, 1]), seed.
    """

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def call(self, inputs, training=False):
        if inputs.ndim != 3:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected ndim=3, "
                             f"found ndim={inputs.ndim}. Full shape received: {tuple(inputs.shape)}")
        self.noise_shape = (inputs.shape[0], 1, inputs.shape[2])
        return super().call(inputs, training=training)

    def get_config(self):
        # Keras' SpatialDropout takes no **kwargs: its config has no "trainable"
        return {"name": self.name, "dtype": self.dtype, "rate": self.rate, "seed": self.seed}


class _SpatialDropoutND(Dropout):
    _rank = 2

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs, training=False):
        if inputs.ndim != self._rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                             f"ndim={self._rank + 2}, found ndim={inputs.ndim}. Full shape received: "
                             f"{tuple(inputs.shape)}")
        b = inputs.shape[0]
        if self.data_format == "channels_first":
            self.noise_shape = (b, inputs.shape[1]) + (1,) * self._rank
        else:
            self.noise_shape = (b,) + (1,) * self._rank + (inputs.shape[-1],)
        return super().call(inputs, training=training)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "rate": self.rate, "seed": self.seed,
                "data_format": self.data_format}


class SpatialDropout2D(_SpatialDropoutND):
    """Dropout of whole 2D feature maps (noise shape (batch, 1, 1, channels) for channels_last).

    Args: rate, data_format, seed.
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropoutND):
    """Dropout of whole 3D feature maps (noise shape (batch, 1, 1, 1, channels) for channels_last).

    Args: rate, data_format, seed.
    """

    _rank = 3


class GaussianNoise(_SameShape):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training.

    Args: stddev (>= 0), seed.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stddev, (int, float)) or isinstance(stddev, bool) or stddev < 0:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a float value greater "
                             f"than or equal to 0. Received: stddev={stddev}")
        self.stddev = stddev
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = _random.normal(tuple(inputs.shape), 0.0, self.stddev, inputs.dtype, self._seed_gen)
        return ops.add(inputs, noise)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_SameShape):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training.

    Args: rate (in [0, 1]), seed.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None

    def call(self, inputs, training=False):
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return ops.multiply(inputs, _random.normal(tuple(inputs.shape), 1.0, stddev, inputs.dtype, self._seed_gen))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_SameShape):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks): dropped entries
    become ``-scale * alpha`` (SELU's negative saturation), then ``a * x + b`` restores the moments.

    Args: rate (in [0, 1]), noise_shape, seed.
    """

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha_p = -self._ALPHA * self._SCALE
        keep = ops.cast(_random.uniform(shape, 0.0, 1.0, inputs.dtype, self._seed_gen) >= self.rate, inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = ops.add(ops.multiply(inputs, keep), ops.multiply(ops.subtract(1.0, keep), alpha_p))
        return ops.add(ops.multiply(x, a), b)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class ActivityRegularization(_SameShape):
    """Passes its inputs through and adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of them to the losses
    (the model's loss in ``fit``).

    Args: l1, l2 (non-negative factors).
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        return inputs

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("activity_regularizer", None)
        return {**cfg, "l1": self.l1, "l2": self.l2}
