"""``Embedding``: integer ids to dense vectors (Keras 3 names, arguments and mask)."""
from __future__ import annotations

from .. import constraints, initializers, ops, regularizers
from .layer import Layer, set_keras_mask


class Embedding(Layer):
    """Turns integer ids into dense vectors: ``out[..., :] = embeddings[ids[...], :]``.

    The gradient of ``embeddings`` is a scatter-add of the output gradient over the ids (rows of
    repeated ids accumulate). With ``mask_zero=True`` id 0 is padding: the layer emits the mask
    ``ids != 0``, which reaches the next layers (``GlobalAveragePooling1D`` then averages only the
    real steps), and ``input_dim`` must count the padding id.

    Example::

        x = keras.Input((None,), dtype="int32")            # (B, T) ids
        h = layers.Embedding(10_000, 64, mask_zero=True)(x)  # (B, T, 64), mask (B, T)
        y = layers.GlobalAveragePooling1D()(h)               # (B, 64)

    Args:
        input_dim: the vocabulary size (largest id + 1).
        output_dim: the vector size.
        embeddings_initializer: initializer of the (input_dim, output_dim) table ("uniform").
        embeddings_regularizer, embeddings_constraint, activity_regularizer: as in Dense.
        mask_zero: whether id 0 is padding to be masked.
        weights: an optional list holding the initial table.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        input_length = kwargs.pop("input_length", None)
        for arg, val in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                         ("quantization_config", quantization_config)):
            if val is not None:
                raise NotImplementedError(f"Embedding: `{arg}` is not supported by ferrograd. Received: "
                                          f"{arg}={val!r}")
        if input_length is not None:
            raise ValueError("Argument `input_length` is deprecated (Keras 3); declare the input with "
                             f"keras.Input(shape=({input_length},)) instead. Received: input_length={input_length}")
        super().__init__(**kwargs)
        for arg, val in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(val, bool) or not isinstance(val, int) or val <= 0:
                raise ValueError(f"Received an invalid value for `{arg}`, expected a positive integer. Received: "
                                 f"{arg}={val!r}")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
        ids = inputs if inputs.dtype in ("int32", "int64") else ops.cast(inputs, "int64")  # (B, T)
        return ops.take(self.embeddings, ids, axis=0)  # (B, T, D)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)  # (B, T)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        cfg = super().get_config()
        cfg.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        })
        return cfg


class ReversibleEmbedding(Embedding):
    """An Embedding that can also project back to the vocabulary: ``layer(ids)`` looks up
    (B, T) -> (B, T, D); ``layer(h, reverse=True)`` returns logits ``h @ embeddings^T`` (B, T, V)
    with tied weights, or ``h @ reverse_embeddings`` (D, V) with ``tie_weights=False``.

    Example::

        emb = ReversibleEmbedding(50_000, 256)
        h = emb(ids)                   # (B, T, 256)
        logits = emb(h, reverse=True)  # (B, T, 50000)

    Args:
        input_dim, output_dim, embeddings_initializer, embeddings_regularizer,
        embeddings_constraint, mask_zero: as in Embedding.
        tie_weights: reuse the embedding table for the reverse projection (True).
        reverse_dtype: dtype of the reverse matmul (None: the layer's).
        logit_soft_cap: when set, logits become ``cap * tanh(logits / cap)``.
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings")
        self.built = True

    def call(self, inputs, reverse=False):
        if not reverse:
            out = super().call(inputs)  # (B, T, D)
            if self.mask_zero:
                set_keras_mask(out, ops.not_equal(inputs, 0))
            return out
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings  # (D, V)
        if self.reverse_dtype is not None:
            inputs, kernel = ops.cast(inputs, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)  # (B, T, V)
        if self.logit_soft_cap is not None:
            logits = ops.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None  # the forward call sets its mask itself; the reverse projection has none

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def compute_output_spec(self, inputs, reverse=False):
        from ..symbolic import KerasTensor

        return KerasTensor(self.compute_output_shape(inputs.shape, reverse), self.dtype)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
