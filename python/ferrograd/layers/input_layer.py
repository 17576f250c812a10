"""``InputLayer`` and ``keras.Input``: where a functional graph starts."""
from __future__ import annotations

from ..symbolic import KerasTensor, Node
from ..symbolic.keras_tensor import standardize_shape
from .layer import Layer


class InputLayer(Layer):
    """The layer behind ``keras.Input``: it owns the symbolic input tensor of a graph.

    Args:
        shape: the shape of one sample (no batch axis); ``None`` for unknown sizes.
        batch_size: a fixed batch size, or ``None``.
        dtype: the input dtype (``"float32"``).
        batch_shape: the full shape, batch axis included (instead of ``shape``/``batch_size``).
        name: the layer name (default ``input_layer``, numbered).
    """

    _is_input_layer = True

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 optional=False, name=None, ragged=None, **kwargs):
        for arg, val in (("sparse", sparse), ("input_tensor", input_tensor), ("ragged", ragged)):
            if val:
                raise NotImplementedError(f"InputLayer: `{arg}` is not supported by ferrograd. Received: "
                                          f"{arg}={val!r}")
        if optional:
            raise NotImplementedError("InputLayer: `optional=True` inputs are not supported by ferrograd")
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            if shape is not None or batch_size is not None:
                raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
            batch_shape = standardize_shape(batch_shape, "batch_shape")
        else:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            batch_shape = (batch_size,) + standardize_shape(shape, "shape")
        self.batch_shape = tuple(batch_shape)
        self.sparse = False
        self.built = True
        kt = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, (), {}, [kt])
        self._input_tensor = kt

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)  # the call is the identity

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": False, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):  # Keras 3 writes a DTypePolicy
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        if isinstance(config.get("batch_shape"), list):
            config["batch_shape"] = tuple(config["batch_shape"])
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """A symbolic model input: ``Sequential([Input(shape), ...])`` or ``Model(inputs, outputs)``.

    ``shape`` excludes the batch axis; ``None`` entries are unknown sizes (variable-length
    sequences: ``Input((None, 8))``).
    """
    if tensor is not None:
        raise NotImplementedError("Input: `tensor` is not supported by ferrograd. Received: tensor=...")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name, optional=optional)
    return layer.output
