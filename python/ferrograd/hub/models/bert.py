"""BERT (Devlin et al., 2018) as keras_hub 0.32 builds it: ``BertBackbone``, ``BertMaskedLM`` and
``BertTextClassifier``, with keras_hub's names, arguments, inputs, outputs and configs, and
``from_preset`` reading local Hugging Face BERT checkpoint folders.

The forward pass (B batch, T tokens, D = hidden_dim)::

    x = LN(tok_emb[token_ids] + pos_emb[0:T] + seg_emb[segment_ids])     # (B, T, D), eps 1e-12
    x = Dropout(x)
    for each layer: x = TransformerEncoder(x, padding_mask)              # post-norm, GELU, eps 1e-12
    sequence_output = x                                                  # (B, T, D)
    pooled_output = tanh(x[:, 0] @ W_pool + b_pool)                      # (B, D), the [CLS] token

One difference from keras_hub, on purpose: the feed-forward GELU is the exact (erf) form that
BERT and every Hugging Face BERT checkpoint were trained with (``hidden_act: "gelu"``), where
keras_hub 0.32 uses the tanh approximation; and the masked-LM head's layer norm uses BERT's
epsilon 1e-12 (keras_hub: 1e-5). With them, ``from_preset`` reproduces Hugging Face's
``BertModel`` to float32 rounding (tests/test_hub_bert.py).

Weight mapping from a Hugging Face checkpoint (PyTorch ``Linear`` weights are (out, in) and are
transposed into Keras (in, out) kernels; the attention's q/k/v kernels become (D, heads, head_dim)
and its output kernel (heads, head_dim, D), as keras.layers.MultiHeadAttention stores them)::

    embeddings.word_embeddings / position_embeddings / token_type_embeddings / LayerNorm
        -> token_embedding, position_embedding, segment_embedding, embeddings_layer_norm
    encoder.layer.{i}.attention.self.{query,key,value}, attention.output.dense,
        attention.output.LayerNorm, intermediate.dense, output.dense, output.LayerNorm
        -> transformer_layer_{i}: self-attention q/k/v/output, self_attention_layer_norm,
           feedforward_intermediate_dense, feedforward_output_dense, feedforward_layer_norm
    pooler.dense -> pooled_dense
    cls.predictions.transform.dense / transform.LayerNorm / bias -> BertMaskedLM's mlm_head
    classifier -> BertTextClassifier's logits

Names may carry the ``bert.`` prefix of Hugging Face task checkpoints or none (bare ``BertModel``
exports). ``embeddings.position_ids`` (a buffer of 0..P-1 in older exports) is checked and
skipped. A checkpoint without ``pooler.dense`` (``BertForMaskedLM`` exports, some
sentence-transformers exports) loads with a ``UserWarning`` naming the missing tensors; the
``pooled_output`` then comes from the freshly initialized ``pooled_dense`` (train it, or use
``sequence_output``, e.g. mean-pooled, as sentence-transformers does). Any other missing,
mis-shaped or unknown tensor raises ValueError naming it and the file.
"""
from __future__ import annotations

import contextvars
import warnings

import numpy as np

from ... import activations, initializers, layers
from ..._core import Tensor
from ...layers.layer import _NoGrad
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor
from ..layers import MaskedLMHead, PositionEmbedding, ReversibleEmbedding, TransformerEncoder
from ..layers._utils import check_rate, positive_int
from .backbone import Backbone, Task
from .preset import WEIGHTS_FILE, CheckpointTensors, read_config, read_safetensors

__all__ = ["BertBackbone", "BertMaskedLM", "BertTextClassifier"]

# Hugging Face task heads a backbone does not hold (loaded by the matching task, else skipped)
_HEAD_PREFIXES = ("cls.", "classifier.", "qa_outputs.")


