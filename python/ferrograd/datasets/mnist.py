"""MNIST handwritten digits: ``load_data()`` -> ((x_train, y_train), (x_test, y_test)), uint8."""
from . import _idx

_FILES = [
    ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
]
_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"]


def load_data(path="mnist"):
    """60,000 training and 10,000 test images (28x28 uint8) with their labels (uint8)."""
    return _idx.load(path, _FILES, _MIRRORS)
