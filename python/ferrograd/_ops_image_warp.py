"""Geometric image ops of ``keras.ops.image``: ``map_coordinates``, ``affine_transform``,
``perspective_transform``, ``elastic_transform`` and ``scale_and_translate``.

Every warp is a resampling: each output pixel reads the input at a source coordinate (from the
transform), through nearest (round half to even) or linear interpolation, with out-of-range indices
folded back by the fill mode ("constant": read as ``fill_value``; "nearest": clamped; "wrap":
modulo the size; "mirror": (d c b | a b c d | c b a); "reflect": (d c b a | a b c d | d c b a)).
The source coordinates and interpolation weights are computed with the Rust elementwise kernels;
the pixel reads are one ``take`` per interpolation node on the flattened input (indices in int64,
so images of more than 2**24 pixels stay exact), so gradients flow to the image (and, through the
weights, to the coordinates). Integer images are interpolated in float32, rounded and cast back,
as Keras does.
"""
from __future__ import annotations

import itertools
import math

import numpy as _np

from . import ops as _ops

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_AFFINE_FILL_MODES = ("constant", "nearest", "wrap", "reflect")
_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


# ---------------------------------------------------------------------------------------------
# index folding and interpolation nodes (float tensors of source coordinates)


def _mirror(index, size):
    if size == 1:
        return _ops.zeros_like(index)
    s = size - 1
    return _ops.abs(_ops.subtract(_ops.mod(_ops.add(index, s), 2 * s), s))


def fix_index(index, size, fill_mode):
    """``index`` (a float tensor of whole numbers) folded into [0, size) by ``fill_mode``."""
    if fill_mode in ("constant", "nearest"):
        return _ops.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return _ops.mod(index, size)
    if fill_mode == "mirror":
        return _mirror(index, size)
    # reflect: mirror about the pixel edges
    return _ops.floor_divide(_ops.subtract(_mirror(_ops.add(_ops.multiply(index, 2.0), 1.0), 2 * size + 1), 1.0),
                             2.0)


def nodes(coord, order):
    """``[(index, weight)]`` for one coordinate tensor: order 0 is the nearest node (weight None),
    order 1 the two linear nodes."""
    if order == 0:
        return [(_ops.round(coord), None)]
    lower = _ops.floor(coord)
    upper_w = _ops.subtract(coord, lower)
    return [(lower, _ops.subtract(1.0, upper_w)), (_ops.add(lower, 1.0), upper_w)]


def _compute_dtype(x):
    return x.dtype if x.dtype in ("float64", "float32", "float16", "bfloat16") else "float32"


def _finish(result, dtype):
    """Back to the input dtype: integer inputs are rounded (and clipped to the dtype's range)."""
    if result.dtype == dtype:
        return result
    if not dtype.startswith(("float", "bfloat")):
        info = _np.iinfo(_np.dtype(dtype)) if dtype != "bool" else None
        result = _ops.round(result)
        if info is not None:
            result = _ops.clip(result, float(info.min), float(info.max))
    return _ops.cast(result, dtype)


def _check_fill_mode(fill_mode, allowed):
    if fill_mode not in allowed:
        raise ValueError(f"Invalid value for argument `fill_mode`. Expected of one {allowed}. "
                         f"Received: fill_mode={fill_mode!r}")


def _check_interpolation(interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                         f"{set(_INTERPOLATIONS)}. Received: interpolation={interpolation!r}")
    return _INTERPOLATIONS[interpolation]


