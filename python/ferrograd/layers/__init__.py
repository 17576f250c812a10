"""Layers (``keras.layers`` names and arguments)."""
from .core import Activation, Dense, Dropout, Flatten, Reshape
from .layer import Layer

__all__ = ["Layer", "Dense", "Activation", "Dropout", "Flatten", "Reshape"]
