"""Shape and dtype rules of the ``keras.ops`` functions on symbolic tensors.

Each rule takes the op's arguments (KerasTensors, real tensors, arrays or Python values) and
returns KerasTensor(s) without a node. ``None`` dimensions stay ``None`` wherever the result depends
on them; nothing here runs a kernel. Errors name the op and the shapes, as the kernels would.
"""
from __future__ import annotations

import numpy as np

from .keras_tensor import KerasTensor

_RANK = {"bool": 0, "int32": 1, "int64": 2, "float32": 3, "float64": 4}


# ---- helpers -------------------------------------------------------------------------------------
def _shape(x):
    if isinstance(x, KerasTensor):
        return x.shape
    if hasattr(x, "shape") and not isinstance(x, type):
        return tuple(x.shape)
    if isinstance(x, (bool, int, float)):
        return ()
    return tuple(np.shape(x))


def _dtype(x):
    """The dtype of a tensor-like operand, or None for a bare Python scalar (weakly typed)."""
    if isinstance(x, KerasTensor):
        return x.dtype
    if isinstance(x, (bool, int, float)):
        return None
    d = getattr(x, "dtype", None)
    if d is not None:
        d = str(d)
        return {"float16": "float32", "int8": "int32", "int16": "int32", "uint8": "int32",
                "uint16": "int32", "uint32": "int64"}.get(d, d)
    a = np.asarray(x)
    return "float32" if a.dtype.kind == "f" else ("bool" if a.dtype.kind == "b" else "int64")


def _spec(shape, dtype):
    return KerasTensor(shape, dtype)


def _axis(op, axis, ndim):
    a = int(axis)
    if not -ndim <= a < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of bounds for a tensor of rank {ndim}")
    return a % ndim if ndim else 0


