"""Metrics (``keras.metrics``): stateful accumulators whose per-batch work runs in Rust ops."""
from __future__ import annotations

import math
import re

import numpy as np

from . import _core, losses, ops
from ._core import Tensor

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "AUC", "Precision", "Recall", "RootMeanSquaredError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "CosineSimilarity", "LogCoshError", "R2Score", "FalseNegatives", "FalsePositives",
    "TrueNegatives", "TruePositives", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
    "SpecificityAtSensitivity", "ConcordanceCorrelation", "PearsonCorrelation", "Hinge", "SquaredHinge",
    "CategoricalHinge", "KLDivergence", "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "F1Score", "FBetaScore", "IoU", "BinaryIoU", "MeanIoU", "OneHotIoU",
    "OneHotMeanIoU", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge",
    "concordance_correlation", "hinge", "huber", "kl_divergence", "log_cosh", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "pearson_correlation",
    "poisson", "sparse_categorical_crossentropy", "squared_hinge", "get", "serialize", "deserialize",
]


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

    _default_dtype = "float32"  # what Keras writes for dtype=None (the computations run in float32)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype or self._default_dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    """Keras' ``to_snake_case`` ("TopKCategoricalAccuracy" -> "top_k_categorical_accuracy",
    "MeanIoU" -> "mean_io_u")."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Mean(Metric):
    """Weighted mean of the values passed to ``update_state``.

    As Keras' ``reduce_to_samplewise_values``: values are first reduced to one mean per sample
    (over the axes the weights do not have); the count is the number of samples, or the sum of
    the weights.
    """

    def update_state(self, values, sample_weight=None):
        v = _t(values)
        mask = getattr(v, "_keras_mask", None)  # e.g. sparse_categorical_crossentropy(ignore_class=...)
        if not v.dtype.startswith("float"):
            v = ops.cast(v, "float32")
        if mask is not None:
            sample_weight = losses._apply_mask(sample_weight, mask, v, "sum")
        w = None
        if sample_weight is not None:
            w = _t(sample_weight)
            w = ops.cast(w, v.dtype) if w.dtype != v.dtype else w
            v, w = losses._same_rank(v, w)
            if v.ndim > w.ndim:
                v = ops.mean(v, axis=tuple(range(w.ndim, v.ndim)))
            w = ops.broadcast_to(w, v.shape)
            v = v * w
            if w.ndim > 1:
                w = ops.mean(w, axis=tuple(range(1, w.ndim)))
        if v.ndim > 1:
            v = ops.mean(v, axis=tuple(range(1, v.ndim)))
        self._total += float(ops.sum(v).item())
        if w is not None:
            self._count += float(ops.sum(w).item())
        else:
            self._count += v.shape[0] if v.ndim >= 1 else 1


class Sum(Metric):
    """Weighted sum of the values passed to ``update_state`` (weights of lower rank weigh whole
    samples, as Keras' ``reduce_to_samplewise_values`` brings them)."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, values, sample_weight=None):
        v = _float(values)
        if sample_weight is not None:
            w = ops.cast(_t(sample_weight), v.dtype)
            v, w = losses._same_rank(v, w)
            if v.ndim > w.ndim:
                v = ops.sum(v, axis=tuple(range(w.ndim, v.ndim)))
            v = v * ops.broadcast_to(w, v.shape)
        self._total += float(ops.sum(v).item())
        self._count = 1.0

    def result(self):
        return self._total


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
    # Keras squeezes or expands to the same rank first: labels (B,) against outputs (B, 1)
    # compare sample by sample, never as a (B, B) broadcast
    y_true, y_pred = losses._same_rank(_t(y_true), _t(y_pred))
    pred = ops.cast(ops.greater(y_pred, threshold), "float32")
    return ops.mean(ops.cast(ops.equal(pred, ops.cast(y_true, "float32")), "float32"), axis=-1)


def _acc(y_true, y_pred):
    y_true, y_pred = losses._same_rank(_t(y_true), _t(y_pred))
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

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class TopKCategoricalAccuracy(Mean):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(_top_k(ops.argmax(_t(y_true), axis=-1), y_pred, self.k), sample_weight)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(Mean):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(name, dtype)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _t(y_true)
        if y_true.ndim == _t(y_pred).ndim:
            y_true = ops.squeeze(y_true, -1)
        super().update_state(_top_k(y_true, y_pred, self.k), sample_weight)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


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
        self._init_from_thresholds = thresholds is not None
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
        cfg = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
               "summation_method": self.summation_method, "multi_label": self.multi_label,
               "num_labels": self.num_labels,
               "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
               "from_logits": self.from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = self.thresholds[1:-1]
        return cfg


class _Thresholded(Metric):
    """Precision/Recall at one threshold (or several: the result is then a list)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
            raise ValueError(f"Argument `top_k` must be a positive integer. Received: top_k={top_k}")
        self._single = thresholds is None or isinstance(thresholds, (int, float))
        # with top_k the default threshold is Keras' NEG_INF: every prediction in the top k counts
        self.thresholds = _parse_thresholds(thresholds, default=0.5 if top_k is None else _NEG_INF)
        self.class_id = class_id
        self.init_thresholds, self.top_k = thresholds, top_k
        super().__init__(name, dtype)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}

    def reset_state(self):
        self._tp = self._other = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _t(y_true), _t(y_pred)
        if self.top_k is not None:
            # predictions outside each row's top k become NEG_INF (never above a threshold)
            _, idx = ops.top_k(y_pred, self.top_k)
            keep = ops.greater(ops.sum(ops.one_hot(idx, y_pred.shape[-1], dtype="float32"), axis=-2), 0.0)
            y_pred = ops.where(keep, ops.cast(y_pred, "float32"), _NEG_INF)
        if self.class_id is not None:
            if y_pred.ndim == 1:
                raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                                 f"num_classes), found shape: {tuple(y_pred.shape)}")
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


