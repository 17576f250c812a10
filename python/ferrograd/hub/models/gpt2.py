"""GPT-2 (Radford et al. 2019) as keras_hub 0.32 builds it: ``GPT2Backbone`` and ``GPT2CausalLM``.

Backbone: ``x = wte[ids] + wpe[pos]``, dropout, ``num_layers`` pre-norm decoder blocks
(``x += Attn(LN1 x)``; ``x += W2 gelu_tanh(W1 LN2 x)``, causal self-attention), a final
LayerNorm (epsilon 1e-5); its output is the (B, T, D) sequence of hidden states. The causal LM
projects them back through the tied token embedding: ``logits = h @ wte^T`` (B, T, V).

Generation follows keras_hub: the whole padded prompt (B, L) fills a key/value cache
(B, num_layers, 2, L, N, H) in one pass, then each step feeds the one token at ``index - 1``,
writes its keys and values at that row and attends one query row against the cache (the fused
attention kernel's decode path). Prompt rows keep their tokens (the padding mask), so ragged
prompts run in one batch; a row's result equals that prompt generated alone.

``from_preset(directory)`` reads a local Hugging Face GPT-2 checkpoint (``config.json`` and
``model.safetensors``; never downloads) and checks every tensor's name and shape.
"""
from __future__ import annotations

import numpy as np

from ... import _core, initializers, layers, ops
from ..._core import Tensor
from ...saving import register_keras_serializable
from ...symbolic import KerasTensor
from .. import samplers as _samplers
from ..layers import PositionEmbedding, ReversibleEmbedding, TransformerDecoder
from ..layers._utils import check_rate, get_keras_mask, positive_int
from .backbone import Backbone, Task
from .gpt2_preprocessor import GPT2CausalLMPreprocessor
from .preset import CONFIG_FILE, WEIGHTS_FILE, CheckpointTensors, check_preset_directory, read_config, read_safetensors

__all__ = ["GPT2Backbone", "GPT2CausalLM", "gelu_approximate"]


@register_keras_serializable(package="keras_hub")
def gelu_approximate(x):
    """GELU, tanh approximation: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (GPT-2's)."""
    return ops.gelu(x, approximate=True)


gelu_approximate._core_unary = "gelu_tanh"  # the fused decode step runs it as this core op


def _as_dict(inputs):
    """``{"token_ids", "padding_mask"}`` from a dict, a (token_ids, padding_mask) pair or bare token
    ids (then every token is real)."""
    if isinstance(inputs, dict):
        unknown = sorted(set(inputs) - {"token_ids", "padding_mask"})
        if unknown or "token_ids" not in inputs:
            raise ValueError(f"GPT2Backbone takes a dict with keys 'token_ids' and 'padding_mask'. Received keys: "
                             f"{sorted(inputs)}")
        token_ids, padding_mask = inputs["token_ids"], inputs.get("padding_mask")
    elif isinstance(inputs, (list, tuple)):
        if len(inputs) != 2:
            raise ValueError(f"GPT2Backbone takes (token_ids, padding_mask); received a sequence of {len(inputs)}")
        token_ids, padding_mask = inputs
    else:
        token_ids, padding_mask = inputs, None
    if not isinstance(token_ids, (Tensor, KerasTensor)):
        token_ids = ops.convert_to_tensor(np.asarray(token_ids))
    if padding_mask is None:
        padding_mask = ops.ones(tuple(token_ids.shape), dtype="int32") if isinstance(token_ids, Tensor) else None
    return {"token_ids": token_ids, "padding_mask": padding_mask}


