"""Image preprocessing and augmentation layers: Rescaling, Resizing, CenterCrop, RandomFlip,
RandomCrop, RandomContrast, RandomBrightness, RandomTranslation, RandomZoom, RandomRotation
(``keras.layers`` names, arguments and configs).

Images are (batch, height, width, channels) for channels_last (or a single (h, w, c) image);
channels_first is (batch, channels, height, width). Resizing is composed from ``ops.take`` along
the height and width axes: each output row/column reads its two source rows/columns (bilinear,
half-pixel centres, no antialiasing) or its one nearest source (``nearest-exact``: the source of
output ``i`` is ``floor((i + 0.5) * in / out)``), as Keras' torch backend computes them. The
indices and interpolation weights are geometry (from the shapes), computed once per call; the
image data goes through the Rust kernels.

The random layers act only in training (``training=True`` or inside ``fit``) and return their
inputs unchanged at inference; with ``seed``
their draws are reproducible. Translation, zoom and rotation resample through one affine sampler
(see its section note).
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from .. import random as _random
from .._ops_image_warp import sample_images
from .conv import standardize_data_format
from .layer import Layer


def _hw_axes(ndim, data_format):
    """The (height, width) axes of an image batch or single image."""
    return (ndim - 2, ndim - 1) if data_format == "channels_first" else (ndim - 3, ndim - 2)


def _resize_axis(x, axis, out, interpolation):
    """``x`` resized along ``axis`` to ``out`` entries (see the module note for the rules)."""
    n = x.shape[axis]
    if n == out:
        return x
    scale = n / out
    dst = np.arange(out, dtype=np.float64)
    if interpolation == "nearest":
        idx = np.minimum(np.floor((dst + 0.5) * scale), n - 1).astype(np.int64)
        return ops.take(x, ops.convert_to_tensor(idx), axis=axis)
    src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src), n - 1).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w1 = (src - i0).astype(np.float32)
    bshape = [1] * x.ndim
    bshape[axis] = out
    w1 = ops.convert_to_tensor(w1.reshape(bshape))
    a = ops.take(x, ops.convert_to_tensor(i0), axis=axis)
    b = ops.take(x, ops.convert_to_tensor(i1), axis=axis)
    return ops.add(a, ops.multiply(ops.subtract(b, a), w1))  # a + (b - a) * w1


def _crop(x, axes, top, left, height, width):
    index = [slice(None)] * x.ndim
    index[axes[0]] = slice(top, top + height)
    index[axes[1]] = slice(left, left + width)
    return x[tuple(index)]


def _resize(x, height, width, interpolation, crop_to_aspect_ratio, data_format, pad_to_aspect_ratio=False,
            fill_value=0.0):
    """Keras' resize: a centred crop (or a centred pad with ``fill_value``) to the target's aspect
    ratio first when asked, with Keras' integer arithmetic for the box, then the resize."""
    axes = _hw_axes(x.ndim, data_format)
    h, w = x.shape[axes[0]], x.shape[axes[1]]
    if crop_to_aspect_ratio:
        crop_h = max(min(h, int(float(w * height) / width)), 1)
        crop_w = max(min(w, int(float(h * width) / height)), 1)
        x = _crop(x, axes, int(float(h - crop_h) / 2), int(float(w - crop_w) / 2), crop_h, crop_w)
    elif pad_to_aspect_ratio:
        # Keras pads the same amount on both sides (an odd remainder is dropped, not split)
        top = int(float(max(h, int(float(w * height) / width)) - h) / 2)
        left = int(float(max(w, int(float(h * width) / height)) - w) / 2)
        pads = [(0, 0)] * x.ndim
        pads[axes[0]], pads[axes[1]] = (top, top), (left, left)
        x = ops.pad(x, pads, constant_values=fill_value)
    x = _resize_axis(x, axes[0], height, interpolation)
    return _resize_axis(x, axes[1], width, interpolation)


