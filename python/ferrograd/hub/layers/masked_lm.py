"""keras_hub's masked language modelling pieces: ``MaskedLMHead`` (predicts the tokens at the
masked positions) and ``MaskedLMMaskGenerator`` (chooses and corrupts those positions)."""
from __future__ import annotations

import numpy as np

from ... import activations, initializers, ops
from ... import random as _random
from ...layers import Dense, Layer, LayerNormalization
from ...layers import deserialize as deserialize_layer
from ...layers import serialize as serialize_layer
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor


@register_keras_serializable(package="keras_hub")
class MaskedLMHead(Layer):
    """The masked-LM head of BERT-style models: gathers the hidden states at ``mask_positions``,
    applies ``Dense(D, intermediate_activation)`` and LayerNorm, then projects to the vocabulary,
    either through ``token_embedding``'s reverse projection (tied weights: ``h @ E^T``) or through
    its own (D, V) ``output_kernel``, plus ``output_bias`` (V,) and ``activation``.

    ``out[b, m] = act(LN(f(inputs[b, mask_positions[b, m]] W + c)) W_out + bias)``.

    Weights in keras_hub's order: ``output_kernel`` (untied only), ``output_bias``, then the token
    embedding's table (when tied, shared), the intermediate dense and the layer norm.

    Example::

        emb = hub.layers.ReversibleEmbedding(30_000, 256)
        head = hub.layers.MaskedLMHead(token_embedding=emb, activation="softmax")
        probs = head(encoded, mask_positions=positions)  # (B, M, 30000)

    Args:
        vocabulary_size: V (or taken from ``token_embedding``).
        token_embedding: a ReversibleEmbedding to tie the output projection to.
        intermediate_activation: of the intermediate dense ("relu").
        activation: applied to the logits (None).
        layer_norm_epsilon: (1e-5).
        kernel_initializer, bias_initializer: of the dense, kernel and bias.
    """

    def __init__(self, vocabulary_size=None, token_embedding=None, intermediate_activation="relu", activation=None,
                 layer_norm_epsilon=1e-05, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if vocabulary_size is None and token_embedding is None:
            raise ValueError("One of `vocabulary_size` or `token_embedding` must be set. Received: "
                             "`vocabulary_size=None`, `token_embedding=None`")
        if token_embedding is not None:
            if not hasattr(token_embedding, "input_dim") or not callable(getattr(token_embedding, "call", None)):
                raise TypeError("`token_embedding` must be an Embedding layer (a ReversibleEmbedding to tie the "
                                f"output projection). Received: token_embedding={token_embedding!r}")
            if vocabulary_size and vocabulary_size != token_embedding.input_dim:
                raise ValueError(f"`vocabulary_size` should match the input dimension of the of `token_embedding`. "
                                 f"Received: `vocabulary_size={vocabulary_size}`, "
                                 f"`token_embedding.input_dim={token_embedding.input_dim}`")
            vocabulary_size = token_embedding.input_dim
        self.vocabulary_size = vocabulary_size
        self.token_embedding = token_embedding
        self.intermediate_activation = activations.get(intermediate_activation)
        self.activation = activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, inputs_shape, mask_positions_shape=None):
        feature_size = self.token_embedding.output_dim if self.token_embedding is not None else inputs_shape[-1]
        if self.token_embedding is None:
            self._kernel = self.add_weight(shape=(feature_size, self.vocabulary_size),
                                           initializer=self.kernel_initializer, name="output_kernel")
        self._bias = self.add_weight(shape=(self.vocabulary_size,), initializer=self.bias_initializer,
                                     name="output_bias")
        self._intermediate_dense = Dense(feature_size, activation=self.intermediate_activation,
                                         kernel_initializer=self.kernel_initializer,
                                         bias_initializer=self.bias_initializer, dtype=self.dtype,
                                         name="intermediate_dense")
        self._intermediate_dense.build((inputs_shape[0], None, inputs_shape[-1]))
        self._intermediate_dense.built = True
        self._intermediate_layer_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype,
                                                           name="intermediate_layer_norm")
        self._intermediate_layer_norm.build((inputs_shape[0], None, feature_size))
        self._intermediate_layer_norm.built = True
        if self.token_embedding is not None and not self.token_embedding.built:
            self.token_embedding.build(None)
            self.token_embedding.built = True
        self.built = True

    def call(self, inputs, mask_positions):
        positions = ops.expand_dims(ops.cast(mask_positions, "int64"), -1)  # (B, M, 1)
        x = ops.take_along_axis(inputs, positions, axis=1)  # (B, M, D)
        x = self._intermediate_dense(x)
        x = self._intermediate_layer_norm(x)
        if self.token_embedding is not None:
            logits = self.token_embedding(x, reverse=True)  # (B, M, V)
        else:
            logits = ops.matmul(x, self._kernel)  # (B, M, V)
        logits = logits + self._bias
        return self.activation(logits) if self.activation is not None else logits

    def compute_output_spec(self, inputs, mask_positions):
        return KerasTensor(tuple(mask_positions.shape) + (self.vocabulary_size,), self.dtype)

    def compute_output_shape(self, inputs_shape, mask_positions_shape):
        return tuple(mask_positions_shape) + (self.vocabulary_size,)

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("token_embedding"), dict):
            config["token_embedding"] = deserialize_layer(config["token_embedding"])
        return cls(**config)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "token_embedding": None if self.token_embedding is None else serialize_layer(self.token_embedding),
                "intermediate_activation": activations.serialize(self.intermediate_activation),
                "activation": activations.serialize(self.activation), "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


