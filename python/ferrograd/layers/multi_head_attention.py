"""MultiHeadAttention and GroupedQueryAttention (Keras 3 names, arguments, weights and masks).

Both project with EinsumDense sublayers, in Keras' order and shapes (query/key/value kernels
(D, N, H) with biases (N, H), output kernel (N, H, D) with bias (D,)), combine the Keras masks
(query/value/key masks riding on the inputs, ``attention_mask``, ``use_causal_mask``) into one
(B, T, S) boolean mask exactly as Keras' ``_compute_attention_mask``, and attend:

- with the fused kernel (``ops.dot_product_attention``: online softmax, the T x S scores never
  stored; dropout on the weights, in training, inside the kernel with a mask the backward
  regenerates) when the inputs are (B, T, D) sequences and the weights are not asked for;
- otherwise with the composed path (einsum scores, masked softmax, seeded dropout, einsum), which
  is Keras' own non-flash path and the one that can return the attention weights. This path also
  runs when the Rust core was built without the fused kernel.
"""
from __future__ import annotations

import math
import string

from .. import _core, constraints, initializers, ops, regularizers
from .. import random as _random
from ..symbolic import KerasTensor
from .attention import attention_dropout, causal_mask, check_rate, masked_softmax
from .einsum_dense import EinsumDense
from .layer import Layer, get_keras_mask


def _positive_int(name, value, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        extra = " or `None`" if allow_none else ""
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a positive integer{extra}. "
                         f"Received: {name}={value!r}")


def _sliding_window_mask(q_len, v_len, window):
    rows = ops.reshape(ops.arange(q_len, dtype="int32"), (1, q_len, 1))
    cols = ops.reshape(ops.arange(v_len, dtype="int32"), (1, 1, v_len))
    return ops.less(ops.abs(rows - cols), window)


def _combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, window,
                   cast_attention_mask=True):
    """Keras' ``_compute_attention_mask``: the (B, T, S) mask from the query/value/key padding masks
    ([B, T, 1] & [B, 1, S]), the causal and sliding-window masks and ``attention_mask``."""
    auto = None
    if query_mask is not None:
        auto = ops.expand_dims(ops.cast(query_mask, "bool"), -1)  # (B, T, 1)
    for m in (value_mask, key_mask):
        if m is not None:
            m = ops.expand_dims(ops.cast(m, "bool"), -2)  # (B, 1, S)
            auto = m if auto is None else ops.logical_and(auto, m)
    if use_causal_mask:
        m = causal_mask(query.shape[1], value.shape[1])  # (1, T, S)
        auto = m if auto is None else ops.logical_and(auto, m)
    if window is not None:
        m = _sliding_window_mask(query.shape[1], value.shape[1], window)
        auto = m if auto is None else ops.logical_and(auto, m)
    if attention_mask is not None and (cast_attention_mask or auto is not None):
        attention_mask = ops.cast(attention_mask, "bool")
    if auto is not None:
        attention_mask = auto if attention_mask is None else ops.logical_and(attention_mask, auto)
    return attention_mask


def _letter(i):
    return string.ascii_lowercase[i]


def build_attention_equation(rank, attn_axes):
    """Keras' einsum equations for the scores and the weighted sum over ``attn_axes``."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(i for i in range(rank) if i not in attn_axes + (rank - 1,))
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] +
                      [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def build_proj_equation(free_dims, bound_dims, output_dims):
    """Keras' EinsumDense equation of a projection: (free, bound) x (bound, out) -> (free, out)."""
    inp = kern = out = bias = ""
    off = 0
    for i in range(free_dims):
        c = _letter(i + off)
        inp += c
        out += c
    off += free_dims
    for i in range(bound_dims):
        c = _letter(i + off)
        inp += c
        kern += c
    off += bound_dims
    for i in range(output_dims):
        c = _letter(i + off)
        kern += c
        out += c
        bias += c
    return f"{inp},{kern}->{out}", bias, len(out)


def _output_shape(rank, known_last):
    return [None] * (rank - len(known_last)) + list(known_last)