def _check_size(layer, height, width):
    for arg, v in (("height", height), ("width", width)):
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{layer}: `{arg}` must be a positive integer. Received: {arg}={v!r}")


def _image_output_shape(input_shape, height, width, data_format):
    shape = list(input_shape)
    axes = _hw_axes(len(shape), data_format)
    shape[axes[0]], shape[axes[1]] = height, width
    return tuple(shape)


class Rescaling(Layer):
    """``inputs * scale + offset``; ``scale`` and ``offset`` may be lists broadcast over the last axis.

    Example: ``Rescaling(1.0 / 255)`` maps [0, 255] pixels to [0, 1].

    Args: scale, offset (default 0.0).
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        scale = self.scale if isinstance(self.scale, (int, float)) else ops.convert_to_tensor(
            np.asarray(self.scale, np.float32))
        offset = self.offset if isinstance(self.offset, (int, float)) else ops.convert_to_tensor(
            np.asarray(self.offset, np.float32))
        return ops.add(ops.multiply(inputs, scale), offset)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Resizing(Layer):
    """Resizes images to ``(height, width)``.

    Example: ``Resizing(64, 64)`` on (N, 32, 48, 3) gives (N, 64, 64, 3).

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default) or "nearest"; the others Keras offers ("bicubic",
            "lanczos3", ...) raise NotImplementedError.
        crop_to_aspect_ratio: first crop the largest centred window of the target aspect ratio.
        pad_to_aspect_ratio, fill_mode, fill_value: first pad to the target aspect ratio instead
            (the same amount on both sides, with ``fill_value``; "constant" is Keras' only mode).
        antialias: only False is implemented.
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_size("Resizing", height, width)
        if interpolation not in ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area"):
            raise ValueError(f"Invalid value for argument `interpolation`: {interpolation!r}. Expected one of "
                             "'bilinear', 'nearest', 'bicubic', 'lanczos3', 'lanczos5', 'area'")
        if interpolation not in ("bilinear", "nearest"):
            raise NotImplementedError(f"Resizing: interpolation={interpolation!r} is not implemented in ferrograd "
                                      "(bilinear and nearest are)")
        if antialias:
            raise NotImplementedError(f"Resizing: `antialias` is not implemented in ferrograd. Received: "
                                      f"antialias={antialias!r}")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: fill_mode must be 'constant' (the only mode Keras has); "
                             f"received {fill_mode!r}")
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be True.")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        return _resize(inputs, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio,
                       self.data_format, self.pad_to_aspect_ratio, float(self.fill_value))

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(Layer):
    """Crops the central ``(height, width)`` window of each image; an image smaller than the
    target is first resized (bilinear, cropped to the target aspect ratio), as Keras does.

    Args: height, width, data_format.
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_size("CenterCrop", height, width)
        self.height, self.width = height, width
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs):
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        axes = _hw_axes(inputs.ndim, self.data_format)
        h, w = inputs.shape[axes[0]], inputs.shape[axes[1]]
        if h < self.height or w < self.width:
            return _resize(inputs, self.height, self.width, "bilinear", True, self.data_format)
        return _crop(inputs, axes, (h - self.height) // 2, (w - self.width) // 2, self.height, self.width)

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width}


class _RandomImageLayer(Layer):
    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self.data_format = standardize_data_format(data_format)

    def _per_image(self, inputs, minval, maxval):
        """One uniform draw per image, shaped to broadcast over it: (B, 1, 1, 1) or (1, 1, 1)."""
        if inputs.ndim not in (3, 4):
            raise ValueError(f"Expected the input image to be rank 3 or 4. Received inputs.shape={tuple(inputs.shape)}")
        shape = (inputs.shape[0], 1, 1, 1) if inputs.ndim == 4 else (1, 1, 1)
        return _random.uniform(shape, minval, maxval, "float32", self._seed_gen)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class RandomFlip(_RandomImageLayer):
    """In training, flips each image left-right and/or up-down with probability 1/2.

    Args: mode ("horizontal", "vertical" or "horizontal_and_vertical"), seed, data_format.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode}")
        self.mode = mode

    def call(self, inputs, training=True):
        if not training:
            return inputs
        axes = _hw_axes(inputs.ndim, self.data_format)
        out = inputs
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            out = ops.where(self._per_image(out, 0.0, 1.0) > 0.5, ops.flip(out, axis=axes[1]), out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            out = ops.where(self._per_image(out, 0.0, 1.0) > 0.5, ops.flip(out, axis=axes[0]), out)
        return out

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed, "mode": self.mode}


