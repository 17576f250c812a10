"""``keras.ops`` ``unfold`` / ``fold`` (im2col and col2im on channels-first images) and
``ctc_loss`` / ``ctc_decode`` (connectionist temporal classification).

unfold is one gather (``take``) of every patch element from the padded image, fold one
scatter-add (``segment_sum``) back; the index tables are geometry, computed once per call from the
shapes. The CTC loss runs the forward (alpha) recursion in log space over the time steps, each
step a handful of batched Rust kernels over (batch, 2 L + 1) states, so its gradient comes from the
tape. The greedy decoder is argmax, merge and compaction, all tensor ops.
"""
from __future__ import annotations

import numpy as _np

from . import ops as _ops

__all__ = ["unfold", "fold", "ctc_loss", "ctc_decode"]


def _two(name, v, minimum):
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v, v)
    try:
        a, b = (int(x) for x in v)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be an int or a tuple of two ints, received {v!r}") from None
    if min(a, b) < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, received {v!r}")
    return a, b


def _patch_index(hp, wp, kernel, dilation, stride, op):
    """(kh kw L) flat indices into an (hp, wp) image, and the patch grid (oh, ow)."""
    (kh, kw), (dh, dw), (sh, sw) = kernel, dilation, stride
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{op}: the kernel {kernel} (dilation {dilation}) does not fit in the padded image "
                         f"({hp}, {wp})")
    rows = (_np.arange(kh)[:, None, None, None] * dh + _np.arange(oh)[None, None, :, None] * sh)
    cols = (_np.arange(kw)[None, :, None, None] * dw + _np.arange(ow)[None, None, None, :] * sw)
    return (rows * wp + cols).reshape(-1).astype(_np.int64), (oh, ow)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels-first batch (im2col, as ``torch.nn.functional.unfold``):
    (N, C, H, W) -> (N, C kH kW, L), row ``c kH kW + i kW + j`` holding kernel element (i, j) of
    channel c for each of the L patches (row-major over the patch grid)."""
    x = _ops.convert_to_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={tuple(x.shape)}")
    kernel = _two("kernel_size", kernel_size, 1)
    dil, pad, st = _two("dilation", dilation, 1), _two("padding", padding, 0), _two("stride", stride, 1)
    n, c, h, w = x.shape
    if pad != (0, 0):
        x = _ops.pad(x, [(0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])])
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    idx, (oh, ow) = _patch_index(hp, wp, kernel, dil, st, "unfold")
    cols = _ops.take(_ops.reshape(x, (n, c, hp * wp)), _ops.convert_to_tensor(idx), axis=-1)
    return _ops.reshape(cols, (n, c * kernel[0] * kernel[1], oh * ow))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks back into images (col2im, the adjoint of ``unfold``):
    (N, C kH kW, L) -> (N, C, oH, oW); overlapping block elements add up."""
    x = _ops.convert_to_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={tuple(x.shape)}")
    out_h, out_w = _two("output_size", output_size, 1)
    kernel = _two("kernel_size", kernel_size, 1)
    dil, pad, st = _two("dilation", dilation, 1), _two("padding", padding, 0), _two("stride", stride, 1)
    n, ckk, blocks = x.shape
    kk = kernel[0] * kernel[1]
    if ckk % kk:
        raise ValueError(f"fold: the second axis ({ckk}) must be a multiple of kernel_size[0] * kernel_size[1] "
                         f"({kk})")
    hp, wp = out_h + 2 * pad[0], out_w + 2 * pad[1]
    idx, (oh, ow) = _patch_index(hp, wp, kernel, dil, st, "fold")
    if oh * ow != blocks:
        raise ValueError(f"fold: expected {oh * ow} blocks ({oh} x {ow}) for output_size {(out_h, out_w)}, "
                         f"received {blocks}")
    c = ckk // kk
    cols = _ops.reshape(x, (n * c, kk * blocks))
    img = _ops.segment_sum(_ops.transpose(cols), _ops.convert_to_tensor(idx), num_segments=hp * wp)
    img = _ops.reshape(_ops.transpose(img), (n, c, hp, wp))
    return img[:, :, pad[0]:pad[0] + out_h, pad[1]:pad[1] + out_w]


