"""Global settings (``keras.config`` names and behaviour).

The state lives here; ``keras.backend.floatx()``/``epsilon()``/``image_data_format()`` read it, and
every layer resolves ``data_format=None`` through :func:`image_data_format` when it is constructed
(as Keras does), so ``set_image_data_format("channels_first")`` makes new layers channels_first.

ferrograd computes in float32 only: :func:`set_floatx` and :func:`set_dtype_policy` accept
``"float32"`` and refuse anything else with an error that says so (Keras would switch the default
dtype). The flash-attention, traceback-filtering and unsafe-deserialization switches keep Keras'
flags and return values; their effect is noted on each function.
"""
from __future__ import annotations

__all__ = [
    "backend", "set_backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
    "set_image_data_format", "dtype_policy", "set_dtype_policy", "enable_unsafe_deserialization",
    "is_interactive_logging_enabled", "enable_interactive_logging", "disable_interactive_logging",
    "is_traceback_filtering_enabled", "enable_traceback_filtering", "disable_traceback_filtering",
    "is_flash_attention_enabled", "enable_flash_attention", "disable_flash_attention", "is_nnx_enabled",
    "max_epochs", "set_max_epochs", "max_steps_per_epoch", "set_max_steps_per_epoch",
]

_STATE = {
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "interactive_logging": True,
    "traceback_filtering": True,
    "flash_attention": None,
    "unsafe_deserialization": False,
}
_SUPPORTED_FLOATX = ("float32",)


def backend():
    """The name of the engine: ``"ferrograd"`` (Keras returns "tensorflow", "jax", "torch"...)."""
    return "ferrograd"


def set_backend(backend):
    """Only ``"ferrograd"`` is available: ferrograd has no other backend to switch to."""
    if backend != "ferrograd":
        raise ValueError(f"ferrograd runs on its own Rust engine only; set_backend accepts 'ferrograd'. "
                         f"Received: backend={backend!r}")


def floatx():
    """The default float dtype: ``"float32"``."""
    return "float32"


def set_floatx(value):
    """Sets the default float dtype. ferrograd computes in float32 only, so any other value is
    refused (Keras accepts "float16", "bfloat16" and "float64")."""
    accepted = {"bfloat16", "float16", "float32", "float64"}
    value = str(value)
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    if value not in _SUPPORTED_FLOATX:
        raise ValueError(f"ferrograd computes in float32 only; set_floatx({value!r}) is not supported. "
                         "Received: value=" + repr(value))


def epsilon():
    """The fuzz factor added to denominators (default ``1e-7``)."""
    return _STATE["epsilon"]


def set_epsilon(value):
    """Sets the fuzz factor :func:`epsilon` returns."""
    _STATE["epsilon"] = float(value)


def image_data_format():
    """The default image layout: ``"channels_last"`` unless :func:`set_image_data_format` changed it."""
    return _STATE["image_data_format"]


def set_image_data_format(data_format):
    """Sets the layout that layers constructed afterwards with ``data_format=None`` use."""
    df = str(data_format).lower()
    if df not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format}")
    _STATE["image_data_format"] = df


class DTypePolicy:
    """The (only) dtype policy of ferrograd: float32 compute and variables."""

    def __init__(self, name="float32"):
        if name != "float32":
            raise ValueError(f"ferrograd computes in float32 only; the dtype policy {name!r} is not supported "
                             "(mixed precision and quantized policies are not implemented)")
        self.name = name
        self.compute_dtype = "float32"
        self.variable_dtype = "float32"

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'

    def get_config(self):
        return {"name": self.name}


def dtype_policy():
    """The global dtype policy (always float32 in ferrograd)."""
    return DTypePolicy("float32")


def set_dtype_policy(policy):
    """Accepts ``"float32"`` (or a float32 policy); any other policy raises ValueError."""
    name = policy if isinstance(policy, str) else getattr(policy, "name", policy)
    DTypePolicy(name)


def enable_unsafe_deserialization():
    """Keras' switch to let ``load_model`` run Python code stored in a file (lambdas). ferrograd's
    loader never executes code from a file, so this only records the flag."""
    _STATE["unsafe_deserialization"] = True


def is_interactive_logging_enabled():
    """Whether progress output goes to stdout (True by default)."""
    return _STATE["interactive_logging"]


def enable_interactive_logging():
    """Progress output (``keras.utils.Progbar``) goes to stdout."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Progress output (``keras.utils.Progbar``) goes to the ``logging`` module instead of stdout."""
    _STATE["interactive_logging"] = False


def is_traceback_filtering_enabled():
    """Keras' traceback-filtering flag (ferrograd does not rewrite tracebacks)."""
    return _STATE["traceback_filtering"]


def enable_traceback_filtering():
    """Sets Keras' traceback-filtering flag (ferrograd's tracebacks are never filtered)."""
    _STATE["traceback_filtering"] = True


def disable_traceback_filtering():
    """Clears Keras' traceback-filtering flag."""
    _STATE["traceback_filtering"] = False


def is_flash_attention_enabled():
    """Keras' flash-attention flag: None (automatic) by default. ferrograd's attention kernel is
    always the fused, tiled (flash) one, whatever the flag."""
    return _STATE["flash_attention"]


def enable_flash_attention():
    """Sets the flag to True (ferrograd always runs its fused attention kernel)."""
    _STATE["flash_attention"] = True


def disable_flash_attention():
    """Sets the flag to False (the math is the same; ferrograd has one attention kernel)."""
    _STATE["flash_attention"] = False


def is_nnx_enabled():
    """Flax NNX integration (JAX backend only): always False."""
    return False


def max_epochs():
    """Keras' cap on the epochs of ``fit``: None (ferrograd does not support a cap)."""
    return None


def set_max_epochs(max_epochs):
    """Only None is accepted: ferrograd's ``fit`` has no global epoch cap."""
    if max_epochs is not None:
        raise NotImplementedError(f"keras.config.set_max_epochs is not available in ferrograd yet (fit does not "
                                  f"read a global cap). Received: max_epochs={max_epochs!r}")


def max_steps_per_epoch():
    """Keras' cap on the steps of each epoch: None (ferrograd does not support a cap)."""
    return None


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Only None is accepted: ferrograd's ``fit`` has no global steps cap."""
    if max_steps_per_epoch is not None:
        raise NotImplementedError("keras.config.set_max_steps_per_epoch is not available in ferrograd yet (fit "
                                  f"does not read a global cap). Received: max_steps_per_epoch={max_steps_per_epoch!r}")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.config.{name} is not available in ferrograd yet")
