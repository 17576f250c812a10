"""Models: ``Model`` (subclassed or functional), ``Sequential``, cloning and loading."""
from ..layers.input_layer import Input, InputLayer
from ..symbolic import KerasTensor
from .functional import Functional, clone_model
from .model import Model
from .sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with ``model.save("m.keras")`` (``keras.models.load_model``)."""
    from ..saving import load_model as _load

    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves ``model`` to a ``.keras`` file (``keras.models.save_model``)."""
    from ..saving import save_model as _save

    return _save(model, filepath, overwrite=overwrite, **kwargs)


__all__ = ["Model", "Sequential", "Functional", "Input", "InputLayer", "KerasTensor", "clone_model", "load_model",
           "save_model"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")


def __dir__():
    # the public names only: the implementation modules stay internal
    return sorted(__all__)
