"""``keras.applications.imagenet_utils``: input checks, ImageNet preprocessing and label decoding
shared by the application models."""
from __future__ import annotations

import json
import warnings

import numpy as np

CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
_CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX = None

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _data_format(data_format):
    from .. import config

    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(f"Unknown data_format {data_format}")
    return data_format


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (or one image) the way the ImageNet weights expect.

    ``mode``: ``"caffe"`` flips RGB to BGR and subtracts the ImageNet channel means (no scaling);
    ``"tf"`` scales pixels to [-1, 1]; ``"torch"`` scales to [0, 1] and normalizes each channel
    with the ImageNet mean and standard deviation. ``x`` is a NumPy array (integer arrays become
    float32) or a tensor; a NumPy input is never modified in place (Keras' NumPy path writes into
    float inputs; ferrograd returns a new array).
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    data_format = _data_format(data_format)
    if isinstance(x, np.ndarray):
        x = x.astype(np.float32) if not np.issubdtype(x.dtype, np.floating) else x.copy()
        return _preprocess(np, x, data_format, mode)
    from .. import ops

    x = ops.convert_to_tensor(x)
    if not str(x.dtype).startswith(("float", "bfloat")):
        x = ops.cast(x, "float32")
    return _preprocess(ops, x, data_format, mode)


def _preprocess(xp, x, data_format, mode):
    """The arithmetic of :func:`preprocess_input` with ``xp`` = NumPy or ``ferrograd.ops``."""
    if mode == "tf":
        return x / 127.5 - 1.0
    ndim = len(x.shape)
    axis = (0 if ndim == 3 else 1) if data_format == "channels_first" else ndim - 1
    if ndim < 1 or x.shape[axis] != 3:
        raise ValueError(f"preprocess_input expects 3 color channels on axis {axis} ({data_format}); "
                         f"received an input of shape {tuple(x.shape)}")
    shape = [1] * ndim
    shape[axis] = 3
    dtype = np.float64 if str(x.dtype) == "float64" else np.float32

    def const(values):
        v = np.asarray(values, dtype=dtype).reshape(shape)
        return v if xp is np else xp.convert_to_tensor(v, dtype=str(x.dtype))

    if mode == "torch":
        return (x / 255.0 - const(_TORCH_MEAN)) / const(_TORCH_STD)
    return xp.flip(x, axis=axis) - const(_CAFFE_MEAN)


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each row of ``preds`` (shape (samples, 1000)) as lists of
    ``(class_name, class_description, score)``, best first. The class index is fetched once with
    ``keras.utils.get_file`` (cached; offline it must already be in the cache)."""
    global _CLASS_INDEX
    preds = np.asarray(preds.numpy() if hasattr(preds, "numpy") else preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Received array with shape: {preds.shape}")
    if _CLASS_INDEX is None:
        from ..utils import get_file

        path = get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                        file_hash=_CLASS_INDEX_HASH)
        with open(path) as f:
            _CLASS_INDEX = json.load(f)
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[-top:][::-1] if top > 0 else []
        row = [tuple(_CLASS_INDEX[str(int(i))]) + (pred[i],) for i in best]
        row.sort(key=lambda r: r[2], reverse=True)
        results.append(row)
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """The input shape (without the batch axis) an application model is built for, validated
    against its minimum size and, with ImageNet weights, the shape they were trained on."""
    if input_shape is not None:
        input_shape = tuple(input_shape)
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an "
                          f"input_shape with {channels} input channels.", stacklevel=3)
        default_shape = (channels, default_size, default_size) if first else (default_size, default_size, channels)
    else:
        default_shape = (3, default_size, default_size) if first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             f"should be {default_shape}.  Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels, spatial = (input_shape[0], input_shape[1:]) if first else (input_shape[-1], input_shape[:2])
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. Received: "
                         f"input_shape={input_shape}")
    return input_shape


def validate_activation(classifier_activation, weights):
    """Pretrained classifiers allow only ``softmax`` or no activation on their top layer."""
    if weights is None:
        return
    from .. import activations

    act = activations.get(classifier_activation)
    if act not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` "
                         "argument when using pretrained weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")


def check_weights_argument(weights, include_top, classes):
    """Keras' checks of ``weights`` and ``classes`` at the top of every application constructor."""
    import os

    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
                         f"weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         f"Received classes={classes}")


def begin(weights, include_top, classes, classifier_activation, input_tensor, input_shape, pooling,
          default_size=224, min_size=32):
    """The checks every application constructor starts with, then its symbolic input."""
    from .. import config

    if pooling not in (None, "avg", "max"):
        # Keras ignores other values silently; ferrograd names the argument instead
        raise ValueError(f"`pooling` must be None, 'avg' or 'max' (used when include_top=False). Received: "
                         f"pooling={pooling!r}")
    check_weights_argument(weights, include_top, classes)
    if include_top:
        validate_activation(classifier_activation, weights)
    input_shape = obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                     data_format=config.image_data_format(), require_flatten=include_top,
                                     weights=weights)
    return model_input(input_tensor, input_shape)


def finish(outputs, img_input, input_tensor, name, weights, file_name, origin, file_hash):
    """The functional model of an application, with its pretrained or given weights loaded."""
    from ..models import Model

    model = Model(model_inputs(input_tensor, img_input), outputs, name=name)
    return load_pretrained(model, weights, file_name, origin, file_hash)


def constructor(public_name, build, default_name, doc):
    """A Keras application constructor (Keras' signature and defaults) calling ``build`` with its
    arguments in order, ``name`` last."""
    def make(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name=default_name):
        return build(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)

    make.__name__ = make.__qualname__ = public_name
    make.__doc__ = doc
    return make


def model_input(input_tensor, input_shape):
    """The symbolic input an application is built on: a new ``Input``, or ``input_tensor`` when it
    is already a symbolic tensor (a plain array cannot seed a functional graph in ferrograd)."""
    from ..layers import Input
    from ..utils import is_keras_tensor

    if input_tensor is None:
        return Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        raise ValueError("input_tensor must be a symbolic tensor (the output of `keras.Input` or of a layer "
                         f"called on one); received {type(input_tensor).__name__}")
    return input_tensor


def model_inputs(input_tensor, img_input):
    """The inputs of the finished functional model: the graph sources of ``input_tensor`` when
    one was given."""
    if input_tensor is None:
        return img_input
    from ..utils import get_source_inputs

    sources = get_source_inputs(input_tensor)
    return sources[0] if len(sources) == 1 else sources


def load_pretrained(model, weights, file_name, origin, file_hash):
    """Loads ImageNet weights (``weights == "imagenet"``: Keras' published legacy ``.h5`` file,
    fetched through ``get_file`` into the ``models`` cache) or a weights file path into ``model``."""
    if weights == "imagenet":
        path = fetch_weights(file_name, origin, file_hash)
        model.load_weights(path)
    elif weights is not None:
        model.load_weights(weights)
    return model


def fetch_weights(file_name, origin, file_hash):
    """The local path of a pretrained weights file (downloaded once into the ``models`` cache).
    Kept as its own function so the compatibility runner can serve it offline."""
    from ..utils import get_file

    return get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
