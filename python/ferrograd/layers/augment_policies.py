"""Augmentation policies built from the other augmentation layers: ``RandAugment`` and
``AugMix`` (``keras.layers`` names, arguments and configs).

Both act only in training. Their sub-layers (shear, translation, rotation, brightness, colour
degeneration, contrast, sharpness, posterization, solarization, auto-contrast, equalization) are
ferrograd's layers of those names, built with the policy's ``factor`` and ``value_range``; the
choices of sub-layer are drawn from ferrograd's seeded generator (Keras' AugMix uses Python's
unseeded ``random``), so a seed fixes the whole augmentation.
"""
from __future__ import annotations

from .. import ops
from .. import random as _random
from .color_augmentation import (
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from .image_augmentation import _unpack
from .preprocessing import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomShear,
    RandomTranslation,
    _factor,
    _RandomImageLayer,
)

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
_BASIC = _GEOMETRIC + ("random_posterization", "solarization", "auto_contrast", "equalization")
_COLOR = ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


def _make(name, factor, value_range, interpolation, seed, data_format):
    """The sub-layer ``name`` as Keras' policies configure it."""
    if name == "random_shear":
        return RandomShear(x_factor=factor, y_factor=factor, interpolation=interpolation, seed=seed,
                           data_format=data_format)
    if name == "random_translation":
        return RandomTranslation(height_factor=factor, width_factor=factor, interpolation=interpolation, seed=seed,
                                 data_format=data_format)
    if name == "random_rotation":
        return RandomRotation(factor=factor, interpolation=interpolation, seed=seed, data_format=data_format)
    if name == "random_posterization":
        return RandomPosterization(factor=max(1, int(8 * factor[1])), value_range=value_range, seed=seed,
                                   data_format=data_format)
    if name == "solarization":
        return Solarization(addition_factor=factor, threshold_factor=factor, value_range=value_range, seed=seed)
    if name == "auto_contrast":
        return AutoContrast(value_range=value_range)
    if name == "equalization":
        return Equalization(value_range=value_range, data_format=data_format)
    if name == "random_brightness":
        return RandomBrightness(factor=factor, value_range=value_range, seed=seed)
    if name == "random_color_degeneration":
        return RandomColorDegeneration(factor=factor, value_range=value_range, seed=seed, data_format=data_format)
    if name == "random_contrast":
        return RandomContrast(factor=factor, value_range=value_range, seed=seed)
    return RandomSharpness(factor=factor, value_range=value_range, seed=seed, data_format=data_format)


def _check_interpolation(interpolation):
    if interpolation not in ("nearest", "bilinear"):
        raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one ('nearest', 'bilinear').")
    return interpolation


class _Policy(_RandomImageLayer):
    def _setup(self, names, value_range, interpolation, seed, data_format):
        self.value_range = value_range
        self.interpolation = _check_interpolation(interpolation)
        self._names = list(names)
        self._layers = {n: _make(n, self.factor, value_range, self.interpolation, seed, data_format) for n in names}

    def _choose(self, count):
        """``count`` indices into ``self._names`` + [None] (or into ``self._names`` when ``with_none``
        is False), from the seeded generator."""
        return [int(i) for i in ops.convert_to_numpy(
            _random.randint((count,), 0, len(self._names) + self._extra_choice, seed=self._seed_gen))]

    _extra_choice = 0

    def call(self, data, training=True):
        images, rest = _unpack(self, data)
        if not training:
            return data
        x = ops.cast(images, self.compute_dtype) if images.dtype != self.compute_dtype else images
        out = self._augment(x)
        return out if rest is None else {**{k: ops.convert_to_tensor(v) for k, v in rest.items()}, "images": out}

    def compute_output_shape(self, input_shape):
        return input_shape


class RandAugment(_Policy):
    """RandAugment (Cubuk et al. 2020): in training, ``num_ops`` times, one augmentation drawn
    uniformly from shear, translation, rotation, brightness, colour degeneration, contrast,
    sharpness, posterization, solarization, auto-contrast and equalization is applied to the
    batch, each with strength ``factor``.

    Args: value_range ((0, 255)), num_ops (2), factor (0.5: a number in [0, 1] or a pair),
    interpolation ("bilinear" or "nearest"), seed, data_format.
    """

    _ORDER = ("random_shear", "random_translation", "random_rotation", "random_brightness",
              "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
              "solarization", "auto_contrast", "equalization")

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(num_ops, int) or isinstance(num_ops, bool) or num_ops < 0:
            raise ValueError(f"`num_ops` must be a non-negative integer. Received: num_ops={num_ops!r}")
        self.num_ops = num_ops
        self.factor = _factor(self, factor, (0, 1))
        self._setup(self._ORDER, value_range, interpolation, seed, data_format)

    def _augment(self, x):
        for i in self._choose(self.num_ops):
            x = self._layers[self._names[i]](x, training=True)
        return x

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "value_range": self.value_range,
                "num_ops": self.num_ops, "factor": self.factor, "interpolation": self.interpolation,
                "seed": self.seed}


class AugMix(_Policy):
    """AugMix (Hendrycks et al. 2020): in training, ``num_chains`` chains of up to
    ``chain_depth`` augmentations each (every step draws one of the augmentations or none) are
    applied to the batch, mixed with Dirichlet(``alpha``) weights, and the mix is blended with the
    original images with a Beta(``alpha``, ``alpha``) weight, then clipped to ``value_range``.
    ``all_ops=False`` leaves out the colour augmentations (brightness, colour degeneration,
    contrast, sharpness).

    Args: value_range ((0, 255)), num_chains (3), chain_depth (3), factor (0.3), alpha (1.0),
    all_ops (True), interpolation, seed, data_format.
    """

    _extra_choice = 1  # "no augmentation" at a chain step

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        for name, v in (("num_chains", num_chains), ("chain_depth", chain_depth)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={v!r}")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha > 0:
            raise ValueError(f"`alpha` must be a positive number. Received: alpha={alpha!r}")
        self.num_chains, self.chain_depth, self.alpha, self.all_ops = num_chains, chain_depth, alpha, bool(all_ops)
        self.factor = _factor(self, factor, (0, 1))
        self._setup(_BASIC + (_COLOR if self.all_ops else ()), value_range, interpolation, seed, data_format)

    def _augment(self, x):
        g = _random.gamma((self.num_chains,), self.alpha, seed=self._seed_gen)
        chain_w = ops.divide(g, ops.sum(g))
        keep = float(ops.convert_to_numpy(_random.beta((), self.alpha, self.alpha, seed=self._seed_gen)))
        mixed = None
        for c in range(self.num_chains):
            y = x
            for i in self._choose(self.chain_depth):
                if i < len(self._names):
                    y = self._layers[self._names[i]](y, training=True)
            term = ops.multiply(y, chain_w[c])
            mixed = term if mixed is None else ops.add(mixed, term)
        out = ops.add(ops.multiply(x, keep), ops.multiply(mixed, 1.0 - keep))
        return ops.clip(out, float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "value_range": self.value_range,
                "num_chains": self.num_chains, "chain_depth": self.chain_depth, "factor": self.factor,
                "alpha": self.alpha, "all_ops": self.all_ops, "interpolation": self.interpolation,
                "seed": self.seed}
