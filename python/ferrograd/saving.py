"""Saving and loading models (``keras.saving``).

``model.save("m.keras")`` writes a zip holding ``config.json`` (architecture and compile
settings), ``metadata.json`` and ``model.weights.safetensors``. Loading never executes code: layer
classes are looked up by name among ferrograd's layers and the classes registered with
:func:`register_keras_serializable`; every weight is checked against the rebuilt model (names,
shapes, dtypes) and a truncated or altered file raises a clear error.

The weights member (safetensors, stored uncompressed: float weights barely deflate, and storing
them spares the inflate on load) names each model weight by position and class,
``layers/{k}_{class}/vars/{i}``. Keras 3 keeps the optimizer's variables in its weights file
(``optimizer/vars/...`` in ``model.weights.h5``); so does ferrograd, in the same member:
``optimizer/iterations`` (int64 scalar, the number of steps applied) and, for every weight the
optimizer has updated, ``optimizer/{weight name}/{slot}`` with Keras's slot names (Adam
``momentum``/``velocity``[/``velocity_hat``], SGD ``momentum``, RMSprop ``velocity``[/``momentum``]
[/``average_gradient``]), and ``average`` with ``use_ema``. ``load_model(compile=True)`` restores
them, so training resumes bit-identically; ``compile=False`` and ``load_weights`` ignore them;
``save_weights`` writes the model's weights only.

Reading trusts no size in the file (every reader of a user file here checks sizes first):
the archive may hold at most ``_MAX_MEMBERS`` members; a member is refused before a byte is
inflated when its declared size passes its cap or cannot come from its compressed size (deflate
expands at most ~1032:1), and is read in 1 MiB chunks that stop at the declared size, so a zip
bomb or a lying header costs neither time nor memory. Caps: ``config.json`` 32 MiB (a layer's
entry is under 2 KiB, so this is over 16,000 layers; ``json.loads`` turns text into objects up
to ~15x its size, so the cap also bounds that) and nesting depth 128 (a nested model adds about
5 levels; deeper JSON would only exhaust the parser's recursion); the weights member at most what
the rebuilt model can need: its weights, three optimizer slots each, the iteration count and a
header of at most 1 KiB per entry.

Files are written through :func:`_atomic_open` (also :func:`_atomic_write`): a temporary file in
the target folder, fsynced, given the mode a plain ``open(path, "w")`` would give (an existing
file's mode, else ``0o666 & ~umask``; ``mkstemp`` alone makes 0600 files), then renamed into place.
"""
from __future__ import annotations

import datetime
import json
import os
import warnings
import zipfile
import zlib

import numpy as np

from . import _core, losses, optimizers, symbolic
from ._fileio import atomic_open, atomic_write
from ._keras_objects import deserialize_keras_object, serialize_keras_object
from .layers.layer import weight_budget

__version__ = _core.__version__

__all__ = ["save_model", "load_model", "register_keras_serializable", "get_registered_object",
           "save_weights", "load_weights", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "get_registered_name", "serialize_keras_object", "deserialize_keras_object"]

_CUSTOM = {}
_CONFIG = "config.json"
_META = "metadata.json"
_WEIGHTS = "model.weights.safetensors"
_OPTIMIZER = "optimizer/"
_ASSETS = "assets/"              # per-layer state beside the weights (lookup vocabularies)
_ASSET_CAP = 1 << 30            # bytes of one asset member

