"""Shared machinery of the IDX datasets: locate (or download) the files, verify SHA-256, parse.

Lookup order for ``<name>/<file>``: ``$FERROGRAD_DATA/<name>/``, then the cache folder
(``$FERROGRAD_HOME`` or ``~/.ferrograd``)``/datasets/<name>/``; a missing file is downloaded into
the cache from the mirrors, to a temporary name first and renamed once its SHA-256 matches.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pathlib
import urllib.request

import numpy as np

from .._fileio import atomic_open


def cache_dir():
    home = os.environ.get("FERROGRAD_HOME") or os.path.join(os.path.expanduser("~"), ".ferrograd")
    return pathlib.Path(home) / "datasets"


_LABEL = {"sha256": "SHA-256", "md5": "MD5"}


def _algorithm(expected):
    """Keras' ``hash_algorithm="auto"``: a 64-hex-digit hash is SHA-256, a 32-digit one MD5."""
    return "md5" if len(expected) == 32 else "sha256"


def _sha256(path, algorithm="sha256"):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate(name, filename, sha256, mirrors):
    """The path of a verified copy of ``name/filename``, downloading it if needed. ``sha256`` is the
    file's SHA-256 (or, 32 hex digits, its MD5, where Keras publishes only that)."""
    candidates = []
    if os.environ.get("FERROGRAD_DATA"):
        candidates.append(pathlib.Path(os.environ["FERROGRAD_DATA"]) / name / filename)
    candidates.append(cache_dir() / name / filename)
    for path in candidates:
        if path.is_file():
            got = _sha256(path, _algorithm(sha256))
            if got != sha256:
                raise ValueError(f"{path}: {_LABEL[_algorithm(sha256)]} mismatch (expected {sha256}, got {got}); "
                                 "the file is corrupt or not the published one. Delete it to download again.")
            return path
    target = cache_dir() / name / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in mirrors:
        url = base + filename
        try:
            # Written through the one atomic writer: a failed or corrupt download never leaves a
            # partial file, and the cached file gets the user's umask.
            with atomic_open(target) as f:
                digest = hashlib.new(_algorithm(sha256))
                with urllib.request.urlopen(url, timeout=60) as r:
                    for chunk in iter(lambda: r.read(1 << 20), b""):
                        digest.update(chunk)
                        f.write(chunk)
                got = digest.hexdigest()
                if got != sha256:
                    raise ValueError(f"{_LABEL[_algorithm(sha256)]} mismatch for {url}: expected {sha256}, got {got}")
            return target
        except Exception as e:  # noqa: BLE001 - try the next mirror, report all at the end
            errors.append(f"{url}: {e}")
    raise OSError(f"could not find {name}/{filename} in $FERROGRAD_DATA or {cache_dir()} and could not "
                  "download it:\n  " + "\n  ".join(errors))


def read_idx(path):
    """Parses a (gzipped) IDX file into a uint8 NumPy array, validating the header."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 8 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    count = int(np.prod(dims))
    if len(data) - header != count:
        raise ValueError(f"{path}: IDX body has {len(data) - header} bytes, the header promises {count}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def load(name, files, mirrors):
    """((x_train, y_train), (x_test, y_test)) from four IDX files given as (filename, sha256)."""
    arrays = [read_idx(locate(name, fn, sha, mirrors)) for fn, sha in files]
    x_train, y_train, x_test, y_test = arrays
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(f"{name}: images and labels disagree in count")
    return (x_train, y_train), (x_test, y_test)