def broadcast_shapes(op, *shapes):
    """NumPy broadcasting where None is an unknown size (None against n > 1 gives n)."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{op}: cannot broadcast shapes {' and '.join(str(tuple(s)) for s in shapes)}")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _promote(*operands, floating=False):
    """Result dtype of arithmetic: the widest tensor dtype; a Python float makes integers float32."""
    dts = [_dtype(o) for o in operands]
    tensor_dts = [d for d in dts if d is not None]
    out = max(tensor_dts, key=lambda d: _RANK[d]) if tensor_dts else "float32"
    py_float = any(isinstance(o, float) for o in operands)
    if (floating or py_float) and _RANK[out] < _RANK["float32"]:
        out = "float32"
    if out == "bool" and any(isinstance(o, int) and not isinstance(o, bool) for o in operands):
        out = "int64"
    return out


# ---- element-wise ----------------------------------------------------------------------------
def _same(x, *args, **kwargs):
    return _spec(_shape(x), _dtype(x) or "float32")


def _floating(x, *args, **kwargs):
    d = _dtype(x) or "float32"
    return _spec(_shape(x), d if d.startswith("float") else "float32")


def _binary(name, floating=False, boolean=False):
    def rule(x1, x2):
        shape = broadcast_shapes(name, _shape(x1), _shape(x2))
        return _spec(shape, "bool" if boolean else _promote(x1, x2, floating=floating))

    return rule


def _logical_not(x):
    return _spec(_shape(x), "bool")


def _where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return _nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: pass both x1 and x2, or neither")
    return _spec(broadcast_shapes("where", _shape(condition), _shape(x1), _shape(x2)), _promote(x1, x2))


def _nonzero(x):
    # Data-dependent: the count of non-zero entries is unknown until run time.
    return tuple(_spec((None,), "int64") for _ in _shape(x))


def _cast(x, dtype):
    return _spec(_shape(x), str(dtype))


def _convert_to_tensor(x, dtype=None, sparse=None):
    return _spec(_shape(x), str(dtype) if dtype is not None else (_dtype(x) or "float32"))


def _like(x, *args, dtype=None, **kwargs):
    return _spec(_shape(x), str(dtype) if dtype is not None else _dtype(x))


# ---- reductions --------------------------------------------------------------------------------
def _reduced(op, x, axis, keepdims):
    shape = _shape(x)
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = {_axis(op, a, len(shape)) for a in (axis if isinstance(axis, (list, tuple)) else (axis,))}
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduction(name, kind="same"):
    def rule(x, axis=None, keepdims=False, **kwargs):
        shape = _reduced(name, x, axis, keepdims)
        d = _dtype(x) or "float32"
        if kind == "float" and not d.startswith("float"):
            d = "float32"
        elif kind == "bool":
            d = "bool"
        elif kind == "index":
            d = "int64"
        elif kind == "sum" and d == "bool":
            d = "int64"
        return _spec(shape, d)

    return rule


def _cumsum(x, axis=None, dtype=None):
    shape = _shape(x)
    if axis is None:
        shape = (_prod(shape),)
    d = _dtype(x)
    return _spec(shape, "int64" if d == "bool" else d)


def _prod(dims):
    out = 1
    for d in dims:
        if d is None:
            return None
        out *= d
    return out


# ---- shapes ------------------------------------------------------------------------------------
def _reshape(x, newshape):
    shape = _shape(x)
    new = [newshape] if isinstance(newshape, int) or newshape is None else list(newshape)
    new = [None if d is None else int(d) for d in new]
    if sum(1 for d in new if d == -1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension (-1), received {tuple(new)}")
    total, known_new = _prod(shape), _prod([d for d in new if d not in (-1, None)])
    if -1 in new:
        fill = None
        if total is not None and None not in new:
            if known_new == 0 or total % known_new:
                raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} into {tuple(newshape)}")
            fill = total // known_new
        elif total is None and new.count(None) == sum(1 for d in shape if d is None):
            # The unknown sizes are carried over one for one: the -1 takes the rest of the known ones.
            known_old = _prod([d for d in shape if d is not None])
            if not known_new or known_old % known_new:
                raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} into {tuple(newshape)}")
            fill = known_old // known_new
        new[new.index(-1)] = fill
    elif total is not None and None not in new and _prod(new) != total:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {shape} into {tuple(newshape)}")
    return _spec(tuple(new), _dtype(x))


def _ravel(x):
    return _spec((_prod(_shape(x)),), _dtype(x))


def _transpose(x, axes=None):
    shape = _shape(x)
    if axes is None:
        axes = tuple(reversed(range(len(shape))))
    axes = [_axis("transpose", a, len(shape)) for a in axes]
    if sorted(axes) != list(range(len(shape))):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {len(shape)} axes")
    return _spec(tuple(shape[a] for a in axes), _dtype(x))


def _swapaxes(x, axis1, axis2):
    shape = list(_shape(x))
    a, b = _axis("swapaxes", axis1, len(shape)), _axis("swapaxes", axis2, len(shape))
    shape[a], shape[b] = shape[b], shape[a]
    return _spec(tuple(shape), _dtype(x))


def _moveaxis(x, source, destination):
    shape = _shape(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_axis("moveaxis", a, len(shape)) for a in src]
    dst = [_axis("moveaxis", a, len(shape)) for a in dst]
    order = [i for i in range(len(shape)) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _spec(tuple(shape[i] for i in order), _dtype(x))


def _expand_dims(x, axis):
    shape = list(_shape(x))
    axes = [axis] if isinstance(axis, int) else list(axis)
    out_rank = len(shape) + len(axes)
    for a in sorted(_axis("expand_dims", a, out_rank) for a in axes):
        shape.insert(a, 1)
    return _spec(tuple(shape), _dtype(x))


def _squeeze(x, axis=None):
    shape = _shape(x)
    if axis is None:
        return _spec(tuple(d for d in shape if d != 1), _dtype(x))
    axes = {_axis("squeeze", a, len(shape)) for a in ([axis] if isinstance(axis, int) else axis)}
    for a in axes:
        if shape[a] not in (1, None):
            raise ValueError(f"squeeze: cannot squeeze axis {a} of size {shape[a]} (shape {shape})")
    return _spec(tuple(d for i, d in enumerate(shape) if i not in axes), _dtype(x))


def _broadcast_to(x, shape):
    target = (shape,) if isinstance(shape, int) else tuple(shape)
    got = broadcast_shapes("broadcast_to", _shape(x), target)
    return _spec(tuple(t if t is not None else g for t, g in zip(target, got)), _dtype(x))


def _concatenate(xs, axis=0):
    xs = list(xs)
    if not xs:
        raise ValueError("concatenate: expected at least one tensor")
    shapes = [_shape(x) for x in xs]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise ValueError(f"concatenate: all inputs must have the same rank, received shapes {shapes}")
    a = _axis("concatenate", axis, rank)
    out = []
    for i in range(rank):
        dims = [s[i] for s in shapes]
        if i == a:
            out.append(None if None in dims else sum(dims))
        else:
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"concatenate: a Concatenate layer requires inputs with matching shapes except "
                                 f"for the concatenation axis {axis}; received shapes {shapes}")
            out.append(known.pop() if known else None)
    return _spec(tuple(out), _promote(*xs))


def _stack(xs, axis=0):
    xs = list(xs)
    shapes = [_shape(x) for x in xs]
    base = broadcast_shapes("stack", *shapes)
    if any(len(s) != len(base) for s in shapes):
        raise ValueError(f"stack: all inputs must have the same shape, received {shapes}")
    out = list(base)
    out.insert(_axis("stack", axis, len(base) + 1), len(xs))
    return _spec(tuple(out), _promote(*xs))


def _split(x, indices_or_sections, axis=0):
    shape = _shape(x)
    a = _axis("split", axis, len(shape))
    n = shape[a]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0 or (n is not None and n % k):
            raise ValueError(f"split: an axis of size {n} cannot be split into {k} equal sections")
        sizes = [None if n is None else n // k] * k
    else:
        cuts = [int(c) for c in indices_or_sections]
        bounds = [0] + cuts + [n]
        sizes = [None if (hi is None or lo is None) else max(0, hi - lo) for lo, hi in zip(bounds[:-1], bounds[1:])]
    return [_spec(shape[:a] + (s,) + shape[a + 1:], _dtype(x)) for s in sizes]


def _tile(x, repeats):
    shape = _shape(x)
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    rank = max(len(shape), len(reps))
    shape = (1,) * (rank - len(shape)) + tuple(shape)
    reps = (1,) * (rank - len(reps)) + reps
    return _spec(tuple(None if d is None else d * int(r) for d, r in zip(shape, reps)), _dtype(x))


def _repeat(x, repeats, axis=None):
    shape = _shape(x)
    if axis is None:
        shape, a = (_prod(shape),), 0
    else:
        a = _axis("repeat", axis, len(shape))
    n = shape[a]
    if isinstance(repeats, int):
        m = None if n is None else n * repeats
    else:
        m = sum(int(r) for r in repeats)
    return _spec(shape[:a] + (m,) + shape[a + 1:], _dtype(x))


def _pad(x, pad_width, mode="constant", constant_values=None):
    shape = _shape(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width) else
                         np.full((1, 2), int(pad_width)), (len(shape), 2))
    return _spec(tuple(None if d is None else d + int(lo) + int(hi) for d, (lo, hi) in zip(shape, pw)), _dtype(x))


def _take(x, indices, axis=None):
    shape, ishape = _shape(x), _shape(indices)
    if axis is None:
        return _spec(ishape, _dtype(x))
    a = _axis("take", axis, len(shape))
    return _spec(shape[:a] + tuple(ishape) + shape[a + 1:], _dtype(x))


def _take_along_axis(x, indices, axis=None):
    if axis is None:
        return _spec(_shape(indices), _dtype(x))
    shape, ishape = _shape(x), _shape(indices)
    a = _axis("take_along_axis", axis, len(shape))
    rest = broadcast_shapes("take_along_axis", shape[:a] + (1,) + shape[a + 1:], ishape[:a] + (1,) + ishape[a + 1:])
    return _spec(rest[:a] + (ishape[a],) + rest[a + 1:], _dtype(x))


def _one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    shape = list(_shape(x))
    a = _axis("one_hot", axis, len(shape) + 1)
    shape.insert(a, int(num_classes))
    return _spec(tuple(shape), str(dtype) if dtype else "float32")


def _matmul(x1, x2):
    a, b = _shape(x1), _shape(x2)
    if not a or not b:
        raise ValueError(f"matmul: operands must have rank >= 1, received shapes {a} and {b}")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    k1, k2 = a2[-1], b2[-2]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"matmul: inner dimensions do not match, received shapes {a} and {b}")
    batch = broadcast_shapes("matmul", a2[:-2], b2[:-2])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return _spec(out, _promote(x1, x2))


def _dot(x1, x2):
    if not _shape(x1) or not _shape(x2):
        return _binary("dot")(x1, x2)
    return _matmul(x1, x2)


# ---- convolution and pooling -------------------------------------------------------------------
def _tuple(v, n):
    return (int(v),) * n if isinstance(v, int) else tuple(int(u) for u in v)


def _conv_len(n, k, stride, padding, dilation):
    if n is None:
        return None
    if padding in ("same", "causal"):
        return -(-n // stride)
    eff = dilation * (k - 1) + 1
    if n < eff:
        raise ValueError(f"conv: the input size {n} is smaller than the dilated kernel size {eff} with "
                         "padding='valid'")
    return (n - eff) // stride + 1


def _conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, *, bias=None):
    x, k = _shape(inputs), _shape(kernel)
    n = len(x) - 2
    if n < 1 or len(k) != n + 2:
        raise ValueError(f"conv: expected inputs of rank 3 or 4 and a kernel of rank inputs.ndim, received shapes "
                         f"{x} and {k}")
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    if x[-1] is not None and x[-1] % k[-2]:
        raise ValueError(f"conv: input channels {x[-1]} are not a multiple of the kernel's {k[-2]} (kernel {k})")
    pad = padding.lower()
    spatial = tuple(_conv_len(x[1 + i], k[i], s[i], pad, d[i]) for i in range(n))
    return _spec((x[0],) + spatial + (k[-1],), _dtype(inputs))


def _depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, *, bias=None):
    x, k = _shape(inputs), _shape(kernel)
    n = len(x) - 2
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    spatial = tuple(_conv_len(x[1 + i], k[i], s[i], padding.lower(), d[i]) for i in range(n))
    return _spec((x[0],) + spatial + (k[-2] * k[-1],), _dtype(inputs))


def deconv_length(n, k, padding, output_padding, stride, dilation):
    """Keras' transposed-convolution output length (``None`` stays ``None``)."""
    if n is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return n * stride + max(k - stride, 0)
        return n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