_MAX_MEMBERS = 10_000           # a .keras archive holds three members plus a few assets
_CONFIG_CAP = 32 << 20          # bytes of config.json (see the module docstring)
_JSON_DEPTH_CAP = 128           # nesting of config.json
_CHUNK = 1 << 20                # members are inflated this many bytes at a time
_DEFLATE_MAX_RATIO = 1032       # the most one compressed byte of deflate can expand to
_MAX_SLOTS = 4                  # the most tensors an optimizer keeps per variable (Adam amsgrad + EMA)
_HEADER_PER_ENTRY = 1024        # safetensors header bytes allowed per tensor (name, dtype, shape, offsets)
_ITEMSIZE = {"float64": 8, "int64": 8, "uint64": 8, "float32": 4, "int32": 4, "uint32": 4, "float16": 2,
             "bfloat16": 2, "int16": 2, "uint16": 2, "int8": 1, "uint8": 1, "bool": 1}


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class so that saved models referring to it can be loaded."""

    def deco(cls):
        key = f"{package}>{name or cls.__name__}"
        _CUSTOM[key] = cls
        cls._registered_name = key
        return cls

    return deco


def get_custom_objects():
    """The global ``{name: class}`` table that loading consults (registered classes included); add
    entries to it to make classes loadable by name."""
    return _CUSTOM


class CustomObjectScope:
    """Within the ``with`` block, the given ``{name: class}`` (or list of such dicts) are known to
    loading as if registered; the table is restored on exit."""

    def __init__(self, custom_objects):
        if isinstance(custom_objects, dict):
            custom_objects = [custom_objects]
        self.custom_objects = list(custom_objects or [])
        self._backup = None

    def __enter__(self):
        self._backup = dict(_CUSTOM)
        for objects in self.custom_objects:
            _CUSTOM.update(objects)
        return self

    def __exit__(self, *exc):
        _CUSTOM.clear()
        _CUSTOM.update(self._backup)
        return False


custom_object_scope = CustomObjectScope


def get_registered_name(obj):
    """The name ``obj`` is registered under (``"package>Name"``), else its ``__name__``."""
    cls = obj if isinstance(obj, type) or callable(obj) and hasattr(obj, "__name__") else type(obj)
    return getattr(cls, "_registered_name", None) or cls.__name__


# Registration packages whose classes live in a module ferrograd does not import at start-up.
_LAZY_PACKAGES = {"keras_hub": "ferrograd.hub", "ferrograd_hub": "ferrograd.hub"}


def get_registered_object(name, custom_objects=None):
    from . import layers

    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    if isinstance(name, str) and name.split(">", 1)[0] in _LAZY_PACKAGES:
        # keras_hub-style objects register when ferrograd.hub is imported; a file saved by a
        # script that imported it must load in one that did not.
        import importlib

        importlib.import_module(_LAZY_PACKAGES[name.split(">", 1)[0]])
        if name in _CUSTOM:
            return _CUSTOM[name]
    cls = getattr(layers, name, None)
    if isinstance(cls, type):
        return cls
    return None


# ---- writing files: one atomic writer (see _fileio.py) ----------------------------------------
_atomic_open = atomic_open
_atomic_write = atomic_write


def _check_member_count(path):
    """Refuses an archive whose end record counts more than ``_MAX_MEMBERS`` members, before
    ``zipfile`` builds an object per member (a small file can list millions). Uses zipfile's own
    end-record parser (zip64 included); where a Python lacks it, the count is checked after."""
    end_record = getattr(zipfile, "_EndRecData", None)
    index = getattr(zipfile, "_ECD_ENTRIES_TOTAL", None)
    if end_record is None or index is None:
        return
    with open(path, "rb") as f:
        rec = end_record(f)
    if rec is not None and rec[index] > _MAX_MEMBERS:
        raise ValueError(f"{path}: the archive lists {rec[index]} members, more than the {_MAX_MEMBERS} a .keras "
                         "file may hold; refusing to read it")


def _members(z, path, needed):
    """Name -> ZipInfo of the archive's members; ``needed`` must be there, each exactly once."""
    infos = z.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ValueError(f"{path}: the archive holds {len(infos)} members, more than the {_MAX_MEMBERS} a .keras "
                         "file may hold")
    out = {}
    for info in infos:
        if info.filename in out and info.filename in needed:
            raise ValueError(f"{path}: member {info.filename} appears twice in the archive; refusing an ambiguous file")
        out[info.filename] = info
    for need in needed:
        if need not in out:
            raise ValueError(f"{path}: not a ferrograd .keras file (missing {need})")
    return out