@register_keras_serializable(package="keras_hub")
class MaskedLMMaskGenerator(Layer):
    """Chooses tokens to predict for masked language modelling (BERT) and corrupts them.

    Each token whose id is not in ``unselectable_token_ids`` is selected with probability
    ``mask_selection_rate`` (at most ``mask_selection_length`` per sequence, a random subset when
    more are drawn); a selected token becomes ``mask_token_id`` with probability
    ``mask_token_rate``, a uniformly random id with probability ``random_token_rate``, and stays
    itself otherwise. Returns a dict: ``token_ids`` (the corrupted ids), ``mask_positions``,
    ``mask_ids`` (the original ids there) and ``mask_weights`` (1.0 for a real prediction, 0.0 for
    padding), the last three padded with zeros to ``mask_selection_length`` when it is set (else
    lists per sequence, or arrays when every row has as many).

    This is a data-pipeline layer on integer ids: it runs vectorised in NumPy over the whole batch
    (no autograd), seeded through ``ferrograd.random`` (``seed=`` or the global seed).

    Example::

        gen = hub.layers.MaskedLMMaskGenerator(vocabulary_size=30_000, mask_selection_rate=0.15,
                                               mask_token_id=103, mask_selection_length=20)
        out = gen(token_ids)  # dict of (B, T) ids and (B, 20) positions, ids, weights

    Args: as above, plus ``seed``.
    """

    def __init__(self, vocabulary_size, mask_selection_rate, mask_token_id, mask_selection_length=None,
                 unselectable_token_ids=(0,), mask_token_rate=0.8, random_token_rate=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if mask_token_id >= vocabulary_size:
            raise ValueError(f"Mask token id should be in range [0, vocabulary_size - 1], but received "
                             f"mask_token_id={mask_token_id}.")
        if mask_token_rate + random_token_rate > 1:
            raise ValueError(f"`mask_token_rate + random_token_rate` must be at most 1. Received: "
                             f"mask_token_rate={mask_token_rate}, random_token_rate={random_token_rate}")
        self.vocabulary_size = vocabulary_size
        self.unselectable_token_ids = list(unselectable_token_ids) if unselectable_token_ids is not None else []
        self.mask_selection_rate = mask_selection_rate
        self.mask_selection_length = mask_selection_length
        self.mask_token_id = mask_token_id
        self.mask_token_rate = mask_token_rate
        self.random_token_rate = random_token_rate
        self.seed = seed
        self._seed_gen = _random.SeedGenerator(seed) if seed is not None else None
        self.built = True

    def _rng(self):
        draw = _random.randint((2,), 0, 1 << 30, "int64", self._seed_gen).numpy()
        return np.random.default_rng([int(v) for v in draw])

    def call(self, inputs):
        ragged = isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], (list, tuple, np.ndarray)) \
            and len({len(r) for r in inputs}) > 1
        if ragged:  # pad to a rectangle with an unselectable id, then cut back
            lengths = [len(r) for r in inputs]
            width = max(lengths)
            ids = np.zeros((len(inputs), width), np.int64)
            valid = np.arange(width)[None, :] < np.asarray(lengths)[:, None]
            ids[valid] = np.concatenate([np.asarray(r, np.int64) for r in inputs])
        else:
            ids = np.asarray(inputs.numpy() if hasattr(inputs, "numpy") else inputs).astype(np.int64)
            valid = np.ones(ids.shape, bool)
        unbatched = ids.ndim == 1
        if unbatched:
            ids, valid = ids[None], valid[None]
        rng = self._rng()
        batch, length = ids.shape
        eligible = valid & ~np.isin(ids, self.unselectable_token_ids)
        selected = eligible & (rng.random(ids.shape) < self.mask_selection_rate)  # (B, T)
        if self.mask_selection_length is not None:
            # keep a random subset of mask_selection_length per row: rank the selected by a random key
            key = np.where(selected, rng.random(ids.shape), 2.0)
            rank = np.argsort(np.argsort(key, axis=1), axis=1)
            selected &= rank < self.mask_selection_length
        r = rng.random(ids.shape)
        replace = np.where(r < self.mask_token_rate, self.mask_token_id,
                           np.where(r < self.mask_token_rate + self.random_token_rate,
                                    rng.integers(0, self.vocabulary_size, ids.shape), ids))
        token_ids = np.where(selected, replace, ids).astype(np.int32)
        counts = selected.sum(axis=1)
        width = self.mask_selection_length if self.mask_selection_length is not None else int(counts.max(initial=0))
        # positions of the selected tokens, in order, left-aligned in a (B, width) array
        order = np.argsort(~selected, axis=1, kind="stable")[:, :width]  # (B, min(width, T))
        if order.shape[1] < width:
            order = np.pad(order, ((0, 0), (0, width - order.shape[1])))  # (B, width)
        slot_used = np.arange(width)[None, :] < counts[:, None]
        positions = np.where(slot_used, order, 0).astype(np.int32)
        mask_ids = np.where(slot_used, np.take_along_axis(ids, order, axis=1), 0).astype(np.int32)
        weights = slot_used.astype(np.float32)
        out = {"token_ids": token_ids, "mask_positions": positions, "mask_ids": mask_ids, "mask_weights": weights}
        if self.mask_selection_length is None and len(set(counts.tolist())) > 1:
            for k in ("mask_positions", "mask_ids", "mask_weights"):
                out[k] = [row[:n].tolist() for row, n in zip(out[k], counts)]
        if ragged:
            out["token_ids"] = [row[:n].tolist() for row, n in zip(token_ids, lengths)]
        if unbatched:
            out = {k: v[0] for k, v in out.items()}
        return out

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "mask_selection_rate": self.mask_selection_rate, "mask_selection_length": self.mask_selection_length,
                "unselectable_token_ids": self.unselectable_token_ids, "mask_token_id": self.mask_token_id,
                "mask_token_rate": self.mask_token_rate, "random_token_rate": self.random_token_rate,
                "seed": self.seed}
