"""``keras.ops.rearrange``: einops-style axis rearrangement as one reshape, one transpose and one
reshape (views where the layout allows; the copy, if any, runs in the Rust core).

The pattern language is Keras' (``keras/src/ops/einops.py``): named axes, parenthesised groups on
either side (a group on the left is decomposed with the lengths given as keywords, at most one
inferred per group; a group on the right is merged). Unlike Keras, a pattern is checked before
anything runs: the left side must name every axis of the tensor once, the right side must use the
same names (nothing dropped, nothing invented), keyword lengths must be used and agree with the
shape, and an ellipsis or an anonymous axis (``1``, ``()``), which Keras does not read either, is
refused by name. On a symbolic tensor the three steps record graph nodes (one unknown dimension
per reshape, such as the batch, is allowed).
"""
from __future__ import annotations

import re

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\(([^()]*)\)|([A-Za-z_]\w*)|(\S)")


def _side(text, pattern, which):
    """The axes of one side of ``pattern``: a list of groups (lists of names; a bare name is a
    group of one, flagged ``False`` as not parenthesised)."""
    groups = []
    for m in _TOKEN.finditer(text):
        group, name, other = m.groups()
        if other is not None:
            what = "an ellipsis" if other == "." else f"{other!r}"
            raise ValueError(f"rearrange: pattern {pattern!r}: {what} on the {which} side is not supported "
                             "(named axes and parenthesised groups of names only)")
        if group is not None:
            names = group.split()
            if not names or not all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
                raise ValueError(f"rearrange: pattern {pattern!r}: group ({group}) on the {which} side must hold "
                                 "one or more axis names")
            groups.append((names, True))
        else:
            groups.append(([name], False))
    flat = [n for names, _ in groups for n in names]
    dup = sorted({n for n in flat if flat.count(n) > 1})
    if dup:
        raise ValueError(f"rearrange: pattern {pattern!r}: axis {dup[0]!r} appears twice on the {which} side")
    return groups, flat


def _product(sizes):
    out = 1
    for s in sizes:
        if s is None:
            return None
        out *= s
    return out


def _target(sizes, pattern, step):
    """A reshape target: an unknown size (symbolic) becomes -1, which must be unique."""
    if sum(s is None for s in sizes) > 1:
        raise ValueError(f"rearrange: pattern {pattern!r}: the {step} needs more than one unknown dimension "
                         f"({tuple(sizes)}); give the tensor a static shape there")
    return tuple(-1 if s is None else int(s) for s in sizes)


def rearrange(tensor, pattern, **axes_lengths):
    """Rearranges the axes of ``tensor`` as ``pattern`` says, einops-style.

    ``"b h w c -> b c h w"`` permutes, ``"b h w c -> b (h w) c"`` merges, and
    ``"b (h p) (w q) c -> b h w (p q c)"`` with ``p=2, q=2`` splits and merges (space to depth).
    """
    from . import ops

    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(f"rearrange: pattern must be a string with one '->'; received {pattern!r}")
    for k, v in axes_lengths.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"rearrange: axis length {k}={v!r} must be a positive int")
    left, right = pattern.split("->")
    in_groups, in_flat = _side(left, pattern, "left")
    out_groups, out_flat = _side(right, pattern, "right")
    missing = [n for n in in_flat if n not in out_flat]
    extra = [n for n in out_flat if n not in in_flat]
    if missing or extra:
        raise ValueError(f"rearrange: pattern {pattern!r}: both sides must name the same axes "
                         + (f"({missing[0]!r} is dropped)" if missing else f"({extra[0]!r} is not on the left)"))
    unused = [k for k in axes_lengths if k not in in_flat]
    if unused:
        raise ValueError(f"rearrange: pattern {pattern!r}: axis length {unused[0]}= names no axis of the left side")
    shape = tuple(ops.shape(tensor))
    if len(in_groups) != len(shape):
        raise ValueError(f"rearrange: pattern {pattern!r}: the left side has {len(in_groups)} axes but the tensor "
                         f"has rank {len(shape)} (shape {shape})")
    size = {}
    for (names, grouped), dim in zip(in_groups, shape):
        if not grouped:
            n = names[0]
            if n in axes_lengths and dim is not None and axes_lengths[n] != dim:
                raise ValueError(f"rearrange: pattern {pattern!r}: {n}={axes_lengths[n]} but that axis has length "
                                 f"{dim}")
            size[n] = dim if n not in axes_lengths or dim is not None else axes_lengths[n]
            continue
        unknown = [n for n in names if n not in axes_lengths]
        if len(unknown) > 1:
            raise ValueError(f"rearrange: pattern {pattern!r}: group ({' '.join(names)}) has more than one axis "
                             f"without a length ({', '.join(unknown)}); give all but one as keywords")
        known = _product([axes_lengths[n] for n in names if n in axes_lengths])
        if unknown:
            if dim is not None and dim % known:
                raise ValueError(f"rearrange: pattern {pattern!r}: an axis of length {dim} does not split into "
                                 f"({' '.join(names)}) with the given lengths (product {known})")
            size[unknown[0]] = None if dim is None else dim // known
        elif dim is not None and known != dim:
            raise ValueError(f"rearrange: pattern {pattern!r}: ({' '.join(names)}) has {known} elements but that "
                             f"axis has length {dim}")
        size.update({n: axes_lengths[n] for n in names if n in axes_lengths})
    x = tensor
    split = [size[n] for n in in_flat]
    if len(split) != len(shape):
        x = ops.reshape(x, _target(split, pattern, "split"))
    order = [in_flat.index(n) for n in out_flat]
    if order != sorted(order):
        x = ops.transpose(x, order)
    merged = [_product([size[n] for n in names]) for names, _ in out_groups]
    if len(merged) != len(out_flat):
        x = ops.reshape(x, _target(merged, pattern, "merge"))
    return x