# ---------------------------------------------------------------------------------------------
# map_coordinates (any rank)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """Samples ``inputs`` at ``coordinates`` (as ``scipy.ndimage.map_coordinates``, orders 0 and 1).

    Args:
        inputs: a tensor of rank r.
        coordinates: r coordinate tensors of one shape S (a sequence, or a tensor whose first axis
            has r entries); entry ``i`` gives the position along axis ``i``.
        order: 0 (nearest) or 1 (linear).
        fill_mode: "constant" (default), "nearest", "wrap", "mirror" or "reflect".
        fill_value: the value outside the input for "constant".

    Returns: a tensor of shape S and the dtype of ``inputs``.
    """
    x = _ops.convert_to_tensor(inputs)
    if isinstance(coordinates, (list, tuple)):
        coords = [_ops.convert_to_tensor(c) for c in coordinates]
    else:
        ct = _ops.convert_to_tensor(coordinates)
        if ct.ndim < 1:
            raise ValueError(f"Invalid coordinates rank: expected at least rank 2. Received input with shape: "
                             f"{tuple(ct.shape)}")
        coords = [ct[i] for i in range(ct.shape[0])]
    if len(coords) != x.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. Received inputs "
                         f"with shape: {tuple(x.shape)} and coordinate leading dim of {len(coords)}")
    if coords and coords[0].ndim < 1:
        raise ValueError(f"Invalid coordinates rank: expected at least rank 2. Received input with shape: "
                         f"{(len(coords),) + tuple(coords[0].shape)}")
    if any(tuple(c.shape) != tuple(coords[0].shape) for c in coords):
        raise ValueError("map_coordinates: every coordinate tensor must have the same shape, received "
                         f"{[tuple(c.shape) for c in coords]}")
    _check_fill_mode(fill_mode, FILL_MODES)
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates currently requires order<=1, received order={order!r}")
    if x.size == 0:
        raise ValueError(f"map_coordinates: inputs must not be empty, received shape {tuple(x.shape)}")
    cdt = _compute_dtype(x)
    xf = x if x.dtype == cdt else _ops.cast(x, cdt)
    flat = _ops.reshape(xf, (-1,))
    strides = [int(_np.prod(x.shape[i + 1:], dtype=_np.int64)) for i in range(x.ndim)]
    per_axis = []
    for c, size, stride in zip(coords, x.shape, strides):
        c = _ops.cast(c, cdt) if c.dtype != cdt else c
        axis_nodes = []
        for index, weight in nodes(c, order):
            fixed = _ops.cast(fix_index(index, size, fill_mode), "int64")
            valid = None
            if fill_mode == "constant":
                valid = _ops.logical_and(_ops.greater_equal(index, 0.0), _ops.less(index, float(size)))
            axis_nodes.append((_ops.multiply(fixed, stride) if stride != 1 else fixed, valid, weight))
        per_axis.append(axis_nodes)
    out = None
    shape = tuple(coords[0].shape)
    for combo in itertools.product(*per_axis):
        offset, valid, weight = None, None, None
        for off, v, w in combo:
            offset = off if offset is None else _ops.add(offset, off)
            if v is not None:
                valid = v if valid is None else _ops.logical_and(valid, v)
            if w is not None:
                weight = w if weight is None else _ops.multiply(weight, w)
        value = _ops.reshape(_ops.take(flat, _ops.reshape(offset, (-1,))), shape)
        if valid is not None:
            value = _ops.where(valid, value, float(fill_value))
        term = value if weight is None else _ops.multiply(weight, value)
        out = term if out is None else _ops.add(out, term)
    return _finish(out, x.dtype)


# ---------------------------------------------------------------------------------------------
# batched image sampling: images (B, H, W, C), source coordinates (B, H', W')


def sample_images(images, src_y, src_x, order, fill_mode, fill_value):
    """Reads the (B, H, W, C) ``images`` at the (B, H', W') float source coordinates; returns
    (B, H', W', C). One gather of channel rows per interpolation node."""
    b, h, w, c = images.shape
    oh, ow = src_y.shape[1], src_y.shape[2]
    flat = _ops.reshape(images, (b * h * w, c))
    base = _ops.convert_to_tensor(_np.arange(b, dtype=_np.int64).reshape(b, 1, 1) * (h * w))
    out = None
    for iy, wy in nodes(src_y, order):
        fy = _ops.cast(fix_index(iy, h, fill_mode), "int64")
        for ix, wx in nodes(src_x, order):
            fx = _ops.cast(fix_index(ix, w, fill_mode), "int64")
            idx = _ops.add(_ops.add(base, _ops.multiply(fy, w)), fx)  # (B, H', W') int64
            value = _ops.reshape(_ops.take(flat, _ops.reshape(idx, (-1,)), axis=0), (b, oh, ow, c))
            if fill_mode == "constant":
                valid = _ops.logical_and(
                    _ops.logical_and(_ops.greater_equal(iy, 0.0), _ops.less(iy, float(h))),
                    _ops.logical_and(_ops.greater_equal(ix, 0.0), _ops.less(ix, float(w))))
                value = _ops.where(_ops.expand_dims(valid, -1), value, float(fill_value))
            weight = None if wy is None else _ops.expand_dims(_ops.multiply(wy, wx), -1)
            term = value if weight is None else _ops.multiply(weight, value)
            out = term if out is None else _ops.add(out, term)
    return out


def _image_batch(op, images, data_format):
    """(x as float (B, H, W, C), original dtype, single, channels_first)."""
    from .layers.conv import standardize_data_format
    data_format = standardize_data_format(data_format)
    x = _ops.convert_to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={tuple(x.shape)}")
    dtype = x.dtype
    single = x.ndim == 3
    if single:
        x = _ops.expand_dims(x, 0)
    first = data_format == "channels_first"
    if first:
        x = _ops.transpose(x, (0, 2, 3, 1))
    if min(x.shape[1:3]) == 0:
        raise ValueError(f"{op}: images must have a non-empty height and width, received shape {tuple(x.shape)}")
    cdt = _compute_dtype(x)
    return (x if x.dtype == cdt else _ops.cast(x, cdt)), dtype, single, first


def _image_out(y, dtype, single, first):
    if first:
        y = _ops.transpose(y, (0, 3, 1, 2))
    if single:
        y = _ops.squeeze(y, 0)
    return _finish(y, dtype)


def _grid(h, w, dtype):
    yy, xx = _np.meshgrid(_np.arange(h), _np.arange(w), indexing="ij")
    return (_ops.convert_to_tensor(yy[None].astype(dtype)), _ops.convert_to_tensor(xx[None].astype(dtype)))


def _columns(t, batch, n, what):
    """(batch, n) transform rows from a (n,) or (B, n) tensor, as (B, 1, 1) columns."""
    if t.ndim == 1:
        t = _ops.expand_dims(t, 0)
    if t.ndim != 2 or t.shape[1] != n:
        raise ValueError(f"Invalid {what} shape: expected ({n},) or (N, {n}). Received shape: {tuple(t.shape)}")
    if t.shape[0] == 1 and batch != 1:
        t = _ops.broadcast_to(t, (batch, n))
    if t.shape[0] != batch:
        raise ValueError(f"{what}: {t.shape[0]} rows for a batch of {batch} images")
    return [_ops.reshape(t[:, i], (batch, 1, 1)) for i in range(n)]


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Applies projective transforms: for a row ``[a0, a1, a2, b0, b1, b2, c0, c1]`` the output
    point (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with
    k = c0 x + c1 y + 1 (k = 1 for the usual affine rows with c0 = c1 = 0).

    Args:
        images: (B, H, W, C) or one (H, W, C) image (channels_first: (B, C, H, W)).
        transform: (8,) for every image, or (B, 8), one row per image.
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "constant" (default), "nearest", "wrap" or "reflect".
        fill_value: the value outside the image for "constant".
        data_format: "channels_last" or "channels_first" (default: the config's).
    """
    order = _check_interpolation(interpolation)
    _check_fill_mode(fill_mode, _AFFINE_FILL_MODES)
    x, dtype, single, first = _image_batch("affine_transform", images, data_format)
    t = _ops.convert_to_tensor(transform)
    if t.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
                         f"transforms). Received input with shape: transform.shape={tuple(t.shape)}")
    t = _ops.cast(t, x.dtype)
    b, h, w, _ = x.shape
    a0, a1, a2, b0, b1, b2, c0, c1 = _columns(t, b, 8, "transform")
    yy, xx = _grid(h, w, x.dtype)
    src_x = _ops.add(_ops.add(_ops.multiply(a0, xx), _ops.multiply(a1, yy)), a2)
    src_y = _ops.add(_ops.add(_ops.multiply(b0, xx), _ops.multiply(b1, yy)), b2)
    k = _ops.add(_ops.add(_ops.multiply(c0, xx), _ops.multiply(c1, yy)), 1.0)
    src_x, src_y = _ops.divide(src_x, k), _ops.divide(src_y, k)
    return _image_out(sample_images(x, src_y, src_x, order, fill_mode, fill_value), dtype, single, first)


