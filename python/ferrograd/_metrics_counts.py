"""The metrics of ``keras.metrics`` built on per-class or per-threshold counts: F-scores, IoU,
R2, confusion counts and the sensitivity/specificity family (split from ``metrics.py``)."""
from __future__ import annotations

import numpy as np

from . import losses, ops
from .metrics import Metric, _as_result, _confusion, _div, _float, _np, _parse_thresholds, _snake, _t

# ---- F-scores -------------------------------------------------------------------------------------

class FBetaScore(Metric):
    """F-beta score per class (or averaged: "micro", "macro", "weighted"), for 2D
    ``(batch, classes)`` one-hot or multi-label targets. Predictions count as positive above
    ``threshold``, or at the row maximum when ``threshold`` is None."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                             f"Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of "
                             f"type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float. Received: "
                                 f"threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: "
                                 f"threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        super().__init__(name, dtype)

    def reset_state(self):
        # tp, fp, fn, support; their shape (classes) is kept once known, as Keras keeps its variables
        state = getattr(self, "_state", None)
        self._state = None if state is None else [np.zeros_like(a) for a in state]

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _float(y_true), _float(y_pred)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). Received "
                             f"input shapes: y_pred.shape={tuple(y_pred.shape)} and "
                             f"y_true.shape={tuple(y_true.shape)}.")
        if self.threshold is None:
            top = ops.max(y_pred, axis=-1, keepdims=True)
            pred = ops.logical_and(ops.greater_equal(y_pred, top), ops.greater(ops.abs(y_pred), 1e-9))
        else:
            pred = ops.greater(y_pred, self.threshold)
        pred = ops.cast(pred, "float32")
        y_true = ops.cast(y_true, "float32")
        w = None if sample_weight is None else ops.expand_dims(ops.cast(_t(sample_weight), "float32"), 1)

        def wsum(v):
            return _np(ops.sum(v if w is None else v * w, axis=self.axis))

        got = [wsum(pred * y_true), wsum(pred * (1.0 - y_true)), wsum((1.0 - pred) * y_true), wsum(y_true)]
        self._state = got if self._state is None else [a + b for a, b in zip(self._state, got)]

    def result(self):
        if self._state is None:
            return 0.0 if self.average is not None else 0.0
        eps = losses.EPSILON
        tp, fp, fn, support = self._state
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + eps) * (1.0 + b2)
        if self.average == "weighted":
            f = np.sum(f * support / (np.sum(support) + eps))
        elif self.average is not None:
            f = np.mean(f)
        return _as_result(f)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score: :class:`FBetaScore` with ``beta=1``."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        cfg = super().get_config()
        del cfg["beta"]
        return cfg


# ---- IoU ------------------------------------------------------------------------------------------

class _IoUBase(Metric):
    """Accumulates a (num_classes, num_classes) confusion matrix, rows true and columns predicted
    classes. As in Keras the default dtype is integer: sample weights are truncated to integers."""

    _default_dtype = "int32"

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"Argument `num_classes` must be a positive integer. Received: num_classes={num_classes}")
        self.num_classes, self.ignore_class = num_classes, ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        super().__init__(name or _snake(type(self).__name__), dtype)

    def reset_state(self):
        self._cm = np.zeros((self.num_classes, self.num_classes), np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _t(y_true), _t(y_pred)
        if not self.sparse_y_true:
            y_true = ops.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = ops.argmax(y_pred, axis=self.axis)
        y_true = ops.reshape(ops.cast(y_true, "int64"), (-1,))
        y_pred = ops.reshape(ops.cast(y_pred, "int64"), (-1,))
        n = self.num_classes
        ok = ops.logical_and(ops.logical_and(ops.greater_equal(y_true, 0), ops.less(y_true, n)),
                             ops.logical_and(ops.greater_equal(y_pred, 0), ops.less(y_pred, n)))
        if self.ignore_class is not None:
            ok = ops.logical_and(ok, ops.not_equal(y_true, self.ignore_class))
        if sample_weight is None:
            w = ops.cast(ok, "float32")
        else:
            w = ops.reshape(_t(sample_weight), (-1,))
            if self.dtype is None or "int" in str(self.dtype):
                w = ops.cast(w, "int64")
            w = ops.where(ok, ops.broadcast_to(ops.cast(w, "float32"), ok.shape), 0.0)
        y_true, y_pred = ops.where(ok, y_true, 0), ops.where(ok, y_pred, 0)
        t_hot = ops.one_hot(y_true, n, dtype="float32")  # (N, C)
        p_hot = ops.one_hot(y_pred, n, dtype="float32") * ops.expand_dims(w, -1)
        self._cm += _np(ops.matmul(ops.transpose(t_hot), p_hot))


class IoU(_IoUBase):
    """Intersection-over-union ``tp / (tp + fp + fn)`` averaged over ``target_class_ids``."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name, dtype, ignore_class, sparse_y_true, sparse_y_pred, axis)
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = target_class_ids

    def result(self):
        cm = self._cm
        tp = np.diag(cm)
        denom = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denom > 1e-9
        iou = np.where(valid, tp / (denom + losses.EPSILON), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + losses.EPSILON))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary targets, predictions counted as 1 at ``>= threshold``."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = ops.cast(ops.greater_equal(ops.cast(_t(y_pred), "float32"), self.threshold), "int64")
        super().update_state(y_true, pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype or self._default_dtype}


