"""Scatter, segment and integer bit ops of ``keras.ops``: ``segment_sum``, ``scatter``,
``scatter_update`` and ``slice_update``, on the core's ``index_add`` (the transpose of ``take``: sums
of values at indices along an axis, deterministic, differentiable) and ``pad``/``where``; and the
bitwise ops, shifts, ``gcd`` and ``lcm`` on the core's integer bit kernels.

Index arguments are checked (integer dtype, shapes, every index inside the target) and a bad one
raises naming the argument, instead of being dropped or wrapped silently.
"""
from __future__ import annotations

import math

import numpy as np

from . import _core
from ._core import Tensor
from .symbolic import KerasTensor, shapes

__all__ = ["segment_sum", "scatter", "scatter_update", "slice_update"]


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


def _int_tensor(name, op, x):
    x = _t(x)
    if not x.dtype.startswith("int"):
        raise TypeError(f"{op}: `{name}` must hold integers. Received dtype {x.dtype}")
    return x


def _bounds(name, op, ids, lo, hi):
    """Checks lo <= ids < hi (ids a tensor of any shape); names the first offender."""
    if ids.size == 0:
        return
    small = int(_core.reduce(ids, "min", None, False).numpy())
    big = int(_core.reduce(ids, "max", None, False).numpy())
    if small < lo or big >= hi:
        bad = small if small < lo else big
        raise ValueError(f"{op}: `{name}` holds {bad}, outside [{lo}, {hi})")


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras' name
    """Sums of the rows of ``data`` that share a segment id: ``out[s] = sum(data[i] for i with
    segment_ids[i] == s)``, shape ``(num_segments,) + data.shape[1:]`` (zeros for an empty
    segment). ``segment_ids`` is 1-D, one id per row, each in ``[0, num_segments)``;
    ``num_segments`` defaults to the largest id + 1. ``sorted`` is a hint (the result is the
    same either way)."""
    data = _t(data)
    ids = _int_tensor("segment_ids", "segment_sum", segment_ids)
    if data.ndim == 0 or ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_sum: `segment_ids` must be 1-D with one id per row of `data`. Received data "
                         f"shape {tuple(data.shape)} and segment_ids shape {tuple(ids.shape)}")
    if num_segments is None:
        num_segments = int(_core.reduce(ids, "max", None, False).numpy()) + 1 if ids.size else 0
    num_segments = int(num_segments)
    if num_segments < 0:
        raise ValueError(f"segment_sum: `num_segments` must be >= 0. Received {num_segments}")
    _bounds("segment_ids", "segment_sum", ids, 0, num_segments)
    return _core.index_add(data, ids, num_segments, 0)


def _segment_reduce(op, kind, data, segment_ids, num_segments, sorted):  # noqa: A002 - Keras' name
    data = _t(data)
    ids = _int_tensor("segment_ids", op, segment_ids)
    if data.ndim == 0 or ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"{op}: `segment_ids` must be 1-D with one id per row of `data`. Received data shape "
                         f"{tuple(data.shape)} and segment_ids shape {tuple(ids.shape)}")
    if not isinstance(sorted, bool):
        raise TypeError(f"{op}: `sorted` must be a bool. Received sorted={sorted!r}")
    if num_segments is None:
        num_segments = int(_core.reduce(ids, "max", None, False).numpy()) + 1 if ids.size else 0
    num_segments = int(num_segments)
    if num_segments < 0:
        raise ValueError(f"{op}: `num_segments` must be >= 0. Received {num_segments}")
    if data.dtype == "bool":
        raise TypeError(f"{op}: `data` must be numeric. Received dtype bool")
    return _core.segment_reduce(data, ids, num_segments, kind)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras' name
    """Maxima of the rows of ``data`` that share a segment id: ``out[s] = max(data[i] for i with
    segment_ids[i] == s)``, shape ``(num_segments,) + data.shape[1:]``. ``num_segments`` defaults
    to the largest id + 1; rows whose id is outside ``[0, num_segments)`` are left out, and an
    empty segment holds -inf (the lowest value for integers), as Keras 3 on PyTorch does. NaN
    propagates. The gradient goes to the rows that reached the maximum, split equally between
    ties. ``sorted`` is a hint (the result is the same either way)."""
    return _segment_reduce("segment_max", "max", data, segment_ids, num_segments, sorted)


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras' name
    """Minima of the rows that share a segment id (see :func:`segment_max`; an empty segment
    holds +inf, the highest value for integers)."""
    return _segment_reduce("segment_min", "min", data, segment_ids, num_segments, sorted)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras' name
    """Products of the rows that share a segment id (see :func:`segment_max`; an empty segment
    holds 1). The gradient is exact where rows are zero (the product of the other rows)."""
    return _segment_reduce("segment_prod", "prod", data, segment_ids, num_segments, sorted)


