"""CIFAR-100 small images: ``load_data(label_mode="fine")`` -> ((x_train, y_train), (x_test, y_test)).

Reads ``cifar-100-python.tar.gz`` from ``$FERROGRAD_DATA/cifar100/`` or the cache folder (downloads
it there when missing), checks its SHA-256 and parses it as cifar10 does.
"""
import numpy as np

from . import _archive, _idx
from .cifar10 import _finish, load_batch

_FILE = "cifar-100-python.tar.gz"
_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
_MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]


def load_data(label_mode="fine"):
    """50,000 training and 10,000 test images, (N, 32, 32, 3) uint8, labels (N, 1) uint8: 100
    "fine" classes or 20 "coarse" superclasses."""
    if label_mode not in ["fine", "coarse"]:
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    path = _idx.locate("cifar100", _FILE, _SHA256, _MIRRORS)
    members = _archive.tar_members(path, ["cifar-100-python/train", "cifar-100-python/test"])
    x_train, y_train = load_batch(members["cifar-100-python/train"], label_key=f"{label_mode}_labels")
    x_test, y_test = load_batch(members["cifar-100-python/test"], label_key=f"{label_mode}_labels")
    return _finish(x_train, np.asarray(y_train), x_test, np.asarray(y_test))
