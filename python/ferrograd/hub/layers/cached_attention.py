"""``CachedMultiHeadAttention``: MultiHeadAttention with a key/value cache for decoding (keras_hub)."""
from __future__ import annotations

from ... import ops
from ...layers.multi_head_attention import MultiHeadAttention
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor
from ._utils import as_index


def _update_cache_rows(cache, update, index):
    """``cache`` (B, S, N, H) with rows ``index .. index + T`` replaced by ``update`` (B, T, N, H):
    Keras' ``slice_update`` on the sequence axis, composed from slices and one concatenation."""
    t = update.shape[1]
    parts = []
    if index > 0:
        parts.append(cache[:, :index])
    parts.append(ops.cast(update, cache.dtype))
    if index + t < cache.shape[1]:
        parts.append(cache[:, index + t:])
    return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=1)


@register_keras_serializable(package="keras_hub")
class CachedMultiHeadAttention(MultiHeadAttention):
    """MultiHeadAttention whose call also takes and returns a key/value cache, for autoregressive
    decoding (keras_hub's layer, same arguments, weights and call).

    The cache is one tensor (B, 2, S, N, H): ``cache[:, 0]`` the projected keys, ``cache[:, 1]`` the
    projected values of S positions. With ``cache_update_index=i`` the keys and values of the
    ``T`` query positions are written at rows ``i .. i+T-1`` and attention runs over the whole cache
    (the mask decides which rows count); with ``cache_update_index=None`` the cache is read as is
    (a cross-attention cache computed once). The call then returns ``(output, cache)``; without a
    cache it returns the output, as MultiHeadAttention (masks riding on the inputs are not read:
    pass ``attention_mask``).

    Example::

        layer = CachedMultiHeadAttention(num_heads=2, key_dim=8)
        cache = ops.zeros((B, 2, max_len, 2, 8))
        out, cache = layer(x_t, x_t, cache=cache, cache_update_index=t)  # x_t (B, 1, D)

    Args: as :class:`ferrograd.layers.MultiHeadAttention`.
    """

    def call(self, query, value, key=None, attention_mask=None, cache=None, cache_update_index=None,
             return_attention_scores=False, training=None):
        if key is None:
            key = value
        q = self._query_dense(query)  # (B, T, N, key_dim)
        if cache is not None:
            key_cache, value_cache = cache[:, 0], cache[:, 1]  # (B, S, N, H) each
            if cache_update_index is None:
                k, v = key_cache, value_cache
            else:
                index = as_index(cache_update_index, "cache_update_index")
                k = _update_cache_rows(key_cache, self._key_dense(key), index)  # (B, S, N, H)
                v = _update_cache_rows(value_cache, self._value_dense(value), index)
                cache = ops.stack((k, v), axis=1)  # (B, 2, S, N, H)
        else:
            if cache_update_index is not None:
                raise ValueError(f"`cache_update_index` should not be set if `cache` is `None`. Received: "
                                 f"cache={cache}, cache_update_index={cache_update_index}")
            k = self._key_dense(key)  # (B, S, N, key_dim)
            v = self._value_dense(value)  # (B, S, N, value_dim)
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")  # (B, T, S)
        out, scores = self._attend(q, k, v, attention_mask, training, return_attention_scores, False,
                                   self._inverse_sqrt_key_dim, self._norm_axes, self._dot_product_equation,
                                   self._combine_equation)  # (B, T, N, value_dim)
        out = self._output_dense(out)  # (B, T, D)
        if return_attention_scores and cache is not None:
            return out, scores, cache
        if return_attention_scores:
            return out, scores
        if cache is not None:
            return out, cache
        return out

    def compute_output_spec(self, query, value, key=None, attention_mask=None, cache=None, cache_update_index=None,
                            return_attention_scores=False, training=None):
        shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
        out = [KerasTensor(shape, self.dtype)]
        if return_attention_scores:
            s_len = cache.shape[2] if cache is not None else (value if key is None else key).shape[1]
            out.append(KerasTensor((query.shape[0], self._num_heads, query.shape[1], s_len), self.dtype))
        if cache is not None:
            out.append(KerasTensor(cache.shape, self.dtype))
        return out[0] if len(out) == 1 else tuple(out)