__all__ += ["segment_max", "segment_min", "segment_prod"]


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,  # noqa: A002
           axis=None, size=None, fill_value=None):
    """The distinct elements of ``x`` (of the flattened ``x`` when ``axis`` is None, else the
    distinct sub-arrays along ``axis``), in ascending (lexicographic) order, as keras.ops.unique.

    With ``return_index`` / ``return_inverse`` / ``return_counts`` it returns a tuple
    ``(unique, index, inverse, counts)`` of the requested parts: the position of each value's
    first occurrence, the position in ``unique`` of every element of ``x`` (``x``'s shape, or the
    length of ``axis``), and how often each value occurs (int64). ``size`` fixes the length:
    fewer values are padded with ``fill_value`` (default 0; counts and indices with 0), more are
    cut. NaNs are all distinct and sort last. ``sorted=False`` is accepted and gives the sorted
    order too (as Keras 3 on PyTorch does).

    Example: ``unique([3, 1, 2, 3, 1], return_counts=True)`` -> ``([1, 2, 3], [2, 1, 2])``.

    Runs on the core's stable sort: O(n log n) (times the sub-array length with ``axis``).
    """
    from . import ops

    op = "unique"
    if not isinstance(sorted, bool):
        raise TypeError(f"{op}: `sorted` must be a bool. Received sorted={sorted!r}")
    if size is not None and (not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0):
        raise ValueError(f"{op}: `size` must be a non-negative int or None. Received size={size!r}")
    x = _t(x)
    if axis is None:
        rows = _core.reshape(x, (-1, 1))  # (n, 1): each element is a row
    else:
        if x.ndim == 0:
            raise ValueError(f"{op}: `axis` needs an input with at least one axis. Received a scalar")
        ax = int(axis)
        if not -x.ndim <= ax < x.ndim:
            raise ValueError(f"{op}: axis {axis} is out of bounds for an input of rank {x.ndim}")
        ax %= x.ndim
        moved = _core.moveaxis(x, ax, 0)
        rows = _core.reshape(moved, (x.shape[ax], -1))  # (n, rest)
    n, width = rows.shape
    # Lexicographic order of the rows: stable sorts from the last column to the first.
    perm = ops.arange(n, dtype="int64")
    for c in range(width - 1, -1, -1):
        key = _core.take(rows[:, c], perm, 0)
        perm = _core.take(perm, _core.cast(ops.argsort(key), "int64"), 0)
    srt = _core.take(rows, perm, 0)  # (n, width)
    if n > 0:
        differs = ops.any(ops.not_equal(srt[1:], srt[:-1]), axis=1)  # NaN != NaN: each NaN apart
        starts = ops.concatenate([ops.ones((1,), dtype="bool"), differs])
    else:
        starts = ops.zeros((0,), dtype="bool")
    group = ops.cumsum(_core.cast(starts, "int64")) - 1  # (n,) group of each sorted row
    first = _core.cast(ops.nonzero(starts)[0], "int64")  # (k,) sorted positions of the groups
    k = int(first.shape[0])
    uniq = _core.take(srt, first, 0)  # (k, width)
    if axis is None:
        uniq = _core.reshape(uniq, (k,))
    else:
        uniq = _core.moveaxis(_core.reshape(uniq, (k,) + tuple(moved.shape[1:])), 0, ax)
    extras = []
    if return_index:
        extras.append(("index", _core.take(perm, first, 0)))
    if return_inverse:
        inv = _core.index_add(group, perm, n, 0) if n else group  # inv[perm[i]] = group[i]
        extras.append(("inverse", _core.reshape(inv, tuple(x.shape)) if axis is None else inv))
    if return_counts:
        ends = ops.concatenate([first[1:], ops.full((1,), n, dtype="int64")]) if k else first
        extras.append(("counts", ends - first))
    if size is not None:
        uniq = _fix_length(uniq, size, 0 if axis is None else ax, 0 if fill_value is None else fill_value)
        extras = [(name, t if name == "inverse" else _fix_length(t, size, 0, 0)) for name, t in extras]
    if not extras:
        return uniq
    return (uniq, *[t for _, t in extras])


