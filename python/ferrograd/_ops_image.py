"""``keras.ops.image``: image ops composed from the Rust kernels (channels_last).

``resize`` runs the up-sampling kernels where they are exact (integer up-scaling factors, nearest or
bilinear, no antialiasing); other sizes and interpolations raise the house error. ``crop_images`` and
``pad_images`` are views and one pad kernel; ``extract_patches`` is one convolution with a one-hot
kernel (as Keras computes it on its non-TensorFlow backends); ``rgb_to_grayscale`` is one tensordot.
"""
from __future__ import annotations

import sys as _sys

import numpy as _np

from . import _core
from . import ops as _ops

__all__ = ["resize", "crop_images", "pad_images", "extract_patches", "extract_patches_3d", "rgb_to_grayscale",
           "rgb_to_hsv", "hsv_to_rgb", "gaussian_blur", "sobel_edges", "affine_transform", "perspective_transform",
           "elastic_transform", "map_coordinates", "scale_and_translate", "ssim"]


def _check_format(op, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{op}: only data_format='channels_last' is supported, received {data_format!r}")


def _batched(op, images):
    x = _ops.convert_to_tensor(images) if not isinstance(images, _core.Tensor) else images
    if x.ndim == 3:
        return _core.expand_dims(x, 0), True
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (H, W, C) or 4-D (N, H, W, C) image tensor, received shape "
                         f"{tuple(x.shape)}")
    return x, False