# Set while from_preset builds a backbone whose weights the checkpoint overwrites: the
# truncated-normal draws of BERT's ~all parameters cost more than reading the file (1.4 s of 1.7 s
# for all-MiniLM-L6-v2), so they are skipped (zeros) and the initializers put back afterwards.
_SKIP_INIT = contextvars.ContextVar("ferrograd_bert_skip_init", default=False)
_INITIALIZER_ATTRS = ("kernel_initializer", "_kernel_initializer", "embeddings_initializer", "initializer")


def bert_kernel_initializer(stddev=0.02):
    if _SKIP_INIT.get():
        return initializers.Zeros()
    return initializers.TruncatedNormal(stddev=stddev)


def _backbone_for_loading(cls, args, load_weights):
    """``cls(**args)`` (a BertBackbone); with ``load_weights`` its weights start as zeros (every one is
    assigned from the checkpoint next) and its layers get their truncated-normal initializers back."""
    if not load_weights:
        return cls(**args)
    token = _SKIP_INIT.set(True)
    try:
        backbone = cls(**args)
    finally:
        _SKIP_INIT.reset(token)
    for layer in backbone._flatten_layers():
        for attr in _INITIALIZER_ATTRS:
            if isinstance(getattr(layer, attr, None), initializers.Zeros):
                setattr(layer, attr, bert_kernel_initializer())
    return backbone


def _assign(layer, arrays):
    """Sets ``layer``'s own and nested weights, in its weight order, from NumPy arrays."""
    layer.set_weights(arrays)