class RandomCrop(_RandomImageLayer):
    """In training, crops a random ``(height, width)`` window (one offset per batch; an image not
    larger than the target on both sides is cropped from the corner and resized to the target).
    At inference the images pass unchanged, as Keras 3.15 does (its ``compute_output_shape`` still
    says ``(height, width)``).

    Args: height, width, seed, data_format.
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        _check_size("RandomCrop", height, width)
        self.height, self.width = height, width

    def call(self, inputs, training=True):
        if not training:
            return inputs
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        axes = _hw_axes(inputs.ndim, self.data_format)
        h, w = inputs.shape[axes[0]], inputs.shape[axes[1]]
        top = left = 0
        if h > self.height and w > self.width:
            offs = _random.randint((2,), 0, 1 << 30, "int64", self._seed_gen).numpy()  # two ints: the offsets
            top, left = int(offs[0]) % (h - self.height + 1), int(offs[1]) % (w - self.width + 1)
        out = _crop(inputs, axes, top, left, self.height, self.width)
        if out.shape[axes[0]] != self.height or out.shape[axes[1]] != self.width:
            out = _resize(out, self.height, self.width, "bilinear", False, self.data_format)
        return out

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width,
                "seed": self.seed}


def _factor(layer, factor, bounds):
    msg = (f"The `factor` argument should be a number (or a list of two numbers) in the range "
           f"[{bounds[0]}, {bounds[1]}]. Received: factor={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(msg)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(msg)
        factor = abs(factor)
        return (max(-factor, bounds[0]), factor)
    raise ValueError(msg)


class RandomContrast(_RandomImageLayer):
    """In training, scales each image's deviation from its per-channel mean by a factor drawn from
    ``[1 - lower, 1 + upper]``, then clips to ``value_range``.

    Args: factor (a number in [0, 1] or a pair), value_range (default (0, 255)), seed.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.value_range = value_range

    def call(self, inputs, training=True):
        if not training:
            return inputs
        axes = _hw_axes(inputs.ndim, self.data_format)
        f = self._per_image(inputs, 1.0 - self.factor[0], 1.0 + self.factor[1])
        mean = ops.mean(ops.mean(inputs, axis=axes[0], keepdims=True), axis=axes[1], keepdims=True)
        out = ops.add(ops.multiply(ops.subtract(inputs, mean), f), mean)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}