def compute_homography_matrix(start_points, end_points):
    """The (B, 8) projective rows that map each ``end_points`` quadrilateral onto
    ``start_points`` (both (B, 4, 2) as (x, y)); one batched 8x8 solve."""
    s, e = start_points, end_points
    rows = []
    for i in range(4):
        ex, ey, sx, sy = e[:, i, 0], e[:, i, 1], s[:, i, 0], s[:, i, 1]
        one, zero = _ops.ones_like(ex), _ops.zeros_like(ex)
        rows.append(_ops.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1))
        rows.append(_ops.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1))
    a = _ops.stack(rows, axis=1)  # (B, 8, 8)
    target = _ops.expand_dims(_ops.reshape(s, (s.shape[0], 8)), -1)
    return _ops.reshape(_ops.linalg.solve(a, target), (s.shape[0], 8))


def _points(p, what, dtype):
    p = _ops.cast(_ops.convert_to_tensor(p), dtype)
    if tuple(p.shape[-2:]) != (4, 2) or p.ndim not in (2, 3):
        raise ValueError(f"Invalid {what} shape: expected (4,2) for a single image or (N,4,2) for a batch. "
                         f"Received shape: {tuple(p.shape)}")
    return p


def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Warps each image so that its ``start_points`` quadrilateral lands on ``end_points`` (four
    (x, y) corners each, (4, 2) for every image or (B, 4, 2)); outside the image reads
    ``fill_value``.

    Args: images, start_points, end_points, interpolation ("bilinear" or "nearest"), fill_value,
    data_format.
    """
    order = _check_interpolation(interpolation)
    x, dtype, single, first = _image_batch("perspective_transform", images, data_format)
    s = _points(start_points, "start_points", x.dtype)
    e = _points(end_points, "end_points", x.dtype)
    if tuple(s.shape) != tuple(e.shape):
        raise ValueError("start_points and end_points must have the same shape. Received "
                         f"start_points.shape={tuple(s.shape)}, end_points.shape={tuple(e.shape)}")
    if s.ndim == 2:
        s, e = _ops.expand_dims(s, 0), _ops.expand_dims(e, 0)
    rows = compute_homography_matrix(s, e)
    b, h, w, _ = x.shape
    a0, a1, a2, a3, a4, a5, a6, a7 = _columns(rows, b, 8, "start_points")
    yy, xx = _grid(h, w, x.dtype)
    k = _ops.add(_ops.add(_ops.multiply(a6, xx), _ops.multiply(a7, yy)), 1.0)
    src_x = _ops.divide(_ops.add(_ops.add(_ops.multiply(a0, xx), _ops.multiply(a1, yy)), a2), k)
    src_y = _ops.divide(_ops.add(_ops.add(_ops.multiply(a3, xx), _ops.multiply(a4, yy)), a5), k)
    return _image_out(sample_images(x, src_y, src_x, order, "constant", fill_value), dtype, single, first)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Elastic deformation (Simard et al.): per image, two fields of standard normal offsets
    times ``sigma``, smoothed by a Gaussian blur (``int(6 sigma) | 1`` taps, zero padding), scaled
    by ``alpha`` and added to the pixel coordinates; the image is resampled there.

    Args: images, alpha, sigma (> 0), interpolation ("bilinear" or "nearest"), fill_mode
    ("constant", "nearest", "wrap", "mirror" or "reflect" (default)), fill_value, seed,
    data_format.
    """
    from . import random as _random
    from ._ops_image import gaussian_blur
    order = _check_interpolation(interpolation)
    _check_fill_mode(fill_mode, FILL_MODES)
    alpha, sigma = float(_np.asarray(alpha)), float(_np.asarray(sigma))
    if not (math.isfinite(sigma) and sigma > 0.0) or not math.isfinite(alpha):
        raise ValueError(f"elastic_transform: sigma must be a positive number and alpha finite, received "
                         f"alpha={alpha}, sigma={sigma}")
    x, dtype, single, first = _image_batch("elastic_transform", images, data_format)
    b, h, w, _ = x.shape
    ks = int(6 * sigma) | 1
    fields = _ops.multiply(_random.normal((2 * b, h, w, 1), dtype=x.dtype, seed=seed), sigma)
    fields = gaussian_blur(fields, kernel_size=(ks, ks), sigma=(sigma, sigma))
    fields = _ops.multiply(_ops.reshape(fields, (2, b, h, w)), alpha)
    yy, xx = _grid(h, w, x.dtype)
    src_x, src_y = _ops.add(xx, fields[0]), _ops.add(yy, fields[1])
    return _image_out(sample_images(x, src_y, src_x, order, fill_mode, fill_value), dtype, single, first)


