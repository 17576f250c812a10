"""Boston housing prices: ``load_data(path, test_split=0.2, seed=113)`` as Keras.

Reads ``boston_housing.npz`` from ``$FERROGRAD_DATA/boston_housing/`` or the cache folder (downloads
it there when missing), checks its SHA-256, shuffles with NumPy's ``RandomState(seed)`` and splits,
so the split is the one Keras gives.
"""
import numpy as np

from . import _archive, _idx

_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
_MIRRORS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/"]


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """((x_train (N, 13) float64, y_train (N,)), (x_test, y_test)); 404 / 102 samples by default."""
    if not (0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 (exclusive of 1).")
    f = _archive.load_npz(_idx.locate("boston_housing", path, _SHA256, _MIRRORS))
    x, y = f["x"], f["y"]
    if len(x) != len(y):
        raise ValueError(f"{path}: x and y disagree in length")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
