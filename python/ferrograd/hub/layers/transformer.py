"""keras_hub's ``TransformerEncoder`` and ``TransformerDecoder`` blocks.

Both are post-norm by default (``x = LN(x + sublayer(x))``, as "Attention Is All You Need") and
pre-norm with ``normalize_first=True`` (``x = x + sublayer(LN(x))``, as GPT-2). Sublayers, names
and weight order follow keras_hub, so ``set_weights`` takes a keras_hub layer's ``get_weights()``:
encoder: self-attention (q, k, v, output kernels and biases), self-attention norm, feed-forward
norm, intermediate dense, output dense; decoder: self-attention, its norm, [cross-attention, its
norm,] intermediate dense, output dense, feed-forward norm.
"""
from __future__ import annotations

from ... import _core, activations, initializers, ops
from ..._tensor import Tensor
from ...layers import Dense, Dropout, Layer, LayerNormalization, MultiHeadAttention
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor
from ._utils import (
    as_index,
    check_rate,
    clone_initializer,
    compute_causal_mask,
    get_keras_mask,
    merge_padding_and_attention_mask,
    positive_int,
)
from .cached_attention import CachedMultiHeadAttention

# Activations the fused decode step runs as one core op (a function may name its own op in a
# `_core_unary` attribute, as GPT-2's tanh GELU does); None: no activation.
_FUSED_ACTIVATIONS = {activations.relu: "relu", activations.gelu: "gelu", activations.silu: "silu",
                      activations.tanh: "tanh", activations.sigmoid: "sigmoid", activations.linear: None}


def _fused_activation(fn):
    """The core op name of ``fn`` for the fused decode step, None for the identity, False when
    the step cannot run it."""
    name = getattr(fn, "_core_unary", False)
    if name is not False:
        return name
    try:
        return _FUSED_ACTIVATIONS.get(fn, False)
    except TypeError:  # an unhashable callable
        return False


