"""Weight regularizers (``keras.regularizers``): penalties added to the model loss."""
from __future__ import annotations

from . import _serialization, ops

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "orthogonal_regularizer",
           "get", "serialize", "deserialize"]


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check(name, v):
    if v is None or v < 0 or v != v:
        raise ValueError(f"Value for argument `{name}` must be a non-negative float. Received: {name}={v}")
    return float(v)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _check("l1", l1), _check("l2", l2)

    def __call__(self, x):
        out = 0.0
        if self.l1:
            out = out + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            out = out + self.l2 * ops.sum(ops.square(x))
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (``mode="rows"``) or columns of a 2-D weight to be orthogonal:
    ``factor * 0.5 * sum(|G - diag(G)|) / (n (n - 1) / 2)`` where ``G`` is the Gram matrix of the
    L2-normalized rows (columns) and ``n`` their count.

    Args: factor (default 0.01), mode ("rows" or "columns").
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _check("factor", factor)
        if mode not in {"rows", "columns"}:
            raise ValueError(f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. "
                             f"Received: mode={mode}")
        self.mode = mode

    def __call__(self, inputs):
        if len(inputs.shape) != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={inputs.shape}")
        axis = 1 if self.mode == "rows" else 0
        unit = inputs * ops.rsqrt(ops.maximum(ops.sum(ops.square(inputs), axis=axis, keepdims=True), 1e-12))
        if self.mode == "rows":
            product, size = ops.matmul(unit, ops.transpose(unit)), inputs.shape[0]  # (R, R)
        else:
            product, size = ops.matmul(ops.transpose(unit), unit), inputs.shape[1]  # (C, C)
        off_diagonal = product * (1.0 - ops.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * ops.sum(ops.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer, "OrthogonalRegularizer": OrthogonalRegularizer}


def serialize(regularizer):
    """Keras 3's form: ``{"module": "keras.regularizers", "class_name", "config", "registered_name"}``."""
    return _serialization.serialize_object(regularizer, "keras.regularizers", "regularizer")


def deserialize(config):
    """The regularizer described by ``serialize``'s output (or a bare class name)."""
    return _serialization.deserialize_object(config, _BY_NAME, "regularizer")


def get(identifier):
    """A regularizer from None, a name (``"l2"``), a serialized dict, an instance or a callable."""
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