@register_keras_serializable(package="keras_hub")
class GPT2Backbone(Backbone):
    """The GPT-2 decoder stack (keras_hub's ``GPT2Backbone``: arguments, sublayer names, weight
    shapes and order, config), a functional model of ``{"token_ids", "padding_mask"}``.

    Call: ``backbone({"token_ids": ids, "padding_mask": mask})`` with ``ids`` (B, T) integers and
    ``mask`` (B, T) (1 = real token) returns the (B, T, hidden_dim) hidden states; bare ``ids`` or
    an ``(ids, mask)`` pair are accepted too. Weights (in order): token embedding (V, D), position
    embedding (max_sequence_length, D), per layer the decoder's q/k/v kernels (D, N, D/N) and
    biases, output kernel (N, D/N, D) and bias, self-attention LayerNorm, feed-forward dense 1
    (D, I) and 2 (I, D), feed-forward LayerNorm; the final LayerNorm.

    Example::

        backbone = GPT2Backbone(vocabulary_size=50257, num_layers=12, num_heads=12, hidden_dim=768,
                                intermediate_dim=3072)
        h = backbone({"token_ids": ids, "padding_mask": ops.ones_like(ids)})  # (B, T, 768)

    Args:
        vocabulary_size: V.
        num_layers: number of decoder blocks.
        num_heads: attention heads (divides ``hidden_dim``).
        hidden_dim: D.
        intermediate_dim: width of the feed-forward network.
        dropout: dropout after the embeddings, on the attention weights and after each sublayer (0.1).
        max_sequence_length: rows of the position table; longer inputs raise (1024).
        dtype: compute and weight dtype (None: float32).
    """

    hf_model_types = ("gpt2",)

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout=0.1,
                 max_sequence_length=1024, dtype=None, **kwargs):
        unknown = sorted(set(kwargs) - {"name", "trainable"})
        if unknown:
            raise ValueError(f"GPT2Backbone: argument(s) {unknown} are not supported (keras_hub's GPT2Backbone takes "
                             "vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim, dropout, "
                             f"max_sequence_length, dtype, name, trainable). Received: {kwargs}")
        for name, value in (("vocabulary_size", vocabulary_size), ("num_layers", num_layers),
                            ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                            ("intermediate_dim", intermediate_dim), ("max_sequence_length", max_sequence_length)):
            positive_int(name, value, owner="GPT2Backbone")
        if hidden_dim % num_heads:
            raise ValueError(f"GPT2Backbone: `hidden_dim` must be divisible by `num_heads`. Received: "
                             f"hidden_dim={hidden_dim}, num_heads={num_heads}")
        check_rate("dropout", dropout, owner="GPT2Backbone")
        # === Layers ===
        self.token_embedding = ReversibleEmbedding(vocabulary_size, hidden_dim,
                                                   embeddings_initializer=initializers.RandomNormal(stddev=0.01),
                                                   dtype=dtype, name="token_embedding")
        self.position_embedding = PositionEmbedding(sequence_length=max_sequence_length,
                                                    initializer=initializers.RandomNormal(stddev=0.02),
                                                    dtype=dtype, name="position_embedding")
        self.embeddings_add = layers.Add(dtype=dtype, name="embeddings_add")
        self.embeddings_dropout = layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")
        self.transformer_layers = [
            TransformerDecoder(intermediate_dim=intermediate_dim, num_heads=num_heads, dropout=dropout,
                               layer_norm_epsilon=1e-05, activation=gelu_approximate,
                               kernel_initializer=initializers.RandomNormal(stddev=0.02), normalize_first=True,
                               dtype=dtype, name=f"transformer_layer_{i}")
            for i in range(num_layers)]
        self.layer_norm = layers.LayerNormalization(axis=-1, epsilon=1e-05, dtype=dtype, name="layer_norm")
        # === Functional model ===
        token_id_input = layers.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask_input = layers.Input(shape=(None,), dtype="int32", name="padding_mask")
        tokens = self.token_embedding(token_id_input)  # (B, T, D)
        positions = self.position_embedding(tokens)  # (B, T, D)
        x = self.embeddings_add((tokens, positions))
        x = self.embeddings_dropout(x)
        for block in self.transformer_layers:
            x = block(x, decoder_padding_mask=padding_mask_input)  # (B, T, D)
        sequence_output = self.layer_norm(x)  # (B, T, D)
        super().__init__(inputs={"token_ids": token_id_input, "padding_mask": padding_mask_input},
                         outputs=sequence_output, dtype=dtype, **kwargs)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length

    # ---- checks -------------------------------------------------------------------------------
    def _check_token_ids(self, token_ids, start=0):
        """Refuses, before any kernel runs, non-integer ids, a rank other than 2 and positions past
        the position table."""
        dtype = str(token_ids.dtype)
        if not (dtype.startswith("int") or dtype.startswith("uint")):
            raise TypeError(f"{self.name}: `token_ids` must hold integer token ids. Received dtype {dtype}")
        shape = tuple(token_ids.shape)
        if len(shape) != 2:
            raise ValueError(f"{self.name}: `token_ids` must have shape (batch_size, sequence_length). Received "
                             f"shape {shape}")
        if shape[1] is not None and start + shape[1] > self.max_sequence_length:
            raise ValueError(f"{self.name}: the sequence is {start + shape[1]} tokens long, more than "
                             f"max_sequence_length={self.max_sequence_length}")

    # ---- forward ------------------------------------------------------------------------------
    def _embed(self, token_ids, start_index=0, training=None):
        tokens = self.token_embedding(token_ids)  # (B, T, D)
        positions = self.position_embedding(tokens, start_index=start_index)  # (B, T, D)
        return self.embeddings_dropout(self.embeddings_add((tokens, positions)), training=training)

    def call(self, inputs, training=None, mask=None):
        inputs = _as_dict(inputs)
        self._check_token_ids(inputs["token_ids"])
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "num_layers": self.num_layers,
                "num_heads": self.num_heads, "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length}

    # ---- Hugging Face checkpoints -----------------------------------------------------------
    @classmethod
    def _from_hf_checkpoint(cls, directory, load_weights=True, **kwargs):
        """``from_preset`` (see :class:`Backbone`) on a local Hugging Face GPT-2 folder:
        ``config.json`` (``n_embd``, ``n_layer``, ``n_head``, ``n_positions``, ``vocab_size``,
        optional ``n_inner``) and ``model.safetensors`` (``wte.weight``,
        ``h.{i}.attn.c_attn.weight`` ... in Conv1D layout (in, out), q/k/v fused; optionally
        prefixed ``transformer.``). Every tensor is checked by name and shape."""
        config = _gpt2_config(read_config(directory), directory / CONFIG_FILE)
        backbone = cls(**{**config, **kwargs})
        if load_weights:
            path = directory / WEIGHTS_FILE
            _load_gpt2_weights(backbone, read_safetensors(path), path)
        return backbone


