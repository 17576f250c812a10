"""Reading a local Hugging Face checkpoint folder (``config.json`` + ``model.safetensors``) for
``from_preset``: the folder check, the config, and a :class:`CheckpointTensors` table that hands
out each tensor once, checked by name and shape, so that every tensor of the file is either
mapped into a weight of the model or refused by name.

Only local folders are read; nothing is downloaded (a name that is not an existing folder, a
keras_hub preset name or an ``hf://`` handle, is refused). The safetensors file is parsed by
ferrograd's Rust reader (``_core.safetensors_loads``), which checks the header, every dtype and
shape, and that the data regions lie inside the file without overlapping, before trusting a byte.
"""
from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from ... import _core

__all__ = ["CheckpointTensors", "check_preset_directory", "read_config", "read_safetensors"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_CONFIG_CAP = 1 << 20  # bytes of config.json; a Hugging Face config is a few KiB


def check_preset_directory(preset, cls_name="Backbone"):
    """``preset`` as a ``pathlib.Path`` to an existing folder; anything else raises ValueError."""
    if not isinstance(preset, (str, os.PathLike)):
        raise ValueError(f"{cls_name}.from_preset: `preset` must be the path of a local Hugging Face checkpoint "
                         f"folder (str or os.PathLike). Received: preset={preset!r}")
    path = pathlib.Path(os.fspath(preset)).expanduser()
    if not path.is_dir():
        raise ValueError(f"{cls_name}.from_preset: only local directories are supported (ferrograd never downloads "
                         f"a checkpoint); {os.fspath(preset)!r} is not an existing directory. Download the Hugging "
                         "Face checkpoint folder (config.json + model.safetensors) and pass its path. Received: "
                         f"preset={preset!r}")
    return path


def _read_capped(path, cap, what):
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if cap is not None and size > cap:
                raise ValueError(f"{path}: {what} has {size} bytes, more than the {cap} allowed; it is not a "
                                 "Hugging Face checkpoint file")
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: {what} not found; a Hugging Face checkpoint folder holds "
                                f"{CONFIG_FILE} and {WEIGHTS_FILE}") from None


def read_config(directory):
    """The mapping in ``directory/config.json`` (ValueError naming the file when it is not one)."""
    path = pathlib.Path(directory) / CONFIG_FILE
    raw = _read_capped(path, _CONFIG_CAP, "the model config")
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: must hold a JSON object, found {type(config).__name__}")
    return config


def read_safetensors(path):
    """``{name: Tensor}`` of a safetensors file (ValueError naming the file when it is malformed)."""
    path = pathlib.Path(path)
    raw = _read_capped(path, None, "the weights file")
    try:
        entries, _meta = _core.safetensors_loads(raw)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path}: cannot read the weights: {e}") from None
    return dict(entries)


class CheckpointTensors:
    """The tensors of one checkpoint file, handed out once each by name with their shape checked.

    ``take(name, shape)`` returns the tensor as a float32 NumPy array (ValueError naming the tensor,
    the file, and the expected and found shapes when it is missing or mis-shaped);
    ``check_all_used()`` refuses the tensors nobody took. ``prefix`` is prepended to every name
    (Hugging Face writes ``bert.embeddings...`` in task checkpoints and ``embeddings...`` in
    bare-model ones).
    """

    def __init__(self, tensors, source, prefix=""):
        self.tensors = dict(tensors)
        self.source = str(source)
        self.prefix = prefix
        self.used = set()

    def with_prefix(self, prefix):
        """A view of the same tensors (and the same record of taken ones) under another prefix
        (a task head's ``cls.``/``classifier.`` names sit beside the backbone's ``bert.`` ones)."""
        view = CheckpointTensors({}, self.source, prefix)
        view.tensors, view.used = self.tensors, self.used
        return view

    def __contains__(self, name):
        return self.prefix + name in self.tensors

    def take(self, name, shape, dtype="float32"):
        full = self.prefix + name
        if full not in self.tensors:
            raise ValueError(f"{self.source}: the checkpoint has no tensor {full!r} (expected shape {tuple(shape)}); "
                             "it is not a complete checkpoint of this model")
        if full in self.used:
            raise ValueError(f"{self.source}: tensor {full!r} was mapped twice")
        t = self.tensors[full]
        if tuple(t.shape) != tuple(shape):
            raise ValueError(f"{self.source}: tensor {full!r} has shape {tuple(t.shape)}, expected {tuple(shape)} "
                             "from config.json; the weights do not match the config")
        if dtype == "float32" and not t.dtype.startswith("float"):
            raise ValueError(f"{self.source}: tensor {full!r} has dtype {t.dtype}, expected a float dtype")
        self.used.add(full)
        return np.ascontiguousarray(t.numpy(), dtype=dtype)

    def ignore(self, predicate):
        """Marks every tensor whose full name satisfies ``predicate`` as used (task heads a
        backbone does not hold); returns their names."""
        names = sorted(n for n in self.tensors if n not in self.used and predicate(n))
        self.used.update(names)
        return names

    def unused(self):
        return sorted(set(self.tensors) - self.used)

    def check_all_used(self, model_name):
        left = self.unused()
        if left:
            shown = ", ".join(f"{n!r} {tuple(self.tensors[n].shape)}" for n in left[:8])
            more = f" and {len(left) - 8} more" if len(left) > 8 else ""
            raise ValueError(f"{self.source}: {len(left)} tensor(s) of the checkpoint do not belong to a "
                             f"{model_name}: {shown}{more}; refusing a checkpoint this model cannot represent")
