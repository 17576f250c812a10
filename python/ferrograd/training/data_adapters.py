"""Data adapters: turn what ``fit``/``evaluate``/``predict`` receive into an iterator of batches.

Each adapter yields batches shaped as ``train_step`` receives them (Keras'
``pack_x_y_sample_weight``): ``x`` alone, ``(x,)`` when ``x`` is a list, ``(x, y)`` or
``(x, y, sample_weight)``, each leaf a ferrograd tensor. Three sources, as in Keras 3:

- arrays (NumPy arrays, ferrograd tensors, anything with ``__array__``, and lists/dicts of them for
  models with several inputs or outputs): :class:`ArrayDataAdapter`;
- Python generators and iterators yielding batches: :class:`GeneratorDataAdapter`;
- :class:`ferrograd.utils.PyDataset` subclasses: :class:`PyDatasetAdapter`.

Performance note: the array adapter converts its inputs once (float64 to float32, tensors to NumPy
views) and per batch does one slice per array plus one zero-copy ``from_numpy``; a contiguous slice
(no shuffle) is a view, a shuffled batch is one gather. Nothing else runs per batch.
"""
from __future__ import annotations

import itertools
import math
import random
import types
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _core
from .._core import Tensor
from ..utils import PyDataset, pack_x_y_sample_weight

__all__ = ["DataAdapter", "ArrayDataAdapter", "GeneratorDataAdapter", "PyDatasetAdapter", "get_data_adapter",
           "class_weight_to_sample_weights", "train_validation_split"]


# ---- nested structures (lists, tuples, dicts of leaves) ----------------------------------------
def map_structure(fn, s):
    """``fn`` applied to every leaf of a structure of lists, tuples and dicts (None stays None)."""
    if s is None:
        return None
    if isinstance(s, (list, tuple)):
        return type(s)(map_structure(fn, v) for v in s)
    if isinstance(s, dict):
        return {k: map_structure(fn, v) for k, v in s.items()}
    return fn(s)


def flatten(s, out=None):
    """The leaves of a structure, in order (None leaves skipped)."""
    out = [] if out is None else out
    if isinstance(s, (list, tuple)):
        for v in s:
            flatten(v, out)
    elif isinstance(s, dict):
        for v in s.values():
            flatten(v, out)
    elif s is not None:
        out.append(s)
    return out


def _pack(template, leaves):
    """Rebuilds ``template``'s structure from an iterator of new leaves."""
    if template is None:
        return None
    if isinstance(template, (list, tuple)):
        return type(template)(_pack(v, leaves) for v in template)
    if isinstance(template, dict):
        return {k: _pack(v, leaves) for k, v in template.items()}
    return next(leaves)


def _is_array_like(v):
    return isinstance(v, (np.ndarray, Tensor)) or (hasattr(v, "__array__") and not isinstance(v, (list, tuple)))


def _is_structure(v):
    """A list/tuple/dict whose items are arrays or structures (a list of numbers is one array)."""
    if isinstance(v, dict):
        return True
    if isinstance(v, (list, tuple)) and v:
        return all(_is_array_like(i) or _is_structure(i) or i is None for i in v)
    return False


def to_array(v, what="x"):
    """One leaf as a NumPy array: tensors as views, float64 as float32 (as Keras casts to floatx)."""
    if isinstance(v, Tensor):
        a = v.numpy()
    else:
        a = np.asarray(v)
        if a.dtype == object:
            if not all(isinstance(e, (str, bytes)) for e in a.reshape(-1)):
                raise ValueError(f"{what} must be an array or tensor, received an object array")
            a = a.astype(str)  # strings for a model's dtype="string" input
    if a.dtype.kind == "S":
        a = np.char.decode(a, "utf-8")
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return a


def as_arrays(data, what):
    """``data`` (an array-like or a structure of them) with every leaf a NumPy array."""
    if data is None:
        return None
    if _is_structure(data):
        return map_structure(lambda v: to_array(v, what), data)
    return to_array(data, what)


def _leaf(a):
    """A sliced array leaf as a tensor; string arrays stay NumPy arrays (the text layers take them)."""
    a = np.ascontiguousarray(a)
    return a if a.dtype.kind in "US" else _core.from_numpy(a)