@register_keras_serializable(package="keras_hub")
class BertBackbone(Backbone):
    """A BERT encoder network: token, position and segment embeddings, ``num_layers`` post-norm
    transformer encoder blocks, and a tanh "pooler" on the first ([CLS]) token.

    Inputs (a dict): ``token_ids`` (B, T) integers, ``segment_ids`` (B, T) integers in
    ``[0, num_segments)``, ``padding_mask`` (B, T) 1 for real tokens, 0 for padding.
    Outputs (a dict): ``sequence_output`` (B, T, hidden_dim), ``pooled_output`` (B, hidden_dim).

    Example::

        backbone = hub.models.BertBackbone(vocabulary_size=30552, num_layers=4, num_heads=4,
                                           hidden_dim=256, intermediate_dim=512, max_sequence_length=128)
        out = backbone({"token_ids": ids, "segment_ids": seg, "padding_mask": mask})
        out["sequence_output"]  # (B, T, 256)

        backbone = hub.models.BertBackbone.from_preset("path/to/all-MiniLM-L6-v2")  # local HF folder

    Args:
        vocabulary_size: size of the token vocabulary.
        num_layers: number of transformer layers.
        num_heads: attention heads per layer (divides ``hidden_dim``).
        hidden_dim: width of the encoder and the pooler.
        intermediate_dim: width of each feed-forward network.
        dropout: dropout rate of the embeddings and the encoder (0.1).
        max_sequence_length: rows of the position table; longer inputs are refused (512).
        num_segments: number of segment (token type) ids (2).
        dtype: compute and weight dtype (None: float32).
    """

    hf_model_types = ("bert",)

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout=0.1,
                 max_sequence_length=512, num_segments=2, dtype=None, **kwargs):
        unknown = sorted(set(kwargs) - {"name", "trainable"})
        if unknown:
            raise ValueError(f"BertBackbone: argument(s) {unknown} are not supported (keras_hub's BertBackbone "
                             "takes vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout, "
                             f"max_sequence_length, num_segments, dtype, name, trainable). Received: {kwargs}")
        for arg, value in (("vocabulary_size", vocabulary_size), ("num_layers", num_layers),
                           ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                           ("intermediate_dim", intermediate_dim), ("max_sequence_length", max_sequence_length),
                           ("num_segments", num_segments)):
            positive_int(arg, value)
        check_rate("dropout", dropout)
        if hidden_dim % num_heads:
            raise ValueError(f"BertBackbone: `hidden_dim` must be divisible by `num_heads`. Received: "
                             f"hidden_dim={hidden_dim}, num_heads={num_heads}")
        # === Layers ===
        self.token_embedding = ReversibleEmbedding(input_dim=vocabulary_size, output_dim=hidden_dim,
                                                   embeddings_initializer=bert_kernel_initializer(), dtype=dtype,
                                                   name="token_embedding")
        self.position_embedding = PositionEmbedding(initializer=bert_kernel_initializer(),
                                                    sequence_length=max_sequence_length, dtype=dtype,
                                                    name="position_embedding")
        self.segment_embedding = layers.Embedding(input_dim=num_segments, output_dim=hidden_dim,
                                                  embeddings_initializer=bert_kernel_initializer(), dtype=dtype,
                                                  name="segment_embedding")
        self.embeddings_add = layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_layer_norm = layers.LayerNormalization(axis=-1, epsilon=1e-12, dtype=dtype,
                                                               name="embeddings_layer_norm")
        self.embeddings_dropout = layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")
        self.transformer_layers = [
            TransformerEncoder(num_heads=num_heads, intermediate_dim=intermediate_dim, activation="gelu",
                               dropout=dropout, layer_norm_epsilon=1e-12,
                               kernel_initializer=bert_kernel_initializer(), dtype=dtype,
                               name=f"transformer_layer_{i}")
            for i in range(num_layers)]
        self.pooled_dense = layers.Dense(hidden_dim, kernel_initializer=bert_kernel_initializer(),
                                         activation="tanh", dtype=dtype, name="pooled_dense")
        # === Functional model ===
        token_id_input = layers.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_id_input = layers.Input(shape=(None,), dtype="int32", name="segment_ids")
        padding_mask_input = layers.Input(shape=(None,), dtype="int32", name="padding_mask")
        tokens = self.token_embedding(token_id_input)  # (B, T, D)
        positions = self.position_embedding(tokens)  # (B, T, D)
        segments = self.segment_embedding(segment_id_input)  # (B, T, D)
        x = self.embeddings_add((tokens, positions, segments))  # (B, T, D)
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        for transformer_layer in self.transformer_layers:
            x = transformer_layer(x, padding_mask=padding_mask_input)  # (B, T, D)
        sequence_output = x
        self.cls_token_index = 0
        pooled_output = self.pooled_dense(x[:, self.cls_token_index, :])  # (B, D)
        super().__init__(inputs={"token_ids": token_id_input, "segment_ids": segment_id_input,
                                 "padding_mask": padding_mask_input},
                         outputs={"sequence_output": sequence_output, "pooled_output": pooled_output},
                         dtype=dtype, **kwargs)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments

    # ---- running -------------------------------------------------------------------------------
    def _check_inputs(self, inputs):
        """Refuses, before any kernel runs, what BERT cannot take: non-integer ids and sequences
        longer than the position table."""
        if not isinstance(inputs, dict):
            raise ValueError("BertBackbone expects a dict with keys 'token_ids', 'segment_ids' and 'padding_mask'. "
                             f"Received: {type(inputs).__name__}")
        for key in ("token_ids", "segment_ids"):
            v = inputs.get(key)
            if v is None:
                continue
            dtype = str(v.dtype) if isinstance(v, (Tensor, KerasTensor, np.ndarray)) else str(np.asarray(v).dtype)
            if not (dtype.startswith("int") or dtype.startswith("uint")):
                raise TypeError(f"BertBackbone: `{key}` must hold integer ids; received dtype {dtype}")
            shape = tuple(v.shape) if hasattr(v, "shape") else np.shape(v)
            if len(shape) != 2:
                raise ValueError(f"BertBackbone: `{key}` must have shape (batch_size, sequence_length); received "
                                 f"shape {shape}")
            length = shape[1]
            if length is not None and length > self.max_sequence_length:
                raise ValueError(f"BertBackbone: the input sequences have {length} tokens, more than "
                                 f"max_sequence_length={self.max_sequence_length} (the rows of the position "
                                 "embedding); truncate them")

    def call(self, inputs, training=None, mask=None):
        self._check_inputs(inputs)
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length, "num_segments": self.num_segments}

    # ---- Hugging Face checkpoints -----------------------------------------------------------------
    @staticmethod
    def _hf_arguments(config, source):
        """keras_hub's constructor arguments from a Hugging Face ``BertConfig`` dict, refusing the
        settings this architecture does not have."""
        model_type = config.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(f"{source}: model_type={model_type!r}; BertBackbone reads BERT checkpoints "
                             "(model_type 'bert')")
        need = {"vocab_size": "vocabulary_size", "num_hidden_layers": "num_layers",
                "num_attention_heads": "num_heads", "hidden_size": "hidden_dim",
                "intermediate_size": "intermediate_dim"}
        missing = [k for k in need if k not in config]
        if missing:
            raise ValueError(f"{source}: missing {missing}; not a Hugging Face BERT config")
        checks = (("hidden_act", "gelu", "the exact GELU"), ("layer_norm_eps", 1e-12, "epsilon 1e-12"),
                  ("position_embedding_type", "absolute", "absolute position embeddings"))
        for key, want, what in checks:
            if key in config and config[key] != want:
                raise ValueError(f"{source}: {key}={config[key]!r} is not supported; BertBackbone implements "
                                 f"{what} ({key}={want!r})")
        if config.get("is_decoder") or config.get("add_cross_attention"):
            raise ValueError(f"{source}: a BERT decoder (is_decoder/add_cross_attention) is not supported")
        args = {ours: config[theirs] for theirs, ours in need.items()}
        args["dropout"] = float(config.get("hidden_dropout_prob", 0.1))
        args["max_sequence_length"] = config.get("max_position_embeddings", 512)
        args["num_segments"] = config.get("type_vocab_size", 2)
        return args

    @classmethod
    def _open_hf_checkpoint(cls, directory):
        """(config dict, CheckpointTensors with the prefix of the backbone's tensors)."""
        config = read_config(directory)
        path = directory / WEIGHTS_FILE
        tensors = read_safetensors(path)
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
        return config, CheckpointTensors(tensors, path, prefix)

    @classmethod
    def _from_hf_checkpoint(cls, directory, load_weights=True, **kwargs):
        config, tensors = cls._open_hf_checkpoint(directory)
        backbone = _backbone_for_loading(cls, {**cls._hf_arguments(config, directory / "config.json"), **kwargs},
                                         load_weights)
        if load_weights:
            backbone._load_hf_tensors(tensors)
            tensors.ignore(lambda n: n.startswith(_HEAD_PREFIXES))
            tensors.check_all_used(cls.__name__)
        return backbone

    def _load_hf_tensors(self, tensors):
        """Assigns every backbone weight from ``tensors`` (see the module docstring for the map)."""
        d, f, v = self.hidden_dim, self.intermediate_dim, self.vocabulary_size
        n = self.num_heads
        h = d // n
        p, s = self.max_sequence_length, self.num_segments
        if "embeddings.position_ids" in tensors:
            ids = tensors.take("embeddings.position_ids", (1, p), dtype="int64")
            if not np.array_equal(ids[0], np.arange(p)):
                raise ValueError(f"{tensors.source}: embeddings.position_ids is not 0..{p - 1}; custom position ids "
                                 "are not supported")
        _assign(self.token_embedding, [tensors.take("embeddings.word_embeddings.weight", (v, d))])
        _assign(self.position_embedding, [tensors.take("embeddings.position_embeddings.weight", (p, d))])
        _assign(self.segment_embedding, [tensors.take("embeddings.token_type_embeddings.weight", (s, d))])
        _assign(self.embeddings_layer_norm, [tensors.take("embeddings.LayerNorm.weight", (d,)),
                                             tensors.take("embeddings.LayerNorm.bias", (d,))])
        for i, layer in enumerate(self.transformer_layers):
            pre = f"encoder.layer.{i}."
            arrays = []
            for part in ("query", "key", "value"):
                w = tensors.take(f"{pre}attention.self.{part}.weight", (d, d))  # (out, in)
                arrays += [w.T.reshape(d, n, h), tensors.take(f"{pre}attention.self.{part}.bias", (d,)).reshape(n, h)]
            w = tensors.take(f"{pre}attention.output.dense.weight", (d, d))
            arrays += [w.T.reshape(n, h, d), tensors.take(f"{pre}attention.output.dense.bias", (d,))]
            arrays += [tensors.take(f"{pre}attention.output.LayerNorm.weight", (d,)),
                       tensors.take(f"{pre}attention.output.LayerNorm.bias", (d,)),
                       tensors.take(f"{pre}output.LayerNorm.weight", (d,)),
                       tensors.take(f"{pre}output.LayerNorm.bias", (d,)),
                       tensors.take(f"{pre}intermediate.dense.weight", (f, d)).T,
                       tensors.take(f"{pre}intermediate.dense.bias", (f,)),
                       tensors.take(f"{pre}output.dense.weight", (d, f)).T,
                       tensors.take(f"{pre}output.dense.bias", (d,))]
            _assign(layer, [np.ascontiguousarray(a) for a in arrays])
        pooler = ("pooler.dense.weight", "pooler.dense.bias")
        present = [name in tensors for name in pooler]
        if all(present):
            _assign(self.pooled_dense, [np.ascontiguousarray(tensors.take(pooler[0], (d, d)).T),
                                        tensors.take(pooler[1], (d,))])
        elif any(present):
            missing = tensors.prefix + pooler[present.index(False)]
            raise ValueError(f"{tensors.source}: the checkpoint has half a pooler: {missing!r} is missing")
        else:
            init = bert_kernel_initializer()  # the draw _backbone_for_loading skipped
            _assign(self.pooled_dense, [init((d, d), self.pooled_dense.dtype).numpy(), np.zeros(d, np.float32)])
            warnings.warn(f"{tensors.source}: the checkpoint has no pooler ({tensors.prefix}pooler.dense.weight/bias); "
                          "`pooled_output` comes from a freshly initialized `pooled_dense` layer. `sequence_output` "
                          "is the pretrained encoder's (mean-pool it for sentence embeddings).", UserWarning,
                          stacklevel=4)


