"""Losses (``keras.losses`` names, arguments, defaults and reductions).

Classification losses from logits use one fused Rust kernel (softmax + cross-entropy, with the
``softmax - onehot`` gradient); the others compose a handful of ops.
"""
from __future__ import annotations

from . import _core, ops
from ._core import Tensor

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Huber", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "CosineSimilarity", "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge",
    "KLDivergence", "Poisson", "CategoricalFocalCrossentropy", "BinaryFocalCrossentropy", "Dice", "Tversky",
    "CategoricalGeneralizedCrossEntropy", "Circle", "CTC", "categorical_generalized_cross_entropy", "circle", "ctc",
    "mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "huber", "hinge", "squared_hinge", "categorical_hinge",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "cosine_similarity", "log_cosh",
    "kl_divergence", "poisson", "categorical_focal_crossentropy", "binary_focal_crossentropy", "dice", "tversky",
    "mse", "mae", "get", "serialize", "deserialize",
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
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic below ``delta``, linear above; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    err = ops.abs(y_pred - y_true)
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
        loss._keras_mask = mask  # the reduction then averages over the kept entries only, as in Keras
    return loss


def _same_rank(a, b):
    """Keras' ``squeeze_or_expand_to_same_rank``: when ranks differ by one and the longer tensor
    ends in a 1, that axis is squeezed (or the rank-1 tensor expanded)."""
    if a.ndim == b.ndim + 1 and a.shape[-1] == 1:
        return (a, ops.expand_dims(b, -1)) if b.ndim == 1 else (ops.squeeze(a, -1), b)
    if b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        return (ops.expand_dims(a, -1), b) if a.ndim == 1 else (a, ops.squeeze(b, -1))
    return a, b


def _pair(y_true, y_pred):
    """(y_true, y_pred) as tensors of y_pred's float dtype and the same rank."""
    y_pred = _t(y_pred)
    if not y_pred.dtype.startswith("float"):
        y_pred = _core.cast(y_pred, "float32")
    return _same_rank(_t(y_true, y_pred), y_pred)


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _hinge_labels(y_true):
    """{0, 1} labels become {-1, 1}; other labels are used as they are (Keras' rule)."""
    binary = ops.all(ops.logical_or(ops.equal(y_true, 0.0), ops.equal(y_true, 1.0)))
    return 2.0 * y_true - 1.0 if bool(binary.item()) else y_true


def hinge(y_true, y_pred):
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``; {0, 1} labels are mapped to {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.relu(1.0 - _hinge_labels(y_true) * y_pred), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``; {0, 1} labels become {-1, 1}."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(ops.relu(1.0 - _hinge_labels(y_true) * y_pred)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.relu(neg - pos + 1.0)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return 100.0 * ops.mean(ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = ops.log(ops.maximum(y_pred, EPSILON) + 1.0)
    second = ops.log(ops.maximum(y_true, EPSILON) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    # Keras' ops.normalize(order=2): x * min(rsqrt(sum(x^2)), 1 / epsilon)
    return x * ops.minimum(ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)), 1.0 / EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for aligned vectors, 0 when
    either is a zero vector."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``
    (exact and finite for large errors, where cosh overflows)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(-2.0 * x) - _LOG2, axis=-1)


