"""ferrograd: Keras 3 on a Rust engine."""
import os as _os

from . import _core
from . import tokenizers

__version__ = _core.__version__

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads

if hasattr(_os, "register_at_fork"):
    # The parent's worker threads do not exist in a forked child: rebuild the pool on first use.
    _os.register_at_fork(after_in_child=_core._after_fork_child)

__all__ = ["__version__", "set_num_threads", "get_num_threads", "tokenizers"]