def _conv_transpose(inputs, kernel, strides, padding="valid", output_padding=None, data_format=None,
                    dilation_rate=1):
    x, k = _shape(inputs), _shape(kernel)
    n = len(x) - 2
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    op = None if output_padding is None else _tuple(output_padding, n)
    spatial = tuple(deconv_length(x[1 + i], k[i], padding.lower(), None if op is None else op[i], s[i], d[i])
                    for i in range(n))
    return _spec((x[0],) + spatial + (k[-2],), _dtype(inputs))


def _pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    x = _shape(inputs)
    n = len(x) - 2
    size = _tuple(pool_size, n)
    s = size if strides is None else _tuple(strides, n)
    spatial = tuple(_conv_len(x[1 + i], size[i], s[i], padding.lower(), 1) for i in range(n))
    return _spec((x[0],) + spatial + (x[-1],), _dtype(inputs))


def _upsample(inputs, size=(2, 2)):
    x = _shape(inputs)
    f = _tuple(size, 2)
    return _spec((x[0], None if x[1] is None else x[1] * f[0], None if x[2] is None else x[2] * f[1], x[3]),
                 _dtype(inputs))


# ---- indexing ----------------------------------------------------------------------------------
def _getitem(x, key):
    shape = list(_shape(x))
    keys = list(key) if isinstance(key, tuple) else [key]
    if any(isinstance(k, (list, np.ndarray)) or hasattr(k, "shape") for k in keys):
        raise NotImplementedError("Indexing a symbolic tensor with arrays or tensors is not supported; use "
                                  "keras.ops.take or take_along_axis")
    n_real = sum(1 for k in keys if k is not None and k is not Ellipsis)
    if sum(1 for k in keys if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > len(shape):
        raise IndexError(f"too many indices for a tensor of rank {len(shape)} (shape {tuple(shape)})")
    if Ellipsis in keys:
        e = keys.index(Ellipsis)
        keys = keys[:e] + [slice(None)] * (len(shape) - n_real) + keys[e + 1:]
    else:
        keys = keys + [slice(None)] * (len(shape) - n_real)
    out, dim = [], 0
    for k in keys:
        if k is None:
            out.append(1)
            continue
        n = shape[dim]
        dim += 1
        if isinstance(k, slice):
            if n is not None:
                out.append(len(range(*k.indices(n))))
            elif k.start is None and k.stop is None and (k.step in (None, 1)):
                out.append(None)
            else:
                out.append(None)
        elif hasattr(k, "__index__"):
            i = int(k)
            if n is not None and not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {dim - 1} with size {n}")
        else:
            raise TypeError(f"invalid index {k!r} for a symbolic tensor")
    return _spec(tuple(out), _dtype(x))


def _round(x, decimals=0):
    return _same(x)


def _clip(x, x_min, x_max):
    return _same(x)


_UNARY_SAME = ("negative", "abs", "absolute", "square", "sign", "relu", "relu6", "floor", "ceil", "flip",
               "stop_gradient", "leaky_relu", "elu", "selu")
_UNARY_FLOAT = ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "arcsin", "arccos",
                "arctan", "arcsinh", "arccosh", "arctanh", "tanh", "sigmoid",
                "gelu", "silu", "swish", "softplus", "softsign", "erf", "erfinv", "softmax", "log_softmax")