def _fix_length(t, size, axis, fill):
    """``t`` cut or padded (with ``fill``) to ``size`` along ``axis``."""
    from . import ops

    n = t.shape[axis]
    if n >= size:
        index = [slice(None)] * t.ndim
        index[axis] = slice(0, size)
        return t[tuple(index)]
    pad = [(0, 0)] * t.ndim
    pad[axis] = (0, size - n)
    return ops.pad(t, pad, constant_values=fill)


__all__ += ["unique"]


def _linear(op, indices, shape):
    """(N,) linear positions in the first k axes of ``shape`` of the (N, k) ``indices`` (any
    leading shape, flattened), each component checked against its axis."""
    idx = _int_tensor("indices", op, indices)
    if idx.ndim == 0:
        raise ValueError(f"{op}: `indices` must have a last axis of coordinates. Received a scalar")
    k = idx.shape[-1]
    if k > len(shape) or k == 0:
        raise ValueError(f"{op}: `indices` has {k} coordinates per entry (last axis); the target has rank "
                         f"{len(shape)}, so 1 to {len(shape)} are allowed")
    idx = _core.reshape(_core.cast(idx, "int64"), (-1, k))  # (N, k)
    lin = None
    for i in range(k):
        col = idx[:, i]
        _bounds(f"indices[..., {i}]", op, col, 0, shape[i])
        stride = math.prod(shape[i + 1:k])
        term = col * stride if stride != 1 else col
        lin = term if lin is None else lin + term
    return lin, k


def scatter(indices, values, shape):
    """A tensor of ``shape`` holding zeros, with ``values`` added at ``indices`` (duplicated
    indices sum, as TensorFlow's ``scatter_nd``): ``indices`` (..., k) are coordinates in the first
    k axes, ``values`` has shape ``indices.shape[:-1] + shape[k:]``."""
    shape = tuple(int(d) for d in shape)
    values = _t(values)
    lin, k = _linear("scatter", indices, shape)
    rest = shape[k:]
    n = lin.shape[0]
    if tuple(values.shape) != tuple(_t(indices).shape[:-1]) + rest:
        raise ValueError(f"scatter: `values` must have shape indices.shape[:-1] + shape[{k}:] = "
                         f"{tuple(_t(indices).shape[:-1]) + rest}. Received {tuple(values.shape)}")
    flat = _core.index_add(_core.reshape(values, (n,) + rest), lin, math.prod(shape[:k]), 0)
    return _core.reshape(flat, shape)


