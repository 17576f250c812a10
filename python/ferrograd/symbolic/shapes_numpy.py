"""Shape rules of the NumPy-compatible ``keras.ops`` set and the extra activations (split from
``shapes.py``; importing this module adds its rules to ``shapes.RULES``)."""
from __future__ import annotations

from .shapes import (
    RULES,
    _axis,
    _binary,
    _concatenate,
    _conv,
    _convert_to_tensor,
    _depthwise_conv,
    _dtype,
    _floating,
    _getitem,
    _like,
    _prod,
    _promote,
    _reduced,
    _reduction,
    _same,
    _shape,
    _spec,
    _split,
    _tuple,
    broadcast_shapes,
)


# ---- the NumPy-compatible set and extra activations (ops/_ops_more.py) -----------------------------
def _bool_of(x, *args, **kwargs):
    return _spec(_shape(x), "bool")


def _glu(x, axis=-1):
    shape = list(_shape(x))
    a = _axis("glu", axis, len(shape))
    if shape[a] is not None and shape[a] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, received shape {tuple(shape)}")
    shape[a] = None if shape[a] is None else shape[a] // 2
    return _floating(_spec(tuple(shape), _dtype(x)))


def _sparsemax(x, axis=-1):
    _axis("sparsemax", axis, len(_shape(x)))
    return _floating(x)


def _bool_binary(name):
    def rule(x1, x2, *args, **kwargs):
        return _spec(broadcast_shapes(name, _shape(x1), _shape(x2)), "bool")

    return rule


def _allclose(x1, x2, *args, **kwargs):
    broadcast_shapes("allclose", _shape(x1), _shape(x2))
    return _spec((), "bool")


def _append(x1, x2, axis=None):
    if axis is None:
        n1, n2 = _prod(_shape(x1)), _prod(_shape(x2))
        return _spec((None if n1 is None or n2 is None else n1 + n2,), _promote(x1, x2))
    return _concatenate([x1, x2], axis)


def _atleast(shape, n):
    shape = tuple(shape)
    if n >= 1 and len(shape) == 0:
        shape = (1,)
    if n >= 2 and len(shape) == 1:
        shape = (1,) + shape
    if n >= 3 and len(shape) == 2:
        shape = shape + (1,)
    return shape


def _stack_like(op, n, axis_of):
    def rule(xs):
        xs = list(xs)
        specs = [_spec(_atleast(_shape(x), n), _dtype(x) or "float32") for x in xs]
        out = _concatenate(specs, axis_of(len(specs[0].shape)))
        return _spec(out.shape, _promote(*xs))

    return rule


def _array_split(x, indices_or_sections, axis=0):
    if not isinstance(indices_or_sections, int):
        return _split(x, indices_or_sections, axis)
    shape = _shape(x)
    a = _axis("array_split", axis, len(shape))
    n, k = shape[a], indices_or_sections
    if n is None:
        return [_spec(shape[:a] + (None,) + shape[a + 1:], _dtype(x)) for _ in range(k)]
    q, r = divmod(n, k)
    return [_spec(shape[:a] + (q + (1 if i < r else 0),) + shape[a + 1:], _dtype(x)) for i in range(k)]


def _split_at(op, axis_of):
    def rule(x, indices_or_sections):
        return _split(x, indices_or_sections, axis_of(len(_shape(x))))

    return rule


def _rot90(array, k=1, axes=(0, 1)):
    shape = list(_shape(array))
    a0, a1 = (_axis("rot90", a, len(shape)) for a in axes)
    if int(k) % 2:
        shape[a0], shape[a1] = shape[a1], shape[a0]
    return _spec(tuple(shape), _dtype(array))


def _diag_len(rows, cols, offset):
    if rows is None or cols is None:
        return None
    return max(0, min(rows + min(offset, 0), cols - max(offset, 0)))


def _diagonal(x, offset=0, axis1=0, axis2=1):
    shape = _shape(x)
    if len(shape) < 2:
        raise ValueError(f"diagonal: expected a tensor of rank >= 2, received shape {shape}")
    a1, a2 = _axis("diagonal", axis1, len(shape)), _axis("diagonal", axis2, len(shape))
    rest = tuple(d for i, d in enumerate(shape) if i not in (a1, a2))
    return _spec(rest + (_diag_len(shape[a1], shape[a2], int(offset)),), _dtype(x))


