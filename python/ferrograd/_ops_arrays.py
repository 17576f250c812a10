"""The NumPy-compatible structure ops of ``keras.ops`` (stacking, splitting, diagonals, products,
meshgrid, NaN-ignoring reductions, order statistics on the composed sort, norms), each composed from
Rust kernels in ``ferrograd._core`` (one kernel call per step, recorded on the tape). Imported into
``ferrograd.ops`` with the names of ``_ops_more``; shape rules in symbolic/shapes.py."""
from __future__ import annotations

import builtins as _builtins
import math as _math

import numpy as _np

from . import _core
from ._core import Tensor
from ._ops_more import _FLOATS, _b, _f, _norm_axis, _t, _u, _zero, isnan

__all__ = ["append", "hstack", "vstack", "dstack", "hsplit", "vsplit", "dsplit", "array_split", "fliplr", "flipud",
           "rot90", "roll", "diag", "diagflat", "diagonal", "trace", "tri", "outer", "inner", "vdot", "tensordot",
           "kron", "cross", "diff", "meshgrid", "unstack", "count_nonzero", "ptp", "average",
           "empty", "empty_like", "array", "logspace", "geomspace", "trapezoid", "select", "searchsorted",
           "digitize", "isin", "unravel_index", "get_item", "slice", "is_tensor", "saturate_cast",
           "nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nancumsum", "nancumprod",
           "median", "quantile", "percentile", "norm"]

# ---- structure -------------------------------------------------------------------------------------
def append(x1, x2, axis=None):
    if axis is None:
        return _core.concatenate([_core.reshape(x1, (-1,)), _core.reshape(x2, (-1,))], 0)
    return _core.concatenate([_t(x1), _t(x2)], axis)


def _atleast(x, n):
    x = _t(x)
    if n >= 1 and x.ndim == 0:
        x = _core.reshape(x, (1,))
    if n >= 2 and x.ndim == 1:
        x = _core.reshape(x, (1, x.shape[0]))
    if n >= 3 and x.ndim == 2:
        x = _core.reshape(x, tuple(x.shape) + (1,))
    return x


def hstack(xs):
    xs = [_atleast(x, 1) for x in xs]
    return _core.concatenate(xs, 0 if xs[0].ndim == 1 else 1)


def vstack(xs):
    return _core.concatenate([_atleast(x, 2) for x in xs], 0)


def dstack(xs):
    return _core.concatenate([_atleast(x, 3) for x in xs], 2)


def array_split(x, indices_or_sections, axis=0):
    """Splits into ``n`` nearly equal parts (the first ``len % n`` one longer), or at indices."""
    x = _t(x)
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise ValueError(f"array_split: the number of sections must be positive, received {n}")
        size = x.shape[_norm_axis(axis, x.ndim)]
        q, r = divmod(size, n)
        cuts, pos = [], 0
        for i in range(n - 1):
            pos += q + (1 if i < r else 0)
            cuts.append(pos)
        return _core.split(x, cuts, axis)
    return _core.split(x, list(indices_or_sections), axis)


def _split_axis(op, x, ios, axis):
    x = _t(x)
    if x.ndim <= axis:
        raise ValueError(f"{op}: expected a tensor of rank > {axis}, received shape {tuple(x.shape)}")
    return _core.split(x, ios if isinstance(ios, int) else list(ios), axis)