def _unbatch(x, single):
    return _core.squeeze(x, 0) if single else x


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to ``size`` = (height, width); exact for integer up-scaling factors with
    "nearest" or "bilinear" (half-pixel centres, as Keras)."""
    op = "resize"
    _check_format(op, data_format)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    x, single = _batched(op, images)
    if len(tuple(size)) != 2:
        raise ValueError(f"resize: size must be (height, width), received size={size}")
    th, tw = (int(v) for v in size)
    h, w = x.shape[1], x.shape[2]
    if (th, tw) == (h, w):
        return _unbatch(x, single)
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant' (the only mode Keras has); received {fill_mode!r}")
    integer_up = th % h == 0 and tw % w == 0 and th >= h and tw >= w
    if interpolation in ("nearest", "bilinear") and not antialias:
        if integer_up and not crop_to_aspect_ratio and not pad_to_aspect_ratio:
            kind = "nearest" if interpolation == "nearest" else "bilinear"
            return _unbatch(_core.upsample(x, (th // h, tw // w), kind), single)
        from .layers.preprocessing import _resize

        # separable: two gathers and a lerp per axis (half-pixel centres, as tf.image.resize)
        y = _resize(x, th, tw, interpolation, crop_to_aspect_ratio, "channels_last", pad_to_aspect_ratio,
                    float(fill_value))
        return _unbatch(y, single)
    raise NotImplementedError(
        f"keras.ops.image.resize with interpolation={interpolation!r}, antialias={antialias} is not available in "
        "ferrograd yet (nearest and bilinear without antialiasing are)")


def _four(op, size, top, bottom, target, what):
    top = 0 if top is None else int(top)
    if bottom is None and target is None:
        raise ValueError(f"{op}: give either the bottom/right {what} or the target size")
    if bottom is not None and target is not None:
        raise ValueError(f"{op}: give the bottom/right {what} or the target size, not both")
    return top, bottom, target


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    op = "crop_images"
    _check_format(op, data_format)
    x, single = _batched(op, images)
    h, w = x.shape[1], x.shape[2]
    top, bottom, th = _four(op, h, top_cropping, bottom_cropping, target_height, "cropping")
    left, right, tw = _four(op, w, left_cropping, right_cropping, target_width, "cropping")
    th = h - top - int(bottom) if th is None else int(th)
    tw = w - left - int(right) if tw is None else int(tw)
    if th <= 0 or tw <= 0 or top + th > h or left + tw > w or top < 0 or left < 0:
        raise ValueError(f"{op}: the crop ({top}, {left}, {th}, {tw}) does not fit images of shape {tuple(x.shape)}")
    return _unbatch(x[:, top:top + th, left:left + tw, :], single)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    op = "pad_images"
    _check_format(op, data_format)
    x, single = _batched(op, images)
    h, w = x.shape[1], x.shape[2]
    top, bottom, th = _four(op, h, top_padding, bottom_padding, target_height, "padding")
    left, right, tw = _four(op, w, left_padding, right_padding, target_width, "padding")
    bottom = th - top - h if bottom is None else int(bottom)
    right = tw - left - w if right is None else int(right)
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"{op}: the padding ({top}, {bottom}, {left}, {right}) must be non-negative for images of "
                         f"shape {tuple(x.shape)}")
    y = _core.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)], "constant", 0.0)
    return _unbatch(y, single)


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` as channels: (N, H', W', ph * pw * C), each patch flattened row-major."""
    op = "extract_patches"
    _check_format(op, data_format)
    x, single = _batched(op, images)
    ph, pw = (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))
    c = x.shape[-1]
    n = ph * pw * c
    kernel = _core.reshape(_core.eye(n, n, 0, x.dtype), (ph, pw, c, n))
    y = _ops.conv(x, kernel, strides=(ph, pw) if strides is None else strides, padding=padding,
                  dilation_rate=dilation_rate)
    return _unbatch(y, single)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` = (pd, ph, pw) (or an int) from volumes (N, D, H, W, C) or (D, H, W, C) as
    channels: (N, D', H', W', pd * ph * pw * C), each patch flattened in (d, h, w, c) order. As in
    Keras, a 3-D convolution with an identity kernel (ferrograd's 3-D conv on its 2-D kernels), so
    values are exact and gradients flow."""
    op = "extract_patches_3d"
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size, size)
    elif not isinstance(size, (tuple, list)) or len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. Received: size={size}")
    strides = tuple(size) if strides is None else strides
    if isinstance(strides, int) and not isinstance(strides, bool):
        strides = (strides, strides, strides)
    if len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', received {data_format!r}")
    x = _ops.convert_to_tensor(volumes)
    if x.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-D (D, H, W, C) or 5-D (N, D, H, W, C) volume tensor, received shape "
                         f"{tuple(x.shape)}")
    single = x.ndim == 4
    if single:
        x = _core.expand_dims(x, 0)
    first = data_format == "channels_first"
    if first:  # the conv runs channels_last
        x = _core.transpose(x, (0, 2, 3, 4, 1))
    c = x.shape[-1]
    pd, ph, pw = (int(v) for v in size)
    n = pd * ph * pw * c
    kernel = _core.reshape(_core.eye(n, n, 0, x.dtype), (pd, ph, pw, c, n))
    y = _ops.conv(x, kernel, strides=tuple(strides), padding=padding, dilation_rate=dilation_rate)
    if first:
        y = _core.transpose(y, (0, 4, 1, 2, 3))
    return _unbatch(y, single)


def rgb_to_grayscale(images, data_format=None):
    """``0.2989 R + 0.587 G + 0.114 B``, keeping a channel axis of 1."""
    op = "rgb_to_grayscale"
    _check_format(op, data_format)
    x = _ops.convert_to_tensor(images)
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise ValueError(f"{op}: expected images with 3 channels last, received shape {tuple(x.shape)}")
    xf = x if x.dtype.startswith("float") else _core.cast(x, "float32")
    w = _ops.convert_to_tensor([0.2989, 0.5870, 0.1140], dtype=xf.dtype)
    return _core.expand_dims(_ops.tensordot(xf, w, ([x.ndim - 1], [0])), -1)


def _images(op, images, data_format):
    """``images`` as a tensor of rank 3 (one image) or 4 (a batch), ``data_format`` checked."""
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', received {data_format!r}")
    x = _ops.convert_to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(x.shape)}")
    return x


def _planes(op, images, data_format):
    """The three channel planes of float RGB/HSV images (rank 3 or 4) and the channel axis."""
    x = _images(op, images, data_format)
    if not x.dtype.startswith("float"):
        raise ValueError(f"{op}: Invalid images dtype: expected float dtype. Received: images.dtype={x.dtype}")
    axis = -3 if data_format == "channels_first" else -1
    if x.shape[axis] != 3:
        raise ValueError(f"{op}: expected 3 channels on axis {axis}, received shape {tuple(x.shape)}")
    return [_ops.squeeze(p, axis) for p in _ops.split(x, 3, axis=axis)], axis


def rgb_to_hsv(images, data_format=None):
    """RGB to HSV (hue, saturation and value each in [0, 1] for [0, 1] inputs; value keeps the
    input's scale), Keras 3's formulas: values within machine epsilon of 0 count as 0, hue 0 for
    greys. Differentiable almost everywhere (through ``where``)."""
    (r, g, b), axis = _planes("rgb_to_hsv", images, data_format)
    eps = float(_np.finfo(_np.dtype(r.dtype)).eps)
    r, g, b = (_ops.where(_ops.abs(p) < eps, 0.0, p) for p in (r, g, b))
    value = _ops.maximum(_ops.maximum(r, g), b)
    rng = value - _ops.minimum(_ops.minimum(r, g), b)
    safe_value = _ops.where(value > 0, value, 1.0)
    safe_rng = _ops.where(rng > 0, rng, 1.0)
    sat = _ops.where(value > 0, rng / safe_value, 0.0)
    norm = 1.0 / (6.0 * safe_rng)
    hue = _ops.where(_ops.equal(value, g), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = _ops.where(_ops.equal(value, r), norm * (g - b), hue)
    hue = _ops.where(rng > 0, hue, 0.0) + _ops.cast(hue < 0.0, hue.dtype)
    return _ops.stack([hue, sat, value], axis=axis)


def hsv_to_rgb(images, data_format=None):
    """HSV to RGB (the inverse of :func:`rgb_to_hsv`; hue taken modulo 1), Keras 3's formulas."""
    (h, s, v), axis = _planes("hsv_to_rgb", images, data_format)
    dh = _ops.mod(h, 1.0) * 6.0
    dr = _ops.clip(_ops.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = _ops.clip(2.0 - _ops.abs(dh - 2.0), 0.0, 1.0)
    db = _ops.clip(2.0 - _ops.abs(dh - 4.0), 0.0, 1.0)
    grey = 1.0 - s
    return _ops.stack([v * (grey + s * dr), v * (grey + s * dg), v * (grey + s * db)], axis=axis)


def _gaussian_1d(size, sigma, dtype):
    x = _ops.arange(size, dtype=dtype) - (size - 1) / 2.0
    k = _ops.exp(-0.5 * (x / sigma) ** 2)
    return k / _ops.sum(k)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs each channel with a Gaussian kernel, as Keras 3 on PyTorch: the 2-D kernel is the outer
    product of 1-D kernels ``exp(-x^2 / (2 sigma^2))`` (normalized) of ``kernel_size[1]`` and
    ``kernel_size[0]`` taps with ``sigma[1]`` and ``sigma[0]``, laid out as (kernel_size[0],
    kernel_size[1]); zero padding of ``kernel_size[0] // 2`` on every side (odd square kernels keep
    the size). A depthwise convolution on the multithreaded kernel; differentiable in images and
    sigma.

    Args: images (N, H, W, C) or (H, W, C) (channels_first: (N, C, H, W)), kernel_size (two ints),
    sigma (two numbers, or a 2-element tensor), data_format.
    """
    op = "gaussian_blur"
    x = _images(op, images, data_format)
    try:
        ks = tuple(int(k) for k in kernel_size)
    except TypeError:
        raise ValueError(f"{op}: kernel_size must be two positive ints, received {kernel_size!r}") from None
    if len(ks) != 2 or min(ks) <= 0:
        raise ValueError(f"{op}: kernel_size must be two positive ints, received {kernel_size!r}")
    xf = x if x.dtype.startswith("float") else _core.cast(x, "float32")
    single = xf.ndim == 3
    if single:
        xf = _core.expand_dims(xf, 0)
    if data_format == "channels_first":
        xf = _ops.transpose(xf, (0, 2, 3, 1))
    sig = _ops.cast(_ops.convert_to_tensor(sigma), xf.dtype)
    if sig.shape != (2,):
        raise ValueError(f"{op}: sigma must hold two numbers, received shape {tuple(sig.shape)}")
    k2 = _ops.outer(_gaussian_1d(ks[1], sig[1], xf.dtype), _gaussian_1d(ks[0], sig[0], xf.dtype))  # (ks1, ks0)
    c = xf.shape[-1]
    kernel = _ops.tile(_ops.reshape(k2, (ks[0], ks[1], 1, 1)), (1, 1, c, 1))  # (ks0, ks1, C, 1)
    p = ks[0] // 2
    xp = _ops.pad(xf, [(0, 0), (p, p), (p, p), (0, 0)]) if p else xf
    y = _ops.depthwise_conv(xp, kernel, padding="valid")
    if data_format == "channels_first":
        y = _ops.transpose(y, (0, 3, 1, 2))
    return _core.squeeze(y, 0) if single else y


_SOBEL_Y = ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0))


def sobel_edges(images, data_format=None):
    """Sobel gradients of each channel (zero padding of 1, so the size is kept), as Keras 3:
    (N, H, W, C) -> (N, H, W, C, 2) with ``[..., 0]`` the vertical (y) and ``[..., 1]`` the
    horizontal (x) derivative; channels_first (N, C, H, W) -> (N, C, H, W, 2). One depthwise
    convolution per direction; differentiable."""
    op = "sobel_edges"
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', received {data_format!r}")
    x = _ops.convert_to_tensor(images)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a batch of images of rank 4, received shape {tuple(x.shape)}")
    xf = x if x.dtype.startswith("float") else _core.cast(x, "float32")
    if data_format == "channels_first":
        xf = _ops.transpose(xf, (0, 2, 3, 1))
    c = xf.shape[-1]
    xp = _ops.pad(xf, [(0, 0), (1, 1), (1, 1), (0, 0)])
    ky = _np.array(_SOBEL_Y, dtype=_np.dtype(xf.dtype))
    edges = []
    for k in (ky, ky.T):  # y then x, as Keras stacks them
        kernel = _ops.convert_to_tensor(_np.ascontiguousarray(_np.tile(k[:, :, None, None], (1, 1, c, 1))))
        edges.append(_ops.depthwise_conv(xp, kernel, padding="valid"))  # (N, H, W, C)
    out = _ops.stack(edges, axis=-1)  # (N, H, W, C, 2)
    return _ops.transpose(out, (0, 3, 1, 2, 4)) if data_format == "channels_first" else out


from ._ops_image_warp import (  # noqa: E402
    affine_transform,
    elastic_transform,
    map_coordinates,
    perspective_transform,
    scale_and_translate,
    ssim,
)

_sys.modules.setdefault(__name__.replace("_ops_image", "ops.image"), _sys.modules[__name__])


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.ops.image.{name} is not available in ferrograd yet")