def _trace(x, offset=0, axis1=0, axis2=1):
    d = _diagonal(x, offset, axis1, axis2)
    return _spec(d.shape[:-1], d.dtype)


def _diag(x, k=0):
    shape = _shape(x)
    if len(shape) == 2:
        return _diagonal(x, k)
    if len(shape) != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, received shape {shape}")
    n = None if shape[0] is None else shape[0] + abs(int(k))
    return _spec((n, n), _dtype(x))


def _diagflat(x, k=0):
    n = _prod(_shape(x))
    n = None if n is None else n + abs(int(k))
    return _spec((n, n), _dtype(x))


def _outer(x1, x2):
    return _spec((_prod(_shape(x1)), _prod(_shape(x2))), _promote(x1, x2))


def _tensordot(x1, x2, axes=2):
    a, b = _shape(x1), _shape(x2)
    if isinstance(axes, int):
        ax_a, ax_b = list(range(len(a) - axes, len(a))), list(range(axes))
    else:
        ax_a, ax_b = ([v] if isinstance(v, int) else list(v) for v in axes)
    ax_a = [_axis("tensordot", v, len(a)) for v in ax_a]
    ax_b = [_axis("tensordot", v, len(b)) for v in ax_b]
    for i, j in zip(ax_a, ax_b):
        if a[i] is not None and b[j] is not None and a[i] != b[j]:
            raise ValueError(f"tensordot: axes {axes} do not match for shapes {a} and {b}")
    out = tuple(d for i, d in enumerate(a) if i not in ax_a) + tuple(d for j, d in enumerate(b) if j not in ax_b)
    return _spec(out, _promote(x1, x2))


def _inner(x1, x2):
    a, b = _shape(x1), _shape(x2)
    if not a or not b:
        return _binary("inner")(x1, x2)
    return _tensordot(x1, x2, ([len(a) - 1], [len(b) - 1]))


def _vdot(x1, x2):
    return _spec((), _promote(x1, x2))


def _kron(x1, x2):
    a, b = _shape(x1), _shape(x2)
    nd = max(len(a), len(b))
    a, b = (1,) * (nd - len(a)) + a, (1,) * (nd - len(b)) + b
    return _spec(tuple(None if p is None or q is None else p * q for p, q in zip(a, b)), _promote(x1, x2))


def _cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = list(_shape(x1)), list(_shape(x2))
    na, nb = a.pop(_axis("cross", axisa, len(a))), b.pop(_axis("cross", axisb, len(b)))
    batch = list(broadcast_shapes("cross", tuple(a), tuple(b)))
    if na == 2 and nb == 2:
        return _spec(tuple(batch), _promote(x1, x2))
    batch.insert(_axis("cross", axisc, len(batch) + 1), 3)
    return _spec(tuple(batch), _promote(x1, x2))


def _diff(a, n=1, axis=-1):
    shape = list(_shape(a))
    ax = _axis("diff", axis, len(shape))
    shape[ax] = None if shape[ax] is None else max(0, shape[ax] - int(n))
    return _spec(tuple(shape), _dtype(a))


def _meshgrid(*x, indexing="xy"):
    sizes = [_prod(_shape(v)) for v in x]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return [_spec(tuple(sizes), _dtype(v)) for v in x]


def _unstack(x, num=None, axis=0):
    shape = _shape(x)
    a = _axis("unstack", axis, len(shape))
    n = shape[a] if shape[a] is not None else num
    if n is None:
        raise ValueError(f"unstack: the size of axis {axis} is unknown; pass num= (shape {shape})")
    return [_spec(shape[:a] + shape[a + 1:], _dtype(x)) for _ in range(int(n))]


def _count_nonzero(x, axis=None):
    return _spec(_reduced("count_nonzero", x, axis, False), "int32")


def _average(x, axis=None, weights=None):
    return _floating(_spec(_reduced("average", x, axis, False), _dtype(x)))


def _select(condlist, choicelist, default=0):
    shapes = [_shape(c) for c in condlist] + [_shape(c) for c in choicelist] + [_shape(default)]
    return _spec(broadcast_shapes("select", *shapes), _promote(*choicelist))