def _read_member(z, info, cap, path, why):
    """The bytes of one member, refused (ValueError naming the file and member) when its declared
    size passes ``cap`` (``why`` says where the cap comes from) or disagrees with its compressed size
    or its contents. Inflates ``_CHUNK`` bytes at a time and never past the declared size."""
    where = f"{path}: member {info.filename}"
    size = info.file_size
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted; .keras members never are")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{where} uses compression method {info.compress_type}; only stored (0) and deflated (8) "
                         "members are read")
    if size > cap:
        raise ValueError(f"{where} declares {size} bytes, more than the {cap} allowed ({why}); refusing to "
                         "inflate it")
    if (size != info.compress_size if info.compress_type == zipfile.ZIP_STORED
            else size > info.compress_size * _DEFLATE_MAX_RATIO + 1024):
        raise ValueError(f"{where} declares {size} bytes from {info.compress_size} compressed bytes, which its "
                         "compression method cannot produce; the archive is corrupt or crafted")
    chunks, got = [], 0
    try:
        with z.open(info) as f:
            while True:
                # one byte more than is left: data past the declared size is an error, not ignored
                b = f.read(min(_CHUNK, size - got + 1))
                if not b:
                    break
                got += len(b)
                if got > size:
                    raise ValueError(f"{where} holds more than the {size} bytes its header declares; the archive "
                                     "is corrupt or crafted")
                chunks.append(b)
    except (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError) as e:
        raise ValueError(f"{where} cannot be read ({e}); the archive is corrupt or truncated") from None
    if got != size:
        raise ValueError(f"{where} holds {got} bytes but its header declares {size}; the archive is corrupt or "
                         "truncated")
    return b"".join(chunks)


_BRACKETS = np.zeros(256, np.int8)
_BRACKETS[[ord("["), ord("{")]] = 1
_BRACKETS[[ord("]"), ord("}")]] = -1


def _json_depth(raw, limit, chunk=_CHUNK):
    """The deepest nesting of brackets outside strings in the JSON text ``raw`` (UTF-8 bytes), or
    the first depth past ``limit`` (the scan stops there).

    Works on the positions of quotes, backslashes and brackets, ``chunk`` bytes at a time, carrying
    (depth, inside a string, odd run of backslashes) across chunks: 32 MiB of hostile text take a
    fraction of a second and a few MiB. UTF-8 never puts an ASCII byte inside a multi-byte
    character, so the bytes can be searched directly. A quote is escaped when an odd run of
    backslashes precedes it; a bracket counts when an even number of unescaped quotes precedes it.
    Exact for valid JSON; for invalid JSON any answer will do, json.loads refuses it afterwards.
    (A regex skipping strings came first: quadratic on an unterminated string of escaped quotes,
    and seconds per 30 MiB even written to be linear.)
    """
    data = np.frombuffer(raw, np.uint8)
    deepest, depth, inside, odd = 0, 0, 0, 0
    for i in range(0, len(data), chunk):
        a = data[i:i + chunk]
        n = len(a)
        quotes = np.flatnonzero(a == 0x22)
        # a quote is escaped only if a backslash precedes it; only then is the run measured
        after_slash = a[np.maximum(quotes - 1, 0)] == 0x5C
        after_slash[quotes == 0] = bool(odd)
        if after_slash.any():
            pos = np.arange(n, dtype=np.int32)
            last = np.maximum.accumulate(np.where(a == 0x5C, np.int32(-1), pos))  # last non-backslash
            at = quotes[after_slash]
            prev = np.where(at > 0, last[np.maximum(at - 1, 0)], -1)
            run = at - 1 - prev + np.where(prev < 0, odd, 0)
            escaped = np.zeros(len(quotes), bool)
            escaped[after_slash] = run % 2 == 1
            quotes = quotes[~escaped]
        if a[-1] == 0x5C:  # a run of backslashes reaches the next chunk: carry its parity
            others = np.flatnonzero(a != 0x5C)
            lead = int(others[-1]) if len(others) else -1
            odd = (n - 1 - lead + (odd if lead < 0 else 0)) % 2
        else:
            odd = 0
        steps = _BRACKETS[a]
        brackets = np.flatnonzero(steps)
        if len(brackets):
            # inside a string where an odd number of unescaped quotes (plus the carried state) precede
            parity = np.zeros(n, np.uint8)
            parity[quotes] = 1
            np.bitwise_xor.accumulate(parity, out=parity)
            steps = steps[brackets[(parity[brackets] ^ inside) == 0]]
            if len(steps):
                level = np.cumsum(steps, dtype=np.int64) + depth
                deepest = max(deepest, int(level.max()))
                if deepest > limit:
                    return deepest
                depth = int(level[-1])
        inside = (inside + len(quotes)) % 2
    return deepest