class _AttentionBase(Layer):
    """What MultiHeadAttention and GroupedQueryAttention share: sublayer kwargs, the fused or
    composed attention step and the symbolic output spec."""

    def _common_kwargs(self):
        kw = dict(kernel_regularizer=self._kernel_regularizer, bias_regularizer=self._bias_regularizer,
                  activity_regularizer=self._activity_regularizer_arg, kernel_constraint=self._kernel_constraint,
                  bias_constraint=self._bias_constraint, dtype=self.dtype)
        # Each sublayer gets its own copy of the initializers (a seeded one draws the same values
        # in each, as in Keras).
        for key, init in (("kernel_initializer", self._kernel_initializer),
                          ("bias_initializer", self._bias_initializer)):
            kw[key] = initializers.deserialize(initializers.serialize(init)) if hasattr(init, "get_config") else init
        return kw

    def _attend(self, query, key, value, attention_mask, training, return_scores, causal_only, scale, norm_axes,
                dot_eq, combine_eq, kv_repeats=1):
        """query (B, T, N, H), key/value (B, S, K, H) -> (B, T, N, H) and the weights or None."""
        if self._flash_attention and return_scores:
            raise ValueError("Returning attention scores is not supported when flash attention is enabled. Please "
                             "disable flash attention to access attention scores.")
        # The kernel needs one head size for keys and values (value_dim == key_dim).
        fused = (not return_scores and query.ndim == 4 and key.shape[-1] == value.shape[-1]
                 and hasattr(_core, "dot_product_attention"))
        if fused:
            mask = None
            if attention_mask is not None:
                mask = ops.cast(attention_mask, "bool")
                while mask.ndim < 4:
                    mask = ops.expand_dims(mask, -3)  # (B, 1, T, S)
            # Dropout on the weights runs inside the kernel (its mask regenerated by the backward).
            rate = self._dropout_rate if training else 0.0
            seed = self._seed_gen.next() if rate > 0.0 and self._seed_gen is not None else None
            out = ops._attention(query, key, value, mask=mask, scale=scale, is_causal=causal_only,
                                 flash_attention=self._flash_attention, dropout_rate=rate, seed=seed)
            return out, None
        if kv_repeats > 1:
            key = ops.repeat(key, kv_repeats, axis=2)  # (B, S, N, H)
            value = ops.repeat(value, kv_repeats, axis=2)
        if causal_only:
            attention_mask = causal_mask(query.shape[1], value.shape[1])
        query = query * scale
        # Keras' MultiHeadAttention equation reads (key, query), GroupedQueryAttention's (query, key).
        scores = ops.einsum(dot_eq, key, query) if self._scores_key_first else ops.einsum(dot_eq, query, key)
        if attention_mask is not None:
            axis = -len(norm_axes) * 2 - 1
            while attention_mask.ndim < scores.ndim:
                attention_mask = ops.expand_dims(attention_mask, axis)
        weights = masked_softmax(scores, attention_mask, axis=norm_axes)
        dropped = attention_dropout(weights, self._dropout_rate, self._seed_gen, training)
        return ops.einsum(combine_eq, dropped, value), weights  # (B, T, N, H)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
                            attention_mask=None, return_attention_scores=False, training=None,
                            use_causal_mask=False):
        shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
        out = KerasTensor(shape, self.dtype)
        if return_attention_scores:
            s_len = (value if key is None else key).shape[1]
            return out, KerasTensor((query.shape[0], self._n_heads, query.shape[1], s_len), self.dtype)
        return out

    def compute_mask(self, inputs, mask=None):
        return None  # call() puts the query's mask on the output itself (not on the weights)


