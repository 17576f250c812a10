"""Data utilities of ``keras.utils``: ``get_file``, ``timeseries_dataset_from_array``, ``split_dataset``.

Where Keras returns a ``tf.data.Dataset`` (there is no TensorFlow here), these return a
``keras.utils.PyDataset`` of NumPy batches (timeseries) or NumPy arrays in the input's structure
(split_dataset), which ``fit``/``evaluate``/``predict`` take as Keras takes its datasets.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import tarfile
import urllib.request
import zipfile

import numpy as np

from ._fileio import atomic_open

__all__ = ["get_file", "timeseries_dataset_from_array", "split_dataset", "text_dataset_from_directory"]


# ---- get_file ----------------------------------------------------------------------------------
def _hash_file(path, algorithm):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _algorithm(file_hash, hash_algorithm):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5'. Received: hash_algorithm={hash_algorithm}")
    return "sha256" if len(file_hash) == 64 else "md5"


def _safe_extract(archive, dest, archive_format):
    """Extracts a tar or zip archive into ``dest``, refusing members that would land outside it
    (absolute paths, ``..``) and tar links/devices."""
    dest = pathlib.Path(dest).resolve()

    def inside(name):
        target = (dest / name).resolve()
        if dest != target and dest not in target.parents:
            raise ValueError(f"{archive}: member {name!r} would be extracted outside {dest}")
        return target

    formats = ["tar", "zip"] if archive_format in ("auto", None) else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    if "tar" in formats and tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                inside(m.name)
                if not (m.isfile() or m.isdir()):
                    raise ValueError(f"{archive}: member {m.name!r} is a link or device; refused")
            tar.extractall(dest, filter="data")
        return True
    if "zip" in formats and zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                inside(name)
            z.extractall(dest)
        return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """The local path of a file, downloading it from ``origin`` only when no copy exists.

    Lookup order: ``$FERROGRAD_DATA/<fname>``, then ``<cache_dir>/<cache_subdir>/<fname>``
    (``cache_dir`` defaults to ``$FERROGRAD_HOME`` or ``~/.ferrograd``; Keras uses ``~/.keras``).
    With ``file_hash`` (SHA-256, or MD5 for 32 hex digits) the copy is verified and a mismatch
    raises. Downloads are written atomically (a failed download leaves nothing). With
    ``extract=True`` (or ``untar=True``) a tar/zip archive is extracted next to it into
    ``<fname>_extracted`` (``<fname>`` for untar) and that folder is returned, refusing members
    that would land outside it.
    """
    if origin is None and fname is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if fname is None:
        fname = os.path.basename(urllib.request.urlparse(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                             "Please specify the `fname` argument.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if untar:
        archive_name = fname if fname.endswith((".tar.gz", ".tgz", ".tar")) else fname + ".tar.gz"
    else:
        archive_name = fname
    if cache_dir is None:
        cache_dir = os.environ.get("FERROGRAD_HOME") or os.path.join(os.path.expanduser("~"), ".ferrograd")
    datadir = pathlib.Path(cache_dir).expanduser() / cache_subdir
    candidates = []
    if os.environ.get("FERROGRAD_DATA"):
        candidates.append(pathlib.Path(os.environ["FERROGRAD_DATA"]) / archive_name)
    candidates.append(datadir / archive_name)
    path = None
    if not force_download:
        for c in candidates:
            if c.exists():
                path = c
                break
    if path is not None and file_hash is not None and path.is_file():
        algo = _algorithm(file_hash, hash_algorithm)
        got = _hash_file(path, algo)
        if got != file_hash:
            raise ValueError(f"{path}: the {algo} hash is {got}, expected {file_hash}; the file is corrupt or not "
                             "the published one. Delete it (or pass force_download=True) to download again.")
    if path is None:
        if origin is None:
            raise ValueError(f"{fname} is not in $FERROGRAD_DATA or {datadir}, and no `origin` was given to "
                             "download it from")
        path = datadir / archive_name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_open(path) as f:
                digest = hashlib.new(_algorithm(file_hash, hash_algorithm)) if file_hash else None
                with urllib.request.urlopen(origin, timeout=60) as r:
                    for chunk in iter(lambda: r.read(1 << 20), b""):
                        f.write(chunk)
                        if digest is not None:
                            digest.update(chunk)
                if digest is not None and digest.hexdigest() != file_hash:
                    raise ValueError(f"the downloaded file's hash is {digest.hexdigest()}, expected {file_hash}")
        except Exception as e:
            raise OSError(f"{fname} is not in $FERROGRAD_DATA or {datadir} and the download from {origin} "
                          f"failed: {e}") from e
    if untar or extract:
        target = datadir / (fname if untar else f"{fname}_extracted")
        if path.is_dir():
            return str(path)
        if not target.exists() or force_download:
            target.mkdir(parents=True, exist_ok=True)
            if not _safe_extract(path, target, "tar" if untar else archive_format):
                raise ValueError(f"{path}: not a {archive_format if not untar else 'tar'} archive")
        return str(target)
    return str(path)


# ---- timeseries_dataset_from_array -------------------------------------------------------------
def _timeseries_batches_class():
    from ._dataset_ops import Dataset

    class TimeseriesDataset(Dataset):
        """Batches of windows over an array (``timeseries_dataset_from_array``)."""

        def __init__(self, data, targets, positions, offsets, start_index, batch_size):
            super().__init__()
            self.data, self.targets = data, targets
            self.positions, self.offsets = positions, offsets
            self.start_index, self.batch_size = start_index, batch_size

        def __len__(self):
            if self.batch_size is None:
                return len(self.positions)
            return -(-len(self.positions) // self.batch_size)

        def __getitem__(self, index):
            if not 0 <= index < len(self):
                raise IndexError(f"batch index {index} out of range [0, {len(self)})")
            if self.batch_size is None:
                pos = self.positions[index:index + 1]
            else:
                pos = self.positions[index * self.batch_size:(index + 1) * self.batch_size]
            rows = self.start_index + pos[:, None] + self.offsets[None, :]  # (B, sequence_length)
            x = self.data[rows]
            if self.batch_size is None:
                x = x[0]
            if self.targets is None:
                return x
            y = self.targets[self.start_index + pos]
            return x, (y[0] if self.batch_size is None else y)

    return TimeseriesDataset


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None,
                                  format="tf"):
    """Windows of ``sequence_length`` steps (every ``sampling_rate``-th step, a new window every
    ``sequence_stride`` steps) over ``data[start_index:end_index]``, in batches; with ``targets``,
    each window's target is ``targets[start_index + window_start]``. Keras' argument checks and
    window rule; returns a ``PyDataset`` of NumPy batches (Keras: a ``tf.data.Dataset``).
    """
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: start_index={start_index}, "
                             f"and end_index={end_index} ")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError(f"`sampling_rate` must be lower than the length of the data. Received: "
                         f"sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError(f"`sequence_stride` must be lower than the length of the data. Received: "
                         f"sequence_stride={sequence_stride}, for data of length {n}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start_index = start_index or 0
    end_index = end_index or n
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    offsets = np.arange(sequence_length, dtype=np.int64) * sampling_rate
    data = np.asarray(data)
    targets = None if targets is None else np.asarray(targets)
    return _timeseries_batches_class()(data, targets, positions, offsets, start_index, batch_size)


# ---- split_dataset -----------------------------------------------------------------------------
def _sizes(total, left_size, right_size):
    def resolve(size, name):
        if size is None:
            return None
        if isinstance(size, float):
            if not 0 < size < 1:
                raise ValueError(f"`{name}` should be either a positive integer or a float between 0 and 1. "
                                 f"Received: {name}={size}")
            return round(size * total)
        if isinstance(size, int) and not isinstance(size, bool):
            if size <= 0 or size > total:
                raise ValueError(f"`{name}` should be a positive integer not larger than the dataset size "
                                 f"({total}). Received: {name}={size}")
            return size
        raise TypeError(f"Invalid `{name}` type. Received: {name}={size!r}")

    left, right = resolve(left_size, "left_size"), resolve(right_size, "right_size")
    if left is None and right is None:
        left = round(0.5 * total)
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` ({left + right}) is greater than the number of "
                         f"samples ({total}).")
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """Splits arrays (or a tuple/list/dict of arrays with the same first dimension) into a left and a
    right part of ``left_size`` / ``right_size`` samples (ints, or fractions in (0, 1)); with
    ``shuffle`` the samples are drawn in a random order (``seed``). Returns ``(left, right)`` in the
    input's structure, as NumPy arrays (Keras returns two ``tf.data.Dataset``)."""
    if isinstance(dataset, dict):
        keys = list(dataset)
        arrays = [np.asarray(dataset[k]) for k in keys]
    elif isinstance(dataset, (list, tuple)):
        arrays = [np.asarray(a) for a in dataset]
    else:
        arrays = [np.asarray(dataset)]
    total = len(arrays[0])
    if any(len(a) != total for a in arrays):
        raise ValueError("split_dataset: every array must have the same number of samples")
    left, right = _sizes(total, left_size, right_size)
    order = np.arange(total)
    if shuffle:
        np.random.RandomState(seed if seed is not None else np.random.randint(1e6)).shuffle(order)
    li, ri = order[:left], order[left:left + right]

    def pack(idx):
        parts = [a[idx] for a in arrays]
        if isinstance(dataset, dict):
            return dict(zip(keys, parts))
        if isinstance(dataset, (list, tuple)):
            return type(dataset)(parts)
        return parts[0]

    return pack(li), pack(ri)


