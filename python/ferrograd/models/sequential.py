"""Sequential: a linear stack of layers (Keras 3)."""
from __future__ import annotations

import numpy as np

from .. import _core
from .._core import Tensor
from ..layers.input_layer import Input, InputLayer
from ..layers.layer import Layer, set_keras_mask
from ..layers.lookup import _as_str_array
from ..symbolic import KerasTensor
from .model import Model


def _is_text(x):
    """Whether ``x`` holds strings (a NumPy str/bytes/object array or a list of str)."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO"
    return isinstance(x, (list, tuple)) and bool(x) and isinstance(x[0], (str, bytes))


class Sequential(Model):
    """``Sequential([layer, ...])``: each layer's output feeds the next.

    With an ``Input`` first (or ``input_shape=`` on the first layer) the model is built at once:
    each layer is called on the symbolic input, so ``model.inputs``, ``model.outputs`` and
    ``layer.output`` exist (feature extraction: ``Model(seq.inputs, seq.get_layer("x").output)``).
    Otherwise it is built by its first call on data.
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []
        self._input_spec = None
        self._graph_nodes = []
        self.inputs = None
        self.outputs = None
        for lyr in layers or []:
            self.add(lyr, rebuild=False)
        self._maybe_rebuild()

    @property
    def layers(self):
        """The layers of the stack (the Input, if any, is not one of them, as in Keras)."""
        return list(self._stack)

    def add(self, layer, rebuild=True):
        """Appends a layer (or an ``Input`` as the first item)."""
        if isinstance(layer, KerasTensor):
            node = layer._node
            if node is None or not node.is_input:
                raise ValueError("Only `keras.Input` tensors can be added to a Sequential model; received the output "
                                 f"of {getattr(node.operation, 'name', 'an op') if node else 'nothing'}")
            layer = node.operation
        if isinstance(layer, InputLayer):
            if self._stack or self._input_spec is not None:
                raise ValueError("An Input must be the first item of a Sequential model")
            self._input_spec = layer.output
            if rebuild:
                self._maybe_rebuild()
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r} "
                             f"(of type {type(layer).__name__})")
        if any(lyr.name == layer.name for lyr in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name \"{layer.name}\" "
                             "is already the name of a layer in this model. Update the `name` argument to pass a "
                             "unique name.")
        if self._input_spec is None and not self._stack and layer._input_shape_arg is not None:
            self._input_spec = Input(shape=layer._input_shape_arg, batch_size=layer._batch_size_arg)
        self._stack.append(layer)
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _sublayers(self):
        return list(self._stack)

    def _drop_graph(self):
        """Forgets the nodes of the previous symbolic build, so each layer keeps only the nodes of
        the current stack (``layer.output`` stays the output in this model)."""
        for node in self._graph_nodes:
            inbound = getattr(node.operation, "_inbound_nodes", None)
            if inbound is not None and node in inbound:
                inbound.remove(node)
                for i, n in enumerate(inbound):
                    n.node_index = i
        self._graph_nodes = []
        self.inputs = self.outputs = None

    def _maybe_rebuild(self):
        if self._input_spec is not None and self._stack:
            self.build(self._input_spec.shape)

    def build(self, input_shape=None):
        """Builds every layer by calling the stack on a symbolic input of ``input_shape`` (batch axis
        included, may be None)."""
        if input_shape is None:
            raise ValueError("Sequential.build needs an input shape")
        shape = tuple(input_shape)
        if self._input_spec is None or tuple(self._input_spec.shape) != shape:
            self._input_spec = Input(batch_shape=shape, dtype=self._input_spec.dtype if self._input_spec else None)
        self._drop_graph()
        x = self._input_spec
        for lyr in self._stack:
            x = lyr(x)
            node = x._node if isinstance(x, KerasTensor) else None
            if node is not None:
                self._graph_nodes.append(node)
        self.inputs = [self._input_spec]
        self.outputs = [x] if isinstance(x, KerasTensor) else list(x)
        self._build_input_shape = shape
        self.built = True

    @property
    def input(self):
        if self.inputs is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input (it has not been built)")
        return self.inputs[0]

    @property
    def output(self):
        if self.outputs is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined output (it has not been built)")
        return self.outputs[0] if len(self.outputs) == 1 else self.outputs

    @property
    def input_shape(self):
        return None if self._input_spec is None else self._input_spec.shape

    @property
    def output_shape(self):
        return None if self.outputs is None else self.outputs[0].shape

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if self._input_spec is not None and isinstance(x, Tensor):
            want = self._input_spec.shape[1:]
            if len(want) != x.ndim - 1 or any(w is not None and w != g for w, g in zip(want, x.shape[1:])):
                raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape={self._input_spec.shape}, found shape={tuple(x.shape)}")
            if x.dtype != self._input_spec.dtype and self._input_spec.dtype.startswith("float"):
                x = _core.cast(x, self._input_spec.dtype)
        if mask is not None and isinstance(x, Tensor):
            set_keras_mask(x, mask)
        for lyr in self._stack:
            x = lyr(x)
        return x

    @property
    def _accepts_strings(self):
        if self._input_spec is not None:
            return self._input_spec.dtype == "string"
        return bool(self._stack) and self._stack[0]._accepts_strings

    def _maybe_build(self, args, kwargs):
        if not self.built:
            x = args[0]
            if self._input_spec is None and _is_text(x):
                x = _as_str_array(x, f"the input of {self.name}")
                self._input_spec = Input(batch_shape=(None,) + x.shape[1:], dtype="string")
            shape = tuple(x.shape) if hasattr(x, "shape") else (len(x),)
            self.build((None,) + shape[1:] if shape else shape)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for lyr in self._stack:
            shape = lyr.compute_output_shape(shape)
        return shape

    def get_config(self):
        from .. import saving

        cfg = {"name": self.name, "trainable": self.trainable,
               "layers": [saving._serialize_layer(lyr) for lyr in self._stack]}
        if self._input_spec is not None:
            cfg["build_input_shape"] = list(self._input_spec.shape)
            cfg["input_dtype"] = self._input_spec.dtype
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .. import saving

        if not isinstance(config, dict) or not isinstance(config.get("layers", []), list):
            raise ValueError("a Sequential config is a mapping with a list of layers")
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if shape is not None:
            if not isinstance(shape, (list, tuple)) or not shape:
                raise ValueError(f"bad build_input_shape {shape!r}")
            model.add(Input(batch_shape=tuple(shape), dtype=config.get("input_dtype")), rebuild=False)
        for entry in config.get("layers", []):
            model.add(saving._deserialize_layer(entry, custom_objects), rebuild=False)
        model._maybe_rebuild()
        return model


__all__ = ["Sequential", "Input", "InputLayer"]
