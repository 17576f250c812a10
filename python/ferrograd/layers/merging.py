"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
from __future__ import annotations

import functools

from .. import ops
from .layer import Layer


class _Merge(Layer):
    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"A merge layer ({self.name}) should be called on a list of at least 2 inputs. "
                             f"Received: inputs={inputs!r}")
        return list(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


class Add(_Merge):
    def call(self, inputs):
        return functools.reduce(ops.add, self._check(inputs))


class Subtract(_Merge):
    def call(self, inputs):
        xs = self._check(inputs)
        if len(xs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: {len(xs)} inputs")
        return ops.subtract(xs[0], xs[1])


class Multiply(_Merge):
    def call(self, inputs):
        return functools.reduce(ops.multiply, self._check(inputs))


class Average(_Merge):
    def call(self, inputs):
        xs = self._check(inputs)
        return functools.reduce(ops.add, xs) * (1.0 / len(xs))


class Maximum(_Merge):
    def call(self, inputs):
        return functools.reduce(ops.maximum, self._check(inputs))


class Minimum(_Merge):
    def call(self, inputs):
        return functools.reduce(ops.minimum, self._check(inputs))


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return ops.concatenate(self._check(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = list(shapes[0])
        ax = self.axis % len(out)
        out[ax] = None if any(s[ax] is None for s in shapes) else sum(s[ax] for s in shapes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
