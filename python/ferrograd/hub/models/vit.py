"""The Vision Transformer (Dosovitskiy et al. 2021) as keras_hub 0.32 builds it: ``ViTBackbone`` and
``ViTImageClassifier``.

Backbone: the image (B, H, W, C) is cut into (H/ph)(W/pw) patches, each embedded linearly (a
Conv2D with kernel = stride = patch); a learned class token is prepended (``use_class_token``)
and a learned position table added: (B, P[+1], D). Dropout, ``num_layers`` pre-norm encoder
blocks (``x += MHA(LN1 x)``; ``x += W2 gelu(W1 LN2 x)``, exact erf GELU, LayerNorm epsilon
``layer_norm_epsilon``), a final LayerNorm. The classifier pools the class token ("token") or the
mean over positions ("gap"), optionally through ``Dense(intermediate_dim, tanh)``, then dropout
and ``Dense(num_classes, activation)``.

Weights, names and their order follow keras_hub (``set_weights`` takes a keras_hub ViT's
``get_weights()``): class token (1, 1, D), patch kernel (ph, pw, C, D) [and bias], position
table (P[+1], D); per block ln_1, mha q/k/v/output kernels [and biases], ln_2, mlp dense_1
[bias], dense_2 [bias]; the final ln.
"""
from __future__ import annotations

import numpy as np

from ... import initializers, layers, ops
from ...layers import Dense, Dropout, Layer, LayerNormalization, MultiHeadAttention
from ...saving import register_keras_serializable
from ..layers import ClassToken, PatchEmbedding, PositionEmbedding
from ..layers._utils import check_rate, positive_int
from .backbone import Backbone, Task

__all__ = ["ViTBackbone", "ViTImageClassifier"]


def _built(layer, shape):
    layer.build(shape)
    layer.built = True
    return layer


@register_keras_serializable(package="keras_hub")
class ViTPatchingAndEmbedding(Layer):
    """Patches, class token and position table: (B, H, W, C) -> (B, P[+1], D) (keras_hub's layer),
    composed of :class:`~ferrograd.hub.layers.ClassToken`, :class:`~ferrograd.hub.layers.PatchEmbedding`
    and :class:`~ferrograd.hub.layers.PositionEmbedding`.

    Args: ``image_size`` (H, W), ``patch_size`` (ph, pw), ``hidden_dim``, ``num_channels``,
    ``use_class_token``, ``use_patch_bias``.
    """

    def __init__(self, image_size, patch_size, hidden_dim, num_channels=3, use_class_token=True, use_patch_bias=True,
                 data_format=None, **kwargs):
        kwargs.pop("num_patches", None)
        kwargs.pop("num_positions", None)
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ViTPatchingAndEmbedding: data_format={data_format!r} is not implemented in ferrograd "
                             "(channels_last only)")
        self.image_size = tuple(image_size)
        self.patch_size = tuple(patch_size)
        self.hidden_dim = hidden_dim
        self.num_channels = num_channels
        grid = [s // p for s, p in zip(self.image_size, self.patch_size)]
        self.num_patches = grid[0] * grid[1]
        self.num_positions = self.num_patches + 1 if use_class_token else self.num_patches
        self.use_class_token = bool(use_class_token)
        self.use_patch_bias = bool(use_patch_bias)

    def build(self, input_shape=None):
        h, w = self.image_size
        if self.use_class_token:
            self.class_token = _built(ClassToken(initializer="random_normal", dtype=self.dtype, name="class_token"),
                                      (None, self.num_patches, self.hidden_dim))
        self.patch_embedding = _built(PatchEmbedding(self.patch_size, self.hidden_dim, use_bias=self.use_patch_bias,
                                                     dtype=self.dtype, name="patch_embedding"),
                                      (None, h, w, self.num_channels))
        self.position_embedding = _built(PositionEmbedding(self.num_positions,
                                                           initializer=initializers.RandomNormal(stddev=0.02),
                                                           dtype=self.dtype, name="position_embedding"),
                                         (None, self.num_positions, self.hidden_dim))
        self.built = True

    def call(self, inputs):
        x = self.patch_embedding(inputs)  # (B, P, D)
        if self.use_class_token:
            x = self.class_token(x)  # (B, P+1, D)
        return x + self.position_embedding(x)  # (B, P[+1], D)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_positions, self.hidden_dim)

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "patch_size": self.patch_size,
                "hidden_dim": self.hidden_dim, "num_channels": self.num_channels,
                "use_class_token": self.use_class_token, "use_patch_bias": self.use_patch_bias}


