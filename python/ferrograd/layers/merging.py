"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.

Masks, as in Keras 3 (masks are (batch, steps) booleans, True = keep):

- the output mask of the element-wise merges is the OR of the input masks when every input has
  one, else None;
- Maximum / Minimum ignore masked entries (a masked entry is replaced by the running result, so
  it never wins) and Multiply treats them as 1 (and zeroes the output outside the OR mask when
  every input is masked); Add, Subtract and Average combine the values unchanged;
- Concatenate gives each unmasked input an all-True mask, concatenates the masks along ``axis``
  and reduces the result with ``any`` over the last axis.
"""
from __future__ import annotations

import functools

from .. import ops
from .layer import Layer


def _input_masks(inputs, mask):
    """One mask (or None) per input: the ``mask`` list handed to ``call``, else the masks riding on
    the tensors."""
    if mask is None:
        return [getattr(x, "_keras_mask", None) for x in inputs]
    if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(f"`mask` should be a list with one entry per input. Received: mask={mask!r}")
    return [None if m is None else ops.cast(m, "bool") for m in mask]


def _broadcast_shapes(a, b):
    """Keras' element-wise output shape of two shapes with None (unknown) dimensions."""
    if a is None or b is None:
        return None
    a, b = tuple(a), tuple(b)
    if len(a) < len(b):
        a, b = b, a
    out = list(a[:len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b):], b):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {a} and {b}")
    return tuple(out)


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"A merge layer ({self.name}) should be called on a list of at least 2 inputs. "
                             f"Received: inputs={inputs!r}")
        return list(inputs)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _broadcast_shapes(out, s[1:])
        batch = {s[0] for s in shapes if s[0] is not None}
        return ((batch.pop() if len(batch) == 1 else None),) + tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"`mask` should be a list. Received: mask={mask!r}")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs!r}")
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: inputs of "
                             f"length {len(inputs)}, and mask of length {len(mask)}")
        if any(m is None for m in mask):
            return None
        return functools.reduce(ops.logical_or, [ops.cast(m, "bool") for m in mask])


def _masked_reduce(op, inputs, masks):
    """Keras' ``_apply_merge_op_and_or_mask``: merges with ``op`` while a masked entry (False) never
    contributes; entries masked in every input keep the value of the last unmasked-so-far operand."""
    output, output_mask = None, None
    for x, m in zip(inputs, masks):
        if m is not None:
            m = ops.broadcast_to(ops.expand_dims(m, -1), x.shape)  # (B, T) -> (B, T, C)
        if output is None:
            output, output_mask = x, m
            continue
        if m is not None:
            x = ops.where(m, x, output)
        if output_mask is not None:
            output = ops.where(output_mask, output, x)
        output_mask = ops.logical_or(output_mask, m) if m is not None and output_mask is not None else None
        output = op(output, x)
    return output


class Add(_Merge):
    """Element-wise sum of a list of inputs (broadcasting).

    Example: ``Add()([x1, x2])``.
    """

    def call(self, inputs):
        return functools.reduce(ops.add, self._check(inputs))


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def call(self, inputs):
        xs = self._check(inputs)
        if len(xs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {len(xs)} inputs")
        return ops.subtract(xs[0], xs[1])


class Multiply(_Merge):
    """Element-wise product; masked entries count as 1 (see the module note)."""

    def call(self, inputs, mask=None):
        xs = self._check(inputs)
        masks = _input_masks(xs, mask)
        if all(m is None for m in masks):
            return functools.reduce(ops.multiply, xs)
        every = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, m in zip(xs, masks):
            if m is not None:
                m = ops.broadcast_to(ops.expand_dims(m, -1), x.shape)  # (B, T) -> (B, T, C)
                x = ops.where(m, x, 1.0)
                if every:
                    output_mask = m if output_mask is None else ops.logical_or(output_mask, m)
            output = x if output is None else ops.multiply(output, x)
        if every:
            output = ops.where(output_mask, output, 0.0)
        return output


class Average(_Merge):
    """Element-wise mean of a list of inputs."""

    def call(self, inputs):
        xs = self._check(inputs)
        return functools.reduce(ops.add, xs) / len(xs)


class Maximum(_Merge):
    """Element-wise maximum; masked entries never win (see the module note)."""

    def call(self, inputs, mask=None):
        xs = self._check(inputs)
        return _masked_reduce(ops.maximum, xs, _input_masks(xs, mask))


class Minimum(_Merge):
    """Element-wise minimum; masked entries never win (see the module note)."""

    def call(self, inputs, mask=None):
        xs = self._check(inputs)
        return _masked_reduce(ops.minimum, xs, _input_masks(xs, mask))


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis`` (all other dimensions must agree).

    Example: ``Concatenate()([a, b])`` with (N, 4) and (N, 3) gives (N, 7).

    Args: axis (default -1).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return ops.concatenate(self._check(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = list(shapes[0])
        ax = self.axis % len(out)
        for s in shapes[1:]:
            if len(s) != len(out) or any(a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(out, s)) if i != ax):
                raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the concat "
                                 f"axis. Received: input_shape={shapes}")
        out[ax] = None if any(s[ax] is None for s in shapes) else sum(s[ax] for s in shapes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"`mask` should be a list. Received mask={mask!r}")
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs!r}")
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. Received: inputs of "
                             f"length {len(inputs)}, and mask of length {len(mask)}")
        if all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                full.append(ops.ones_like(x, dtype="bool"))  # an unmasked input keeps every entry
            else:
                m = ops.cast(m, "bool")
                # (B, T) -> (B, T, C): the mask of every feature of a step is the step's mask.
                full.append(ops.broadcast_to(ops.expand_dims(m, -1), x.shape) if m.ndim < x.ndim else m)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
