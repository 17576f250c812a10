"""Augmentation layers that erase, mix or warp whole images: RandomErasing, CutMix, MixUp,
RandomPerspective and RandomElasticTransform (``keras.layers`` names, arguments and configs).

Like Keras' image preprocessing layers they take a batch (B, H, W, C) (channels_first:
(B, C, H, W)) or one image, or a dict ``{"images": ..., "labels": ..., "segmentation_masks": ...}``
whose entries are transformed together (MixUp and CutMix mix the labels in the same proportions as
the pixels); a "bounding_boxes" entry raises NotImplementedError. They act only in training and are
reproducible with ``seed``. The warps run through ``ops.image`` (perspective_transform,
elastic_transform); the masks and mixes are elementwise Rust kernels.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from .. import random as _random
from .._ops_image_warp import FILL_MODES, elastic_transform, perspective_transform
from .preprocessing import _factor, _RandomImageLayer

_INTERPOLATIONS = ("nearest", "bilinear")


def _unpack(layer, data):
    """(images, the rest of the dict or None)."""
    if isinstance(data, dict):
        if "images" not in data:
            raise ValueError(f"{layer.name}: a dict input needs an 'images' entry, received keys {sorted(data)}")
        if "bounding_boxes" in data:
            raise NotImplementedError(f"{type(layer).__name__}: 'bounding_boxes' inputs are not supported by "
                                      "ferrograd yet")
        rest = dict(data)
        images = rest.pop("images")
    else:
        images, rest = data, None
    images = ops.convert_to_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"Expected the input image to be rank 3 or 4. Received inputs.shape={tuple(images.shape)}")
    return images, rest


def _pack(images, rest, **updates):
    if rest is None:
        return images
    out = {"images": images, **{k: ops.convert_to_tensor(v) for k, v in rest.items()}}
    out.update({k: v for k, v in updates.items() if k in rest})
    return out


class _BatchAugmentation(_RandomImageLayer):
    """The shared call: unpack, cast to the compute dtype, transform a batch (single images as a
    batch of one), pack."""

    def call(self, data, training=True):
        images, rest = _unpack(self, data)
        if not training:
            return data
        x = ops.cast(images, self.compute_dtype) if images.dtype != self.compute_dtype else images
        single = x.ndim == 3
        xb = ops.expand_dims(x, 0) if single else x
        out, extra = self._transform(xb, rest)
        return _pack(out[0] if single else out, rest, **extra)

    def _hw(self, x):
        return (x.shape[2], x.shape[3]) if self.data_format == "channels_first" else (x.shape[1], x.shape[2])

    def _box_mask(self, x, x0, x1, y0, y1):
        """(B, H, W, 1) or (B, 1, H, W) bool: grid_x in [x0, x1) and grid_y in [y0, y1), per image
        ((B,) bounds)."""
        h, w = self._hw(x)
        b = x.shape[0]
        gy = ops.convert_to_tensor(np.arange(h, dtype=np.float32).reshape(1, h, 1))
        gx = ops.convert_to_tensor(np.arange(w, dtype=np.float32).reshape(1, 1, w))

        def col(t):
            return ops.reshape(t, (b, 1, 1))

        inside = ops.logical_and(ops.logical_and(ops.greater_equal(gx, col(x0)), ops.less(gx, col(x1))),
                                 ops.logical_and(ops.greater_equal(gy, col(y0)), ops.less(gy, col(y1))))
        return ops.expand_dims(inside, 1 if self.data_format == "channels_first" else -1)

    def _crop_bounds(self, batch, length, ratio):
        crop = ops.multiply(ratio, float(length))
        start = ops.multiply(_random.uniform((batch,), 0.0, 1.0, "float32", self._seed_gen),
                             ops.subtract(float(length), crop))
        return start, ops.add(start, crop)

    def compute_output_shape(self, input_shape):
        return input_shape


class MixUp(_BatchAugmentation):
    """MixUp (Zhang et al. 2018): in training each image becomes ``w x + (1 - w) x[perm]`` with a
    random permutation of the batch and ``w ~ Beta(alpha, alpha)`` per image; labels (one-hot,
    (B, classes)) and segmentation masks are mixed with the same weights.

    Args: alpha (default 0.2), data_format, seed.
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha > 0:
            raise ValueError(f"MixUp: alpha must be a positive number, received alpha={alpha!r}")
        self.alpha = alpha

    def _transform(self, x, rest):
        b = x.shape[0]
        perm = _random.shuffle(ops.arange(b, dtype="int64"), seed=self._seed_gen)
        w = ops.cast(_random.beta((b,), self.alpha, self.alpha, seed=self._seed_gen), x.dtype)

        def mix(t):
            t = ops.convert_to_tensor(t)
            wt = ops.reshape(w, (b,) + (1,) * (t.ndim - 1))
            t = ops.cast(t, x.dtype) if t.dtype != x.dtype else t
            return ops.add(ops.multiply(wt, t), ops.multiply(ops.subtract(1.0, wt), ops.take(t, perm, axis=0)))

        extra = {}
        if rest is not None:
            for key in ("labels", "segmentation_masks"):
                if key in rest:
                    extra[key] = mix(rest[key])
        return mix(x), extra

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "alpha": self.alpha, "seed": self.seed}


