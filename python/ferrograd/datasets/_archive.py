"""Readers of the archive formats Keras' datasets ship in, written for untrusted files.

- :func:`tar_members` reads named members of a (gzipped) tar archive into memory, without
  extracting anything to disk (no path traversal, no links followed), and checks each member's
  size against a cap before reading it.
- :func:`load_pickle` unpickles with a restricted unpickler that only reconstructs NumPy arrays
  (the CIFAR batches are pickled dicts of arrays and lists), as Keras' ``RestrictedUnpickler``:
  loading a crafted file can never run code.
- :func:`load_npz` reads an ``.npz`` archive: numeric members with pickling disabled, object
  (ragged) members through the restricted unpickler.
"""
from __future__ import annotations

import io
import pickle
import tarfile
import zipfile

import numpy as np

_ALLOWED = frozenset({("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                      ("numpy._core.multiarray", "_reconstruct")})
_MEMBER_CAP = 1 << 30  # no member of these datasets is near 1 GiB


class RestrictedUnpickler(pickle.Unpickler):
    """Only NumPy array reconstruction is allowed."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to deserialize `{module}.{name}` while loading a dataset. "
                                     "The file may be corrupted or malicious.")


def load_pickle(data, encoding="bytes"):
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def tar_members(path, names):
    """``{name: bytes}`` for the regular-file members ``names`` of the tar archive at ``path``."""
    wanted = set(names)
    out = {}
    with tarfile.open(path, "r:*") as tar:
        for info in tar:
            if info.name not in wanted:
                continue
            if not info.isfile():
                raise ValueError(f"{path}: member {info.name!r} is not a regular file")
            if info.size > _MEMBER_CAP:
                raise ValueError(f"{path}: member {info.name!r} is {info.size} bytes, more than {_MEMBER_CAP}")
            f = tar.extractfile(info)
            out[info.name] = f.read()
    missing = wanted - set(out)
    if missing:
        raise ValueError(f"{path}: the archive lacks {sorted(missing)}")
    return out


def _npy_member(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        fp.seek(0)
        version = np.lib.format.read_magic(fp)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(fp)
        elif version[0] in (2, 3):
            np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"Unsupported `.npy` file version: {version}.") from None
        return RestrictedUnpickler(fp).load()


def load_npz(path):
    """``{name: array}`` of an ``.npz`` archive (see the module note)."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            if info.file_size > _MEMBER_CAP:
                raise ValueError(f"{path}: member {info.filename!r} is {info.file_size} bytes, more than {_MEMBER_CAP}")
            with archive.open(info) as raw:
                arrays[info.filename[:-4]] = _npy_member(io.BytesIO(raw.read()))
    return arrays