# ---- Hugging Face GPT-2 checkpoints (names and shapes checked by preset.CheckpointTensors) -------
def _gpt2_config(hf, where):
    def get(key, default=None, required=True):
        if key not in hf:
            if required:
                raise ValueError(f"{where}: no {key!r} entry (a GPT-2 config needs n_embd, n_layer, n_head, "
                                 "n_positions and vocab_size)")
            return default
        return hf[key]

    d = get("n_embd")
    act = get("activation_function", "gelu_new", required=False)
    if act not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"{where}: activation_function={act!r}; GPT2Backbone uses GELU with the tanh "
                         "approximation ('gelu_new')")
    eps = get("layer_norm_epsilon", 1e-5, required=False)
    if abs(float(eps) - 1e-5) > 1e-12:
        raise ValueError(f"{where}: layer_norm_epsilon={eps}; GPT2Backbone's layer norms use 1e-5")
    for flag in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"):
        if hf.get(flag):
            raise ValueError(f"{where}: {flag}=true, which GPT2Backbone does not implement")
    if not hf.get("scale_attn_weights", True):
        raise ValueError(f"{where}: scale_attn_weights=false, which GPT2Backbone does not implement")
    inner = get("n_inner", None, required=False)
    return {"vocabulary_size": get("vocab_size"), "num_layers": get("n_layer"), "num_heads": get("n_head"),
            "hidden_dim": d, "intermediate_dim": inner if inner is not None else 4 * d,
            "dropout": float(get("resid_pdrop", 0.1, required=False)), "max_sequence_length": get("n_positions")}


