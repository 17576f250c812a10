"""More ``keras.ops`` names (the extra activations, NumPy-compatible elementwise ops, nn losses and
block reshapes; the structure ops are in ``_ops_arrays``), each composed
from Rust kernels already in ``ferrograd._core``: every step is one kernel call recorded on the tape,
so Python never touches a number and the gradients come from the primitives' backward rules.

An op whose exact result needs a kernel the core does not have (FFT, complex dtypes, ...) is not
composed approximately: it raises :func:`missing`, the house "not available in ferrograd yet"
error naming the op and the kernel it waits for. ``ferrograd.ops`` imports these
names, adds them to ``__all__`` and wraps them for symbolic use (shape rules in symbolic/shapes.py).
"""
from __future__ import annotations

import math as _math

import numpy as _np

from . import _core
from ._core import Tensor

_FLOATS = ("float32", "float64")

# Activations also exposed by keras.ops / keras.ops.nn.
ACTIVATIONS = ["celu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "soft_shrink",
               "hard_shrink", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "threshold"]
ELEMENTWISE = ["log2", "log10", "exp2", "tan", "sinh", "cosh", "cbrt", "trunc", "fabs", "deg2rad", "rad2deg",
               "sinc", "erfc", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "nan_to_num",
               "logaddexp", "logaddexp2", "hypot", "nextafter", "heaviside", "fmax", "fmin", "divide_no_nan", "isclose",
               "copy", "real", "imag", "conj", "conjugate", "isreal"]
NN = ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "multi_hot",
      "depth_to_space", "space_to_depth", "psnr", "batch_normalization", "separable_conv"]
__all__ = ACTIVATIONS + ELEMENTWISE + ["allclose", "view"] + NN


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


def _f(x):
    """``x`` as a floating tensor (integers and booleans become float32)."""
    x = _t(x)
    return x if x.dtype in _FLOATS else _core.cast(x, "float32")


def _zero(x):
    return _core.full((), 0.0, x.dtype)


def missing(op, needs):
    """The house error for a Keras op whose exact result needs a kernel ferrograd lacks."""
    return NotImplementedError(f"keras.ops.{op} is not available in ferrograd yet: it needs {needs}, which the "
                               "Rust core does not have (it is not approximated in Python)")


def _u(x, name):
    return _core.unary(x, name)


def _b(x, y, name):
    return _core.binary(x, y, name)


def _norm_axis(axis, nd):
    return int(axis) % nd if nd else 0


# ---- activations -------------------------------------------------------------------------------------
def celu(x, alpha=1.0):
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
    x = _f(x)
    neg = _b(_u(_b(_b(x, 0.0, "minimum"), float(alpha), "divide"), "expm1"), float(alpha), "multiply")
    return _b(_b(x, 0.0, "maximum"), neg, "add")


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the two halves of ``x`` along ``axis``."""
    x = _t(x)
    n = x.shape[_norm_axis(axis, x.ndim)]
    if n % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, received shape {tuple(x.shape)}")
    a, b = _core.split(x, 2, axis)
    return _b(a, _u(b, "sigmoid"), "multiply")


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return _b(_u(_b(_f(x), 3.0, "add"), "relu6"), 6.0, "divide")


def hard_silu(x):
    """``x * relu6(x + 3) / 6``."""
    x = _f(x)
    return _b(x, hard_sigmoid(x), "multiply")


hard_swish = hard_silu


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return _core.unary(_f(x), "clip", -1.0, 1.0)


def log_sigmoid(x):
    """``-softplus(-x)`` (stable)."""
    return _u(_u(_u(_f(x), "negative"), "softplus"), "negative")


def soft_shrink(x, threshold=0.5):
    """``x - t`` above ``t``, ``x + t`` below ``-t``, zero between."""
    x = _f(x)
    t = float(threshold)
    return _core.where(_b(x, t, "greater"), _b(x, t, "subtract"),
                       _core.where(_b(x, -t, "less"), _b(x, t, "add"), _zero(x)))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > t``, zero elsewhere."""
    x = _f(x)
    return _core.where(_b(_u(x, "abs"), float(threshold), "greater"), x, _zero(x))


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _f(x)
    return _b(x, _u(x, "tanh"), "subtract")


