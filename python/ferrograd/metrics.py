"""Metrics (``keras.metrics``): stateful accumulators whose per-batch work runs in Rust ops."""
from __future__ import annotations

from . import _core, losses, ops
from ._core import Tensor

__all__ = ["Metric", "Mean", "Sum", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "get"]


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


class Metric:
    """Base: ``update_state(...)`` accumulates, ``result()`` reads, ``reset_state()`` clears."""

    def __init__(self, name=None, dtype=None):
        self.name = name or type(self).__name__.lower()
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        self._total = 0.0
        self._count = 0.0

    def result(self):
        return self._total / self._count if self._count else 0.0

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Mean(Metric):
    """Weighted mean of the values passed to ``update_state``."""

    def update_state(self, values, sample_weight=None):
        v = _t(values)
        if sample_weight is not None:
            w = ops.broadcast_to(_t(sample_weight), v.shape) if _t(sample_weight).ndim <= v.ndim else _t(sample_weight)
            self._total += float(ops.sum(v * w).item())
            self._count += float(ops.sum(w).item())
        else:
            self._total += float(ops.sum(v).item())
            self._count += v.size


class Sum(Metric):
    def update_state(self, values, sample_weight=None):
        v = _t(values)
        self._total += float(ops.sum(v if sample_weight is None else v * _t(sample_weight)).item())
        self._count = 1.0


class _MeanFn(Mean):
    """Mean of a per-sample function of (y_true, y_pred)."""

    fn = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(type(self).fn(y_true, y_pred), sample_weight)


def _sparse_acc(y_true, y_pred):
    y_pred = _t(y_pred)
    y_true = _t(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    return ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), ops.cast(y_true, "int64")), "float32")


def _cat_acc(y_true, y_pred):
    return ops.cast(ops.equal(ops.argmax(_t(y_pred), axis=-1), ops.argmax(_t(y_true), axis=-1)), "float32")


def _bin_acc(y_true, y_pred, threshold=0.5):
    y_pred = _t(y_pred)
    pred = ops.cast(ops.greater(y_pred, threshold), "float32")
    return ops.mean(ops.cast(ops.equal(pred, ops.cast(_t(y_true), "float32")), "float32"), axis=-1)


def _acc(y_true, y_pred):
    y_pred, y_true = _t(y_pred), _t(y_true)
    return ops.cast(ops.equal(ops.cast(y_true, y_pred.dtype), y_pred), "float32")


def _top_k(y_true_idx, y_pred, k):
    y_pred = _t(y_pred)
    target = ops.take_along_axis(y_pred, ops.expand_dims(ops.cast(y_true_idx, "int64"), -1), axis=-1)  # (B, 1)
    rank = ops.sum(ops.cast(ops.greater(y_pred, target), "float32"), axis=-1)
    return ops.cast(ops.less(rank, float(k)), "float32")


class Accuracy(_MeanFn):
    fn = staticmethod(_acc)

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name, dtype)


class SparseCategoricalAccuracy(_MeanFn):
    fn = staticmethod(_sparse_acc)

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class CategoricalAccuracy(_MeanFn):
    fn = staticmethod(_cat_acc)

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(name, dtype)


class BinaryAccuracy(Mean):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name, dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_bin_acc(y_true, y_pred, self.threshold), sample_weight)


class TopKCategoricalAccuracy(Mean):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_top_k(ops.argmax(_t(y_true), axis=-1), y_pred, self.k), sample_weight)


class SparseTopKCategoricalAccuracy(Mean):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _t(y_true)
        if y_true.ndim == _t(y_pred).ndim:
            y_true = ops.squeeze(y_true, -1)
        super().update_state(_top_k(y_true, y_pred, self.k), sample_weight)


class MeanSquaredError(_MeanFn):
    fn = staticmethod(losses.mean_squared_error)

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(name, dtype)


class MeanAbsoluteError(_MeanFn):
    fn = staticmethod(losses.mean_absolute_error)

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(name, dtype)


_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy, "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """A metric from a name or instance; "accuracy"/"acc" is resolved from the loss and shapes as Keras does."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        name = getattr(loss, "__name__", None) or getattr(loss, "name", "") or ""
        if "sparse_categorical" in name:
            m = SparseCategoricalAccuracy(name=identifier)
        elif "binary" in name:
            m = BinaryAccuracy(name=identifier)
        elif "categorical" in name:
            m = CategoricalAccuracy(name=identifier)
        elif y_true_shape is not None and y_pred_shape is not None and y_pred_shape[-1] > 1 and (
                len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1):
            m = SparseCategoricalAccuracy(name=identifier)
        else:
            m = Accuracy(name=identifier)
        return m
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
