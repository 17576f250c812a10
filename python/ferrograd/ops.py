"""The functional op layer (mirrors ``keras.ops``): every layer calls these.

Each function is one call into the Rust core, which runs the kernel (releasing the GIL for
large work) and records the autograd tape. Arguments may be tensors, NumPy arrays, nested lists
or Python scalars; bare Python scalars take the dtype of the tensor operand (``x * 0.5`` keeps
float32).
"""
from __future__ import annotations

import builtins as _builtins
import math as _math

import numpy as _np

from . import _core, _ops_conv3d
from ._core import Tensor

__all__ = [
    "convert_to_tensor", "convert_to_numpy", "cast", "shape", "ndim", "size", "dtype",
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye", "identity", "linspace",
    "negative", "abs", "absolute", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal",
    "sin", "cos", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "tanh",
    "sigmoid", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish",
    "softplus", "softsign", "erf", "erfinv", "sign", "floor", "ceil", "round", "clip",
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "floor_divide", "mod",
    "fmod",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "where",
    "sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "argmax", "argmin", "logsumexp",
    "any", "all", "softmax", "log_softmax", "cumsum", "cumprod",
    "reshape", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "broadcast_to", "concatenate",
    "stack", "split", "tile", "repeat", "pad", "take", "take_along_axis", "one_hot", "flip", "ravel",
    "matmul", "dot", "stop_gradient", "nonzero",
    "conv", "conv_transpose", "depthwise_conv", "max_pool", "average_pool", "upsample_nearest",
    "upsample_bilinear",
]


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


# ---- conversion and introspection ------------------------------------------------------------

def convert_to_tensor(x, dtype=None, sparse=None):
    """Converts ``x`` (tensor, array, list, scalar) to a tensor, sharing memory when it can."""
    if sparse:
        raise ValueError("sparse tensors are not supported; received sparse=True")
    t = _core.as_tensor(x, None)
    return t if dtype is None else _core.cast(t, dtype)


def convert_to_numpy(x):
    """A NumPy array with ``x``'s values (shares memory with a tensor)."""
    return x.numpy() if isinstance(x, Tensor) else _np.asarray(x)


def cast(x, dtype):
    """Converts ``x`` to ``dtype`` (differentiable between float dtypes)."""
    return _core.cast(x, dtype)


def shape(x):
    return tuple(_t(x).shape)


def ndim(x):
    return _t(x).ndim


def size(x):
    return _t(x).size


def dtype(x):
    return _t(x).dtype


# ---- creation --------------------------------------------------------------------------------

def _shape_arg(shape):
    return (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)


def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default)."""
    return _core.full(_shape_arg(shape), 0.0, dtype)


def ones(shape, dtype=None):
    """A tensor of ones (float32 by default)."""
    return _core.full(_shape_arg(shape), 1.0, dtype)


def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value``."""
    if dtype is None and isinstance(fill_value, bool):
        dtype = "bool"
    elif dtype is None and isinstance(fill_value, int):
        dtype = "int32"
    return _core.full(_shape_arg(shape), float(fill_value), dtype)


def zeros_like(x, dtype=None):
    x = _t(x)
    return _core.full(x.shape, 0.0, dtype or x.dtype)