# ---- text_dataset_from_directory ---------------------------------------------------------------
def _check_directory_args(kind, labels, label_mode, class_names, validation_split, subset, shuffle, seed):
    """Keras' checks of the arguments the ``*_dataset_from_directory`` functions share; returns
    ``(labels, label_mode)``, both None when either is."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             f"number of {kind} files in the target directory. If you wish to infer the labels from "
                             'the subdirectory names in the target directory, pass `labels="inferred"`. If you wish '
                             f"to get a dataset that only contains {kind} samples (no labels), pass `labels=None`. "
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset in ("training", "validation", "both")):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely; `subset` must be "
                         f'"training", "validation" or "both". Received: subset={subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def _index_directory(directory, labels, formats, class_names, shuffle, seed, follow_links, verbose):
    """Keras' index_directory: the files (sorted per class folder, classes in alphanumeric order or
    the given ``class_names`` order), their labels and the class names; shuffled with
    ``RandomState(seed)`` as Keras does."""
    subdirs = [""]
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    elif class_names is not None:
        raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified."
                         if labels is None else "When argument `labels` is specified, argument `class_names` "
                         "cannot be specified (the `class_names` will be the sorted list of labels).")
    filenames, found = [], []
    for index, subdir in enumerate(subdirs):
        root_dir = os.path.join(directory, subdir)
        for root, _, files in sorted(os.walk(root_dir, followlinks=follow_links), key=lambda t: t[0]):
            for fname in sorted(files):
                if fname.lower().endswith(formats):
                    filenames.append(os.path.relpath(os.path.join(root, fname), directory))
                    found.append(index)
    if labels == "inferred":
        label_list = np.asarray(found, dtype="int32")
        names = subdirs
    elif labels is None:
        label_list, names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target directory. "
                             f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory "
                             f"{directory}.")
        label_list = np.asarray(labels)
        names = [str(c) for c in sorted(set(label_list.tolist()))]
    if verbose:
        print(f"Found {len(filenames)} files." if label_list is None else
              f"Found {len(filenames)} files belonging to {len(names)} classes.")
    paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(paths)
        if label_list is not None:
            np.random.RandomState(seed).shuffle(label_list)
    return paths, label_list, names


def _split(samples, labels, validation_split, subset, verbose):
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print(f"Using {len(samples) - n_val} files for training.")
        keep = slice(0, len(samples) - n_val)
    else:
        if verbose:
            print(f"Using {n_val} files for validation.")
        keep = slice(len(samples) - n_val, len(samples))
    return samples[keep], None if labels is None else labels[keep]


def _text_dataset_class():
    from ._dataset_ops import DirectoryDataset

    class TextDataset(DirectoryDataset):
        """Batches of ``(texts, labels)`` read from files (``text_dataset_from_directory``)."""

        def __init__(self, paths, labels, label_mode, num_classes, batch_size, max_length, class_names):
            super().__init__(paths, labels, label_mode, num_classes, batch_size, class_names)
            self.max_length = max_length

        def _read(self, path):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if self.max_length is not None:
                text = text.encode("utf-8")[:self.max_length].decode("utf-8", errors="ignore")
            return text

        def _load(self, paths):
            return np.array([self._read(p) for p in paths], dtype=object)

    return TextDataset


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Batches of ``(texts, labels)`` from ``.txt`` files in class subfolders (``labels="inferred"``),
    with Keras' indexing, shuffling (``RandomState(seed)`` over the file list), label modes
    ("int", "categorical", "binary", None), ``max_length`` truncation (in bytes, as Keras) and
    validation splits (``subset`` "training", "validation" or "both"). Returns a ``PyDataset`` of
    NumPy batches (texts as an object array of str) with ``class_names`` and ``file_paths``
    (Keras: a ``tf.data.Dataset``; it also reshuffles each epoch, which ``fit(shuffle=True)`` does
    here by batch)."""
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    labels, label_mode = _check_directory_args("text", labels, label_mode, None, validation_split, subset, shuffle,
                                               seed)
    paths, label_list, names = _index_directory(directory, labels, (".txt",), class_names, shuffle, seed,
                                                follow_links, verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={names}")
    cls = _text_dataset_class()

    def make(sub):
        p, lab = _split(np.asarray(paths, dtype=object), label_list, validation_split, sub, verbose)
        return cls(list(p), lab, label_mode, len(names or []), batch_size, max_length, names)

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)