def to_tensor(v):
    """One batch leaf as a tensor: tensors pass, arrays are shared (float64 cast to float32); string
    arrays stay arrays."""
    if isinstance(v, Tensor):
        return v
    if not isinstance(v, np.ndarray):
        if not hasattr(v, "__array__") and not isinstance(v, (list, int, float, bool)):
            return v
        v = np.asarray(v)
    if v.dtype.kind in "USO":
        return v
    if v.dtype == np.float64:
        v = v.astype(np.float32)
    return _core.from_numpy(np.ascontiguousarray(v))


def batch_to_tensors(batch):
    return map_structure(to_tensor, batch)


# ---- helpers shared with the trainer -----------------------------------------------------------
def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict (Keras' rule: one-hot ``y`` by argmax,
    ``(N, 1)`` squeezed, values rounded to int; classes not in the dict weigh 1)."""
    y = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    y = np.round(y).astype(np.int64).reshape(-1)
    classes, inverse = np.unique(y, return_inverse=True)
    lookup = np.array([float(class_weight.get(int(c), 1.0)) for c in classes], dtype=np.float32)
    return lookup[inverse] if len(y) else np.ones((0,), np.float32)


def train_validation_split(arrays, validation_split):
    """Splits ``(x, y, sample_weight)`` into training and validation parts: the validation samples
    are the last ``validation_split`` fraction, taken before any shuffling (Keras' rule)."""
    leaves = flatten(arrays)
    bad = [type(v) for v in leaves if not _is_array_like(v)]
    if bad:
        raise ValueError("Argument `validation_split` is only supported for tensors or NumPy arrays."
                         f"Found incompatible type in the input: {bad}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}")
    n = min(len(v) for v in leaves) if leaves else 0
    cut = int(math.floor(n * (1.0 - validation_split)))
    if cut == 0 or cut == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it into a "
                         f"validation and training set as specified by `validation_split={validation_split}`. "
                         "Either provide more data, or a different value for the `validation_split` argument.")
    train = map_structure(lambda v: v[:cut], arrays)
    val = map_structure(lambda v: v[cut:], arrays)
    return train, val


def _raise_unsupported(arg, desc, kind):
    raise ValueError(f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, {desc} should be "
                     f"included as part of the {kind}.")


def _unify_batch(batch, class_weight=None):
    """A batch from a generator or PyDataset as Keras standardizes it: an array alone is ``(x,)``, a
    list is a tuple, a dict is ``x``; ``class_weight`` becomes the third element."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, (tuple, dict)):
        batch = (batch,)
    if isinstance(batch, tuple) and len(batch) not in (1, 2, 3):
        raise ValueError("A batch must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
                         f"Received a tuple of {len(batch)} elements: {str(batch)[:100]}")
    if class_weight is not None and isinstance(batch, tuple):
        if len(batch) == 3:
            raise ValueError("You cannot specify `class_weight` and `sample_weight` at the same time.")
        if len(batch) == 2:
            batch = batch + (class_weight_to_sample_weights(batch[1], class_weight),)
    return batch


# ---- adapters ----------------------------------------------------------------------------------
class DataAdapter:
    """Base: ``get_iterator()`` returns an iterator of batches for one pass; ``num_batches`` is
    None when unknown; ``on_epoch_begin``/``on_epoch_end`` bracket each pass."""

    num_batches = None
    batch_size = None

    def get_iterator(self):
        raise NotImplementedError

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class ArrayDataAdapter(DataAdapter):
    """Batches sliced from in-memory arrays; ``shuffle`` is False, True (a new permutation of the
    samples each pass, from NumPy's global generator as in Keras) or ``"batch"`` (shuffles
    within each batch)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None):
        x, y, sample_weight = as_arrays(x, "x"), as_arrays(y, "y"), as_arrays(sample_weight, "sample_weight")
        if sample_weight is not None and class_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if class_weight is not None:
            if isinstance(y, (list, tuple, dict)):
                raise ValueError("`class_weight` is only supported for Models with a single output.")
            if y is None:
                raise ValueError("`class_weight` needs targets `y`.")
            sample_weight = class_weight_to_sample_weights(y, class_weight)
        inputs = pack_x_y_sample_weight(x, y, sample_weight)
        self._leaves = flatten(inputs)
        self._template = inputs
        sizes = {len(a) if a.ndim else 0 for a in self._leaves}
        self._num_samples = sizes.pop() if len(sizes) == 1 else self._cardinality(x, y, sample_weight)
        if not batch_size:
            batch_size = int(math.ceil(self._num_samples / steps)) if steps else 32
        self.batch_size = int(batch_size)
        self.num_batches = int(math.ceil(self._num_samples / self.batch_size))
        self._shuffle = shuffle

    @staticmethod
    def _cardinality(x, y, sample_weight):
        sizes = {}
        for label, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            leaves = flatten(part)
            for i, a in enumerate(leaves):
                sizes[f"{label}[{i}]" if len(leaves) > 1 else label] = len(a) if a.ndim else 0
        if len(set(sizes.values())) > 1:
            desc = ", ".join(f"{k} sizes: {v}" for k, v in sizes.items())
            raise ValueError(f"Data cardinality is ambiguous: {desc}. Make sure all arrays contain the same number "
                             "of samples.")
        return next(iter(sizes.values()), 0)

    def get_iterator(self):
        n, bs, leaves, template = self._num_samples, self.batch_size, self._leaves, self._template
        perm = np.random.permutation(n) if self._shuffle and self._shuffle != "batch" else None
        single = isinstance(template, np.ndarray)  # x alone: no structure to rebuild
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if perm is not None:
                idx = perm[start:stop]
            elif self._shuffle == "batch":
                idx = np.random.permutation(stop - start) + start
            else:
                idx = slice(start, stop)
            if single:
                yield _leaf(template[idx])
            else:
                yield _pack(template, iter([_leaf(a[idx]) for a in leaves]))


