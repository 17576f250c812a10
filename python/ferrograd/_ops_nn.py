"""``keras.ops.nn``: the neural-network ops under their Keras names (the same functions as in
:mod:`ferrograd.ops`; this module only groups them, as Keras does)."""
from __future__ import annotations

import sys as _sys

from . import ops as _ops

__all__ = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "leaky_relu", "elu", "selu",
           "gelu", "softmax", "log_softmax", "conv", "depthwise_conv", "conv_transpose", "max_pool", "average_pool",
           "one_hot", "moments", "normalize", "layer_normalization", "rms_normalization", "dot_product_attention"]

relu = _ops.relu
relu6 = _ops.relu6
sigmoid = _ops.sigmoid
softplus = _ops.softplus
softsign = _ops.softsign
silu = _ops.silu
swish = _ops.swish
leaky_relu = _ops.leaky_relu
elu = _ops.elu
selu = _ops.selu
gelu = _ops.gelu
softmax = _ops.softmax
log_softmax = _ops.log_softmax
conv = _ops.conv
depthwise_conv = _ops.depthwise_conv
conv_transpose = _ops.conv_transpose
max_pool = _ops.max_pool
average_pool = _ops.average_pool
one_hot = _ops.one_hot
moments = _ops.moments
normalize = _ops.normalize
layer_normalization = _ops.layer_normalization
rms_normalization = _ops.rms_normalization
dot_product_attention = _ops.dot_product_attention

# `import ferrograd.ops.nn` (ops is a module, not a package): register under that name too.
_sys.modules.setdefault(__name__.replace("_ops_nn", "ops.nn"), _sys.modules[__name__])


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.ops.nn.{name} is not available in ferrograd yet")
