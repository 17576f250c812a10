"""Categorical preprocessing and the layer pipeline: CategoryEncoding, Discretization, Pipeline
(``keras.layers`` names, arguments, configs and outputs)."""
from __future__ import annotations

import numpy as np

from .. import ops
from .layer import Layer


def _encode(inputs, output_mode, depth, dtype, count_weights=None):
    """Keras' encode_categorical_inputs: integer ids -> one-hot / multi-hot / count rows."""
    if output_mode == "int":
        return inputs
    ids = inputs if inputs.dtype in ("int64", "int32") else ops.cast(inputs, "int64")
    if ids.ndim == 0:
        ids = ops.expand_dims(ids, 0)
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ops.reshape(ids, tuple(ids.shape[:-1]))
        return ops.cast(ops.one_hot(ids, depth), dtype)
    hot = ops.cast(ops.one_hot(ids, depth), dtype)  # (..., T, depth)
    if output_mode == "multi_hot":
        return ops.max(hot, axis=-2)
    if count_weights is not None:
        hot = ops.multiply(hot, ops.expand_dims(ops.cast(count_weights, dtype), -1))
    return ops.sum(hot, axis=-2)


def _check_ids(inputs, depth):
    lo, hi = float(ops.min(inputs).item()), float(ops.max(inputs).item())
    if lo < 0 or hi >= depth:
        raise ValueError(f"Input values must be in the range 0 <= values < num_tokens with num_tokens={depth}. "
                         f"Received: inputs with values in [{lo:g}, {hi:g}]")


class CategoryEncoding(Layer):
    """Encodes integer ids in ``[0, num_tokens)``: ``"one_hot"`` (one row per id), ``"multi_hot"``
    (1 where an id occurs in the sample's last axis) or ``"count"`` (how often, or the sum of
    ``count_weights``).

    Example: ``CategoryEncoding(4, output_mode="multi_hot")([[0, 1], [3, 3]])`` gives
    ``[[1, 1, 0, 0], [0, 0, 0, 1]]``.

    Args: num_tokens, output_mode ("multi_hot" default; "binary" is its old name), sparse (False only).
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise NotImplementedError("CategoryEncoding: sparse=True is not supported by ferrograd (dense tensors "
                                      "only). Received: sparse=True")
        self.num_tokens, self.output_mode, self.sparse = num_tokens, output_mode, sparse

    def __call__(self, inputs, *args, **kwargs):
        if not hasattr(inputs, "shape"):
            inputs = np.asarray(inputs)  # lists of ids, as Keras accepts
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                             f"Received `count_weights={count_weights}`.")
        _check_ids(inputs, self.num_tokens)
        if count_weights is not None:
            count_weights = ops.convert_to_tensor(np.asarray(count_weights, np.float32)
                                                  if not hasattr(count_weights, "numpy") else count_weights)
        return _encode(inputs, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape):
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return tuple(input_shape) + (self.num_tokens,)
            return tuple(input_shape[:-1]) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}


class Discretization(Layer):
    """Buckets continuous values by ``bin_boundaries``: value x gets index i where
    ``boundaries[i-1] <= x < boundaries[i]`` (0 below the first, ``len(boundaries)`` at or above
    the last), as ``numpy.digitize``; ``output_mode`` can then one-hot / multi-hot / count them.

    Args:
        bin_boundaries: the sorted boundaries.
        num_bins, epsilon: for ``adapt`` (learning quantile boundaries from data), which is not
            available in ferrograd yet (it raises); pass ``bin_boundaries``.
        output_mode: "int" (default), "one_hot", "multi_hot" or "count".
        sparse: False only.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False, dtype=None,
                 name=None):
        super().__init__(name=name, dtype=dtype)
        if sparse and output_mode == "int":
            raise ValueError("`sparse=True` may only be used if `output_mode` is `'one_hot'`, `'multi_hot'`, or "
                             f"`'count'`. Received: sparse={sparse} and output_mode={output_mode}")
        if sparse:
            raise NotImplementedError("Discretization: sparse=True is not supported by ferrograd (dense tensors "
                                      "only). Received: sparse=True")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"Unknown value for `output_mode`. Allowed values are: ('int', 'one_hot', "
                             f"'multi_hot', 'count'). Received: output_mode={output_mode}")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon, self.output_mode, self.sparse = num_bins, epsilon, output_mode, sparse

    def adapt(self, data, steps=None):
        raise NotImplementedError("Discretization.adapt is not available in ferrograd yet (Keras learns "
                                  "approximate quantiles); pass `bin_boundaries` instead")

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the `Discretization` layer.")
        x = inputs if inputs.dtype.startswith("float") else ops.cast(inputs, "float32")
        bounds = ops.convert_to_tensor(np.asarray(self.bin_boundaries, np.float32))  # (K,)
        # digitize: the number of boundaries at or below x
        index = ops.sum(ops.cast(ops.greater_equal(ops.expand_dims(x, -1), bounds), "int32"), axis=-1)
        if self.output_mode == "int":
            return index
        return _encode(index, self.output_mode, len(self.bin_boundaries) + 1, "float32")

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = None if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return tuple(input_shape) + (depth,)
        return tuple(input_shape[:-1]) + (depth,)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "bin_boundaries": self.bin_boundaries,
                "num_bins": self.num_bins, "epsilon": self.epsilon, "output_mode": self.output_mode,
                "sparse": self.sparse}


class Pipeline(Layer):
    """Applies a list of layers in sequence (without being a model), passing ``training`` and
    masks along.

    Example: ``Pipeline([layers.RandomFlip(), layers.RandomRotation(0.1)])``.

    Args: layers (a list of layers), name.
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(la, Layer) for la in layers):
            raise TypeError(f"Pipeline: `layers` must be a list of layers. Received: layers={layers!r}")
        self._pipeline_layers = list(layers)
        self.supports_masking = True

    @property
    def layers(self):
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            if layer._call_spec.has_mask and mask is not None:
                kwargs["mask"] = mask
            if training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def get_config(self):
        from .._keras_objects import serialize_keras_object

        return {"layers": serialize_keras_object(self._pipeline_layers), "name": self.name}

    @classmethod
    def from_config(cls, config):
        from .._keras_objects import deserialize_keras_object

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                             f"Received config with layers={layers}.")
        return cls(**{**config, "layers": [deserialize_keras_object(x) for x in layers]})
