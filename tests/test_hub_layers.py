"""ferrograd.hub.layers against keras_hub 0.32 (fixtures measured by tests/fixtures/capture_keras_hub.py)
and against NumPy references computed from the layers' own weights."""
import json
import math
import os

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import hub, layers, ops

FIXTURES = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "hub_layers.json")))
CASES = FIXTURES["cases"]


def build(spec):
    kwargs = dict(spec["kwargs"])
    if isinstance(kwargs.get("token_embedding"), dict):
        kwargs["token_embedding"] = build(kwargs["token_embedding"])
    return getattr(hub.layers, spec["class"])(**kwargs)


def tensor(entry):
    return keras.tensor(np.asarray(entry["value"], dtype=entry["dtype"]))


def call(layer, c):
    args = [tensor(a) for a in c["args"]]
    kwargs = {k: tensor(v) for k, v in c["kwargs"].items()}
    return layer(*args, **kwargs, **c["static"])


def flat(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c["args"]])
def test_matches_keras_hub(name):
    c = CASES[name]
    layer = build(c["spec"])
    call(layer, c)  # builds
    assert [tuple(w.shape) for w in layer.weights] == [tuple(w["shape"]) for w in c["weights"]]
    assert layer.count_params() == c["count_params"]
    assert len(layer.trainable_weights) == c["trainable_count"]
    layer.set_weights([np.asarray(w["value"], "float32") for w in c["weights"]])
    outs = flat(call(layer, c))
    assert len(outs) == len(c["outputs"])
    for got, want in zip(outs, c["outputs"]):
        np.testing.assert_allclose(got.numpy(), np.asarray(want["value"]), rtol=2e-5, atol=2e-5)
        mask = getattr(got, "_keras_mask", None)
        if want["mask"] is None:
            assert mask is None
        else:
            np.testing.assert_array_equal(mask.numpy(), np.asarray(want["mask"]))


def _comparable(cfg):
    out = {}
    for k, v in cfg.items():
        if k in ("name", "dtype", "trainable", "input_axes", "output_axes"):
            continue  # (Keras 3.15's GlorotUniform also lists input/output axes)
        if isinstance(v, dict) and "config" in v:
            v = {"class_name": v["class_name"], "config": _comparable(v["config"])}
        out[k] = v
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_config_matches_keras_hub_and_round_trips(name):
    c = CASES[name]
    layer = build(c["spec"])
    cfg = layer.get_config()
    want = _comparable(c["config"])
    got = _comparable(cfg)
    if c["spec"]["class"] == "MaskedLMMaskGenerator":
        got.pop("seed")  # ferrograd's also takes a seed
    if c["spec"]["class"] == "CachedMultiHeadAttention":
        got.pop("flash_attention")  # ferrograd's MultiHeadAttention config (Keras 3.15 leaves it out)
    for key in ("kernel_initializer",):  # Keras 3.15's GlorotUniform also lists input/output axes
        for d in (want, got):
            if isinstance(d.get(key), dict):
                d[key]["config"] = {"seed": d[key]["config"].get("seed")}
    if "token_embedding" in want and want["token_embedding"]:
        want["token_embedding"]["config"].pop("quantization_config", None)
        got["token_embedding"]["config"].pop("quantization_config", None)
    assert got == want
    again = type(layer).from_config(cfg)
    assert again.get_config() == cfg


# ---- NumPy references from the layers' own weights ---------------------------------------------
def _ln(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _mha(wts, q_in, kv_in, mask):
    qk, qb, kk, kb, vk, vb, ok, ob = wts
    q = np.einsum("btd,dnh->btnh", q_in, qk) + qb
    k = np.einsum("bsd,dnh->bsnh", kv_in, kk) + kb
    v = np.einsum("bsd,dnh->bsnh", kv_in, vk) + vb
    s = np.einsum("btnh,bsnh->bnts", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask[:, None], s, -1e9)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnhd,hdo->bno", np.einsum("bnts,bsnh->btnh", p, v), ok) + ob if False else \
        np.einsum("btnh,nho->bto", np.einsum("bnts,bsnh->btnh", p, v), ok) + ob


def _encoder_ref(w, x, mask, eps, pre):
    att, (g1, b1), (g2, b2), (k1, c1), (k2, c2) = w[:8], w[8:10], w[10:12], w[12:14], w[14:16]
    h = _ln(x, g1, b1, eps) if pre else x
    h = x + _mha(att, h, h, mask)
    if not pre:
        h = _ln(h, g1, b1, eps)
    f = _ln(h, g2, b2, eps) if pre else h
    y = h + np.maximum(f @ k1 + c1, 0) @ k2 + c2
    return y if pre else _ln(y, g2, b2, eps)


@pytest.mark.parametrize("pre", [False, True])
def test_encoder_numpy_reference_padding_mask(pre):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 8)).astype("float32")
    pad = np.ones((3, 6), bool)
    pad[1, 4:] = False
    pad[2, 1:] = False
    layer = hub.layers.TransformerEncoder(16, 2, normalize_first=pre)
    layer(keras.tensor(x))
    layer.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.3 for w in layer.weights])
    got = layer(keras.tensor(x), padding_mask=keras.tensor(pad)).numpy()
    want = _encoder_ref([w.numpy() for w in layer.weights], x, np.broadcast_to(pad[:, None], (3, 6, 6)), 1e-5, pre)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # the mask riding on the input acts as the padding mask (and rides on to the output)
    xt = keras.tensor(x)
    xt._keras_mask = keras.tensor(pad)
    out = layer(xt)
    np.testing.assert_allclose(out.numpy()[pad], want[pad], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out._keras_mask.numpy(), pad)


