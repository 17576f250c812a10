"""``keras.Variable``, ``keras.name_scope``, ``keras.device`` and ``keras.version``.

A ferrograd variable is a tensor: layer weights, optimizer slots and ``keras.Variable(...)`` are
``ferrograd.Tensor`` objects that carry a ``name`` and a ``path``, support ``assign``,
``assign_add`` and ``assign_sub`` in place, and take part in autograd when ``trainable``. So
``isinstance(w, keras.Variable)`` is true for named tensors (the ones those three create).
"""
from __future__ import annotations

import contextlib
import itertools
import threading

from . import _core
from ._core import Tensor

_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = ("none", "on_write", "on_read", "auto")
_UIDS = itertools.count()
_SCOPES = threading.local()


def _scope_stack():
    if not hasattr(_SCOPES, "stack"):
        _SCOPES.stack = []
    return _SCOPES.stack


class name_scope:  # noqa: N801 - Keras' name
    """``with keras.name_scope("block"):``: variables created inside get the path
    "block/<name>" (scopes nest: "outer/inner/<name>").

    Args: name (a non-empty string without "/"), caller (accepted, unused), deduplicate (when
    True, re-entering the current innermost scope's name does not nest it twice),
    override_parent (a scope path that replaces the enclosing scopes).
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"Argument `name` must be a non-empty string without '/'. Received: name={name!r}")
        self.name, self.caller, self.deduplicate, self.override_parent = name, caller, deduplicate, override_parent
        self._pushed = None

    def __enter__(self):
        stack = _scope_stack()
        saved = list(stack)
        if self.override_parent is not None:
            stack[:] = [p for p in str(self.override_parent).split("/") if p]
        if not (self.deduplicate and stack and stack[-1] == self.name):
            stack.append(self.name)
        self._pushed = saved
        return self

    def __exit__(self, *exc):
        _scope_stack()[:] = self._pushed
        return False


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and getattr(obj, "path", None) is not None


class Variable(metaclass=_VariableMeta):
    """A named, assignable tensor (``keras.Variable``).

    Args:
        initializer: an initializer (object, name or callable ``(shape, dtype)``), used with
            ``shape``; or the initial value itself (array, tensor or number).
        shape: the shape, needed with an initializer.
        dtype: defaults to float32 (or the value's dtype).
        trainable: whether gradients flow to it (``requires_grad``).
        autocast: accepted; ferrograd has no mixed precision, so there is nothing to cast.
        aggregation, synchronization: how replicas combine it (one of Keras' values); ferrograd
            runs on one device, where every choice is the same.
        name: defaults to "variable".

    Returns a ``ferrograd.Tensor``.
    """

    def __new__(cls, initializer, shape=None, dtype=None, trainable=True, autocast=True, aggregation="none",
                synchronization="auto", name=None, **kwargs):
        if kwargs:
            raise TypeError(f"Variable: unexpected keyword argument(s) {sorted(kwargs)} (ferrograd does not "
                            "support them)")
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `aggregation`. Expected one of {_AGGREGATIONS}. "
                             f"Received: aggregation={aggregation!r}")
        if synchronization not in _SYNCHRONIZATIONS:
            raise ValueError(f"Invalid value for argument `synchronization`. Expected one of {_SYNCHRONIZATIONS}. "
                             f"Received: synchronization={synchronization!r}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. Received: "
                             f"name={name!r}")
        from . import initializers

        is_init = isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, Tensor))
        if is_init:
            if shape is None:
                raise ValueError("When creating a Variable from an initializer, the `shape` argument should be "
                                 f"specified. Received: initializer={initializer!r} and shape={shape}")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            value = initializers.get(initializer)(shape, dtype or "float32")
            value = _core.as_tensor(value, dtype or "float32")
        else:
            value = _core.as_tensor(initializer, dtype)
            if dtype is None and value.dtype == "float64" and not isinstance(initializer, Tensor):
                value = _core.cast(value, "float32")
            if shape is not None and tuple(shape) != tuple(value.shape):
                raise ValueError(f"Initial value has shape {tuple(value.shape)}, but `shape` is {tuple(shape)}")
            from . import ops

            value = ops.copy(value)  # the variable owns its memory
        value.requires_grad = bool(trainable) and value.dtype.startswith("float")
        value.name = name or "variable"
        value.path = "/".join(_scope_stack() + [value.name])
        value._variable_uid = next(_UIDS)
        return value


def _value(self):
    """The tensor itself (Keras' ``Variable.value``)."""
    return self


def _get_trainable(self):
    return self.requires_grad


def _set_trainable(self, flag):
    self.requires_grad = bool(flag) and self.dtype.startswith("float")


Tensor.value = property(_value)
Tensor.trainable = property(_get_trainable, _set_trainable, doc="Whether gradients flow to it (requires_grad).")


@contextlib.contextmanager
def device(device_name):
    """``with keras.device("cpu"):``: ferrograd computes on the CPU, so "cpu" (or "cpu:N") is the
    only device; any other raises ValueError."""
    if not isinstance(device_name, str) or device_name.lower().split(":")[0] != "cpu":
        raise ValueError(f"keras.device: ferrograd runs on the CPU only, received device_name={device_name!r}")
    yield


def version():
    """The ferrograd version (Keras' ``keras.version()``)."""
    return _core.__version__