class MeanIoU(IoU):
    """IoU averaged over all ``num_classes`` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name, dtype, ignore_class, sparse_y_true,
                         sparse_y_pred, axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype or self._default_dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU of one-hot targets and per-class scores (argmax along ``axis``)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype or self._default_dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """Mean IoU of one-hot targets and per-class scores (argmax along ``axis``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name, dtype, ignore_class, False, sparse_y_pred, axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype or self._default_dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


# ---- R2 -------------------------------------------------------------------------------------------

class R2Score(Metric):
    """Coefficient of determination per output column of 2D ``(batch, outputs)`` data, averaged
    ("uniform_average"), weighted by the target variance ("variance_weighted_average") or per
    column (None); adjusted for ``num_regressors`` when that is not 0."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {valid}. Received: "
                             f"class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name, dtype)

    def reset_state(self):
        state = getattr(self, "_state", None)  # sum, squared_sum, residual, count (per column), kept shaped
        self._state = None if state is None else [np.zeros_like(a) for a in state]
        self._num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses._pair(y_true, y_pred)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                             f"y_pred.shape={tuple(y_pred.shape)} and y_true.shape={tuple(y_true.shape)}.")
        w = ops.full((), 1.0, y_true.dtype) if sample_weight is None else ops.cast(_t(sample_weight), y_true.dtype)
        if w.ndim == 1:
            w = ops.expand_dims(w, 1)
        w = ops.broadcast_to(w, y_true.shape)
        wy = y_true * w
        got = [_np(ops.sum(wy, axis=0)), _np(ops.sum(y_true * wy, axis=0)),
               _np(ops.sum(ops.square(y_true - y_pred) * w, axis=0)), _np(ops.sum(w, axis=0))]
        self._state = got if self._state is None else [a + b for a, b in zip(self._state, got)]
        self._num_samples += y_true.size

    def result(self):
        import warnings

        if self._state is None:
            return float("nan") if self.class_aggregation is not None else 0.0
        s, sq, res, count = self._state
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = s / count
            total = sq - s * mean
            raw = 1.0 - res / total
            raw = np.where(np.isinf(raw), 0.0, raw)
            if self.class_aggregation == "uniform_average":
                r2 = np.mean(raw)
            elif self.class_aggregation == "variance_weighted_average":
                r2 = np.sum(total * raw) / np.sum(total)
            else:
                r2 = raw
        n, p = self._num_samples, self.num_regressors
        if p != 0:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
        return _as_result(r2)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ---- confusion counts -----------------------------------------------------------------------------

class _ConfusionCount(Metric):
    """One confusion count (tp, fp, tn or fn) at each of ``thresholds`` (prediction > threshold)."""

    _index = 0  # position in _confusion's (tp, fp, fn, tn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds)
        super().__init__(name or _snake(type(self).__name__), dtype)

    def reset_state(self):
        self._acc = np.zeros(len(self.thresholds), np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._acc = self._acc + _confusion(y_true, y_pred, self.thresholds, sample_weight, False)[self._index]

    def result(self):
        return _as_result(self._acc[0] if len(self.thresholds) == 1 else self._acc)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """Weighted count of positives predicted above the threshold."""

    _index = 0


class FalsePositives(_ConfusionCount):
    """Weighted count of negatives predicted above the threshold."""

    _index = 1


class FalseNegatives(_ConfusionCount):
    """Weighted count of positives predicted at or below the threshold."""

    _index = 2


class TrueNegatives(_ConfusionCount):
    """Weighted count of negatives predicted at or below the threshold."""

    _index = 3


class _SensitivitySpecificityBase(Metric):
    """Confusion counts at ``num_thresholds`` thresholds evenly spaced in [0, 1] (0.5 alone when
    ``num_thresholds`` is 1); ``result`` is the best ``dependent`` value among the thresholds
    where ``constrained >= value`` (0 when there is none)."""

    _value_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._value_name}` must be in the range [0, 1]. Received: "
                             f"{self._value_name}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        setattr(self, self._value_name, value)
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            self.thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        super().__init__(name or _snake(type(self).__name__), dtype)

    def reset_state(self):
        self._counts = [np.zeros(len(self.thresholds), np.float64) for _ in range(4)]  # tp, fp, fn, tn

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _t(y_true), _t(y_pred)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        got = _confusion(y_true, y_pred, self.thresholds, sample_weight, False)
        self._counts = [a + b for a, b in zip(self._counts, got)]

    def _rates(self):
        tp, fp, fn, tn = self._counts
        return {"recall": _div(tp, tp + fn), "precision": _div(tp, tp + fp), "specificity": _div(tn, tn + fp)}

    def result(self):
        r = self._rates()
        constrained, dependent = r[self._constrained], r[self._dependent]
        return float(np.max(np.where(constrained >= self.value, dependent, 0.0), initial=0.0))

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self._value_name: self.value}


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """Best sensitivity (recall) at a specificity >= ``specificity``."""

    _value_name, _constrained, _dependent = "specificity", "specificity", "recall"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """Best specificity at a sensitivity (recall) >= ``sensitivity``."""

    _value_name, _constrained, _dependent = "sensitivity", "recall", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """Best precision at a recall >= ``recall``."""

    _value_name, _constrained, _dependent = "recall", "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_SensitivitySpecificityBase):
    """Best recall at a precision >= ``precision``."""

    _value_name, _constrained, _dependent = "precision", "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