_LOG2 = 0.6931471805599453


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[epsilon, 1]``."""
    y_pred = _t(y_pred)
    y_true = ops.clip(_t(y_true, y_pred), EPSILON, 1.0)
    y_pred = ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """``sum(alpha * (1 - p)^gamma * -y_true * log(p), axis)`` with ``p`` the renormalised, clipped
    probabilities (Lin et al., 2018)."""
    _check_axis(axis)
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    return ops.sum(alpha * ops.power(1.0 - p, gamma) * (-y_true * ops.log(p)), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """``mean((1 - p_t)^gamma * bce, axis)`` with ``p_t = y p + (1 - y)(1 - p)``; with
    ``apply_class_balancing`` each term is weighted by ``alpha`` (positives) or ``1 - alpha``."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def _axis_arg(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true, y_pred, axis=None):
    """``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon)`` over ``axis``
    (all axes when None: one value for the batch)."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    axis = _axis_arg(axis)
    inter = ops.sum(y_true * y_pred, axis=axis)
    return 1.0 - 2.0 * inter / (ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - tp / (tp + alpha fp + beta fn + epsilon)`` with soft counts over ``axis``
    (Salehi et al., 2017); alpha = beta = 0.5 is the Dice loss."""
    y_pred = _t(y_pred)
    y_true = _t(y_true, y_pred)
    axis = _axis_arg(axis)
    inter = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1.0 - y_pred) * y_true, axis=axis)
    fn = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - inter / (inter + fp * alpha + fn * beta + EPSILON)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """``(1 - p ** q) / q`` with ``p`` the predicted probability of the integer label (Zhang &
    Sabuncu, 2018): cross-entropy as ``q -> 0``, MAE at ``q = 1``; robust to noisy labels."""
    y_pred = _t(y_pred)
    labels = _t(y_true)
    labels = labels if not labels.dtype.startswith("float") else ops.cast(labels, "int64")
    p = ops.sum(y_pred * ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype), axis=-1)
    return (1.0 - ops.power(p, q)) / q


