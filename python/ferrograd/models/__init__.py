"""Models: Sequential and the Model base class (training API)."""
from .functional import KerasTensor
from .model import Model
from .sequential import Input, Sequential

__all__ = ["Model", "Sequential", "Input", "KerasTensor"]
