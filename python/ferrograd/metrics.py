"""Metrics (``keras.metrics``): stateful accumulators whose per-batch work runs in Rust ops."""
from __future__ import annotations

import numpy as np

from . import _core, losses, ops
from ._core import Tensor

__all__ = ["Metric", "Mean", "Sum", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "AUC", "Precision", "Recall", "get"]


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


def _confusion(y_true, y_pred, thresholds, sample_weight, multi_label, from_logits=False):
    """True/false positives and negatives at each threshold (prediction > threshold), as float64
    arrays of shape (T,) or (labels, T) with ``multi_label``; the per-sample work runs in ops."""
    y_pred = _t(y_pred)
    y_pred = ops.sigmoid(y_pred) if from_logits else y_pred
    y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(_t(y_true), "float32")
    if tuple(y_true.shape) != tuple(y_pred.shape):
        if y_true.size != y_pred.size:
            raise ValueError(f"y_true has shape {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}; they must "
                             "hold the same number of values")
        y_true = ops.reshape(y_true, y_pred.shape)
    if multi_label:
        p = ops.reshape(y_pred, (-1, y_pred.shape[-1]))  # (N, L)
        y = ops.reshape(y_true, (-1, y_pred.shape[-1]))
    else:
        p, y = ops.reshape(y_pred, (-1,)), ops.reshape(y_true, (-1,))
    w = None
    if sample_weight is not None:
        w = ops.cast(_t(sample_weight), "float32")
        per_row = y_pred.size // max(w.size, 1) if w.size else 1
        w = ops.reshape(w, (-1, 1)) if multi_label else ops.reshape(ops.repeat(ops.reshape(w, (-1,)), per_row), (-1,))
    th = _core.as_tensor(np.asarray(thresholds, np.float32))
    above = ops.cast(ops.greater(ops.expand_dims(p, -1), th), "float32")  # (..., T)
    pos = y if w is None else y * w
    neg = (1.0 - y) if w is None else (1.0 - y) * w
    tp = ops.sum(above * ops.expand_dims(pos, -1), axis=0).numpy().astype(np.float64)
    fp = ops.sum(above * ops.expand_dims(neg, -1), axis=0).numpy().astype(np.float64)
    n_pos = ops.sum(pos, axis=0).numpy().astype(np.float64)
    n_neg = ops.sum(neg, axis=0).numpy().astype(np.float64)
    if multi_label:
        n_pos, n_neg = n_pos[:, None], n_neg[:, None]
    return tp, fp, n_pos - tp, n_neg - fp


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from confusion counts at ``num_thresholds``
    thresholds (Keras' definition: thresholds evenly spaced in [0, 1] plus two just outside it,
    Riemann sum with ``summation_method`` "interpolation", "minoring" or "majoring")."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             '["interpolation", "majoring", "minoring"]')
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            if any(not 0.0 <= t <= 1.0 for t in inner):
                raise ValueError(f"thresholds must be in [0, 1], received {thresholds}")
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        eps = 1e-7
        self.thresholds = [0.0 - eps] + inner + [1.0 + eps]
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.num_labels, self.from_logits = bool(multi_label), num_labels, bool(from_logits)
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        super().__init__(name or "auc", dtype)

    def reset_state(self):
        self._counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        got = _confusion(y_true, y_pred, self.thresholds, sample_weight, self.multi_label, self.from_logits)
        if self._counts is None:
            self._counts = [c.copy() for c in got]
        elif got[0].shape != self._counts[0].shape:
            raise ValueError(f"AUC: the number of labels changed from {self._counts[0].shape[0]} to {got[0].shape[0]}")
        else:
            for acc, c in zip(self._counts, got):
                acc += c

    def result(self):
        if self._counts is None:
            return 0.0
        tp, fp, fn, tn = self._counts
        lo, hi = (slice(None), slice(None, -1)), (slice(None), slice(1, None))
        if tp.ndim == 1:
            lo, hi = lo[1], hi[1]
        if self.curve == "PR" and self.summation_method == "interpolation":
            # Davis & Goadrich (2006): precision interpolated linearly in the number of positives.
            dtp = tp[lo] - tp[hi]
            p = tp + fp
            dp = p[lo] - p[hi]
            slope = _div(dtp, np.maximum(dp, 0.0))
            intercept = tp[hi] - slope * p[hi]
            both = (p[lo] > 0) & (p[hi] > 0)
            ratio = np.where(both, _div(p[lo], np.maximum(p[hi], 0.0)), 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
            area = np.sum(_div(slope * (dtp + intercept * log_ratio), np.maximum(tp[hi] + fn[hi], 0.0)), axis=-1)
        else:
            recall = _div(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _div(fp, fp + tn), recall
            else:
                x, y = recall, _div(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[lo] + y[hi]) / 2.0
            elif self.summation_method == "minoring":
                heights = np.minimum(y[lo], y[hi])
            else:
                heights = np.maximum(y[lo], y[hi])
            area = np.sum((x[lo] - x[hi]) * heights, axis=-1)
        if self.multi_label:
            if self.label_weights is None:
                return float(np.mean(area))
            return float(np.sum(area * self.label_weights) / np.sum(self.label_weights))
        return float(area)

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "multi_label": self.multi_label,
                "from_logits": self.from_logits}


class _Thresholded(Metric):
    """Precision/Recall at one threshold (or several: the result is then a list)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None:
            raise ValueError(f"{type(self).__name__}(top_k=...) is not supported yet")
        self._single = thresholds is None or isinstance(thresholds, (int, float))
        self.thresholds = [0.5 if thresholds is None else float(thresholds)] if self._single else \
            [float(t) for t in thresholds]
        self.class_id = class_id
        super().__init__(name, dtype)

    def reset_state(self):
        self._tp = self._other = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _t(y_true), _t(y_pred)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        tp, fp, fn, _ = _confusion(y_true, y_pred, self.thresholds, sample_weight, False)
        self._tp = self._tp + tp
        self._other = self._other + (fp if self._kind == "precision" else fn)

    def result(self):
        r = _div(np.asarray(self._tp, np.float64), np.asarray(self._tp + self._other, np.float64))
        r = np.broadcast_to(r, (len(self.thresholds),))
        return float(r[0]) if self._single else [float(v) for v in r]


class Precision(_Thresholded):
    """tp / (tp + fp) with predictions above ``thresholds`` (default 0.5) counted as positive."""

    _kind = "precision"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)


class Recall(_Thresholded):
    """tp / (tp + fn) with predictions above ``thresholds`` (default 0.5) counted as positive."""

    _kind = "recall"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)


_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy, "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "auc": AUC, "AUC": AUC, "precision": Precision, "recall": Recall,
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


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
