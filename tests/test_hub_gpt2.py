"""ferrograd.hub.models GPT2Backbone / GPT2CausalLM: cached decoding against the full forward pass,
a tiny Hugging Face GPT-2 checkpoint (tests/fixtures/tiny_gpt2, written by
tests/fixtures/capture_hf_gpt2.py) against transformers' logits and greedy generations, configs,
saving, training, and the errors of from_preset and generate."""
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import _core, ops
from ferrograd.hub import samplers
from ferrograd.hub.models import Backbone, GPT2Backbone, GPT2CausalLM

TINY = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_gpt2")
HF = json.load(open(os.path.join(TINY, "hf_outputs.json")))


def tiny_lm(seed=0, vocab=61, layers=2, heads=2, dim=16, max_len=40):
    keras.random.seed(seed)
    backbone = GPT2Backbone(vocabulary_size=vocab, num_layers=layers, num_heads=heads, hidden_dim=dim,
                            intermediate_dim=2 * dim, dropout=0.0, max_sequence_length=max_len)
    # GPT-2's initializers (std 0.01/0.02) give near-uniform logits; widen them so that greedy
    # choices are decided by clear margins.
    rng = np.random.RandomState(seed)
    backbone.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") if len(w.shape) >= 2 else w.numpy()
                          for w in backbone.weights])
    return GPT2CausalLM(backbone)


def uncached_generate(lm, token_ids, padding_mask):
    """Greedy generation recomputing the whole sequence each step (no cache): the reference."""
    def next(prompt, cache, index):  # noqa: A001
        logits = lm({"token_ids": prompt, "padding_mask": ops.ones_like(prompt)})  # (B, L, V)
        return logits[:, index - 1], None, cache

    index = int(np.asarray(padding_mask).sum(axis=1).min())
    out = samplers.GreedySampler()(next, ops.convert_to_tensor(token_ids), index=index, mask=padding_mask)
    return ops.convert_to_numpy(out)


def pad(prompts, width):
    ids = np.zeros((len(prompts), width), np.int32)
    mask = np.zeros((len(prompts), width), bool)
    for i, p in enumerate(prompts):
        ids[i, :len(p)] = p
        mask[i, :len(p)] = True
    return ids, mask