class MultiHeadAttention(_AttentionBase):
    """Multi-head attention (Vaswani et al.): project query, key and value into ``num_heads`` heads,
    attend per head, project back.

    ``out = concat_n(softmax(q_n k_n^T / sqrt(key_dim) + mask) v_n) W_o`` with
    ``q_n = query W_q[:, n] + b_q[n]`` etc. Weights, in Keras' order: query kernel (D, N, key_dim)
    and bias (N, key_dim), key kernel (D_k, N, key_dim) and bias, value kernel (D_v, N, value_dim)
    and bias, output kernel (N, value_dim, D) and bias (D,).

    Masks: the query's and value's Keras masks (e.g. from ``Embedding(mask_zero=True)``) and
    ``key_mask`` give a (B, T, S) padding mask, ANDed with ``attention_mask`` (B, T, S) and the
    causal mask of ``use_causal_mask``; the output carries the query's mask.

    Example::

        x = keras.Input((None, 64))
        y = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x, use_causal_mask=True)  # (B, T, 64)

    Args:
        num_heads: number of heads N.
        key_dim: size of each query/key head.
        value_dim: size of each value head (key_dim).
        dropout: dropout rate on the attention weights (training only).
        use_bias: whether the projections have biases.
        output_shape: the output's last dimensions (default: the query's feature size).
        attention_axes: the axes attention runs over (default: every axis between batch and features).
        sliding_window: attend only to positions within this distance (None).
        flash_attention: True/False/None (Keras' switch; ferrograd's fused kernel is always the
            memory-efficient one; True forbids dropout and returning the weights, as Keras).
        use_gate: a sigmoid gate (query projection) multiplied into the heads before the output.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: for every projection.
        seed: seed of the dropout.
    """

    _scores_key_first = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        _positive_int("num_heads", num_heads)
        _positive_int("key_dim", key_dim)
        _positive_int("value_dim", value_dim, allow_none=True)
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = self._n_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = self._dropout_rate = check_rate("MultiHeadAttention", dropout)
        self._use_bias, self._use_gate = use_bias, use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should "
                                 "be of type tuple, list, or int.") from None
        self._output_shape = output_shape
        if flash_attention not in (None, True, False):
            raise ValueError(f"flash_attention must be None, True or False. Received: flash_attention="
                             f"{flash_attention!r}")
        self._flash_attention = bool(flash_attention)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer_arg = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple.Received: attention_axes="
                             f"{attention_axes}")
        self._attention_axes = attention_axes
        _positive_int("sliding_window", sliding_window, allow_none=True)
        self._sliding_window = sliding_window
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 to "
                             "use flash attention.")

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        kw = self._common_kwargs

        def proj(rank, name, heads_dim, shape):
            eq, bias_axes, out_rank = build_proj_equation(rank - 1, bound_dims=1, output_dims=2)
            layer = EinsumDense(eq, output_shape=_output_shape(out_rank - 1, [self._num_heads, heads_dim]),
                                bias_axes=bias_axes if self._use_bias else None, name=name, **kw())
            layer.build(shape)
            layer.built = True
            return layer

        self._query_dense = proj(len(query_shape), "query", self._key_dim, query_shape)
        self._key_dense = proj(len(key_shape), "key", self._key_dim, key_shape)
        if self._use_gate:
            self._gate_dense = proj(len(query_shape), "gate", self._value_dim, query_shape)
            self._gate_dense.activation = ops.sigmoid
        eq, bias_axes, out_rank = build_proj_equation(len(value_shape) - 1, bound_dims=1, output_dims=2)
        self._value_dense = proj(len(value_shape), "value", self._value_dim, value_shape)
        self._build_attention(out_rank)
        out_shape = self._output_shape if self._output_shape else [query_shape[-1]]
        eq, bias_axes, out_rank2 = build_proj_equation(len(query_shape) - 1, bound_dims=2, output_dims=len(out_shape))
        self._output_dense = EinsumDense(eq, output_shape=_output_shape(out_rank2 - 1, out_shape),
                                         bias_axes=bias_axes if self._use_bias else None, name="attention_output",
                                         **kw())
        dense_in = list(self._query_dense.compute_output_shape(query_shape))
        dense_in[-1] = self._value_dim
        self._output_dense.build(tuple(dense_in))
        self._output_dense.built = True
        self.built = True

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, n = build_attention_equation(rank, self._attention_axes)
        self._norm_axes = tuple(range(n - len(self._attention_axes), n))

    @property
    def query_dense(self):
        return self._query_dense

    @property
    def key_dense(self):
        return self._key_dense

    @property
    def value_dense(self):
        return self._value_dense

    @property
    def output_dense(self):
        return self._output_dense

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        if key is None:
            key = value
        # As Keras: the query mask is the one riding on the query tensor.
        query_mask = get_keras_mask(query)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self._sliding_window is None)
        if not causal_only:
            attention_mask = _combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask,
                                            use_causal_mask, self._sliding_window)  # (B, T, S)
        gate = self._gate_dense(query) if self._use_gate else None
        q = self._query_dense(query)  # (B, T, N, key_dim)
        k = self._key_dense(key)  # (B, S, N, key_dim)
        v = self._value_dense(value)  # (B, S, N, value_dim)
        out, scores = self._attend(q, k, v, attention_mask, training, return_attention_scores, causal_only,
                                   self._inverse_sqrt_key_dim, self._norm_axes, self._dot_product_equation,
                                   self._combine_equation)  # (B, T, N, value_dim), (B, N, T, S)
        out = self._output_dense(out * gate if gate is not None else out)  # (B, T, D)
        if query_mask is not None:
            out._keras_mask = query_mask
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={value_shape} and key_shape={key_shape}")
        if self._output_shape:
            query_shape = query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self._num_heads, "key_dim": self._key_dim,
                "value_dim": self._value_dim, "dropout": self._dropout, "use_bias": self._use_bias,
                "use_gate": self._use_gate, "output_shape": self._output_shape,
                "attention_axes": self._attention_axes, "sliding_window": self._sliding_window,
                "flash_attention": self._flash_attention or None,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer_arg),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint), "seed": self.seed}