# ---------------------------------------------------------------------------------------------
# scale_and_translate: separable resampling with a kernel (as jax.image.scale_and_translate)

_SCALE_METHODS = {"linear": "linear", "bilinear": "linear", "trilinear": "linear", "triangle": "linear",
                  "cubic": "cubic", "bicubic": "cubic", "tricubic": "cubic", "lanczos3": "lanczos3",
                  "lanczos5": "lanczos5"}


def _kernel(method, x):
    """The resampling kernel at distances ``x`` (>= 0)."""
    if method == "linear":
        return _ops.maximum(_ops.subtract(1.0, x), 0.0)
    if method == "cubic":  # Keys, a = -0.5
        near = _ops.add(_ops.multiply(_ops.multiply(_ops.subtract(_ops.multiply(x, 1.5), 2.5), x), x), 1.0)
        far = _ops.add(_ops.multiply(_ops.subtract(_ops.multiply(_ops.add(_ops.multiply(x, -0.5), 2.5), x), 4.0), x),
                       2.0)
        return _ops.where(_ops.greater_equal(x, 2.0), 0.0, _ops.where(_ops.greater_equal(x, 1.0), far, near))
    radius = 3.0 if method == "lanczos3" else 5.0
    px = _ops.multiply(x, math.pi)
    y = _ops.multiply(_ops.multiply(_ops.sin(px), _ops.sin(_ops.divide(px, radius))), radius)
    safe = _ops.where(_ops.not_equal(x, 0.0), _ops.multiply(_ops.square(px), 1.0), 1.0)
    out = _ops.where(_ops.greater(x, 1e-3), _ops.divide(y, safe), 1.0)
    return _ops.where(_ops.greater(x, radius), 0.0, out)