# ---- the cache -----------------------------------------------------------------------------------
def test_cached_forward_equals_full_forward_at_every_position():
    lm = tiny_lm()
    ids = np.random.RandomState(3).randint(0, 61, (3, 13)).astype(np.int32)
    full = lm(ids).numpy()  # (3, 13, 61)
    b = lm.backbone
    cache = ops.zeros((3, b.num_layers, 2, 13, b.num_heads, b.hidden_dim // b.num_heads))
    # a 5-token prefill, then one token per step against the cache
    logits, hidden, cache = lm.call_with_cache(ids[:, :5], cache, 0)
    steps = [logits.numpy()]
    assert tuple(hidden.shape) == (3, 5, 16)
    for t in range(5, 13):
        logits, hidden, cache = lm.call_with_cache(ids[:, t:t + 1], cache, t)
        assert tuple(logits.shape) == (3, 1, 61)
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=1e-5, atol=1e-5)
    # the cache holds the keys and values of every position: a last pass over all of it agrees too
    logits, _, _ = lm.call_with_cache(ids, cache, 0)
    np.testing.assert_allclose(logits.numpy(), full, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("prompts", [[[7, 3, 11]], [[7, 3, 11, 2, 9], [40], [5, 6, 1]]], ids=["batch1", "batch3"])
def test_cached_generation_equals_uncached_generation(prompts):
    lm = tiny_lm(seed=1)
    lm.compile(sampler="greedy")
    ids, mask = pad(prompts, 24)
    want = uncached_generate(lm, ids, mask)
    got = lm.generate({"token_ids": ids, "padding_mask": mask})
    np.testing.assert_array_equal(got["token_ids"], want)
    assert got["padding_mask"].all()
    # each row is its prompt generated alone (ragged prompts do not disturb each other)
    for i, p in enumerate(prompts):
        alone = lm.generate([p], max_length=24)[0]
        assert alone == want[i].tolist()
        assert alone[:len(p)] == p
    # the list form gives the same rows
    assert lm.generate(prompts, max_length=24) == want.tolist()


def test_generation_decodes_one_query_row_per_step():
    lm = tiny_lm()
    lm.compile(sampler="greedy")
    seen = []
    original = lm._step_in_place

    def spy(token_ids, cache, index, plan=None):
        seen.append((tuple(token_ids.shape), tuple(cache.shape), index))
        return original(token_ids, cache, index, plan)

    lm._step_in_place = spy
    lm.generate([[1, 2, 3], [4, 5]], max_length=9)
    assert seen[0] == ((2, 2), (2, 2, 2, 9, 2, 8), 0)  # the prefill of the shortest prompt
    assert seen[1:] == [((2, 1), (2, 2, 2, 9, 2, 8), i) for i in range(1, 8)]  # one row per step


def test_stop_token_ids_and_strip_prompt():
    lm = tiny_lm(seed=1)
    lm.compile(sampler="greedy")
    prompts = [[7, 3, 11, 2, 9], [40], [5, 6, 1]]
    full = lm.generate(prompts, max_length=24)
    stop = full[1][3]  # the third token generated for row 1
    out = lm.generate(dict(zip(("token_ids", "padding_mask"), pad(prompts, 24))), stop_token_ids=[stop])
    for i, p in enumerate(prompts):
        row = full[i]
        gen = row[len(p):]
        end = len(p) + gen.index(stop) + 1 if stop in gen else len(row)
        kept = out["token_ids"][i][out["padding_mask"][i]].tolist()
        assert kept == row[:end]
    stripped = lm.generate(prompts, max_length=24, strip_prompt=True)
    assert stripped == [row[len(p):] for row, p in zip(full, prompts)]
    single = lm.generate([7, 3, 11], max_length=10)
    assert single == lm.generate([[7, 3, 11]], max_length=10)[0] and len(single) == 10


def test_default_sampler_is_top_k_and_compile_sets_it():
    lm = tiny_lm()
    assert isinstance(lm.sampler, samplers.TopKSampler) and lm.sampler.k == 5
    lm.compile(sampler=samplers.TopPSampler(p=0.5, seed=3))
    assert isinstance(lm.sampler, samplers.TopPSampler)
    out = lm.generate([[1, 2]], max_length=12)[0]
    assert len(out) == 12 and out[:2] == [1, 2] and all(0 <= t < 61 for t in out)


# ---- Hugging Face checkpoint -------------------------------------------------------------------
def test_from_preset_matches_transformers_logits():
    lm = GPT2CausalLM.from_preset(TINY)
    b = lm.backbone
    assert (b.vocabulary_size, b.num_layers, b.num_heads, b.hidden_dim, b.intermediate_dim,
            b.max_sequence_length) == (64, 2, 2, 32, 128, 32)
    ids = np.asarray(HF["ids"], np.int32)
    np.testing.assert_allclose(lm(ids).numpy(), np.asarray(HF["logits"]), rtol=1e-4, atol=1e-4)
    # padding_mask only hides padded keys from later positions: the real positions are unchanged
    mask = np.ones_like(ids)
    mask[1, 9:] = 0
    out = lm({"token_ids": ids, "padding_mask": mask}).numpy()
    np.testing.assert_allclose(out[1, :9], np.asarray(HF["logits"])[1, :9], rtol=1e-4, atol=1e-4)


def test_from_preset_greedy_generate_matches_transformers():
    assert HF["min_greedy_margin"] > 1e-3  # the fixture's choices do not hinge on rounding
    lm = GPT2CausalLM.from_preset(TINY)
    lm.compile(sampler="greedy")
    assert lm.generate(HF["prompts"], max_length=HF["max_length"]) == HF["generations"]
    for prompt, want in zip(HF["prompts"], HF["generations"]):
        assert lm.generate([prompt], max_length=HF["max_length"]) == [want]


def test_backbone_from_preset_dispatches_on_model_type():
    backbone = Backbone.from_preset(TINY, dropout=0.0)
    assert type(backbone) is GPT2Backbone and backbone.dropout == 0.0
    assert isinstance(GPT2CausalLM(backbone), keras.Model)


def test_from_preset_reads_transformer_prefixed_names(tmp_path):
    tensors = dict(_core.safetensors_loads(open(os.path.join(TINY, "model.safetensors"), "rb").read())[0])
    shutil.copy(os.path.join(TINY, "config.json"), tmp_path / "config.json")
    entries = [("transformer." + k if not k.startswith("transformer.") else k, v) for k, v in tensors.items()]
    entries.append(("lm_head.weight", [v for k, v in tensors.items() if k.endswith("wte.weight")][0]))
    (tmp_path / "model.safetensors").write_bytes(_core.safetensors_dumps(entries, {"format": "pt"}))
    lm = GPT2CausalLM.from_preset(tmp_path)
    np.testing.assert_allclose(lm(np.asarray(HF["ids"], np.int32)).numpy(), np.asarray(HF["logits"]),
                               rtol=1e-4, atol=1e-4)


def _write_variant(tmp_path, edit):
    tensors = dict(_core.safetensors_loads(open(os.path.join(TINY, "model.safetensors"), "rb").read())[0])
    shutil.copy(os.path.join(TINY, "config.json"), tmp_path / "config.json")
    entries = edit(list(tensors.items()))
    (tmp_path / "model.safetensors").write_bytes(_core.safetensors_dumps(entries, {"format": "pt"}))
    return tmp_path


def _base(name):
    return name[len("transformer."):] if name.startswith("transformer.") else name


def test_from_preset_missing_tensor(tmp_path):
    path = _write_variant(tmp_path, lambda e: [(k, v) for k, v in e if _base(k) != "h.1.mlp.c_fc.bias"])
    with pytest.raises(ValueError, match=r"h\.1\.mlp\.c_fc\.bias"):
        GPT2Backbone.from_preset(path)


def test_from_preset_misshaped_tensor(tmp_path):
    def edit(entries):
        return [(k, ops.zeros((32, 64)) if _base(k) == "h.0.attn.c_attn.weight" else v) for k, v in entries]

    with pytest.raises(ValueError, match=r"h\.0\.attn\.c_attn\.weight.*\(32, 64\).*\(32, 96\)"):
        GPT2Backbone.from_preset(_write_variant(tmp_path, edit))


def test_from_preset_unexpected_tensor(tmp_path):
    path = _write_variant(tmp_path, lambda e: e + [("h.9.attn.c_proj.weight", ops.zeros((32, 32)))])
    with pytest.raises(ValueError, match=r"h\.9\.attn\.c_proj\.weight"):
        GPT2Backbone.from_preset(path)


def test_from_preset_untied_head_refused(tmp_path):
    path = _write_variant(tmp_path, lambda e: e + [("lm_head.weight", ops.ones((64, 32)))])
    with pytest.raises(ValueError, match="lm_head.weight differs from wte.weight"):
        GPT2Backbone.from_preset(path)


def test_from_preset_not_a_directory(tmp_path):
    with pytest.raises(ValueError, match="not an existing directory"):
        GPT2Backbone.from_preset("gpt2_base_en")
    with pytest.raises(ValueError, match="not an existing directory"):
        GPT2CausalLM.from_preset(os.path.join(TINY, "config.json"))
    with pytest.raises(ValueError, match="preset"):
        GPT2Backbone.from_preset(42)


def test_from_preset_config_errors(tmp_path):
    cfg = json.load(open(os.path.join(TINY, "config.json")))
    del cfg["n_head"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="'n_head'"):
        GPT2Backbone.from_preset(tmp_path)
    cfg["n_head"] = 2
    cfg["activation_function"] = "relu"
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="activation_function='relu'"):
        GPT2Backbone.from_preset(tmp_path)


# ---- generate's argument errors ------------------------------------------------------------------
def test_generate_errors():
    lm = tiny_lm(max_len=16)
    with pytest.raises(ValueError, match="max_sequence_length=16"):
        lm.generate([list(range(17))], max_length=16)
    with pytest.raises(ValueError, match="max_length=20 is more than the model's max_sequence_length=16"):
        lm.generate([[1, 2]], max_length=20)
    with pytest.raises(TypeError, match="integer token ids.*float"):
        lm.generate([[1.0, 2.5]], max_length=8)
    with pytest.raises(TypeError, match="integer token ids.*float"):
        lm.generate({"token_ids": np.ones((2, 4), np.float32), "padding_mask": np.ones((2, 4))})
    with pytest.raises(ValueError, match="max_length"):
        lm.generate([[1, 2]])
    with pytest.raises(ValueError, match="vocabulary_size"):
        lm.generate([[1, 99]], max_length=8)
    with pytest.raises(ValueError, match="right"):
        lm.generate({"token_ids": np.ones((1, 4), np.int32), "padding_mask": np.array([[0, 1, 1, 1]])})
    with pytest.raises(ValueError, match="preprocessor"):
        lm.generate([[1, 2]], max_length=8, stop_token_ids="auto")
    with pytest.raises(ValueError, match="max_sequence_length=16"):
        lm(np.ones((1, 17), np.int32))
    with pytest.raises(TypeError, match="token_ids"):
        lm.backbone(np.ones((1, 4), np.float32))


def test_constructor_errors():
    with pytest.raises(ValueError, match="num_heads"):
        GPT2Backbone(vocabulary_size=10, num_layers=1, num_heads=3, hidden_dim=16, intermediate_dim=8)
    with pytest.raises(ValueError, match="num_layers"):
        GPT2Backbone(vocabulary_size=10, num_layers=0, num_heads=2, hidden_dim=16, intermediate_dim=8)
    backbone = GPT2Backbone(vocabulary_size=10, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=8)
    with pytest.raises(ValueError, match="preprocessor"):
        GPT2CausalLM(backbone, preprocessor=object())
    with pytest.raises(TypeError, match="GPT2Backbone"):
        GPT2CausalLM(object())


# ---- structure, configs, saving, training ------------------------------------------------------
def test_weights_and_config_match_keras_hub():
    b = GPT2Backbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
                     max_sequence_length=12)
    # keras_hub 0.32's GPT2Backbone with these arguments has 36 weights and 2,536 parameters
    assert len(b.weights) == 36
    assert b.count_params() == 50 * 8 + 12 * 8 + 2 * (3 * (8 * 8 + 8) + 8 * 8 + 8 + 2 * 8 + 8 * 16 + 16 + 16 * 8
                                                     + 8 + 2 * 8) + 2 * 8
    assert [tuple(w.shape) for w in b.weights[:6]] == [(50, 8), (12, 8), (8, 2, 4), (2, 4), (8, 2, 4), (2, 4)]
    cfg = b.get_config()
    assert {k: cfg[k] for k in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
                                "dropout", "max_sequence_length")} == {
        "vocabulary_size": 50, "num_layers": 2, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16,
        "dropout": 0.1, "max_sequence_length": 12}
    again = GPT2Backbone.from_config(cfg)
    assert again.get_config() == cfg
    lm_cfg = GPT2CausalLM(b).get_config()
    lm2 = GPT2CausalLM.from_config(lm_cfg)
    assert lm2.backbone.get_config()["num_layers"] == 2 and lm2.get_config()["backbone"]["config"] == {
        **cfg, "name": lm2.backbone.name}


