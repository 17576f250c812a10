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


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model (fresh weights) from ``model.to_json()``; nothing in the text is executed,
    and its size and nesting are bounded as for ``.keras`` files."""
    from .. import saving

    raw = json_string.encode("utf-8") if isinstance(json_string, str) else bytes(json_string)
    if len(raw) > saving._CONFIG_CAP:
        raise ValueError(f"model_from_json: the JSON is {len(raw)} bytes, more than the {saving._CONFIG_CAP} "
                         "allowed for a model config")
    cfg = saving._parse_json(raw, saving._JSON_DEPTH_CAP, "model_from_json")
    if not isinstance(cfg, dict):
        raise ValueError(f"model_from_json: expected a JSON object, received {type(cfg).__name__}")
    return saving._build_model(cfg, custom_objects)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves ``model`` to a ``.keras`` file (``keras.models.save_model``)."""
    from ..saving import save_model as _save

    return _save(model, filepath, overwrite=overwrite, **kwargs)


__all__ = ["Model", "Sequential", "Functional", "Input", "InputLayer", "KerasTensor", "clone_model", "load_model",
           "model_from_json", "save_model"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")


def __dir__():
    # the public names only: the implementation modules stay internal
    return sorted(__all__)