class CutMix(_BatchAugmentation):
    """CutMix (Yun et al. 2019): in training each image gets a box pasted from another image of
    the batch (a random permutation). The box covers a fraction ``1 - w`` of the area, with
    ``w ~ Beta(a, a)`` and ``a`` drawn from ``factor``; labels are mixed by the pasted area.
    A single (unbatched) image is returned unchanged.

    Args: factor (a number in [0, 1] or a pair; default 1.0), seed, data_format.
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))

    def call(self, data, training=True):
        images, _ = _unpack(self, data)
        if training and images.ndim == 3:  # nothing to mix with
            x = ops.cast(images, self.compute_dtype)
            return x if not isinstance(data, dict) else {**data, "images": x}
        return super().call(data, training=training)

    def _transform(self, x, rest):
        b = x.shape[0]
        h, w = self._hw(x)
        a = ops.add(_random.uniform((), self.factor[0], self.factor[1], "float32", self._seed_gen), 1e-6)
        a = float(a.numpy())
        weight = _random.beta((b,), a, a, dtype="float32", seed=self._seed_gen)
        ratio = ops.sqrt(ops.subtract(1.0, weight))
        x0, x1 = self._crop_bounds(b, w, ratio)
        y0, y1 = self._crop_bounds(b, h, ratio)
        mask = self._box_mask(x, x0, x1, y0, y1)
        mix_weight = ops.subtract(1.0, ops.divide(ops.multiply(ops.subtract(x1, x0), ops.subtract(y1, y0)),
                                                  float(w * h)))
        perm = _random.shuffle(ops.arange(b, dtype="int64"), seed=self._seed_gen)
        out = ops.where(mask, ops.take(x, perm, axis=0), x)
        extra = {}
        if rest is not None:
            if "labels" in rest:
                labels = ops.convert_to_tensor(rest["labels"])
                labels = ops.cast(labels, x.dtype) if labels.dtype != x.dtype else labels
                mw = ops.reshape(ops.cast(mix_weight, x.dtype), (b,) + (1,) * (labels.ndim - 1))
                extra["labels"] = ops.add(ops.multiply(mw, labels),
                                          ops.multiply(ops.subtract(1.0, mw), ops.take(labels, perm, axis=0)))
            if "segmentation_masks" in rest:
                m = ops.convert_to_tensor(rest["segmentation_masks"])
                extra["segmentation_masks"] = ops.where(mask, ops.take(m, perm, axis=0), m)
        return out, extra

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor, "seed": self.seed}


class RandomErasing(_BatchAugmentation):
    """Random erasing (Zhong et al. 2020): in training, with probability drawn from ``factor``,
    each image gets a box (each side ``sqrt(s)`` of the image side, ``s`` drawn from ``scale``)
    filled with ``fill_value`` (None: Gaussian noise times ``value_range[1]``; a number; or three
    numbers, one per channel), clipped to ``value_range``.

    Args: factor (default 1.0), scale (default (0.02, 0.33)), fill_value, value_range (default
    (0, 255)), seed, data_format.
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.scale = _factor(self, scale, (0, 1))
        if fill_value is not None and not (
                isinstance(fill_value, (int, float)) and not isinstance(fill_value, bool)
                or isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError("The `fill_value` argument should be a number (or a list of three numbers) "
                             f"Received: fill_value={fill_value!r}")
        self.fill_value = fill_value
        self.value_range = value_range

    def _fill(self, x):
        if self.fill_value is None:
            fill = ops.multiply(_random.normal(tuple(x.shape), dtype=x.dtype, seed=self._seed_gen),
                                float(self.value_range[1]))
        elif isinstance(self.fill_value, (tuple, list)):
            shape = (3, 1, 1) if self.data_format == "channels_first" else (3,)
            fill = ops.broadcast_to(ops.reshape(ops.convert_to_tensor(np.asarray(self.fill_value, np.float32)),
                                                shape), tuple(x.shape))
            fill = ops.cast(fill, x.dtype)
        else:
            fill = ops.full(tuple(x.shape), float(self.fill_value), dtype=x.dtype)
        return ops.clip(fill, float(self.value_range[0]), float(self.value_range[1]))

    def _transform(self, x, rest):
        b = x.shape[0]
        h, w = self._hw(x)
        sides = ops.sqrt(_random.uniform((b, 2), self.scale[0], self.scale[1], "float32", self._seed_gen))
        x0, x1 = self._crop_bounds(b, w, sides[:, 0])
        y0, y1 = self._crop_bounds(b, h, sides[:, 1])
        mask = self._box_mask(x, x0, x1, y0, y1)
        p = _random.uniform((b,), self.factor[0], self.factor[1], "float32", self._seed_gen)
        apply = ops.less(_random.uniform((b,), 0.0, 1.0, "float32", self._seed_gen), p)
        mask = ops.logical_and(mask, ops.reshape(apply, (b, 1, 1, 1)))
        return ops.where(mask, self._fill(x), x), {}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range, "seed": self.seed}


