"""Colour preprocessing layers: AutoContrast, Solarization, RandomInvert, RandomGrayscale,
RandomColorDegeneration, RandomPosterization, RandomSharpness, RandomHue, RandomSaturation,
RandomColorJitter, RandomGaussianBlur, Equalization (``keras.layers`` names, arguments, configs and formulas).

Values are mapped from ``value_range`` to [0, 255] and back where Keras does so. The random
layers draw one value per image, act only in training and pass their inputs at inference.
Solarization keeps Keras' draw ranges as written: the addition is drawn from
``[addition_factor[0], addition_factor[1] * 255]`` (the lower bound is not scaled) and likewise the
threshold.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from .conv import standardize_data_format
from .layer import Layer
from .preprocessing import RandomBrightness, RandomContrast, _factor, _RandomImageLayer

_GRAY = (0.2989, 0.587, 0.114)  # torchvision's luma weights, as Keras' torch backend


def _value_range(value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError("The `value_range` argument should be a list of two numbers. "
                         f"Received: value_range={value_range}")
    return sorted(value_range)


def _to_range(images, source, target):
    if source[0] == target[0] and source[1] == target[1]:
        return images
    unit = ops.divide(ops.subtract(images, float(source[0])), float(source[1] - source[0]))
    return ops.add(ops.multiply(unit, float(target[1] - target[0])), float(target[0]))


def _grayscale(images, data_format):
    """The luma of RGB images (kept with one channel); one-channel images are returned as they are."""
    axis = -3 if data_format == "channels_first" else -1
    c = images.shape[axis]
    if c not in (1, 3):
        raise ValueError(f"Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with shape: "
                         f"images.shape={tuple(images.shape)}")
    if c == 1:
        return images
    r, g, b = ops.split(images, 3, axis=axis)
    return ops.add(ops.add(ops.multiply(r, _GRAY[0]), ops.multiply(g, _GRAY[1])), ops.multiply(b, _GRAY[2]))


def _float(x, dtype):
    return x if x.dtype.startswith("float") else ops.cast(x, dtype)


class AutoContrast(Layer):
    """Stretches each image so that its darkest value maps to the bottom of ``value_range`` and its
    brightest to the top (per channel, over height and width); a flat image is left unchanged.

    Args: value_range (default (0, 255)).
    """

    def __init__(self, value_range=(0, 255), **kwargs):
        data_format = kwargs.pop("data_format", None)
        super().__init__(**kwargs)
        self.value_range = _value_range(value_range)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        images = _to_range(inputs, self.value_range, (0, 255))
        # Keras reduces axes (1, 2) whatever the data format
        low = ops.min(images, axis=(1, 2), keepdims=True)
        high = ops.max(images, axis=(1, 2), keepdims=True)
        flat = ops.equal(high, low)
        scale = ops.divide(255.0, ops.where(flat, 1.0, ops.subtract(high, low)))
        out = ops.clip(ops.multiply(ops.subtract(images, low), scale), 0.0, 255.0)
        out = _to_range(out, (0, 255), self.value_range)
        return ops.where(flat, inputs, out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "value_range": self.value_range}


class Solarization(_RandomImageLayer):
    """In training, adds a random amount to each image and inverts (255 - x, on the [0, 255]
    scale) the values at or above a random threshold.

    Args: addition_factor, threshold_factor (numbers or pairs in [0, 1]), value_range, seed.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._pair(addition_factor, "addition_factor")
        self.threshold_factor = self._pair(threshold_factor, "threshold_factor")
        self.value_range = _value_range(value_range)

    @staticmethod
    def _pair(factor, name):
        msg = ("The `factor` argument should be a number (or a list of two numbers) in the range [0.0, 1.0]. "
               f"Received: {name}={factor}")
        values = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        if len(values) not in (1, 2) or any(not isinstance(v, (int, float)) or not 0 <= v <= 1 for v in values):
            raise ValueError(msg)
        return tuple(sorted(values)) if len(values) == 2 else (0, values[0])

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        additions = self._per_image(inputs, self.addition_factor[0], self.addition_factor[1] * 255)
        thresholds = self._per_image(inputs, self.threshold_factor[0], self.threshold_factor[1] * 255)
        images = _to_range(inputs, self.value_range, (0, 255))
        out = ops.clip(ops.add(images, additions), 0.0, 255.0)
        out = ops.where(ops.less(out, thresholds), out, ops.subtract(255.0, out))
        return _to_range(out, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "value_range": self.value_range,
                "addition_factor": self.addition_factor, "threshold_factor": self.threshold_factor,
                "seed": self.seed}