def sparse_plus(x):
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)^2 / 4`` between."""
    x = _f(x)
    mid = _b(_u(_b(x, 1.0, "add"), "square"), 0.25, "multiply")
    return _core.where(_b(x, -1.0, "less_equal"), _zero(x), _core.where(_b(x, 1.0, "greater_equal"), x, mid))


def sparse_sigmoid(x):
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between."""
    x = _f(x)
    mid = _b(_b(x, 1.0, "add"), 0.5, "multiply")
    return _core.where(_b(x, -1.0, "less_equal"), _zero(x),
                       _core.where(_b(x, 1.0, "greater_equal"), _core.full((), 1.0, x.dtype), mid))


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    x = _f(x)
    return _b(_b(x, _u(_b(_u(x, "square"), float(b), "add"), "sqrt"), "add"), 0.5, "multiply")


def threshold(x, threshold, default_value):  # noqa: A002 - keras.ops argument name
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _t(x)
    return _core.where(_b(x, float(threshold), "greater"), x, _core.full((), float(default_value), x.dtype))


def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo 2016) along ``axis``: the Euclidean projection onto the simplex.
    Uses ``ops.sort`` (the Rust argsort kernel)."""
    from .ops import sort as _sort

    x = _f(x)
    xm = _core.moveaxis(x, axis, -1)
    n = xm.shape[-1]
    z = _core.flip(_sort(xm, -1), -1)  # descending
    k = _core.arange(1.0, float(n + 1), 1.0, x.dtype)
    cs = _core.cumsum(z, -1)
    support = _b(_b(_b(k, z, "multiply"), 1.0, "add"), cs, "greater")
    kz = _core.reduce(_core.cast(support, x.dtype), "sum", -1, True)  # (..., 1), >= 1
    cs_k = _core.take_along_axis(cs, _core.cast(_b(kz, 1.0, "subtract"), "int64"), -1)
    tau = _b(_b(cs_k, 1.0, "subtract"), kz, "divide")
    return _core.moveaxis(_b(_b(xm, tau, "subtract"), 0.0, "maximum"), -1, axis)


# ---- elementwise -------------------------------------------------------------------------------------
_LN2, _LN10 = _math.log(2.0), _math.log(10.0)


def log2(x):
    return _b(_u(_f(x), "log"), _LN2, "divide")


def log10(x):
    return _b(_u(_f(x), "log"), _LN10, "divide")


def exp2(x):
    return _u(_b(_f(x), _LN2, "multiply"), "exp")


def tan(x):
    x = _f(x)
    return _b(_u(x, "sin"), _u(x, "cos"), "divide")


def sinh(x):
    """``(exp(x) - exp(-x)) / 2`` (``expm1`` form, accurate near 0)."""
    x = _f(x)
    return _b(_b(_u(x, "expm1"), _u(_u(x, "negative"), "expm1"), "subtract"), 0.5, "multiply")


def cosh(x):
    x = _f(x)
    return _b(_b(_u(x, "exp"), _u(_u(x, "negative"), "exp"), "add"), 0.5, "multiply")


def cbrt(x):
    x = _f(x)
    return _b(_u(x, "sign"), _b(_u(x, "abs"), 1.0 / 3.0, "power"), "multiply")


def trunc(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return x
    return _core.where(_b(x, 0.0, "less"), _u(x, "ceil"), _u(x, "floor"))


def fabs(x):
    return _u(_f(x), "abs")


def deg2rad(x):
    return _b(_f(x), _math.pi / 180.0, "multiply")


def rad2deg(x):
    return _b(_f(x), 180.0 / _math.pi, "multiply")


def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    x = _f(x)
    px = _b(x, _math.pi, "multiply")
    zero = _b(x, 0.0, "equal")
    safe = _core.where(zero, _core.full((), 1.0, x.dtype), px)
    return _core.where(zero, _core.full((), 1.0, x.dtype), _b(_u(safe, "sin"), safe, "divide"))


def erfc(x):
    return _u(_b(_u(_f(x), "erf"), 1.0, "subtract"), "negative")  # 1 - erf(x)


def _nan_fill_value(x, value):
    """``x`` with NaN replaced by ``value`` (unchanged for integer tensors)."""
    x = _t(x)
    if x.dtype not in _FLOATS:
        return x
    return _core.where(_b(x, x, "not_equal"), _core.full((), float(value), x.dtype), x)


def isnan(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _core.full(tuple(x.shape), 0.0, "bool")
    return _b(x, x, "not_equal")


def isinf(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _core.full(tuple(x.shape), 0.0, "bool")
    return _b(_u(x, "abs"), float("inf"), "equal")


def isposinf(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _core.full(tuple(x.shape), 0.0, "bool")
    return _b(x, float("inf"), "equal")


def isneginf(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _core.full(tuple(x.shape), 0.0, "bool")
    return _b(x, float("-inf"), "equal")


def isfinite(x):
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _core.full(tuple(x.shape), 1.0, "bool")
    return _b(_u(x, "abs"), float("inf"), "less")  # False for NaN and +-inf


def signbit(x):
    """True where the sign bit is set (negative numbers and -0.0; NaN counts as positive)."""
    x = _t(x)
    if x.dtype not in _FLOATS:
        return _b(x, 0, "less")
    neg_zero = _b(_b(x, 0.0, "equal"), _b(_u(x, "reciprocal"), 0.0, "less"), "logical_and")
    return _b(_b(x, 0.0, "less"), neg_zero, "logical_or")


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN to ``nan``, +inf/-inf to ``posinf``/``neginf`` (the dtype's largest finite values by default)."""
    x = _t(x)
    if x.dtype not in _FLOATS:
        return x
    big = float(_np.finfo(x.dtype).max)
    y = _core.where(isnan(x), _core.full((), float(nan), x.dtype), x)
    y = _core.where(isposinf(x), _core.full((), big if posinf is None else float(posinf), x.dtype), y)
    return _core.where(isneginf(x), _core.full((), -big if neginf is None else float(neginf), x.dtype), y)


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))`` as ``max + log1p(exp(-|x1 - x2|))``."""
    a, b = _f(x1), _f(x2)
    m = _b(a, b, "maximum")
    d = _u(_b(a, b, "subtract"), "abs")
    same_inf = _b(_b(a, b, "equal"), isinf(a), "logical_and")  # -inf,-inf / inf,inf: no NaN from inf - inf
    d = _core.where(same_inf, _core.full((), 0.0, d.dtype), d)
    return _b(m, _u(_u(_u(d, "negative"), "exp"), "log1p"), "add")


def logaddexp2(x1, x2):
    return _b(logaddexp(_b(_f(x1), _LN2, "multiply"), _b(_f(x2), _LN2, "multiply")), _LN2, "divide")


def hypot(x1, x2):
    """``sqrt(x1**2 + x2**2)`` in Rust (C's ``hypot``): no overflow for large values, and infinite
    where either is infinite, even beside a NaN, as NumPy."""
    return _b(_f(x1), _f(x2), "hypot")


def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2`` (C's ``nextafter``, elementwise in
    Rust): ``x1`` itself where they are equal, NaN where either is NaN; integers become float32.
    Its gradient passes to ``x1`` unchanged (the step is one ulp)."""
    return _b(_f(x1), _f(x2), "nextafter")


def view(x, dtype=None):
    """The same bytes read as ``dtype`` (``keras.ops.view``, NumPy's ``ndarray.view``): the result
    shares memory with ``x`` (a contiguous copy of ``x`` first when it is a strided view). The
    last axis scales by the ratio of the item sizes (int32 -> int64 halves it, and needs it even).
    Views as bool are refused: other bytes than 0 and 1 are not booleans. Not differentiable."""
    import numpy as np

    from ._core import from_numpy

    t = _t(x)
    if dtype is None:
        return t
    from .utils import standardize_dtype

    target = standardize_dtype(dtype)
    if target not in ("int32", "int64", "float32", "float64"):
        raise ValueError(f"view: cannot view a tensor as {target!r}; ferrograd views between int32, int64, float32 "
                         "and float64 (a bool view would hold bytes other than 0 and 1)")
    arr = (t if t.is_contiguous() else t.contiguous()).numpy()
    if t.ndim == 0 and np.dtype(target).itemsize != arr.dtype.itemsize:
        raise ValueError(f"view: a 0-d {t.dtype} tensor cannot be viewed as {target} (the item sizes differ)")
    try:
        out = arr.view(target)
    except ValueError as e:
        raise ValueError(f"view: cannot view shape {tuple(t.shape)} {t.dtype} as {target}: {e}") from None
    return from_numpy(out)


def heaviside(x1, x2):
    """0 below zero, ``x2`` at zero, 1 above."""
    x1 = _f(x1)
    one = _core.full((), 1.0, x1.dtype)
    return _core.where(_b(x1, 0.0, "less"), _zero(x1), _core.where(_b(x1, 0.0, "greater"), one, _f(x2)))


def fmax(x1, x2):
    """Maximum that ignores a NaN (NaN only where both are NaN)."""
    a, b = _t(x1), _t(x2)
    m = _b(a, b, "maximum")
    return _core.where(isnan(a), b, _core.where(isnan(b), a, m))


def fmin(x1, x2):
    a, b = _t(x1), _t(x2)
    m = _b(a, b, "minimum")
    return _core.where(isnan(a), b, _core.where(isnan(b), a, m))


def divide_no_nan(x1, x2):
    """``x1 / x2``, 0 where ``x2 == 0``."""
    a, b = _f(x1), _f(x2)
    zero = _b(b, 0.0, "equal")
    safe = _core.where(zero, _core.full((), 1.0, b.dtype), b)
    q = _b(a, safe, "divide")
    return _core.where(zero, _core.full((), 0.0, q.dtype), q)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """``|x1 - x2| <= atol + rtol * |x2|`` (infinities equal when they match)."""
    a, b = _f(x1), _f(x2)
    close = _b(_u(_b(a, b, "subtract"), "abs"), _b(_b(_u(b, "abs"), float(rtol), "multiply"), float(atol), "add"),
               "less_equal")
    close = _b(close, _b(a, b, "equal"), "logical_or")
    if equal_nan:
        close = _b(close, _b(isnan(a), isnan(b), "logical_and"), "logical_or")
    return close


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return _core.reduce(isclose(x1, x2, rtol, atol, equal_nan), "all", None, False)


def copy(x):
    return _t(x).clone()


def real(x):
    return _t(x)


def imag(x):
    x = _t(x)
    return _core.full(tuple(x.shape), 0.0, x.dtype)


def conj(x):
    return _t(x)


conjugate = conj


def isreal(x):
    return _core.full(tuple(_t(x).shape), 1.0, "bool")


# ---- nn extras ------------------------------------------------------------------------------------
_EPS = 1e-7


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (Keras' op: probabilities clipped to [eps, 1 - eps])."""
    t, o = _f(target), _f(output)
    if from_logits:  # max(o, 0) - o t + log1p(exp(-|o|))
        return _b(_b(_b(o, 0.0, "maximum"), _b(o, t, "multiply"), "subtract"),
                  _u(_u(_u(_u(o, "abs"), "negative"), "exp"), "log1p"), "add")
    o = _core.unary(o, "clip", _EPS, 1.0 - _EPS)
    one_minus_t = _u(_b(t, 1.0, "subtract"), "negative")
    bce = _b(_b(t, _u(o, "log"), "multiply"), _b(one_minus_t, _u(_u(o, "negative"), "log1p"), "multiply"), "add")
    return _u(bce, "negative")


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    t, o = _f(target), _f(output)
    if from_logits:
        lp = _core.softmax(o, axis, True)
    else:
        o = _b(o, _core.reduce(o, "sum", axis, True), "divide")
        lp = _u(_core.unary(o, "clip", _EPS, 1.0 - _EPS), "log")
    return _u(_core.reduce(_b(t, lp, "multiply"), "sum", axis, False), "negative")


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    o = _f(output)
    n = o.shape[_norm_axis(axis, o.ndim)]
    return categorical_crossentropy(_core.one_hot(_core.cast(target, "int64"), n, axis, o.dtype), o, from_logits,
                                    axis)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """1 for every class that occurs in the last axis of ``inputs`` (a batch of index lists)."""
    if sparse:
        raise ValueError("sparse multi_hot is not supported; received sparse=True")
    num_classes = kwargs.pop("num_tokens", num_classes)
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required")
    x = _t(inputs)
    oh = _core.one_hot(_core.cast(x, "int64"), int(num_classes), -1, "float32")
    red = _core.reduce(oh, "max", x.ndim - 1 if x.ndim > 1 else 0, False)
    if axis != -1:
        red = _core.moveaxis(red, -1, axis)
    return _core.cast(red, dtype or "float32")


def _check_block(op, x, block_size, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{op}: only data_format='channels_last' is supported, received {data_format!r}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D (N, H, W, C) input, received shape {tuple(x.shape)}")
    b = int(block_size)
    if b < 2:
        raise ValueError(f"{op}: block_size must be >= 2, received {block_size}")
    return b


def depth_to_space(x, block_size, data_format="channels_last"):
    x = _t(x)
    b = _check_block("depth_to_space", x, block_size, data_format)
    n, h, w, c = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels {c} are not divisible by block_size^2 = {b * b}")
    y = _core.reshape(x, (n, h, w, b, b, c // (b * b)))
    y = _core.transpose(y, (0, 1, 3, 2, 4, 5))
    return _core.reshape(y, (n, h * b, w * b, c // (b * b)))


def space_to_depth(x, block_size, data_format="channels_last"):
    x = _t(x)
    b = _check_block("space_to_depth", x, block_size, data_format)
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be divisible by block_size {b}")
    y = _core.reshape(x, (n, h // b, b, w // b, b, c))
    y = _core.transpose(y, (0, 1, 3, 2, 4, 5))
    return _core.reshape(y, (n, h // b, w // b, b * b * c))


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio over all elements: ``20 log10(max_val) - 10 log10(mse)``."""
    a, b = _f(x1), _f(x2)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"psnr: x1 and x2 must have the same shape, received {tuple(a.shape)} and {tuple(b.shape)}")
    mse = _core.reduce(_u(_b(a, b, "subtract"), "square"), "mean", None, False)
    return _b(20.0 * _math.log10(float(max_val)), _b(log10(mse), 10.0, "multiply"), "subtract")


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the statistics (size of ``axis``)
    broadcast along ``axis`` (Keras' op)."""
    x = _f(x)
    a = _norm_axis(axis, x.ndim)
    shape = [1] * x.ndim
    shape[a] = x.shape[a]

    def bc(v):
        return None if v is None else _core.reshape(_f(v), tuple(shape))

    mean, variance, offset, scale = bc(mean), bc(variance), bc(offset), bc(scale)
    inv = _u(_b(variance, float(epsilon), "add"), "rsqrt")
    if scale is not None:
        inv = _b(inv, scale, "multiply")
    y = _b(_b(x, mean, "subtract"), inv, "multiply")
    return y if offset is None else _b(y, offset, "add")


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """A depthwise convolution followed by a 1x1 convolution (Keras' op)."""
    from .ops import conv, depthwise_conv

    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)
