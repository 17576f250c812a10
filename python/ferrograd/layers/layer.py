"""The Layer base class: weights, lazy build, naming, config and the ``training`` flag."""
from __future__ import annotations

import inspect
import math
import re
from collections import defaultdict

import numpy as np

from .. import _core, constraints, initializers, regularizers
from .._core import Tensor

_NAME_COUNTS = defaultdict(int)


def _snake(name):
    """Keras' class-name to layer-name rule: ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """Keras-style auto names: ``dense``, ``dense_1``, ``dense_2``..."""
    n = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


def _shape_of(x):
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    return tuple(x.shape)


class Layer:
    """Base class of every layer.

    Subclasses validate and store their arguments in ``__init__``, create weights in
    ``build(input_shape)`` with :meth:`add_weight`, compute in ``call(inputs, training=None)`` with
    :mod:`ferrograd.ops`, and return their constructor arguments from ``get_config``.
    """

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None, batch_size=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        self.name = name or unique_name(_snake(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype or "float32"
        self.built = False
        self._weights = []
        self._losses_fns = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        try:
            self._call_takes_training = "training" in inspect.signature(self.call).parameters
        except (TypeError, ValueError):
            self._call_takes_training = False

    # ---- weights -----------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None, autocast=True):
        """Creates, registers and returns a weight tensor."""
        shape = tuple(int(d) for d in (shape or ()))
        if any(d < 0 for d in shape):
            raise ValueError(f"{self.name}: weight shape must be non-negative, received {shape}")
        init = initializers.get(initializer)
        w = init(shape, dtype or self.dtype)
        if not isinstance(w, Tensor):
            w = _core.as_tensor(w, dtype or self.dtype)
        if tuple(w.shape) != shape:
            raise ValueError(f"{self.name}: initializer returned shape {tuple(w.shape)}, expected {shape}")
        w = w.contiguous() if not w.is_contiguous() else w
        w.requires_grad = bool(trainable) and w.dtype.startswith("float")
        self._weights.append({"tensor": w, "trainable": bool(trainable), "name": name or f"weight_{len(self._weights)}",
                              "regularizer": regularizers.get(regularizer),
                              "constraint": constraints.get(constraint)})
        return w

    def _sublayers(self):
        seen = []
        for v in self.__dict__.values():
            items = v if isinstance(v, (list, tuple)) else [v]
            for it in items:
                if isinstance(it, Layer) and it is not self and all(it is not s for s in seen):
                    seen.append(it)
        return seen

    def _all_weight_entries(self):
        out = list(self._weights)
        for sub in self._sublayers():
            for e in sub._all_weight_entries():
                out.append({**e, "trainable": e["trainable"] and sub.trainable})
        return out

    @property
    def weights(self):
        """All weights: trainable ones first, as Keras lists them."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [e["tensor"] for e in self._all_weight_entries() if e["trainable"]]

    @property
    def non_trainable_weights(self):
        entries = self._all_weight_entries()
        if not self.trainable:
            return [e["tensor"] for e in entries]
        return [e["tensor"] for e in entries if not e["trainable"]]

    trainable_variables = trainable_weights
    variables = weights

    def count_params(self):
        """Total number of scalars in the weights."""
        return int(sum(math.prod(w.shape) for w in self.weights))

    def get_weights(self):
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}: expected {len(mine)} weight arrays, received {len(weights)}")
        for w, v in zip(mine, weights):
            v = np.asarray(v)
            if tuple(v.shape) != tuple(w.shape):
                raise ValueError(f"{self.name}: weight shape mismatch, expected {tuple(w.shape)}, received {v.shape}")
            with _NoGrad():
                w.assign(v)

    @property
    def losses(self):
        """Regularization penalties of this layer and its sublayers (recomputed on access)."""
        out = []
        for e in self._all_weight_entries():
            if e["regularizer"] is not None and e["trainable"]:
                out.append(e["regularizer"](e["tensor"]))
        return out

    def _apply_constraints(self):
        """Projects constrained weights in place (called after each optimizer step)."""
        entries = [e for e in self._all_weight_entries() if e["constraint"] is not None]
        if not entries:
            return
        with _NoGrad():
            for e in entries:
                e["tensor"].assign(e["constraint"](e["tensor"]))

    # ---- build and call ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        raise NotImplementedError(f"{type(self).__name__} does not implement compute_output_shape")

    def __call__(self, inputs, training=None, **kwargs):
        from ..models import functional

        if functional.has_symbolic(inputs):
            if not self.built:
                self._build_input_shape = _shape_of(inputs)
                self.build(self._build_input_shape)
                self.built = True
            return functional.symbolic_call(self, (inputs,), kwargs)
        if not isinstance(inputs, (Tensor, list, tuple)):
            inputs = _core.as_tensor(inputs)
            if inputs.dtype == "float64":
                inputs = _core.cast(inputs, self.dtype)
        if not self.built:
            self._build_input_shape = _shape_of(inputs)
            self.build(self._build_input_shape)
            self.built = True
        if self._call_takes_training:
            kwargs["training"] = bool(training)
        return self.call(inputs, **kwargs)

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            cfg["input_shape"] = self._input_shape_arg
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class _NoGrad:
    def __enter__(self):
        self._prev = _core.set_grad_enabled(False)

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False