class GroupedQueryAttention(_AttentionBase):
    """Grouped-query attention (Ainslie et al.): ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads (query head n reads key/value head
    ``n // (num_query_heads // num_key_value_heads)``); multi-query attention when that is 1.

    Weights, in Keras' order: query kernel (D, Nq, head_dim) and bias (Nq, head_dim), key and
    value kernels (D, Nkv, head_dim) and biases (Nkv, head_dim), output kernel (Nq, head_dim, D)
    and bias (D,). Masks as in :class:`MultiHeadAttention`.

    Example: ``GroupedQueryAttention(head_dim=16, num_query_heads=8, num_key_value_heads=2)(x, x)``.

    Args:
        head_dim: size of each head.
        num_query_heads, num_key_value_heads: head counts (the second divides the first).
        dropout, use_bias, sliding_window, flash_attention, use_gate, initializers, regularizers,
        constraints, seed: as in MultiHeadAttention.
    """

    _scores_key_first = False

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        for name, v in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                        ("num_key_value_heads", num_key_value_heads)):
            _positive_int(name, v)
        super().__init__(**kwargs)
        self.supports_masking = True
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(f"`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                             f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        self._n_heads = num_query_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = self._dropout_rate = check_rate("GroupedQueryAttention", dropout)
        self.use_bias, self.use_gate = use_bias, use_gate
        _positive_int("sliding_window", sliding_window, allow_none=True)
        self.sliding_window = sliding_window
        if flash_attention not in (None, True, False):
            raise ValueError(f"flash_attention must be None, True or False. Received: flash_attention="
                             f"{flash_attention!r}")
        self._flash_attention = bool(flash_attention)
        self.kernel_initializer = self._kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = self._bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer_arg = regularizers.get(activity_regularizer)
        self.kernel_constraint = self._kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        if self._flash_attention and self.dropout > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 to "
                             "use flash attention.")

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self.feature_dim = query_shape[-1]
        kw = self._common_kwargs
        nq, nkv, h = self.num_query_heads, self.num_key_value_heads, self.head_dim

        def dense(eq, out_shape, bias_axes, name, shape, activation=None):
            layer = EinsumDense(eq, output_shape=out_shape, bias_axes=bias_axes if self.use_bias else None,
                                activation=activation, name=name, **kw())
            layer.build(shape)
            layer.built = True
            return layer

        self._query_dense = dense("bqm,muh->bquh", (None, nq, h), "uh", "query", query_shape)
        self._key_dense = dense("bkm,mvh->bkvh", (None, nkv, h), "vh", "key", key_shape)
        if self.use_gate:
            self._gate_dense = dense("bqm,muh->bquh", (None, nq, h), "uh", "gate", query_shape, "sigmoid")
        self._value_dense = dense("bkm,mvh->bkvh", (None, nkv, h), "vh", "value", value_shape)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = dense("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output",
                                   (None, None, nq, h))
        self.built = True

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        if key is None:
            key = value
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self.sliding_window is None)
        if not causal_only:
            attention_mask = _combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask,
                                            use_causal_mask, self.sliding_window, cast_attention_mask=False)
        gate = self._gate_dense(query) if self.use_gate else None
        q = self._query_dense(query)  # (B, T, Nq, H)
        k = self._key_dense(key)  # (B, S, Nkv, H)
        v = self._value_dense(value)  # (B, S, Nkv, H)
        out, scores = self._attend(q, k, v, attention_mask, training, return_attention_scores, causal_only,
                                   self._inverse_sqrt_head_dim, (-1,), self._dot_product_equation,
                                   self._combine_equation, kv_repeats=self.num_repeats)  # (B, T, Nq, H)
        out = self._output_dense(out * gate if gate is not None else out)  # (B, T, D)
        qm = get_keras_mask(query)
        if qm is not None:
            out._keras_mask = qm
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(f"The last dimension of `query_shape` and `value_shape` must be equal, but are "
                             f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={tuple(query_shape)}, "
                             f"value_shape={tuple(value_shape)}")
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                             f"value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        return tuple(query_shape)

    def get_config(self):
        return {**super().get_config(), "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window, "dropout": self.dropout,
                "flash_attention": self._flash_attention or None,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer_arg),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}


GroupQueryAttention = GroupedQueryAttention  # the name Keras exports (keras.layers.GroupQueryAttention)
