"""Sentence embeddings and semantic search on ferrograd tensors: ``mean_pool`` (the
sentence-transformers pooling of all-MiniLM and most sentence encoders), ``l2_normalize`` and
``cosine_top_k``.

Every step is a ferrograd op (one Rust kernel each): the search is a matmul of a block of
normalized queries against the transposed, normalized corpus (a strided view, not a copy) and a
``top_k`` over each row, block after block of ``batch_size`` queries, so the score matrix in memory
is at most ``batch_size x len(corpus)`` floats. No NumPy arithmetic runs in the hot path.

Example::

    out = backbone({"token_ids": ids, "segment_ids": seg, "padding_mask": mask})
    emb = l2_normalize(mean_pool(out["sequence_output"], mask))   # (N, D)
    scores, indices = cosine_top_k(query_emb, emb, k=3)            # (Q, 3) each
"""
from __future__ import annotations

import numpy as np

from ... import _core, ops
from ..._core import Tensor
from ...layers.layer import _NoGrad

__all__ = ["cosine_top_k", "l2_normalize", "mean_pool"]


def _tensor(x, name, float_only=True):
    if not isinstance(x, Tensor):
        a = np.asarray(x)
        if float_only and a.dtype == np.float64:
            a = a.astype(np.float32)
        x = _core.as_tensor(a)
    if float_only and not x.dtype.startswith("float"):
        raise TypeError(f"`{name}` must hold floats; received dtype {x.dtype}")
    return x


def mean_pool(sequence_output, padding_mask):
    """The mean of each sequence's token vectors over its real (unpadded) tokens:
    ``sum_t mask[b, t] x[b, t] / max(sum_t mask[b, t], 1e-9)``.

    Args:
        sequence_output: (B, T, D) floats (a backbone's ``sequence_output``).
        padding_mask: (B, T), nonzero/True for real tokens.

    Returns:
        (B, D) tensor.
    """
    x = _tensor(sequence_output, "sequence_output")
    mask = padding_mask if isinstance(padding_mask, Tensor) else _core.as_tensor(np.asarray(padding_mask))
    if x.ndim != 3 or mask.ndim != 2 or tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"mean_pool: expected sequence_output (B, T, D) and padding_mask (B, T); received shapes "
                         f"{tuple(x.shape)} and {tuple(mask.shape)}")
    m = ops.expand_dims(ops.cast(ops.cast(mask, "bool"), x.dtype), -1)  # (B, T, 1)
    total = ops.sum(x * m, axis=1)  # (B, D)
    count = ops.maximum(ops.sum(m, axis=1), 1e-9)  # (B, 1)
    return total / count  # (B, D)


def l2_normalize(x, axis=-1, epsilon=1e-12):
    """``x / max(||x||_2, epsilon)`` along ``axis`` (as ``torch.nn.functional.normalize``)."""
    x = _tensor(x, "x")
    norm = ops.sqrt(ops.sum(x * x, axis=axis, keepdims=True))
    return x / ops.maximum(norm, epsilon)


def cosine_top_k(queries, corpus_embeddings, k, batch_size=1024):
    """The ``k`` corpus entries most similar (cosine) to each query.

    Both sides are L2-normalized first (embeddings that already are stay as they are, up to
    rounding), then each block of ``batch_size`` queries is scored against the whole corpus with
    one matmul and ranked with one ``top_k``.

    Args:
        queries: (Q, D) floats.
        corpus_embeddings: (N, D) floats.
        k: how many hits per query (1 <= k <= N).
        batch_size: queries per block (bounds the (batch_size, N) score matrix).

    Returns:
        ``(scores, indices)``: (Q, k) float32 cosine similarities, best first, and (Q, k) int32
        row indices into the corpus (the earlier row first among equal scores).
    """
    q = _tensor(queries, "queries")
    c = _tensor(corpus_embeddings, "corpus_embeddings")
    if q.ndim != 2 or c.ndim != 2 or q.shape[1] != c.shape[1]:
        raise ValueError(f"cosine_top_k: expected queries (Q, D) and corpus_embeddings (N, D) with the same D; "
                         f"received shapes {tuple(q.shape)} and {tuple(c.shape)}")
    n = c.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"cosine_top_k: `k` must be an integer in [1, {n}] (the corpus size). Received: k={k!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"cosine_top_k: `batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
    with _NoGrad():
        corpus_t = ops.transpose(l2_normalize(c))  # (D, N), a view
        scores, indices = [], []
        for start in range(0, q.shape[0], int(batch_size)):
            block = l2_normalize(q[start:start + int(batch_size)])  # (b, D)
            sims = ops.matmul(block, corpus_t)  # (b, N)
            values, idx = ops.top_k(sims, int(k))  # (b, k) each
            scores.append(values)
            indices.append(idx)
        if not scores:
            return (_core.as_tensor(np.zeros((0, int(k)), np.float32)),
                    _core.as_tensor(np.zeros((0, int(k)), np.int32)))
        if len(scores) == 1:
            return scores[0], indices[0]
        return ops.concatenate(scores, axis=0), ops.concatenate(indices, axis=0)
