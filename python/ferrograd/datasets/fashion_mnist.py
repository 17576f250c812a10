"""Fashion-MNIST: ``load_data()`` -> ((x_train, y_train), (x_test, y_test)), uint8."""
from . import _idx

_FILES = [
    ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
]
_MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]


def load_data():
    """60,000 training and 10,000 test images (28x28 uint8) of clothing, labels 0-9 (uint8)."""
    return _idx.load("fashion-mnist", _FILES, _MIRRORS)
