"""Utilities (``keras.utils``)."""
from __future__ import annotations

import itertools
import random as _py_random
import warnings

import numpy as np

__all__ = ["to_categorical", "pad_sequences", "set_random_seed", "PyDataset", "Sequence",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def to_categorical(x, num_classes=None):
    """One-hot encodes integer labels into float32 rows (Keras' to_categorical)."""
    x = np.asarray(x)
    if x.size and not np.issubdtype(x.dtype, np.integer):
        if not np.all(np.equal(np.mod(x, 1), 0)):
            raise ValueError("to_categorical expects integer class labels")
        x = x.astype(np.int64)
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got values in [{x.min()}, {x.max()}]")
    out = np.zeros((x.size, num_classes), dtype=np.float32)
    out[np.arange(x.size), x] = 1.0
    return out.reshape(shape + (num_classes,))


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) a list of sequences to one length (Keras' pad_sequences)."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding and truncating must be 'pre' or 'post', got {padding!r} and {truncating!r}")
    seqs = [list(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    for i, s in enumerate(seqs):
        if not s or maxlen == 0:
            continue
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, -len(s):] = s
    return out


def set_random_seed(seed):
    """Seeds ferrograd's generator, NumPy's and Python's (as Keras does): ``fit``'s shuffling
    (NumPy) and a shuffled ``PyDataset``'s batch order (Python's ``random``) become reproducible."""
    from . import random

    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    _py_random.seed(seed)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs a batch the way the data adapters hand it to ``train_step``: ``x`` alone (``(x,)``
    when ``x`` is a list or tuple), ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch (``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``;
    a list counts as a tuple), missing parts as None."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found: {data}")


class PyDataset:
    """Base class of a dataset written in Python, fed to ``fit``/``evaluate``/``predict`` batch by batch.

    Implement ``__getitem__(index)`` returning one complete batch (``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` of arrays) and ``__len__`` returning the number of batches; optionally
    ``on_epoch_begin()`` / ``on_epoch_end()`` (e.g. to reshuffle). ``fit(shuffle=True)`` visits the
    batches in a random order each epoch. A dataset without ``__len__`` is infinite: give
    ``num_batches`` returning None and pass ``steps_per_epoch``.

    Example::

        class Batches(keras.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)

            def __getitem__(self, idx):
                s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
                return self.x[s], self.y[s]

        model.fit(Batches(x, y, 32), validation_data=Batches(xv, yv, 32), epochs=3)

    Args:
        workers: with more than 1, ``fit`` loads batches ahead in that many threads (the engine
            releases the GIL, so NumPy/IO work in ``__getitem__`` overlaps the training step).
        use_multiprocessing: not supported by ferrograd; True warns and uses threads.
        max_queue_size: how many batches the threads may load ahead (default 10).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        warn = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False), ("_max_queue_size", 10)):
            if not hasattr(self, attr):
                setattr(self, attr, default)
                warn = True
        if warn:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                          "these arguments to `fit()`, as they will be ignored.", stacklevel=3)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __iter__(self):
        try:
            n = self.num_batches
        except NotImplementedError:
            n = None
        for index in (range(n) if n is not None else itertools.count()):
            yield self[index]

    @property
    def num_batches(self):
        """Number of batches (``len(self)``), or None for an infinite dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