def ones_like(x, dtype=None):
    x = _t(x)
    return _core.full(x.shape, 1.0, dtype or x.dtype)


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    return _core.full(x.shape, float(fill_value), dtype or x.dtype)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)`` (int32 for integer arguments, else float32)."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = _builtins.all(isinstance(v, (int, _np.integer)) and not isinstance(v, bool) for v in (start, stop, step))
        dtype = "int32" if ints else "float32"
    return _core.arange(float(start), float(stop), float(step), dtype)


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return _core.eye(int(N), int(N if M is None else M), int(k), dtype)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``."""
    if axis != 0:
        raise ValueError(f"linspace supports axis=0 only, received: axis={axis}")
    if num < 0:
        raise ValueError(f"num must be non-negative, received: num={num}")
    out = _core.linspace(float(start), float(stop), int(num), bool(endpoint), dtype)
    if retstep:
        div = (num - 1) if endpoint else num
        return out, ((stop - start) / div if div > 0 else _math.nan)
    return out


# ---- elementwise -----------------------------------------------------------------------------

def _u(name):
    def f(x):
        return _core.unary(x, name)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` (differentiable)."
    return f


negative = _u("negative")
abs = _u("abs")  # noqa: A001 - keras.ops name
absolute = abs
exp = _u("exp")
log = _u("log")
log1p = _u("log1p")
expm1 = _u("expm1")
sqrt = _u("sqrt")
rsqrt = _u("rsqrt")
square = _u("square")
reciprocal = _u("reciprocal")
sin = _u("sin")
cos = _u("cos")
arcsin = _u("arcsin")
arccos = _u("arccos")
arctan = _u("arctan")
arcsinh = _u("arcsinh")
arccosh = _u("arccosh")
arctanh = _u("arctanh")
tanh = _u("tanh")
sigmoid = _u("sigmoid")
relu = _u("relu")
relu6 = _u("relu6")
selu = _u("selu")
silu = _u("silu")
swish = silu
softplus = _u("softplus")
softsign = _u("softsign")
erf = _u("erf")
erfinv = _u("erfinv")
sign = _u("sign")
floor = _u("floor")
ceil = _u("ceil")


def round(x, decimals=0):  # noqa: A001 - keras.ops name
    """Rounds half to even (NumPy's rule), to ``decimals`` places."""
    if decimals == 0:
        return _core.unary(x, "round")
    scale = 10.0 ** decimals
    return _core.binary(_core.unary(_core.binary(x, scale, "multiply"), "round"), scale, "divide")


def leaky_relu(x, negative_slope=0.2):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return _core.unary(x, "leaky_relu", float(negative_slope))


def elu(x, alpha=1.0):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return _core.unary(x, "elu", float(alpha))


def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation when ``approximate`` (Keras' ops default)."""
    return _core.unary(x, "gelu_tanh" if approximate else "gelu")


def clip(x, x_min, x_max):
    """Clips values into ``[x_min, x_max]``."""
    return _core.unary(x, "clip", float(x_min), float(x_max))


def _b(name):
    def f(x1, x2):
        return _core.binary(x1, x2, name)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` with NumPy broadcasting."
    return f


add = _b("add")
subtract = _b("subtract")
multiply = _b("multiply")
divide = _b("divide")
true_divide = divide
power = _b("power")
arctan2 = _b("arctan2")  # arctan2(x1, x2): the angle of the point (x2, x1)
fmod = _b("fmod")  # C's fmod: the remainder with the sign of x1 (integers by zero give 0)
maximum = _b("maximum")
minimum = _b("minimum")
floor_divide = _b("floor_divide")
mod = _b("mod")
equal = _b("equal")
not_equal = _b("not_equal")
less = _b("less")
less_equal = _b("less_equal")
greater = _b("greater")
greater_equal = _b("greater_equal")
logical_and = _b("logical_and")
logical_or = _b("logical_or")
logical_xor = _b("logical_xor")


def logical_not(x):
    return _core.logical_not(x)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2`` (broadcasting all three)."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where needs both x1 and x2, or neither")
    return _core.where(condition, x1, x2)


def nonzero(x):
    """Indices of the nonzero elements, one int64 tensor per axis."""
    x = _t(x)
    flat = _core.nonzero_flat(x)
    if x.ndim <= 1:
        return (flat,)
    coords = _np.unravel_index(flat.numpy(), x.shape)
    return tuple(_core.from_numpy(_np.ascontiguousarray(c, dtype=_np.int64)) for c in coords)


# ---- reductions ------------------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001 - keras.ops name
    """Sum over ``axis`` (an int, a tuple, or None for all)."""
    return _core.reduce(x, "sum", axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; integer inputs give float32."""
    return _core.reduce(x, "mean", axis, keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - keras.ops name
    """Maximum over ``axis`` (NaN propagates)."""
    out = _core.reduce(x, "max", axis, keepdims)
    return out if initial is None else maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - keras.ops name
    """Minimum over ``axis`` (NaN propagates)."""
    out = _core.reduce(x, "min", axis, keepdims)
    return out if initial is None else minimum(out, initial)


amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis``."""
    if dtype is not None:
        x = cast(x, dtype)
    return _core.reduce(x, "prod", axis, keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance over ``axis``."""
    return _core.reduce(x, "var", axis, keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis``."""
    return _core.reduce(x, "std", axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return _core.reduce(x, "logsumexp", axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - keras.ops name
    return _core.reduce(x, "any", axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001 - keras.ops name
    return _core.reduce(x, "all", axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index of the first maximum along ``axis`` (flattened when None), int64."""
    return _core.argextreme(x, True, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index of the first minimum along ``axis`` (flattened when None), int64."""
    return _core.argextreme(x, False, axis, keepdims)


def softmax(x, axis=-1):
    """Softmax along ``axis`` (one fused, numerically stable kernel)."""
    if isinstance(axis, (tuple, list)):
        if len(axis) != 1:
            raise ValueError(f"softmax over several axes is not supported, received: axis={axis}")
        axis = axis[0]
    return _core.softmax(x, axis, False)


def log_softmax(x, axis=-1):
    """Log-softmax along ``axis`` (fused, stable)."""
    return _core.softmax(x, axis, True)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened tensor when None)."""
    if dtype is not None:
        x = cast(x, dtype)
    return _core.cumsum(x, axis)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened tensor when None); its gradient is
    exact where ``x`` holds zeros."""
    if dtype is not None:
        x = cast(x, dtype)
    return _core.cumprod(x, axis)


# ---- shapes ----------------------------------------------------------------------------------

def reshape(x, newshape):
    """Reshape (a view when the layout allows); one dimension may be -1."""
    return _core.reshape(x, newshape)


def ravel(x):
    return _core.reshape(x, (-1,))


def transpose(x, axes=None):
    """Permutes axes (reverses them when None); a view."""
    return _core.transpose(x, axes)


def swapaxes(x, axis1, axis2):
    return _core.swapaxes(x, axis1, axis2)


def moveaxis(x, source, destination):
    if isinstance(source, (tuple, list)) or isinstance(destination, (tuple, list)):
        src = list(source) if isinstance(source, (tuple, list)) else [source]
        dst = list(destination) if isinstance(destination, (tuple, list)) else [destination]
        x = _t(x)
        nd = x.ndim
        src = [s % nd for s in src]
        dst = [d % nd for d in dst]
        order = [a for a in range(nd) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return _core.transpose(x, order)
    return _core.moveaxis(x, source, destination)


def expand_dims(x, axis):
    """Inserts size-1 axes at ``axis`` (an int or a tuple)."""
    if isinstance(axis, (tuple, list)):
        x = _t(x)
        out_nd = x.ndim + len(axis)
        for a in sorted(a % out_nd for a in axis):
            x = _core.expand_dims(x, a)
        return x
    return _core.expand_dims(x, axis)


def squeeze(x, axis=None):
    return _core.squeeze(x, axis)


def broadcast_to(x, shape):
    return _core.broadcast_to(x, _shape_arg(shape))


def concatenate(xs, axis=0):
    """Joins tensors along an existing axis."""
    return _core.concatenate(list(xs), axis)


def stack(x, axis=0):
    """Joins tensors along a new axis."""
    return _core.stack(list(x), axis)


def split(x, indices_or_sections, axis=0):
    """Splits into equal sections or at indices; returns a list of views."""
    return _core.split(x, indices_or_sections, axis)


def tile(x, repeats):
    return _core.tile(x, _shape_arg(repeats))


def repeat(x, repeats, axis=None):
    """Repeats elements ``repeats`` times (one count or one per element) along ``axis``."""
    if isinstance(repeats, Tensor):
        repeats = repeats.numpy().tolist()
    return _core.repeat(x, (repeats,) if isinstance(repeats, int) else tuple(repeats), axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads with ``pad_width`` = ((before, after), ...) or one pair / int for every axis."""
    x = _t(x)
    pw = _np.asarray(pad_width, dtype=_np.int64)
    if pw.ndim == 0:
        pw = _np.tile(pw, (x.ndim, 2))
    elif pw.ndim == 1:
        pw = _np.tile(pw, (x.ndim, 1)) if pw.shape[0] == 2 else pw.reshape(-1, 1).repeat(2, 1)
    if pw.shape != (x.ndim, 2) or (pw < 0).any():
        raise ValueError(f"pad_width must be non-negative (before, after) pairs, one per axis; received {pad_width}")
    if constant_values is not None and mode != "constant":
        raise ValueError("constant_values is only used with mode='constant'")
    return _core.pad(x, [tuple(_builtins.map(int, p)) for p in pw], mode, float(constant_values or 0.0))


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened tensor when None)."""
    return _core.take(x, indices, axis)


def take_along_axis(x, indices, axis=None):
    """NumPy's take_along_axis; flattens both when ``axis`` is None."""
    if axis is None:
        return _core.take_along_axis(_core.reshape(x, (-1,)), _core.reshape(indices, (-1,)), 0)
    return _core.take_along_axis(x, indices, axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encoding along a new axis; out-of-range indices give all zeros."""
    if sparse:
        raise ValueError("sparse one_hot is not supported; received sparse=True")
    return _core.one_hot(x, int(num_classes), axis, dtype)


def flip(x, axis=None):
    return _core.flip(x, axis)


# ---- linear algebra --------------------------------------------------------------------------

def matmul(x1, x2):
    """Matrix product with NumPy's matmul semantics (batch axes broadcast)."""
    return _core.binary(x1, x2, "matmul")


def dot(x1, x2):
    """NumPy's dot for 1-D and 2-D operands (matmul), else a scalar product."""
    a, b = _t(x1), _t(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return matmul(a, b)


def stop_gradient(x):
    """The same values, cut off from the tape."""
    return _t(x).detach()


# ---- convolution, pooling, up-sampling (channels_last) ---------------------------------------

def _spatial_rank(op, x, volumes=False):
    """The number of spatial axes of a channels_last input: 1 for (N, L, C), 2 for (N, H, W, C),
    3 for (N, D, H, W, C) where the op has a 3-D form (``volumes``)."""
    if x.ndim not in ((3, 4, 5) if volumes else (3, 4)):
        kinds = ("3-D (N, L, C), 4-D (N, H, W, C) or 5-D (N, D, H, W, C)" if volumes
                 else "3-D (N, L, C) or 4-D (N, H, W, C)")
        raise ValueError(f"{op}: expected a {kinds} input, got shape {tuple(x.shape)}")
    return x.ndim - 2


def _check_ranks(op, x, k):
    """A 3-D (N, L, C), 4-D (N, H, W, C) or 5-D (N, D, H, W, C) input with a kernel of its rank."""
    layout = {3: "NLC", 4: "NHWC", 5: "NDHWC"}
    if k.ndim in layout and x.ndim != k.ndim:
        raise ValueError(
            f"{op}: expected a {k.ndim}-D {layout[k.ndim]} input for a {k.ndim - 2}-D kernel, "
            f"got shape {tuple(x.shape)}"
        )
    _spatial_rank(op, x, volumes=True)
    if k.ndim != x.ndim:
        raise ValueError(
            f"{op}: expected a {x.ndim}-D kernel for a {x.ndim}-D {layout[x.ndim]} input, "
            f"got kernel shape {tuple(k.shape)}"
        )


def _check_data_format(op, data_format):
    if data_format in (None, "channels_last"):
        return
    if data_format == "channels_first":
        raise ValueError(
            f"{op}: data_format='channels_first' is not supported; ferrograd runs channels_last "
            "(NHWC / NLC) only. Transpose the input or use data_format='channels_last'."
        )
    raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', received {data_format!r}")


def _int_tuple(op, name, value, n, allow_zero=False):
    """``value`` (an int or a sequence of n ints) as a tuple of n ints, each positive (or >= 0)."""
    items = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, received {name}={value!r}") from None
    low = 0 if allow_zero else 1
    if len(items) != n or not _builtins.all(
        isinstance(v, (int, _np.integer)) and not isinstance(v, bool) and v >= low for v in items
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{op}: {name} must be a {kind} int or a tuple of {n} {kind} ints, received {name}={value!r}"
        )
    return tuple(int(v) for v in items)


def _padding(op, padding, allowed=("valid", "same")):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{op}: padding must be one of {choices}, received padding={padding!r}")
    return p


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, *, bias=None):
    """N-D convolution (1-D, 2-D or 3-D), channels_last, with the kernel laid out as Keras stores it.

    ``inputs`` is (N, L, C_in), (N, H, W, C_in) or (N, D, H, W, C_in); ``kernel`` is
    (*kernel_size, C_in / groups, C_out), where ``groups = C_in / kernel.shape[-2]`` (grouped
    convs are inferred as keras.ops.conv does). ``padding`` is "valid", "same" (TF: output =
    ceil(in / stride), the extra pixel on the bottom/right) or, for 1-D, "causal". ``bias``
    (C_out,) is an extension: it is added inside the same kernel call (3-D: after the depth taps,
    which run as 2-D convolutions, see ``_ops_conv3d``).

    Example: ``conv(x, w, strides=2, padding="same")`` with x (8, 28, 28, 1) and w (3, 3, 1, 32)
    gives (8, 14, 14, 32).
    """
    x, k = _t(inputs), _t(kernel)
    _check_data_format("conv", data_format)
    _check_ranks("conv", x, k)
    n = x.ndim - 2
    pad = _padding("conv", padding, ("valid", "same", "causal") if n == 1 else ("valid", "same"))
    s = _int_tuple("conv", "strides", strides, n)
    d = _int_tuple("conv", "dilation_rate", dilation_rate, n)
    if n == 3:
        return _ops_conv3d.conv3d(x, k, None if bias is None else _t(bias), s, pad, d)
    return _core.conv(x, k, bias, s, pad, d, False)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1, *, bias=None):
    """Depthwise convolution: kernel (kh, kw, C_in, multiplier) (or (k, C_in, multiplier));
    output channel ``c * multiplier + m`` convolves input channel c with ``kernel[..., c, m]``."""
    x, k = _t(inputs), _t(kernel)
    _check_data_format("depthwise_conv", data_format)
    n = _spatial_rank("depthwise_conv", x)
    pad = _padding("depthwise_conv", padding, ("valid", "same", "causal") if n == 1 else ("valid", "same"))
    s = _int_tuple("depthwise_conv", "strides", strides, n)
    d = _int_tuple("depthwise_conv", "dilation_rate", dilation_rate, n)
    return _core.conv(x, k, bias, s, pad, d, True)


def conv_transpose(inputs, kernel, strides, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution (Keras Conv1DTranspose/2DTranspose/3DTranspose semantics), channels_last.

    ``kernel`` is (kh, kw, C_out, C_in) (or (k, C_out, C_in), (kd, kh, kw, C_out, C_in)); the output length per axis is
    ``in * stride`` for "same" and ``(in - 1) * stride + max(k_eff, stride)`` for "valid" (or
    Keras' formula with ``output_padding`` when given).
    """
    x, k = _t(inputs), _t(kernel)
    op = "conv_transpose"
    _check_data_format(op, data_format)
    _check_ranks(op, x, k)
    n = x.ndim - 2
    pad = _padding(op, padding)
    s = _int_tuple(op, "strides", strides, n)
    d = _int_tuple(op, "dilation_rate", dilation_rate, n)
    op_pad = None if output_padding is None else _int_tuple(op, "output_padding", output_padding, n, allow_zero=True)
    if n == 2:
        return _core.conv_transpose(x, k, s, pad, op_pad, d)
    if n == 3:
        return _ops_conv3d.conv3d_transpose(x, k, s, pad, op_pad, d)
    # 1-D: run as 2-D with a unit height axis.
    y = _core.conv_transpose(
        reshape(x, (x.shape[0], 1) + tuple(x.shape[1:])),
        reshape(k, (1,) + tuple(k.shape)),
        (1,) + s,
        pad,
        None if op_pad is None else (0,) + op_pad,
        (1,) + d,
    )
    return reshape(y, (y.shape[0],) + tuple(y.shape[2:]))


def _pool(op, kind, inputs, pool_size, strides, padding, data_format):
    x = _t(inputs)
    _check_data_format(op, data_format)
    n = _spatial_rank(op, x, volumes=True)
    size = _int_tuple(op, "pool_size", pool_size, n)
    s = size if strides is None else _int_tuple(op, "strides", strides, n)
    if n == 3:
        return _ops_conv3d.pool3d(x, kind, size, s, _padding(op, padding))
    return _core.pool(x, kind, size, s, _padding(op, padding))


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling (1-D, 2-D or 3-D, channels_last); ``strides`` defaults to ``pool_size``. Padding never
    wins; the gradient goes to the first maximum of each window."""
    return _pool("max_pool", "max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling (1-D, 2-D or 3-D, channels_last); with "same" padding each window is divided by
    its number of valid (non-padding) elements, as Keras does."""
    return _pool("average_pool", "average", inputs, pool_size, strides, padding, data_format)


def upsample_nearest(inputs, size=(2, 2)):
    """Nearest-neighbour up-sampling of an NHWC image by integer factors (UpSampling2D)."""
    return _core.upsample(_t(inputs), _int_tuple("upsample_nearest", "size", size, 2), "nearest")


def upsample_bilinear(inputs, size=(2, 2)):
    """Bilinear up-sampling of an NHWC image by integer factors (half-pixel centres, as Keras/TF2
    resize and PyTorch's align_corners=False)."""
    return _core.upsample(_t(inputs), _int_tuple("upsample_bilinear", "size", size, 2), "bilinear")


# ---- transformer ops: attention, einsum, triangles, sorting, normalization (_ops_transformer.py) --
from ._ops_transformer import *  # noqa: E402, F401, F403
from ._ops_transformer import __all__ as _transformer_all  # noqa: E402
from ._ops_transformer import _attention  # noqa: E402, F401  (attention with dropout, for the layers)

__all__ += _transformer_all


# ---- the NumPy-compatible set, extra activations, norm (composed; _ops_more.py, _ops_arrays.py) -
from ._ops_arrays import *  # noqa: E402, F401, F403
from ._ops_arrays import __all__ as _arrays_all  # noqa: E402
from ._ops_more import *  # noqa: E402, F401, F403
from ._ops_more import __all__ as _more_all  # noqa: E402
from ._ops_scatter import *  # noqa: E402, F401, F403
from ._ops_scatter import __all__ as _scatter_all  # noqa: E402
from ._ops_special import *  # noqa: E402, F401, F403
from ._ops_special import __all__ as _special_all  # noqa: E402

__all__ += _more_all + _arrays_all + _scatter_all + _special_all

# ---- symbolic use ----------------------------------------------------------------------------
# In a functional model, ``ops.relu(x)`` on a KerasTensor records a node, as in Keras, with the
# output shape from the op's shape rule (``symbolic/shapes.py``). The check for symbolic arguments
# comes first and is a plain scan of the top-level arguments (and lists among them), so a call on
# real tensors pays a fraction of a microsecond and its own errors are never swallowed.

_NOT_SYMBOLIC = {"convert_to_numpy", "shape", "ndim", "size", "dtype", "zeros", "ones", "full",
                 "arange", "eye", "identity", "linspace", "tri", "empty", "logspace", "geomspace", "is_tensor",
                 "hamming", "hanning", "bartlett", "blackman", "kaiser"}


def _symbolic_aware(fn, name):
    from .symbolic import KerasTensor, any_symbolic, symbolic_op_call

    kt = KerasTensor
    map = _builtins.map  # noqa: A001 - the module's `map` is keras.ops.map
    if name in ("concatenate", "stack", "hstack", "vstack", "dstack", "select"):  # the tensors come in a list
        def op(*args, **kwargs):
            if any_symbolic(args, kwargs):
                return symbolic_op_call(op, name, args, kwargs)
            return fn(*args, **kwargs)
    else:
        def op(*args, **kwargs):
            # `in map(type, ...)` compares types by identity at C speed: the check costs ~0.1 us.
            if kt in map(type, args) or (kwargs and kt in map(type, kwargs.values())):
                return symbolic_op_call(op, name, args, kwargs)
            return fn(*args, **kwargs)

    # Named by its keras.ops name (aliases such as ``absolute`` included), which is how a saved
    # graph refers to it.
    op.__name__, op.__qualname__, op.__doc__, op.__wrapped__ = name, name, fn.__doc__, fn
    op.__module__ = fn.__module__
    return op


def _symbolic_shape(fn):
    """``shape``/``ndim``/``dtype`` read a KerasTensor's static facts (``None`` where unknown)."""
    from .symbolic import KerasTensor

    # which fact, decided now: by the time `op` runs, the module names are bound to the wrappers
    fact = {"shape": "shape", "ndim": "ndim", "dtype": "dtype"}[fn.__name__]

    def op(x):
        if isinstance(x, KerasTensor):
            return getattr(x, fact)
        return fn(x)

    op.__name__, op.__qualname__, op.__doc__, op.__wrapped__ = fn.__name__, fn.__qualname__, fn.__doc__, fn
    op.__module__ = fn.__module__
    return op


shape = _symbolic_shape(shape)
ndim = _symbolic_shape(ndim)
dtype = _symbolic_shape(dtype)
for _name in __all__:
    if _name not in _NOT_SYMBOLIC:
        globals()[_name] = _symbolic_aware(globals()[_name], _name)
del _name

# Control flow runs the user's functions; it handles symbolic arguments itself (not wrapped above).
from ._ops_control import *  # noqa: E402, F403
from ._ops_control import __all__ as _control_all  # noqa: E402

__all__ += _control_all

# rearrange is made of reshape and transpose, which record their own nodes on symbolic tensors.
from ._ops_einops import rearrange  # noqa: E402, F401
from ._ops_vectorize import vectorize  # noqa: E402, F401

__all__ += ["rearrange", "vectorize"]

# Fourier ops take and return (real, imag) tuples; they compose recorded ops, so symbolic calls
# are not supported through them.
from ._ops_fft import extract_sequences, fft, fft2, ifft2, irfft, istft, rfft, stft  # noqa: E402, F401

__all__ += ["fft", "fft2", "ifft2", "rfft", "irfft", "stft", "istft", "extract_sequences"]
from ._ops_ctc_fold import ctc_decode, ctc_loss, fold, unfold  # noqa: E402, F401

__all__ += ["ctc_decode", "ctc_loss", "fold", "unfold"]

# keras.ops.nn / numpy / image / linalg: namespaces of their own (importable as ferrograd.ops.nn, ...).
from . import _ops_image as image  # noqa: E402, F401
from . import _ops_linalg as linalg  # noqa: E402, F401

for _name in linalg.TOP_LEVEL:  # keras.ops.inv, ops.svd, ... are also top-level names
    if _name != "norm":
        globals()[_name] = getattr(linalg, _name)
        __all__.append(_name)
from . import _ops_nn as nn  # noqa: E402, F401
from . import _ops_numpy as numpy  # noqa: E402, F401

# Keras ops that need a kernel the Rust core does not have yet: the reason goes into the house error.
_WAITING = {
    "eig": "complex dtypes (its results are complex; for symmetric matrices use eigh)",
    **{n: "complex dtypes" for n in ("angle", "polar", "view_as_complex", "view_as_real")},
}


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    why = _WAITING.get(name)
    raise AttributeError(f"keras.ops.{name} is not available in ferrograd yet"
                         + (f" (it needs {why}, which the Rust core does not have)" if why else ""))
