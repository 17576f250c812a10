"""Attention and einsum layers (MultiHeadAttention, GroupedQueryAttention, Attention,
AdditiveAttention, EinsumDense) and the normalization layers of the same cases file, against:

- real Keras 3 (fixture tests/fixtures/keras_attention.json, measured by
  tests/fixtures/make_keras_attention_fixtures.py): configs, weight shapes and order, parameter
  counts, and the outputs (masks, causal masks and attention weights included) with the same weights;
- a float64 NumPy reference computed from the layer's own weights;
- PyTorch autograd for the gradients (a float64 torch twin written from the same weights).

Keras is never imported here.
"""
import json
import os

import numpy as np
import pytest
from attention_cases import cases, inputs_for, masks_for
from test_layers import check_layer

import ferrograd as keras
from ferrograd import layers, ops
from ferrograd.layers.layer import get_keras_mask, set_keras_mask

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_attention.json")) as _f:
    KERAS = json.load(_f)["layers"]
CASES = cases(keras)
# One case builds Keras' deprecated LayerNormalization(rms_scaling=True), which warns as in Keras.
pytestmark = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")
# Keras 3.15 initializer configs list input_axes/output_axes (EinsumDense fills them); ferrograd's
# initializers do not have them. MultiHeadAttention/GroupedQueryAttention: Keras leaves
# flash_attention out of get_config; ferrograd returns every constructor argument (DESIGN 5).
_INIT_EXTRAS = ("input_axes", "output_axes")


def _json(v):
    return json.loads(json.dumps(v))


def _normalize_config(cfg):
    cfg = {k: v for k, v in _json(cfg).items() if k not in ("name", "dtype", "flash_attention")}
    for v in cfg.values():
        if isinstance(v, dict) and isinstance(v.get("config"), dict):
            for k in _INIT_EXTRAS:
                v["config"].pop(k, None)
    return cfg


def _call(layer, mode, xs, masks, kwargs):
    ts = [keras.tensor(x) for x in xs]
    if masks is not None:
        for t, m in zip(ts, masks):
            set_keras_mask(t, keras.tensor(m))
    if mode == "x":
        return layer(ts[0], **kwargs)
    if mode == "list":
        return layer(ts, **kwargs)
    return layer(*ts, **kwargs)


