"""Losses (``keras.losses`` names, arguments, defaults and reductions).

Classification losses from logits use one fused Rust kernel (softmax + cross-entropy, with the
``softmax - onehot`` gradient); the others compose a handful of ops.
"""
from __future__ import annotations

from . import _core, ops
from ._core import Tensor

__all__ = [
    "Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "Huber", "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "huber", "mse", "mae", "get", "serialize",
    "deserialize",
]

EPSILON = 1e-7  # Keras' backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _t(x, like=None):
    t = x if isinstance(x, Tensor) else _core.as_tensor(x)
    if like is not None and t.dtype != like.dtype and like.dtype.startswith("float"):
        t = _core.cast(t, like.dtype)
    return t


# ---- per-sample loss functions ------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """``mean(square(y_pred - y_true), axis=-1)``."""
    y_pred = _t(y_pred)
    return ops.mean(ops.square(y_pred - _t(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_pred - y_true), axis=-1)``."""
    y_pred = _t(y_pred)
    return ops.mean(ops.abs(y_pred - _t(y_true, y_pred)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic below ``delta``, linear above; mean over the last axis."""
    y_pred = _t(y_pred)
    err = ops.abs(y_pred - _t(y_true, y_pred))
    quad = ops.minimum(err, delta)
    return ops.mean(0.5 * quad * quad + delta * (err - quad), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy, mean over ``axis``; stable from logits, clipped from probabilities."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        # max(x, 0) - x y + log(1 + exp(-|x|)), exact and stable for any x
        per = ops.relu(y_pred) - y_pred * y_true + ops.softplus(-ops.abs(y_pred))
    else:
        p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
        per = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.mean(per, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy against target distributions over ``axis`` (the classes)."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    if label_smoothing:
        n = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    if from_logits:
        if axis not in (-1, y_pred.ndim - 1):
            y_pred, y_true = ops.moveaxis(y_pred, axis, -1), ops.moveaxis(y_true, axis, -1)
        return _core.softmax_cross_entropy(y_pred, y_true, False)
    p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    return -ops.sum(y_true * ops.log(p), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy against integer labels; ``y_true`` may carry a trailing axis of size 1."""
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    if y_true.dtype.startswith("float"):
        y_true = _core.cast(y_true, "int64")
    if axis not in (-1, y_pred.ndim - 1):
        y_pred = ops.moveaxis(y_pred, axis, -1)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    mask = None
    if ignore_class is not None:
        mask = ops.not_equal(y_true, ignore_class)
        y_true = ops.where(mask, y_true, 0)
    if from_logits:
        loss = _core.softmax_cross_entropy(y_pred, y_true, True)
    else:
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        p = ops.clip(p, EPSILON, 1.0 - EPSILON)
        loss = -ops.squeeze(ops.take_along_axis(ops.log(p), ops.expand_dims(y_true, -1), axis=-1), -1)
    if mask is not None:
        loss = ops.where(mask, loss, 0.0)
    return loss


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# ---- Loss classes ---------------------------------------------------------------------------------

def _reduce(losses, sample_weight, reduction):
    if sample_weight is not None:
        w = _t(sample_weight, losses)
        while w.ndim > losses.ndim and w.shape[-1] == 1:
            w = ops.squeeze(w, -1)
        losses = losses * w
    if reduction in ("none", None):
        return losses
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    if reduction in ("mean", "mean_with_sample_weight") and sample_weight is not None:
        return total / ops.maximum(ops.sum(ops.broadcast_to(_t(sample_weight, losses), losses.shape)), EPSILON)
    return total / max(losses.size, 1)


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` applies ``call`` then the reduction."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS[:-1]}. "
                             f"Received: reduction={reduction}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        return _reduce(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function and its keyword arguments."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits


_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
                                     CategoricalCrossentropy, SparseCategoricalCrossentropy)}
_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "binary_crossentropy": binary_crossentropy, "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy, "huber": huber,
}


def serialize(loss):
    if isinstance(loss, Loss):
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return getattr(loss, "__name__", str(loss))


def deserialize(config):
    if isinstance(config, str):
        return get(config)
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Could not interpret loss class name: {config.get('class_name')!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A loss from a string id (function or class name), a serialized dict, a Loss or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier]
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}; expected one of "
                     f"{sorted(set(_FUNCTIONS) | set(_CLASSES))}")