class _TransformerBlock(Layer):
    """Arguments, feed-forward sublayers and config shared by the encoder and the decoder."""

    def __init__(self, intermediate_dim, num_heads, dropout=0, activation="relu", layer_norm_epsilon=1e-05,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", normalize_first=False, **kwargs):
        positive_int("intermediate_dim", intermediate_dim)
        positive_int("num_heads", num_heads)
        check_rate("dropout", dropout)
        super().__init__(**kwargs)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.activation = activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.normalize_first = bool(normalize_first)
        self.supports_masking = True

    def _head_dim(self, hidden_dim):
        head_dim = int(hidden_dim // self.num_heads)
        if head_dim == 0:
            raise ValueError(f"Attention `key_dim` computed cannot be zero. The `hidden_dim` value of {hidden_dim} "
                             f"has to be equal to or greater than `num_heads` value of {self.num_heads}.")
        return head_dim

    def _init_kwargs(self):
        return dict(kernel_initializer=clone_initializer(self.kernel_initializer),
                    bias_initializer=clone_initializer(self.bias_initializer), dtype=self.dtype)

    def _norm(self, name, shape):
        layer = LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype, name=name)
        layer.build(shape)
        layer.built = True
        return layer

    def _dense(self, units, name, shape, activation=None):
        layer = Dense(units, activation=activation, name=name, **self._init_kwargs())
        layer.build(shape)
        layer.built = True
        return layer

    def _feedforward(self, x, training):
        """The residual feed-forward sublayer: (B, T, D) -> (B, T, D)."""
        residual = x
        if self.normalize_first:
            x = self._feedforward_layer_norm(x)
        x = self._feedforward_intermediate_dense(x)  # (B, T, intermediate_dim)
        x = self._feedforward_output_dense(x)  # (B, T, D)
        x = self._feedforward_dropout(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._feedforward_layer_norm(x)
        return x

    def get_config(self):
        return {**super().get_config(), "intermediate_dim": self.intermediate_dim, "num_heads": self.num_heads,
                "dropout": self.dropout, "activation": activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "normalize_first": self.normalize_first}


@register_keras_serializable(package="keras_hub")
class TransformerEncoder(_TransformerBlock):
    """A transformer encoder block: self-attention then a two-layer feed-forward network, each
    with a residual connection, layer normalization and dropout.

    Post-norm (default): ``h = LN1(x + Drop(MHA(x, x))); y = LN2(h + Drop(W2 act(W1 h + b1) + b2))``.
    Pre-norm (``normalize_first=True``): ``h = x + Drop(MHA(LN1 x)); y = h + Drop(FFN(LN2 h))``.
    The attention has ``num_heads`` heads of size ``D // num_heads``.

    Masks: ``padding_mask`` (B, T) (else the mask riding on ``inputs``, e.g. from
    ``TokenAndPositionEmbedding(mask_zero=True)``) hides padded keys; ``attention_mask`` (B, T, T)
    is ANDed with it. The output carries the input's mask.

    Example::

        x = keras.Input((None, 64))
        y = hub.layers.TransformerEncoder(intermediate_dim=128, num_heads=4)(x)  # (B, T, 64)

    Args:
        intermediate_dim: width of the feed-forward network.
        num_heads: number of attention heads (divides the input's feature size).
        dropout: dropout rate of the attention weights and after each sublayer.
        activation: activation of the feed-forward network ("relu").
        layer_norm_epsilon: epsilon of the layer normalizations (1e-5).
        kernel_initializer, bias_initializer: of the attention and dense sublayers.
        normalize_first: pre-norm when True.
    """

    def build(self, inputs_shape):
        inputs_shape = tuple(inputs_shape)
        hidden_dim = inputs_shape[-1]
        self._self_attention_layer = MultiHeadAttention(num_heads=self.num_heads, key_dim=self._head_dim(hidden_dim),
                                                        dropout=self.dropout, name="self_attention_layer",
                                                        **self._init_kwargs())
        self._self_attention_layer.build(inputs_shape, inputs_shape)
        self._self_attention_layer.built = True
        self._self_attention_layer_norm = self._norm("self_attention_layer_norm", inputs_shape)
        self._self_attention_dropout = Dropout(rate=self.dropout, dtype=self.dtype, name="self_attention_dropout")
        self._feedforward_layer_norm = self._norm("feedforward_layer_norm", inputs_shape)
        self._feedforward_intermediate_dense = self._dense(self.intermediate_dim, "feedforward_intermediate_dense",
                                                           inputs_shape, self.activation)
        self._feedforward_output_dense = self._dense(hidden_dim, "feedforward_output_dense",
                                                     inputs_shape[:-1] + (self.intermediate_dim,))
        self._feedforward_dropout = Dropout(rate=self.dropout, dtype=self.dtype, name="feedforward_dropout")
        self.built = True

    def call(self, inputs, padding_mask=None, attention_mask=None, training=None, return_attention_scores=False):
        x = inputs  # (B, T, D)
        mask = merge_padding_and_attention_mask(inputs, padding_mask, attention_mask)  # (B, 1|T, T) or None
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        attended = self._self_attention_layer(x, x, attention_mask=mask, training=training,
                                              return_attention_scores=return_attention_scores)
        x, scores = attended if return_attention_scores else (attended, None)  # (B, T, D)
        x = self._self_attention_dropout(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._self_attention_layer_norm(x)
        x = self._feedforward(x, training)  # (B, T, D)
        return (x, scores) if return_attention_scores else x

    def compute_output_spec(self, inputs, padding_mask=None, attention_mask=None, training=None,
                            return_attention_scores=False):
        out = KerasTensor(inputs.shape, self.dtype)
        if return_attention_scores:
            t = inputs.shape[1]
            return out, KerasTensor((inputs.shape[0], self.num_heads, t, t), self.dtype)
        return out

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)


@register_keras_serializable(package="keras_hub")
class TransformerDecoder(_TransformerBlock):
    """A transformer decoder block: causal self-attention, optional cross-attention over an
    encoder's output, and a feed-forward network, each with residual, layer norm and dropout
    (post-norm by default, pre-norm with ``normalize_first=True``, as :class:`TransformerEncoder`).

    Called as ``layer(decoder_sequence)`` (decoder-only, GPT style) or
    ``layer(decoder_sequence, encoder_sequence)`` (with cross-attention); the first call decides,
    later calls must pass the same arguments.

    Decoding with a cache: ``self_attention_cache`` (B, 2, S, N, H) holds the keys and values of S
    positions; ``self_attention_cache_update_index=i`` writes those of the T new positions at
    ``i .. i+T-1`` and the causal mask lets query ``t`` see cache rows ``<= i + t``. The call then
    returns ``(outputs, self_attention_cache)`` (``(outputs, self_attention_cache,
    cross_attention_cache)`` with cross-attention); without caches it returns ``outputs``.

    Masks: ``decoder_padding_mask`` (B, T) (else the mask riding on ``decoder_sequence``) and
    ``decoder_attention_mask`` (B, T, T) are ANDed with the causal mask (``use_causal_mask=True``);
    ``encoder_padding_mask``/``encoder_attention_mask`` (else the encoder sequence's mask) mask the
    cross-attention.

    Example::

        x = keras.Input((None, 64))
        y = hub.layers.TransformerDecoder(intermediate_dim=128, num_heads=4)(x)  # (B, T, 64)

    Args: as :class:`TransformerEncoder`.
    """

    def __init__(self, intermediate_dim, num_heads, dropout=0, activation="relu", layer_norm_epsilon=1e-05,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", normalize_first=False, **kwargs):
        decoder_sequence_shape = kwargs.pop("decoder_sequence_shape", None)
        encoder_sequence_shape = kwargs.pop("encoder_sequence_shape", None)
        super().__init__(intermediate_dim, num_heads, dropout=dropout, activation=activation,
                         layer_norm_epsilon=layer_norm_epsilon, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, normalize_first=normalize_first, **kwargs)
        self._decoder_sequence_shape = None
        self._encoder_sequence_shape = None
        # (no `_cross_attention_layer = None` here: sublayers are ordered by first assignment, and
        # the cross-attention's weights come after the self-attention's, as in keras_hub)
        if decoder_sequence_shape:
            self.build(decoder_sequence_shape, encoder_sequence_shape)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        decoder_sequence_shape = tuple(decoder_sequence_shape)
        self._decoder_sequence_shape = list(decoder_sequence_shape)
        self._encoder_sequence_shape = None if encoder_sequence_shape is None else list(encoder_sequence_shape)
        hidden_dim = decoder_sequence_shape[-1]
        head_dim = self._head_dim(hidden_dim)
        self._self_attention_layer = CachedMultiHeadAttention(num_heads=self.num_heads, key_dim=head_dim,
                                                              dropout=self.dropout, name="self_attention",
                                                              **self._init_kwargs())
        self._self_attention_layer.build(decoder_sequence_shape, decoder_sequence_shape)
        self._self_attention_layer.built = True
        self._self_attention_layer_norm = self._norm("self_attention_layer_norm", decoder_sequence_shape)
        self._self_attention_dropout = Dropout(rate=self.dropout, dtype=self.dtype, name="self_attention_dropout")
        self._cross_attention_layer = None
        if encoder_sequence_shape:
            encoder_sequence_shape = tuple(encoder_sequence_shape)
            self._cross_attention_layer = CachedMultiHeadAttention(num_heads=self.num_heads, key_dim=head_dim,
                                                                   value_dim=head_dim, dropout=self.dropout,
                                                                   name="cross_attention", **self._init_kwargs())
            self._cross_attention_layer.build(decoder_sequence_shape, encoder_sequence_shape)
            self._cross_attention_layer.built = True
            self._cross_attention_layer_norm = self._norm("cross_attention_layer_norm", decoder_sequence_shape)
            self._cross_attention_dropout = Dropout(rate=self.dropout, dtype=self.dtype,
                                                    name="cross_attention_dropout")
        self._feedforward_intermediate_dense = self._dense(self.intermediate_dim, "feedforward_intermediate_dense",
                                                           decoder_sequence_shape, self.activation)
        self._feedforward_output_dense = self._dense(hidden_dim, "feedforward_output_dense",
                                                     decoder_sequence_shape[:-1] + (self.intermediate_dim,))
        self._feedforward_layer_norm = self._norm("feedforward_layer_norm", decoder_sequence_shape)
        self._feedforward_dropout = Dropout(rate=self.dropout, dtype=self.dtype, name="feedforward_dropout")
        self.built = True

    @property
    def _cross_attention(self):
        return getattr(self, "_cross_attention_layer", None) is not None

    def _check_call(self, encoder_sequence, self_attention_cache, cross_attention_cache):
        has_cross = self._cross_attention
        if has_cross != (encoder_sequence is not None):
            state = "with" if has_cross else "without"
            given = "did not provide" if has_cross else "are trying to call it with"
            raise ValueError("The number of call arguments to `keras_hub.layers.TransformerDecoder` should not "
                             "change. Use `layer(decoder_sequence, encoder_sequence)` to build a layer with cross "
                             "attention, or `layer(decoder_sequence)` to build a layer without. This layer has been "
                             f"built {state} cross attention, but you {given} encoder_sequence.")
        if has_cross and (self_attention_cache is None) != (cross_attention_cache is None):
            raise ValueError("When calling `keras_hub.layers.TransformerDecoder` with cross-attention (with both "
                             "`encoder_sequence` and `decoder_sequence`), `self_attention_cache` and "
                             "`cross_attention_cache` should both be set or both be `None`. One cannot be `None` "
                             f"while the other is not. Received: self_attention_cache={self_attention_cache}, "
                             f"cross_attention_cache={cross_attention_cache}.")

    def _self_attention_mask(self, decoder_sequence, decoder_padding_mask, decoder_attention_mask, use_causal_mask,
                             cache, cache_update_index):
        mask = merge_padding_and_attention_mask(decoder_sequence, decoder_padding_mask, decoder_attention_mask)
        if not use_causal_mask:
            return mask
        batch, length = decoder_sequence.shape[0], decoder_sequence.shape[1]
        input_length = cache.shape[2] if cache is not None else length
        causal = compute_causal_mask(batch, input_length, length,
                                     0 if cache_update_index is None else cache_update_index)  # (B, T, S)
        return causal if mask is None else ops.logical_and(mask, causal)

    def _fused_step_args(self, dtype):
        """``(weights, activation)`` for ``_core.decoder_block_step`` on inputs of ``dtype``: the
        block's 16 weight tensors in the step's order (None where absent) and the activation's
        core op name; None when the block is not one the step runs (cross-attention, an
        activation, norm or projection it lacks, weights of another dtype)."""
        activation = _fused_activation(self.activation)
        if self._cross_attention or activation is False or dtype not in ("float32", "float64"):
            return None
        att = self._self_attention_layer
        norms = (self._self_attention_layer_norm, self._feedforward_layer_norm)
        if any(n.rms_scaling or n.axis not in (-1, [-1], (-1,)) for n in norms):
            return None
        if att._key_dim != att._value_dim or att._output_shape is not None:
            return None
        dense = (att._query_dense, att._key_dense, att._value_dense, att._output_dense)
        ff = (self._feedforward_intermediate_dense, self._feedforward_output_dense)
        if any(d.activation is not activations.linear for d in (*dense, ff[1])):
            return None
        a, f = norms
        weights = [a.gamma, a.beta, *(w for d in dense for w in (d.kernel, d.bias)), f.gamma, f.beta,
                   *(w for d in ff for w in (d.kernel, d.bias))]
        if any(w is not None and w.dtype != dtype for w in weights):
            return None
        return weights, activation

    def _fused_step(self, x, cache, index, training=None, args=None):
        """Runs the block on ``x`` (B, T, D) at positions ``index ..`` against ``cache``
        (B, 2, S, N, H) in one core call, writing the step's keys and values into ``cache`` in
        place; returns the output, or None (nothing written) when the fused step does not apply:
        gradients being recorded, active dropout, a mask riding on ``x``, symbolic inputs, or a
        block the step does not run (see ``_fused_step_args``; ``args``: its result, computed
        once by a caller that runs many steps)."""
        if _core.is_grad_enabled() or (training and self.dropout > 0):
            return None
        if not (isinstance(x, Tensor) and isinstance(cache, Tensor)) or get_keras_mask(x) is not None:
            return None
        if x.ndim != 3 or cache.dtype != x.dtype:
            return None
        args = args if args is not None else self._fused_step_args(x.dtype)
        if args is None:
            return None
        weights, activation = args
        return _core.decoder_block_step(x, cache, index, weights, activation, self.normalize_first,
                                        float(self.layer_norm_epsilon))

    def call(self, decoder_sequence, encoder_sequence=None, decoder_padding_mask=None, decoder_attention_mask=None,
             encoder_padding_mask=None, encoder_attention_mask=None, self_attention_cache=None,
             self_attention_cache_update_index=None, cross_attention_cache=None,
             cross_attention_cache_update_index=None, use_causal_mask=True, training=None):
        self._check_call(encoder_sequence, self_attention_cache, cross_attention_cache)
        self_index = as_index(self_attention_cache_update_index, "self_attention_cache_update_index")
        cross_index = as_index(cross_attention_cache_update_index, "cross_attention_cache_update_index")
        if (self_attention_cache is not None and self_index is not None and encoder_sequence is None
                and use_causal_mask and decoder_padding_mask is None and decoder_attention_mask is None):
            # One core call per block; the cache is copied first (the call returns a new cache).
            cache = ops.copy(self_attention_cache)
            out = self._fused_step(decoder_sequence, cache, self_index, training)
            if out is not None:
                return out, cache
        mask = self._self_attention_mask(decoder_sequence, decoder_padding_mask, decoder_attention_mask,
                                         use_causal_mask, self_attention_cache, self_index)  # (B, T, S)
        x = decoder_sequence  # (B, T, D)
        residual = x
        if self.normalize_first:
            x = self._self_attention_layer_norm(x)
        out = self._self_attention_layer(x, x, attention_mask=mask, cache=self_attention_cache,
                                         cache_update_index=self_index, training=training)
        if self_attention_cache is None:
            x = out
        else:
            x, self_attention_cache = out  # (B, T, D), (B, 2, S, N, H)
        x = self._self_attention_dropout(x, training=training)
        x = x + residual
        if not self.normalize_first:
            x = self._self_attention_layer_norm(x)
        if self._cross_attention:
            cross_mask = merge_padding_and_attention_mask(encoder_sequence, encoder_padding_mask,
                                                          encoder_attention_mask)  # (B, 1, S) or None
            residual = x
            if self.normalize_first:
                x = self._cross_attention_layer_norm(x)
            out = self._cross_attention_layer(x, encoder_sequence, attention_mask=cross_mask,
                                              cache=cross_attention_cache, cache_update_index=cross_index,
                                              training=training)
            if cross_attention_cache is None:
                x = out
            else:
                x, cross_attention_cache = out
            x = self._cross_attention_dropout(x, training=training)
            x = x + residual
            if not self.normalize_first:
                x = self._cross_attention_layer_norm(x)
        x = self._feedforward(x, training)  # (B, T, D)
        if self_attention_cache is not None:
            if self._cross_attention:
                return x, self_attention_cache, cross_attention_cache
            return x, self_attention_cache
        return x

    def compute_output_spec(self, decoder_sequence, encoder_sequence=None, decoder_padding_mask=None,
                            decoder_attention_mask=None, encoder_padding_mask=None, encoder_attention_mask=None,
                            self_attention_cache=None, self_attention_cache_update_index=None,
                            cross_attention_cache=None, cross_attention_cache_update_index=None, use_causal_mask=True,
                            training=None):
        out = KerasTensor(decoder_sequence.shape, self.dtype)
        if self_attention_cache is None:
            return out
        caches = [KerasTensor(self_attention_cache.shape, self.dtype)]
        if cross_attention_cache is not None:
            caches.append(KerasTensor(cross_attention_cache.shape, self.dtype))
        return (out, *caches)

    def compute_output_shape(self, decoder_sequence_shape):
        return tuple(decoder_sequence_shape)

    def get_config(self):
        return {**super().get_config(), "decoder_sequence_shape": self._decoder_sequence_shape,
                "encoder_sequence_shape": self._encoder_sequence_shape}