def _check_json_depth(raw, limit, where):
    """Refuses JSON nested deeper than ``limit`` before ``json.loads`` recurses into it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return
    if _json_depth(raw, limit) > limit:
        raise ValueError(f"{where} nests deeper than {limit} levels; no model config does, refusing to parse it")


def _parse_json(raw, limit, where):
    """``json.loads`` of ``raw`` (UTF-8 bytes) with its depth checked first; ValueError naming ``where``."""
    _check_json_depth(raw, limit, where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{where} is not UTF-8 text ({e})") from None
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the depth check; kept so no RecursionError ever leaks
        raise ValueError(f"{where} nests too deeply to parse") from None
    except ValueError as e:
        raise ValueError(f"{where} is not valid JSON ({e})") from None


def _weight_entries(model):
    """(structural name, tensor) for every weight: keyed by layer position and class, not by the
    auto-generated layer names, so a model rebuilt in code loads weights saved from another instance."""
    out = []
    for k, lyr in enumerate(model.layers):
        for i, e in enumerate(lyr._all_weight_entries()):
            out.append((f"layers/{k}_{type(lyr).__name__.lower()}/vars/{i}", e["tensor"]))
    return out


def _unique_weights(model):
    """Structural name -> tensor, each tensor once (under its first name; shared layers repeat)."""
    out, seen = {}, set()
    for n, t in _weight_entries(model):
        if id(t) not in seen:
            seen.add(id(t))
            out[n] = t
    return out


def _optimizer_entries(model):
    """The optimizer's state as safetensors entries (see the module docstring); [] if uncompiled."""
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(model, "compiled", False):
        return []
    out = [(_OPTIMIZER + "iterations", _core.as_tensor(np.asarray(opt.iterations, np.int64), "int64"))]
    for wname, t in _unique_weights(model).items():
        slots = opt._slots_for(t)
        if slots:
            out.extend((f"{_OPTIMIZER}{wname}/{sname}", s) for sname, s in zip(opt._slot_names_for(t), slots))
        avg = opt._average_of(t) if opt.use_ema else None
        if avg is not None:
            out.append((f"{_OPTIMIZER}{wname}/average", avg))
    return out


def _weights_bytes(model, with_optimizer=False):
    entries = _weight_entries(model) + (_optimizer_entries(model) if with_optimizer else [])
    return _core.safetensors_dumps(entries, {"format": "ferrograd", "version": __version__})


def _weights_cap(model):
    """The most bytes a weights file of ``model`` can need: its weights, ``_MAX_SLOTS`` optimizer
    slots for each, the iteration count, and a header of ``_HEADER_PER_ENTRY`` bytes per entry."""
    entries = _weight_entries(model)
    data = sum(int(np.prod(t.shape, dtype=np.int64)) * _ITEMSIZE.get(t.dtype, 8) for _, t in entries)
    n = len(entries) * (1 + _MAX_SLOTS) + 1
    return 8 + (1 << 16) + n * _HEADER_PER_ENTRY + data * (1 + _MAX_SLOTS) + 8


def _load_weights_bytes(model, data, source, skip_mismatch=False):
    """Assigns the model weights in ``data`` (safetensors bytes); returns the optimizer entries
    (name -> tensor), which only :func:`load_model` uses. ``skip_mismatch`` skips (with a warning)
    the weights that are missing, unexpected or of another shape or dtype."""
    try:
        stored, _meta = _core.safetensors_loads(data)
    except ValueError as e:
        raise ValueError(f"{source}: cannot read the weights: {e}") from None
    stored = dict(stored)
    opt_state = {n: t for n, t in stored.items() if n.startswith(_OPTIMIZER)}
    stored = {n: t for n, t in stored.items() if not n.startswith(_OPTIMIZER)}
    mine = _weight_entries(model)
    names = {n for n, _ in mine}
    extra = sorted(set(stored) - names)
    missing = sorted(names - set(stored))
    if (missing or extra) and not skip_mismatch:
        raise ValueError(f"{source}: the weights do not match the model: missing {missing[:5]}, unexpected "
                         f"{extra[:5]}")
    if missing or extra:
        warnings.warn(f"{source}: skipping mismatched weights (skip_mismatch=True): missing {missing[:5]}, "
                      f"unexpected {extra[:5]}", stacklevel=3)
    keep = []
    for n, t in mine:
        s = stored.get(n)
        if s is None:
            continue
        if tuple(s.shape) != tuple(t.shape) or s.dtype != t.dtype:
            msg = (f"{source}: weight {n} has shape {tuple(s.shape)} and dtype {s.dtype}, the model expects "
                   f"{tuple(t.shape)} and {t.dtype}")
            if not skip_mismatch:
                raise ValueError(msg)
            warnings.warn(msg + "; skipped (skip_mismatch=True)", stacklevel=3)
            continue
        keep.append((n, t))
    mine = keep
    prev = _core.set_grad_enabled(False)
    try:
        for n, t in mine:
            t.assign(stored[n])
    finally:
        _core.set_grad_enabled(prev)
    return opt_state


