"""``keras.backend``: session state and the few global settings Keras scripts read."""
from __future__ import annotations

from . import _core, config
from .layers.layer import get_keras_mask, reset_names, set_keras_mask
from .symbolic import is_keras_tensor

__all__ = ["clear_session", "floatx", "epsilon", "image_data_format", "is_keras_tensor", "get_keras_mask",
           "set_keras_mask", "backend", "set_floatx", "set_epsilon", "set_image_data_format"]


def clear_session(free_memory=True):
    """Resets the automatic layer names (the next Dense is ``dense`` again) and, with
    ``free_memory``, returns the caching allocator's buffers to the system. Models already built
    keep working; nothing else is global (graphs live on their tensors)."""
    reset_names()
    if free_memory:
        _core.empty_cache()


floatx = config.floatx
set_floatx = config.set_floatx
epsilon = config.epsilon
set_epsilon = config.set_epsilon
image_data_format = config.image_data_format
set_image_data_format = config.set_image_data_format
backend = config.backend


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.backend.{name} is not available in ferrograd yet")
