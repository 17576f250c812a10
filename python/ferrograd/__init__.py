"""ferrograd: Keras 3 on a Rust engine.

Tensors, autograd, SIMD kernels and (soon) the Keras layer API, with all arithmetic in Rust::

    import ferrograd as fg
    x = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ x).sum()
    y.backward()
    x.grad
"""
from __future__ import annotations

import contextlib as _contextlib
import functools as _functools
import os as _os

from . import (
    _core,
    _tensor,  # noqa: F401  (attaches the Tensor convenience methods)
    activations,
    applications,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    text,
    tokenizers,
    tree,
    utils,
)
from ._core import Tensor
from ._dtype_policy import DTypePolicy, FloatDTypePolicy
from ._variables import Variable, device, name_scope, version
from .initializers import Initializer
from .layers import InputSpec, Layer
from .losses import Loss
from .metrics import Metric
from .models import Input, Model, Sequential
from .optimizers import Optimizer
from .regularizers import Regularizer
from .symbolic import KerasTensor

__version__ = _core.__version__

__all__ = [
    "__version__", "Tensor", "tensor", "from_numpy", "as_tensor", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "set_num_threads", "get_num_threads",
    "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye",
    "activations", "applications", "backend", "callbacks", "config", "datasets", "utils", "initializers", "layers",
    "losses",
    "metrics", "models",
    "ops", "optimizers", "regularizers", "constraints", "saving",
    "Layer", "InputSpec", "Model", "Sequential", "Input", "random", "text", "tokenizers", "empty_cache",
    "tree", "Variable", "device", "version", "Initializer", "Loss", "Metric", "Optimizer", "Regularizer",
    "KerasTensor", "DTypePolicy", "FloatDTypePolicy", "name_scope", "set_flush_denormal", "is_flush_denormal_enabled",
]

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
empty_cache = _core.empty_cache


def set_flush_denormal(mode):
    """Whether kernels flush subnormal floats to zero (FTZ/DAZ; on by default, as TensorFlow and
    XLA run their CPU kernels). Subnormals cost ~100 cycles per element on x86, and training makes
    them (tiny gradients, decaying Adam moments). ``False`` keeps IEEE subnormals (PyTorch's
    default). Python and NumPy code never run in this mode. Returns whether the platform supports
    it, as ``torch.set_flush_denormal``. ``FERROGRAD_FLUSH_DENORMAL=0`` turns it off at start."""
    return _core.set_flush_denormal(bool(mode))


def is_flush_denormal_enabled():
    """Whether kernels flush subnormal floats to zero now (see :func:`set_flush_denormal`)."""
    return _core.is_flush_denormal_enabled()
is_grad_enabled = _core.is_grad_enabled

zeros = ops.zeros
ones = ops.ones
full = ops.full
zeros_like = ops.zeros_like
ones_like = ops.ones_like
arange = ops.arange
eye = ops.eye


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a list, scalar, NumPy array or tensor).

    Python floats become float32, Python ints int64 and bools bool; NumPy arrays keep their dtype
    unless ``dtype`` is given.
    """
    return Tensor(data, dtype, requires_grad)


def from_numpy(array, dtype=None):
    """A tensor sharing ``array``'s memory (copies when it is not C-contiguous, aligned,
    writeable and of a supported dtype, or when ``dtype`` asks for a conversion)."""
    return _core.from_numpy(array, dtype)


def as_tensor(data, dtype=None):
    """``data`` as a tensor, sharing memory where possible."""
    return _core.as_tensor(data, dtype)


class _GradMode(_contextlib.ContextDecorator):
    def __init__(self, enabled):
        self._enabled = enabled
        self._prev = []

    def __enter__(self):
        self._prev.append(_core.set_grad_enabled(self._enabled))
        return self

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev.pop())
        return False


def no_grad():
    """Context manager (and decorator) that stops ops from recording on the tape in this thread."""
    return _GradMode(False)


def enable_grad():
    """Context manager (and decorator) that turns recording back on in this thread."""
    return _GradMode(True)


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch-style name
    """Sets grad mode now (and restores it on exit when used as a context manager)."""

    def __init__(self, mode):
        super().__init__(bool(mode))
        self._prev.append(_core.set_grad_enabled(bool(mode)))

    def __enter__(self):
        return self


if hasattr(_os, "register_at_fork"):
    # The parent's worker threads do not exist in a forked child: rebuild the pool on first use.
    _os.register_at_fork(after_in_child=_core._after_fork_child)

del _functools


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.{name} is not available in ferrograd yet")
