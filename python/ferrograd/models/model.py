"""Model: a Layer that trains (compile / fit / evaluate / predict), Keras 3 semantics."""
from __future__ import annotations

from ..layers.layer import Layer
from ..training import Trainer


class Model(Trainer, Layer):
    """Base of Sequential and subclassed models: the training API.

    Subclass it and implement ``call`` (layers assigned as attributes are tracked), or use
    :class:`ferrograd.Sequential`.
    """

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) builds a functional model. A subclass becomes functional
        # only when its __init__ passes (inputs, outputs) up (see __init__), never because it was
        # constructed with two positional arguments of its own (GAN(discriminator, generator)).
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs:
            # A subclass's __init__ building a graph and passing (inputs, outputs) up (Keras allows it).
            from .functional import Functional, functional_subclass

            if not isinstance(self, Functional):
                self.__class__ = functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}() takes no positional arguments except (inputs, outputs); "
                            f"received {len(args)}")
        super().__init__(**kwargs)
        self._init_training_state()

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None

    # ---- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers tracked by this model (attributes of a subclassed model, in assignment order)."""
        return [s for s in self._sublayers()]

    def get_layer(self, name=None, index=None):
        """A layer of :attr:`layers` by ``name`` or by ``index`` (Keras' ``get_layer``)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            layers = self.layers
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 "layers.")
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[lyr.name for lyr in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` method implemented (subclass "
                                  "Model and implement call(), or build it with Model(inputs, outputs))")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if isinstance(config, dict) and "nodes" in config:
            from .functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # ---- inputs and outputs (the trainer's view) -------------------------------------------------
    @property
    def input_names(self):
        """Names of the inputs of a graph model (None for a subclassed model)."""
        return None

    @property
    def output_names(self):
        """Names of the outputs of a graph model, used by dict-valued ``y``, losses and metrics
        (None for a subclassed model)."""
        return None

    def _n_inputs(self):
        return None

    def _n_outputs(self):
        return None

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (``keras.models.model_from_json`` rebuilds it,
        without weights); ``kwargs`` go to ``json.dumps``."""
        import json

        from .. import saving

        return json.dumps(saving._model_config(self, with_compile=False), **kwargs)

    def save(self, filepath, overwrite=True, zipped=True):
        """Saves to a ``.keras`` archive (see :mod:`ferrograd.saving`)."""
        from .. import saving

        saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped)

    def save_weights(self, filepath, overwrite=True):
        from .. import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights saved by :meth:`save_weights` (``.weights.h5``/``.safetensors``), or a
        legacy Keras HDF5 file (``.h5``/``.hdf5``, read with h5py; ``by_name=True`` matches layers
        by name). ``skip_mismatch=True`` skips, with a warning, the weights whose shapes differ."""
        from .. import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def summary(self, line_length=None, print_fn=None):
        from .summary import summary_text

        (print_fn or print)(summary_text(self))
