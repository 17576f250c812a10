"""Datasets with Keras' loaders and return values."""
from . import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100", "boston_housing", "imdb", "reuters"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")


def __dir__():
    # the public names only: the implementation modules stay internal
    return sorted(__all__)
