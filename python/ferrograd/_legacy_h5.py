"""Reads weights from Keras' legacy HDF5 files (``model.save_weights("x.h5")`` in Keras 2, the
weights half of ``model.save("x.h5")``, and the published ``keras.applications`` ImageNet weights).

Layout: the root (or its ``model_weights`` group) lists ``layer_names``; each layer's group lists
``weight_names``, and those names are the paths of the arrays inside the group. Weights are matched
as Keras matches them: by position (the i-th layer that has weights takes the i-th saved layer that
has some), or with ``by_name=True`` by layer name. Within a layer the order is the trainable
weights, then the non-trainable ones. Reading needs ``h5py`` (an optional dependency).
"""
from __future__ import annotations

import os
import warnings

import numpy as np


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Loading a H5 file requires `h5py` to be installed (pip install h5py).") from None
    return h5py


def _names(group, attr):
    """A string-list attribute (bytes in files written by Keras 2, str in newer ones; long lists
    are split over ``attr0``, ``attr1``, ... chunks)."""
    if attr in group.attrs:
        raw = list(group.attrs[attr])
    else:
        raw, i = [], 0
        while f"{attr}{i}" in group.attrs:
            raw.extend(group.attrs[f"{attr}{i}"])
            i += 1
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in raw]


def _layer_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _saved_values(group, source, name):
    values = []
    for w in _names(group, "weight_names"):
        if w not in group:
            raise ValueError(f"{source}: layer {name} lists the weight {w}, which the file does not hold")
        values.append(np.asarray(group[w]))
    return values


def _assign(layer, variables, values, where, skip_mismatch):
    """Checks every shape first, so that a mismatch leaves the layer untouched."""
    for v, a in zip(variables, values):
        if tuple(v.shape) != tuple(a.shape):
            msg = (f"Shape mismatch in {where} for weight {v.path}. Weight expects shape {tuple(v.shape)}. "
                   f"Received saved weight with shape {tuple(a.shape)}")
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights for {where}: {msg}", stacklevel=4)
                return
            raise ValueError(msg)
    for v, a in zip(variables, values):
        v.assign(a.astype(str(v.dtype), copy=False))


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Loads a legacy ``.h5``/``.hdf5`` weights file into ``model`` (see the module note)."""
    h5py = _h5py()
    source = os.fspath(filepath)
    if skip_mismatch and not by_name:
        raise ValueError("`skip_mismatch` applies to legacy .h5 files only with `by_name=True` (weights matched "
                         "by layer name); received skip_mismatch=True, by_name=False")
    try:
        f = h5py.File(source, "r")
    except OSError as e:
        raise ValueError(f"{source}: not a readable HDF5 file ({e})") from None
    with f:
        group = f
        if "layer_names" not in f.attrs and "model_weights" in f:
            group = f["model_weights"]
        if "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
            raise ValueError(f"{source}: no `layer_names` attribute; this is not a Keras HDF5 weights file")
        saved = [n for n in _names(group, "layer_names") if n in group and _names(group[n], "weight_names")]
        if by_name:
            _load_by_name(model, group, saved, source, skip_mismatch)
        else:
            _load_in_order(model, group, saved, source)


def _load_in_order(model, group, saved, source):
    layers = [lyr for lyr in model.layers if lyr.weights]
    if len(saved) != len(layers):
        raise ValueError(f"{source}: layer count mismatch when loading weights from file. Model expected "
                         f"{len(layers)} layers, found {len(saved)} saved layers.")
    plan = []
    for k, (name, layer) in enumerate(zip(saved, layers)):
        values = _saved_values(group[name], source, name)
        variables = _layer_weights(layer)
        if len(values) != len(variables):
            raise ValueError(f"{source}: weight count mismatch for layer #{k} (named {layer.name} in the current "
                             f"model, {name} in the save file). Layer expects {len(variables)} weight(s). "
                             f"Received {len(values)} saved weight(s)")
        for v, a in zip(variables, values):
            if tuple(v.shape) != tuple(a.shape):
                raise ValueError(f"{source}: shape mismatch in layer #{k} (named {layer.name}) for weight {v.path}. "
                                 f"Weight expects shape {tuple(v.shape)}. Received saved weight with shape "
                                 f"{tuple(a.shape)}")
        plan.append((variables, values))
    for variables, values in plan:  # all checked: a bad file leaves the model untouched
        for v, a in zip(variables, values):
            v.assign(a.astype(str(v.dtype), copy=False))


def _load_by_name(model, group, saved, source, skip_mismatch):
    index = {}
    for lyr in model.layers:
        if lyr.weights:
            index.setdefault(lyr.name, []).append(lyr)
    for k, name in enumerate(saved):
        values = _saved_values(group[name], source, name)
        for layer in index.get(name, []):
            variables = _layer_weights(layer)
            where = f"layer #{k} (named {layer.name})"
            if len(values) != len(variables):
                msg = (f"Weight count mismatch for {where}. Layer expects {len(variables)} weight(s). Received "
                       f"{len(values)} saved weight(s)")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading weights for {where}: {msg}", stacklevel=3)
                    continue
                raise ValueError(f"{source}: {msg}")
            _assign(layer, variables, values, where, skip_mismatch)