def test_fixture_covers_every_case():
    assert set(CASES) == set(KERAS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_equals_keras(case):
    layer = CASES[case][0]()
    assert type(layer).__name__ == KERAS[case]["class_name"]
    assert _normalize_config(layer.get_config()) == _normalize_config(KERAS[case]["config"])
    # every Keras constructor argument is in the config
    missing = set(KERAS[case]["params"]) - set(layer.get_config()) - {"lora_rank", "lora_alpha",
                                                                      "gptq_unpacked_column_size"}
    assert not missing


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_params_and_outputs_equal_keras(case):
    make, mode, shapes, kwargs, tails = CASES[case]
    want = KERAS[case]
    layer = make()
    xs, masks = inputs_for(shapes), masks_for(shapes, tails)
    _call(layer, mode, xs, masks, kwargs)  # build
    assert [list(w.shape) for w in layer.weights] == want["weight_shapes"]
    assert layer.count_params() == want["count_params"]
    layer.set_weights([np.asarray(w, np.float32) for w in want["weights"]])
    y = _call(layer, mode, xs, masks, kwargs)
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    assert len(ys) == len(want["outputs"])
    for got, ref in zip(ys, want["outputs"]):
        np.testing.assert_allclose(got.numpy(), np.asarray(ref, np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip_and_save_load(case, tmp_path):
    make, mode, shapes, kwargs, tails = CASES[case]
    if mode == "x":
        check_layer(make, shapes[0], len(KERAS[case]["weight_shapes"]), tmp_path=tmp_path)
        return
    layer = make()
    cfg = layer.get_config()
    clone = type(layer).from_config(_json(cfg))
    assert _json(clone.get_config()) == _json(cfg)
    xs = inputs_for(shapes)
    y = _call(layer, mode, xs, None, {})
    _call(clone, mode, xs, None, {})
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_call(clone, mode, xs, None, {}).numpy(), y.numpy(), rtol=1e-6, atol=1e-6)
    # through a functional model: build, save, load
    ins = [keras.Input(s) for s in shapes]
    out = make()(ins) if mode == "list" else make()(*ins)
    model = keras.Model(ins, out)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(xs, verbose=0), model.predict(xs, verbose=0), rtol=1e-6, atol=1e-6)


# ---- NumPy references (float64, from the layer's own weights) -----------------------------------------
def _softmax(s, mask=None):
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    p = e / e.sum(-1, keepdims=True)
    return p if mask is None else np.where(mask, p, 0.0)


def _mha_reference(layer, q, v, k=None, mask=None, causal=False, heads_kv=None):
    """(B, T, D) attention output and (B, N, T, S) weights of MultiHeadAttention/GroupedQueryAttention."""
    w = [x.astype(np.float64) for x in layer.get_weights()]
    wq, bq, wk, bk, wv, bv, wo, bo = w
    k = v if k is None else k
    qh = np.einsum("btd,dnh->btnh", q, wq) + bq  # (B, T, N, H)
    kh = np.einsum("bsd,dnh->bsnh", k, wk) + bk  # (B, S, K, H)
    vh = np.einsum("bsd,dnh->bsnh", v, wv) + bv
    n, kvh = qh.shape[2], kh.shape[2]
    kh, vh = np.repeat(kh, n // kvh, axis=2), np.repeat(vh, n // kvh, axis=2)
    s = np.einsum("btnh,bsnh->bnts", qh, kh) / np.sqrt(qh.shape[-1])  # (B, N, T, S)
    m = None if mask is None else mask[:, None]
    if causal:
        c = np.tril(np.ones((q.shape[1], v.shape[1]), bool))
        m = c[None, None] if m is None else m & c
    p = _softmax(s, m)
    o = np.einsum("bnts,bsnh->btnh", p, vh)
    return np.einsum("btnh,nhd->btd", o, wo) + bo, p


def test_multi_head_attention_equals_numpy_reference():
    rng = np.random.default_rng(1)
    q, v = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 7, 6))
    layer = layers.MultiHeadAttention(num_heads=3, key_dim=4, bias_initializer="random_normal")
    y, p = layer(keras.tensor(q, dtype="float32"), keras.tensor(v, dtype="float32"), return_attention_scores=True)
    want, want_p = _mha_reference(layer, q, v)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p.numpy(), want_p, rtol=1e-4, atol=1e-6)
    assert layer.count_params() == (8 * 12 + 12) + (6 * 12 + 12) * 2 + (12 * 8 + 8)


def test_grouped_query_attention_equals_numpy_reference():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 8))
    layer = layers.GroupedQueryAttention(head_dim=4, num_query_heads=6, num_key_value_heads=2,
                                         bias_initializer="random_normal")
    y = layer(keras.tensor(x, dtype="float32"), keras.tensor(x, dtype="float32"), use_causal_mask=True)
    want, _ = _mha_reference(layer, x, x, causal=True)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-5)


def test_attention_layers_equal_numpy_reference():
    rng = np.random.default_rng(3)
    q, v = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 6, 5))
    vmask = np.ones((2, 6), bool)
    vmask[1, 4:] = False
    tq, tv = keras.tensor(q, dtype="float32"), keras.tensor(v, dtype="float32")
    set_keras_mask(tv, keras.tensor(vmask))
    luong = layers.Attention(use_scale=True)
    luong([tq, tv])
    luong.set_weights([np.array(0.7, np.float32)])
    y = luong([tq, tv]).numpy()
    p = _softmax(0.7 * q @ v.transpose(0, 2, 1), vmask[:, None, :])
    np.testing.assert_allclose(y, p @ v, rtol=1e-5, atol=1e-6)
    bahdanau = layers.AdditiveAttention()
    y = bahdanau([tq, tv]).numpy()
    scale = bahdanau.get_weights()[0].astype(np.float64)
    s = (scale * np.tanh(q[:, :, None, :] + v[:, None, :, :])).sum(-1)
    np.testing.assert_allclose(y, _softmax(s, vmask[:, None, :]) @ v, rtol=1e-5, atol=1e-6)


def test_layer_normalization_equals_numpy_reference():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 6))
    layer = layers.LayerNormalization(gamma_initializer="random_normal", beta_initializer="random_normal")
    y = layer(keras.tensor(x, dtype="float32")).numpy()
    g, b = (w.astype(np.float64) for w in layer.get_weights())
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-3) * g + b, rtol=1e-5, atol=1e-5)
    assert layer.count_params() == 12