class GeneratorDataAdapter(DataAdapter):
    """Batches from a Python generator or iterator (one pass; ``num_batches`` unknown). The first
    batch is read up front to check it, then handed out first."""

    def __init__(self, generator, class_weight=None, standardize=None):
        self._standardize = standardize or (lambda b: b)
        try:
            first = next(generator)
        except StopIteration:
            raise ValueError("When passing a Python generator to a Keras model, the generator must yield at least "
                             "one batch. Received an empty generator.") from None
        self._first = [first]
        self._generator = generator
        self._class_weight = class_weight

    def get_iterator(self):
        cw, std = self._class_weight, self._standardize
        while self._first:
            yield batch_to_tensors(std(_unify_batch(self._first.pop(), cw)))
        for batch in self._generator:
            yield batch_to_tensors(std(_unify_batch(batch, cw)))


def is_batch_iterable(x):
    """A re-iterable source of batches from another framework: a PyTorch ``DataLoader`` or a
    ``tf.data.Dataset`` (Keras 3 takes both on every backend). Recognised by type, without
    importing either library."""
    for t in type(x).__mro__:
        module = t.__module__ or ""
        if module.startswith("torch.utils.data") and t.__name__ == "DataLoader":
            return True
        if module.startswith("tensorflow") and t.__name__ == "DatasetV2":
            return True
    return False


class BatchIterableAdapter(DataAdapter):
    """Batches of a PyTorch ``DataLoader`` or a ``tf.data.Dataset``: one fresh pass of
    ``iter(source)`` per epoch, each leaf (a torch or TensorFlow tensor) read through its
    ``__array__`` into a tensor. ``num_batches`` is ``len(loader)`` or the dataset's cardinality,
    None when unknown (an iterable-style torch dataset, an infinite or unknown tf.data pipeline).
    Like Keras, ``shuffle`` is left to the source (the loader's sampler, ``Dataset.shuffle``)."""

    def __init__(self, source, class_weight=None, standardize=None):
        self._standardize = standardize or (lambda b: b)
        self._source = source
        self._class_weight = class_weight
        self.num_batches = self._count(source)

    @staticmethod
    def _count(source):
        cardinality = getattr(source, "cardinality", None)
        try:
            n = int(cardinality()) if cardinality is not None else len(source)
        except (TypeError, NotImplementedError):
            return None
        return n if n >= 0 else None

    def get_iterator(self):
        cw, std = self._class_weight, self._standardize
        for batch in self._source:
            yield batch_to_tensors(std(_unify_batch(batch, cw)))


