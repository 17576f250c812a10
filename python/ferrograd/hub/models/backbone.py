"""keras_hub's ``Backbone`` and ``Task`` base classes: functional models whose ``__init__`` builds
the graph and whose ``get_config`` returns the constructor arguments (so ``from_config`` and
``ferrograd.saving`` rebuild them by calling the constructor, never by replaying a stored graph).

``from_preset`` reads local Hugging Face checkpoint folders only (see ``preset.py``); each
subclass names the Hugging Face ``model_type`` values it reads in ``hf_model_types`` and maps
the tensors in ``_from_hf_checkpoint``.
"""
from __future__ import annotations

from ...layers.layer import _snake, unique_name
from ...models import Functional
from ...saving import _deserialize_layer, _serialize_layer
from .preset import check_preset_directory, read_config

__all__ = ["Backbone", "Task"]


def _subclasses(cls):
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


class Backbone(Functional):
    """Base of the keras_hub backbones: a functional model (``inputs``/``outputs`` built by the
    subclass's ``__init__``) configured by its constructor arguments.

    Args:
        inputs, outputs: the graph, as for ``keras.Model``.
        dtype: the compute and weight dtype (``None``: float32).
        name, trainable: as for any model.
    """

    hf_model_types = ()

    def __init__(self, inputs, outputs, dtype=None, name=None, trainable=True):
        Functional.__init__(self, inputs, outputs, name=name or unique_name(_snake(type(self).__name__)),
                            trainable=trainable, dtype=dtype)

    def get_config(self):
        # not Functional's graph config: the constructor arguments rebuild the model (keras_hub)
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**dict(config))

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """A backbone from a local Hugging Face checkpoint folder (``config.json`` and
        ``model.safetensors``). On the base class, the subclass is chosen by the config's
        ``model_type``. ``load_weights=False`` keeps the freshly initialized weights; ``kwargs``
        override constructor arguments (e.g. ``dropout=0.0``, ``dtype``)."""
        directory = check_preset_directory(preset, cls.__name__)
        if cls.hf_model_types:
            return cls._from_hf_checkpoint(directory, load_weights=load_weights, **kwargs)
        model_type = read_config(directory).get("model_type")
        for sub in _subclasses(cls):
            if model_type in sub.hf_model_types:
                return sub._from_hf_checkpoint(directory, load_weights=load_weights, **kwargs)
        known = sorted(t for sub in _subclasses(cls) for t in sub.hf_model_types)
        raise ValueError(f"{directory}/config.json: model_type={model_type!r} is not a backbone ferrograd reads "
                         f"(known: {known})")

    @classmethod
    def _from_hf_checkpoint(cls, directory, load_weights=True, **kwargs):
        raise NotImplementedError(f"{cls.__name__} does not read Hugging Face checkpoints")


class Task(Functional):
    """Base of the keras_hub tasks (a backbone plus a head). ``get_config`` holds the serialized
    backbone and the task's own arguments; ``compile=True`` compiles with the task's defaults.

    Only ``preprocessor=None`` is supported: inputs are token ids, segment ids and masks (the
    preprocessing layers of keras_hub are not implemented in ferrograd).
    """

    backbone_cls = None

    def __init__(self, inputs, outputs, compile=True, name=None, trainable=True, dtype=None):
        Functional.__init__(self, inputs, outputs, name=name or unique_name(_snake(type(self).__name__)),
                            trainable=trainable, dtype=dtype)
        if compile:
            self.compile()

    @staticmethod
    def _check_preprocessor(cls_name, preprocessor):
        if preprocessor is not None:
            raise ValueError(f"{cls_name}: `preprocessor` is not implemented in ferrograd; pass preprocessor=None "
                             "and feed token ids (ferrograd.hub.tokenizers turn text into ids). Received: "
                             f"preprocessor={preprocessor!r}")

    def get_config(self):
        return {"backbone": _serialize_layer(self.backbone), "preprocessor": None, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = _deserialize_layer(config["backbone"], custom_objects)
        return cls(**config)