def _interpolation(value):
    if value not in _INTERPOLATIONS:
        raise NotImplementedError(f"Unknown `interpolation` {value}. Expected of one {_INTERPOLATIONS}.")
    return value


class RandomPerspective(_BatchAugmentation):
    """In training, with probability drawn from ``factor``, warps each image by a random
    perspective: the corners (0, 0), (W-1, 0), (0, H-1), (W-1, H-1) move to ``c + c u`` with
    ``u`` uniform in [-scale/2, scale/2] per coordinate (as Keras, the (0, 0) corner stays);
    outside reads ``fill_value``.

    Args: factor (default 1.0), scale (in [0, 1], default 1.0), interpolation ("bilinear" or
    "nearest"), fill_value, seed, data_format.
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0.0 <= scale <= 1.0:
            raise ValueError(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        self.scale = scale
        self.interpolation = _interpolation(interpolation)
        self.fill_value = fill_value

    def _transform(self, x, rest):
        b = x.shape[0]
        h, w = self._hw(x)
        p = _random.uniform((b,), self.factor[0], self.factor[1], "float32", self._seed_gen)
        apply = ops.less(_random.uniform((b,), 0.0, 1.0, "float32", self._seed_gen), p)
        u = _random.uniform((b, 4, 2), -0.5 * self.scale, 0.5 * self.scale, x.dtype, self._seed_gen)
        start = ops.convert_to_tensor(np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]],
                                               dtype=np.dtype(x.dtype))[None])
        start = ops.broadcast_to(start, (b, 4, 2))
        end = ops.add(start, ops.multiply(start, u))
        warped = perspective_transform(x, start, end, interpolation=self.interpolation, fill_value=self.fill_value,
                                       data_format=self.data_format)
        return ops.where(ops.reshape(apply, (b, 1, 1, 1)), warped, x), {}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value, "seed": self.seed}


class RandomElasticTransform(_BatchAugmentation):
    """In training, with probability drawn from ``factor``, applies ``ops.image.elastic_transform``
    with a distortion ``f`` drawn from ``scale``: alpha = 0.1 f max(H, W), sigma = 0.05 f
    min(H, W); the result is clipped to ``value_range``.

    Args: factor (default 1.0), scale (default 1.0, i.e. [0, 1]), interpolation, fill_mode
    ("reflect" default, "constant", "nearest", "wrap", "mirror"), fill_value, value_range (default
    (0, 255)), seed, data_format.
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor(self, factor, (0, 1))
        self.scale = _factor(self, scale, (0, 1))
        self.interpolation = _interpolation(interpolation)
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {set(FILL_MODES)}.")
        self.fill_mode, self.fill_value, self.value_range = fill_mode, fill_value, value_range

    def _transform(self, x, rest):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return x, {}
        b = x.shape[0]
        h, w = self._hw(x)
        p = _random.uniform((b,), self.factor[0], self.factor[1], "float32", self._seed_gen)
        apply = ops.less(_random.uniform((b,), 0.0, 1.0, "float32", self._seed_gen), p)
        f = float(_random.uniform((), self.scale[0], self.scale[1], "float32", self._seed_gen).numpy())
        alpha, sigma = max(h, w) * 0.1 * f, min(h, w) * 0.05 * f
        out = x
        if sigma > 0:
            warped = elastic_transform(x, alpha=alpha, sigma=sigma, interpolation=self.interpolation,
                                       fill_mode=self.fill_mode, fill_value=self.fill_value, seed=self._seed_gen,
                                       data_format=self.data_format)
            out = ops.where(ops.reshape(apply, (b, 1, 1, 1)), warped, x)
        return ops.clip(out, float(self.value_range[0]), float(self.value_range[1])), {}

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": self.value_range, "seed": self.seed}