def hsplit(x, indices_or_sections):
    x = _t(x)
    return _split_axis("hsplit", x, indices_or_sections, 0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    return _split_axis("vsplit", x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    return _split_axis("dsplit", x, indices_or_sections, 2)


def fliplr(x):
    return _core.flip(x, 1)


def flipud(x):
    return _core.flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``axes`` (NumPy's direction)."""
    x = _t(array)
    a0, a1 = (_norm_axis(a, x.ndim) for a in axes)
    if a0 == a1 or x.ndim < 2:
        raise ValueError(f"rot90: axes must be two different axes of a tensor of rank >= 2, received axes={axes} "
                         f"for shape {tuple(x.shape)}")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return _core.flip(_core.flip(x, a0), a1)
    perm = list(range(x.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return _core.transpose(_core.flip(x, a1), perm)
    return _core.flip(_core.transpose(x, perm), a1)


def roll(x, shift, axis=None):
    """Rolls elements along ``axis`` (of the flattened tensor when None) by ``shift``."""
    x = _t(x)
    if axis is None:
        return _core.reshape(roll(_core.reshape(x, (-1,)), shift, 0), tuple(x.shape))
    shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift]
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis] * len(shifts)
    for s, a in zip(shifts, axes):
        a = _norm_axis(a, x.ndim)
        n = x.shape[a]
        s = int(s) % n if n else 0
        if s:
            head, tail = _core.split(x, [n - s], a)
            x = _core.concatenate([tail, head], a)
    return x


def _eye_mask(rows, cols, k):
    r = _core.reshape(_core.arange(0.0, float(rows), 1.0, "int64"), (rows, 1))
    c = _core.reshape(_core.arange(0.0, float(cols), 1.0, "int64"), (1, cols))
    return _b(_b(c, r, "subtract"), int(k), "equal")


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the plane ``(axis1, axis2)``, as the last axis (NumPy's layout)."""
    x = _t(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected a tensor of rank >= 2, received shape {tuple(x.shape)}")
    a1, a2 = _norm_axis(axis1, x.ndim), _norm_axis(axis2, x.ndim)
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, received {axis1} and {axis2}")
    rest = [a for a in range(x.ndim) if a not in (a1, a2)]
    x = _core.transpose(x, rest + [a1, a2])  # (..., rows, cols)
    rows, cols = x.shape[-2], x.shape[-1]
    offset = int(offset)
    n = _builtins.max(0, _builtins.min(rows + _builtins.min(offset, 0), cols - _builtins.max(offset, 0)))
    if n == 0:
        return _core.full(tuple(x.shape[:-2]) + (0,), 0.0, x.dtype)
    r0, c0 = _builtins.max(-offset, 0), _builtins.max(offset, 0)
    # Row i of the diagonal is x[..., r0 + i, c0 + i]: gather columns along the last axis, then take the rows.
    rows_idx = _core.arange(float(r0), float(r0 + n), 1.0, "int64")
    x = _core.take(x, rows_idx, x.ndim - 2)  # (..., n, cols)
    cols_idx = _core.reshape(_core.arange(float(c0), float(c0 + n), 1.0, "int64"), (n, 1))
    lead = tuple(x.shape[:-2])
    cols_idx = _core.broadcast_to(cols_idx, lead + (n, 1))
    return _core.reshape(_core.take_along_axis(x, cols_idx, -1), lead + (n,))


def trace(x, offset=0, axis1=0, axis2=1):
    return _core.reduce(diagonal(x, offset, axis1, axis2), "sum", -1, False)


def diag(x, k=0):
    """The ``k``-th diagonal of a 2-D tensor, or a 2-D tensor with a 1-D one on its ``k``-th diagonal."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, k, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, received shape {tuple(x.shape)}")
    n = x.shape[0] + abs(int(k))
    r0 = _builtins.max(-int(k), 0)
    row_vals = _core.pad(x, [(r0, n - x.shape[0] - r0)], "constant", 0.0) if x.shape[0] < n else x  # (n,) by row
    mask = _eye_mask(n, n, k)
    return _core.where(mask, _core.reshape(row_vals, (n, 1)), _zero(x))


def diagflat(x, k=0):
    return diag(_core.reshape(x, (-1,)), k)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the ``k``-th diagonal of an (N, M) matrix."""
    M = N if M is None else M
    r = _core.reshape(_core.arange(0.0, float(N), 1.0, "int64"), (int(N), 1))
    c = _core.reshape(_core.arange(0.0, float(M), 1.0, "int64"), (1, int(M)))
    return _core.cast(_b(_b(c, r, "subtract"), int(k), "less_equal"), dtype or "float32")


def outer(x1, x2):
    a, b = _core.reshape(x1, (-1, 1)), _core.reshape(x2, (1, -1))
    return _b(a, b, "multiply")


def inner(x1, x2):
    """Sum product over the last axes (a scalar product when either is a scalar)."""
    a, b = _t(x1), _t(x2)
    if a.ndim == 0 or b.ndim == 0:
        return _b(a, b, "multiply")
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def vdot(x1, x2):
    return _core.reduce(_b(_core.reshape(x1, (-1,)), _core.reshape(x2, (-1,)), "multiply"), "sum", None, False)


def tensordot(x1, x2, axes=2):
    """Sum over ``axes`` (an int: the last of ``x1`` with the first of ``x2``; or two lists), as one matmul."""
    a, b = _t(x1), _t(x2)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
    ax_a = [_norm_axis(v, a.ndim) for v in ax_a]
    ax_b = [_norm_axis(v, b.ndim) for v in ax_b]
    if len(ax_a) != len(ax_b) or any(a.shape[i] != b.shape[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError(f"tensordot: axes {axes} do not match for shapes {tuple(a.shape)} and {tuple(b.shape)}")
    fa = [i for i in range(a.ndim) if i not in ax_a]
    fb = [i for i in range(b.ndim) if i not in ax_b]
    k = _math.prod(a.shape[i] for i in ax_a)
    ma = _core.reshape(_core.transpose(a, fa + ax_a), (_math.prod(a.shape[i] for i in fa), k))
    mb = _core.reshape(_core.transpose(b, ax_b + fb), (k, _math.prod(b.shape[i] for i in fb)))
    if ma.dtype == "bool" or mb.dtype == "bool":
        raise TypeError("tensordot: boolean operands are not supported")
    y = _b(ma, mb, "matmul")
    return _core.reshape(y, tuple(a.shape[i] for i in fa) + tuple(b.shape[i] for i in fb))


def kron(x1, x2):
    a, b = _t(x1), _t(x2)
    nd = _builtins.max(a.ndim, b.ndim)
    a = _core.reshape(a, (1,) * (nd - a.ndim) + tuple(a.shape))
    b = _core.reshape(b, (1,) * (nd - b.ndim) + tuple(b.shape))
    ea = _core.reshape(a, tuple(d for s in a.shape for d in (s, 1)))
    eb = _core.reshape(b, tuple(d for s in b.shape for d in (1, s)))
    return _core.reshape(_b(ea, eb, "multiply"), tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors are padded with a zero z, as NumPy)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _core.moveaxis(_t(x1), axisa, -1)
    b = _core.moveaxis(_t(x2), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, received shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    two = a.shape[-1] == 2 and b.shape[-1] == 2

    def comps(v):
        parts = _core.split(v, v.shape[-1], -1)
        return parts + ([_core.full(tuple(v.shape[:-1]) + (1,), 0.0, v.dtype)] if len(parts) == 2 else [])

    (a0, a1, a2), (b0, b1, b2) = comps(a), comps(b)
    z = _b(_b(a0, b1, "multiply"), _b(a1, b0, "multiply"), "subtract")
    if two:
        return _core.reshape(z, tuple(z.shape[:-1]))
    xc = _b(_b(a1, b2, "multiply"), _b(a2, b1, "multiply"), "subtract")
    yc = _b(_b(a2, b0, "multiply"), _b(a0, b2, "multiply"), "subtract")
    return _core.moveaxis(_core.concatenate([xc, yc, z], -1), -1, axisc)


def diff(a, n=1, axis=-1):
    x = _t(a)
    for _ in range(int(n)):
        m = x.shape[_norm_axis(axis, x.ndim)]
        if m == 0:
            break
        lo, hi = _core.split(x, [m - 1], axis)[0], _core.split(x, [1], axis)[1]
        x = _b(hi, lo, "subtract")
    return x


def meshgrid(*x, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', received {indexing!r}")
    vs = [_core.reshape(v, (-1,)) for v in x]
    n = len(vs)
    shape = [v.shape[0] for v in vs]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, v in enumerate(vs):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view = [1] * n
        view[pos] = v.shape[0]
        out.append(_core.broadcast_to(_core.reshape(v, tuple(view)), tuple(shape)).contiguous())
    return out


def unstack(x, num=None, axis=0):
    x = _t(x)
    a = _norm_axis(axis, x.ndim)
    n = x.shape[a]
    if num is not None and int(num) != n:
        raise ValueError(f"unstack: num={num} does not match the size {n} of axis {axis}")
    return [_core.squeeze(p, a) for p in _core.split(x, n, a)] if n else []


def count_nonzero(x, axis=None):
    x = _t(x)
    nz = _b(x, False, "not_equal") if x.dtype == "bool" else _b(x, 0, "not_equal")
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return _core.cast(_core.reduce(nz, "sum", axis, False), "int32")


def ptp(x, axis=None, keepdims=False):
    return _b(_core.reduce(x, "max", axis, keepdims), _core.reduce(x, "min", axis, keepdims), "subtract")


def average(x, axis=None, weights=None):
    """Mean, or the ``weights``-weighted mean (weights 1-D along ``axis`` or of ``x``'s shape)."""
    x = _f(x)
    if weights is None:
        return _core.reduce(x, "mean", axis, False)
    w = _f(weights)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[_norm_axis(axis, x.ndim)] = w.shape[0]
        w = _core.reshape(w, tuple(shape))
    num = _core.reduce(_b(x, w, "multiply"), "sum", axis, False)
    den = _core.reduce(_core.broadcast_to(w, tuple(x.shape)) if tuple(w.shape) != tuple(x.shape) else w, "sum",
                       axis, False)
    return _b(num, den, "divide")


def empty(shape, dtype=None):
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    return _core.full(shape, 0.0, dtype or "float32")


def empty_like(x, dtype=None):
    x = _t(x)
    return _core.full(tuple(x.shape), 0.0, dtype or x.dtype)


def array(x, dtype=None):
    t = _core.as_tensor(x, None)
    return t if dtype is None else _core.cast(t, dtype)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    if axis != 0:
        raise ValueError(f"logspace supports axis=0 only, received: axis={axis}")
    e = _core.linspace(float(start), float(stop), int(num), bool(endpoint), None)
    y = _u(_b(e, _math.log(float(base)), "multiply"), "exp")
    return y if dtype is None else _core.cast(y, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    if start == 0 or stop == 0:
        raise ValueError("geomspace: start and stop must be non-zero")
    if (start < 0) != (stop < 0):
        raise ValueError("geomspace: start and stop must have the same sign (complex results are not supported)")
    sgn = -1.0 if start < 0 else 1.0
    y = logspace(_math.log(abs(start)), _math.log(abs(stop)), num, endpoint, _math.e, None, axis)
    y = _b(y, sgn, "multiply")
    return y if dtype is None else _core.cast(y, dtype)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Trapezoidal rule along ``axis``."""
    y = _f(y)
    n = y.shape[_norm_axis(axis, y.ndim)]
    lo, hi = _core.split(y, [n - 1], axis)[0], _core.split(y, [1], axis)[1]
    avg = _b(_b(lo, hi, "add"), 0.5, "multiply")
    if x is None:
        return _b(_core.reduce(avg, "sum", axis, False), float(dx), "multiply")
    d = diff(_f(x), 1, axis if _t(x).ndim > 1 else 0)
    if d.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[_norm_axis(axis, y.ndim)] = d.shape[0]
        d = _core.reshape(d, tuple(shape))
    return _core.reduce(_b(avg, d, "multiply"), "sum", axis, False)


def select(condlist, choicelist, default=0):
    """The first matching choice per element (NumPy's select)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist ({len(condlist)}) and choicelist ({len(choicelist)}) differ in length")
    out = _t(default) if not isinstance(default, (int, float)) else None
    if out is None:
        out = _core.full((), float(default), _t(choicelist[0]).dtype if choicelist else "float32")
    for c, v in zip(reversed(list(condlist)), reversed(list(choicelist))):
        out = _core.where(c, v, out)
    return out


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into the 1-D ascending ``sorted_sequence`` (counts by comparison)."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', received {side!r}")
    s, v = _t(sorted_sequence), _t(values)
    if s.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, received shape {tuple(s.shape)}")
    cmp = _b(s, _core.expand_dims(v, -1), "less" if side == "left" else "less_equal")  # (..., n)
    return _core.cast(_core.reduce(cmp, "sum", -1, False), "int32" if s.shape[0] < 2**31 else "int64")


def digitize(x, bins):
    """Index of the bin of each value (``bins`` ascending): ``searchsorted(bins, x, 'right')``."""
    return searchsorted(bins, x, side="right")


def isin(x1, x2, assume_unique=False, invert=False):
    a, b = _t(x1), _core.reshape(x2, (-1,))
    hit = _core.reduce(_b(_core.expand_dims(a, -1), b, "equal"), "any", -1, False)
    return _core.logical_not(hit) if invert else hit


def unravel_index(indices, shape):
    """Coordinates of flat ``indices`` in an array of ``shape`` (a tuple of tensors)."""
    idx = _t(indices)
    out = []
    for d in reversed(tuple(int(s) for s in shape)):
        out.append(_b(idx, d, "mod"))
        idx = _b(idx, d, "floor_divide")
    return tuple(reversed(out))


def get_item(x, key):
    return _t(x)[key]


def slice(inputs, start_indices, shape):  # noqa: A001 - keras.ops name
    """The block of ``shape`` starting at ``start_indices``."""
    x = _t(inputs)
    starts = start_indices.tolist() if isinstance(start_indices, Tensor) else list(start_indices)
    key = tuple(_builtins.slice(int(s), int(s) + (x.shape[i] - int(s) if int(n) == -1 else int(n)))
                for i, (s, n) in enumerate(zip(starts, shape)))
    return x[key]


def is_tensor(x):
    return isinstance(x, Tensor)


def saturate_cast(x, dtype):
    """Casts, clipping to ``dtype``'s range first."""
    x = _t(x)
    dt = str(dtype)
    if dt.startswith("int") and x.dtype in _FLOATS:
        info = _np.iinfo(dt)
        x = _core.unary(x, "clip", float(info.min), float(info.max))
    return _core.cast(x, dt)


# -- NaN-ignoring reductions
def _nan_fill(x, value):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return x
    return _core.where(isnan(x), _core.full((), float(value), x.dtype), x)


def nansum(x, axis=None, keepdims=False):
    return _core.reduce(_nan_fill(x, 0.0), "sum", axis, keepdims)


def nanprod(x, axis=None, keepdims=False):
    return _core.reduce(_nan_fill(x, 1.0), "prod", axis, keepdims)


def nanmax(x, axis=None, keepdims=False):
    return _core.reduce(_nan_fill(x, float("-inf")), "max", axis, keepdims)


def nanmin(x, axis=None, keepdims=False):
    return _core.reduce(_nan_fill(x, float("inf")), "min", axis, keepdims)


def nanmean(x, axis=None, keepdims=False):
    x = _f(x)
    count = _core.reduce(_core.cast(_core.logical_not(isnan(x)), x.dtype), "sum", axis, keepdims)
    return _b(nansum(x, axis, keepdims), count, "divide")


def nanvar(x, axis=None, keepdims=False):
    x = _f(x)
    m = nanmean(x, axis, True)
    dev = _u(_b(x, m, "subtract"), "square")
    return nanmean(dev, axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    return _u(nanvar(x, axis, keepdims), "sqrt")


def nancumsum(x, axis=None, dtype=None):
    x = _nan_fill(x, 0.0)
    if dtype is not None:
        x = _core.cast(x, dtype)
    return _core.cumsum(x, axis)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product with NaNs counted as ones."""
    x = _nan_fill(x, 1.0)
    if dtype is not None:
        x = _core.cast(x, dtype)
    return _core.cumprod(x, axis)


# -- order statistics (on ops.sort)
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) along ``axis`` with NumPy's interpolation ``method``
    (linear, lower, higher, nearest, midpoint), from ``ops.sort``."""
    from .ops import sort as _sort

    if method not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"quantile: method must be linear, lower, higher, nearest or midpoint; received {method!r}")
    x = _f(x)
    nd = x.ndim
    if axis is None:
        axes = list(range(nd))
    else:
        axes = [_norm_axis(a, nd) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    rest = [a for a in range(nd) if a not in axes]
    xm = _core.transpose(x, rest + axes)
    lead = tuple(x.shape[a] for a in rest)
    xm = _core.reshape(xm, lead + (-1,))
    n = xm.shape[-1]
    s = _sort(xm, -1)
    # A NaN anywhere in a row makes its quantiles NaN (NumPy, Keras): the sort puts NaN last, so read it there.
    has_nan = _core.reduce(isnan(xm), "any", -1, False)
    last = _core.take(s, _core.as_tensor(_np.array(max(n - 1, 0), dtype=_np.int64)), s.ndim - 1)
    qs = _np.atleast_1d(_np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=_np.float64))
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"quantile: q must be in [0, 1], received {q}")
    outs = []
    for qi in qs.tolist():
        pos = qi * (n - 1)
        lo, hi = int(_math.floor(pos)), int(_math.ceil(pos))
        frac = pos - lo
        if method == "lower":
            hi, frac = lo, 0.0
        elif method == "higher":
            lo, frac = hi, 0.0
        elif method == "nearest":
            j = int(_np.round(pos))  # half to even, as NumPy
            lo = hi = j
            frac = 0.0
        elif method == "midpoint":
            frac = 0.5 if hi != lo else 0.0
        v_lo = _core.take(s, _core.as_tensor(_np.array(lo, dtype=_np.int64)), s.ndim - 1)
        if frac == 0.0:
            v = v_lo
        else:
            v_hi = _core.take(s, _core.as_tensor(_np.array(hi, dtype=_np.int64)), s.ndim - 1)
            v = _b(v_lo, _b(_b(v_hi, v_lo, "subtract"), frac, "multiply"), "add")
        v = _core.where(has_nan, last, v)
        if keepdims:
            shape = [1 if a in axes else x.shape[a] for a in range(nd)]
            v = _core.reshape(v, tuple(shape))
        outs.append(v)
    if _np.ndim(q.numpy() if isinstance(q, Tensor) else q) == 0:
        return outs[0]
    return _core.stack(outs, 0)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    qa = _np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=_np.float64) / 100.0
    return quantile(x, qa if qa.ndim else float(qa), axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis, "linear", keepdims)


# -- norms
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - keras.ops argument name
    """Vector norms (any ``ord``) and matrix norms ("fro", 1, -1, inf, -inf, and through the Rust
    SVD the spectral norms 2 / -2 and the nuclear norm "nuc")."""
    x = _f(x)
    if axis is None:
        axes = tuple(range(x.ndim)) if ord is None or x.ndim == 1 else (x.ndim - 2, x.ndim - 1)
        if ord is not None and x.ndim > 2:
            raise ValueError(f"norm: improper number of dimensions to norm, shape {tuple(x.shape)} with ord={ord!r}")
    else:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(_norm_axis(a, x.ndim) for a in axes)
    if len(axes) == 1 or ord is None or ord == "fro" and len(axes) == 2:
        if ord in (None, 2, "fro", "euclidean") or (ord == "fro" and len(axes) == 2):
            if ord == "fro" and len(axes) == 1:
                raise ValueError("norm: invalid norm order 'fro' for vectors")
            return _u(_core.reduce(_u(x, "square"), "sum", axes, keepdims), "sqrt")
        ordf = float(ord)
        if ordf == _math.inf:
            return _core.reduce(_u(x, "abs"), "max", axes, keepdims)
        if ordf == -_math.inf:
            return _core.reduce(_u(x, "abs"), "min", axes, keepdims)
        if ordf == 0:
            return _core.cast(_core.reduce(_b(x, 0.0, "not_equal"), "sum", axes, keepdims), x.dtype)
        if ordf == 1:
            return _core.reduce(_u(x, "abs"), "sum", axes, keepdims)
        p = _core.reduce(_b(_u(x, "abs"), ordf, "power"), "sum", axes, keepdims)
        return _b(p, 1.0 / ordf, "power")
    if len(axes) != 2:
        raise ValueError(f"norm: axis must name one or two axes, received axis={axis}")
    r, c = axes
    if ord in (2, -2, "nuc"):
        # the singular values of each matrix (the Rust SVD, differentiable), then max / min / sum
        from ._ops_linalg import svd

        rest = [a for a in range(x.ndim) if a not in (r, c)]
        s = svd(_core.transpose(x, rest + [r, c]), full_matrices=False, compute_uv=False)
        out = _core.reduce(s, {2: "max", -2: "min", "nuc": "sum"}[ord], (s.ndim - 1,), False)
        if keepdims:
            for a in sorted((r, c)):
                out = _core.expand_dims(out, a)
        return out
    if ord in (1, -1):
        red = _core.reduce(_u(x, "abs"), "sum", r, True)
        out = _core.reduce(red, "max" if ord == 1 else "min", c, True)
    elif ord in (_math.inf, -_math.inf):
        red = _core.reduce(_u(x, "abs"), "sum", c, True)
        out = _core.reduce(red, "max" if ord > 0 else "min", r, True)
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    return out if keepdims else _core.squeeze(out, (r, c))



# ---- more NumPy names ------------------------------------------------------------------------------
__all__ += ["ldexp", "vander", "nanargmax", "nanargmin", "argpartition", "hamming", "hanning", "bartlett",
            "blackman", "correlate", "corrcoef"]


def ldexp(x1, x2):
    """``x1 * 2**x2`` (``x2`` integer; powers of two are exact)."""
    x2 = _t(x2)
    if x2.dtype in _FLOATS:
        raise TypeError(f"ldexp: x2 must be an integer tensor, received dtype {x2.dtype}")
    a = _f(x1)
    return _b(a, _b(_core.full((), 2.0, a.dtype), _core.cast(x2, a.dtype), "power"), "multiply")


def vander(x, N=None, increasing=False):
    """Columns ``x**(N-1), ..., x**0`` (``x**0, ...`` when ``increasing``)."""
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, received shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, received N={N}")
    p = _core.arange(0.0, float(n), 1.0, x.dtype)
    if not increasing:
        p = _core.flip(p, 0)
    return _b(_core.reshape(x, (x.shape[0], 1)), _core.reshape(p, (1, n)), "power")


def nanargmax(x, axis=None, keepdims=False):
    """argmax ignoring NaN (NaN counts as -inf; an all-NaN slice gives its first index)."""
    from ._ops_more import _nan_fill_value

    return _core.argextreme(_nan_fill_value(x, float("-inf")), True, axis, keepdims)


def nanargmin(x, axis=None, keepdims=False):
    from ._ops_more import _nan_fill_value

    return _core.argextreme(_nan_fill_value(x, float("inf")), False, axis, keepdims)


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` around its ``kth`` element along ``axis``; the full stable argsort
    is one valid answer (it is what this returns, int32)."""
    from .ops import argsort as _argsort

    x = _t(x)
    n = x.shape[_norm_axis(axis, x.ndim)] if x.ndim else 1
    if not -n <= int(kth) < n:
        raise ValueError(f"argpartition: kth={kth} is out of bounds for an axis of size {n}")
    return _argsort(x, axis)


def _window(op, M, terms):
    """``sum_i c_i cos(2 pi i n / (M - 1))`` for n in [0, M) (NumPy's generalized cosine windows)."""
    M = int(M)
    if M < 1:
        return _core.full((0,), 0.0, "float32")
    if M == 1:
        return _core.full((1,), 1.0, "float32")
    n = _core.arange(0.0, float(M), 1.0, "float32")
    out = None
    for i, c in enumerate(terms):
        term = _core.full((M,), float(c), "float32") if i == 0 else _b(
            _u(_b(n, 2.0 * _math.pi * i / (M - 1), "multiply"), "cos"), float(c), "multiply")
        out = term if out is None else _b(out, term, "add")
    return out


def hamming(x):
    return _window("hamming", x, (0.54, -0.46))


def hanning(x):
    return _window("hanning", x, (0.5, -0.5))


def blackman(x):
    return _window("blackman", x, (0.42, -0.5, 0.08))


def bartlett(x):
    """The triangular window ``1 - |2 n / (M - 1) - 1|``."""
    M = int(x)
    if M < 1:
        return _core.full((0,), 0.0, "float32")
    if M == 1:
        return _core.full((1,), 1.0, "float32")
    n = _core.arange(0.0, float(M), 1.0, "float32")
    tri = _u(_b(_b(n, 2.0 / (M - 1), "multiply"), 1.0, "subtract"), "abs")
    return _b(_u(tri, "negative"), 1.0, "add")


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, ``c[k] = sum_n x1[n + k] x2[n]`` (NumPy's), as one 1-D
    convolution."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', received {mode!r}")
    a, v = _f(x1), _f(x2)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: expected 1-D inputs, received shapes {tuple(a.shape)} and {tuple(v.shape)}")
    n, k = a.shape[0], v.shape[0]
    if k > n:
        if mode == "same":
            raise ValueError("correlate: mode='same' needs len(x1) >= len(x2)")
        return _core.flip(correlate(v, a, mode), 0)
    lo, hi = {"valid": (0, 0), "same": (k // 2, k - 1 - k // 2), "full": (k - 1, k - 1)}[mode]
    ap = _core.pad(a, [(lo, hi)], "constant", 0.0) if lo or hi else a
    y = _core.conv(_core.reshape(ap, (1, n + lo + hi, 1)), _core.reshape(v, (k, 1, 1)), None, (1,), "valid", (1,),
                   False)
    return _core.reshape(y, (-1,))


def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables in rows, as NumPy)."""
    x = _f(x)
    if x.ndim == 1:
        x = _core.reshape(x, (1, x.shape[0]))
    if x.ndim != 2:
        raise ValueError(f"corrcoef: expected a 1-D or 2-D tensor, received shape {tuple(x.shape)}")
    xc = _b(x, _core.reduce(x, "mean", 1, True), "subtract")
    cov = _b(xc, _core.transpose(xc, (1, 0)), "matmul")  # (V, V), the 1/N cancels
    d = _u(diagonal(cov), "sqrt")
    out = _b(_b(cov, _core.reshape(d, (-1, 1)), "divide"), _core.reshape(d, (1, -1)), "divide")
    out = _core.unary(out, "clip", -1.0, 1.0)
    return _core.reshape(out, ()) if out.shape == (1, 1) and _t(x).ndim == 2 and x.shape[0] == 1 else out


# -- NaN-ignoring order statistics: the composed sort puts NaN last, so row r's valid values are its
# first n_r sorted entries; the interpolation positions are tensors (one per row), read with gathers.
__all__ += ["nanquantile", "nanpercentile", "nanmedian"]


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaN (NaN where a slice holds only NaN)."""
    from .ops import sort as _sort

    if method not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"nanquantile: method must be linear, lower, higher, nearest or midpoint; received "
                         f"{method!r}")
    x = _f(x)
    nd = x.ndim
    axes = list(range(nd)) if axis is None else [
        _norm_axis(a, nd) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    rest = [a for a in range(nd) if a not in axes]
    lead = tuple(x.shape[a] for a in rest)
    xm = _core.reshape(_core.transpose(x, rest + axes), lead + (-1,))
    n = xm.shape[-1]
    s = _sort(xm, -1)
    count = _core.reduce(_core.cast(_core.logical_not(isnan(xm)), x.dtype), "sum", -1, True)  # (..., 1)
    empty = _b(count, 0.0, "equal")
    qv = _np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=_np.float64)
    if ((qv < 0) | (qv > 1)).any():
        raise ValueError(f"nanquantile: q must be in [0, 1], received {q}")
    last = _b(_b(count, 1.0, "subtract"), 0.0, "maximum")

    def gather(pos):
        idx = _core.cast(_core.unary(pos, "clip", 0.0, float(max(n - 1, 0))), "int64")
        return _core.take_along_axis(s, idx, -1)

    outs = []
    for qi in _np.atleast_1d(qv).tolist():
        pos = _b(last, qi, "multiply")
        lo, hi = _u(pos, "floor"), _u(pos, "ceil")
        if method == "lower":
            v = gather(lo)
        elif method == "higher":
            v = gather(hi)
        elif method == "nearest":
            v = gather(_u(pos, "round"))
        elif method == "midpoint":
            v = _b(_b(gather(lo), gather(hi), "add"), 0.5, "multiply")
        else:
            v_lo = gather(lo)
            v = _b(v_lo, _b(_b(gather(hi), v_lo, "subtract"), _b(pos, lo, "subtract"), "multiply"), "add")
        v = _core.where(empty, _core.full((), float("nan"), x.dtype), v)  # (..., 1)
        if keepdims:
            v = _core.reshape(v, tuple(1 if a in axes else x.shape[a] for a in range(nd)))
        else:
            v = _core.reshape(v, lead)
        outs.append(v)
    return outs[0] if qv.ndim == 0 else _core.stack(outs, 0)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    qa = _np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=_np.float64) / 100.0
    return nanquantile(x, qa if qa.ndim else float(qa), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    return nanquantile(x, 0.5, axis, "linear", keepdims)


# -- adaptive pooling (PyTorch's bins: bin i spans [floor(i L / out), ceil((i + 1) L / out)))
__all__ += ["adaptive_average_pool", "adaptive_max_pool"]


def _adaptive(op, kind, inputs, output_size, data_format):
    from .ops import _check_data_format

    x = _t(inputs)
    _check_data_format(op, data_format)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (N, L, C) or 4-D (N, H, W, C) input, received shape "
                         f"{tuple(x.shape)}")
    nsp = x.ndim - 2
    sizes = (int(output_size),) * nsp if isinstance(output_size, int) else tuple(int(v) for v in output_size)
    if len(sizes) != nsp or min(sizes) < 1:
        raise ValueError(f"{op}: output_size must be a positive int or {nsp} positive ints, received "
                         f"output_size={output_size!r}")
    red = "mean" if kind == "average" else "max"
    for i, out in enumerate(sizes):
        ax = 1 + i
        length = x.shape[ax]
        if length % out == 0:  # equal bins: one reshape and one reduction
            k = length // out
            shape = tuple(x.shape[:ax]) + (out, k) + tuple(x.shape[ax + 1:])
            x = _core.reduce(_core.reshape(x, shape), red, ax + 1, False)
            continue
        parts = []
        for b in range(out):
            lo, hi = (b * length) // out, -(-((b + 1) * length) // out)
            idx = _core.arange(float(lo), float(hi), 1.0, "int64")
            parts.append(_core.reduce(_core.take(x, idx, ax), red, ax, True))
        x = _core.concatenate(parts, ax)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (channels_last), with PyTorch/Keras bins."""
    return _adaptive("adaptive_average_pool", "average", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (channels_last), with PyTorch/Keras bins."""
    return _adaptive("adaptive_max_pool", "max", inputs, output_size, data_format)