_NO_PAIR = -1e30  # stands for -inf in the masked log-sum-exp: the same value, but a zero (not NaN) gradient


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) over the pairwise cosine distances of L2-normalised
    embeddings ``y_pred`` (B, D) with integer labels ``y_true`` (B,): pairs of the same label are
    pulled under ``margin``, the others pushed over ``1 - margin``. The per-sample losses carry a
    mask of the positive entries, so the averaging reductions average over those (as Keras)."""
    y_pred = _t(y_pred)
    labels = ops.reshape(ops.cast(_t(y_true), "int64"), (-1, 1))
    ref = y_pred if ref_embeddings is None else _t(ref_embeddings, y_pred)
    ref_labels = labels if ref_labels is None else ops.reshape(ops.cast(_t(ref_labels), "int64"), (-1, 1))
    dist = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(ref)), 0.0)  # (B, R)
    positive = ops.equal(labels, ops.transpose(ref_labels))
    negative = ops.logical_not(positive)
    if remove_diagonal:
        positive = ops.logical_and(positive, ops.logical_not(ops.eye(labels.shape[0], ref_labels.shape[0],
                                                                      dtype="bool")))
    pos_w = ops.relu((margin + dist) * ops.cast(positive, dist.dtype))
    neg_w = ops.relu((1.0 + margin - dist) * ops.cast(negative, dist.dtype))
    p_loss = ops.logsumexp(ops.where(positive, -gamma * pos_w * (margin - dist), _NO_PAIR), axis=1)
    n_loss = ops.logsumexp(ops.where(negative, gamma * neg_w * (1.0 - margin - dist), _NO_PAIR), axis=1)
    loss = ops.softplus(p_loss + n_loss)
    loss._keras_mask = ops.greater(loss, 0.0)
    return loss


def ctc(y_true, y_pred):
    """Connectionist temporal classification loss (Graves et al., 2006) per sample: ``y_true``
    (B, S) integer labels padded with 0, which is also the blank class; ``y_pred`` (B, T, C) logits.
    Every sample uses all T steps (as Keras' ``ctc``); the label length is the number of non-zero
    labels.

    The forward (alpha) recursion runs in log space over the extended label sequence (a blank
    between and around the labels), one step of ops per time step; ``-1e30`` stands for log 0 so
    that impossible paths get zero gradients, not NaN.
    """
    y_true, y_pred = _t(y_true), _t(y_pred)
    if y_true.ndim != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in integer "
                         f"format. Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.ndim != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}")
    if not y_pred.dtype.startswith("float"):
        y_pred = _core.cast(y_pred, "float32")
    labels = ops.cast(y_true, "int64") if y_true.dtype != "int64" else y_true
    b, s = labels.shape
    t_steps = y_pred.shape[1]
    label_len = ops.sum(ops.cast(ops.not_equal(labels, 0), "int64"), axis=1)  # (B,)
    blanks = ops.zeros((b, s), dtype="int64")
    ext = ops.concatenate([ops.reshape(ops.stack([blanks, labels], axis=-1), (b, 2 * s)),
                           ops.zeros((b, 1), dtype="int64")], axis=1)  # (B, L) blank, l1, blank, l2, ..., blank
    n = 2 * s + 1
    log_probs = ops.log_softmax(y_pred, axis=-1)  # (B, T, C)
    emit = ops.take_along_axis(log_probs, ops.broadcast_to(ops.expand_dims(ext, 1), (b, t_steps, n)), axis=2)
    shifted2 = ops.concatenate([ops.full((b, 2), -1, dtype="int64"), ext[:, :-2]], axis=1)
    can_skip = ops.logical_and(ops.not_equal(ext, 0), ops.not_equal(ext, shifted2))  # (B, L)
    neg = ops.full((b, n), _NO_PAIR, dtype=y_pred.dtype)
    start = ops.less(ops.arange(n), 2)  # alpha_0 lives on the first blank and the first label
    alpha = ops.where(ops.expand_dims(start, 0), emit[:, 0], neg)  # (B, L)
    pad1 = ops.full((b, 1), _NO_PAIR, dtype=y_pred.dtype)
    pad2 = ops.full((b, 2), _NO_PAIR, dtype=y_pred.dtype)
    for t in range(1, t_steps):
        stay = alpha
        step = ops.concatenate([pad1, alpha[:, :-1]], axis=1)
        skip = ops.where(can_skip, ops.concatenate([pad2, alpha[:, :-2]], axis=1), neg)
        alpha = ops.logsumexp(ops.stack([stay, step, skip], axis=-1), axis=-1) + emit[:, t]
    last = ops.expand_dims(2 * label_len, 1)  # (B, 1): the final blank
    before = ops.maximum(last - 1, 0)  # the last label (none when the label is empty)
    end_blank = ops.take_along_axis(alpha, last, axis=1)
    end_label = ops.where(ops.greater(last, 0), ops.take_along_axis(alpha, before, axis=1), _NO_PAIR)
    return -ops.logsumexp(ops.concatenate([end_blank, end_label], axis=1), axis=1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh


# ---- Loss classes ---------------------------------------------------------------------------------

def _reduce(losses, sample_weight, reduction):
    """Keras' ``reduce_weighted_values``: weights brought to the losses' rank and multiplied in;
    "sum_over_batch_size" and "mean" divide the sum by the number of loss values,
    "mean_with_sample_weight" by the sum of the weights (0 when that sum is 0)."""
    w = None
    if sample_weight is not None:
        w = _t(sample_weight, losses)
        losses, w = _same_rank(losses, w)
        losses = losses * w
    if reduction in ("none", None) or losses.ndim == 0 or tuple(losses.shape) == (0,):
        return losses
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and w is not None:
        wsum = ops.sum(w)
        zero = ops.equal(wsum, 0.0)
        return ops.where(zero, 0.0, total / ops.where(zero, 1.0, wsum))
    return total / max(losses.size, 1)


def _apply_mask(sample_weight, mask, like, reduction):
    """Keras' ``apply_mask``: the mask becomes weights; for the averaging reductions the kept
    entries weigh ``total / kept`` so that the mean runs over them only."""
    if mask is None:
        return sample_weight
    mask = ops.cast(_t(mask), like.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        kept = ops.sum(mask)
        none = ops.equal(kept, 0.0)
        scale = ops.where(none, 0.0, float(mask.size) / ops.where(none, 1.0, kept))
        mask = mask * scale
    if sample_weight is None:
        return mask
    mask, w = _same_rank(mask, _t(sample_weight, like))
    return w * mask


def _masked_reduce(losses, y_pred, sample_weight, reduction):
    """The reduction of ``losses`` under the masks riding on ``y_pred`` and on ``losses`` (both
    ``_keras_mask``, as Keras' ``Loss.__call__`` reads them)."""
    in_mask, out_mask = getattr(y_pred, "_keras_mask", None), getattr(losses, "_keras_mask", None)
    mask = in_mask if out_mask is None else out_mask if in_mask is None else ops.logical_and(in_mask, out_mask)
    return _reduce(losses, _apply_mask(sample_weight, mask, losses, reduction), reduction)


def _compiled_call(fn, y_true, y_pred, sample_weight):
    """A loss function given to ``compile``, applied as Keras' ``LossFunctionWrapper`` applies it."""
    y_true, y_pred = _same_rank(_t(y_true), _t(y_pred))
    return _masked_reduce(fn(y_true, y_pred), y_pred, sample_weight, "sum_over_batch_size")


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` applies ``call`` then the reduction."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {_REDUCTIONS[:-1]}. "
                             f"Received: reduction={reduction}")
        if dtype is not None and dtype not in ("float16", "bfloat16", "float32", "float64"):
            raise ValueError(f"Invalid dtype for a loss: {dtype!r}; expected a floating-point dtype name such as "
                             "'float32' or 'float64'")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.dtype is not None:  # Keras computes the loss in ``dtype`` (float inputs are cast to it)
            mask = getattr(y_pred, "_keras_mask", None)
            y_true, y_pred = (_in_dtype(v, self.dtype) for v in (y_true, y_pred))
            if mask is not None:
                y_pred._keras_mask = mask
        return _masked_reduce(self.call(y_true, y_pred), y_pred, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _in_dtype(x, dtype):
    t = _t(x)
    return _core.cast(t, dtype) if t.dtype.startswith("float") and t.dtype != dtype else t


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
        y_true, y_pred = _same_rank(_t(y_true), _t(y_pred))
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


class MeanAbsolutePercentageError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)


class LogCosh(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


def _check_unit(name, value, low_open=False):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not (
            (0.0 < value if low_open else 0.0 <= value) and value <= 1.0):
        raise ValueError(f"Argument `{name}` must be a float in [0, 1]. Received: {name}={value}")


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        _check_axis(axis)
        if gamma < 0:
            raise ValueError(f"Argument `gamma` must be >= 0. Received: gamma={gamma}")
        _check_unit("label_smoothing", label_smoothing)
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis, alpha=alpha,
                         gamma=gamma)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.alpha, self.gamma = alpha, gamma


class BinaryFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        if gamma < 0:
            raise ValueError(f"Argument `gamma` must be >= 0. Received: gamma={gamma}")
        _check_unit("label_smoothing", label_smoothing)
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma


class Dice(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q


class Circle(LossFunctionWrapper):
    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal


class CTC(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence,
    Poisson, CategoricalFocalCrossentropy, BinaryFocalCrossentropy, Dice, Tversky,
    CategoricalGeneralizedCrossEntropy, Circle, CTC)}
_FUNCTIONS = {fn.__name__: fn for fn in (
    mean_squared_error, mean_absolute_error, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, huber, hinge, squared_hinge, categorical_hinge, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, cosine_similarity, log_cosh, kl_divergence, poisson,
    categorical_focal_crossentropy, binary_focal_crossentropy, dice, tversky, categorical_generalized_cross_entropy,
    circle, ctc)}
# Keras' short ids (keras.losses.get("kld") and so on)
_FUNCTIONS.update({"mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
                   "MAE": mean_absolute_error, "mape": mean_absolute_percentage_error,
                   "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
                   "MSLE": mean_squared_logarithmic_error, "kld": kl_divergence, "KLD": kl_divergence,
                   "bce": binary_crossentropy, "BCE": binary_crossentropy})


def serialize(loss):
    """Keras' dict for a Loss object (``{"module", "class_name", "config", "registered_name"}``);
    a loss function is written as its name."""
    if isinstance(loss, Loss):
        if type(loss).__module__ == __name__:
            return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                    "registered_name": None}
        return {"module": None, "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": getattr(type(loss), "_registered_name", None) or type(loss).__name__}
    return getattr(loss, "__name__", str(loss))


def deserialize(config, custom_objects=None):
    """The loss described by ``serialize``'s output (or the older ``{"class_name", "config"}``, or
    a name); user classes come from ``custom_objects`` or ``keras.saving`` registration."""
    from . import saving

    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict):
        raise TypeError(f"Could not interpret loss config: expected a name or a dict. Received: {config!r}")
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or saving._CUSTOM.get(config.get("registered_name") or "") or \
        _CLASSES.get(name) or saving._CUSTOM.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret loss class name: {name!r}")
    return cls.from_config(dict(config.get("config") or {}))


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


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