def _restore_optimizer(model, state, source):
    """Gives the (freshly compiled) model's optimizer the slots and iteration count in ``state``."""
    if not state:
        return
    opt = model.optimizer
    where = f"{source}: the optimizer state"
    it = state.get(_OPTIMIZER + "iterations")
    if it is None or it.dtype != "int64" or tuple(it.shape) != ():
        raise ValueError(f"{where} has no int64 scalar {_OPTIMIZER}iterations")
    iterations = int(it.item())
    if iterations < 0:
        raise ValueError(f"{where} counts {iterations} iterations; the count cannot be negative")
    weights = _unique_weights(model)

    def names(v):  # per weight: a MultiOptimizer gives each weight its sub-optimizer's slots
        return opt._slot_names_for(v) + (["average"] if opt._ema_for(v) else [])

    groups = {}
    for key, t in state.items():
        if key == _OPTIMIZER + "iterations":
            continue
        wname, _, sname = key[len(_OPTIMIZER):].rpartition("/")
        if wname not in weights or sname not in names(weights[wname]):
            raise ValueError(f"{where} holds {key}, which matches no weight of the model and slot of its "
                             f"{type(opt).__name__} (slots {names(weights[wname]) if wname in weights else []})")
        v = weights[wname]
        want = tuple(v.shape) if sname == "average" else tuple(opt._slot_shape_for(v, sname))
        if tuple(t.shape) != want or t.dtype != v.dtype:
            raise ValueError(f"{where} holds {key} with shape {tuple(t.shape)} and dtype {t.dtype}; the slot is "
                             f"{want} {v.dtype}")
        groups.setdefault(wname, {})[sname] = t
    for wname, slots in groups.items():
        missing = [n for n in names(weights[wname]) if n not in slots]
        if missing:
            raise ValueError(f"{where} lacks the {missing} slot(s) of {wname}")
    # slots in the order the fit loop creates them (trainable_weights), so ``variables`` lists as before
    chosen = {id(weights[w]) for w in groups}
    order = [t for t in model.trainable_weights if id(t) in chosen]
    opt.build(order + [weights[w] for w in groups if all(weights[w] is not t for t in order)])
    prev = _core.set_grad_enabled(False)
    try:
        for wname, slots in groups.items():
            for sname, s in zip(opt._slot_names_for(weights[wname]), opt._slots_for(weights[wname])):
                s.assign(slots[sname])
            if opt._ema_for(weights[wname]):
                opt._average_of(weights[wname]).assign(slots["average"])
    finally:
        _core.set_grad_enabled(prev)
    opt.iterations = iterations


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
    from .models import Functional, Sequential, functional

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
    elif type(model) is Functional:
        cfg = {"class_name": "Functional", "config": functional.get_graph_config(model, _serialize_layer)}
    else:
        name = getattr(type(model), "_registered_name", None)
        if name is None or _CUSTOM.get(name) is not type(model):
            raise ValueError(f"cannot save the subclassed model {type(model).__name__}: register its class with "
                             "@keras.saving.register_keras_serializable() (loading looks classes up by name and never "
                             "runs code from the file) and give it a get_config() returning its constructor "
                             "arguments")
        if isinstance(model, Functional):
            # a registered Functional subclass (keras_hub's backbones and tasks) builds its graph in
            # __init__: its constructor arguments rebuild it, no input shape is needed
            cfg = {"class_name": name, "config": model.get_config()}
        elif getattr(model, "_build_input_shape", None) is None:
            raise ValueError(f"cannot save {model.name}: the model has not been built yet; call it on a batch of "
                             "data first so that its weights exist")
        else:
            cfg = {"class_name": name, "config": model.get_config(),
                   "build_input_shape": _json_shape(model._build_input_shape)}
    if with_compile and model.compiled:
        cfg["compile_config"] = {
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": _nested(model.loss, lambda v: None if v is None else losses.serialize(v)),
            "loss_weights": model._loss_weights,
            "metrics": _nested(model._metric_ids, _metric_id),
            "weighted_metrics": (None if model._weighted_metric_ids is None else
                                 _nested(model._weighted_metric_ids, _metric_id)),
        }
    return cfg


