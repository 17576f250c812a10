"""Dot-product (Luong) and additive (Bahdanau) attention layers, and the pieces every attention
layer shares: Keras' masked softmax, seeded dropout on attention weights and the causal mask.

``Attention`` and ``AdditiveAttention`` take ``[query, value]`` or ``[query, value, key]`` with
query (B, T, D) and value/key (B, S, D) and return (B, T, D) (plus the (B, T, S) weights with
``return_attention_scores=True``). Their masks ride on the inputs (a list ``[query_mask,
value_mask]`` reaches ``call``): padded value steps get no weight, padded query steps give zeros.
"""
from __future__ import annotations

from .. import ops
from .. import random as _random
from ..symbolic import KerasTensor
from .layer import Layer

_LARGE_NEGATIVE = -1e9  # Keras' masked-softmax fill for float32 (Softmax layer)


def masked_softmax(scores, mask=None, axis=-1):
    """Keras' ``Softmax(axis)(scores, mask=mask)``: masked entries are set to -1e9 before the
    softmax and to 0 after it (a fully masked row gives zeros). ``axis`` may be a tuple."""
    if mask is not None:
        if mask.dtype != "bool":
            mask = ops.greater(mask, 0.5)
        scores = ops.where(mask, scores, _LARGE_NEGATIVE)
    if isinstance(axis, (tuple, list)) and len(axis) > 1:
        out = ops.exp(scores - ops.logsumexp(scores, axis=tuple(axis), keepdims=True))
    else:
        out = ops.softmax(scores, axis=axis[0] if isinstance(axis, (tuple, list)) else axis)
    if mask is not None:
        out = ops.where(mask, out, 0.0)
    return out


def attention_dropout(weights, rate, seed_gen, training):
    """Inverted dropout on attention weights when ``training`` (seeded by ``seed_gen``)."""
    if not training or rate <= 0:
        return weights
    keep = _random.uniform(tuple(weights.shape), 0.0, 1.0, weights.dtype, seed_gen) >= rate
    return weights * ops.cast(keep, weights.dtype) * (1.0 / (1.0 - rate))


def causal_mask(q_len, v_len):
    """(1, T, S) bool: query step i sees value steps j <= i (aligned at the top left, as Keras)."""
    ones = ops.ones((1, q_len, v_len), dtype="int32")
    return ops.greater_equal(ops.cumsum(ones, axis=-2), ops.cumsum(ones, axis=-1))


def check_rate(name, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{name}: Invalid value received for argument `dropout`. Expected a float value between 0 "
                         f"and 1. Received: dropout={rate!r}")
    return rate


class Attention(Layer):
    """Dot-product attention (Luong): ``softmax(q k^T) v`` over value steps.

    ``score_mode="dot"``: scores ``q . k`` (times a learned scalar ``scale`` when ``use_scale``);
    ``score_mode="concat"``: scores ``concat_score_weight * sum(tanh(scale * (q + k)))``.
    Padded value steps (value mask False) get -1e9 before the softmax; padded query steps give
    zero output rows; ``use_causal_mask`` lets query step i attend to value steps j <= i.

    Example::

        q, v = keras.Input((None, 16)), keras.Input((None, 16))
        out = layers.Attention()([q, v])          # (B, T, 16)

    Args:
        use_scale: learn a scalar scale of the scores.
        score_mode: "dot" or "concat".
        dropout: dropout rate on the attention weights (training only).
        seed: seed of the dropout.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")
        self.use_scale, self.score_mode = use_scale, score_mode
        self.dropout = check_rate(type(self).__name__, dropout)
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self.supports_masking = True

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = (self.add_weight((), "ones", name="concat_score_weight")
                                    if self.score_mode == "concat" else None)
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))  # (B, T, S)
            return scores * self.scale if self.scale is not None else scores
        q = ops.expand_dims(query, -2)  # (B, T, 1, D)
        k = ops.expand_dims(key, -3)  # (B, 1, S, D)
        s = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * ops.sum(ops.tanh(s), axis=-1)  # (B, T, S)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = ops.logical_not(scores_mask)
            if padding.ndim == 2:
                padding = ops.expand_dims(padding, -2)  # (B, 1, S)
            scores = ops.where(padding, scores - 1.0e9, scores)
        weights = ops.softmax(scores, axis=-1)  # (B, T, S)
        dropped = attention_dropout(weights, self.dropout, self._seed_gen, training)
        return ops.matmul(dropped, value), weights  # (B, T, D), (B, T, S)

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if not use_causal_mask:
            return v_mask
        cm = causal_mask(scores.shape[-2], scores.shape[-1])  # (1, T, S)
        if v_mask is not None:
            return ops.logical_and(ops.expand_dims(v_mask, -2), cm)
        return cm

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None and v_mask.dtype != "bool":
            v_mask = ops.cast(v_mask, "bool")
        scores = self._calculate_scores(q, k)  # (B, T, S)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        out, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            out = ops.where(ops.expand_dims(ops.cast(q_mask, "bool"), -1), out, 0.0)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        out = KerasTensor(self.compute_output_shape([q.shape, v.shape, k.shape]), self.dtype)
        if return_attention_scores:
            return out, KerasTensor((*q.shape[:-1], k.shape[-2]), self.dtype)
        return out

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: inputs={inputs}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                             f"[query, value, key]. Received length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, value_mask]. "
                                 f"Received: mask={mask}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: mask={mask}.")

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau): scores ``sum(scale * tanh(q + k))`` over the features, with a
    learned per-feature ``scale`` (D,) when ``use_scale``; otherwise as :class:`Attention`.

    Example: ``AdditiveAttention()([q, v])`` with q (B, T, D), v (B, S, D) gives (B, T, D).

    Args:
        use_scale: learn the (D,) scale (True).
        dropout: dropout rate on the attention weights (training only).
        seed: seed of the dropout.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = self.add_weight((dim,), "glorot_uniform", name="scale") if self.use_scale else None
        self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.expand_dims(query, -2)  # (B, T, 1, D)
        k = ops.expand_dims(key, -3)  # (B, 1, S, D)
        t = ops.tanh(q + k)  # (B, T, S, D)
        return ops.sum(t * self.scale if self.use_scale else t, axis=-1)  # (B, T, S)

    def get_config(self):
        cfg = super().get_config()
        del cfg["score_mode"]
        return cfg