# ---- masks ----------------------------------------------------------------------------------------
def test_embedding_padding_masks_reach_multi_head_attention():
    ids = np.array([[3, 5, 2, 0, 0], [7, 1, 0, 0, 0]], np.int32)
    emb = layers.Embedding(10, 8, mask_zero=True)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    h = emb(keras.tensor(ids))
    y, p = mha(h, h, return_attention_scores=True)
    mask = ids != 0
    assert np.array_equal(get_keras_mask(y).numpy(), mask)  # the query's mask rides on the output
    want, want_p = _mha_reference(mha, h.numpy().astype(np.float64), h.numpy().astype(np.float64),
                                  mask=mask[:, :, None] & mask[:, None, :])
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p.numpy(), want_p, rtol=1e-4, atol=1e-6)
    assert np.all(p.numpy()[1, :, :, 2:] == 0)  # padded keys get no weight
    # the same through a functional model (masks carried by the graph)
    inp = keras.Input((None,), dtype="int32")
    x = layers.Embedding(10, 8, mask_zero=True)(inp)
    out = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    model = keras.Model(inp, out)
    model.layers[1].set_weights(emb.get_weights())
    model.layers[2].set_weights(mha.get_weights())
    np.testing.assert_allclose(model.predict(ids, verbose=0), y.numpy(), rtol=1e-5, atol=1e-5)


def test_causal_mask_combines_with_attention_mask():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 6))
    am = rng.random((2, 4, 4)) > 0.3
    am[:, :, 0] = True
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    t = keras.tensor(x, dtype="float32")
    y, p = layer(t, t, attention_mask=keras.tensor(am), use_causal_mask=True, return_attention_scores=True)
    want, want_p = _mha_reference(layer, x, x, mask=am, causal=True)
    np.testing.assert_allclose(p.numpy(), want_p, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-4, atol=1e-5)
    assert np.all(np.triu(p.numpy()[0, 0], 1) == 0)


def test_attention_dropout_uses_the_training_flag_and_seed():
    x = keras.tensor(np.random.default_rng(6).standard_normal((2, 5, 8)).astype(np.float32))
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    b = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=3)
    a(x, x)
    b(x, x)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x, x).numpy(), a(x, x, training=False).numpy())  # inference: no dropout
    ya, yb = a(x, x, training=True).numpy(), b(x, x, training=True).numpy()
    np.testing.assert_array_equal(ya, yb)  # same seed, same pattern
    assert not np.allclose(ya, a(x, x).numpy())
    att = layers.Attention(dropout=0.9, seed=1)
    y0 = att([x, x]).numpy()
    assert not np.allclose(att([x, x], training=True).numpy(), y0)