def _metric_id(m):
    """A compiled metric as saved: its id string, Keras' dict for a built-in metric object (so that
    its arguments, e.g. MeanIoU's num_classes, come back), else its name."""
    from . import metrics

    if isinstance(m, str):
        return m
    if isinstance(m, metrics.Metric) and metrics._CLASSES.get(type(m).__name__) is type(m) and \
            type(m) is not metrics.MeanMetricWrapper:
        return metrics.serialize(m)
    return getattr(m, "name", str(m))


def _symbolic_inputs(shape):
    """KerasTensor(s) of a recorded ``build_input_shape`` (a shape or a list of shapes)."""
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [_symbolic_inputs(s) for s in shape]
    if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
        raise ValueError(f"bad build_input_shape {shape!r}")
    return symbolic.KerasTensor(tuple(shape))


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
    from .models import Model, Sequential, functional

    cname = cfg.get("class_name")
    conf = cfg.get("config", {})
    if not isinstance(conf, dict):
        raise ValueError(f"the config of {cname!r} must be a mapping")
    if cname == "Sequential":
        if cfg.get("build_input_shape") is None:
            raise ValueError("the Sequential model has no input shape recorded; it cannot be rebuilt")
        conf = dict(conf, build_input_shape=cfg.get("build_input_shape"), input_dtype=cfg.get("input_dtype"))
        return Sequential.from_config(conf, custom_objects=custom_objects)
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
    if isinstance(model, functional.Functional):  # built by its constructor (see _model_config)
        return model
    shape = cfg.get("build_input_shape")
    if shape is None:
        raise ValueError(f"{cname} has no build_input_shape recorded; it cannot be rebuilt")
    # Built by a symbolic call (shapes only, no kernel runs), as Keras builds a subclassed model.
    with symbolic.tracing():
        model(_symbolic_inputs(shape))
    return model


def _asset_layers(model):
    """(member folder, layer) for every layer, nested ones included, that keeps state outside its
    weights (``_save_assets``/``_load_assets``: a lookup layer's vocabulary and IDF weights), named
    by position in the model's depth-first layer order, as the weights are."""
    out = []
    for k, lyr in enumerate(model._flatten_layers(include_self=False)):
        if hasattr(lyr, "_save_assets"):
            out.append((f"{_ASSETS}{k}_{type(lyr).__name__.lower()}/", lyr))
    return out


def _load_assets(model, z, infos, filepath):
    for folder, lyr in _asset_layers(model):
        assets = {}
        for name, info in infos.items():
            if name.startswith(folder) and "/" not in name[len(folder):]:
                assets[name[len(folder):]] = _read_member(z, info, _ASSET_CAP, filepath, "the cap on layer assets")
        lyr._load_assets(assets, filepath)


