"""Dot: the batched dot product of two tensors (``keras.layers.Dot``), and Identity."""
from __future__ import annotations

import math

from .. import ops
from .layer import Layer


def _l2_normalize(x, axis):
    # x / sqrt(max(sum(x^2), 1e-12)), as Keras' normalize (epsilon on the squared norm)
    sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.multiply(x, ops.rsqrt(ops.maximum(sq, 1e-12)))


class Dot(Layer):
    """``batch_dot`` of two inputs: sums the products of ``x[b, ..., i, ...]`` and
    ``y[b, ..., i, ...]`` over axis ``axes[0]`` of ``x`` and ``axes[1]`` of ``y`` for every sample
    ``b``. With ``normalize=True`` both are L2-normalized along those axes first (the result is the
    cosine similarity).

    Example: ``Dot(axes=1)([x, y])`` on two (N, 5) inputs gives (N, 1); ``Dot(axes=(2, 2))`` on
    (N, 3, 5) and (N, 4, 5) gives (N, 3, 4).

    Args:
        axes: an int or a pair of ints (axes counted with the batch axis as 0; negative allowed).
        normalize: whether to L2-normalize along the dot axes first.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. "
                                f"Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. "
                                 f"Received: axes={axes}")
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. "
                                 f"Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, shape1, shape2):
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, (shape1, shape2))]

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        x, y = inputs
        a1, a2 = self._axes(x.shape, y.shape)
        if x.shape[a1] != y.shape[a2]:
            raise ValueError(f"Incompatible input shapes: axis values {x.shape[a1]} (at axis {a1}) != "
                             f"{y.shape[a2]} (at axis {a2}). Full input shapes: {tuple(x.shape)}, {tuple(y.shape)}")
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        b, k = x.shape[0], x.shape[a1]
        xm = ops.moveaxis(x, a1, -1)  # (B, ..x, K)
        ym = ops.moveaxis(y, a2, 1)  # (B, K, ..y)
        x_rest, y_rest = tuple(xm.shape[1:-1]), tuple(ym.shape[2:])
        out = ops.matmul(ops.reshape(xm, (b, math.prod(x_rest), k)),
                         ops.reshape(ym, (b, k, math.prod(y_rest))))  # (B, M, N)
        shape = (b,) + x_rest + y_rest
        return ops.reshape(out, shape if len(shape) > 1 else (b, 1))

    def compute_output_shape(self, input_shape):
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._axes(s1, s2)
        s1.pop(a1)
        s2.pop(a2)
        s2.pop(0)
        out = s1 + s2
        return tuple(out) if len(out) > 1 else (out[0], 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


class Identity(Layer):
    """Returns its inputs unchanged (and their mask): a placeholder layer.

    Example: ``Identity()(x)`` is ``x``.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