def _searchsorted(sorted_sequence, values, side="left"):
    return _spec(_shape(values), "int32")


def _digitize(x, bins):
    return _spec(_shape(x), "int32")


def _unravel_index(indices, shape):
    return tuple(_spec(_shape(indices), _dtype(indices)) for _ in shape)


def _slice(inputs, start_indices, shape):
    full = _shape(inputs)
    return _spec(tuple(full[i] if int(n) == -1 and s == 0 else (None if int(n) == -1 else int(n))
                       for i, (s, n) in enumerate(zip(start_indices, shape))), _dtype(inputs))


def _quantile(x, q, axis=None, method="linear", keepdims=False):
    red = _reduced("quantile", x, axis, keepdims)
    lead = tuple(_shape(q))
    return _floating(_spec(lead + red, _dtype(x)))


def _median(x, axis=None, keepdims=False):
    return _floating(_spec(_reduced("median", x, axis, keepdims), _dtype(x)))


def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - keras.ops argument name
    shape = _shape(x)
    if axis is None and ord is not None and len(shape) == 2:
        axis = (0, 1)
    return _floating(_spec(_reduced("norm", x, axis, keepdims), _dtype(x)))


def _crossentropy(target, output, from_logits=False, axis=-1):
    return _floating(_spec(_reduced("crossentropy", output, axis, False), _dtype(output)))


def _sparse_crossentropy(target, output, from_logits=False, axis=-1):
    return _floating(_spec(_shape(target), _dtype(output)))


def _multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    num_classes = kwargs.get("num_tokens", num_classes)
    shape = list(_shape(inputs))
    shape = shape[:-1] if len(shape) > 1 else []
    shape.insert(_axis("multi_hot", axis, len(shape) + 1), int(num_classes))
    return _spec(tuple(shape), str(dtype) if dtype else "float32")