def save_model(model, filepath, overwrite=True, zipped=True):
    """Saves architecture, compile settings, weights and optimizer state to a ``.keras`` zip."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"The filename must end in `.keras`. Received: filepath={filepath}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    cfg = _model_config(model)
    meta = {"keras_version": "3", "ferrograd_version": __version__,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _weights_bytes(model, with_optimizer=True)
    with _atomic_open(filepath) as f, zipfile.ZipFile(f, "w") as z:
        z.writestr(_CONFIG, json.dumps(cfg, indent=1), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(_META, json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(_WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)
        for folder, lyr in _asset_layers(model):
            for fname, data in lyr._save_assets().items():
                z.writestr(folder + fname, data, compress_type=zipfile.ZIP_DEFLATED)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model saved with :func:`save_model` (no code from the file is executed); with
    ``compile=True`` the optimizer resumes from its saved state."""
    filepath = os.fspath(filepath)
    try:
        _check_member_count(filepath)
        with zipfile.ZipFile(filepath) as z:
            infos = _members(z, filepath, (_CONFIG, _WEIGHTS))
            where = f"{filepath}: member {_CONFIG}"
            cfg = _parse_json(_read_member(z, infos[_CONFIG], _CONFIG_CAP, filepath, "the cap on model configs"),
                              _JSON_DEPTH_CAP, where)
            if not isinstance(cfg, dict):
                raise ValueError(f"{filepath}: config.json must hold a mapping, found {type(cfg).__name__}")
            try:
                # The weights member's declared size bounds what building may allocate (checked
                # again against its real size when it is read).
                with weight_budget(infos[_WEIGHTS].file_size, filepath):
                    model = _build_model(cfg, custom_objects)
            except RecursionError:
                raise ValueError(f"{filepath}: cannot rebuild the model from config.json: it nests too "
                                 "deeply") from None
            except (KeyError, IndexError, TypeError, ValueError) as e:
                msg = f"missing entry {e}" if isinstance(e, KeyError) else str(e)
                raise ValueError(f"{filepath}: cannot rebuild the model from config.json: {msg}") from None
            weights = _read_member(z, infos[_WEIGHTS], _weights_cap(model), filepath,
                                   "what the model in config.json can need")
            _load_assets(model, z, infos, filepath)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{filepath}: not a valid .keras archive ({e}); the file is truncated or corrupt") from None
    opt_state = _load_weights_bytes(model, weights, filepath)
    cc = cfg.get("compile_config")
    if compile and cc:
        try:
            loss = cc.get("loss")
            if isinstance(loss, list) or (isinstance(loss, dict) and "class_name" not in loss):
                loss = _nested(loss, lambda v: None if v is None else losses.deserialize(v))
            elif loss is not None:
                loss = losses.deserialize(loss)
            model.compile(optimizer=optimizers.deserialize(cc["optimizer"]), loss=loss,
                          loss_weights=cc.get("loss_weights"), metrics=cc.get("metrics"),
                          weighted_metrics=cc.get("weighted_metrics"))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{filepath}: cannot restore the compile settings ({e}); load with compile=False "
                             "to skip them") from None
        _restore_optimizer(model, opt_state, filepath)
    return model


def save_weights(model, filepath, overwrite=True):
    """Writes the model's weights (safetensors data, no optimizer state) to ``*.weights.h5`` or
    ``*.safetensors``."""
    filepath = os.fspath(filepath)
    if not (filepath.endswith(".weights.h5") or filepath.endswith(".safetensors")):
        raise ValueError(f"The filename must end in `.weights.h5` or `.safetensors`. Received: filepath={filepath}")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    _atomic_write(filepath, _weights_bytes(model))


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights written by :func:`save_weights` into a built model of the same architecture
    (optimizer entries, as in a ``.keras`` file's weights member, are ignored), or a legacy Keras
    HDF5 weights file (``.h5``/``.hdf5``; ``by_name=True`` matches layers by name). With
    ``skip_mismatch=True`` weights that are missing, unexpected or of another shape are skipped
    with a warning instead of raising."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")) and not filepath.endswith(".weights.h5"):
        from . import _legacy_h5

        by_name = kwargs.pop("by_name", False)
        if kwargs:
            raise ValueError(f"Invalid keyword arguments: {kwargs}")
        return _legacy_h5.load_weights(model, filepath, by_name=by_name, skip_mismatch=skip_mismatch)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    cap = _weights_cap(model)
    with open(filepath, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > cap:
            raise ValueError(f"{filepath}: the file has {size} bytes, more than the {cap} the weights of "
                             f"{model.name} can need; it is not their weights file")
        data = f.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"{filepath}: the file grew past {cap} bytes while being read")
    _load_weights_bytes(model, data, filepath, skip_mismatch=skip_mismatch)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