def _load_classifier_head(dense, tensors, num_classes, hidden_dim):
    """Hugging Face ``classifier.weight/bias`` into the ``logits`` Dense, when present."""
    head = tensors.with_prefix("")
    if "classifier.weight" not in head:
        return
    w = head.take("classifier.weight", (num_classes, hidden_dim))
    _assign(dense, [np.ascontiguousarray(w.T), head.take("classifier.bias", (num_classes,))])


@register_keras_serializable(package="keras_hub")
class BertMaskedLM(Task):
    """BERT with a masked-language-model head: predicts the tokens at ``mask_positions``.

    The head (``MaskedLMHead``, tied to the backbone's token embedding) is
    ``logits = LN(gelu(h W + b)) E^T + bias`` on the gathered positions.

    Inputs: the backbone's dict plus ``mask_positions`` (B, M) integers.
    Output: logits (B, M, vocabulary_size).

    Example::

        mlm = hub.models.BertMaskedLM(backbone)
        logits = mlm({**batch, "mask_positions": positions})   # (B, M, V)

    Compiled by default with Adam(5e-5), sparse categorical cross-entropy on logits and a
    weighted sparse categorical accuracy, as keras_hub.

    Args:
        backbone: a ``BertBackbone``.
        preprocessor: only ``None`` (keras_hub's preprocessors are not implemented).
    """

    backbone_cls = BertBackbone

    def __init__(self, backbone, preprocessor=None, **kwargs):
        self._check_preprocessor("BertMaskedLM", preprocessor)
        if not isinstance(backbone, BertBackbone):
            raise ValueError(f"BertMaskedLM: `backbone` must be a BertBackbone. Received: backbone={backbone!r}")
        self.backbone = backbone
        self.preprocessor = None
        self.masked_lm_head = MaskedLMHead(vocabulary_size=backbone.vocabulary_size,
                                           token_embedding=backbone.token_embedding, intermediate_activation="gelu",
                                           layer_norm_epsilon=1e-12, kernel_initializer=bert_kernel_initializer(),
                                           dtype=backbone.dtype, name="mlm_head")
        inputs = {**backbone.input,
                  "mask_positions": layers.Input(shape=(None,), dtype="int32", name="mask_positions")}
        backbone_outputs = backbone(backbone.input)
        outputs = self.masked_lm_head(backbone_outputs["sequence_output"], inputs["mask_positions"])  # (B, M, V)
        super().__init__(inputs=inputs, outputs=outputs, dtype=backbone.dtype, **kwargs)

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics="auto", **kwargs):
        """As keras_hub's MaskedLM: Adam(5e-5), SparseCategoricalCrossentropy(from_logits=True)
        and a weighted SparseCategoricalAccuracy unless given."""
        from ... import losses, metrics, optimizers

        if optimizer == "auto":
            optimizer = optimizers.Adam(5e-5)
        if loss == "auto":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [metrics.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """A masked LM from a local Hugging Face ``BertForMaskedLM``/``BertForPreTraining``
        folder: the backbone and the ``cls.predictions`` head (its decoder tied to the word
        embeddings, as BERT's). The next-sentence head, if any, is skipped."""
        from .preset import check_preset_directory

        directory = check_preset_directory(preset, cls.__name__)
        config, tensors = BertBackbone._open_hf_checkpoint(directory)
        task_args = {k: kwargs.pop(k) for k in ("name", "compile") if k in kwargs}
        backbone = _backbone_for_loading(BertBackbone, {**BertBackbone._hf_arguments(config, directory / "config.json"),
                                                        **kwargs}, load_weights)
        model = cls(backbone, **task_args)
        if load_weights:
            with warnings.catch_warnings():
                # a BertForMaskedLM export has no pooler, and the masked LM does not use it
                warnings.filterwarnings("ignore", message=".*has no pooler", category=UserWarning)
                backbone._load_hf_tensors(tensors)
            model._load_hf_head(tensors)
            tensors.ignore(lambda n: n.startswith("cls.seq_relationship."))
            tensors.check_all_used(cls.__name__)
        return model

    def _load_hf_head(self, tensors):
        d, v = self.backbone.hidden_dim, self.backbone.vocabulary_size
        head = tensors.with_prefix("")
        pre = "cls.predictions."
        mlm = self.masked_lm_head
        _assign(mlm._intermediate_dense, [np.ascontiguousarray(head.take(pre + "transform.dense.weight", (d, d)).T),
                                          head.take(pre + "transform.dense.bias", (d,))])
        _assign(mlm._intermediate_layer_norm, [head.take(pre + "transform.LayerNorm.weight", (d,)),
                                               head.take(pre + "transform.LayerNorm.bias", (d,))])
        bias = head.take(pre + "bias", (v,))
        if pre + "decoder.bias" in head:
            if not np.array_equal(head.take(pre + "decoder.bias", (v,)), bias):
                raise ValueError(f"{tensors.source}: {pre}decoder.bias differs from {pre}bias; BERT ties them")
        if pre + "decoder.weight" in head:
            decoder = head.take(pre + "decoder.weight", (v, d))
            if not np.array_equal(decoder, self.backbone.token_embedding.embeddings.numpy()):
                raise ValueError(f"{tensors.source}: {pre}decoder.weight differs from the word embeddings; "
                                 "BertMaskedLM ties its output projection to them (an untied decoder is not supported)")
        with _NoGrad():
            mlm._bias.assign(bias)

@register_keras_serializable(package="keras_hub")
class BertTextClassifier(Task):
    """BERT with a classification head on the pooled output:
    ``logits = Dropout(pooled_output) W + b`` (then ``activation``).

    Inputs: the backbone's dict. Output: (B, num_classes).

    Example::

        clf = hub.models.BertTextClassifier(backbone, num_classes=2)
        clf.fit(batch, labels)

    Compiled by default with Adam(5e-5), sparse categorical cross-entropy (on logits unless
    ``activation="softmax"``) and sparse categorical accuracy, as keras_hub.

    Args:
        backbone: a ``BertBackbone``.
        num_classes: number of classes.
        preprocessor: only ``None``.
        activation: of the outputs (None: logits).
        dropout: rate before the dense layer (0.1).
    """

    backbone_cls = BertBackbone

    def __init__(self, backbone, num_classes, preprocessor=None, activation=None, dropout=0.1, **kwargs):
        self._check_preprocessor("BertTextClassifier", preprocessor)
        if not isinstance(backbone, BertBackbone):
            raise ValueError(f"BertTextClassifier: `backbone` must be a BertBackbone. Received: backbone={backbone!r}")
        positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        self.backbone = backbone
        self.preprocessor = None
        self.output_dropout = layers.Dropout(dropout, dtype=backbone.dtype, name="classifier_dropout")
        self.output_dense = layers.Dense(num_classes, kernel_initializer=bert_kernel_initializer(),
                                         activation=activation, dtype=backbone.dtype, name="logits")
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]  # (B, D)
        pooled = self.output_dropout(pooled)
        outputs = self.output_dense(pooled)  # (B, num_classes)
        self.num_classes = num_classes
        self.activation = activations.get(activation)
        self.dropout = dropout
        super().__init__(inputs=inputs, outputs=outputs, dtype=backbone.dtype, **kwargs)

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """As keras_hub's TextClassifier: Adam(5e-5), SparseCategoricalCrossentropy (from logits
        unless the activation is softmax) and SparseCategoricalAccuracy unless given."""
        from ... import losses, optimizers
        from ... import metrics as metrics_mod

        if optimizer == "auto":
            optimizer = optimizers.Adam(5e-5)
        if loss == "auto":
            from_logits = self.activation is not activations.get("softmax")
            loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        if metrics == "auto":
            metrics = [metrics_mod.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    @classmethod
    def from_preset(cls, preset, load_weights=True, num_classes=None, **kwargs):
        """A classifier from a local Hugging Face BERT folder: the backbone's weights, and the
        ``classifier`` head's when the checkpoint has one (a ``BertForSequenceClassification``
        export; its shape must match ``num_classes``), else a freshly initialized head."""
        from .preset import check_preset_directory

        if num_classes is None:
            raise ValueError("BertTextClassifier.from_preset: `num_classes` is required")
        directory = check_preset_directory(preset, cls.__name__)
        config, tensors = BertBackbone._open_hf_checkpoint(directory)
        task_args = {k: kwargs.pop(k) for k in ("name", "compile", "activation", "dropout") if k in kwargs}
        backbone = _backbone_for_loading(BertBackbone, {**BertBackbone._hf_arguments(config, directory / "config.json"),
                                                        **kwargs}, load_weights)
        model = cls(backbone, num_classes, **task_args)
        if load_weights:
            backbone._load_hf_tensors(tensors)
            _load_classifier_head(model.output_dense, tensors, num_classes, backbone.hidden_dim)
            tensors.ignore(lambda n: n.startswith(_HEAD_PREFIXES))
            tensors.check_all_used(cls.__name__)
        return model

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "activation": activations.serialize(self.activation), "dropout": self.dropout}


# keras_hub's alias
BertClassifier = BertTextClassifier
