"""CIFAR-10 small images: ``load_data()`` -> ((x_train, y_train), (x_test, y_test)), uint8.

Reads ``cifar-10-python.tar.gz`` from ``$FERROGRAD_DATA/cifar10/`` or the cache folder (downloads it
there when missing), checks its SHA-256, and parses the pickled batches with a restricted
unpickler, straight from the archive (nothing is extracted).
"""
import numpy as np

from .. import config
from . import _archive, _idx

_FILE = "cifar-10-python.tar.gz"
_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]


def load_batch(data, label_key="labels"):
    """``(images (N, 3, 32, 32) uint8, labels)`` of one pickled CIFAR batch."""
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in _archive.load_pickle(data).items()}
    images = np.asarray(d["data"], dtype=np.uint8)
    if images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        raise ValueError(f"a CIFAR batch holds (N, 3072) uint8 rows; got shape {images.shape}")
    labels = np.asarray(d[label_key])
    if len(labels) != len(images):
        raise ValueError("a CIFAR batch has different numbers of images and labels")
    return images.reshape(len(images), 3, 32, 32), labels


def _finish(x_train, y_train, x_test, y_test):
    y_train = np.reshape(y_train, (len(y_train), 1)).astype(np.uint8)
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(np.uint8)
    if config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)


def load_data():
    """50,000 training and 10,000 test images, (N, 32, 32, 3) uint8 (channels_first when
    ``keras.config.image_data_format()`` says so), labels (N, 1) uint8 in [0, 10)."""
    path = _idx.locate("cifar10", _FILE, _SHA256, _MIRRORS)
    names = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)] + ["cifar-10-batches-py/test_batch"]
    members = _archive.tar_members(path, names)
    train = [load_batch(members[n]) for n in names[:5]]
    x_test, y_test = load_batch(members[names[5]])
    return _finish(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test)