def _depth_to_space(x, block_size, data_format="channels_last"):
    n, h, w, c = _shape(x)
    b = int(block_size)
    return _spec((n, None if h is None else h * b, None if w is None else w * b, None if c is None else c // (b * b)),
                 _dtype(x))


def _space_to_depth(x, block_size, data_format="channels_last"):
    n, h, w, c = _shape(x)
    b = int(block_size)
    return _spec((n, None if h is None else h // b, None if w is None else w // b, None if c is None else c * b * b),
                 _dtype(x))


def _psnr(x1, x2, max_val):
    return _spec((), _floating(x1).dtype)


def _get_item(x, key):
    return _getitem(x, key)


def _saturate_cast(x, dtype):
    return _spec(_shape(x), str(dtype))


_ACT_FLOAT = ("celu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "soft_shrink",
              "hard_shrink", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "log2", "log10", "exp2",
              "tan", "sinh", "cosh", "cbrt", "fabs", "deg2rad", "rad2deg", "sinc", "erfc", "i0")
RULES.update({name: _floating for name in _ACT_FLOAT})
RULES.update({name: _same for name in ("threshold", "trunc", "nan_to_num", "copy", "real", "imag", "conj",
                                       "conjugate", "fliplr", "flipud", "roll", "nancumsum", "nancumprod")})
RULES.update({name: _bool_of for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "isreal")})
RULES.update({name: _binary(name, floating=True) for name in ("logaddexp", "logaddexp2", "hypot", "heaviside",
                                                              "divide_no_nan", "nextafter")})


def _view(x, dtype=None):
    """ops.view: the last axis scales by the ratio of the item sizes."""
    if dtype is None:
        return _spec(_shape(x), x.dtype)
    from ..utils import standardize_dtype

    target = standardize_dtype(dtype)
    shape = list(_shape(x))
    size = {"bool": 1, "int32": 4, "int64": 8, "float32": 4, "float64": 8}
    if shape and shape[-1] is not None and target in size and x.dtype in size:
        shape[-1] = shape[-1] * size[x.dtype] // size[target]
    return _spec(tuple(shape), target)


RULES["view"] = _view
RULES.update({name: _binary(name) for name in ("fmax", "fmin")})
RULES.update({
    "glu": _glu, "sparsemax": _sparsemax, "isclose": _bool_binary("isclose"), "allclose": _allclose,
    "isin": lambda x1, x2, assume_unique=False, invert=False: _spec(_shape(x1), "bool"),
    "append": _append, "hstack": _stack_like("hstack", 1, lambda r: 0 if r == 1 else 1),
    "vstack": _stack_like("vstack", 2, lambda r: 0), "dstack": _stack_like("dstack", 3, lambda r: 2),
    "array_split": _array_split, "hsplit": _split_at("hsplit", lambda r: 0 if r == 1 else 1),
    "vsplit": _split_at("vsplit", lambda r: 0), "dsplit": _split_at("dsplit", lambda r: 2),
    "rot90": _rot90, "diag": _diag, "diagflat": _diagflat, "diagonal": _diagonal, "trace": _trace,
    "outer": _outer, "inner": _inner, "vdot": _vdot, "tensordot": _tensordot, "kron": _kron, "cross": _cross,
    "diff": _diff, "meshgrid": _meshgrid, "unstack": _unstack, "count_nonzero": _count_nonzero,
    "ptp": _reduction("ptp"), "average": _average, "empty_like": _like, "array": _convert_to_tensor,
    "trapezoid": lambda y, x=None, dx=1.0, axis=-1: _floating(_spec(_reduced("trapezoid", y, axis, False),
                                                                      _dtype(y))),
    "select": _select, "searchsorted": _searchsorted, "digitize": _digitize, "unravel_index": _unravel_index,
    "get_item": _get_item, "slice": _slice, "saturate_cast": _saturate_cast,
    "nansum": _reduction("nansum", "sum"), "nanprod": _reduction("nanprod", "sum"), "nanmax": _reduction("nanmax"),
    "nanmin": _reduction("nanmin"), "nanmean": _reduction("nanmean", "float"),
    "nanvar": _reduction("nanvar", "float"), "nanstd": _reduction("nanstd", "float"),
    "median": _median, "quantile": _quantile,
    "percentile": _quantile, "norm": _norm, "binary_crossentropy": lambda t, o, from_logits=False: _floating(
        _spec(broadcast_shapes("binary_crossentropy", _shape(t), _shape(o)), _dtype(o))),
    "categorical_crossentropy": _crossentropy, "sparse_categorical_crossentropy": _sparse_crossentropy,
    "multi_hot": _multi_hot, "depth_to_space": _depth_to_space, "space_to_depth": _space_to_depth, "psnr": _psnr,
})


def _vander(x, N=None, increasing=False):
    n = _shape(x)[0] if N is None else int(N)
    return _spec((_shape(x)[0], n), _dtype(x))


def _correlate(x1, x2, mode="valid"):
    n, k = _shape(x1)[0], _shape(x2)[0]
    if n is None or k is None:
        return _floating(_spec((None,), _dtype(x1)))
    size = {"valid": max(n, k) - min(n, k) + 1, "same": max(n, k), "full": n + k - 1}[mode]
    return _floating(_spec((size,), _dtype(x1)))


def _corrcoef(x):
    shape = _shape(x)
    v = 1 if len(shape) == 1 else shape[0]
    return _floating(_spec((v, v), _dtype(x)))


def _separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                    dilation_rate=1):
    y = _depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return _conv(y, pointwise_kernel)


RULES.update({
    "ldexp": _binary("ldexp", floating=True), "vander": _vander, "nanargmax": _reduction("nanargmax", "index"),
    "nanargmin": _reduction("nanargmin", "index"), "argpartition": lambda x, kth, axis=-1: _spec(_shape(x), "int32"),
    "correlate": _correlate, "corrcoef": _corrcoef, "separable_conv": _separable_conv,
    "batch_normalization": lambda x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3: _floating(x),
})


def _adaptive_pool(inputs, output_size, data_format=None):
    x = _shape(inputs)
    n = len(x) - 2
    if n not in (1, 2):
        raise ValueError(f"adaptive pool: expected a 3-D or 4-D input, received shape {x}")
    sizes = _tuple(output_size, n)
    return _spec((x[0],) + sizes + (x[-1],), _dtype(inputs))


RULES.update({"nanquantile": _quantile, "nanpercentile": _quantile, "nanmedian": _median,
              "adaptive_average_pool": _adaptive_pool, "adaptive_max_pool": _adaptive_pool})