# ---- metric functions and mean-of-a-function metrics -----------------------------------------------

def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``y_pred > threshold`` equals ``y_true``, averaged over the last axis."""
    y_true, y_pred = losses._same_rank(_t(y_true), _t(y_pred))
    return _bin_acc(y_true, y_pred, threshold)


def categorical_accuracy(y_true, y_pred):
    """1 where the argmax of ``y_pred`` is the argmax of the one-hot ``y_true``."""
    return _cat_acc(y_true, y_pred)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the argmax of ``y_pred`` is the integer label ``y_true``."""
    return _sparse_acc(y_true, y_pred)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot target is among the ``k`` largest predictions."""
    return _top_k(ops.argmax(_t(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the ``k`` largest predictions (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``)."""
    y_true, y_pred = _t(y_true), _t(y_pred)
    if y_true.ndim == y_pred.ndim:
        y_true = ops.squeeze(y_true, -1)
    if from_sorted_ids:
        hit = ops.equal(y_pred[..., :k], ops.expand_dims(ops.cast(y_true, y_pred.dtype), -1))
        return ops.cast(ops.any(hit, axis=-1), "float32")
    return _top_k(y_true, y_pred, k)


def _positive_cosine(y_true, y_pred, axis=-1):
    """Cosine similarity as a metric (positive: 1 for aligned vectors)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient along ``axis``."""
    y_true, y_pred = losses._pair(y_true, y_pred)
    t = y_true - ops.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - ops.mean(y_pred, axis=axis, keepdims=True)
    t = t / ops.std(t, axis=axis, keepdims=True)
    p = p / ops.std(p, axis=axis, keepdims=True)
    return ops.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient along ``axis`` (Keras' formula)."""
    y_true, y_pred = losses._pair(y_true, y_pred)
    t_mean = ops.mean(y_true, axis=axis, keepdims=True)
    p_mean = ops.mean(y_pred, axis=axis, keepdims=True)
    t_var = ops.var(y_true - t_mean, axis=axis, keepdims=True)
    p_var = ops.var(y_pred - p_mean, axis=axis, keepdims=True)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + ops.square(t_mean - p_mean)
    return ops.mean(2.0 * covar / (norm + losses.EPSILON), axis=axis)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = getattr(y_pred, "_keras_mask", None)  # the model output's mask, as Keras reads it
        if mask is not None:
            sample_weight = losses._apply_mask(sample_weight, mask, _float(values), "sum")
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


def _fn_metric(cls_name, fn, default_name, doc, extra=()):
    """A MeanMetricWrapper subclass with Keras' constructor ``(name, dtype, *extra)``."""
    defaults = dict(extra)

    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{cls_name}.__init__() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
        for k, v in {**defaults, **kwargs}.items():
            setattr(self, k, v)

    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


Hinge = _fn_metric("Hinge", losses.hinge, "hinge", "Mean hinge loss.")
SquaredHinge = _fn_metric("SquaredHinge", losses.squared_hinge, "squared_hinge", "Mean squared hinge loss.")
CategoricalHinge = _fn_metric("CategoricalHinge", losses.categorical_hinge, "categorical_hinge",
                              "Mean categorical hinge loss.")
KLDivergence = _fn_metric("KLDivergence", losses.kl_divergence, "kl_divergence", "Mean KL divergence.")
Poisson = _fn_metric("Poisson", losses.poisson, "poisson", "Mean Poisson loss.")
LogCoshError = _fn_metric("LogCoshError", losses.log_cosh, "logcosh", "Mean log-cosh error.")
MeanAbsolutePercentageError = _fn_metric("MeanAbsolutePercentageError", losses.mean_absolute_percentage_error,
                                         "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _fn_metric("MeanSquaredLogarithmicError", losses.mean_squared_logarithmic_error,
                                         "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
CosineSimilarity = _fn_metric("CosineSimilarity", _positive_cosine, "cosine_similarity",
                              "Mean cosine similarity (1 for aligned vectors).", extra=(("axis", -1),))
PearsonCorrelation = _fn_metric("PearsonCorrelation", pearson_correlation, "pearson_correlation",
                                "Mean Pearson correlation along ``axis``.", extra=(("axis", -1),))
ConcordanceCorrelation = _fn_metric("ConcordanceCorrelation", concordance_correlation, "concordance_correlation",
                                    "Mean concordance correlation along ``axis``.", extra=(("axis", -1),))
BinaryCrossentropy = _fn_metric("BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
                                "Mean binary cross-entropy.", extra=(("from_logits", False), ("label_smoothing", 0)))
CategoricalCrossentropy = _fn_metric(
    "CategoricalCrossentropy", losses.categorical_crossentropy, "categorical_crossentropy",
    "Mean categorical cross-entropy.", extra=(("from_logits", False), ("label_smoothing", 0), ("axis", -1)))
SparseCategoricalCrossentropy = _fn_metric(
    "SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
    "Mean sparse categorical cross-entropy.", extra=(("from_logits", False), ("ignore_class", None), ("axis", -1)))


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all samples seen (weighted)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses._pair(y_true, y_pred)
        super().update_state(ops.square(y_pred - y_true), sample_weight)

    def result(self):
        return math.sqrt(super().result())


def _as_result(a):
    """A metric result: a float for one value, else a float32 tensor (Keras returns a tensor)."""
    a = np.asarray(a, np.float64)
    return float(a) if a.ndim == 0 else _core.as_tensor(a.astype(np.float32))


def _float(x):
    t = _t(x)
    return t if t.dtype.startswith("float") else ops.cast(t, "float32")


def _np(t):
    return np.asarray(t.numpy(), np.float64)


_NEG_INF = -1e10  # Keras' metrics_utils.NEG_INF


def _parse_thresholds(thresholds, default=0.5):
    values = [default] if thresholds is None else (
        [thresholds] if isinstance(thresholds, (int, float)) else list(thresholds))
    bad = [t for t in values if t is None or not 0.0 <= float(t) <= 1.0] if thresholds is not None else []
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in values]


from ._metrics_counts import (  # noqa: E402  (they subclass Metric, defined above)
    BinaryIoU,
    F1Score,
    FalseNegatives,
    FalsePositives,
    FBetaScore,
    IoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
    PrecisionAtRecall,
    R2Score,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)

# metric functions that are the loss functions (keras.metrics.hinge is keras.losses.hinge)
binary_crossentropy = losses.binary_crossentropy
binary_focal_crossentropy = losses.binary_focal_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
categorical_focal_crossentropy = losses.categorical_focal_crossentropy
categorical_hinge = losses.categorical_hinge
hinge = losses.hinge
huber = losses.huber
kl_divergence = losses.kl_divergence
log_cosh = losses.log_cosh
mean_absolute_error = losses.mean_absolute_error
mean_absolute_percentage_error = losses.mean_absolute_percentage_error
mean_squared_error = losses.mean_squared_error
mean_squared_logarithmic_error = losses.mean_squared_logarithmic_error
poisson = losses.poisson
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
squared_hinge = losses.squared_hinge

_CLASSES = {c.__name__: c for c in (
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, AUC, Precision,
    Recall, RootMeanSquaredError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
    LogCoshError, R2Score, FalseNegatives, FalsePositives, TrueNegatives, TruePositives, PrecisionAtRecall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, ConcordanceCorrelation,
    PearsonCorrelation, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU,
    OneHotMeanIoU)}
# Keras resolves class names and their snake_case forms (keras.metrics.get("r2_score"))
_BY_NAME = {**_CLASSES, **{_snake(k): v for k, v in _CLASSES.items()}}
_BY_NAME.update({
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "auc": AUC, "AUC": AUC, "logcosh": LogCoshError,
    "f1_score": F1Score, "fbeta_score": FBetaScore, "r2_score": R2Score,
})


def serialize(metric):
    """Keras' dict for a metric object."""
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
            "registered_name": None}


def deserialize(config):
    """The metric described by ``serialize``'s output (or a name)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict):
        raise TypeError(f"Could not interpret metric config: expected a name or a dict. Received: {config!r}")
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None or cls is MeanMetricWrapper:
        raise ValueError(f"Could not interpret serialized metric: {config.get('class_name')!r}")
    return cls.from_config(dict(config.get("config") or {}))


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
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier  # a function: compile wraps it in a MeanMetricWrapper, as Keras does
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