def test_decoder_cached_decoding_matches_full_sequence():
    rng = np.random.default_rng(1)
    b, t, d, heads = 2, 6, 8, 2
    x = keras.tensor(rng.standard_normal((b, t, d)).astype("float32"))
    layer = hub.layers.TransformerDecoder(16, heads, normalize_first=True)
    full = layer(x).numpy()
    cache = ops.zeros((b, 2, t, heads, d // heads))
    out, cache = layer(x[:, :3], self_attention_cache=cache, self_attention_cache_update_index=0)
    steps = [out.numpy()]
    for i in range(3, t):
        out, cache = layer(x[:, i:i + 1], self_attention_cache=cache, self_attention_cache_update_index=i)
        steps.append(out.numpy())
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, rtol=1e-4, atol=1e-5)
    assert tuple(cache.shape) == (b, 2, t, heads, d // heads)


def test_decoder_cross_attention_call_contract():
    layer = hub.layers.TransformerDecoder(16, 2)
    dec, enc = ops.ones((1, 3, 8)), ops.ones((1, 4, 8))
    layer(dec, enc)
    with pytest.raises(ValueError, match="built with cross attention"):
        layer(dec)
    other = hub.layers.TransformerDecoder(16, 2)
    other(dec)
    with pytest.raises(ValueError, match="built without cross attention"):
        other(dec, enc)


def test_symbolic_none_dims_and_functional_save_load(tmp_path):
    ids = keras.Input((None,), dtype="int32")
    x = hub.layers.TokenAndPositionEmbedding(20, 16, 8, mask_zero=True)(ids)
    assert tuple(x.shape) == (None, None, 8)
    x = hub.layers.TransformerEncoder(16, 2)(x)
    x = hub.layers.TransformerDecoder(16, 2, normalize_first=True)(x)
    x = hub.layers.SwiGLU(12)(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(ids, layers.Dense(3)(x))
    data = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], "int32")
    before = model.predict(data, verbose=0)
    path = str(tmp_path / "hub.keras")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(data, verbose=0), before, rtol=1e-5, atol=1e-6)
    # variable length: a longer batch runs on the same model
    assert model.predict(np.ones((2, 9), "int32"), verbose=0).shape == (2, 3)