class PyDatasetAdapter(DataAdapter):
    """Batches ``dataset[i]`` of a :class:`~ferrograd.utils.PyDataset`, in a random order per pass
    with ``shuffle`` (Python's ``random``, as Keras); ``workers > 1`` loads ahead in threads."""

    def __init__(self, dataset, class_weight=None, shuffle=False, standardize=None):
        self._standardize = standardize or (lambda b: b)
        self.dataset = dataset
        self._class_weight = class_weight
        self._shuffle = shuffle
        self.num_batches = dataset.num_batches
        self._workers = dataset.workers
        if dataset.use_multiprocessing:
            warnings.warn("PyDataset(use_multiprocessing=True) is not supported by ferrograd: batches are loaded "
                          f"in {max(self._workers, 1)} threads instead", stacklevel=4)
        self._queue = max(int(dataset.max_queue_size or 1), 1)

    def _indices(self):
        if self.num_batches is None:
            return itertools.count()
        indices = list(range(self.num_batches))
        if self._shuffle:
            random.shuffle(indices)
        return indices

    def get_iterator(self):
        cw, ds, std = self._class_weight, self.dataset, self._standardize
        indices = iter(self._indices())
        if self._workers <= 1:
            for i in indices:
                yield batch_to_tensors(std(_unify_batch(ds[i], cw)))
            return
        # Ordered prefetch: up to max_queue_size batches in flight, handed out in index order.
        with ThreadPoolExecutor(self._workers) as pool:
            pending = [pool.submit(ds.__getitem__, i) for i in itertools.islice(indices, self._queue)]
            while pending:
                batch = pending.pop(0).result()
                nxt = next(indices, None)
                if nxt is not None:
                    pending.append(pool.submit(ds.__getitem__, nxt))
                yield batch_to_tensors(std(_unify_batch(batch, cw)))

    def on_epoch_begin(self):
        self.dataset.on_epoch_begin()

    def on_epoch_end(self):
        self.dataset.on_epoch_end()


def is_array_data(x):
    """Whether ``x`` goes to the array adapter (not a generator, iterator or PyDataset)."""
    return not (isinstance(x, (PyDataset, DataAdapter, types.GeneratorType)) or is_batch_iterable(x)
                or (hasattr(x, "__next__") and not _is_array_like(x)))


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None, shuffle=False,
                     class_weight=None, standardize=None):
    """The adapter for ``x`` (arrays, a generator/iterator or a PyDataset), with Keras' checks.

    ``standardize(batch)`` maps each generator/PyDataset batch onto the model's inputs and outputs
    (dicts keyed by name to lists); arrays are expected standardized already."""
    if isinstance(x, DataAdapter):
        return x
    if isinstance(x, PyDataset):
        if y is not None:
            _raise_unsupported("y", "the targets", "PyDataset")
        if sample_weight is not None:
            _raise_unsupported("sample_weights", "the sample weights", "PyDataset")
        if shuffle and x.num_batches is None:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as an "
                          "infinite PyDataset. The PyDataset is expected to already be shuffled.", stacklevel=3)
        return PyDatasetAdapter(x, class_weight=class_weight, shuffle=shuffle, standardize=standardize)
    if is_batch_iterable(x):
        for arg, what, value in (("y", "the targets", y), ("sample_weights", "the sample weights", sample_weight)):
            if value is not None:
                _raise_unsupported(arg, what, type(x).__name__)
        return BatchIterableAdapter(x, class_weight=class_weight, standardize=standardize)
    if isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and not _is_array_like(x)):
        if y is not None:
            _raise_unsupported("y", "the targets", "generator")
        if sample_weight is not None:
            _raise_unsupported("sample_weights", "the sample weights", "generator")
        if class_weight is not None:
            raise ValueError("Argument `class_weight` is not supported for Python generator inputs. "
                             f"Received: class_weight={class_weight}")
        if shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
                          "generator. The generator is expected to yield already-shuffled data.", stacklevel=3)
        return GeneratorDataAdapter(x, standardize=standardize)
    if x is None:
        raise ValueError("No data: pass `x` (arrays, a generator or a keras.utils.PyDataset)")
    bad = [] if isinstance(x, (np.ndarray, Tensor)) and y is None and sample_weight is None else [
        type(v).__name__ for v in flatten((x, y, sample_weight))
        if not (_is_array_like(v) or isinstance(v, (list, int, float, bool)))]
    if bad:
        raise ValueError(f"Unrecognized data type: x={str(x)[:80]} (of type {type(x).__name__}); unsupported "
                         f"leaves: {bad}")
    return ArrayDataAdapter(x, y, sample_weight=sample_weight, batch_size=batch_size, steps=steps_per_epoch,
                            shuffle=shuffle, class_weight=class_weight)
