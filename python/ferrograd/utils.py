"""Utilities (``keras.utils``)."""
from __future__ import annotations

import itertools
import random as _py_random
import warnings

import numpy as np

from . import config as _config
from ._audio_dataset import audio_dataset_from_directory
from ._config_object import Config
from ._data_utils import get_file, split_dataset, text_dataset_from_directory, timeseries_dataset_from_array
from ._image_dataset import image_dataset_from_directory
from ._keras_objects import deserialize_keras_object, serialize_keras_object
from ._model_plot import model_to_dot, plot_model
from ._progbar import Progbar

__all__ = ["to_categorical", "pad_sequences", "set_random_seed", "PyDataset", "Sequence",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "normalize", "get_file", "split_dataset",
           "timeseries_dataset_from_array", "Progbar", "plot_model", "model_to_dot", "is_keras_tensor",
           "clear_session", "register_keras_serializable", "get_registered_object", "standardize_dtype",
           "is_interactive_logging_enabled", "enable_interactive_logging", "disable_interactive_logging",
           "img_to_array", "array_to_img", "load_img", "save_img", "get_custom_objects", "custom_object_scope",
           "get_registered_name", "serialize_keras_object", "deserialize_keras_object",
           "text_dataset_from_directory", "image_dataset_from_directory", "audio_dataset_from_directory", "Config",
           "get_source_inputs",
           "CustomObjectScope"]  # noqa: F822 - CustomObjectScope: see __getattr__

is_interactive_logging_enabled = _config.is_interactive_logging_enabled
enable_interactive_logging = _config.enable_interactive_logging
disable_interactive_logging = _config.disable_interactive_logging


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


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1), computed by the
    engine's ops; a NumPy array in gives a NumPy array out, a tensor a tensor (as Keras)."""
    from . import ops
    from ._core import Tensor

    is_numpy = not isinstance(x, Tensor)
    t = ops.convert_to_tensor(np.asarray(x, dtype=np.float32) if is_numpy else x)
    if order == 2:
        norm = ops.sqrt(ops.sum(ops.square(t), axis=axis, keepdims=True))
    elif order == 1:
        norm = ops.sum(ops.abs(t), axis=axis, keepdims=True)
    elif isinstance(order, (int, float)) and order > 0:
        norm = ops.power(ops.sum(ops.power(ops.abs(t), float(order)), axis=axis, keepdims=True), 1.0 / order)
    else:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    norm = ops.where(ops.equal(norm, 0.0), 1.0, norm)
    out = ops.divide(t, norm)
    return out.numpy() if is_numpy else out


def get_source_inputs(tensor):
    """The ``Input`` tensors that the symbolic ``tensor`` was computed from (itself when it is one
    or has no history), each once, in the order the graph reaches them."""
    node = getattr(tensor, "_node", None)
    if node is None or node.is_input:
        return [tensor]
    out = []
    for t in node.input_tensors:
        for source in get_source_inputs(t):
            if all(source is not o for o in out):
                out.append(source)
    return out


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic ``KerasTensor`` (an ``Input`` or a layer output on one)."""
    from .symbolic import is_keras_tensor as _is

    return _is(x)


def clear_session(free_memory=True):
    """``keras.backend.clear_session``: resets the automatic layer names and frees cached buffers."""
    from .backend import clear_session as _clear

    _clear(free_memory)


def register_keras_serializable(package="Custom", name=None):
    """Registers a class so that saved models referring to it load (``keras.saving``'s decorator)."""
    from .saving import register_keras_serializable as _register

    return _register(package=package, name=name)


def get_custom_objects():
    """``keras.saving.get_custom_objects``."""
    from .saving import get_custom_objects as _get

    return _get()


def custom_object_scope(custom_objects):
    """``keras.saving.custom_object_scope``."""
    from .saving import CustomObjectScope as _Scope

    return _Scope(custom_objects)


def get_registered_name(obj):
    """``keras.saving.get_registered_name``."""
    from .saving import get_registered_name as _get

    return _get(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class registered (or passed in ``custom_objects``/``module_objects``) under ``name``."""
    from .saving import get_registered_object as _get

    if module_objects and name in module_objects:
        return module_objects[name]
    return _get(name, custom_objects)


_DTYPE_ALIASES = {"float": "float32", "int": "int64", "double": "float64", "bool": "bool"}


def standardize_dtype(dtype):
    """The canonical dtype name (``"float32"``...) of a name, NumPy dtype or Python type."""
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, type) and dtype in (float, int, bool):
        return {float: "float32", int: "int64", bool: "bool"}[dtype]
    name = _DTYPE_ALIASES.get(dtype, dtype) if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name is None:
        name = np.dtype(dtype).name
    try:
        return np.dtype(name).name if name != "bfloat16" else name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype}") from None


def img_to_array(img, data_format=None, dtype=None):
    """An image (a Pillow image or an array) as a float32 (H, W, C) array ((C, H, W) for
    channels_first); a 2D grayscale image gets a channel axis."""
    data_format = data_format or _config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    x = np.asarray(img, dtype=dtype or _config.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def _require_pil(what):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"Could not import PIL.Image. The use of `{what}` requires PIL "
                          "(pip install pillow).") from None
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A (H, W, C) array as a Pillow image (needs Pillow); ``scale`` maps its range to [0, 255]."""
    image = _require_pil("array_to_img")
    data_format = data_format or _config.image_data_format()
    x = np.asarray(x, dtype=dtype or _config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(x.shape[2])
    if mode is None:
        raise ValueError(f"Unsupported channel number: {x.shape[2]}")
    x = x.astype(np.uint8)
    return image.fromarray(x[:, :, 0] if mode == "L" else x, mode)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file as a Pillow image (needs Pillow)."""
    image = _require_pil("load_img")
    img = image.open(path)
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    if img.mode != modes[color_mode]:
        img = img.convert(modes[color_mode])
    if target_size is not None and img.size != (target_size[1], target_size[0]):
        if keep_aspect_ratio:
            raise NotImplementedError("load_img: keep_aspect_ratio=True is not implemented in ferrograd")
        methods = {"nearest": image.NEAREST, "bilinear": image.BILINEAR, "bicubic": image.BICUBIC}
        if interpolation not in methods:
            raise ValueError(f"Invalid interpolation method {interpolation} specified. Supported methods are "
                             f"{', '.join(methods)}")
        img = img.resize((target_size[1], target_size[0]), methods[interpolation])
    return img


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image array to a file (needs Pillow)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or file_format == "jpeg"):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def __getattr__(name):
    if name == "CustomObjectScope":  # keras.saving's class; imported late (saving imports the layers)
        from .saving import CustomObjectScope

        return CustomObjectScope
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