def _load_gpt2_weights(backbone, tensors, source):
    """Takes every tensor of a Hugging Face GPT-2 state dict for ``backbone`` (each name and shape
    checked, every tensor of the file accounted for) before assigning any: q/k/v split from the
    fused ``c_attn``, Conv1D (in, out) kernels reshaped to the einsum layouts."""
    prefix = "transformer." if "transformer.wte.weight" in tensors else ""
    ckpt = CheckpointTensors(tensors, source, prefix=prefix)
    b = backbone
    d, n, inner = b.hidden_dim, b.num_heads, b.intermediate_dim
    h = d // n
    wte = ckpt.take("wte.weight", (b.vocabulary_size, d))
    assign = [(b.token_embedding.embeddings, wte),
              (b.position_embedding.position_embeddings, ckpt.take("wpe.weight", (b.max_sequence_length, d)))]
    for i, block in enumerate(b.transformer_layers):
        p = f"h.{i}."
        attn = block._self_attention_layer
        qkv_w = ckpt.take(p + "attn.c_attn.weight", (d, 3 * d))  # (D, 3D): [q | k | v]
        qkv_b = ckpt.take(p + "attn.c_attn.bias", (3 * d,))
        for j, dense in enumerate((attn._query_dense, attn._key_dense, attn._value_dense)):
            assign.append((dense.kernel, qkv_w[:, j * d:(j + 1) * d].reshape(d, n, h)))  # (D, N, H)
            assign.append((dense.bias, qkv_b[j * d:(j + 1) * d].reshape(n, h)))  # (N, H)
        assign += [(attn._output_dense.kernel, ckpt.take(p + "attn.c_proj.weight", (d, d)).reshape(n, h, d)),
                   (attn._output_dense.bias, ckpt.take(p + "attn.c_proj.bias", (d,))),
                   (block._self_attention_layer_norm.gamma, ckpt.take(p + "ln_1.weight", (d,))),
                   (block._self_attention_layer_norm.beta, ckpt.take(p + "ln_1.bias", (d,))),
                   (block._feedforward_layer_norm.gamma, ckpt.take(p + "ln_2.weight", (d,))),
                   (block._feedforward_layer_norm.beta, ckpt.take(p + "ln_2.bias", (d,))),
                   (block._feedforward_intermediate_dense.kernel, ckpt.take(p + "mlp.c_fc.weight", (d, inner))),
                   (block._feedforward_intermediate_dense.bias, ckpt.take(p + "mlp.c_fc.bias", (inner,))),
                   (block._feedforward_output_dense.kernel, ckpt.take(p + "mlp.c_proj.weight", (inner, d))),
                   (block._feedforward_output_dense.bias, ckpt.take(p + "mlp.c_proj.bias", (d,)))]
    assign += [(b.layer_norm.gamma, ckpt.take("ln_f.weight", (d,))), (b.layer_norm.beta, ckpt.take("ln_f.bias", (d,)))]
    # The causal-mask buffers older checkpoints carry, and a head tied to wte.
    ckpt.ignore(lambda name: name.endswith((".attn.bias", ".attn.masked_bias")))
    if "lm_head.weight" in tensors:
        head = CheckpointTensors(tensors, source).take("lm_head.weight", (b.vocabulary_size, d))
        if not np.array_equal(head, wte):
            raise ValueError(f"{source}: lm_head.weight differs from wte.weight; GPT2CausalLM ties the output "
                             "projection to the token embedding")
        ckpt.ignore(lambda name: name == "lm_head.weight")
    ckpt.check_all_used("GPT2Backbone")
    prev = _core.set_grad_enabled(False)
    try:
        for var, value in assign:
            var.assign(_core.as_tensor(np.ascontiguousarray(value), var.dtype))
    finally:
        _core.set_grad_enabled(prev)


# ---- the causal LM task -------------------------------------------------------------------------
def _any_equal(token_ids, stop_token_ids, mask):
    """(B, L) bool: positions outside ``mask`` holding one of ``stop_token_ids``."""
    hit = np.isin(token_ids, np.asarray(list(stop_token_ids), dtype=np.int64))
    return hit & ~mask


