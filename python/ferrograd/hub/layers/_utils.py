"""Helpers the keras_hub layers share: argument checks, initializer copies and the masks of a
transformer block (padding + attention masks, the causal mask of a decoder with a cache)."""
from __future__ import annotations

import numpy as np

from ... import initializers, ops
from ...layers.layer import get_keras_mask


def positive_int(name, value, owner=None):
    """``value`` as an int when it is a positive integer (NumPy integers included), else a
    ValueError naming the argument (and ``owner``, the class, when given)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        if owner:
            raise ValueError(f"{owner}: `{name}` must be a positive integer. Received: {name}={value!r}")
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a positive integer. "
                         f"Received: {name}={value!r}")
    return int(value)


def check_rate(name, value, owner=None):
    """``value`` when it is a rate in [0, 1), else a ValueError naming the argument (and ``owner``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        if owner:
            raise ValueError(f"{owner}: `{name}` must be a float in [0, 1). Received: {name}={value!r}")
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a float in [0, 1). "
                         f"Received: {name}={value!r}")
    return value


def clone_initializer(init):
    """A fresh copy of an initializer object, so that sublayers seeded alike draw alike (Keras)."""
    if hasattr(init, "get_config"):
        return initializers.deserialize(initializers.serialize(init))
    return init


def as_index(value, name="index"):
    """A Python int from an int or a scalar integer tensor (cache indices, start indices)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(ops.convert_to_numpy(value).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an int or a scalar integer tensor. Received: {name}={value!r}") from None


def merge_padding_and_attention_mask(inputs, padding_mask, attention_mask):
    """keras_hub's rule: the (B, T) padding mask (``padding_mask``, else the mask riding on
    ``inputs``) as (B, 1, T), ANDed with the (B, T, S) ``attention_mask``; None when neither."""
    mask = padding_mask if padding_mask is not None else get_keras_mask(inputs)
    if mask is not None and mask.ndim != 2:
        raise ValueError(f"`padding_mask` should have shape (batch_size, target_length). Received shape "
                         f"`{tuple(mask.shape)}`.")
    if attention_mask is not None and attention_mask.ndim != 3:
        raise ValueError(f"`attention_mask` should have shape (batch_size, target_length, source_length). "
                         f"Received shape `{tuple(attention_mask.shape)}`.")
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (B, 1, T)
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")  # (B, T, S)
        return attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    return mask


def compute_causal_mask(batch_size, input_length, output_length, cache_index=0):
    """(B, T, S) boolean: query ``i`` (at position ``cache_index + i``) sees keys ``j <= cache_index + i``."""
    i = ops.expand_dims(ops.arange(output_length, dtype="int32") + int(cache_index), 1)  # (T, 1)
    j = ops.expand_dims(ops.arange(input_length, dtype="int32"), 0)  # (1, S)
    mask = ops.expand_dims(ops.greater_equal(i, j), 0)  # (1, T, S)
    return ops.broadcast_to(mask, (batch_size, output_length, input_length))
