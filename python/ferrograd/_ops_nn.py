"""``keras.ops.nn``: the neural-network ops under their Keras names (the same functions as in
:mod:`ferrograd.ops`; this module only groups them, as Keras does)."""
from __future__ import annotations

import sys as _sys

__all__ = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "leaky_relu", "elu", "selu",
           "gelu", "softmax", "log_softmax", "conv", "depthwise_conv", "conv_transpose", "max_pool", "average_pool",
           "one_hot", "moments", "normalize", "layer_normalization", "rms_normalization", "dot_product_attention",
           "celu", "glu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "soft_shrink",
           "hard_shrink", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "threshold",
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "multi_hot",
           "depth_to_space", "space_to_depth", "psnr", "batch_normalization", "separable_conv",
           "adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss", "fold", "unfold"]

from .ops import (  # noqa: E402 - the names themselves; this module only groups them
    adaptive_average_pool,
    adaptive_max_pool,
    average_pool,
    batch_normalization,
    binary_crossentropy,
    categorical_crossentropy,
    celu,
    conv,
    conv_transpose,
    ctc_decode,
    ctc_loss,
    depth_to_space,
    depthwise_conv,
    dot_product_attention,
    elu,
    fold,
    gelu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    layer_normalization,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    max_pool,
    moments,
    multi_hot,
    normalize,
    one_hot,
    psnr,
    relu,
    relu6,
    rms_normalization,
    selu,
    separable_conv,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    space_to_depth,
    sparse_categorical_crossentropy,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    swish,
    tanh_shrink,
    threshold,
    unfold,
)

# `import ferrograd.ops.nn` (ops is a module, not a package): register under that name too.
_sys.modules.setdefault(__name__.replace("_ops_nn", "ops.nn"), _sys.modules[__name__])


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"keras.ops.nn.{name} is not available in ferrograd yet")
