"""Model: a Layer that trains (compile / fit / evaluate / predict), Keras 3 semantics."""
from __future__ import annotations

import numpy as np

from .. import _core
from .._core import Tensor
from ..layers.layer import Layer
from ..training import Trainer


def _to_numpy(x, name):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.numpy()
    a = np.asarray(x)
    if a.dtype == object:
        raise ValueError(f"{name} must be an array or tensor, received an object array")
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return a


class Model(Trainer, Layer):
    """Base of Sequential and subclassed models: the training API.

    Subclass it and implement ``call`` (layers assigned as attributes are tracked), or use
    :class:`ferrograd.Sequential`.
    """

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) builds a functional model; a subclass of Model whose
        # __init__ passes (inputs, outputs) up becomes a functional model with its extra methods.
        if len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs:
            from .functional import Functional, functional_subclass

            if cls is Model:
                return Functional.__new__(Functional)
            if not issubclass(cls, Functional):
                return Functional.__new__(functional_subclass(cls))
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

    @staticmethod
    def _split(data, what, n, names):
        """``data`` as a list of NumPy arrays and whether it was a single array (not a list or dict)."""
        if data is None:
            return None, True
        if isinstance(data, dict):
            if names is None:
                raise ValueError(f"{what} is a dict, but this model has no named {what}s; pass a list")
            unknown = sorted(set(data) - set(names))
            missing = [k for k in names if k not in data]
            if unknown or missing:
                raise ValueError(f"{what} dict keys {sorted(data)} do not match the model's {what} names {names}")
            return [_to_numpy(data[k], f"{what}[{k!r}]") for k in names], len(names) == 1
        arrays = isinstance(data, (list, tuple)) and len(data) > 0 and all(
            isinstance(d, (np.ndarray, Tensor)) for d in data)
        if n == 1 and arrays and len(data) == 1:
            data = data[0]
        multi = (n is not None and n > 1) or (n is None and arrays and len(data) > 1)
        if not multi:
            return [_to_numpy(data, what)], True
        if not isinstance(data, (list, tuple)) or (n is not None and len(data) != n):
            got = f"{len(data)} arrays" if isinstance(data, (list, tuple)) else "one array"
            raise ValueError(f"the model has {n} {what}s: pass a list of {n} arrays or a dict keyed by {names}, "
                             f"received {got}")
        return [_to_numpy(d, f"{what}[{i}]") for i, d in enumerate(data)], False

    @staticmethod
    def _cardinality(*groups):
        sizes = {}
        for label, arrs in groups:
            for i, a in enumerate(arrs or []):
                sizes[f"{label}[{i}]" if len(arrs) > 1 else label] = len(a) if a.ndim else 0
        if len(set(sizes.values())) > 1:
            desc = ", ".join(f"{k} sizes: {v}" for k, v in sizes.items())
            raise ValueError(f"Data cardinality is ambiguous: {desc}. Make sure all arrays contain the same number "
                             "of samples.")
        return next(iter(sizes.values()), 0)

    @staticmethod
    def _feed(tensors, single):
        return tensors[0] if single else list(tensors)

    @staticmethod
    def _flat(y_pred):
        if isinstance(y_pred, dict):
            return list(y_pred.values())
        return list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]

    # ---- compile / fit / evaluate / predict: ferrograd.training.Trainer ------------------------
    # ---- saving and summary ----------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=True):
        """Saves to a ``.keras`` archive (see :mod:`ferrograd.saving`)."""
        from .. import saving

        saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped)

    def save_weights(self, filepath, overwrite=True):
        from .. import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from .. import saving

        saving.load_weights(self, filepath)

    def summary(self, line_length=None, print_fn=None):
        from .summary import summary_text

        (print_fn or print)(summary_text(self))


class _NoGrad:
    def __enter__(self):
        self._prev = _core.set_grad_enabled(False)

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False