class RandomBrightness(_RandomImageLayer):
    """In training, adds to each image a delta drawn from ``factor`` (a fraction of the value
    range, in [-1, 1]) times ``value_range[1] - value_range[0]``, then clips to ``value_range``.

    Args: factor (a number or a pair in [-1, 1]), value_range (default (0, 255)), seed.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor(self, factor, (-1, 1))
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"The `value_range` argument should be a list of two numbers. "
                             f"Received: value_range={value_range}")
        self.value_range = sorted(value_range)

    def call(self, inputs, training=True):
        if not training:
            return inputs
        delta = ops.multiply(self._per_image(inputs, self.factor[0], self.factor[1]),
                             float(self.value_range[1] - self.value_range[0]))
        return ops.clip(ops.add(inputs, delta), self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "value_range": self.value_range, "seed": self.seed}



# ---- affine resampling (RandomTranslation, RandomZoom, RandomRotation) ---------------------------
# Keras' affine_transform + map_coordinates (order 0 or 1), composed from ops: output pixel (y, x) of
# image b reads the input at (b0 x + b1 y + b2, a0 x + a1 y + a2); bilinear takes the four
# neighbours with their weights, nearest rounds half to even; out-of-range indices are folded back
# by the fill mode ("reflect": (d c b a | a b c d | d c b a), "wrap", "nearest"), or, for
# "constant", read as fill_value. The sampler is ops.image's (_ops_image_warp.sample_images).
_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


def _affine_transform(images, coeffs, interpolation, fill_mode, fill_value, data_format):
    """``images`` (B, H, W, C) or channels_first (B, C, H, W) resampled through ``coeffs``, six
    (B, 1, 1) tensors a0, a1, a2, b0, b1, b2 (see the section note)."""
    if data_format == "channels_first":
        images = ops.transpose(images, (0, 2, 3, 1))
    _, h, w, _ = images.shape
    a0, a1, a2, b0, b1, b2 = coeffs
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    yy, xx = ops.convert_to_tensor(yy[None]), ops.convert_to_tensor(xx[None])  # (1, H, W)
    src_y = ops.add(ops.add(ops.multiply(b0, xx), ops.multiply(b1, yy)), b2)  # (B, H, W)
    src_x = ops.add(ops.add(ops.multiply(a0, xx), ops.multiply(a1, yy)), a2)
    order = 0 if interpolation == "nearest" else 1
    out = sample_images(images, src_y, src_x, order, fill_mode, fill_value)
    if data_format == "channels_first":
        out = ops.transpose(out, (0, 3, 1, 2))
    return out


def _pair_factor(factor, name, low_inclusive=True):
    msg = ("The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]. "
           f"Received: {name}={factor}")
    def check(v):
        if v > 1.0 or (v < -1.0 if low_inclusive else v <= -1.0):
            raise ValueError(msg)
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0])
        check(factor[1])
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return (-abs(factor), abs(factor))
    raise ValueError(msg)


class _AffineLayer(_RandomImageLayer):
    def _init_affine(self, fill_mode, interpolation, fill_value):
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {_FILL_MODES}.")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {_INTERPOLATIONS}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def _draw(self, batch, low, high):
        """One uniform draw per image, (B, 1, 1)."""
        return _random.uniform((batch, 1, 1), low, high, "float32", self._seed_gen)

    def call(self, inputs, training=True):
        if not training:
            return inputs
        if inputs.ndim not in (3, 4):
            raise ValueError(f"Expected the input image to be rank 3 or 4. Received inputs.shape={tuple(inputs.shape)}")
        if not inputs.dtype.startswith("float"):
            inputs = ops.cast(inputs, self.dtype)
        single = inputs.ndim == 3
        x = ops.expand_dims(inputs, 0) if single else inputs
        h, w = (x.shape[2], x.shape[3]) if self.data_format == "channels_first" else (x.shape[1], x.shape[2])
        out = _affine_transform(x, self._coefficients(x.shape[0], h, w), self.interpolation, self.fill_mode,
                                self.fill_value, self.data_format)
        return out[0] if single else out


class RandomTranslation(_AffineLayer):
    """In training, shifts each image by a random fraction of its height and width.

    Args:
        height_factor, width_factor: a fraction in [-1, 1] (the shift is drawn from
            [-f, f]) or a pair (lower, upper).
        fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
        interpolation: "bilinear" (default) or "nearest".
        seed, fill_value, data_format.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _pair_factor(height_factor, "height_factor")
        self._w = _pair_factor(width_factor, "width_factor")
        self._init_affine(fill_mode, interpolation, fill_value)

    def _coefficients(self, batch, h, w):
        dy = ops.multiply(self._draw(batch, *self._h), float(h))
        dx = ops.multiply(self._draw(batch, *self._w), float(w))
        one, zero = ops.ones((batch, 1, 1)), ops.zeros((batch, 1, 1))
        return one, zero, ops.negative(dx), zero, one, ops.negative(dy)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