def scatter_update(inputs, indices, updates):
    """``inputs`` with the entries at ``indices`` replaced by ``updates``: ``indices`` (N, k) are
    coordinates in the first k axes of ``inputs``, ``updates`` (N,) + inputs.shape[k:]. Each
    position may appear once (Keras leaves the order of repeated updates undefined, so a repeat is
    refused). Differentiable with respect to ``inputs`` (zero gradient at the replaced entries) and
    ``updates``."""
    from . import ops

    inputs = _t(inputs)
    shape = tuple(inputs.shape)
    lin, k = _linear("scatter_update", indices, shape)
    positions, counts = np.unique(lin.numpy(), return_counts=True)
    if (counts > 1).any():
        coords = np.unravel_index(int(positions[counts > 1][0]), shape[:k])
        raise ValueError(f"scatter_update: the position {tuple(int(c) for c in coords)} appears more than once in "
                         f"`indices`; the result of repeated updates is undefined in Keras, pass each position once")
    updates = ops.cast(_t(updates), inputs.dtype)
    n, rest = lin.shape[0], shape[k:]
    if tuple(updates.shape) != (n,) + rest:
        raise ValueError(f"scatter_update: `updates` must have shape {(n,) + rest} (one entry per index, then "
                         f"inputs.shape[{k}:]). Received {tuple(updates.shape)}")
    cells = math.prod(shape[:k])
    placed = _core.reshape(_core.index_add(updates, lin, cells, 0), shape)
    hit = _core.index_add(ops.ones((n,), dtype="float32"), lin, cells, 0)  # 1 where updated
    hit = _core.reshape(ops.cast(hit, "bool"), shape[:k] + (1,) * len(rest))
    return ops.where(hit, placed, inputs)


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block starting at ``start_indices`` (one int per axis) replaced by
    ``updates`` (a tensor of the same rank that fits inside from there). Differentiable with
    respect to ``inputs`` and ``updates``."""
    from . import ops

    inputs = _t(inputs)
    updates = ops.cast(_t(updates), inputs.dtype)
    starts = [int(s) for s in np.asarray(ops.convert_to_numpy(start_indices)).reshape(-1)]
    if len(starts) != inputs.ndim or updates.ndim != inputs.ndim:
        raise ValueError(f"slice_update: `start_indices` and `updates` need one entry/axis per axis of `inputs` "
                         f"(rank {inputs.ndim}). Received {len(starts)} start indices and updates of rank "
                         f"{updates.ndim}")
    pads = []
    for axis, (s, u, d) in enumerate(zip(starts, updates.shape, inputs.shape)):
        if s < 0 or s + u > d:
            raise ValueError(f"slice_update: on axis {axis}, an update of size {u} starting at {s} does not fit in "
                             f"`inputs` of size {d}")
        pads.append((s, d - s - u))
    if updates.size == 0:
        return ops.copy(inputs)
    placed = ops.pad(updates, pads)
    inside = ops.pad(ops.ones(tuple(updates.shape), dtype="bool"), pads)
    return ops.where(inside, placed, inputs)


# ---- shape rules for symbolic calls ---------------------------------------------------------------
def _spec(shape, dtype):
    return KerasTensor(tuple(shape), dtype)


def _segment_sum_rule(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _spec((None if num_segments is None else int(num_segments),) + tuple(data.shape[1:]), data.dtype)


def _scatter_rule(indices, values, shape):
    return _spec(tuple(int(d) for d in shape), values.dtype)


def _unique_rule(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,  # noqa: A002
                 axis=None, size=None, fill_value=None):
    n = None if size is None else int(size)
    if axis is None:
        parts = [_spec((n,), x.dtype)]
    else:
        shape = list(x.shape)
        shape[int(axis) % len(shape)] = n
        parts = [_spec(tuple(shape), x.dtype)]
    if return_index:
        parts.append(_spec((n,), "int64"))
    if return_inverse:
        parts.append(_spec(tuple(x.shape) if axis is None else (x.shape[int(axis)],), "int64"))
    if return_counts:
        parts.append(_spec((n,), "int64"))
    return parts[0] if len(parts) == 1 else tuple(parts)


def _same_as_inputs(inputs, *args, **kwargs):
    return _spec(inputs.shape, inputs.dtype)


shapes.RULES.update({"unique": _unique_rule, "segment_sum": _segment_sum_rule, "segment_max": _segment_sum_rule,
                     "segment_min": _segment_sum_rule, "segment_prod": _segment_sum_rule, "scatter": _scatter_rule,
                     "scatter_update": _same_as_inputs, "slice_update": _same_as_inputs})


# ---- integer bit operations (NumPy's rules; integers and, for and/or/xor/not, bools) -------------
def bitwise_and(x, y):
    """``x & y`` of integers (of bools: logical and)."""
    return _core.binary(x, y, "bitwise_and")


def bitwise_or(x, y):
    """``x | y`` of integers (of bools: logical or)."""
    return _core.binary(x, y, "bitwise_or")


def bitwise_xor(x, y):
    """``x ^ y`` of integers (of bools: logical xor)."""
    return _core.binary(x, y, "bitwise_xor")


def bitwise_invert(x):
    """``~x`` of integers (of bools: logical not)."""
    return _core.bitwise_not(x)


bitwise_not = bitwise_invert


def bitwise_left_shift(x, y):
    """``x << y`` of integers; a count below 0 or at least the width gives 0 (NumPy's rule)."""
    return _core.binary(x, y, "left_shift")


def bitwise_right_shift(x, y):
    """``x >> y`` of integers (arithmetic); a count below 0 or at least the width gives the sign
    fill, 0 or -1 (NumPy's rule)."""
    return _core.binary(x, y, "right_shift")


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def gcd(x1, x2):
    """Greatest common divisor of integers, non-negative (``gcd(0, 0) = 0``)."""
    return _core.binary(x1, x2, "gcd")


def lcm(x1, x2):
    """Least common multiple of integers, non-negative (0 when either is 0)."""
    return _core.binary(x1, x2, "lcm")


_BIT_BINARY = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "left_shift",
               "right_shift", "gcd", "lcm")