@register_keras_serializable(package="keras_hub")
class ViTEncoderBlock(Layer):
    """One pre-norm encoder block: ``x = x + Drop(MHA(LN1 x)); y = x + Drop(W2 Drop(gelu(W1 LN2 x)))``."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, use_mha_bias=True, use_mlp_bias=True, dropout_rate=0.0,
                 attention_dropout=0.0, layer_norm_epsilon=1e-6, **kwargs):
        kwargs.pop("key_dim", None)
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.key_dim = hidden_dim // num_heads
        self.mlp_dim = mlp_dim
        self.use_mha_bias = bool(use_mha_bias)
        self.use_mlp_bias = bool(use_mlp_bias)
        self.dropout_rate = dropout_rate
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_shape=None):
        shape = (None, None, self.hidden_dim)
        eps = self.layer_norm_epsilon
        self.layer_norm_1 = _built(LayerNormalization(epsilon=eps, dtype=self.dtype, name="ln_1"), shape)
        self.mha = MultiHeadAttention(num_heads=self.num_heads, key_dim=self.key_dim, use_bias=self.use_mha_bias,
                                      dropout=self.attention_dropout, dtype=self.dtype, name="mha")
        self.mha.build(shape, shape)
        self.mha.built = True
        self.dropout = Dropout(self.dropout_rate, dtype=self.dtype, name="dropout")
        self.layer_norm_2 = _built(LayerNormalization(epsilon=eps, dtype=self.dtype, name="ln_2"), shape)
        bias_init = initializers.RandomNormal(stddev=1e-6) if self.use_mlp_bias else "zeros"
        self.dense_1 = _built(Dense(self.mlp_dim, activation="gelu", use_bias=self.use_mlp_bias,
                                    bias_initializer=bias_init, dtype=self.dtype, name="dense_1"), shape)
        self.dense_2 = _built(Dense(self.hidden_dim, use_bias=self.use_mlp_bias,
                                    bias_initializer=initializers.RandomNormal(stddev=1e-6) if self.use_mlp_bias
                                    else "zeros", dtype=self.dtype, name="dense_2"), (None, None, self.mlp_dim))
        self.mlp_dropout = Dropout(self.dropout_rate, dtype=self.dtype, name="mlp_dropout")
        self.built = True

    def call(self, inputs, training=None):
        x = self.layer_norm_1(inputs)  # (B, T, D)
        x = self.mha(x, x, training=training)  # (B, T, D)
        x = self.dropout(x, training=training) + inputs
        y = self.layer_norm_2(x)
        y = self.mlp_dropout(self.dense_1(y), training=training)  # (B, T, mlp_dim)
        y = self.mlp_dropout(self.dense_2(y), training=training)  # (B, T, D)
        return x + y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "hidden_dim": self.hidden_dim,
                "mlp_dim": self.mlp_dim, "use_mha_bias": self.use_mha_bias, "use_mlp_bias": self.use_mlp_bias,
                "dropout_rate": self.dropout_rate, "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon}


@register_keras_serializable(package="keras_hub")
class ViTEncoder(Layer):
    """Dropout, ``num_layers`` :class:`ViTEncoderBlock` and a final LayerNorm: (B, T, D) -> (B, T, D)."""

    def __init__(self, num_layers, num_heads, hidden_dim, mlp_dim, use_mha_bias=True, use_mlp_bias=True,
                 dropout_rate=0.0, attention_dropout=0.0, layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.use_mha_bias = bool(use_mha_bias)
        self.use_mlp_bias = bool(use_mlp_bias)
        self.dropout_rate = dropout_rate
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, input_shape=None):
        shape = (None, None, self.hidden_dim)
        self.encoder_layers = [
            _built(ViTEncoderBlock(num_heads=self.num_heads, hidden_dim=self.hidden_dim, mlp_dim=self.mlp_dim,
                                   dropout_rate=self.dropout_rate, use_mha_bias=self.use_mha_bias,
                                   use_mlp_bias=self.use_mlp_bias, attention_dropout=self.attention_dropout,
                                   layer_norm_epsilon=self.layer_norm_epsilon, dtype=self.dtype,
                                   name=f"transformer_block_{i + 1}"), shape)
            for i in range(self.num_layers)]
        self.dropout = Dropout(self.dropout_rate, dtype=self.dtype, name="dropout")
        self.layer_norm = _built(LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype, name="ln"),
                                 shape)
        self.built = True

    def call(self, inputs, training=None):
        x = self.dropout(inputs, training=training)
        for block in self.encoder_layers:
            x = block(x, training=training)  # (B, T, D)
        return self.layer_norm(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers, "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim, "mlp_dim": self.mlp_dim, "use_mha_bias": self.use_mha_bias,
                "use_mlp_bias": self.use_mlp_bias, "dropout_rate": self.dropout_rate,
                "attention_dropout": self.attention_dropout, "layer_norm_epsilon": self.layer_norm_epsilon}


@register_keras_serializable(package="keras_hub")
class ViTBackbone(Backbone):
    """The Vision Transformer encoder (keras_hub's ``ViTBackbone``: arguments, weights and their
    order, config): images (B, H, W, C) -> (B, P[+1], hidden_dim) with P = (H/ph)(W/pw).

    Example::

        backbone = ViTBackbone(image_shape=(28, 28, 1), patch_size=7, num_layers=2, num_heads=2,
                               hidden_dim=32, mlp_dim=64)
        features = backbone(images)   # (B, 17, 32): the class token, then 16 patches

    Args:
        image_shape: (H, W, C) (channels_last); H and W divisible by the patch size.
        patch_size: an int or (ph, pw).
        num_layers, num_heads, hidden_dim, mlp_dim: the encoder's size.
        dropout_rate: after the embeddings, the attention and each MLP layer (0.0).
        attention_dropout: on the attention weights (0.0).
        layer_norm_epsilon: of every LayerNorm (1e-6).
        use_mha_bias, use_mlp_bias, use_patch_bias: biases of the attention projections, the MLP
            and the patch embedding (True).
        use_class_token: prepend a learned class token (True).
        data_format: None or "channels_last" ("channels_first" is not implemented).
        dtype: compute and weight dtype (None: float32).
    """

    def __init__(self, image_shape, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, dropout_rate=0.0,
                 attention_dropout=0.0, layer_norm_epsilon=1e-6, use_mha_bias=True, use_mlp_bias=True,
                 use_class_token=True, use_patch_bias=True, data_format=None, dtype=None, **kwargs):
        owner = "ViTBackbone"
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{owner}: data_format={data_format!r} is not implemented in ferrograd; images are "
                             "channels_last (B, H, W, C)")
        image_shape = tuple(image_shape)
        if len(image_shape) != 3:
            raise ValueError(f"{owner}: `image_shape` must be (height, width, channels). Received: "
                             f"image_shape={image_shape}")
        if image_shape[0] is None or image_shape[1] is None:
            raise ValueError(f"Image shape must have defined height and width. Found `None` at index -3 (height) "
                             f"or -2 (width). Image shape: {image_shape}")
        patch = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
        for p in patch:
            positive_int("patch_size", p, owner)
        if image_shape[0] % patch[0]:
            raise ValueError(f"Input height {image_shape[0]} should be divisible by patch size {patch[0]}.")
        if image_shape[1] % patch[1]:
            raise ValueError(f"Input width {image_shape[1]} should be divisible by patch size {patch[1]}.")
        for name, value in (("num_layers", num_layers), ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                            ("mlp_dim", mlp_dim)):
            positive_int(name, value, owner)
        if hidden_dim % num_heads:
            raise ValueError(f"{owner}: `hidden_dim` must be divisible by `num_heads`. Received: "
                             f"hidden_dim={hidden_dim}, num_heads={num_heads}")
        check_rate("dropout_rate", dropout_rate, owner)
        check_rate("attention_dropout", attention_dropout, owner)
        unknown = sorted(set(kwargs) - {"name", "trainable"})
        if unknown:
            raise ValueError(f"{owner}: argument(s) {unknown} are not supported (keras_hub's ViTBackbone takes "
                             "image_shape, patch_size, num_layers, num_heads, hidden_dim, mlp_dim, dropout_rate, "
                             "attention_dropout, layer_norm_epsilon, use_mha_bias, use_mlp_bias, use_class_token, "
                             f"use_patch_bias, data_format, dtype, name, trainable). Received: {kwargs}")
        # === Functional model ===
        inputs = layers.Input(shape=image_shape, name="images")
        x = ViTPatchingAndEmbedding(image_size=image_shape[:2], patch_size=patch, hidden_dim=hidden_dim,
                                    num_channels=image_shape[2], use_class_token=use_class_token,
                                    use_patch_bias=use_patch_bias, dtype=dtype,
                                    name="vit_patching_and_embedding")(inputs)  # (B, P[+1], D)
        output = ViTEncoder(num_layers=num_layers, num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim,
                            dropout_rate=dropout_rate, attention_dropout=attention_dropout,
                            layer_norm_epsilon=layer_norm_epsilon, use_mha_bias=use_mha_bias,
                            use_mlp_bias=use_mlp_bias, dtype=dtype, name="vit_encoder")(x)  # (B, P[+1], D)
        super().__init__(inputs=inputs, outputs=output, dtype=dtype, **kwargs)
        # === Config ===
        self.image_shape = image_shape
        self.patch_size = patch
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.dropout_rate = dropout_rate
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.use_mha_bias = bool(use_mha_bias)
        self.use_mlp_bias = bool(use_mlp_bias)
        self.use_class_token = bool(use_class_token)
        self.use_patch_bias = bool(use_patch_bias)
        self.data_format = "channels_last"

    def call(self, inputs, training=None, mask=None):
        shape = tuple(getattr(inputs, "shape", np.shape(inputs)))
        if len(shape) != 4 or any(d is not None and d != want for d, want in zip(shape[1:], self.image_shape)):
            raise ValueError(f"{self.name}: expected images of shape (batch, {', '.join(map(str, self.image_shape))}"
                             f"); received {shape}")
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "patch_size": self.patch_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads, "hidden_dim": self.hidden_dim, "mlp_dim": self.mlp_dim,
                "dropout_rate": self.dropout_rate, "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon, "use_mha_bias": self.use_mha_bias,
                "use_mlp_bias": self.use_mlp_bias, "use_class_token": self.use_class_token,
                "use_patch_bias": self.use_patch_bias}


@register_keras_serializable(package="keras_hub")
class ViTImageClassifier(Task):
    """A ViT with a classification head (keras_hub's ``ViTImageClassifier``): the backbone's
    class token (``pooling="token"``) or mean over positions (``"gap"``), optionally
    ``Dense(intermediate_dim, "tanh")`` ("pre_logits"), dropout, ``Dense(num_classes, activation)``
    ("predictions"). Built compiled with keras_hub's defaults: Adam(5e-5), sparse categorical
    cross-entropy (from logits unless ``activation="softmax"``), sparse categorical accuracy.

    Example::

        model = ViTImageClassifier(backbone, num_classes=10)
        model.fit(images, labels, epochs=3)

    Args:
        backbone: a :class:`ViTBackbone`.
        num_classes: outputs of the head.
        preprocessor: must be None (not implemented in ferrograd).
        pooling: "token" or "gap".
        intermediate_dim: width of a tanh layer before the head (None: none).
        activation: of the head (None: logits).
        dropout: before the head (0.0).
        head_dtype: None or the backbone's dtype.
        compile: compile with the defaults above (True).
    """

    backbone_cls = ViTBackbone

    def __init__(self, backbone, num_classes, preprocessor=None, pooling="token", intermediate_dim=None,
                 activation=None, dropout=0.0, head_dtype=None, **kwargs):
        owner = "ViTImageClassifier"
        self._check_preprocessor(owner, preprocessor)
        if not isinstance(backbone, ViTBackbone):
            raise TypeError(f"{owner}: `backbone` must be a ViTBackbone. Received: {type(backbone).__name__}")
        if pooling not in ("token", "gap"):
            raise ValueError(f'{owner}: `pooling` must be "token" or "gap". Received: pooling={pooling!r}')
        positive_int("num_classes", num_classes, owner)
        if intermediate_dim is not None:
            positive_int("intermediate_dim", intermediate_dim, owner)
        check_rate("dropout", dropout, owner)
        if head_dtype not in (None, backbone.dtype):
            raise ValueError(f"{owner}: head_dtype={head_dtype!r} is not implemented (the head runs in the "
                             f"backbone's dtype, {backbone.dtype})")
        self.backbone = backbone
        self.preprocessor = None
        # the task's arguments before Task.__init__, whose compile() reads `activation`
        self.num_classes = num_classes
        self.pooling = pooling
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        dtype = backbone.dtype
        if intermediate_dim is not None:
            self.intermediate_layer = layers.Dense(intermediate_dim, activation="tanh", dtype=dtype,
                                                   name="pre_logits")
        self.output_dropout = layers.Dropout(dropout, dtype=dtype, name="output_dropout")
        self.output_dense = layers.Dense(num_classes, activation=activation, dtype=dtype, name="predictions")
        inputs = backbone.input
        x = backbone(inputs)  # (B, T, D)
        x = x[:, 0] if pooling == "token" else ops.mean(x, axis=1)  # (B, D)
        if intermediate_dim is not None:
            x = self.intermediate_layer(x)  # (B, intermediate_dim)
        x = self.output_dropout(x)
        outputs = self.output_dense(x)  # (B, num_classes)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.dropout = dropout

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """keras_hub's ``ImageClassifier.compile``: "auto" gives Adam(5e-5), SparseCategoricalCrossentropy
        (from logits unless the head's activation is softmax) and [SparseCategoricalAccuracy()]."""
        from ... import activations, losses, optimizers
        from ... import metrics as metrics_mod

        if optimizer == "auto":
            optimizer = optimizers.Adam(5e-5)
        if loss == "auto":
            from_logits = activations.get(self.activation) is not activations.softmax
            loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        if metrics == "auto":
            metrics = [metrics_mod.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "pooling": self.pooling,
                "intermediate_dim": self.intermediate_dim, "activation": self.activation, "dropout": self.dropout}