_ARITH = ("add", "subtract", "multiply", "power", "maximum", "minimum", "floor_divide", "mod", "fmod")
_COMPARE = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
            "logical_xor")

RULES = {name: _same for name in _UNARY_SAME}
RULES.update({name: _floating for name in _UNARY_FLOAT})
RULES.update({name: _binary(name) for name in _ARITH})
RULES.update({name: _binary(name, boolean=True) for name in _COMPARE})
RULES.update({
    "divide": _binary("divide", floating=True), "true_divide": _binary("true_divide", floating=True),
    "arctan2": _binary("arctan2", floating=True),
    "round": _round, "clip": _clip, "logical_not": _logical_not, "where": _where, "nonzero": _nonzero,
    "cast": _cast, "convert_to_tensor": _convert_to_tensor,
    "zeros_like": _like, "ones_like": _like, "full_like": _like,
    "sum": _reduction("sum", "sum"), "prod": _reduction("prod", "sum"), "max": _reduction("max"),
    "min": _reduction("min"), "amax": _reduction("amax"), "amin": _reduction("amin"),
    "mean": _reduction("mean", "float"), "var": _reduction("var", "float"), "std": _reduction("std", "float"),
    "logsumexp": _reduction("logsumexp", "float"), "any": _reduction("any", "bool"),
    "all": _reduction("all", "bool"), "argmax": _reduction("argmax", "index"),
    "argmin": _reduction("argmin", "index"), "cumsum": _cumsum, "cumprod": _cumsum,
    "reshape": _reshape, "ravel": _ravel, "transpose": _transpose, "swapaxes": _swapaxes, "moveaxis": _moveaxis,
    "expand_dims": _expand_dims, "squeeze": _squeeze, "broadcast_to": _broadcast_to,
    "concatenate": _concatenate, "stack": _stack, "split": _split, "tile": _tile, "repeat": _repeat, "pad": _pad,
    "take": _take, "take_along_axis": _take_along_axis, "one_hot": _one_hot, "matmul": _matmul, "dot": _dot,
    "conv": _conv, "depthwise_conv": _depthwise_conv, "conv_transpose": _conv_transpose,
    "max_pool": _pool, "average_pool": _pool, "upsample_nearest": _upsample, "upsample_bilinear": _upsample,
    "__getitem__": _getitem,
})

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse_einsum(subscripts, ranks):
    """Splits ``subscripts`` into one letter string per operand and the output's, with ``...`` replaced
    by letters of its own; shared by :func:`einsum` and its shape rule."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, received {subscripts!r}")
    eq = subscripts.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ranks):
        raise ValueError(f"einsum: {subscripts!r} names {len(ins)} operands, received {len(ranks)}")
    used = set(eq) - set(".,->")
    bad = [c for c in used if c not in _LETTERS]
    if bad:
        raise ValueError(f"einsum: subscripts may hold letters and '...' only; received {subscripts!r}")
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for s, r in zip(ins, ranks):
        if "..." in s:
            n_ell = max(n_ell, r - (len(s) - 3))
    ell = "".join(spare[:n_ell])
    terms = []
    for s, r in zip(ins, ranks):
        if "..." in s:
            k = r - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if "." in s or len(s) != r:
            raise ValueError(f"einsum: operand subscripts {s!r} do not match an operand of rank {r} in "
                             f"{subscripts!r}")
        if len(set(s)) != len(s):
            raise ValueError(f"einsum: repeated subscripts within one operand (diagonals/traces) are not "
                             f"supported; received {subscripts!r}")
        terms.append(s)
    if arrow:
        out = out.replace("...", ell)
        if "." in out or len(set(out)) != len(out):
            raise ValueError(f"einsum: invalid output subscripts in {subscripts!r}")
        missing = [c for c in out if not any(c in s for s in terms)]
        if missing:
            raise ValueError(f"einsum: output subscript {missing[0]!r} appears in no operand of {subscripts!r}")
    else:
        counts = {}
        for s in terms:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return terms, out


# ---- transformer ops ---------------------------------------------------------------------------
def _dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                           flash_attention=None, attn_logits_soft_cap=None):
    q, k, v = _shape(query), _shape(key), _shape(value)
    if len(q) != 4 or len(k) != 4 or len(v) != 4:
        raise ValueError(f"dot_product_attention: query, key and value must be 4-D, received shapes {q}, {k}, {v}")
    for a, b, what in ((q[0], k[0], "batch sizes"), (q[3], k[3], "head_dim"), (k[3], v[3], "head_dim")):
        if a is not None and b is not None and a != b:
            raise ValueError(f"dot_product_attention: {what} differ, received shapes {q}, {k}, {v}")
    if q[2] is not None and k[2] is not None and (k[2] == 0 or q[2] % k[2]):
        raise ValueError(f"dot_product_attention: the number of key/value heads ({k[2]}) must divide the number "
                         f"of query heads ({q[2]})")
    return _spec(q, _dtype(query))


def _einsum(subscripts, *operands):
    terms, out = parse_einsum(subscripts, [len(_shape(o)) for o in operands])
    sizes = {}
    for o, s in zip(operands, terms):
        for c, d in zip(s, _shape(o)):
            sizes.setdefault(c, []).append(d)
    dims = {}
    for c, ds in sizes.items():
        known = {d for d in ds if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"einsum: subscript {c!r} has sizes {sorted(known)} in {subscripts!r}")
        dims[c] = known.pop() if known else (None if None in ds else 1)
    return _spec(tuple(dims.get(c) for c in out), _promote(*operands))


def _tri(x, k=0):
    if len(_shape(x)) < 2:
        raise ValueError(f"tril/triu: expected a tensor of rank >= 2, received shape {_shape(x)}")
    return _same(x)


def _argsort(x, axis=-1):
    return _spec(_shape(x), "int32")


def _sort(x, axis=-1):
    return _same(x)


def _top_k(x, k, sorted=True):  # noqa: A002 - keras.ops argument name
    shape = _shape(x)
    if not shape:
        raise ValueError("top_k: expected a tensor of rank >= 1, received a scalar")
    out = shape[:-1] + (int(k),)
    return _spec(out, _dtype(x)), _spec(out, "int32")


def _moments(x, axes, keepdims=False, synchronized=False):
    shape = _reduced("moments", x, axes, keepdims)
    return _spec(shape, _floating(x).dtype), _spec(shape, _floating(x).dtype)


RULES.update({
    "dot_product_attention": _dot_product_attention, "einsum": _einsum, "tril": _tri, "triu": _tri,
    "argsort": _argsort, "sort": _sort, "top_k": _top_k, "moments": _moments,
    "layer_normalization": _floating, "rms_normalization": _floating, "normalize": _floating,
})


# The NumPy-compatible set and the extra activations add their rules in shapes_numpy.py.
from . import shapes_numpy  # noqa: E402, F401

__all__ = ["RULES", "broadcast_shapes", "deconv_length", "parse_einsum"]