# ---- gradients against torch ----------------------------------------------------------------------
def test_layer_normalization_gradients_equal_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 3, 10)).astype(np.float32)
    layer = layers.LayerNormalization(epsilon=1e-5, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    t = keras.tensor(x, requires_grad=True)
    y = layer(t)
    g_out = rng.standard_normal(y.shape).astype(np.float32)
    (y * keras.tensor(g_out)).sum().backward()
    ref = torch.nn.LayerNorm(10, eps=1e-5).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.gamma.numpy()))
        ref.bias.copy_(torch.tensor(layer.beta.numpy()))
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = ref(tx)
    (ty * torch.tensor(g_out, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.beta.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scores", [False, True], ids=["fused_or_composed", "composed"])
def test_multi_head_attention_gradients_equal_torch(scores):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    q = rng.standard_normal((2, 5, 6)).astype(np.float32)
    v = rng.standard_normal((2, 7, 6)).astype(np.float32)
    vmask = np.ones((2, 7), bool)
    vmask[0, 5:] = False
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")
    tq, tv = keras.tensor(q, requires_grad=True), keras.tensor(v, requires_grad=True)
    set_keras_mask(tv, keras.tensor(vmask))
    out = layer(tq, tv, use_causal_mask=True, return_attention_scores=scores)
    y = out[0] if scores else out
    g_out = rng.standard_normal(y.shape).astype(np.float32)
    (y * keras.tensor(g_out)).sum().backward()

    w = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in layer.get_weights()]
    wq, bq, wk, bk, wv, bv, wo, bo = w
    xq = torch.tensor(q, dtype=torch.float64, requires_grad=True)
    xv = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    qh = torch.einsum("btd,dnh->btnh", xq, wq) + bq
    kh = torch.einsum("bsd,dnh->bsnh", xv, wk) + bk
    vh = torch.einsum("bsd,dnh->bsnh", xv, wv) + bv
    s = torch.einsum("btnh,bsnh->bnts", qh, kh) / np.sqrt(3.0)
    m = torch.tensor(vmask)[:, None, None, :] & torch.tril(torch.ones(5, 7, dtype=torch.bool))
    p = torch.where(m, torch.softmax(torch.where(m, s, torch.tensor(-1e9, dtype=torch.float64)), -1), 0.0)
    ty = torch.einsum("btnh,nhd->btd", torch.einsum("bnts,bsnh->btnh", p, vh), wo) + bo
    (ty * torch.tensor(g_out, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tq.grad.numpy(), xq.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tv.grad.numpy(), xv.grad.numpy(), rtol=1e-4, atol=1e-4)
    for mine, ref in zip(layer.weights, w):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-4)


# ---- symbolic shapes --------------------------------------------------------------------------------
def test_symbolic_shapes_on_unknown_lengths():
    x = keras.Input((None, 16))
    y = keras.Input((None, 12))
    assert layers.MultiHeadAttention(4, 8)(x, y).shape == (None, None, 16)
    o, s = layers.MultiHeadAttention(4, 8, output_shape=(3, 5))(x, y, return_attention_scores=True)
    assert o.shape == (None, None, 3, 5) and s.shape == (None, 4, None, None)
    assert layers.GroupedQueryAttention(4, 4, 2)(x, x).shape == (None, None, 16)
    assert layers.Attention()([x, x]).shape == (None, None, 16)
    o, s = layers.AdditiveAttention()([x, x], return_attention_scores=True)
    assert o.shape == (None, None, 16) and s.shape == (None, None, None)
    assert layers.EinsumDense("abc,cde->abde", (None, 2, 8), bias_axes="de")(x).shape == (None, None, 2, 8)
    for layer in (layers.LayerNormalization(), layers.RMSNormalization(), layers.GroupNormalization(4),
                  layers.UnitNormalization()):
        assert layer(x).shape == (None, None, 16)
    model = keras.Model(x, layers.LayerNormalization()(layers.MultiHeadAttention(2, 8)(x, x, use_causal_mask=True)))
    assert model.predict(np.zeros((2, 3, 16), np.float32), verbose=0).shape == (2, 3, 16)


def test_transformer_block_trains():
    inp = keras.Input((None,), dtype="int32")
    h = layers.Embedding(20, 16, mask_zero=True)(inp)
    a = layers.MultiHeadAttention(2, 8, dropout=0.1, seed=1)(h, h, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([h, a]))
    out = layers.Dense(20)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, (32, 6)).astype(np.int32)
    hist = model.fit(ids, np.roll(ids, -1, axis=1), epochs=4, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert np.isfinite(ops.convert_to_numpy(model(keras.tensor(ids[:2])))).all()


def test_fused_and_composed_paths_agree():
    """Without dropout or weights asked for, the layers run the fused kernel; with
    return_attention_scores they run Keras' composed path: same outputs, masks included."""
    from ferrograd import _core

    if not hasattr(_core, "dot_product_attention"):
        pytest.skip("the fused attention binding is not in this build of _core yet")
    rng = np.random.default_rng(9)
    q = keras.tensor(rng.standard_normal((2, 6, 8)).astype(np.float32))
    v = keras.tensor(rng.standard_normal((2, 9, 8)).astype(np.float32))
    qm, vm = np.ones((2, 6), bool), np.ones((2, 9), bool)
    qm[1, 4:], vm[0, 7:] = False, False
    set_keras_mask(q, keras.tensor(qm))
    set_keras_mask(v, keras.tensor(vm))
    calls = []
    real = _core.dot_product_attention

    def spy(*args):
        calls.append(1)
        return real(*args)

    for layer in (layers.MultiHeadAttention(num_heads=4, key_dim=3),
                  layers.GroupedQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)):
        for causal in (False, True):
            _core.dot_product_attention = spy
            try:
                fused = layer(q, v, use_causal_mask=causal).numpy()
            finally:
                _core.dot_product_attention = real
            composed, _ = layer(q, v, use_causal_mask=causal, return_attention_scores=True)
            np.testing.assert_allclose(fused, composed.numpy(), rtol=1e-5, atol=1e-5)
    assert len(calls) == 4
