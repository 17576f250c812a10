"""Activation functions (``keras.activations`` names and defaults)."""
from __future__ import annotations

from . import ops

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh", "softmax",
           "log_softmax", "softplus", "softsign", "exponential", "linear", "celu", "glu", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "hard_shrink", "log_sigmoid", "mish", "soft_shrink", "sparse_plus",
           "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold", "get", "serialize", "deserialize"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras' optional slope, cap and threshold."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    y = ops.where(ops.greater(x, threshold), x, ops.multiply(negative_slope, ops.subtract(x, threshold)))
    return y if max_value is None else ops.minimum(y, max_value)


def relu6(x):
    return ops.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha)


def selu(x):
    return ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact erf form by default, as keras.activations)."""
    return ops.gelu(x, approximate=approximate)


def silu(x):
    return ops.silu(x)


swish = silu


def sigmoid(x):
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def softplus(x):
    return ops.softplus(x)


def softsign(x):
    return ops.softsign(x)


def exponential(x):
    return ops.exp(x)


def linear(x):
    return x


def celu(x, alpha=1.0):
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
    return ops.celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` over the two halves of ``axis``."""
    return ops.glu(x, axis=axis)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return ops.hard_sigmoid(x)


def hard_silu(x):
    """``x * hard_sigmoid(x)``."""
    return ops.hard_silu(x)


hard_swish = hard_silu


def hard_tanh(x):
    return ops.hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    return ops.hard_shrink(x, threshold=threshold)


def log_sigmoid(x):
    return ops.log_sigmoid(x)


def mish(x):
    """``x * tanh(softplus(x))``."""
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def soft_shrink(x, threshold=0.5):
    return ops.soft_shrink(x, threshold=threshold)


def sparse_plus(x):
    return ops.sparse_plus(x)


def sparse_sigmoid(x):
    return ops.sparse_sigmoid(x)


def sparsemax(x, axis=-1):
    return ops.sparsemax(x, axis=axis)


def squareplus(x, b=4):
    return ops.squareplus(x, b=b)


def tanh_shrink(x):
    return ops.tanh_shrink(x)


def threshold(x, threshold, default_value):
    return ops.threshold(x, threshold, default_value)


_ALL = {f.__name__: f for f in (relu, relu6, leaky_relu, elu, selu, gelu, silu, sigmoid, tanh, softmax,
                                 log_softmax, softplus, softsign, exponential, linear, celu, glu, hard_sigmoid,
                                 hard_silu, hard_tanh, hard_shrink, log_sigmoid, mish, soft_shrink, sparse_plus,
                                 sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}


def serialize(activation):
    """The activation's Keras name (``"relu"``); aliases give their canonical name (``swish`` ->
    ``"silu"``), as Keras. A callable that is not a built-in activation raises ValueError."""
    name = getattr(activation, "__name__", None)
    if name in _ALL and _ALL[name] is activation:
        return name
    for canonical, fn in _ALL.items():
        if fn is activation:
            return canonical
    if name is not None and callable(activation):
        return name
    raise ValueError(f"Could not serialize activation {activation!r}: expected a built-in activation function")


def deserialize(config, custom_objects=None):
    """The activation named by ``config``: a name, or Keras' dict form
    ``{"class_name": "function", "config": "relu", ...}``."""
    if isinstance(config, dict):
        name = config.get("config") if config.get("class_name") in ("function", "__lambda__", None) else None
        if name is None:
            name = config.get("class_name")
        config = name
    if custom_objects and config in custom_objects:
        return custom_objects[config]
    if isinstance(config, str):
        fn = _ALL.get(config) or _ALIASES.get(config)
        if fn is not None:
            return fn
    raise ValueError(f"Could not interpret activation function identifier: {config!r}; expected one of "
                     f"{sorted(set(_ALL) | set(_ALIASES))}")


# The activations the fused dense op (``_core.dense``) applies inside its product: the core
# element-wise op's name and parameter, as the functions above call it with their defaults.
_CORE_ACTIVATIONS = {relu: ("relu", None), relu6: ("relu6", None), leaky_relu: ("leaky_relu", 0.2),
                     elu: ("elu", 1.0), selu: ("selu", None), gelu: ("gelu", None), silu: ("silu", None),
                     sigmoid: ("sigmoid", None), tanh: ("tanh", None), softplus: ("softplus", None),
                     softsign: ("softsign", None), exponential: ("exp", None)}


def _core_activation(fn):
    """``(name, param)`` of the core element-wise op that computes ``fn`` (a function may name its
    op in a ``_core_unary`` attribute, as GPT-2's tanh GELU does), None for the identity, False
    when no single core op does."""
    name = getattr(fn, "_core_unary", False)
    if name is not False:
        return None if name is None else (name, None)
    if fn is linear:
        return None
    try:
        return _CORE_ACTIVATIONS.get(fn, False)
    except TypeError:  # an unhashable callable
        return False


def get(identifier):
    """An activation from a name (``"relu"``), Keras' dict form, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}; "
                     f"expected one of {sorted(set(_ALL) | set(_ALIASES))}")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.activations.{name} is not available in ferrograd yet")
