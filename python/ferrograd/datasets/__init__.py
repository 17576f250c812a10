"""Datasets with Keras' loaders and return values."""
from . import fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist"]