class RandomInvert(_RandomImageLayer):
    """In training, replaces each image by ``value_range[1] - x`` with a probability drawn from
    ``factor`` (a number p: [0, p]; a pair: [lower, upper]).

    Args: factor (default 1.0), value_range, seed, data_format.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.value_range = value_range

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        probability = self._per_image(inputs, self.factor[0], self.factor[1])
        threshold = self._per_image(inputs, 0.0, 1.0)
        return ops.where(ops.less(threshold, probability), ops.subtract(float(self.value_range[1]), inputs), inputs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomGrayscale(_RandomImageLayer):
    """In training, turns each image grey (the luma, repeated over the channels) with probability
    ``factor``.

    Args: factor (in [0, 1], default 0.5), data_format, seed.
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = factor

    def call(self, inputs, training=True):
        if not training:
            return inputs
        apply = ops.less(self._per_image(inputs, 0.0, 1.0), self.factor)
        return ops.where(apply, _grayscale(inputs, self.data_format), inputs)

    def get_config(self):  # Keras lists no seed here
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor}


class RandomColorDegeneration(_RandomImageLayer):
    """In training, blends each image towards its greyscale version by a random factor
    (``x + f * (gray - x)``), then clips to ``value_range``.

    Args: factor (a number or pair in [-1, 1]), value_range, data_format, seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (-1, 1))
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        f = self._per_image(inputs, self.factor[0], self.factor[1])
        out = ops.add(inputs, ops.multiply(f, ops.subtract(_grayscale(inputs, self.data_format), inputs)))
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomPosterization(_RandomImageLayer):
    """In training, keeps only the top ``bits`` bits of each 8-bit value (on the [0, 255] scale),
    ``bits`` drawn per image from ``[factor[0], factor[1])`` (the lower bound when they are equal;
    a number f means (1, f)).

    Args: factor (in [1, 8]), value_range, data_format, seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (1, 8))
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        b = inputs.shape[0] if inputs.ndim == 4 else 1
        shape = (b, 1, 1, 1) if inputs.ndim == 4 else (1, 1, 1)
        if self.factor[0] != self.factor[1]:
            bits = ops.cast(_random_randint(shape, self.factor[0], self.factor[1], self._seed_gen), "float32")
        else:
            bits = ops.full(shape, float(self.factor[0]))
        step = ops.power(2.0, ops.subtract(8.0, bits))  # 2 ** (8 - bits)
        images = ops.floor(ops.clip(_to_range(inputs, self.value_range, (0, 255)), 0.0, 255.0))  # the uint8 cast
        images = ops.multiply(ops.floor(ops.divide(images, step)), step)  # (x >> s) << s
        return _to_range(images, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


def _random_randint(shape, low, high, seed):
    from .. import random as _random

    return _random.randint(shape, int(low), int(high), "int32", seed)


class RandomSharpness(_RandomImageLayer):
    """In training, blends each image with a 3x3-smoothed copy: ``x + (1 - 2 f) (smooth(x) - x)``
    with f drawn from ``factor`` (f > 0.5 sharpens, f < 0.5 blurs), then clips to ``value_range``.

    Args: factor (a number or pair in [0, 1]), value_range, data_format, seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        single = inputs.ndim == 3
        x = ops.expand_dims(inputs, 0) if single else inputs
        if self.data_format == "channels_first":
            x = ops.swapaxes(x, -3, -1)
        f = ops.multiply(self._per_image(x, self.factor[0], self.factor[1]), 2.0)  # (B, 1, 1, 1)
        c = x.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = np.tile(np.array([[a, a, a], [a, b, a], [a, a, a]], np.float32).reshape(3, 3, 1, 1), (1, 1, c, 1))
        smooth = ops.depthwise_conv(x, ops.convert_to_tensor(kernel), strides=1, padding="same")
        out = ops.add(x, ops.multiply(ops.subtract(1.0, f), ops.subtract(smooth, x)))
        out = ops.clip(out, self.value_range[0], self.value_range[1])
        if self.data_format == "channels_first":
            out = ops.swapaxes(out, -3, -1)
        return out[0] if single else out

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


def _channel_axis(data_format):
    return -3 if data_format == "channels_first" else -1


def _replace_channel(hsv, index, plane, data_format):
    axis = _channel_axis(data_format)
    parts = [ops.squeeze(p, axis) for p in ops.split(hsv, 3, axis=axis)]
    parts[index] = plane
    return ops.stack(parts, axis=axis)


class RandomHue(_RandomImageLayer):
    """In training, rotates each image's hue by a random amount: ``delta = +-f / 2`` with ``f``
    drawn from ``factor`` and the sign drawn with probability 1/2 (Keras' draw), added to the hue
    in HSV (wrapped into [0, 1]); images are mapped from ``value_range`` to [0, 1] and back and
    clipped.

    Args: factor (a number or pair in [0, 1]; 0.5 rotates by up to a quarter turn either way),
    value_range (default (0, 255)), data_format, seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        invert = ops.where(self._per_image(inputs, 0.0, 1.0) > 0.5, -1.0, 1.0)
        delta = invert * self._per_image(inputs, self.factor[0], self.factor[1]) * 0.5
        return self._shift_hue(inputs, ops.squeeze(delta, -1))

    def _shift_hue(self, inputs, delta):
        """Adds ``delta`` (broadcast over each image's pixels) to the hue, wrapped into [0, 1]."""
        x = _to_range(inputs, self.value_range, (0, 1))
        hsv = ops.image.rgb_to_hsv(x, data_format=self.data_format)
        hue = ops.take(hsv, 0, axis=_channel_axis(self.data_format)) + delta
        hue = ops.where(hue > 1.0, hue - 1.0, hue)
        hue = ops.where(hue < 0.0, hue + 1.0, hue)
        rgb = ops.image.hsv_to_rgb(_replace_channel(hsv, 0, hue, self.data_format), data_format=self.data_format)
        return _to_range(ops.clip(rgb, 0.0, 1.0), (0, 1), self.value_range)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomSaturation(_RandomImageLayer):
    """In training, scales each image's HSV saturation by ``f / (1 - f)`` with ``f`` drawn from
    ``factor`` (0.5 leaves it, 0 makes the image grey, values near 1 saturate it), clipped to
    ``value_range`` as Keras does (the HSV conversion runs on the input's own scale).

    Args: factor (a number or pair in [-1, 1]), value_range (default (0, 255)), data_format, seed.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (-1, 1))
        self.value_range = _value_range(value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        f = self._per_image(inputs, self.factor[0], self.factor[1])
        return self._scale_saturation(inputs, ops.squeeze(f / (1.0 - f + 1e-7), -1))

    def _scale_saturation(self, inputs, scale):
        """Multiplies the saturation by ``scale`` (broadcast over each image's pixels), clipped."""
        hsv = ops.image.rgb_to_hsv(inputs, data_format=self.data_format)
        sat = ops.clip(ops.take(hsv, 1, axis=_channel_axis(self.data_format)) * scale, self.value_range[0],
                       self.value_range[1])
        return ops.image.hsv_to_rgb(_replace_channel(hsv, 1, sat, self.data_format), data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomColorJitter(_RandomImageLayer):
    """In training, applies in turn a random brightness, contrast, saturation and hue change (each
    only when its factor is given), as Keras composes RandomBrightness, RandomContrast,
    RandomSaturation and RandomHue.

    Example: ``RandomColorJitter(brightness_factor=0.2, contrast_factor=0.2, hue_factor=0.1)``.

    Args: value_range (default (0, 255)), brightness_factor, contrast_factor, saturation_factor,
    hue_factor (each the factor of the layer named after it, or None to skip it), seed,
    data_format.
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        if data_format == "channels_first" and (brightness_factor is not None or contrast_factor is not None):
            raise ValueError("RandomColorJitter: data_format='channels_first' with a brightness or contrast factor is "
                             "not supported by ferrograd (RandomBrightness/RandomContrast run channels_last)")
        steps = []
        if brightness_factor is not None:
            steps.append(RandomBrightness(brightness_factor, value_range=value_range, seed=seed))
        if contrast_factor is not None:
            steps.append(RandomContrast(contrast_factor, value_range=value_range, seed=seed))
        if saturation_factor is not None:
            steps.append(RandomSaturation(saturation_factor, value_range=value_range, seed=seed,
                                          data_format=data_format))
        if hue_factor is not None:
            steps.append(RandomHue(hue_factor, value_range=value_range, seed=seed, data_format=data_format))
        self._steps = steps

    def call(self, inputs, training=True):
        x = _float(inputs, self.dtype)
        if not training:
            return x
        for step in self._steps:
            x = step(x, training=True)
        return x

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "value_range": self.value_range,
                "brightness_factor": self.brightness_factor, "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor, "seed": self.seed}


def _odd_pair(name, value):
    msg = f"{name} must be an odd number. Received: {name}={value}"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"The `{name}` argument should be a number (or a list of two numbers) Received: "
                             f"{name}={value}")
        if value[0] % 2 == 0 or value[1] % 2 == 0:
            raise ValueError(msg)
        return int(value[0]), int(value[1])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value % 2 == 0:
            raise ValueError(msg)
        return int(value), int(value)
    raise ValueError(msg)


class RandomGaussianBlur(_RandomImageLayer):
    """In training, blurs each image with probability ``p`` (drawn per image from ``factor``) by a
    Gaussian of ``kernel_size`` taps whose two sigmas are drawn from ``sigma`` (one pair per call,
    as Keras draws it), then clips to ``value_range``.

    Example: ``RandomGaussianBlur(factor=0.5, kernel_size=5, sigma=(0.5, 2.0))``.

    Args: factor (a number or pair in [0, 1]: the blur probability range), kernel_size (an odd
    int or a pair of odd ints), sigma (a number or pair in [0, 1] as Keras bounds it), value_range,
    data_format, seed.
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.kernel_size = _odd_pair("kernel_size", kernel_size)
        self.sigma = _factor(self, sigma, (0, 1))
        self.value_range = value_range

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        p = self._per_image(inputs, self.factor[0], self.factor[1])
        apply = self._per_image(inputs, 0.0, 1.0) < p
        sigma = self._draw((2,), self.sigma[0], self.sigma[1]) + 1e-6
        blurred = ops.image.gaussian_blur(inputs, self.kernel_size, sigma, data_format=self.data_format)
        return ops.clip(ops.where(apply, blurred, inputs), self.value_range[0], self.value_range[1])

    def _draw(self, shape, lo, hi):
        from .. import random as _random

        return _random.uniform(shape, lo, hi, "float32", self._seed_gen)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "kernel_size": self.kernel_size, "sigma": self.sigma, "value_range": self.value_range,
                "seed": self.seed}


class Equalization(Layer):
    """Histogram equalization per channel, as Keras 3 computes it: values are mapped to [0, 255],
    binned into ``bins`` bins (``int(v * (bins - 1) / 255)``), and each value is replaced by the
    rounded, stretched cumulative count of its bin; a channel whose values fall in one bin is left
    alone. As in Keras the histogram of a channel covers the whole batch (not each image), and the
    layer acts only in training calls (the default), passing its inputs at inference.

    Args: value_range (default (0, 255)), bins (default 256), data_format.
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"Equalization: `bins` must be a positive int. Received: bins={bins!r}")
        self.bins = int(bins)
        self.value_range = _value_range(value_range)
        self.data_format = standardize_data_format(data_format)

    def _equalize(self, channel):
        bins = self.bins
        x = _to_range(channel, self.value_range, (0, 255))
        idx = ops.cast(ops.clip(ops.cast(x * (bins - 1) / 255.0, "int32"), 0, bins - 1), "int32")
        hist = ops.bincount(ops.reshape(idx, (-1,)), minlength=bins)
        if int(ops.count_nonzero(hist).item()) <= 1:
            return channel
        cdf = ops.cumsum(hist)
        cdf_min = ops.take(cdf, ops.nonzero(cdf)[0][0])
        denom = cdf[-1] - cdf_min
        denom = ops.where(ops.equal(denom, 0), ops.ones_like(denom), denom)
        lut = ops.clip(ops.round(ops.cast(cdf - cdf_min, "float32") * 255.0 / ops.cast(denom, "float32")), 0, 255)
        lookup = ops.cast(ops.clip(x / 255.0 * (bins - 1), 0, bins - 1), "int32")
        out = ops.take(lut, lookup)
        return _to_range(ops.cast(out, channel.dtype), (0, 255), self.value_range)

    def call(self, inputs, training=True):
        inputs = _float(inputs, self.dtype)
        if not training:
            return inputs
        axis = -3 if self.data_format == "channels_first" else -1
        planes = [ops.take(inputs, c, axis=axis) for c in range(inputs.shape[axis])]
        return ops.stack([self._equalize(p) for p in planes], axis=axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "bins": self.bins,
                "value_range": self.value_range}


class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """CLAHE, as ``keras.layers.ContrastLimitedAdaptiveHistogramEqualization``: each channel of each
    image is cut into ``tile_grid_size`` tiles (the image padded symmetrically to a multiple of
    the grid); each tile's 256-bin histogram is clipped at ``clip_limit`` times its mean count,
    the excess spread evenly, and its CDF becomes the tile's mapping; every pixel takes the
    bilinear blend of the mappings of the four nearest tile centres. Values are mapped from
    ``value_range`` to [0, 255] and back. Deterministic, applied in every call (as Keras).

    Args: value_range ((0, 255)), clip_limit (4.0; 0 disables clipping), tile_grid_size ((8, 8)),
    data_format.
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range
        _value_range(value_range)
        try:
            gh, gw = (int(v) for v in tile_grid_size)
        except (TypeError, ValueError):
            raise ValueError(f"`tile_grid_size` must be two positive ints. Received: {tile_grid_size!r}") from None
        if gh < 1 or gw < 1:
            raise ValueError(f"`tile_grid_size` must be two positive ints. Received: {tile_grid_size!r}")
        self.clip_limit, self.tile_grid_size = clip_limit, tile_grid_size
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs, training=True):
        x = ops.convert_to_tensor(inputs)
        if x.ndim not in (3, 4):
            raise ValueError(f"Expected the input image to be rank 3 or 4. Received inputs.shape={tuple(x.shape)}")
        dtype = x.dtype
        single = x.ndim == 3
        if single:
            x = ops.expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        x = _to_range(ops.cast(x, "float32"), self.value_range, (0, 255))
        y = _to_range(self._clahe(x), (0, 255), self.value_range)
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, 3, 1, 2))
        if single:
            y = ops.squeeze(y, 0)
        return ops.cast(y, dtype) if dtype != "float32" else y

    def _clahe(self, x):
        b, h, w, c = x.shape
        gh, gw = (int(v) for v in self.tile_grid_size)
        th, tw = -(-h // gh), -(-w // gw)
        hp, wp = th * gh, tw * gw
        if hp != h or wp != w:
            x = ops.pad(x, [(0, 0), (0, hp - h), (0, wp - w), (0, 0)], mode="symmetric")
        pixels = ops.clip(ops.cast(x, "int32"), 0, 255)  # (B, Hp, Wp, C)
        tiles = ops.transpose(ops.reshape(pixels, (b, gh, th, gw, tw, c)), (0, 1, 3, 5, 2, 4))
        tiles = ops.reshape(tiles, (b, gh, gw, c, th * tw))
        hists = ops.sum(ops.one_hot(tiles, 256, dtype="float32"), axis=-2)  # (B, gh, gw, C, 256)
        if self.clip_limit > 0:
            limit = float(self.clip_limit) * (th * tw) / 256.0
            clipped = ops.clip(hists, 0.0, limit)
            excess = ops.sum(ops.subtract(hists, clipped), axis=-1, keepdims=True)
            hists = ops.add(clipped, ops.divide(excess, 256.0))
        cdf = ops.cumsum(hists, axis=-1)
        cdf_min = ops.min(cdf, axis=-1, keepdims=True)
        denom = ops.subtract(float(th * tw), cdf_min)
        denom = ops.where(ops.equal(denom, 0.0), 1.0, denom)
        lut = ops.clip(ops.divide(ops.multiply(ops.subtract(cdf, cdf_min), 255.0), denom), 0.0, 255.0)
        # edge tiles repeated, so the blend near the border uses the edge tile's mapping
        lut = ops.concatenate([lut[:, :1], lut, lut[:, -1:]], axis=1)
        lut = ops.concatenate([lut[:, :, :1], lut, lut[:, :, -1:]], axis=2)  # (B, gh+2, gw+2, C, 256)
        yg = (np.arange(hp, dtype=np.float32) - th / 2.0) / th + 1.0
        xg = (np.arange(wp, dtype=np.float32) - tw / 2.0) / tw + 1.0
        y0, x0 = np.floor(yg), np.floor(xg)
        wy, wx = (yg - y0).astype(np.float32), (xg - x0).astype(np.float32)
        y0c, y1c = np.clip(y0, 0, gh + 1).astype(np.int64), np.clip(y0 + 1, 0, gh + 1).astype(np.int64)
        x0c, x1c = np.clip(x0, 0, gw + 1).astype(np.int64), np.clip(x0 + 1, 0, gw + 1).astype(np.int64)
        sc, sx = 256, 256 * c
        sy, sb = sx * (gw + 2), sx * (gw + 2) * (gh + 2)
        base = ops.add(ops.convert_to_tensor((np.arange(b, dtype=np.int64) * sb)[:, None, None, None]
                                             + (np.arange(c, dtype=np.int64) * sc)[None, None, None, :]),
                       ops.cast(pixels, "int64"))
        flat = ops.reshape(lut, (-1,))

        def corner(yi, xi):
            off = ops.convert_to_tensor((yi * sy)[None, :, None, None] + (xi * sx)[None, None, :, None])
            return ops.take(flat, ops.add(base, off))

        wx_t = ops.convert_to_tensor(wx[None, None, :, None])
        wy_t = ops.convert_to_tensor(wy[None, :, None, None])
        top = ops.add(ops.multiply(corner(y0c, x0c), ops.subtract(1.0, wx_t)), ops.multiply(corner(y0c, x1c), wx_t))
        bot = ops.add(ops.multiply(corner(y1c, x0c), ops.subtract(1.0, wx_t)), ops.multiply(corner(y1c, x1c), wx_t))
        out = ops.add(ops.multiply(top, ops.subtract(1.0, wy_t)), ops.multiply(bot, wy_t))
        return out[:, :h, :w, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size, "data_format": self.data_format}
