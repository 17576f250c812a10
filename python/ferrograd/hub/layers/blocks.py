"""Transformer building blocks keras_hub does not ship (ferrograd's own design, Keras
conventions): ``SwiGLU``, ``MixtureOfExperts``, ``ClassToken`` and ``PatchEmbedding``."""
from __future__ import annotations

import math

from ... import activations, initializers, ops
from ...layers import Conv2D, Dense, Layer
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor
from ._utils import clone_initializer, positive_int


@register_keras_serializable(package="ferrograd_hub")
class SwiGLU(Layer):
    """A gated feed-forward network (Shazeer 2020; LLaMA's MLP):
    ``out = (act(x W_gate) * (x W_up)) W_down`` with ``act`` SiLU (SwiGLU), GELU (GeGLU), ...

    Weights in order: ``gate_dense`` kernel (D, hidden_dim), ``up_dense`` kernel (D, hidden_dim),
    ``output_dense`` kernel (hidden_dim, output_dim), each followed by its bias when ``use_bias``.

    Example::

        y = hub.layers.SwiGLU(hidden_dim=256)(x)  # (B, T, D) -> (B, T, D)

    Args:
        hidden_dim: width of the gated hidden layer.
        output_dim: output features (None: the input's).
        activation: of the gate ("silu").
        use_bias: biases on the three projections (False, as LLaMA).
        dropout: dropout on the gated hidden activations (training only).
        kernel_initializer, bias_initializer: of the projections.
    """

    def __init__(self, hidden_dim, output_dim=None, activation="silu", use_bias=False, dropout=0.0,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.output_dim = None if output_dim is None else positive_int("output_dim", output_dim)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.dropout = dropout
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.supports_masking = True

    def _dense(self, units, name, shape):
        layer = Dense(units, use_bias=self.use_bias, kernel_initializer=clone_initializer(self.kernel_initializer),
                      bias_initializer=clone_initializer(self.bias_initializer), dtype=self.dtype, name=name)
        layer.build(shape)
        layer.built = True
        return layer

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        out = self.output_dim or input_shape[-1]
        self._gate_dense = self._dense(self.hidden_dim, "gate_dense", input_shape)
        self._up_dense = self._dense(self.hidden_dim, "up_dense", input_shape)
        self._output_dense = self._dense(out, "output_dense", input_shape[:-1] + (self.hidden_dim,))
        if self.dropout:
            from ...layers import Dropout

            self._dropout_layer = Dropout(self.dropout, dtype=self.dtype, name="dropout")
        self.built = True

    def call(self, inputs, training=None):
        h = self.activation(self._gate_dense(inputs)) * self._up_dense(inputs)  # (B, T, hidden)
        if self.dropout:
            h = self._dropout_layer(h, training=training)
        return self._output_dense(h)  # (B, T, out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim, "output_dim": self.output_dim,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "dropout": self.dropout, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


@register_keras_serializable(package="ferrograd_hub")
class MixtureOfExperts(Layer):
    """A mixture-of-experts feed-forward layer with top-k routing (Shazeer 2017, Switch/GShard).

    A router ``Dense(num_experts)`` scores each token; the ``top_k`` best experts get the token,
    weighted by their softmax probabilities renormalised over the chosen ones. Expert ``e`` is a
    two-layer MLP ``act(x W1[e] + b1[e]) W2[e] + b2[e]`` (W1 (E, D, expert_dim), W2 (E, expert_dim,
    D)). With ``capacity_factor`` each expert takes at most
    ``ceil(capacity_factor * tokens * top_k / num_experts)`` tokens per batch, in token order; the
    overflow of a token is dropped (the token keeps its other experts, or passes as zeros).

    Load balancing: the layer adds ``aux_loss_weight * E * sum_e f_e P_e`` with ``add_loss`` (so
    it joins ``model.losses`` and the training loss), where ``f_e`` is the fraction of routed
    (token, slot) pairs sent to expert ``e`` and ``P_e`` its mean router probability (Switch
    Transformer); padded tokens (the input's mask) are left out of both.

    Computation: every expert runs on every token as two batched einsums and the gates zero what
    a token did not choose, so the cost is ``num_experts`` times a dense MLP's (simple, exact and
    all in Rust kernels; a gather-by-expert dispatch is the way to scale ``num_experts`` up).

    Example::

        y = hub.layers.MixtureOfExperts(num_experts=4, expert_dim=128, top_k=2)(x)  # (B, T, D)

    Args:
        num_experts: E.
        expert_dim: hidden width of each expert.
        top_k: experts per token (2).
        capacity_factor: per-expert capacity multiplier (None: no capacity limit).
        activation: of the experts' hidden layer ("gelu").
        aux_loss_weight: weight of the load-balancing loss (0.01; 0 adds none).
        kernel_initializer, bias_initializer: of the experts and the router.
    """

    def __init__(self, num_experts, expert_dim, top_k=2, capacity_factor=None, activation="gelu",
                 aux_loss_weight=0.01, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.num_experts = positive_int("num_experts", num_experts)
        self.expert_dim = positive_int("expert_dim", expert_dim)
        self.top_k = positive_int("top_k", top_k)
        if top_k > num_experts:
            raise ValueError(f"`top_k` must be at most `num_experts`. Received: top_k={top_k}, "
                             f"num_experts={num_experts}")
        if capacity_factor is not None and not capacity_factor > 0:
            raise ValueError(f"`capacity_factor` must be positive or None. Received: capacity_factor="
                             f"{capacity_factor!r}")
        self.capacity_factor = capacity_factor
        self.activation = activations.get(activation)
        self.aux_loss_weight = aux_loss_weight
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        d = input_shape[-1]
        e, h = self.num_experts, self.expert_dim
        self._router = Dense(e, use_bias=False, kernel_initializer=clone_initializer(self.kernel_initializer),
                             dtype=self.dtype, name="router")
        self._router.build(tuple(input_shape))
        self._router.built = True
        # Glorot over one expert's (fan_in, fan_out): the initializer sees a (D, E*H) matrix.
        k1 = initializers.get(clone_initializer(self.kernel_initializer))
        k2 = initializers.get(clone_initializer(self.kernel_initializer))
        self.expert_kernel_1 = self.add_weight(shape=(e, d, h), name="expert_kernel_1",
                                               initializer=lambda s, dt: ops.transpose(
                                                   ops.reshape(k1((d, e * h), dt), (d, e, h)), (1, 0, 2)))
        self.expert_bias_1 = self.add_weight(shape=(e, h), name="expert_bias_1", initializer=self.bias_initializer)
        self.expert_kernel_2 = self.add_weight(shape=(e, h, d), name="expert_kernel_2",
                                               initializer=lambda s, dt: ops.transpose(
                                                   ops.reshape(k2((h, e * d), dt), (h, e, d)), (1, 0, 2)))
        self.expert_bias_2 = self.add_weight(shape=(e, d), name="expert_bias_2", initializer=self.bias_initializer)
        self.built = True

    def _gates(self, probs, mask):
        """(N, E) routing weights of N tokens: top-k of ``probs``, renormalised, capacity applied."""
        n, e = probs.shape
        _, top_idx = ops.top_k(probs, self.top_k)  # (N, k)
        chosen = ops.sum(ops.one_hot(top_idx, e), axis=1)  # (N, E) 0/1
        if mask is not None:
            chosen = chosen * ops.expand_dims(mask, -1)
        if self.capacity_factor is not None:
            capacity = math.ceil(self.capacity_factor * n * self.top_k / e)
            position = ops.cumsum(chosen, axis=0)  # (N, E): 1-based slot of each token in its expert
            chosen = chosen * ops.cast(ops.less_equal(position, float(capacity)), chosen.dtype)
        chosen = ops.stop_gradient(chosen)
        # softmax over the chosen experts = probs / sum(probs of the chosen)
        denom = ops.sum(probs * chosen, axis=-1, keepdims=True)  # (N, 1)
        return probs * chosen / ops.maximum(denom, 1e-9), chosen

    def call(self, inputs, mask=None):
        shape = tuple(inputs.shape)
        d = shape[-1]
        x = ops.reshape(inputs, (-1, d))  # (N, D)
        flat_mask = None if mask is None else ops.cast(ops.reshape(mask, (-1,)), inputs.dtype)  # (N,)
        probs = ops.softmax(self._router(x), axis=-1)  # (N, E)
        gates, chosen = self._gates(probs, flat_mask)  # (N, E)
        hidden = ops.einsum("nd,edh->neh", x, self.expert_kernel_1) + self.expert_bias_1  # (N, E, H)
        hidden = self.activation(hidden)
        expert_out = ops.einsum("neh,ehd->ned", hidden, self.expert_kernel_2) + self.expert_bias_2  # (N, E, D)
        out = ops.einsum("ne,ned->nd", gates, expert_out)  # (N, D)
        if self.aux_loss_weight:
            self.add_loss(self.aux_loss_weight * self._balance_loss(probs, chosen, flat_mask))
        return ops.reshape(out, shape)  # (B, T, D)

    def _balance_loss(self, probs, chosen, mask):
        e = self.num_experts
        if mask is not None:
            probs = probs * ops.expand_dims(mask, -1)
            tokens = ops.maximum(ops.sum(mask), 1.0)
        else:
            tokens = float(probs.shape[0])
        fraction = ops.sum(chosen, axis=0) / ops.maximum(ops.sum(chosen), 1.0)  # (E,) f_e
        mean_prob = ops.sum(probs, axis=0) / tokens  # (E,) P_e
        return e * ops.sum(fraction * mean_prob)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts, "expert_dim": self.expert_dim,
                "top_k": self.top_k, "capacity_factor": self.capacity_factor,
                "activation": activations.serialize(self.activation), "aux_loss_weight": self.aux_loss_weight,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


@register_keras_serializable(package="ferrograd_hub")
class ClassToken(Layer):
    """Prepends a learned class token (ViT's ``[CLS]``) to a sequence: (B, T, D) -> (B, T+1, D),
    ``out[:, 0] = cls_token``, ``out[:, 1:] = inputs``. A mask on the input gets ``True``
    prepended.

    Example::

        x = hub.layers.ClassToken()(patches)   # (B, 1 + P, D); x[:, 0] feeds the classifier

    Args:
        initializer: of the (1, 1, D) ``cls_token`` weight ("zeros").
    """

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        self.cls_token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer=self.initializer,
                                         name="cls_token")
        self.built = True

    def call(self, inputs):
        b = inputs.shape[0]
        cls = ops.broadcast_to(ops.cast(self.cls_token, inputs.dtype), (b, 1, inputs.shape[-1]))  # (B, 1, D)
        return ops.concatenate([cls, inputs], axis=1)  # (B, T+1, D)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        mask = ops.cast(mask, "bool")
        return ops.concatenate([ops.ones((mask.shape[0], 1), dtype="bool"), mask], axis=1)  # (B, T+1)

    def compute_output_shape(self, input_shape):
        t = input_shape[1]
        return (input_shape[0], None if t is None else t + 1) + tuple(input_shape[2:])

    def compute_output_spec(self, inputs):
        return KerasTensor(self.compute_output_shape(inputs.shape), self.dtype)

    def get_config(self):
        return {**super().get_config(), "initializer": initializers.serialize(self.initializer)}


@register_keras_serializable(package="ferrograd_hub")
class PatchEmbedding(Layer):
    """Cuts an image into non-overlapping ``patch_size`` patches and embeds each linearly (ViT):
    a Conv2D with kernel = stride = patch size, then the (H/p, W/p) grid flattened row-major into
    a sequence: (B, H, W, C) -> (B, (H/p)(W/p), embedding_dim).

    Weights: the ``conv`` kernel (p, p, C, embedding_dim) and bias (embedding_dim,).

    Example::

        x = hub.layers.PatchEmbedding(patch_size=4, embedding_dim=64)(images)  # (B, 64, 64) for 32x32

    Args:
        patch_size: an int or (ph, pw).
        embedding_dim: features per patch.
        use_bias: (True).
        kernel_initializer, bias_initializer: of the convolution.
    """

    def __init__(self, patch_size, embedding_dim, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        ps = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
        for p in ps:
            positive_int("patch_size", p)
        self.patch_size = patch_size if isinstance(patch_size, int) else ps
        self._ps = ps
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)

    def build(self, input_shape):
        self._conv = Conv2D(self.embedding_dim, self._ps, strides=self._ps, padding="valid", use_bias=self.use_bias,
                            kernel_initializer=clone_initializer(self.kernel_initializer),
                            bias_initializer=clone_initializer(self.bias_initializer), dtype=self.dtype, name="conv")
        self._conv.build(tuple(input_shape))
        self._conv.built = True
        self.built = True

    def call(self, inputs):
        grid = self._conv(inputs)  # (B, H/p, W/p, D)
        return ops.reshape(grid, (grid.shape[0], grid.shape[1] * grid.shape[2], self.embedding_dim))  # (B, P, D)

    def compute_output_shape(self, input_shape):
        h, w = input_shape[1], input_shape[2]
        n = None if h is None or w is None else (h // self._ps[0]) * (w // self._ps[1])
        return (input_shape[0], n, self.embedding_dim)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "embedding_dim": self.embedding_dim,
                "use_bias": self.use_bias, "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}