def _weights(in_size, out_size, scale, translation, method, antialias, dtype):
    """The (in_size, out_size) resampling matrix of one axis."""
    inv = _ops.divide(1.0, scale)
    kscale = _ops.maximum(inv, 1.0) if antialias else 1.0
    sample = _ops.subtract(_ops.subtract(_ops.multiply(_ops.add(_ops.arange(out_size, dtype=dtype), 0.5), inv),
                                         _ops.multiply(translation, inv)), 0.5)  # (out,)
    dist = _ops.abs(_ops.subtract(_ops.expand_dims(sample, 0),
                                  _ops.expand_dims(_ops.arange(in_size, dtype=dtype), 1)))
    w = _kernel(method, _ops.divide(dist, kscale))
    total = _ops.sum(w, axis=0, keepdims=True)
    eps = 1000.0 * float(_np.finfo(_np.float32).eps)
    w = _ops.where(_ops.greater(_ops.abs(total), eps),
                   _ops.divide(w, _ops.where(_ops.not_equal(total, 0.0), total, 1.0)), 0.0)
    inside = _ops.logical_and(_ops.greater_equal(sample, -0.5), _ops.less_equal(sample, in_size - 0.5))
    return _ops.where(_ops.expand_dims(inside, 0), w, 0.0)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """Resamples ``images`` to ``output_shape`` along ``spatial_dims``: output location x reads the
    input at (x + 0.5 - translation) / scale - 0.5 (half-pixel centres) through the ``method``
    kernel ("linear"/"bilinear"/"trilinear"/"triangle", "cubic"/"bicubic"/"tricubic" (Keys),
    "lanczos3", "lanczos5"); with ``antialias`` the kernel widens by 1/scale when down-sampling.
    Outside the input reads zero. One (in, out) weight matrix and one tensordot per axis.

    Args: images, output_shape (a full shape), scale and translation (one number per spatial
    dim), spatial_dims (axes), method, antialias.
    """
    if method not in _SCALE_METHODS:
        raise ValueError(f"Invalid value for argument `method`. Expected of one {set(_SCALE_METHODS)}. "
                         f"Received: method={method!r}")
    kind = _SCALE_METHODS[method]
    x = _ops.convert_to_tensor(images)
    output_shape = tuple(int(d) for d in output_shape)
    if len(output_shape) != x.ndim:
        raise ValueError(f"scale_and_translate: output_shape {output_shape} must have one entry per axis of the "
                         f"images (rank {x.ndim})")
    dims = [int(d) for d in spatial_dims]
    if any(not -x.ndim <= d < x.ndim for d in dims):
        raise ValueError(f"scale_and_translate: spatial_dims {tuple(dims)} out of range for rank {x.ndim}")
    cdt = _compute_dtype(x)
    sc = _ops.cast(_ops.reshape(_ops.convert_to_tensor(scale), (-1,)), cdt)
    tr = _ops.cast(_ops.reshape(_ops.convert_to_tensor(translation), (-1,)), cdt)
    if sc.shape[0] != len(dims) or tr.shape[0] != len(dims):
        raise ValueError(f"scale_and_translate: scale and translation need one value per spatial dim "
                         f"({len(dims)}), received {sc.shape[0]} and {tr.shape[0]}")
    out = x if x.dtype == cdt else _ops.cast(x, cdt)
    for i, d in enumerate(dims):
        d %= x.ndim
        w = _weights(x.shape[d], output_shape[d], sc[i], tr[i], kind, antialias, cdt)
        out = _ops.moveaxis(_ops.tensordot(out, w, axes=([d], [0])), -1, d)
    if out.dtype != x.dtype and not x.dtype.startswith(("float", "bfloat")):
        lo, hi = _ops.min(_ops.cast(x, cdt)), _ops.max(_ops.cast(x, cdt))
        out = _ops.cast(_ops.clip(_ops.round(out), lo, hi), x.dtype)
    return out


