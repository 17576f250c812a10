"""Datasets with Keras' loaders and return values."""
from . import fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")


def __dir__():
    # the public names only: the implementation modules stay internal
    return sorted(__all__)
