"""Models: Sequential and the Model base class (training API)."""
from .model import Model
from .sequential import Input, KerasTensor, Sequential

__all__ = ["Model", "Sequential", "Input", "KerasTensor"]