# ---- CTC ---------------------------------------------------------------------------------------

_NEG = -1e30  # log(0) that stays finite in sums (the -inf arithmetic of logaddexp is avoided)


def _shift(a, k):
    """``a`` shifted right by k states along the last axis (the new first k are log(0))."""
    return _ops.pad(a[:, :-k], [(0, 0), (k, 0)], constant_values=_NEG)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sample CTC loss (negative log-likelihood of the target sequences), as Keras 3 on
    PyTorch: ``output`` (batch, time, classes) holds logits (a log-softmax is applied),
    ``target`` (batch, max_label_length) the labels, ``target_length`` / ``output_length``
    (batch,) the valid lengths; ``mask_index`` is the blank class. An impossible alignment gives
    inf."""
    output = _ops.convert_to_tensor(output)
    if output.ndim != 3:
        raise ValueError(f"ctc_loss: `output` must be (batch, time, classes), received shape {tuple(output.shape)}")
    dtype = "float64" if output.dtype == "float64" else "float32"
    logp = _ops.log_softmax(_ops.cast(output, dtype), axis=-1)
    b, t_max, classes = logp.shape
    labels = _np.asarray(_ops.convert_to_numpy(target)).astype(_np.int64)
    if labels.ndim != 2 or labels.shape[0] != b:
        raise ValueError(f"ctc_loss: `target` must be (batch, max_label_length) with batch {b}, received shape "
                         f"{labels.shape}")
    tl = _np.asarray(_ops.convert_to_numpy(target_length)).astype(_np.int64).reshape(-1)
    ol = _np.asarray(_ops.convert_to_numpy(output_length)).astype(_np.int64).reshape(-1)
    if tl.shape != (b,) or ol.shape != (b,):
        raise ValueError(f"ctc_loss: target_length and output_length must hold one length per sample ({b}), "
                         f"received shapes {tl.shape} and {ol.shape}")
    if (tl < 0).any() or (tl > labels.shape[1]).any() or (ol < 0).any() or (ol > t_max).any():
        raise ValueError(f"ctc_loss: lengths out of range: target_length {tl.tolist()} (max {labels.shape[1]}), "
                         f"output_length {ol.tolist()} (max {t_max})")
    blank = int(mask_index)
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: mask_index={mask_index} is not a class of the {classes} in `output`")
    valid = _np.arange(labels.shape[1])[None, :] < tl[:, None]
    if ((labels < 0) | (labels >= classes))[valid].any():
        raise ValueError(f"ctc_loss: target labels must lie in [0, {classes}) within target_length")
    # the extended label sequence: blank, l1, blank, l2, ..., blank (S = 2 L + 1 states)
    s_max = 2 * labels.shape[1] + 1
    ext = _np.full((b, s_max), blank, dtype=_np.int64)
    ext[:, 1::2] = _np.where(valid, labels, blank)
    skip = _np.zeros((b, s_max), dtype=bool)  # state s may come from s - 2
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    states = _np.arange(s_max)[None, :] < (2 * tl + 1)[:, None]
    ext_t = _ops.convert_to_tensor(ext)
    skip_t, states_t = _ops.convert_to_tensor(skip), _ops.convert_to_tensor(states)
    # emissions per step: (B, T, S)
    emit = _ops.take_along_axis(logp, _ops.broadcast_to(_ops.expand_dims(ext_t, 1), (b, t_max, s_max)), axis=-1)
    init = _np.full((b, s_max), _NEG)
    init[:, 0] = 0.0
    if s_max > 1:
        init[:, 1] = _np.where(tl > 0, 0.0, _NEG)
    alpha = _ops.add(_ops.convert_to_tensor(init.astype(dtype)), emit[:, 0])
    alpha = _ops.where(states_t, alpha, _NEG)
    for t in range(1, t_max):
        stay, step = alpha, _shift(alpha, 1)
        jump = _ops.where(skip_t, _shift(alpha, 2), _NEG) if s_max > 2 else _ops.full_like(alpha, _NEG)
        new = _ops.add(_ops.logsumexp(_ops.stack([stay, step, jump], axis=0), axis=0), emit[:, t])
        new = _ops.where(states_t, new, _NEG)
        live = _ops.convert_to_tensor((t < ol)[:, None])
        alpha = _ops.where(live, new, alpha)
    last = _ops.convert_to_tensor((2 * tl)[:, None])
    prev = _ops.convert_to_tensor(_np.maximum(2 * tl - 1, 0)[:, None])
    end = _ops.take_along_axis(alpha, last, axis=1)[:, 0]
    end_prev = _ops.where(_ops.convert_to_tensor(tl > 0), _ops.take_along_axis(alpha, prev, axis=1)[:, 0], _NEG)
    total = _ops.logsumexp(_ops.stack([end, end_prev], axis=-1), axis=-1)
    no_steps = _ops.convert_to_tensor(ol == 0)
    total = _ops.where(no_steps, _ops.where(_ops.convert_to_tensor(tl == 0), 0.0, _NEG), total)
    loss = _ops.negative(total)
    # log(0) stands in as -1e30: report those alignments as impossible (inf), as PyTorch does
    return _ops.where(_ops.greater(loss, 1e29), float("inf"), loss)


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """Decodes CTC outputs (batch, time, classes), as Keras 3 on PyTorch. Greedy: the best class
    per valid step, repeats merged (``merge_repeated``), blanks (``mask_index``) dropped; returns
    ``(decoded, scores)`` with decoded (1, batch, time) padded with -1 and scores (batch, 1) the
    negated sum of the chosen per-step values. ``strategy="beam_search"`` is not available."""
    if strategy == "beam_search":
        raise NotImplementedError("ctc_decode: strategy='beam_search' is not available in ferrograd yet (use "
                                  "'greedy')")
    if strategy != "greedy":
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and 'beam_search'.")
    x = _ops.convert_to_tensor(inputs)
    if x.ndim != 3:
        raise ValueError(f"ctc_decode: `inputs` must be (batch, time, classes), received shape {tuple(x.shape)}")
    x = _ops.cast(x, "float64" if x.dtype == "float64" else "float32")
    b, t_max, classes = x.shape
    lengths = _ops.reshape(_ops.cast(_ops.convert_to_tensor(sequence_lengths), "int32"), (-1,))
    if tuple(lengths.shape) != (b,):
        raise ValueError(f"ctc_decode: sequence_lengths must hold one length per sample ({b}), received shape "
                         f"{tuple(lengths.shape)}")
    blank = classes - 1 if mask_index is None else int(mask_index)
    idx = _ops.cast(_ops.argmax(x, axis=-1), "int32")
    scores = _ops.max(x, axis=-1)
    steps = _ops.convert_to_tensor(_np.arange(t_max, dtype=_np.int32)[None, :])
    beyond = _ops.greater_equal(steps, _ops.expand_dims(lengths, 1))
    idx = _ops.where(beyond, blank, idx)
    scores = _ops.where(beyond, 0.0, scores)
    if merge_repeated and t_max > 1:
        repeat = _ops.equal(idx[:, 1:], idx[:, :-1])
        repeat = _ops.concatenate([_ops.zeros((b, 1), dtype="bool"), repeat], axis=1)
        idx = _ops.where(repeat, blank, idx)
    invalid = _ops.equal(idx, blank)
    idx = _ops.where(invalid, -1, idx)
    order = _ops.argsort(_ops.where(invalid, t_max, _ops.broadcast_to(steps, (b, t_max))), axis=-1)
    idx = _ops.take_along_axis(idx, order, axis=-1)
    return _ops.expand_dims(idx, 0), _ops.negative(_ops.sum(scores, axis=1, keepdims=True))