def test_save_load_round_trip(tmp_path):
    lm = tiny_lm(seed=2)
    ids = np.random.RandomState(0).randint(0, 61, (2, 9)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[0, 6:] = 0
    want = lm({"token_ids": ids, "padding_mask": mask}).numpy()
    path = str(tmp_path / "gpt2.keras")
    lm.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is GPT2CausalLM and type(loaded.backbone) is GPT2Backbone
    np.testing.assert_array_equal(loaded({"token_ids": ids, "padding_mask": mask}).numpy(), want)
    loaded.compile(sampler="greedy")
    lm.compile(sampler="greedy")
    assert loaded.generate([[3, 4, 5]], max_length=12) == lm.generate([[3, 4, 5]], max_length=12)
    bpath = str(tmp_path / "backbone.keras")
    lm.backbone.save(bpath)
    b2 = keras.saving.load_model(bpath)
    np.testing.assert_array_equal(b2([ids, mask]).numpy(), lm.backbone([ids, mask]).numpy())


def test_fit_reduces_loss():
    keras.random.seed(0)
    backbone = GPT2Backbone(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                            dropout=0.0, max_sequence_length=16)
    lm = GPT2CausalLM(backbone)
    lm.compile(optimizer=keras.optimizers.Adam(1e-2))
    rng = np.random.RandomState(0)
    start = rng.randint(0, 20, (32, 1))
    seq = (start + np.arange(13)[None, :]) % 20  # a learnable pattern: each token is the previous + 1
    x = {"token_ids": seq[:, :-1].astype(np.int32), "padding_mask": np.ones((32, 12), np.int32)}
    y = seq[:, 1:].astype(np.int32)
    hist = lm.fit(x, y, sample_weight=x["padding_mask"].astype(np.float32), batch_size=8, epochs=8, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert "sparse_categorical_accuracy" in hist.history


def test_keras_hub_script_through_keras_compat(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import keras_hub
        backbone = keras_hub.models.GPT2Backbone(vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
                                                 intermediate_dim=16, max_sequence_length=16)
        lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
        lm.compile(sampler=keras_hub.samplers.GreedySampler())
        ids = np.zeros((2, 10), "int32")
        ids[:, :3] = [[5, 6, 7], [8, 9, 10]]
        mask = np.zeros((2, 10), bool)
        mask[:, :3] = True
        out = lm.generate({"token_ids": ids, "padding_mask": mask}, stop_token_ids=None)
        vit = keras_hub.models.ViTBackbone(image_shape=(8, 8, 1), patch_size=4, num_layers=1, num_heads=2,
                                           hidden_dim=8, mlp_dim=8)
        clf = keras_hub.models.ViTImageClassifier(vit, num_classes=3)
        print("OUT", out["token_ids"].shape, out["token_ids"][:, :3].tolist(), type(lm).__name__,
              tuple(clf.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0).shape))
    """))
    env = dict(os.environ, KERAS_BACKEND="torch")
    p = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", str(script)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "OUT (2, 10) [[5, 6, 7], [8, 9, 10]] GPT2CausalLM (2, 3)" in p.stdout


# ---- the text path (GPT2Tokenizer + GPT2CausalLMPreprocessor) -------------------------------------
def _byte_vocabulary():
    """GPT-2's byte -> printable character map (its bytes_to_unicode), as {char: byte}."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), 256))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def tiny_text_lm(tmp_path=None):
    from ferrograd.hub.models import GPT2CausalLMPreprocessor, GPT2Tokenizer

    vocab = dict(_byte_vocabulary())
    merges = ["h e", "l l", "he ll", "Ġ w", "o r"]
    for m in merges:
        vocab["".join(m.split(" "))] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    if tmp_path is not None:
        (tmp_path / "vocab.json").write_text(json.dumps(vocab))
        (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
        tokenizer = GPT2Tokenizer.from_preset(tmp_path)
    else:
        tokenizer = GPT2Tokenizer(vocabulary=vocab, merges=merges)
    lm = tiny_lm(seed=4, vocab=len(vocab), max_len=24)
    pre = GPT2CausalLMPreprocessor(tokenizer, sequence_length=16)
    return GPT2CausalLM(lm.backbone, preprocessor=pre), tokenizer


def test_generate_from_text_matches_the_id_path():
    lm, tok = tiny_text_lm()
    lm.compile(sampler="greedy")
    eot = tok.end_token_id
    assert tok.start_token_id == eot == 261 and tok.pad_token_id == 0
    prompts = ["hello world", "or"]
    ids = [[eot] + tok.tokenize(p).tolist() for p in prompts]
    assert ids[0][:3] == [eot, tok.token_to_id("hell"), ord("o")]
    want_ids = lm.generate(ids, max_length=20)
    want = [tok.detokenize([t for t in row if t != eot]) for row in want_ids]
    got = lm.generate(prompts, max_length=20)
    assert got == want and got[0].startswith("hello world") and got[1].startswith("or")
    assert lm.generate("hello world", max_length=20) == want[0]
    assert lm.generate(prompts, max_length=20, strip_prompt=True) == [w[len(p):] for w, p in zip(want, prompts)]


def test_text_stop_token_auto_stops_at_end_of_text():
    lm, tok = tiny_text_lm()
    lm.compile(sampler="greedy")
    eot = tok.end_token_id
    # make <|endoftext|> the best next token everywhere: the final LayerNorm outputs its beta (all
    # ones) whatever the input, and the tied logits are then the row sums of the embedding table
    table = lm.backbone.token_embedding.embeddings.numpy().copy()
    lm.backbone.layer_norm.set_weights([np.zeros(16, np.float32), np.ones(16, np.float32)])
    table[eot] = 5.0
    lm.backbone.token_embedding.set_weights([table])
    out = lm.generate({"token_ids": np.asarray([[eot, 104, 0, 0, 0, 0]], np.int32),
                       "padding_mask": np.asarray([[1, 1, 0, 0, 0, 0]], bool)}, stop_token_ids="auto")
    assert out["token_ids"][0, 2] == eot and out["padding_mask"][0].tolist() == [True] * 3 + [False] * 3
    assert lm.generate("h", max_length=8, stop_token_ids="auto") == "h"


def test_preprocessor_training_batch_and_errors(tmp_path):
    from ferrograd.hub.models import GPT2CausalLMPreprocessor

    lm, tok = tiny_text_lm(tmp_path)
    pre = lm.preprocessor
    x, y, sw = pre(["hello", "or or or or or or or or or or or or or or or or"])
    eot = tok.end_token_id
    hello = [eot, tok.token_to_id("hell"), ord("o"), eot]
    assert x["token_ids"].shape == (2, 16) and y.shape == (2, 16)
    assert x["token_ids"][0, :4].tolist() == hello and y[0, :3].tolist() == hello[1:]
    assert x["padding_mask"][0].tolist() == [True] * 4 + [False] * 12
    assert sw[0].tolist() == [1.0] * 3 + [0.0] * 13
    assert y[1, -1] == eot  # truncated, the end token kept
    hist = lm.fit(x, y, sample_weight=sw, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2
    with pytest.raises(ValueError, match="text prompts need a preprocessor"):
        GPT2CausalLM(lm.backbone).generate("hello", max_length=8)
    with pytest.raises(TypeError, match="GPT2Tokenizer"):
        GPT2CausalLMPreprocessor(object())
    with pytest.raises(ValueError, match="merges.txt"):
        (tmp_path / "merges.txt").unlink()
        type(tok).from_preset(tmp_path)


def test_text_lm_save_load_round_trip(tmp_path):
    lm, _ = tiny_text_lm()
    lm.compile(sampler="greedy")
    want = lm.generate(["hello", "wor"], max_length=14)
    path = str(tmp_path / "text_lm.keras")
    lm.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.preprocessor.get_config() == lm.preprocessor.get_config()
    loaded.compile(sampler="greedy")
    assert loaded.generate(["hello", "wor"], max_length=14) == want
