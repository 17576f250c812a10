"""``keras.backend``: session state and the few global settings Keras scripts read."""
from __future__ import annotations

from . import _core
from .layers.layer import get_keras_mask, reset_names, set_keras_mask
from .symbolic import is_keras_tensor

__all__ = ["clear_session", "floatx", "epsilon", "image_data_format", "is_keras_tensor", "get_keras_mask",
           "set_keras_mask", "backend"]


def clear_session(free_memory=True):
    """Resets the automatic layer names (the next Dense is ``dense`` again) and, with
    ``free_memory``, returns the caching allocator's buffers to the system. Models already built
    keep working; nothing else is global (graphs live on their tensors)."""
    reset_names()
    if free_memory:
        _core.empty_cache()


def floatx():
    """The default float dtype: ``"float32"``."""
    return "float32"


def epsilon():
    """The fuzz factor Keras adds to denominators: ``1e-7``."""
    return 1e-7


def image_data_format():
    """The default image layout: ``"channels_last"`` (NHWC)."""
    return "channels_last"


def backend():
    """The name of the engine: ``"ferrograd"``."""
    return "ferrograd"
