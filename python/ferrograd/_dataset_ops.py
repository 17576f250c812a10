"""The ``tf.data.Dataset`` methods Keras tutorials chain on the datasets ``keras.utils`` returns.

In Keras, ``text_dataset_from_directory`` and ``timeseries_dataset_from_array`` return a
``tf.data.Dataset``, and scripts go on with ``ds.map(lambda x, y: x)`` (to ``adapt`` a
``TextVectorization`` on the texts alone), ``ds.map(lambda x, y: (vectorize(x), y))``,
``ds.take(1)``, ``ds.cache().prefetch(buffer_size=10)``. ferrograd returns a ``PyDataset`` of NumPy
batches instead; :class:`Dataset` gives it those methods, each returning a new ``PyDataset`` that
``fit``/``evaluate``/``predict`` and ``adapt`` consume like any other. Elements are batches, as in the
batched ``tf.data`` pipeline these datasets stand for.
"""
from __future__ import annotations

import numpy as np

from .utils import PyDataset


class Dataset(PyDataset):
    """A ``PyDataset`` of batches with ``map``, ``take``, ``skip``, ``cache``, ``prefetch`` and
    ``as_numpy_iterator``, as ``tf.data.Dataset`` has them (subclasses implement ``__len__`` and
    ``__getitem__``)."""

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """A dataset of ``map_func(*batch)`` for a tuple batch (``lambda x, y: x``), else
        ``map_func(batch)``, applied when a batch is read. ``num_parallel_calls`` and
        ``deterministic`` are accepted as ``tf.data`` takes them: batches are mapped in the order
        they are read (``fit`` loads them ahead with ``PyDataset(workers=...)``)."""
        if not callable(map_func):
            raise TypeError(f"Dataset.map: map_func must be callable; received {type(map_func).__name__}")
        return _Mapped(self, map_func)

    def take(self, count, name=None):
        """The first ``count`` batches (all of them for ``count=-1``)."""
        return _Range(self, 0, _count(count, "take"))

    def skip(self, count, name=None):
        """All batches but the first ``count`` (none for ``count=-1``)."""
        n = _count(count, "skip")
        return _Range(self, len(self) if n is None else n, None)

    def cache(self, filename="", name=None):
        """A dataset that keeps each batch in memory the first time it is read, so a ``map`` before
        it runs once per batch, not once per epoch. Caching to a file is not supported."""
        if filename:
            raise NotImplementedError(f"Dataset.cache(filename={filename!r}): ferrograd caches in memory only; "
                                      "call cache() without a filename")
        return _Cached(self)

    def prefetch(self, buffer_size, name=None):
        """The dataset itself: ``fit``, ``evaluate`` and ``predict`` already load batches ahead in order
        (``PyDataset(workers=..., max_queue_size=...)``), which is what ``prefetch`` asks for.
        ``buffer_size`` must be a positive int or ``-1`` (``tf.data.AUTOTUNE``)."""
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or (buffer_size < 1 and buffer_size != -1):
            raise ValueError(f"Dataset.prefetch: buffer_size must be a positive int or -1 (AUTOTUNE); "
                             f"received {buffer_size!r}")
        return self

    def as_numpy_iterator(self):
        """An iterator over the batches (they are NumPy arrays already)."""
        return iter(self)

    def cardinality(self):
        """The number of batches."""
        return len(self)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _check_index(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)})")


class DirectoryDataset(Dataset):
    """Batches of files, read when a batch is read (the ``*_dataset_from_directory`` functions):
    ``(inputs, labels)``, or the inputs alone without labels, or single samples when ``batch_size``
    is None. Subclasses give ``_load(paths)``, the batch of inputs for those files."""

    def __init__(self, paths, labels, label_mode, num_classes, batch_size, class_names):
        super().__init__()
        self.paths, self.file_paths = list(paths), list(paths)
        self.labels, self.label_mode, self.num_classes = labels, label_mode, num_classes
        self.batch_size, self.class_names = batch_size, class_names

    def __len__(self):
        return len(self.paths) if self.batch_size is None else -(-len(self.paths) // self.batch_size)

    def _labels(self, lab):
        if self.label_mode == "categorical":
            return np.eye(self.num_classes, dtype="float32")[lab]
        if self.label_mode == "binary":
            return lab.astype("float32").reshape(-1, 1)
        return lab.astype("int32")

    def _load(self, paths):
        raise NotImplementedError(f"{type(self).__name__} must implement _load(paths)")

    def __getitem__(self, index):
        self._check_index(index)
        size = 1 if self.batch_size is None else self.batch_size
        sl = slice(index * size, (index + 1) * size)
        x = self._load(self.paths[sl])
        if self.labels is None:
            return x[0] if self.batch_size is None else x
        y = self._labels(np.asarray(self.labels[sl]))
        return (x[0], y[0]) if self.batch_size is None else (x, y)


def _count(count, what):
    if isinstance(count, bool) or not isinstance(count, int) or count < -1:
        raise ValueError(f"Dataset.{what}: count must be a non-negative int or -1; received {count!r}")
    return None if count == -1 else count


class _Derived(Dataset):
    """A dataset over another one, passing on its epoch hooks and loading settings."""

    def __init__(self, base):
        super().__init__(workers=base.workers, use_multiprocessing=base.use_multiprocessing,
                         max_queue_size=base.max_queue_size)
        self._base = base

    def on_epoch_begin(self):
        hook = getattr(self._base, "on_epoch_begin", None)
        if hook is not None:
            hook()

    def on_epoch_end(self):
        hook = getattr(self._base, "on_epoch_end", None)
        if hook is not None:
            hook()

    def __getattr__(self, name):
        # attributes of the source dataset (class_names, file_paths, ...) stay reachable
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._base, name)


class _Mapped(_Derived):
    def __init__(self, base, fn):
        super().__init__(base)
        self._fn = fn

    def __len__(self):
        return len(self._base)

    def __getitem__(self, index):
        self._check_index(index)
        batch = self._base[index]
        return self._fn(*batch) if isinstance(batch, tuple) else self._fn(batch)


class _Range(_Derived):
    def __init__(self, base, start, count):
        super().__init__(base)
        n = len(base)
        self._start = min(start, n)
        self._len = n - self._start if count is None else min(count, n - self._start)

    def __len__(self):
        return self._len

    def __getitem__(self, index):
        self._check_index(index)
        return self._base[self._start + index]


class _Cached(_Derived):
    def __init__(self, base):
        super().__init__(base)
        self._store = {}

    def __len__(self):
        return len(self._base)

    def __getitem__(self, index):
        self._check_index(index)
        if index not in self._store:
            self._store[index] = self._base[index]
        return self._store[index]
