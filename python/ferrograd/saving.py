"""Saving and loading models (``keras.saving``).

``model.save("m.keras")`` writes a zip holding ``config.json`` (architecture and compile
settings), ``metadata.json`` and ``model.weights.safetensors``. Loading never executes code: layer
classes are looked up by name among ferrograd's layers and the classes registered with
:func:`register_keras_serializable`; every weight is checked against the rebuilt model (names,
shapes, dtypes) and a truncated or altered file raises a clear error. Files are written to a
temporary name in the target folder and renamed into place.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import zipfile

from . import _core, losses, optimizers

__version__ = _core.__version__

__all__ = ["save_model", "load_model", "register_keras_serializable", "get_registered_object",
           "save_weights", "load_weights"]

_CUSTOM = {}
_CONFIG = "config.json"
_META = "metadata.json"
_WEIGHTS = "model.weights.safetensors"


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class so that saved models referring to it can be loaded."""

    def deco(cls):
        key = f"{package}>{name or cls.__name__}"
        _CUSTOM[key] = cls
        cls._registered_name = key
        return cls

    return deco


def get_registered_object(name, custom_objects=None):
    from . import layers

    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    cls = getattr(layers, name, None)
    if isinstance(cls, type):
        return cls
    return None


def _atomic_write(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _weight_entries(model):
    """(structural name, tensor) for every weight: keyed by layer position and class, not by the
    auto-generated layer names, so a model rebuilt in code loads weights saved from another instance."""
    out = []
    for k, lyr in enumerate(model.layers):
        for i, e in enumerate(lyr._all_weight_entries()):
            out.append((f"layers/{k}_{type(lyr).__name__.lower()}/vars/{i}", e["tensor"]))
    return out


def _weights_bytes(model):
    return _core.safetensors_dumps(_weight_entries(model), {"format": "ferrograd", "version": __version__})


def _load_weights_bytes(model, data, source):
    try:
        stored, _meta = _core.safetensors_loads(data)
    except ValueError as e:
        raise ValueError(f"{source}: cannot read the weights: {e}") from None
    stored = dict(stored)
    mine = _weight_entries(model)
    names = {n for n, _ in mine}
    extra = sorted(set(stored) - names)
    missing = sorted(names - set(stored))
    if missing or extra:
        raise ValueError(f"{source}: the weights do not match the model: missing {missing[:5]}, unexpected "
                         f"{extra[:5]}")
    for n, t in mine:
        s = stored[n]
        if tuple(s.shape) != tuple(t.shape) or s.dtype != t.dtype:
            raise ValueError(f"{source}: weight {n} has shape {tuple(s.shape)} and dtype {s.dtype}, the model "
                             f"expects {tuple(t.shape)} and {t.dtype}")
    prev = _core.set_grad_enabled(False)
    try:
        for n, t in mine:
            t.assign(stored[n])
    finally:
        _core.set_grad_enabled(prev)


def _serialize_layer(lyr):
    from .models import Model

    if isinstance(lyr, Model):
        return _model_config(lyr, with_compile=False)
    return {"class_name": getattr(lyr, "_registered_name", type(lyr).__name__), "config": lyr.get_config()}


def _nested(obj, fn):
    """``fn`` applied to the leaves of a list/dict structure (losses and metrics per output)."""
    if isinstance(obj, (list, tuple)):
        return [_nested(v, fn) for v in obj]
    if isinstance(obj, dict) and "class_name" not in obj:
        return {k: _nested(v, fn) for k, v in obj.items()}
    return fn(obj)


def _json_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_json_shape(s) for s in shape]
    return None if shape is None else list(shape)


def _model_config(model, with_compile=True):
    """The config of a Sequential, functional or registered subclassed model (nested models included)."""
    from .models import Sequential, functional

    if isinstance(model, Sequential):
        cfg = {"class_name": "Sequential",
               "config": {"name": model.name, "trainable": model.trainable,
                          "layers": [_serialize_layer(lyr) for lyr in model.layers]}}
        spec = model._input_spec
        if spec is not None:
            cfg["build_input_shape"] = list(spec.shape)
            cfg["input_dtype"] = spec.dtype
        elif getattr(model, "_build_input_shape", None) is not None:
            cfg["build_input_shape"] = _json_shape(model._build_input_shape)
    elif model._functional is not None:
        cfg = {"class_name": "Functional", "config": functional.get_graph_config(model, _serialize_layer)}
    else:
        name = getattr(type(model), "_registered_name", None)
        if name is None or _CUSTOM.get(name) is not type(model):
            raise ValueError(f"cannot save the subclassed model {type(model).__name__}: register its class with "
                             "@keras.saving.register_keras_serializable() (loading looks classes up by name and never "
                             "runs code from the file) and give it a get_config() returning its constructor "
                             "arguments")
        if getattr(model, "_build_input_shape", None) is None:
            raise ValueError(f"cannot save {model.name}: the model has not been built yet; call it on a batch of "
                             "data first so that its weights exist")
        cfg = {"class_name": name, "config": model.get_config(),
               "build_input_shape": _json_shape(model._build_input_shape)}
    if with_compile and model.compiled:
        cfg["compile_config"] = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": _nested(model.loss, lambda v: None if v is None else losses.serialize(v)),
            "loss_weights": model._loss_weights,
            "metrics": _nested(model._metric_ids, lambda m: m if isinstance(m, str) else getattr(m, "name", str(m))),
        }
    return cfg


def _zeros_for(shape, dtype):
    from . import ops

    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [_zeros_for(s, dtype) for s in shape]
    if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
        raise ValueError(f"bad build_input_shape {shape!r}")
    dims = [1] + [1 if d is None else d for d in shape[1:]]
    return ops.zeros(tuple(dims), dtype or "float32")


