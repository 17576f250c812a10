"""Activation functions (``keras.activations`` names and defaults)."""
from __future__ import annotations

from . import ops

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "sigmoid", "tanh", "softmax",
           "log_softmax", "softplus", "softsign", "exponential", "linear", "get", "serialize", "deserialize"]


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


_ALL = {f.__name__: f for f in (relu, relu6, leaky_relu, elu, selu, gelu, silu, sigmoid, tanh, softmax,
                                 log_softmax, softplus, softsign, exponential, linear)}
_ALL["swish"] = silu


def serialize(activation):
    return getattr(activation, "__name__", str(activation))


def deserialize(name):
    return get(name)


def get(identifier):
    """An activation from a name (``"relu"``), a callable, or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier in _ALL:
        return _ALL[identifier]
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}; "
                     f"expected one of {sorted(_ALL)}")