class RandomZoom(_AffineLayer):
    """In training, zooms each image about its centre by a random factor: ``height_factor`` f
    draws the zoom from ``[1 + lower, 1 + upper]`` (f alone: [1 - f, 1 + f]; positive values zoom
    out); ``width_factor=None`` keeps the aspect ratio.

    Args: height_factor, width_factor, fill_mode, interpolation, seed, fill_value, data_format.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _pair_factor(height_factor, "height_factor", low_inclusive=False)
        self._w = None if width_factor is None else _pair_factor(width_factor, "width_factor", low_inclusive=False)
        self._init_affine(fill_mode, interpolation, fill_value)

    def _coefficients(self, batch, h, w):
        zy = self._draw(batch, 1.0 + self._h[0], 1.0 + self._h[1])
        zx = zy if self._w is None else self._draw(batch, 1.0 + self._w[0], 1.0 + self._w[1])
        zero = ops.zeros((batch, 1, 1))
        x_off = ops.multiply(ops.subtract(1.0, zx), (w - 1.0) / 2.0)
        y_off = ops.multiply(ops.subtract(1.0, zy), (h - 1.0) / 2.0)
        return zx, zero, x_off, zero, zy, y_off

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
    """In training, rotates each image about its centre by a random angle of ``factor`` turns
    (f alone: [-f, f] x 360 degrees; a pair: [lower, upper] x 360).

    Args: factor, fill_mode, interpolation, seed, fill_value, data_format.
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (-1, 1))
        self._init_affine(fill_mode, interpolation, fill_value)

    def _coefficients(self, batch, h, w):
        angle = ops.multiply(self._draw(batch, self.factor[0] * 360.0, self.factor[1] * 360.0), math.pi / 180.0)
        cos, sin = ops.cos(angle), ops.sin(angle)
        cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
        a0, a1, b0, b1 = cos, ops.negative(sin), sin, cos
        a2 = ops.subtract(ops.subtract(cx, ops.multiply(a0, cx)), ops.multiply(a1, cy))
        b2 = ops.subtract(ops.subtract(cy, ops.multiply(b0, cx)), ops.multiply(b1, cy))
        return a0, a1, a2, b0, b1, b2

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "interpolation": self.interpolation,
                "seed": self.seed}


class RandomShear(_AffineLayer):
    """In training, shears each image: the source of output (y, x) is (y + sy x, x + sx y), with
    sx drawn from ``x_factor``, sy from ``y_factor`` (a number f: [-f, f]; a pair in [0, 1]:
    [lower, upper]) and both negated for a random half of the images, as Keras does.

    Args: x_factor, y_factor, interpolation, fill_mode, fill_value, data_format, seed.
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.x_factor = self._shear_factor(x_factor, "x_factor")
        self.y_factor = self._shear_factor(y_factor, "y_factor")
        self._init_affine(fill_mode, interpolation, fill_value)

    @staticmethod
    def _shear_factor(factor, name):
        msg = ("The `factor` argument should be a number (or a list of two numbers) in the range [0.0, 1.0]. "
               f"Received: {name}={factor}")
        if isinstance(factor, (tuple, list)):
            # Keras accepts pairs in [0, 1] only, so its own configs ((-f, f) from a number) do not
            # load back; ferrograd accepts [-1, 1] for pairs so that they do.
            if len(factor) != 2 or any(not -1.0 <= v <= 1.0 for v in factor):
                raise ValueError(msg)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if not 0.0 <= factor <= 1.0:
                raise ValueError(msg)
            return (-abs(factor), abs(factor))
        raise ValueError(msg)

    def _coefficients(self, batch, h, w):
        sign = ops.where(ops.greater(self._draw(batch, 0.0, 1.0), 0.5), -1.0, 1.0)  # (B, 1, 1)
        sy = ops.multiply(self._draw(batch, *self.y_factor), sign)
        sx = ops.multiply(self._draw(batch, *self.x_factor), sign)
        one, zero = ops.ones((batch, 1, 1)), ops.zeros((batch, 1, 1))
        return one, sx, zero, sy, one, zero

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "x_factor": self.x_factor,
                "y_factor": self.y_factor, "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value}