def _deserialize_layer(entry, custom_objects):
    from . import layers as layers_mod
    from .models import Model

    if not isinstance(entry, dict):
        raise ValueError(f"a layer entry must be a mapping, received {entry!r}")
    cname = entry.get("class_name")
    if cname in ("Sequential", "Functional"):
        return _build_model(entry, custom_objects)
    cls = get_registered_object(cname, custom_objects)
    if isinstance(cls, type) and issubclass(cls, Model):
        return _build_model(entry, custom_objects)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, layers_mod.Layer)):
        raise ValueError(f"unknown layer class {cname!r}; register custom layers with "
                         "@register_keras_serializable or pass custom_objects")
    lcfg = dict(entry.get("config", {}))
    if "input_shape" in lcfg and lcfg["input_shape"] is not None:
        lcfg["input_shape"] = tuple(lcfg["input_shape"])
    return cls.from_config(lcfg)


def _build_model(cfg, custom_objects):
    """Rebuilds a model (without weights) from :func:`_model_config` output."""
    from .models import Input, Model, Sequential, functional

    cname = cfg.get("class_name")
    conf = cfg.get("config", {})
    if not isinstance(conf, dict):
        raise ValueError(f"the config of {cname!r} must be a mapping")
    if cname == "Sequential":
        model = Sequential(name=conf.get("name"), trainable=conf.get("trainable", True))
        shape = cfg.get("build_input_shape")
        if shape is not None:
            if not isinstance(shape, list) or not shape:
                raise ValueError(f"bad build_input_shape {shape!r}")
            model.add(Input(shape=tuple(shape[1:]), batch_size=shape[0], dtype=cfg.get("input_dtype")))
        for entry in conf.get("layers", []):
            model.add(_deserialize_layer(entry, custom_objects))
        if shape is None:
            raise ValueError("the Sequential model has no input shape recorded; it cannot be rebuilt")
        return model
    if cname == "Functional":
        return functional.from_graph_config(conf, lambda e: _deserialize_layer(e, custom_objects))
    cls = get_registered_object(cname, custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ValueError(f"unknown model class {cname!r}; register it with @register_keras_serializable or pass "
                         "custom_objects")
    try:
        model = cls.from_config(dict(conf))
    except TypeError as e:
        raise ValueError(f"cannot rebuild {cname} from its config ({e}); implement get_config() returning the "
                         "constructor arguments") from None
    shape = cfg.get("build_input_shape")
    if shape is None:
        raise ValueError(f"{cname} has no build_input_shape recorded; it cannot be rebuilt")
    prev = _core.set_grad_enabled(False)
    try:
        model(_zeros_for(shape, None), training=False)
    finally:
        _core.set_grad_enabled(prev)
    return model


def save_model(model, filepath, overwrite=True, zipped=True):
    """Saves architecture, compile settings and weights to a ``.keras`` zip."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"The filename must end in `.keras`. Received: filepath={filepath}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    cfg = _model_config(model)
    meta = {"keras_version": "3", "ferrograd_version": __version__,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_CONFIG, json.dumps(cfg, indent=1))
        z.writestr(_META, json.dumps(meta))
        z.writestr(_WEIGHTS, _weights_bytes(model))
    _atomic_write(filepath, buf.getvalue())


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model saved with :func:`save_model` (no code from the file is executed)."""
    filepath = os.fspath(filepath)
    try:
        with zipfile.ZipFile(filepath) as z:
            names = set(z.namelist())
            for need in (_CONFIG, _WEIGHTS):
                if need not in names:
                    raise ValueError(f"{filepath}: not a ferrograd .keras file (missing {need})")
            cfg = json.loads(z.read(_CONFIG))
            weights = z.read(_WEIGHTS)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{filepath}: not a valid .keras archive ({e}); the file is truncated or corrupt") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{filepath}: config.json is not valid JSON ({e})") from None
    if not isinstance(cfg, dict):
        raise ValueError(f"{filepath}: config.json must hold a mapping, found {type(cfg).__name__}")
    try:
        model = _build_model(cfg, custom_objects)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        msg = f"missing entry {e}" if isinstance(e, KeyError) else str(e)
        raise ValueError(f"{filepath}: cannot rebuild the model from config.json: {msg}") from None
    _load_weights_bytes(model, weights, filepath)
    cc = cfg.get("compile_config")
    if compile and cc:
        try:
            loss = cc.get("loss")
            if isinstance(loss, list) or (isinstance(loss, dict) and "class_name" not in loss):
                loss = _nested(loss, lambda v: None if v is None else losses.deserialize(v))
            elif loss is not None:
                loss = losses.deserialize(loss)
            model.compile(optimizer=optimizers.deserialize(cc["optimizer"]), loss=loss,
                          loss_weights=cc.get("loss_weights"), metrics=cc.get("metrics"))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{filepath}: cannot restore the compile settings ({e}); load with compile=False "
                             "to skip them") from None
    return model


def save_weights(model, filepath, overwrite=True):
    """Writes the weights (safetensors data) to ``*.weights.h5`` or ``*.safetensors``."""
    filepath = os.fspath(filepath)
    if not (filepath.endswith(".weights.h5") or filepath.endswith(".safetensors")):
        raise ValueError(f"The filename must end in `.weights.h5` or `.safetensors`. Received: filepath={filepath}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    _atomic_write(filepath, _weights_bytes(model))


def load_weights(model, filepath):
    """Loads weights written by :func:`save_weights` into a built model of the same architecture."""
    filepath = os.fspath(filepath)
    with open(filepath, "rb") as f:
        data = f.read()
    _load_weights_bytes(model, data, filepath)