@register_keras_serializable(package="keras_hub")
class GPT2CausalLM(Task):
    """A GPT-2 language model: the backbone's hidden states through the tied token embedding,
    ``logits = backbone(inputs) @ wte^T`` (B, T, V) (keras_hub's ``GPT2CausalLM``).

    Training: ``fit(x={"token_ids", "padding_mask"}, y=next_ids, sample_weight=mask)``; built
    compiled (``compile()``'s defaults: Adam(2e-5), sparse categorical cross-entropy from logits,
    weighted sparse categorical accuracy, the "top_k" sampler), as keras_hub.

    Generation: ``generate(inputs, max_length=None, stop_token_ids=None, strip_prompt=False)``
    where ``inputs`` is a dict ``{"token_ids": (B, L), "padding_mask": (B, L)}`` (prompt tokens
    first in each row, mask 1 on them), a (B, L) integer array (every token a prompt token), a list
    of token-id lists (ragged prompts) or one list of ids. ``max_length`` pads the rows on the right
    (required for lists). Dict/array inputs return ``{"token_ids", "padding_mask"}`` NumPy arrays
    (B, max_length) (mask: prompt and generated tokens, up to and including a stop token); list
    inputs return lists of ids (each row's prompt and continuation, or only the continuation with
    ``strip_prompt=True``). With a :class:`GPT2CausalLMPreprocessor` attached, a string or a list
    of strings is tokenized (``<|endoftext|>`` first), generated and detokenized, and
    ``stop_token_ids="auto"`` stops at ``<|endoftext|>``, as keras_hub.

    Example::

        lm = GPT2CausalLM(GPT2Backbone.from_preset("path/to/gpt2"))
        lm.compile(sampler="greedy")
        ids = lm.generate([[464, 2068], [15496]], max_length=20)

    Args:
        backbone: a :class:`GPT2Backbone`.
        preprocessor: None or a :class:`GPT2CausalLMPreprocessor` (the text path of ``generate``).
        compile: compile with the defaults above (True).
    """

    backbone_cls = GPT2Backbone

    def __init__(self, backbone, preprocessor=None, **kwargs):
        if not isinstance(preprocessor, GPT2CausalLMPreprocessor):
            self._check_preprocessor("GPT2CausalLM", preprocessor)
        if not isinstance(backbone, GPT2Backbone):
            raise TypeError(f"GPT2CausalLM: `backbone` must be a GPT2Backbone. Received: {type(backbone).__name__}")
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.sampler = None
        inputs = backbone.input
        hidden_states = backbone(inputs)  # (B, T, D)
        outputs = backbone.token_embedding(hidden_states, reverse=True)  # (B, T, V)
        super().__init__(inputs=inputs, outputs=outputs, dtype=backbone.dtype, **kwargs)

    def call(self, inputs, training=None, mask=None):
        inputs = _as_dict(inputs)
        self.backbone._check_token_ids(inputs["token_ids"])
        return super().call(inputs, training=training, mask=mask)

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics="auto", sampler="top_k", **kwargs):
        """keras_hub's ``CausalLM.compile``: "auto" gives Adam(2e-5), SparseCategoricalCrossentropy
        (from logits) and [SparseCategoricalAccuracy()] as weighted metrics; ``sampler`` (a name or
        a :mod:`ferrograd.hub.samplers` sampler) drives :meth:`generate`."""
        from ... import losses, metrics, optimizers

        if optimizer == "auto":
            optimizer = optimizers.Adam(2e-5)
        if loss == "auto":
            loss = losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [metrics.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs)
        self.sampler = _samplers.get(sampler)

    def get_config(self):
        config = super().get_config()
        if self.preprocessor is not None:
            config["preprocessor"] = {"class_name": "GPT2CausalLMPreprocessor",
                                      "config": self.preprocessor.get_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        pre = config.get("preprocessor")
        if isinstance(pre, dict):
            if pre.get("class_name") != "GPT2CausalLMPreprocessor":
                raise ValueError(f"GPT2CausalLM: unknown preprocessor class {pre.get('class_name')!r}")
            config["preprocessor"] = GPT2CausalLMPreprocessor.from_config(pre["config"])
        return super().from_config(config, custom_objects)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """The causal LM of a local Hugging Face GPT-2 folder (see :meth:`GPT2Backbone.from_preset`),
        with a :class:`GPT2CausalLMPreprocessor` when the folder holds ``vocab.json`` and
        ``merges.txt``."""
        directory = check_preset_directory(preset, cls.__name__)
        task_args = {k: kwargs.pop(k) for k in ("name", "compile") if k in kwargs}
        backbone = GPT2Backbone.from_preset(directory, load_weights=load_weights, **kwargs)
        preprocessor = None
        if (directory / "vocab.json").is_file() and (directory / "merges.txt").is_file():
            preprocessor = GPT2CausalLMPreprocessor.from_preset(directory,
                                                                sequence_length=backbone.max_sequence_length)
        return cls(backbone, preprocessor=preprocessor, **task_args)

    # ---- decoding ---------------------------------------------------------------------------
    def call_with_cache(self, token_ids, cache, cache_update_index):
        """One forward pass of the T tokens ``token_ids`` (B, T) at positions
        ``cache_update_index ..`` against the cache (B, num_layers, 2, S, N, H); returns
        ``(logits (B, T, V), hidden_states (B, T, D), cache)`` where the returned cache is a copy
        of ``cache`` with the rows at those positions written (``cache`` itself is not changed)."""
        index = int(cache_update_index) if not isinstance(cache_update_index, int) else cache_update_index
        return self._step_in_place(token_ids, ops.copy(cache), index)

    def _step_in_place(self, token_ids, cache, index, plan=None):
        """:meth:`call_with_cache` writing into ``cache`` itself (generation owns its cache, so
        each step writes T rows per layer instead of copying the whole cache). Each block runs as
        one fused core call when it can (see ``TransformerDecoder._fused_step``), else through its
        layers, its new cache copied back into ``cache[:, i]``. ``plan``: a :class:`_DecodePlan`
        (see :meth:`_decode_plan`), made once per generation."""
        b = self.backbone
        if plan is None:
            plan = self._decode_plan(self.dtype)
        head = plan.head
        if head is None:
            x = b._embed(token_ids, start_index=index)  # (B, T, D)
            direct = get_keras_mask(x) is None
        else:  # the embedding layers' arithmetic, without their call overhead
            t = token_ids.shape[1]
            if index + t > head.positions.shape[0]:
                raise ValueError(f"PositionEmbedding: positions {index}..{index + t - 1} are outside the table of "
                                 f"sequence_length={head.positions.shape[0]}")
            x = _core.take(head.embeddings, token_ids, 0) + head.positions[index:index + t]  # (B, T, D)
            direct = True
        views = plan.views if plan.cache is cache else None
        if views is None:  # a layer's (B, 2, S, N, H) view of the model's cache, made once per cache
            views = [cache[:, i] for i in range(len(b.transformer_layers))]
            plan.cache, plan.views = cache, views
        for block, args, view in zip(b.transformer_layers, plan.blocks, views):
            if args is not None and direct:
                x = _core.decoder_block_step(x, view, index, *args)
            else:
                x, layer_cache = block(x, self_attention_cache=view, self_attention_cache_update_index=index)
                view.assign(layer_cache)
        if head is None:
            hidden = b.layer_norm(x)  # (B, T, D)
            return b.token_embedding(hidden, reverse=True), hidden, cache
        hidden = _core.layer_norm(x, head.gamma, head.beta, head.epsilon, False)
        return hidden @ head.reverse, hidden, cache

    def _decode_plan(self, dtype):
        """What generation runs per step (a :class:`_DecodePlan`): each block's arguments to
        ``_core.decoder_block_step`` after the input, cache and index (None: it runs through its
        layers, as every block does while gradients are recorded), and the embedding and output weights when
        the backbone's embedding, position and final norm layers are the standard ones (no mask,
        soft cap, separate reverse weights or RMS norm), else None (they run as layers)."""
        b = self.backbone
        blocks = [None] * len(b.transformer_layers)
        if not _core.is_grad_enabled():  # the fused step records no gradients
            for i, block in enumerate(b.transformer_layers):
                args = block._fused_step_args(dtype)
                if args is not None:
                    blocks[i] = (*args, block.normalize_first, float(block.layer_norm_epsilon))
        emb, pos, norm = b.token_embedding, b.position_embedding, b.layer_norm
        standard = (type(emb) is ReversibleEmbedding and emb.tie_weights and emb.logit_soft_cap is None
                    and emb.reverse_dtype is None and not emb.mask_zero and type(pos) is PositionEmbedding
                    and type(norm) is layers.LayerNormalization and not norm.rms_scaling
                    and norm.axis in (-1, [-1], (-1,)) and emb.embeddings.dtype == dtype)
        head = None
        if standard:
            head = _DecodeHead(emb.embeddings, ops.transpose(emb.embeddings), pos.position_embeddings, norm.gamma,
                               norm.beta, float(norm.epsilon))
        return _DecodePlan(blocks, head)

    def _build_cache(self, token_ids, plan=None, prefill=None):
        """A cache (B, num_layers, 2, L, N, H) for the (B, L) ``token_ids``, its first ``prefill``
        rows (all when None) filled by one pass over those tokens; returns their hidden states
        (B, prefill, D) and the cache. Generation prefills only the shortest prompt: every later
        row is written by the decoding step at its position before any query reads it (keras_hub
        runs the whole padded width here, whose rows past the prompt are overwritten)."""
        b = self.backbone
        batch, length = token_ids.shape
        shape = (batch, b.num_layers, 2, length, b.num_heads, b.hidden_dim // b.num_heads)
        cache = ops.zeros(shape, dtype=self.dtype)
        if prefill is not None and prefill < length:
            token_ids = token_ids[:, :prefill]
        _, hidden, cache = self._step_in_place(token_ids, cache, 0, plan)
        return hidden, cache

    def generate_step(self, inputs, stop_token_ids=None):
        """Fills ``inputs["token_ids"]`` (B, L) from the shortest prompt's end with the sampler's
        choices (keras_hub's ``generate_step``); returns ``{"token_ids", "padding_mask"}`` tensors.
        The sampler's ``next`` writes each step's keys and values into the cache it is given (a
        cache this method made, or the sampler's own copy of it) and returns that cache."""
        token_ids = ops.convert_to_tensor(inputs["token_ids"])
        padding_mask = ops.cast(ops.convert_to_tensor(inputs["padding_mask"]), "bool")
        with _NoGrad():
            plan = self._decode_plan(self.dtype)
            index = int(ops.convert_to_numpy(ops.min(ops.sum(ops.cast(padding_mask, "int32"), axis=-1))))
            hidden, cache = self._build_cache(token_ids, plan, prefill=index)

            def next(prompt, cache, index):  # noqa: A001 - keras_hub's name
                step = index - 1
                logits, hidden, cache = self._step_in_place(prompt[:, step:step + 1], cache, step, plan)
                return ops.squeeze(logits, axis=1), ops.squeeze(hidden, axis=1), cache

            sampler = self.sampler if self.sampler is not None else _samplers.get("top_k")
            token_ids = sampler(next=next, prompt=token_ids, cache=cache, index=index, mask=padding_mask,
                                stop_token_ids=stop_token_ids, hidden_states=hidden, model=self)
        ids = ops.convert_to_numpy(token_ids)
        mask = ops.convert_to_numpy(padding_mask)
        if stop_token_ids is not None:
            end = _any_equal(ids, stop_token_ids, mask).astype(np.int32)
            overflow = np.cumsum(end, axis=-1) - end
            out_mask = overflow == 0
        else:
            out_mask = np.ones(ids.shape, dtype=bool)
        return {"token_ids": ids, "padding_mask": out_mask}

    def _normalize_prompts(self, inputs, max_length):
        """(token_ids int32 (B, W), padding_mask bool (B, W), kind) with W = max_length (or the
        given width); kind is "dict", "list" or "single"."""
        if isinstance(inputs, dict):
            if "token_ids" not in inputs:
                raise ValueError(f"generate: a dict input needs a 'token_ids' entry. Received keys {sorted(inputs)}")
            ids = ops.convert_to_numpy(inputs["token_ids"])
            mask = inputs.get("padding_mask")
            mask = np.ones(ids.shape, bool) if mask is None else ops.convert_to_numpy(mask).astype(bool)
            kind = "dict"
        elif isinstance(inputs, (list, tuple)) and (len(inputs) == 0 or isinstance(inputs[0], (list, tuple,
                                                                                                np.ndarray))):
            if len(inputs) == 0:
                raise ValueError("generate: received an empty list of prompts")
            rows = [np.asarray(r) for r in inputs]
            for r in rows:
                if r.ndim != 1:
                    raise ValueError("generate: a list of prompts must hold flat lists of token ids")
                _check_int("token_ids", r)
            if max_length is None:
                raise ValueError("generate: `max_length` is required when the prompts are lists of token ids")
            width = max(len(r) for r in rows)
            ids = np.zeros((len(rows), width), np.int64)
            mask = np.zeros((len(rows), width), bool)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = r
                mask[i, :len(r)] = True
            kind = "list"
        elif isinstance(inputs, (list, tuple)):
            return self._normalize_prompts([list(inputs)], max_length)[:2] + ("single",)
        else:
            ids = ops.convert_to_numpy(inputs)
            if ids.ndim == 1:
                _check_int("token_ids", ids)
                return self._normalize_prompts([ids], max_length)[:2] + ("single",)
            mask = np.ones(ids.shape, bool)
            kind = "dict"
        _check_int("token_ids", ids)
        if ids.ndim != 2 or mask.shape != ids.shape:
            raise ValueError(f"generate: `token_ids` must be (batch_size, length) with a padding_mask of the same "
                             f"shape. Received {ids.shape} and {mask.shape}")
        lengths = mask.sum(axis=1)
        if not np.array_equal(mask, np.arange(ids.shape[1])[None, :] < lengths[:, None]):
            raise ValueError("generate: each row's prompt tokens must come first (padding_mask 1s then 0s: right "
                             "padding)")
        if lengths.min() < 1:
            raise ValueError("generate: every prompt needs at least one token")
        vocab = self.backbone.vocabulary_size
        if ids.size and (ids[mask].min(initial=0) < 0 or ids[mask].max(initial=0) >= vocab):
            raise ValueError(f"generate: token ids must be in [0, {vocab}) (vocabulary_size). Received ids from "
                             f"{ids[mask].min()} to {ids[mask].max()}")
        limit = self.backbone.max_sequence_length
        if lengths.max() > limit:
            raise ValueError(f"generate: a prompt is {int(lengths.max())} tokens long, more than the model's "
                             f"max_sequence_length={limit}")
        width = ids.shape[1] if max_length is None else int(max_length)
        if width > limit:
            raise ValueError(f"generate: max_length={width} is more than the model's max_sequence_length={limit}")
        if width < ids.shape[1]:
            if lengths.max() > width:
                raise ValueError(f"generate: a prompt is {int(lengths.max())} tokens long, more than "
                                 f"max_length={width}")
            ids, mask = ids[:, :width], mask[:, :width]
        elif width > ids.shape[1]:
            pad = width - ids.shape[1]
            ids = np.pad(ids, ((0, 0), (0, pad)))
            mask = np.pad(mask, ((0, 0), (0, pad)))
        ids = np.where(mask, ids, 0).astype(np.int32)
        return ids, mask, kind

    def generate(self, inputs, max_length=None, stop_token_ids=None, strip_prompt=False):
        """Generates continuations of token-id prompts with the compiled sampler (see the class
        docstring for the input and output forms). ``stop_token_ids``: ids that end a row (None:
        fill every row to ``max_length``; "auto": the preprocessor's end token)."""
        if stop_token_ids == "auto" and self.preprocessor is not None:
            stop_token_ids = (self.preprocessor.tokenizer.end_token_id,)
        if isinstance(stop_token_ids, str):
            if stop_token_ids == "auto":
                raise ValueError("A `preprocessor` must be attached to the model if `stop_token_ids=\"auto\"`. "
                                 "Currently `preprocessor=None`. To call `generate()` with preprocessing detached, "
                                 "either pass `stop_token_ids=None` to always generate until `max_length` or pass "
                                 "a tuple of token ids that should terminate generation as `stop_token_ids`.")
            raise ValueError(f"generate: `stop_token_ids` must be None or a sequence of token ids. Received "
                             f"{stop_token_ids!r}")
        if stop_token_ids is not None:
            stop_token_ids = tuple(int(t) for t in stop_token_ids)
        texts = isinstance(inputs, str) or (isinstance(inputs, (list, tuple)) and len(inputs) > 0
                                            and all(isinstance(t, str) for t in inputs))
        if texts:
            if self.preprocessor is None:
                raise ValueError("generate: text prompts need a preprocessor (GPT2CausalLM(backbone, preprocessor="
                                 "GPT2CausalLMPreprocessor(...))); without one, pass token ids")
            packed = self.preprocessor.generate_preprocess(inputs, sequence_length=max_length)
            ids, mask, _ = self._normalize_prompts(packed, max_length)
            out = self.generate_step({"token_ids": ids, "padding_mask": mask}, stop_token_ids=stop_token_ids)
            if strip_prompt:
                out = {"token_ids": out["token_ids"], "padding_mask": out["padding_mask"] & ~mask}
            strings = self.preprocessor.generate_postprocess(out)
            return strings[0] if isinstance(inputs, str) else strings
        ids, mask, kind = self._normalize_prompts(inputs, max_length)
        out = self.generate_step({"token_ids": ids, "padding_mask": mask}, stop_token_ids=stop_token_ids)
        out_ids, out_mask = out["token_ids"], out["padding_mask"]
        if kind == "dict":
            if strip_prompt:
                keep = out_mask & ~mask
                rolled_ids = np.zeros_like(out_ids)
                rolled_mask = np.zeros_like(out_mask)
                for i in range(out_ids.shape[0]):
                    row = out_ids[i][keep[i]]
                    rolled_ids[i, :len(row)] = row
                    rolled_mask[i, :len(row)] = True
                return {"token_ids": rolled_ids, "padding_mask": rolled_mask}
            return {"token_ids": out_ids, "padding_mask": out_mask}
        keep = out_mask & ~mask if strip_prompt else out_mask
        rows = [out_ids[i][keep[i]].tolist() for i in range(out_ids.shape[0])]
        return rows[0] if kind == "single" else rows


class _DecodeHead:
    """The embedding and output weights a decoding step reads directly."""

    __slots__ = ("embeddings", "reverse", "positions", "gamma", "beta", "epsilon")

    def __init__(self, embeddings, reverse, positions, gamma, beta, epsilon):
        self.embeddings, self.reverse, self.positions = embeddings, reverse, positions  # (V, D), (D, V), (P, D)
        self.gamma, self.beta, self.epsilon = gamma, beta, epsilon


class _DecodePlan:
    """Per generation: the blocks' fused-step arguments, the :class:`_DecodeHead` (or None), and
    the per-layer views of the last cache seen (a sampler keeps passing the same cache)."""

    __slots__ = ("blocks", "head", "cache", "views")

    def __init__(self, blocks, head):
        self.blocks, self.head = blocks, head
        self.cache, self.views = None, None


class _NoGrad:
    """Grad mode off for a block (generation records no tape)."""

    def __enter__(self):
        self._prev = _core.set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False


def _check_int(name, array):
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        if array.size == 0 and array.dtype == np.float64:
            return  # an empty Python list
        raise TypeError(f"generate: `{name}` must hold integer token ids. Received dtype {array.dtype}")
