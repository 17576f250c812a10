"""``keras.utils.image_dataset_from_directory`` without TensorFlow.

Files are indexed, labelled, shuffled and split exactly as ``text_dataset_from_directory`` does
(Keras' ``index_directory``). Each batch is decoded when it is read: Pillow (needed only here, as for
``keras.utils.load_img``) decodes BMP, GIF (first frame), JPEG and PNG into the requested channels,
and the resize runs on the Rust core with ``tf.image.resize``'s arithmetic (half-pixel centres,
no antialiasing), so PNG inputs give Keras-on-TensorFlow's values. ``crop_to_aspect_ratio`` crops
the centred box Keras' ``smart_resize`` takes, ``pad_to_aspect_ratio`` resizes within the target
and pads with zeros as ``tf.image.resize_with_pad``. "nearest" and "bilinear" interpolation are
supported; the others Keras lists raise ``NotImplementedError``.
"""
from __future__ import annotations

import numpy as np

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                         "mitchellcubic")


def _decode(path, channels):
    from .utils import _require_pil

    image = _require_pil("image_dataset_from_directory")
    with image.open(path) as img:
        img.seek(0)  # the first frame of an animation
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
        if img.mode != mode:
            img = img.convert(mode)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def _load(path, image_size, channels, interpolation, crop, pad):
    from . import ops
    from .layers.preprocessing import _resize, _resize_axis

    th, tw = image_size
    x = ops.convert_to_tensor(_decode(path, channels).astype(np.float32))
    if pad:
        # tf.image.resize_with_pad: fit inside the target keeping the aspect ratio (float32 math),
        # then centre with zeros
        f32 = np.float32
        h, w = x.shape[0], x.shape[1]
        ratio = max(f32(w) / f32(tw), f32(h) / f32(th))
        fh, fw = f32(h) / ratio, f32(w) / ratio
        rh, rw = int(np.floor(fh)), int(np.floor(fw))
        x = _resize_axis(_resize_axis(x, 0, rh, interpolation), 1, rw, interpolation)
        # the offsets come from the unrounded sizes, as TensorFlow computes them
        top, left = max(0, int(np.floor((f32(th) - fh) / 2))), max(0, int(np.floor((f32(tw) - fw) / 2)))
        return ops.pad(x, [(top, th - rh - top), (left, tw - rw - left), (0, 0)])
    return _resize(x, th, tw, interpolation, crop, "channels_last")


def _image_dataset_class():
    from ._dataset_ops import DirectoryDataset

    class ImageDataset(DirectoryDataset):
        """Batches of ``(images, labels)`` (or images alone) decoded from files when read
        (``image_dataset_from_directory``)."""

        def __init__(self, paths, labels, label_mode, num_classes, batch_size, load, data_format, class_names):
            super().__init__(paths, labels, label_mode, num_classes, batch_size, class_names)
            self._loader, self.data_format = load, data_format

        def _load(self, paths):
            images = np.stack([np.asarray(self._loader(p).numpy(), dtype=np.float32) for p in paths])
            if self.data_format == "channels_first":
                images = images.transpose(0, 3, 1, 2)
            return np.ascontiguousarray(images)

    return ImageDataset


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format="tf", verbose=True):
    """Batches of ``(images, labels)`` from image files in class subfolders (Keras' arguments and
    return values; a ``Dataset`` of float32 NumPy batches with ``class_names`` and ``file_paths``
    instead of a ``tf.data.Dataset``). See the module notes for decoding and resizing."""
    from ._data_utils import _check_directory_args, _index_directory, _split
    from .layers.conv import standardize_data_format

    labels, label_mode = _check_directory_args("image", labels, label_mode, class_names, validation_split, subset,
                                               shuffle, seed)
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    image_size = tuple(int(v) for v in image_size)
    interpolation = str(interpolation).lower()
    if interpolation not in _KERAS_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_KERAS_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if interpolation not in ("bilinear", "nearest"):
        raise NotImplementedError(f"image_dataset_from_directory: interpolation={interpolation!r} is not available in "
                                  "ferrograd yet ('bilinear' and 'nearest' are)")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    data_format = standardize_data_format(data_format)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_list, names = _index_directory(directory, labels, ALLOWLIST_FORMATS, class_names, shuffle, seed,
                                                follow_links, verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={names}")
    if not paths:
        raise ValueError(f"No images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
    cls = _image_dataset_class()

    def load(path):
        return _load(path, image_size, channels, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)

    def make(sub):
        p, lab = _split(np.asarray(paths, dtype=object), label_list, validation_split, sub, verbose)
        return cls(list(p), lab, label_mode, len(names or []), batch_size, load, data_format, names)

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)
