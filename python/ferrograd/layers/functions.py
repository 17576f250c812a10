"""The function forms of ``keras.layers`` (``add``, ``concatenate``, ``dot``... each builds the layer
and calls it, as Keras does) and ``keras.layers.serialize`` / ``deserialize``."""
from __future__ import annotations

from .dot import Dot
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes=axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)


def serialize(layer):
    """A layer's config as Keras writes it: ``{"module", "class_name", "config", "registered_name"}``."""
    registered = getattr(layer, "_registered_name", None)
    return {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
            "registered_name": registered}


def deserialize(config, custom_objects=None):
    """The layer described by ``config`` (the output of :func:`serialize`, or ``{"class_name", "config"}``)."""
    from ..saving import _deserialize_layer

    entry = dict(config)
    if entry.get("registered_name"):
        entry["class_name"] = entry["registered_name"]
    return _deserialize_layer(entry, custom_objects)
