"""Convenience methods of :class:`ferrograd.Tensor` that mirror :mod:`ferrograd.ops`.

The operators and core properties are implemented in Rust (``src/py/tensor.rs``) because they
are the per-op hot path; the long tail below forwards to the same core functions.
"""
from __future__ import annotations

import numpy as np

from . import _core

Tensor = _core.Tensor


def _repr(self):
    if self.size > 1000:
        body = np.array2string(self.numpy(), separator=", ", threshold=100, edgeitems=3, prefix="Tensor(")
    else:
        body = np.array2string(self.numpy(), separator=", ", prefix="Tensor(")
    extra = ""
    if self.grad_fn is not None:
        extra = f", grad_fn={self.grad_fn}"
    elif self.requires_grad:
        extra = ", requires_grad=True"
    return f"Tensor({body}, shape={self.shape}, dtype={self.dtype}{extra})"


def _str(self):
    return np.array2string(self.numpy(), separator=" ")


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


def _tolist(self):
    return self.numpy().tolist()


def _reduction(name):
    def method(self, axis=None, keepdims=False):
        return _core.reduce(self, name, axis, keepdims)

    method.__name__ = name
    method.__doc__ = f"{name} over ``axis`` (all axes when None); see :func:`ferrograd.ops.{name}`."
    return method


def _unary(name):
    def method(self):
        return _core.unary(self, name)

    method.__name__ = name
    method.__doc__ = f"Elementwise {name}; see :func:`ferrograd.ops.{name}`."
    return method


def _argmax(self, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` (of the flattened tensor when None)."""
    return _core.argextreme(self, True, axis, keepdims)


def _argmin(self, axis=None, keepdims=False):
    """Index of the minimum along ``axis`` (of the flattened tensor when None)."""
    return _core.argextreme(self, False, axis, keepdims)


def _transpose(self, *axes):
    """Permutes the axes (reverses them when none are given); a view."""
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = tuple(axes[0])
    return _core.transpose(self, list(axes) if axes else None)


def _flatten(self):
    """A 1-D tensor with the same elements (a view when contiguous)."""
    return _core.reshape(self, (-1,))


def _softmax(self, axis=-1):
    return _core.softmax(self, axis, False)


def _log_softmax(self, axis=-1):
    return _core.softmax(self, axis, True)


def _clip(self, x_min, x_max):
    return _core.unary(self, "clip", float(x_min), float(x_max))


def _write(self, value):
    """``_core.assign`` as a Keras variable write: a weight (a leaf tensor) is written outside the
    tape, as Keras' ``Variable.assign`` never records a gradient; a tape node that saved the old
    values fails at backward (storage versions) instead of using the new ones. A computed tensor
    that requires grad is refused in grad mode (the write could not be differentiated)."""
    if self.requires_grad and self.is_leaf:
        prev = _core.set_grad_enabled(False)
        try:
            _core.assign(self, value)
        finally:
            _core.set_grad_enabled(prev)
    else:
        _core.assign(self, value)
    return self


def _assign(self, value):
    """Writes ``value`` (broadcast to this tensor's shape) into this tensor's memory in place, as
    Keras' ``Variable.assign``; returns ``self``. Weights (leaf tensors) are written outside the
    tape; a computed tensor that requires grad is refused while grad mode is on."""
    return _write(self, value)


def _assign_sub(self, value):
    """In-place ``self -= value`` (as :meth:`assign`); returns ``self``."""
    return _write(self, _core.binary(self.detach(), value, "subtract"))


def _assign_add(self, value):
    """In-place ``self += value`` (as :meth:`assign`); returns ``self``."""
    return _write(self, _core.binary(self.detach(), value, "add"))


def _zero_grad(self):
    """Drops the accumulated gradient."""
    self.grad = None


_METHODS = {
    "__repr__": _repr,
    "__str__": _str,
    "__iter__": _iter,
    "__array_ufunc__": None,  # numpy defers `ndarray op Tensor` to Tensor's reflected operators
    "__array_priority__": 1000,
    "tolist": _tolist,
    "argmax": _argmax,
    "argmin": _argmin,
    "transpose": _transpose,
    "permute": _transpose,
    "flatten": _flatten,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "clip": _clip,
    "zero_grad": _zero_grad,
    "assign": _assign,
    "assign_sub": _assign_sub,
    "assign_add": _assign_add,
    "squeeze": lambda self, axis=None: _core.squeeze(self, axis),
    "expand_dims": lambda self, axis: _core.expand_dims(self, axis),
    "cumsum": lambda self, axis=None: _core.cumsum(self, axis),
    "matmul": lambda self, other: _core.binary(self, other, "matmul"),
}
for _n in ("sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "any", "all"):
    _METHODS[_n] = _reduction(_n)
for _n in ("exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tanh",
           "sigmoid", "relu", "abs", "sign", "floor", "ceil", "round", "erf"):
    _METHODS[_n] = _unary(_n)

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