# ---------------------------------------------------------------------------------------------
# SSIM


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """Structural similarity of two images (Wang et al. 2004), as Keras 3: local means, variances
    and covariance under a ``filter_size`` Gaussian window (``filter_sigma``, valid padding),
    averaged over the positions and the channels. One value per image pair ((B,) for batches, a
    scalar for single images).

    Args: image1, image2 (same shape, rank 3 or 4), max_val (the dynamic range), filter_size (odd
    int >= 1), filter_sigma, k1, k2, data_format.
    """
    from .layers.conv import standardize_data_format
    data_format = standardize_data_format(data_format)
    a, b = _ops.convert_to_tensor(image1), _ops.convert_to_tensor(image2)
    dtype = a.dtype
    for name, t in (("image1", a), ("image2", b)):
        if t.ndim not in (3, 4):
            raise ValueError(f"Invalid {name} rank: expected rank 3 (single image) or rank 4 (batch of images). "
                             f"Received input with shape: {name}.shape={tuple(t.shape)}")
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"ssim: image1 and image2 must have the same shape, received {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    fs = int(filter_size)
    if fs != filter_size or fs < 1:
        raise ValueError(f"ssim: filter_size must be a positive int, received {filter_size!r}")
    cdt = _compute_dtype(a)
    a, b = _ops.cast(a, cdt), _ops.cast(b, cdt)
    single = a.ndim == 3
    if single:
        a, b = _ops.expand_dims(a, 0), _ops.expand_dims(b, 0)
    if data_format == "channels_last":
        a, b = _ops.transpose(a, (0, 3, 1, 2)), _ops.transpose(b, (0, 3, 1, 2))
    n, c, h, w = a.shape
    if h < fs or w < fs:
        raise ValueError(f"ssim: the images ({h}x{w}) are smaller than filter_size={fs}")
    g = _ops.arange(fs, dtype=cdt) - (fs - 1) / 2.0
    g = _ops.exp(-(g ** 2) / (2.0 * float(filter_sigma) ** 2))
    g = g / _ops.sum(g)
    kernel = _ops.reshape(_ops.outer(g, g), (fs, fs, 1, 1))
    a, b = _ops.reshape(a, (n * c, h, w, 1)), _ops.reshape(b, (n * c, h, w, 1))

    def blur(t):
        return _ops.conv(t, kernel, strides=1, padding="valid")

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = blur(a), blur(b)
    mu11, mu22, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s11, s22, s12 = blur(a * a) - mu11, blur(b * b) - mu22, blur(a * b) - mu12
    ssim_map = ((2.0 * mu12 + c1) * (2.0 * s12 + c2)) / ((mu11 + mu22 + c1) * (s11 + s22 + c2))
    per_image = _ops.mean(_ops.reshape(_ops.mean(ssim_map, axis=(1, 2, 3)), (n, c)), axis=-1)
    if single:
        per_image = _ops.squeeze(per_image, 0)
    return _ops.cast(per_image, dtype)  # as Keras, even for integer images
