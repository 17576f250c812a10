"""Sequential: a linear stack of layers."""
from __future__ import annotations

from .. import _core
from .._core import Tensor
from ..layers.layer import Layer
from .model import Model


class KerasTensor:
    """A symbolic input description (``ferrograd.Input``): shape without the batch axis, and dtype."""

    def __init__(self, shape, dtype="float32", name=None, batch_size=None):
        self.shape = (batch_size,) + tuple(shape)
        self.dtype = dtype
        self.name = name

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):
    """A symbolic input for ``Sequential([Input(shape), ...])``."""
    if batch_shape is not None:
        batch_size, shape = batch_shape[0], batch_shape[1:]
    if shape is None:
        raise ValueError("Input() needs `shape` or `batch_shape`")
    return KerasTensor(tuple(shape), dtype or "float32", name, batch_size)


class Sequential(Model):
    """``Sequential([layer, ...])``: each layer's output feeds the next."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []
        self._input_spec = None
        for lyr in layers or []:
            self.add(lyr)

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer):
        """Appends a layer (or an ``Input`` as the first item)."""
        if isinstance(layer, KerasTensor):
            if self._stack:
                raise ValueError("An Input must be the first item of a Sequential model")
            self._input_spec = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of `Layer` can be added to a Sequential model. Received: {layer!r}")
        if self._input_spec is None and not self._stack and layer._input_shape_arg is not None:
            self._input_spec = KerasTensor(layer._input_shape_arg)
        self._stack.append(layer)
        if self._input_spec is not None and self._stack:
            self.build(self._input_spec.shape)

    def _sublayers(self):
        return list(self._stack)

    def build(self, input_shape=None):
        """Builds every layer from the input shape (batch axis included, may be None)."""
        shape = tuple(input_shape)
        for lyr in self._stack:
            if not lyr.built:
                lyr.build(shape)
                lyr.built = True
            shape = lyr.compute_output_shape(shape)
        self.built = True

    def call(self, inputs, training=False):
        x = inputs
        if self._input_spec is not None and isinstance(x, Tensor):
            want = self._input_spec.shape[1:]
            if len(want) != x.ndim - 1 or any(w is not None and w != g for w, g in zip(want, x.shape[1:])):
                raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape=(None, {', '.join(map(str, want))}), found shape={tuple(x.shape)}")
            if x.dtype != self._input_spec.dtype and self._input_spec.dtype.startswith("float"):
                x = _core.cast(x, self._input_spec.dtype)
        for lyr in self._stack:
            x = lyr(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for lyr in self._stack:
            shape = lyr.compute_output_shape(shape)
        return shape

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "layers": [{"class_name": type(lyr).__name__, "config": lyr.get_config()} for lyr in self._stack]}