def test_saved_hub_model_loads_without_importing_hub(tmp_path):
    # keras_hub-style classes register when ferrograd.hub is imported; loading a file must not
    # depend on the loading script having imported it.
    import subprocess
    import sys

    ids = keras.Input((None,), dtype="int32")
    x = hub.layers.TokenAndPositionEmbedding(20, 16, 8)(ids)
    x = hub.layers.TransformerEncoder(16, 2)(x)
    model = keras.Model(ids, layers.Dense(3)(x))
    path = str(tmp_path / "lazy.keras")
    model.save(path)
    data = np.array([[1, 2, 3, 4]], "int32")
    np.save(str(tmp_path / "want.npy"), model.predict(data, verbose=0))
    code = (
        "import sys, numpy as np, ferrograd as keras\n"
        "assert 'ferrograd.hub' not in sys.modules\n"
        f"m = keras.models.load_model({path!r})\n"
        f"got = m.predict(np.array([[1, 2, 3, 4]], 'int32'), verbose=0)\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'want.npy')!r}), rtol=1e-5, atol=1e-6)\n"
        "print(type(m.layers[1]).__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("ferrograd.hub")


def test_functional_encoder_trains():
    keras.random.seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, (64, 8)).astype("int32")
    y = (ids[:, 0] > 10).astype("int32")
    inp = keras.Input((8,), dtype="int32")
    x = hub.layers.TokenAndPositionEmbedding(20, 8, 16)(inp)
    x = hub.layers.TransformerEncoder(32, 2, dropout=0.1)(x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, layers.Dense(2)(x))
    model.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(ids, y, batch_size=16, epochs=10, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.7


def test_rotary_numpy_reference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 3, 8)).astype("float32")
    got = hub.layers.RotaryEmbedding(max_wavelength=100)(keras.tensor(x), start_index=2).numpy()
    inv = 100.0 ** (-np.arange(0, 8, 2) / 8)
    ang = np.outer(np.arange(2, 7), inv)  # (T, 4)
    cos, sin = np.cos(ang)[None, :, None], np.sin(ang)[None, :, None]
    x1, x2 = x[..., :4], x[..., 4:]
    want = np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_masked_lm_head_tied_save_load(tmp_path):
    ids = keras.Input((None,), dtype="int32")
    pos = keras.Input((3,), dtype="int32")
    emb = hub.layers.ReversibleEmbedding(30, 8)
    h = hub.layers.TransformerEncoder(16, 2)(emb(ids))
    out = hub.layers.MaskedLMHead(vocabulary_size=30, activation="softmax")(h, mask_positions=pos)
    assert tuple(out.shape) == (None, 3, 30)
    model = keras.Model([ids, pos], out)
    data = [np.array([[1, 2, 3, 4, 5, 6]], "int32"), np.array([[0, 2, 5]], "int32")]
    before = model.predict(data, verbose=0)
    np.testing.assert_allclose(before.sum(-1), 1.0, rtol=1e-5)
    model.save(str(tmp_path / "mlm.keras"))
    again = keras.models.load_model(str(tmp_path / "mlm.keras"))
    np.testing.assert_allclose(again.predict(data, verbose=0), before, rtol=1e-5, atol=1e-6)


def test_mask_generator_statistics_and_shapes():
    keras.random.seed(3)
    gen = hub.layers.MaskedLMMaskGenerator(vocabulary_size=50, mask_selection_rate=0.3, mask_token_id=1,
                                           mask_selection_length=6, unselectable_token_ids=[0, 2])
    ids = np.random.default_rng(0).integers(3, 50, (400, 20)).astype("int32")
    ids[:, -4:] = 0
    out = gen(ids)
    assert out["token_ids"].shape == (400, 20) and out["mask_positions"].shape == (400, 6)
    w = out["mask_weights"]
    pos = out["mask_positions"]
    assert (pos[w > 0] < 16).all()  # padding never selected
    np.testing.assert_array_equal(np.take_along_axis(ids, pos, 1)[w > 0], out["mask_ids"][w > 0])
    picked = np.take_along_axis(out["token_ids"], pos, 1)[w > 0]
    assert abs((picked == 1).mean() - 0.8) < 0.05  # 80% become the mask token
    changed = (out["token_ids"] != ids).sum(1)
    assert (changed <= w.sum(1)).all()
    assert 0.2 < w.sum() / (400 * 16) < 0.4
    ragged = gen([[5, 6, 7], [8, 9]])
    assert [len(r) for r in ragged["token_ids"]] == [3, 2]


# ---- ferrograd's own blocks ----------------------------------------------------------------------
def test_swiglu_reference():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6)).astype("float32")
    layer = hub.layers.SwiGLU(10)
    y = layer(keras.tensor(x)).numpy()
    g, u, o = (w.numpy() for w in layer.weights)
    a = x @ g
    np.testing.assert_allclose(y, (a / (1 + np.exp(-a)) * (x @ u)) @ o, rtol=1e-4, atol=1e-5)
    assert [tuple(w.shape) for w in layer.weights] == [(6, 10), (6, 10), (10, 6)]


@pytest.mark.parametrize("capacity", [None, 0.5])
def test_mixture_of_experts_reference_and_aux_loss(capacity):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 6)).astype("float32")
    layer = hub.layers.MixtureOfExperts(num_experts=3, expert_dim=5, top_k=2, capacity_factor=capacity,
                                        activation="relu", aux_loss_weight=0.1)
    y = layer(keras.tensor(x)).numpy()
    k1, b1, k2, b2, r = (w.numpy() for w in layer.weights)
    xf = x.reshape(-1, 6)
    logits = xf @ r
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    chosen = np.zeros_like(p)
    np.put_along_axis(chosen, np.argsort(-p, -1)[:, :2], 1.0, -1)
    if capacity is not None:
        cap = math.ceil(capacity * 8 * 2 / 3)
        chosen *= np.cumsum(chosen, 0) <= cap
    gates = p * chosen / np.maximum((p * chosen).sum(-1, keepdims=True), 1e-9)
    experts = np.einsum("neh,ehd->ned", np.maximum(np.einsum("nd,edh->neh", xf, k1) + b1, 0), k2) + b2
    np.testing.assert_allclose(y.reshape(-1, 6), np.einsum("ne,ned->nd", gates, experts), rtol=1e-4, atol=1e-5)
    (aux,) = layer.losses
    want = 0.1 * 3 * np.sum(chosen.sum(0) / chosen.sum() * p.mean(0))
    np.testing.assert_allclose(float(aux.numpy()), want, rtol=1e-5)


