"""keras_hub's embedding layers: ``ReversibleEmbedding``, ``PositionEmbedding``,
``TokenAndPositionEmbedding``, ``SinePositionEncoding`` and ``RotaryEmbedding``."""
from __future__ import annotations

import math

import numpy as np

from ... import initializers, ops
from ...layers import Layer
from ...layers.embedding import ReversibleEmbedding as _CoreReversibleEmbedding
from ...saving import register_keras_serializable
from ._utils import as_index, clone_initializer


@register_keras_serializable(package="keras_hub")
class ReversibleEmbedding(_CoreReversibleEmbedding):
    __doc__ = _CoreReversibleEmbedding.__doc__
    # keras_hub's own copy of Keras' layer: the same computation, registered as keras_hub's.


def _check_length(name, value):
    if value is None:
        raise ValueError(f"`{name}` must be an Integer, received `None`.")
    return int(value)


@register_keras_serializable(package="keras_hub")
class PositionEmbedding(Layer):
    """A learned position embedding: adds nothing, returns the (T, D) slice of a
    (sequence_length, D) table starting at ``start_index``, broadcast to the input's shape.

    Example::

        tokens = layers.Embedding(1000, 32)(ids)                       # (B, T, 32)
        x = tokens + hub.layers.PositionEmbedding(sequence_length=128)(tokens)

    Args:
        sequence_length: the longest sequence (rows of the table).
        initializer: of the table ("glorot_uniform").

    Call: ``layer(inputs, start_index=0, positions=None)``; ``positions`` (B, T) or (T,) integer
    positions instead of a contiguous slice.
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = _check_length("sequence_length", sequence_length)
        self.initializer = initializers.get(initializer)

    def build(self, inputs_shape):
        self.position_embeddings = self.add_weight(shape=(self.sequence_length, inputs_shape[-1]),
                                                   initializer=self.initializer, name="embeddings")
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = tuple(inputs.shape)
        if positions is not None:
            if positions.ndim == 1:
                positions = ops.expand_dims(positions, 0)  # (1, T)
            table = ops.take(self.position_embeddings, positions, axis=0)  # (B|1, T, D)
        else:
            start = as_index(start_index, "start_index")
            if start < 0 or start + shape[-2] > self.sequence_length:
                raise ValueError(f"PositionEmbedding: positions {start}..{start + shape[-2] - 1} are outside the "
                                 f"table of sequence_length={self.sequence_length}")
            table = self.position_embeddings[start:start + shape[-2]]  # (T, D)
        return ops.broadcast_to(table, shape)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": initializers.serialize(self.initializer)}


@register_keras_serializable(package="keras_hub")
class TokenAndPositionEmbedding(Layer):
    """Token embedding plus learned position embedding: ``E[ids] + P[start : start + T]``.

    Sublayers (keras_hub's): ``token_embedding`` (a :class:`ReversibleEmbedding`, so a language
    model head can reuse it with ``reverse=True``) and ``position_embedding``. With
    ``mask_zero=True`` the output carries the mask ``ids != 0``.

    Example::

        ids = keras.Input((None,), dtype="int32")
        x = hub.layers.TokenAndPositionEmbedding(10_000, 128, 64, mask_zero=True)(ids)  # (B, T, 64)

    Args:
        vocabulary_size, sequence_length, embedding_dim: table sizes.
        tie_weights: passed to the token embedding (True).
        embeddings_initializer: of both tables ("uniform").
        mask_zero: whether id 0 is padding.
    """

    def __init__(self, vocabulary_size, sequence_length, embedding_dim, tie_weights=True,
                 embeddings_initializer="uniform", mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = _check_length("vocabulary_size", vocabulary_size)
        self.sequence_length = _check_length("sequence_length", sequence_length)
        self.embedding_dim = _check_length("embedding_dim", embedding_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.token_embedding = ReversibleEmbedding(self.vocabulary_size, self.embedding_dim, tie_weights=tie_weights,
                                                   embeddings_initializer=clone_initializer(
                                                       self.embeddings_initializer),
                                                   mask_zero=mask_zero, dtype=self.dtype, name="token_embedding")
        self.position_embedding = PositionEmbedding(self.sequence_length,
                                                    initializer=clone_initializer(self.embeddings_initializer),
                                                    dtype=self.dtype, name="position_embedding")
        self.supports_masking = self.token_embedding.supports_masking

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self.token_embedding.build(input_shape)
        self.token_embedding.built = True
        self.position_embedding.build(input_shape + (self.embedding_dim,))
        self.position_embedding.built = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        tokens = self.token_embedding(inputs)  # (B, T, D)
        return tokens + self.position_embedding(tokens, start_index=start_index, positions=positions)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.token_embedding.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length, "embedding_dim": self.embedding_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "tie_weights": self.token_embedding.tie_weights, "mask_zero": self.token_embedding.mask_zero}


@register_keras_serializable(package="keras_hub")
class SinePositionEncoding(Layer):
    """The fixed sinusoidal position encoding of "Attention Is All You Need", shaped like the
    input (add it yourself): for position ``p`` and feature ``i``,
    ``angle = p * max_wavelength ** (-2 * (i // 2) / D)``; even features ``sin(angle)``, odd
    features ``cos(angle)``.

    Example::

        x = layers.Embedding(1000, 32)(ids)                # (B, T, 32)
        x = x + hub.layers.SinePositionEncoding()(x)

    Args:
        max_wavelength: the longest wavelength (10000).

    Call: ``layer(inputs, start_index=0, positions=None)``.
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = tuple(inputs.shape)
        length, hidden = shape[-2], shape[-1]
        if positions is None:
            positions = ops.arange(length, dtype="float32") + float(as_index(start_index, "start_index"))
        positions = ops.cast(positions, "float32")
        if positions.ndim == 1:
            positions = ops.expand_dims(positions, 0)  # (1, T)
        features = np.arange(hidden)
        timescales = np.power(np.float32(1.0 / self.max_wavelength),
                              (2 * (features // 2)).astype(np.float32) / np.float32(hidden)).astype(np.float32)
        angles = ops.einsum("bi,j->bij", positions, ops.convert_to_tensor(timescales))  # (B|1, T, D)
        odd = ops.convert_to_tensor((features % 2).astype(np.float32))  # (D,) 1 on cos features
        encoding = ops.sin(angles) * (1.0 - odd) + ops.cos(angles) * odd
        return ops.broadcast_to(encoding, shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@register_keras_serializable(package="keras_hub")
class RotaryEmbedding(Layer):
    """Rotary position embedding (RoPE, Su et al.): rotates pairs of features by an angle
    proportional to the position, so that ``q . k`` depends only on the offset.

    With ``x1, x2`` the two halves of the features along ``feature_axis`` and ``theta_j =
    p * inv_freq_j``, ``inv_freq_j = max_wavelength ** (-2j / D)`` (``denominator_dim`` in place of
    ``D`` when given): ``out = x * cos(theta) + concat(-x2, x1) * sin(theta)`` (angles repeated
    over both halves). ``rope_type``: "linear" divides ``inv_freq`` by ``scaling_factor``,
    "dynamic" by ``scaling_factor ** (D / (D - 2))``, "yarn" blends interpolated and extrapolated
    frequencies between ``beta_fast`` and ``beta_slow`` rotations and scales cos/sin by
    ``0.1 ln(scaling_factor) + 1``.

    Example::

        q = hub.layers.RotaryEmbedding()(q)   # q (B, T, N, H): sequence axis 1, features last

    Args:
        max_wavelength (10000), scaling_factor (1.0), rope_type ("linear"), beta_fast (32.0),
        beta_slow (1.0), original_max_position_embeddings (4096), truncate (True),
        sequence_axis (1), feature_axis (-1), denominator_dim (None): as above.

    Call: ``layer(inputs, start_index=0, positions=None)``.
    """

    def __init__(self, max_wavelength=10000, scaling_factor=1.0, rope_type="linear", beta_fast=32.0, beta_slow=1.0,
                 original_max_position_embeddings=4096, truncate=True, sequence_axis=1, feature_axis=-1,
                 denominator_dim=None, **kwargs):
        super().__init__(**kwargs)
        if rope_type not in ("linear", "dynamic", "yarn", "default"):
            raise ValueError(f"Unsupported `rope_type`. Expected one of 'linear', 'dynamic', 'yarn'. Received: "
                             f"rope_type={rope_type!r}")
        self.max_wavelength = max_wavelength
        self.sequence_axis = sequence_axis
        self.feature_axis = feature_axis
        self.scaling_factor = scaling_factor
        self.rope_type = rope_type
        self.beta_fast = beta_fast
        self.beta_slow = beta_slow
        self.original_max_position_embeddings = original_max_position_embeddings
        self.truncate = truncate
        self.denominator_dim = denominator_dim
        self.built = True

    def _axes(self, rank):
        seq, feat = self.sequence_axis, self.feature_axis
        seq, feat = seq + rank if seq < 0 else seq, feat + rank if feat < 0 else feat
        for name, given, axis in (("sequence_axis", self.sequence_axis, seq), ("feature_axis", self.feature_axis,
                                                                               feat)):
            if not 0 <= axis < rank:
                raise ValueError(f"{name} {given} is out of range for input with rank {rank}")
        if seq == feat:
            raise ValueError("sequence_axis and feature_axis must be different")
        return seq, feat

    def _inverse_freq(self, dim):
        """The (dim/2,) inverse frequencies (a few numbers per call: computed in NumPy, float32)."""
        f32 = np.float32
        idx = np.arange(0, dim, 2, dtype=f32)
        if self.rope_type == "yarn":
            base = f32(self.max_wavelength)
            pos_freqs = np.power(base, idx / f32(dim))
            extrapolation = f32(1.0) / pos_freqs
            interpolation = f32(1.0) / (f32(self.scaling_factor) * pos_freqs)

            def correction_dim(rotations):
                return (dim * np.log(f32(self.original_max_position_embeddings) / (rotations * 2 * np.pi))
                        ) / (2 * np.log(base))

            low, high = correction_dim(f32(self.beta_fast)), correction_dim(f32(self.beta_slow))
            if self.truncate:
                low, high = np.floor(low), np.ceil(high)
            low, high = max(low, 0.0), min(high, dim - 1.0)
            ramp = np.clip((np.arange(dim // 2, dtype=f32) - low) / max(high - low, 0.001), 0, 1)
            keep = 1 - ramp
            return (interpolation * (1 - keep) + extrapolation * keep).astype(f32)
        denom = f32(self.denominator_dim if self.denominator_dim is not None else dim)
        inv = np.power(f32(self.max_wavelength), -(idx / denom)).astype(f32)
        if self.rope_type == "linear":
            return (inv / f32(self.scaling_factor)).astype(f32)
        if self.rope_type == "dynamic":
            return (inv / np.power(f32(self.scaling_factor), f32(dim) / f32(max(1, dim - 2)))).astype(f32)
        return inv

    def call(self, inputs, start_index=0, positions=None):
        rank = inputs.ndim
        seq_axis, feat_axis = self._axes(rank)
        dim = inputs.shape[feat_axis]
        if dim % 2 != 0:
            raise ValueError(f"Rotary dimension must be even, got {dim}.The rotary embedding splits the feature "
                             "dimension into two halves. Consider using a different feature dimension or padding.")
        x = ops.moveaxis(inputs, (feat_axis, seq_axis), (-1, 1))  # (B, T, ..., D)
        if positions is None:
            positions = ops.arange(x.shape[1], dtype="float32") + float(as_index(start_index, "start_index"))
        positions = ops.cast(positions, "float32")
        if positions.ndim == 1:
            positions = ops.expand_dims(positions, 0)  # (B|1, T)
        freq = ops.einsum("bi,j->bij", positions, ops.convert_to_tensor(self._inverse_freq(dim)))  # (B|1, T, D/2)
        angles = ops.concatenate([freq, freq], axis=-1)  # (B|1, T, D)
        for axis in range(2, rank - 1):
            angles = ops.expand_dims(angles, axis)  # (B|1, T, 1.., D)
        cos, sin = ops.cos(angles), ops.sin(angles)
        if self.rope_type == "yarn":
            factor = 0.1 * math.log(self.scaling_factor) + 1.0
            cos, sin = cos * factor, sin * factor
        x1, x2 = ops.split(x, 2, axis=-1)
        rotated = ops.concatenate([-x2, x1], axis=-1)  # (B, T, ..., D)
        out = x * cos + rotated * sin
        return ops.moveaxis(out, (-1, 1), (feat_axis, seq_axis))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength,
                "scaling_factor": self.scaling_factor, "rope_type": self.rope_type, "beta_fast": self.beta_fast,
                "beta_slow": self.beta_slow,
                "original_max_position_embeddings": self.original_max_position_embeddings,
                "truncate": self.truncate, "sequence_axis": self.sequence_axis, "feature_axis": self.feature_axis,
                "denominator_dim": self.denominator_dim}