__all__ += [*_BIT_BINARY, "bitwise_invert", "bitwise_not"]


def _bit_rule(name):
    def rule(x1, x2):
        shape = shapes.broadcast_shapes(name, shapes._shape(x1), shapes._shape(x2))
        d = shapes._promote(x1, x2)
        if d == "bool" and name not in ("bitwise_and", "bitwise_or", "bitwise_xor"):
            d = "int32"
        return _spec(shape, d)

    return rule


shapes.RULES.update({name: _bit_rule(name) for name in _BIT_BINARY})
shapes.RULES.update({"bitwise_invert": shapes._same, "bitwise_not": shapes._same})


# ---- counting (sums of ones at indices: index_add) ------------------------------------------------
def bincount(x, weights=None, minlength=0, sparse=False):
    """Occurrences of each non-negative integer in ``x`` (1-D, or 2-D: one count per row), or the
    sums of ``weights`` (same shape as ``x``) at them. The last axis of the result has
    ``max(minlength, max(x) + 1)`` entries; counts are int32, weighted sums have the weights'
    dtype."""
    from . import ops

    if sparse:
        raise ValueError("bincount: sparse=True is not supported (ferrograd has no sparse tensors); pass sparse=False")
    x = _int_tensor("x", "bincount", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount: `x` must be 1-D or 2-D (one count per row). Received shape {tuple(x.shape)}")
    minlength = int(minlength)
    if minlength < 0:
        raise ValueError(f"bincount: `minlength` must be >= 0. Received {minlength}")
    top = int(_core.reduce(x, "max", None, False).numpy()) + 1 if x.size else 0
    length = max(minlength, top)
    _bounds("x", "bincount", x, 0, max(length, 1))
    if weights is None:
        values = ops.ones(tuple(x.shape), dtype="int32")
    else:
        values = _t(weights)
        if tuple(values.shape) != tuple(x.shape):
            raise ValueError(f"bincount: `weights` must have the shape of `x` {tuple(x.shape)}. Received "
                             f"{tuple(values.shape)}")
    if x.ndim == 1:
        return _core.index_add(values, x, length, 0)
    rows = x.shape[0]
    offsets = _core.reshape(ops.arange(rows, dtype="int64") * length, (rows, 1))
    lin = _core.reshape(_core.cast(x, "int64") + offsets, (-1,))
    flat = _core.index_add(_core.reshape(values, (-1,)), lin, rows * length, 0)
    return _core.reshape(flat, (rows, length))


def histogram(x, bins=10, range=None):  # noqa: A002 - Keras' name
    """Counts of the values of ``x`` (flattened) in ``bins`` equal bins over ``range`` (default:
    the values' min and max; a single value v gives ``(v - 0.5, v + 0.5)``, as NumPy). Values
    outside the range are not counted; the last bin includes its right edge. Returns
    ``(counts (bins,), edges (bins + 1,))``, both in the input's float dtype (float32 for
    integers), as Keras on PyTorch returns them; the bin of each value is decided as NumPy
    decides it (the formula, then a check against the edges)."""
    from . import ops

    bins = int(bins)
    if bins < 1:
        raise ValueError(f"histogram: `bins` must be a positive integer. Received {bins}")
    x = _core.reshape(_t(x), (-1,))
    if not x.dtype.startswith("float"):
        x = _core.cast(x, "float32")
    if range is None:
        if x.size == 0:
            lo, hi = 0.0, 1.0
        else:
            lo = float(_core.reduce(x, "min", None, False).numpy())
            hi = float(_core.reduce(x, "max", None, False).numpy())
    else:
        lo, hi = (float(v) for v in range)
        if not lo <= hi:
            raise ValueError(f"histogram: `range` must be (min, max) with min <= max. Received {range}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"histogram: the range ({lo}, {hi}) is not finite")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = ops.linspace(lo, hi, bins + 1, dtype=x.dtype)
    inside = ops.logical_and(ops.greater_equal(x, lo), ops.less_equal(x, hi))
    # NumPy: bin = floor((x - lo) / (hi - lo) * bins), the last edge into the last bin, then one
    # bin down where x is below its left edge and one up where it is at or past the right edge.
    idx = ops.cast(ops.floor((x - lo) * (bins / (hi - lo))), "int64")
    idx = ops.clip(idx, 0, bins - 1)
    idx = idx - ops.cast(ops.less(x, ops.take(edges, idx)), "int64")
    idx = ops.clip(idx, 0, bins - 1)
    up = ops.logical_and(ops.greater_equal(x, ops.take(edges, idx + 1)), ops.less(idx, bins - 1))
    idx = idx + ops.cast(up, "int64")
    counts = _core.index_add(ops.cast(inside, x.dtype), idx, bins, 0)
    return counts, edges


__all__ += ["bincount", "histogram"]


def _bincount_rule(x, weights=None, minlength=0, sparse=False):
    dtype = "int32" if weights is None else weights.dtype
    return _spec(tuple(x.shape[:-1]) + (None,), dtype)


def _histogram_rule(x, bins=10, range=None):  # noqa: A002
    dtype = x.dtype if x.dtype.startswith("float") else "float32"
    return _spec((int(bins),), dtype), _spec((int(bins) + 1,), dtype)


shapes.RULES.update({"bincount": _bincount_rule, "histogram": _histogram_rule})


# ---- pairwise distances ---------------------------------------------------------------------------
def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of ``x1`` (..., P, M) and ``x2`` (..., R, M):
    ``out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p`` (..., P, R), leading axes
    broadcasting; ``p`` >= 0 (0 counts the differing entries, inf takes the largest
    difference). Differentiable (the gradient at a zero distance is 0, as PyTorch's)."""
    from . import ops

    x1, x2 = _t(x1), _t(x2)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: `x1` and `x2` must be (..., P, M) and (..., R, M) with the same M. Received "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    p = float(p)
    if not p >= 0:
        raise ValueError(f"cdist: `p` must be >= 0. Received p={p}")
    d = ops.abs(ops.expand_dims(x1, -2) - ops.expand_dims(x2, -3))  # (..., P, R, M)
    if p == 0:
        return ops.sum(ops.cast(ops.not_equal(d, 0), d.dtype if d.dtype.startswith("float") else "float32"), axis=-1)
    if np.isinf(p):
        return ops.max(d, axis=-1)
    if p == 1:
        return ops.sum(d, axis=-1)
    if p == 2:
        s = ops.sum(d * d, axis=-1)
    else:
        s = ops.sum(ops.power(d, p), axis=-1)
    # where the distance is 0, its root has an infinite slope: route those through a constant
    zero = ops.equal(s, 0)
    safe = ops.where(zero, ops.ones_like(s), s)
    root = ops.sqrt(safe) if p == 2 else ops.power(safe, 1.0 / p)
    return ops.where(zero, ops.zeros_like(s), root)


__all__ += ["cdist"]


def _cdist_rule(x1, x2, p=2.0):
    lead = shapes.broadcast_shapes("cdist", tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    return _spec(tuple(lead) + (x1.shape[-2], x2.shape[-2]), x1.dtype if x1.dtype.startswith("float") else "float32")


shapes.RULES.update({"cdist": _cdist_rule})