def test_mixture_of_experts_loss_reaches_model_and_trains():
    keras.random.seed(1)
    inp = keras.Input((4, 6))
    out = layers.Dense(1)(layers.GlobalAveragePooling1D()(hub.layers.MixtureOfExperts(4, 8)(inp)))
    model = keras.Model(inp, out)
    x = np.random.default_rng(0).standard_normal((32, 4, 6)).astype("float32")
    model(keras.tensor(x))
    assert len(model.losses) == 1
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, x.sum((1, 2))[:, None], epochs=4, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_class_token_and_patch_embedding():
    rng = np.random.default_rng(6)
    img = rng.standard_normal((2, 8, 12, 3)).astype("float32")
    pe = hub.layers.PatchEmbedding(4, 5)
    seq = pe(keras.tensor(img))
    assert tuple(seq.shape) == (2, 6, 5)
    k, b = (w.numpy() for w in pe.weights)
    patches = img.reshape(2, 2, 4, 3, 4, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 6, 48)
    np.testing.assert_allclose(seq.numpy(), patches @ k.reshape(48, 5) + b, rtol=1e-4, atol=1e-5)
    ct = hub.layers.ClassToken(initializer="ones")
    x = keras.tensor(rng.standard_normal((2, 3, 5)).astype("float32"))
    x._keras_mask = keras.tensor(np.array([[1, 1, 0], [1, 0, 0]], bool))
    y = ct(x)
    assert tuple(y.shape) == (2, 4, 5)
    np.testing.assert_array_equal(y.numpy()[:, 0], 1.0)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[1, 1, 1, 0], [1, 1, 0, 0]])
    inp = keras.Input((None, None, 3))
    sym = hub.layers.ClassToken()(hub.layers.PatchEmbedding(4, 5)(inp))
    assert tuple(sym.shape) == (None, None, 5)
    for layer in (pe, ct, hub.layers.SwiGLU(4), hub.layers.MixtureOfExperts(2, 3, top_k=1)):
        cfg = layer.get_config()
        assert type(layer).from_config(cfg).get_config() == cfg


KERAS_HUB_SCRIPT = '''
import numpy as np
import keras
import keras_hub

inputs = keras.Input(shape=(None,), dtype="int32")
x = keras_hub.layers.TokenAndPositionEmbedding(vocabulary_size=50, sequence_length=16, embedding_dim=16,
                                               mask_zero=True)(inputs)
x = keras_hub.layers.TransformerEncoder(intermediate_dim=32, num_heads=2)(x)
x = keras.layers.GlobalAveragePooling1D()(x)
model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
ids = np.random.randint(1, 50, (32, 10))
model.fit(ids, ids[:, 0] % 2, epochs=1, batch_size=8, verbose=0)
sampler = keras_hub.samplers.get("greedy")
table = keras.ops.convert_to_tensor(np.eye(5, dtype="float32"))
def next(prompt, cache, index):
    return keras.ops.take(table, prompt[:, index - 1], axis=0), None, cache
print(keras.ops.convert_to_numpy(sampler(next, np.array([[2, 0, 0]], "int32"), index=1)).tolist())
try:
    import keras_hub.utils
except ImportError as e:
    print("refused:", e.name)
'''


def test_keras_compat_runs_a_keras_hub_script(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(KERAS_HUB_SCRIPT)
    res = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", str(script)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "[[2, 2, 2]]" in res.stdout
    assert "refused: keras_hub.utils" in res.stdout


def test_one_tensor_hub_layers_check_the_input_count():
    a = keras.tensor(np.ones((1, 3, 8), "float32"))
    for layer in (hub.layers.SwiGLU(4), hub.layers.TransformerEncoder(8, 2), hub.layers.RotaryEmbedding(),
                  hub.layers.ClassToken()):
        with pytest.raises(ValueError, match="expects 1 input\\(s\\), but it received 2 input tensors"):
            layer([a, a])
    assert tuple(hub.layers.TokenAndPositionEmbedding(10, 5, 4)([[1, 2, 3]]).shape) == (1, 3, 4)
    with pytest.raises(TypeError, match="token_embedding"):
        hub.layers.MaskedLMHead(token_embedding=1)
