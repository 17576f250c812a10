"""Recurrent layers: RNN, StackedRNNCells, SimpleRNN/LSTM/GRU and their cells, Bidirectional,
TimeDistributed, against:

- real Keras 3 (fixture tests/fixtures/keras_rnn_layers.json, measured by
  tests/fixtures/capture_keras_rnn.py): configs, weight paths, shapes and order, parameter counts,
  outputs and output masks for fixed weights (masks with left padding, holes and fully masked rows,
  go_backwards, initial states, return_state, every merge mode), and Keras' error messages;
- a float64 NumPy reference of Keras' cell formulas computed from the layer's own weights;
- PyTorch (nn.RNN / nn.LSTM / nn.GRU with converted weights) for outputs and gradients.

Both paths of the built-in layers run: the step-by-step loop (``step_path()``) and the fused
Rust op (``_core.rnn_sequence``; those tests skip until the op is in the built module).
Keras is never imported here.
"""
import json
import os
import re

import numpy as np
import pytest
from test_layers import check_layer

import ferrograd as keras
from ferrograd import _core, layers, ops
from ferrograd.layers.layer import get_keras_mask, set_keras_mask
from ferrograd.layers.rnn import step_path

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_rnn_layers.json")) as _f:
    FIXTURE = json.load(_f)
KERAS = FIXTURE["cases"]
KERAS_ERRORS = FIXTURE["errors"]

HAS_FUSED = hasattr(_core, "rnn_sequence")
needs_fused = pytest.mark.skipif(not HAS_FUSED, reason="the fused RNN op (_core.rnn_sequence) is not in this build")
PATHS = ["step", pytest.param("fused", marks=needs_fused)]


def _path(path):
    """The context in which built-in layers take ``path``."""
    return step_path(path == "step")


# ---- building layers from the fixture's specs --------------------------------------------------------------
def make(spec, ns=layers):
    """The layer described by ``spec`` (same builder as the capture script)."""
    cls = getattr(ns, spec["class"])
    kwargs = dict(spec.get("kwargs", {}))
    if "cell" in spec:
        cell = spec["cell"]
        cell = [make(c, ns) for c in cell] if isinstance(cell, list) else make(cell, ns)
        return cls(cell, **kwargs)
    if "layer" in spec:
        return cls(make(spec["layer"], ns), **kwargs)
    return cls(**kwargs)


def _flat(y):
    if isinstance(y, (list, tuple)):
        return [t for v in y for t in _flat(v)]
    return [y]


def _call_case(layer, c):
    x = np.asarray(c["x"], np.float32)
    init = None if c["initial_state_values"] is None else [keras.tensor(np.asarray(s, np.float32))
                                                            for s in c["initial_state_values"]]
    if c["mode"] == "cell":
        out, states = layer(keras.tensor(x), init)
        return [out] + _flat(states)
    kwargs = {}
    if c["mask_values"] is not None:
        kwargs["mask"] = keras.tensor(np.asarray(c["mask_values"], bool))
    if init is not None:
        kwargs["initial_state"] = init
    return _flat(layer(keras.tensor(x), **kwargs))


def _weight_paths(layer, prefix=""):
    """Keras-style weight paths below ``layer`` (``lstm_cell/kernel``), in ``layer.weights`` order."""
    out = [prefix + e["name"] for e in layer._weights]
    for sub in layer._sublayers():
        out += _weight_paths(sub, prefix + sub.name + "/")
    return out


def _strip_counter(path):
    return re.sub(r"_\d+(?=/|$)", "", path)


_FERROGRAD_ONLY = ("use_cudnn",)  # every constructor argument is in ferrograd's configs (DESIGN 5)


def _normalize_config(cfg, class_name=None):
    """A config without names, dtypes, build configs, Keras 3.15's initializer axes and the keys
    Keras leaves out of its configs (LSTM/GRU/SimpleRNN `use_cudnn`, SimpleRNN `seed`)."""
    if isinstance(cfg, list):
        return [_normalize_config(v) for v in cfg]
    if not isinstance(cfg, dict):
        return cfg
    if "class_name" in cfg and isinstance(cfg.get("config"), dict):
        return {**{k: v for k, v in cfg.items() if k not in ("build_config",)},
                "config": _normalize_config(cfg["config"], cfg["class_name"])}
    out = {}
    for k, v in cfg.items():
        if k in ("name", "dtype", "build_config", "input_axes", "output_axes") + _FERROGRAD_ONLY:
            continue
        if k == "seed" and class_name == "SimpleRNN":
            continue
        out[k] = _normalize_config(v)
    return out


# ---- fixture comparisons -----------------------------------------------------------------------------------
def test_fixture_is_keras_3():
    assert FIXTURE["keras_version"].startswith("3.") and len(KERAS) >= 30


@pytest.mark.parametrize("case", sorted(KERAS))
def test_config_equals_keras(case):
    c = KERAS[case]
    layer = make(c["spec"])
    assert type(layer).__name__ == c["class_name"]
    cfg = json.loads(json.dumps(layer.get_config()))
    assert _normalize_config(cfg, c["class_name"]) == _normalize_config(c["config"], c["class_name"])
    # every Keras constructor argument is in the config (Keras' own configs lack use_cudnn)
    missing = set(c["params"]) - set(cfg) - {"weights"}
    assert not missing
    # the config rebuilds the same layer
    clone = type(layer).from_config(cfg)
    assert json.loads(json.dumps(clone.get_config())) == cfg


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", sorted(KERAS))
def test_weights_outputs_and_masks_equal_keras(case, path):
    c = KERAS[case]
    layer = make(c["spec"])
    with _path(path):
        _call_case(layer, c)  # build
        assert [list(w.shape) for w in layer.weights] == c["weight_shapes"]
        assert layer.count_params() == c["count_params"]
        want_paths = [_strip_counter(p.split("/", 1)[1]) if "/" in p else p for p in c["weight_paths"]]
        assert [_strip_counter(p) for p in _weight_paths(layer)] == want_paths
        layer.set_weights([np.asarray(w, np.float32) for w in c["weights"]])
        ys = _call_case(layer, c)
    assert len(ys) == len(c["outputs"])
    for got, ref in zip(ys, c["outputs"]):
        np.testing.assert_allclose(got.numpy(), np.asarray(ref, np.float32), rtol=2e-5, atol=2e-5)
    if c["mode"] == "layer":
        masks = [get_keras_mask(y) for y in ys]
        assert [None if m is None else m.numpy().tolist() for m in masks] == c["output_masks"]
        shape = layer.compute_output_shape(tuple([None] + c["shape"][1:]))
        assert json.loads(json.dumps(shape)) == c["output_shape"]


def test_keras_surprise_zero_output_for_mask_zeroes_the_last_output():
    # Keras 3: with zero_output_for_mask=True and return_sequences=False, a row whose last step is
    # masked returns zeros as its output, although its state holds the last valid step.
    c = KERAS["lstm_last_zero"]
    out, h = np.asarray(c["outputs"][0]), np.asarray(c["outputs"][1])
    assert np.all(out[2] == 0) and not np.all(h[2] == 0)  # row 2 is right-padded


# ---- NumPy reference of Keras' formulas ------------------------------------------------------------------
def _np_act(name):
    return {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0),
            "linear": lambda v: v, "hard_sigmoid": lambda v: np.clip((v + 3) / 6, 0, 1)}[name]


def _np_step(kind, cfg, w, x, states):
    act = _np_act(cfg.get("activation", "tanh"))
    ract = _np_act(cfg.get("recurrent_activation", "sigmoid"))
    kernel, rk = w[0], w[1]
    bias = w[2] if len(w) > 2 else None
    h = states[0]
    if kind == "simple":
        out = act(x @ kernel + (0 if bias is None else bias) + h @ rk)
        return out, [out]
    u = rk.shape[0]
    if kind == "lstm":
        z = x @ kernel + h @ rk + (0 if bias is None else bias)
        i, f, cc, o = (z[:, g * u:(g + 1) * u] for g in range(4))
        c = ract(f) * states[1] + ract(i) * act(cc)
        h = ract(o) * act(c)
        return h, [h, c]
    reset_after = cfg.get("reset_after", True)
    if bias is None:
        b_in = b_rec = 0.0
    elif reset_after:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = bias, 0.0
    mx = x @ kernel + b_in
    if reset_after:
        inner = h @ rk + b_rec
        z = ract(mx[:, :u] + inner[:, :u])
        r = ract(mx[:, u:2 * u] + inner[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + r * inner[:, 2 * u:])
    else:
        inner = h @ rk[:, :2 * u]
        z = ract(mx[:, :u] + inner[:, :u])
        r = ract(mx[:, u:2 * u] + inner[:, u:])
        hh = act(mx[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
    h = z * h + (1 - z) * hh
    return h, [h]


def np_rnn(kind, cfg, weights, x, mask=None, initial_state=None, go_backwards=False, zero_output_for_mask=False):
    """Keras' loop (non-unrolled backend.rnn) in float64: returns (outputs (B, T, u) in processing
    order, final states)."""
    w = [np.asarray(v, np.float64) for v in weights]
    x = np.asarray(x, np.float64)
    b, t = x.shape[:2]
    u = w[1].shape[0]
    n_states = 2 if kind == "lstm" else 1
    states = [np.zeros((b, u)) for _ in range(n_states)] if initial_state is None else \
        [np.asarray(s, np.float64) for s in initial_state]
    prev = np.zeros((b, u))
    outs = []
    for step in (range(t - 1, -1, -1) if go_backwards else range(t)):
        out, new = _np_step(kind, cfg, w, x[:, step], states)
        if mask is not None:
            m = np.asarray(mask, bool)[:, step][:, None]
            out = np.where(m, out, 0.0 if zero_output_for_mask else prev)
            new = [np.where(m, n, s) for n, s in zip(new, states)]
        states, prev = new, out
        outs.append(out)
    return np.stack(outs, axis=1), states


_KIND = {"SimpleRNN": "simple", "LSTM": "lstm", "GRU": "gru"}
REF_CASES = [
    ("SimpleRNN", {}),
    ("SimpleRNN", {"activation": "relu", "use_bias": False}),
    ("LSTM", {}),
    ("LSTM", {"recurrent_activation": "hard_sigmoid", "activation": "relu"}),
    ("LSTM", {"use_bias": False}),
    ("GRU", {}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"use_bias": False, "recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"reset_after": False, "activation": "linear"}),
]


def _random_mask(rng, b, t):
    m = rng.random((b, t)) > 0.35
    m[0] = True  # a full row
    m[1, :2] = False  # left padding
    if b > 3:
        m[3] = False  # a fully masked row
    return m


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("cls,cfg", REF_CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(REF_CASES)])
def test_matches_numpy_reference(cls, cfg, masked, go_backwards, path):
    rng = np.random.default_rng(len(cls) * 7 + len(cfg) + masked * 3 + go_backwards)
    kind = _KIND[cls]
    b, t, d, u = 5, 6, 3, 4
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    mask = _random_mask(rng, b, t) if masked else None
    init = [(0.5 * rng.standard_normal((b, u))).astype(np.float32) for _ in range(2 if kind == "lstm" else 1)]
    zero = bool(masked and go_backwards)
    layer = getattr(layers, cls)(u, return_sequences=True, return_state=True, go_backwards=go_backwards,
                                 zero_output_for_mask=zero, **cfg)
    with _path(path):
        kwargs = {"initial_state": [keras.tensor(s) for s in init]}
        if mask is not None:
            kwargs["mask"] = keras.tensor(mask)
        got = layer(keras.tensor(x), **kwargs)
    ref_out, ref_states = np_rnn(kind, cfg, layer.get_weights(), x, mask, init, go_backwards, zero)
    np.testing.assert_allclose(got[0].numpy(), ref_out, rtol=1e-5, atol=1e-5)
    for g, r in zip(got[1:], ref_states):
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_right_padded_sequence_gives_the_unpadded_final_state(cls, path):
    rng = np.random.default_rng(3)
    lengths = [6, 3, 1, 5]
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    mask = np.arange(6)[None, :] < np.asarray(lengths)[:, None]
    x[~mask] = 0.0
    layer = getattr(layers, cls)(5, return_state=True)
    with _path(path):
        out = layer(keras.tensor(x), mask=keras.tensor(mask))
        for row, n in enumerate(lengths):
            alone = layer(keras.tensor(x[row:row + 1, :n]))
            for a, b in zip(_flat(alone), _flat(out)):
                np.testing.assert_allclose(b.numpy()[row:row + 1], a.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("path", PATHS)
def test_masking_layer_feeds_the_mask(path):
    # Masking -> LSTM(return_sequences) keeps the mask; -> LSTM (last output) drops it
    x = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    x[1, 3:] = 0.0
    m = layers.Masking(0.0)(keras.tensor(x))
    with _path(path):
        seq = layers.LSTM(3, return_sequences=True)(m)
        last, h = layers.GRU(3, return_state=True)(seq)
    np.testing.assert_array_equal(get_keras_mask(seq).numpy(), np.any(x != 0, axis=-1))
    assert get_keras_mask(last) is None and get_keras_mask(h) is None


# ---- PyTorch parity (outputs and gradients) ------------------------------------------------------------------
def _torch_twin(torch, cls, layer, d, u):
    k, rk = (w.numpy() for w in layer.weights[:2])
    bias = layer.weights[2].numpy() if len(layer.weights) > 2 else None
    t = torch.tensor
    if cls == "SimpleRNN":
        net = torch.nn.RNN(d, u, batch_first=True, bias=bias is not None)
        perm = np.arange(u)
    elif cls == "LSTM":
        net = torch.nn.LSTM(d, u, batch_first=True, bias=bias is not None)
        perm = np.arange(4 * u)  # i, f, g, o = Keras' i, f, c, o
    else:
        net = torch.nn.GRU(d, u, batch_first=True, bias=bias is not None)
        perm = np.concatenate([np.arange(u, 2 * u), np.arange(u), np.arange(2 * u, 3 * u)])  # torch r, z, n
    with torch.no_grad():
        net.weight_ih_l0.copy_(t(k[:, perm].T))
        net.weight_hh_l0.copy_(t(rk[:, perm].T))
        if bias is not None:
            b_ih, b_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
            net.bias_ih_l0.copy_(t(b_ih[perm]))
            net.bias_hh_l0.copy_(t(b_hh[perm]))
    return net, perm


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("cls,use_bias", [("SimpleRNN", True), ("LSTM", True), ("LSTM", False), ("GRU", True),
                                          ("GRU", False)])
def test_outputs_and_gradients_match_torch(cls, use_bias, path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    b, t, d, u = 3, 7, 4, 5
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    g = rng.standard_normal((b, t, u)).astype(np.float32)
    layer = getattr(layers, cls)(u, return_sequences=True, use_bias=use_bias)
    with _path(path):
        layer(keras.tensor(x))
        if use_bias:  # a non-trivial bias on both sides
            w = layer.get_weights()
            w[2] = rng.uniform(-0.5, 0.5, w[2].shape).astype(np.float32)
            layer.set_weights(w)
        xt = keras.tensor(x, requires_grad=True)
        y = layer(xt)
        (y * keras.tensor(g)).sum().backward()
    net, perm = _torch_twin(torch, cls, layer, d, u)
    tx = torch.tensor(x, requires_grad=True)
    ty, _ = net(tx)
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    inv = np.argsort(perm)
    np.testing.assert_allclose(layer.weights[0].grad.numpy(), net.weight_ih_l0.grad.numpy().T[:, inv], rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(layer.weights[1].grad.numpy(), net.weight_hh_l0.grad.numpy().T[:, inv], rtol=1e-4,
                               atol=1e-5)
    if use_bias:
        gb = layer.weights[2].grad.numpy()
        if gb.ndim == 2:  # GRU reset_after: [input bias, recurrent bias]
            np.testing.assert_allclose(gb[0], net.bias_ih_l0.grad.numpy()[inv], rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(gb[1], net.bias_hh_l0.grad.numpy()[inv], rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_allclose(gb, net.bias_ih_l0.grad.numpy()[inv], rtol=1e-4, atol=1e-5)


def test_generic_rnn_with_lstm_cell_matches_torch_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer = layers.RNN(layers.LSTMCell(4), return_sequences=True)
    xt = keras.tensor(x, requires_grad=True)
    layer(xt).sum().backward()
    net, _ = _torch_twin(torch, "LSTM", layer, 3, 4)
    tx = torch.tensor(x, requires_grad=True)
    net(tx)[0].sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.weights[1].grad.numpy(), net.weight_hh_l0.grad.numpy().T, rtol=1e-4, atol=1e-5)


# ---- the fused op equals the step path ----------------------------------------------------------------------
FUSED_CASES = [
    ("SimpleRNN", {}, {}),
    ("SimpleRNN", {"activation": "relu", "go_backwards": True}, {"mask": True}),
    ("SimpleRNN", {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 3}, {"training": True}),
    ("LSTM", {}, {"mask": True}),
    ("LSTM", {"go_backwards": True, "zero_output_for_mask": True}, {"mask": True, "initial_state": True}),
    ("LSTM", {"dropout": 0.3, "seed": 4}, {"training": True}),
    ("LSTM", {"dropout": 0.2, "recurrent_dropout": 0.3, "seed": 5}, {"training": True, "mask": True}),
    ("LSTM", {"dropout": 0.25, "implementation": 1, "seed": 6}, {"training": True}),
    ("LSTM", {"recurrent_activation": "hard_sigmoid", "use_bias": False}, {}),
    ("GRU", {}, {"mask": True, "initial_state": True}),
    ("GRU", {"reset_after": False, "go_backwards": True}, {"mask": True}),
    ("GRU", {"dropout": 0.3, "recurrent_dropout": 0.3, "seed": 7}, {"training": True}),
    ("GRU", {"reset_after": False, "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 8}, {"training": True}),
    ("GRU", {"use_bias": False, "activation": "relu"}, {}),
]


def _cos_like(shape):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(np.float32)


@needs_fused
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("cls,cfg,call", FUSED_CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(FUSED_CASES)])
def test_fused_path_equals_step_path(cls, cfg, call, return_sequences):
    rng = np.random.default_rng(21)
    b, t, d, u = 4, 6, 3, 5
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    n_states = 2 if cls == "LSTM" else 1
    init = [rng.standard_normal((b, u)).astype(np.float32) for _ in range(n_states)]
    mask = _random_mask(rng, b, t) if call.get("mask") else None
    results = []
    weights = None
    for path in ("step", "fused"):
        layer = getattr(layers, cls)(u, return_sequences=return_sequences, return_state=True, **cfg)
        xt = keras.tensor(x, requires_grad=True)
        kwargs = {"training": call.get("training", False)}
        if mask is not None:
            kwargs["mask"] = keras.tensor(mask)
        if call.get("initial_state"):
            kwargs["initial_state"] = [keras.tensor(s, requires_grad=True) for s in init]
        with _path(path):
            layer(keras.tensor(x))  # build
            if weights is None:
                weights = layer.get_weights()
            layer.set_weights(weights)
            out = layer(xt, **kwargs)
        loss = sum((o * keras.tensor(_cos_like(o.shape))).sum() for o in out)
        loss.backward()
        grads = [w.grad.numpy() for w in layer.weights] + [xt.grad.numpy()]
        if call.get("initial_state"):
            grads += [s.grad.numpy() for s in kwargs["initial_state"]]
        results.append(([o.numpy() for o in out], grads))
    (o_step, g_step), (o_fused, g_fused) = results
    for a, b_ in zip(o_step, o_fused):
        np.testing.assert_allclose(b_, a, rtol=1e-5, atol=1e-5)
    for a, b_ in zip(g_step, g_fused):
        np.testing.assert_allclose(b_, a, rtol=1e-4, atol=1e-5)


@needs_fused
def test_fused_path_is_taken_by_default_and_not_for_custom_activations(monkeypatch):
    from ferrograd import _ops_rnn

    calls = []
    real = _ops_rnn.fused_rnn
    monkeypatch.setattr(_ops_rnn, "fused_rnn", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = keras.tensor(np.ones((2, 3, 4), np.float32))
    layers.LSTM(3)(x)
    assert len(calls) == 1
    layers.LSTM(3, activation="softsign")(x)
    layers.GRU(3, use_cudnn=False)(x)
    with step_path():
        layers.SimpleRNN(3)(x)
    assert len(calls) == 1


# ---- dropout -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_dropout_only_in_training_and_masks_are_shared_across_steps(path):
    x = keras.tensor(np.ones((2, 4, 3), np.float32))
    layer = layers.SimpleRNN(6, dropout=0.5, seed=1, return_sequences=True, activation="linear",
                             recurrent_initializer="zeros", use_bias=False)
    with _path(path):
        infer = layer(x).numpy()
        train = layer(x, training=True).numpy()
    np.testing.assert_allclose(infer, np.ones((2, 4, 3)) @ layer.weights[0].numpy(), rtol=1e-6)
    # with a zero recurrent kernel every step sees the same dropped inputs: all steps are equal
    for s in range(1, 4):
        np.testing.assert_allclose(train[:, s], train[:, 0], rtol=1e-6)
    assert not np.allclose(train, infer)


def test_recurrent_dropout_switches_to_implementation_1():
    assert layers.LSTMCell(3).implementation == 2
    cell = layers.LSTMCell(3, recurrent_dropout=0.2)
    assert cell.implementation == 1 and cell.dropout_mask_count == 4
    assert layers.GRUCell(3, recurrent_dropout=0.1).dropout_mask_count == 3
    assert layers.LSTMCell(3, dropout=1.7).dropout == 1.0 and layers.GRUCell(3, dropout=-1).dropout == 0.0


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "SimpleRNN"])
def test_dropout_training_step_matches_a_numpy_replay_of_the_masks(cls, monkeypatch):
    # the masks the cell draws are recorded and replayed in NumPy through Keras' formulas
    from ferrograd.layers import rnn as rnn_mod

    drawn = []
    real = rnn_mod.DropoutRNNCell._create_dropout_mask

    def spy(self, step_input, rate):
        m = real(self, step_input, rate)
        drawn.append(m)
        return m

    monkeypatch.setattr(rnn_mod.DropoutRNNCell, "_create_dropout_mask", spy)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    layer = getattr(layers, cls)(3, dropout=0.4, recurrent_dropout=0.3, seed=9, return_sequences=True)
    with step_path():
        y = layer(keras.tensor(x), training=True).numpy()
    dp, rdp = drawn
    dp = dp if isinstance(dp, list) else [dp]
    rdp = rdp if isinstance(rdp, list) else [rdp]
    dp = [m.numpy() for m in dp]
    rdp = [m.numpy() for m in rdp]
    w = [v.astype(np.float64) for v in layer.get_weights()]
    u = 3
    h = np.zeros((3, u))
    c = np.zeros((3, u))
    sig = _np_act("sigmoid")
    outs = []
    for t in range(4):
        xt = x[:, t].astype(np.float64)
        if cls == "SimpleRNN":
            h = np.tanh((xt * dp[0]) @ w[0] + w[2] + (h * rdp[0]) @ w[1])
        elif cls == "LSTM":
            z = [(xt * dp[g]) @ w[0][:, g * u:(g + 1) * u] + w[2][g * u:(g + 1) * u]
                 + (h * rdp[g]) @ w[1][:, g * u:(g + 1) * u] for g in range(4)]
            c = sig(z[1]) * c + sig(z[0]) * np.tanh(z[2])
            h = sig(z[3]) * np.tanh(c)
        else:
            xz, xr, xh = [(xt * dp[g]) @ w[0][:, g * u:(g + 1) * u] + w[2][0, g * u:(g + 1) * u] for g in range(3)]
            rz, rr, rh = [(h * rdp[g]) @ w[1][:, g * u:(g + 1) * u] + w[2][1, g * u:(g + 1) * u] for g in range(3)]
            zg, rg = sig(xz + rz), sig(xr + rr)
            h = zg * h + (1 - zg) * np.tanh(xh + rg * rh)
        outs.append(h)
    np.testing.assert_allclose(y, np.stack(outs, 1), rtol=1e-5, atol=1e-5)


# ---- the generic RNN and custom cells ----------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="rnn_tests")
class MinimalRNNCell(keras.layers.Layer):
    """Keras' documentation example cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), "uniform", name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), "uniform", name="recurrent_kernel")

    def call(self, inputs, states):
        h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_cell_runs_trains_and_round_trips(tmp_path):
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    layer = layers.RNN(MinimalRNNCell(5), return_sequences=True)
    xt = keras.tensor(x, requires_grad=True)
    y = layer(xt)
    k, rk = (w.numpy() for w in layer.weights)
    h, ref = np.zeros((2, 5)), []
    for t in range(4):
        h = x[:, t] @ k + h @ rk
        ref.append(h)
    np.testing.assert_allclose(y.numpy(), np.stack(ref, 1), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert xt.grad is not None and layer.weights[1].grad is not None
    cfg = layer.get_config()
    assert cfg["cell"]["class_name"] == "MinimalRNNCell"
    check_layer(lambda: layers.RNN(MinimalRNNCell(5), return_sequences=True), (4, 3), 2, (4, 5), tmp_path=tmp_path)
    check_layer(lambda: layers.RNN([MinimalRNNCell(3), layers.GRUCell(2)]), (4, 3), 5, (2,), tmp_path=tmp_path)


def test_stacked_cells_state_sizes_and_initial_states():
    stacked = layers.StackedRNNCells([layers.LSTMCell(3), layers.SimpleRNNCell(2)])
    assert stacked.state_size == [[3, 3], 2] and stacked.output_size == 2
    layer = layers.RNN(stacked, return_state=True)
    x = keras.tensor(np.ones((2, 4, 5), np.float32))
    out, (h0, c0), h1 = layer(x)
    assert out.shape == (2, 2) and h0.shape == c0.shape == (2, 3) and h1[0].shape == (2, 2)
    init = [np.full((2, 3), 0.1, np.float32), np.full((2, 3), 0.2, np.float32), np.full((2, 2), 0.3, np.float32)]
    flat = layer(x, initial_state=[keras.tensor(s) for s in init])
    nested = layer(x, initial_state=[[keras.tensor(init[0]), keras.tensor(init[1])], [keras.tensor(init[2])]])
    for a, b in zip(_flat(flat), _flat(nested)):
        np.testing.assert_allclose(a.numpy(), b.numpy())
    assert not np.allclose(_flat(flat)[0].numpy(), out.numpy())


@pytest.mark.parametrize("path", PATHS)
def test_unroll_gives_the_same_result(path):
    x = keras.tensor(np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32))
    a = layers.GRU(4, return_sequences=True)
    with _path(path):
        ya = a(x)
        b = layers.GRU.from_config({**a.get_config(), "unroll": True})
        b(x)
        b.set_weights(a.get_weights())
        np.testing.assert_allclose(b(x).numpy(), ya.numpy(), rtol=1e-6)


def test_go_backwards_returns_outputs_in_processing_order():
    x = keras.tensor(np.random.default_rng(2).standard_normal((2, 5, 3)).astype(np.float32))
    fwd = layers.SimpleRNN(4, return_sequences=True)
    y = fwd(x)
    bwd = layers.SimpleRNN.from_config({**fwd.get_config(), "go_backwards": True})
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    yb = bwd(ops.flip(x, axis=1))  # backwards over reversed time == forwards over time
    np.testing.assert_allclose(yb.numpy(), y.numpy(), rtol=1e-6)


# ---- symbolic shapes, masks and functional models --------------------------------------------------------------
def test_symbolic_shapes_with_unknown_batch_and_time():
    x = keras.Input((None, 5))
    assert layers.LSTM(3)(x).shape == (None, 3)
    seq, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(x)
    assert seq.shape == (None, None, 3) and h.shape == c.shape == (None, 3)
    y = layers.Bidirectional(layers.GRU(4, return_sequences=True))(x)
    assert y.shape == (None, None, 8)
    a, b = layers.Bidirectional(layers.GRU(4), merge_mode=None)(x)
    assert a.shape == b.shape == (None, 4)
    assert layers.TimeDistributed(layers.Dense(2))(x).shape == (None, None, 2)
    assert layers.TimeDistributed(layers.Flatten())(keras.Input((3, 4, 2))).shape == (None, 3, 8)


def test_compute_mask_rules():
    m = keras.tensor(np.array([[True, False]]))
    assert layers.LSTM(2, return_sequences=True).compute_mask(None, m) is m
    assert layers.LSTM(2).compute_mask(None, m) is None
    assert layers.LSTM(2, return_sequences=True, return_state=True).compute_mask(None, m) == [m, None, None]
    assert layers.GRU(2, return_state=True).compute_mask(None, [m]) == [None, None]
    bidi = layers.Bidirectional(layers.LSTM(2, return_sequences=True, return_state=True), merge_mode=None)
    assert bidi.compute_mask(None, m) == [m, m, None, None, None, None]


@pytest.mark.parametrize("path", PATHS)
def test_seq2seq_functional_model_with_initial_state(path, tmp_path):
    enc_in, dec_in = keras.Input((None, 4)), keras.Input((None, 3))
    _, h, c = layers.LSTM(6, return_state=True)(enc_in)
    dec = layers.LSTM(6, return_sequences=True)(dec_in, initial_state=[h, c])
    out = layers.TimeDistributed(layers.Dense(2))(dec)
    model = keras.Model([enc_in, dec_in], out)
    rng = np.random.default_rng(4)
    xe, xd = rng.standard_normal((3, 5, 4)).astype(np.float32), rng.standard_normal((3, 2, 3)).astype(np.float32)
    with _path(path):
        y = model.predict([xe, xd], verbose=0)
        assert y.shape == (3, 2, 2)
        model.save(tmp_path / "s2s.keras")
        again = keras.saving.load_model(tmp_path / "s2s.keras")
        np.testing.assert_allclose(again.predict([xe, xd], verbose=0), y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("path", PATHS)
def test_save_load_model_with_lstm_and_bidirectional(path, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((7,), dtype="int32"),
        layers.Embedding(20, 6, mask_zero=True),
        layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
        layers.GRU(4, go_backwards=True),
        layers.Dense(2),
    ])
    ids = np.random.default_rng(0).integers(1, 20, (4, 7)).astype(np.int32)
    ids[1, 4:] = 0
    ids[2, :3] = 0
    with _path(path):
        y = model.predict(ids, verbose=0)
        model.save(tmp_path / "m.keras")
        again = keras.saving.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(again.predict(ids, verbose=0), y, rtol=1e-5, atol=1e-6)
    names = [type(v).__name__ for v in again.layers]
    assert names == ["Embedding", "Bidirectional", "GRU", "Dense"]
    want = 20 * 6 + 2 * (6 * 20 + 5 * 20 + 20) + (10 * 12 + 4 * 12 + 24) + (4 * 2 + 2)
    assert again.count_params() == model.count_params() == want


@pytest.mark.parametrize("make,shape,n_weights,out", [
    (lambda: layers.SimpleRNN(4), (5, 3), 3, (4,)),
    (lambda: layers.LSTM(4, return_sequences=True, dropout=0.1, recurrent_dropout=0.2), (5, 3), 3, (5, 4)),
    (lambda: layers.GRU(4, reset_after=False, go_backwards=True), (5, 3), 3, (4,)),
    (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True), (5, 3), 3, (5, 3)),
    (lambda: layers.RNN([layers.SimpleRNNCell(3), layers.GRUCell(2)]), (5, 3), 6, (2,)),
    (lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="sum"), (5, 3), 6, (5, 3)),
    (lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="concat"), (5, 3), 6, (6,)),
    (lambda: layers.TimeDistributed(layers.Dense(3)), (5, 4), 2, (5, 3)),
], ids=["simple_rnn", "lstm", "gru", "rnn_cell", "rnn_stacked", "bidi_sum", "bidi_concat", "td_dense"])
def test_layer_helper(make, shape, n_weights, out, tmp_path):
    check_layer(make, shape, n_weights, out, tmp_path=tmp_path)


@pytest.mark.parametrize("path", PATHS)
def test_fit_decreases_the_loss(path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1, keepdims=True) > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((6, 2)), layers.LSTM(8), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="binary_crossentropy")
    with _path(path):
        hist = model.fit(x, y, epochs=8, batch_size=16, verbose=0, shuffle=False)
    loss = hist.history["loss"]
    assert loss[-1] < 0.7 * loss[0], loss


# ---- stateful ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_stateful_carries_states_between_calls_and_resets(path):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    whole = layers.LSTM(4, return_sequences=True)
    inp = keras.Input((3, 3), batch_size=2)
    stateful = layers.LSTM(4, return_sequences=True, stateful=True)
    model = keras.Model(inp, stateful(inp))
    with _path(path):
        whole(keras.tensor(x))
        whole.set_weights(stateful.get_weights())
        ref = whole(keras.tensor(x)).numpy()
        a = model.predict(x[:, :3], verbose=0)
        b = model.predict(x[:, 3:], verbose=0)
        np.testing.assert_allclose(np.concatenate([a, b], 1), ref, rtol=1e-5, atol=1e-6)
        assert len(stateful.states) == 2 and stateful.states[0].shape == (2, 4)
        stateful.reset_state()
        assert all(np.all(s.numpy() == 0) for s in stateful.states)
        np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), a, rtol=1e-6)
        stateful.reset_states()
        with pytest.raises(ValueError, match="batch size of the input sequences must be the same"):
            stateful(keras.tensor(x[:1, :3]))
    assert not any(s.requires_grad for s in stateful.states)  # detached: no graph kept between batches
    assert layers.LSTM(4).states is None


def test_bidirectional_stateful_reset():
    inp = keras.Input((3, 2), batch_size=2)
    bidi = layers.Bidirectional(layers.GRU(3, stateful=True))
    bidi(inp)
    bidi(keras.tensor(np.ones((2, 3, 2), np.float32)))
    assert bidi.states is not None and len(bidi.states) == 2
    assert not np.all(bidi.states[0].numpy() == 0)
    bidi.reset_state()
    assert all(np.all(s.numpy() == 0) for s in bidi.states)
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        layers.Bidirectional(layers.GRU(3)).reset_state()


# ---- Bidirectional and TimeDistributed -------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes_compose_the_two_directions(merge_mode):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1]], bool)
    bidi = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True, name="r"), merge_mode=merge_mode)
    y = bidi(keras.tensor(x), mask=keras.tensor(mask))
    assert bidi.forward_layer.name == "forward_r" and bidi.backward_layer.name == "backward_r"
    assert bidi.backward_layer.go_backwards and bidi.forward_layer.zero_output_for_mask
    fw, bw = bidi.forward_layer.get_weights(), bidi.backward_layer.get_weights()
    f, _ = np_rnn("simple", {}, fw, x, mask, zero_output_for_mask=True)
    b, _ = np_rnn("simple", {}, bw, x, mask, go_backwards=True, zero_output_for_mask=True)
    b = b[:, ::-1]
    want = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b, "mul": lambda: f * b,
            "ave": lambda: (f + b) / 2, None: lambda: (f, b)}[merge_mode]()
    if merge_mode is None:
        assert isinstance(y, tuple) and len(y) == 2
        for got, ref in zip(y, want):
            np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(get_keras_mask(got).numpy(), mask)
    else:
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(get_keras_mask(y).numpy(), mask)


def test_bidirectional_weights_backward_layer_and_return_state():
    fwd = layers.LSTM(3, return_state=True)
    bwd = layers.LSTM(3, return_state=True, go_backwards=True, name="my_backward")
    bidi = layers.Bidirectional(fwd, backward_layer=bwd)
    x = keras.tensor(np.ones((2, 4, 2), np.float32))
    out, fh, fc, bh, bc = bidi(x)
    assert out.shape == (2, 6) and fh.shape == bc.shape == (2, 3)
    np.testing.assert_allclose(out.numpy(), np.concatenate([fh.numpy(), bh.numpy()], -1), rtol=1e-6)
    assert bidi.backward_layer is bwd
    weights = bidi.get_weights()
    again = layers.Bidirectional(layers.LSTM(3, return_state=True), weights=weights)
    again(x)
    for a, b in zip(again.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match='same value for attribute "return_sequences"'):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True, return_sequences=True))


def test_bidirectional_initial_state_is_split_between_the_directions():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    s = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    bidi = layers.Bidirectional(layers.GRU(3))
    y = bidi(keras.tensor(x), initial_state=[keras.tensor(v) for v in s])
    f = bidi.forward_layer(keras.tensor(x), initial_state=[keras.tensor(s[0])])
    b = bidi.backward_layer(keras.tensor(x), initial_state=[keras.tensor(s[1])])
    np.testing.assert_allclose(y.numpy(), np.concatenate([f.numpy(), b.numpy()], -1), rtol=1e-6)
    with pytest.raises(ValueError, match="an even count"):
        bidi(keras.tensor(x), initial_state=[keras.tensor(s[0])])


def test_time_distributed_dense_equals_per_step_dense_and_passes_the_mask():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    td = layers.TimeDistributed(layers.Dense(5, activation="relu"))
    xt = keras.tensor(x)
    mask = keras.tensor(np.array([[True, True, False], [True, False, False]]))
    set_keras_mask(xt, mask)
    y = td(xt)
    dense = td.layer
    for t in range(3):
        np.testing.assert_allclose(y.numpy()[:, t], dense(keras.tensor(x[:, t])).numpy(), rtol=1e-6)
    assert get_keras_mask(y) is mask
    assert td.compute_output_shape((None, 3, 4)) == (None, 3, 5)
    assert [w.shape for w in td.weights] == [(4, 5), (5,)]


def test_time_distributed_passes_folded_masks_to_layers_that_take_one():
    class Counting(layers.Layer):
        def call(self, inputs, mask=None):
            self.seen = None if mask is None else mask.numpy()
            return inputs

        def compute_output_shape(self, s):
            return s

    td = layers.TimeDistributed(Counting())
    m = np.array([[True, False], [False, True]])
    td(keras.tensor(np.ones((2, 2, 3), np.float32)), mask=keras.tensor(m))
    np.testing.assert_array_equal(td.layer.seen, m.reshape(4))


# ---- cells ---------------------------------------------------------------------------------------------------------
def test_cells_state_sizes_and_initial_states():
    assert layers.LSTMCell(3).state_size == [3, 3] and layers.LSTMCell(3).output_size == 3
    assert layers.GRUCell(3).state_size == 3 and layers.SimpleRNNCell(4).state_size == 4
    init = layers.LSTMCell(3).get_initial_state(2)
    assert [s.shape for s in init] == [(2, 3), (2, 3)] and all(np.all(s.numpy() == 0) for s in init)
    assert [s.shape for s in layers.GRUCell(3).get_initial_state(batch_size=4)] == [(4, 3)]
    # a single state passed as a tensor comes back as a tensor (Keras)
    cell = layers.SimpleRNNCell(3)
    out, h = cell(keras.tensor(np.ones((2, 5), np.float32)), keras.tensor(np.zeros((2, 3), np.float32)))
    assert not isinstance(h, list) and h.shape == (2, 3)


def test_lstm_unit_forget_bias_and_orthogonal_recurrent_kernel():
    layer = layers.LSTM(4)
    layer(keras.tensor(np.ones((1, 2, 3), np.float32)))
    b = layer.cell.bias.numpy()
    np.testing.assert_array_equal(b, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    rk = layer.cell.recurrent_kernel.numpy()  # (4, 16): orthonormal rows
    np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)
    nb = layers.LSTM(4, unit_forget_bias=False, bias_initializer="ones")
    nb(keras.tensor(np.ones((1, 2, 3), np.float32)))
    np.testing.assert_array_equal(nb.cell.bias.numpy(), np.ones(16))


def test_layer_properties_forward_to_the_cell_and_regularizers_add_losses():
    layer = layers.GRU(3, kernel_regularizer="l2", recurrent_dropout=0.1, reset_after=False, activity_regularizer="l1")
    assert layer.units == 3 and layer.recurrent_dropout == 0.1 and layer.reset_after is False
    assert layer.activation is keras.activations.tanh
    y = layer(keras.tensor(np.ones((2, 3, 2), np.float32)))
    assert len(layer.losses) == 2 and y.shape == (2, 3)
    frozen = layers.LSTM(2, trainable=False)
    frozen(keras.tensor(np.ones((1, 2, 2), np.float32)))
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 3


# ---- errors ----------------------------------------------------------------------------------------------------------
def _keras_error(name):
    cls, msg = KERAS_ERRORS[name]
    return {"ValueError": ValueError, "AttributeError": AttributeError, "TypeError": TypeError}[cls], msg


@pytest.mark.parametrize("name,fn", [
    ("units_zero", lambda: layers.LSTM(0)),
    ("units_negative_cell", lambda: layers.GRUCell(-3)),
    ("merge_mode", lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="foo")),
    ("bidi_not_layer", lambda: layers.Bidirectional("x")),
    ("bidi_go_backwards", lambda: layers.Bidirectional(layers.LSTM(3, go_backwards=True))),
    ("td_not_layer", lambda: layers.TimeDistributed("x")),
    ("td_rank2", lambda: layers.TimeDistributed(layers.Dense(2))(keras.tensor(np.zeros((4, 5), np.float32)))),
    ("rnn_not_cell", lambda: layers.RNN("x")),
    ("use_cudnn", lambda: layers.LSTM(3, use_cudnn="x")),
    ("stateful_no_batch", lambda: layers.LSTM(3, stateful=True)(keras.Input((4, 5)))),
])
def test_errors_match_keras_wording(name, fn):
    exc, msg = _keras_error(name)
    with pytest.raises(exc) as info:
        fn()
    assert str(info.value).startswith(msg)


def test_wrong_rank_names_the_layer_and_shape():
    exc, msg = _keras_error("lstm_rank2")  # Keras: "Input 0 with name 'None' of layer 'lstm' ... ndim=3 ..."
    with pytest.raises(ValueError, match=r"layer 'my_lstm' is incompatible with the layer: expected ndim=3, found "
                                         r"ndim=2. Full shape received: \(4, 5\)"):
        layers.LSTM(3, name="my_lstm")(keras.tensor(np.zeros((4, 5), np.float32)))
    assert "expected ndim=3, found ndim=2. Full shape received: (4, 5)" in msg
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        layers.RNN(layers.LSTMCell(3))(keras.tensor(np.zeros((4, 5), np.float32)))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.GRU(3)(keras.Input((2, 3, 4)))
    lstm = layers.LSTM(3)
    lstm(keras.tensor(np.zeros((2, 4, 5), np.float32)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        lstm(keras.tensor(np.zeros((2, 4, 6), np.float32)))


@pytest.mark.parametrize("fn,match", [
    (lambda x: layers.LSTM(3)(x, initial_state=[keras.tensor(np.zeros((2, 3), np.float32))]),
     r"expects 2 initial state tensor\(s\).*Received: 1"),
    (lambda x: layers.GRU(3)(x, initial_state=[keras.tensor(np.zeros((2, 3), np.float32))] * 2),
     r"expects 1 initial state tensor\(s\).*Received: 2"),
    (lambda x: layers.LSTM(3)(x, initial_state=[keras.tensor(np.zeros((2, 4), np.float32))] * 2),
     r"initial state 0 must have shape \(2, 3\).*Received: initial_state\[0\].shape=\(2, 4\)"),
    (lambda x: layers.SimpleRNN(3)(x, initial_state=keras.tensor(np.zeros((3, 3), np.float32))),
     r"must have shape \(2, 3\)"),
    (lambda x: layers.LSTM(3)(x, mask=keras.tensor(np.ones((2, 3), bool))),
     r"the mask must have shape \(batch, timesteps\) = \(2, 4\).*Received: mask.shape=\(2, 3\)"),
    (lambda x: layers.LSTM(3)(x[:, :0]), "0 time steps"),
    (lambda x: layers.LSTMCell(3, implementation=3), "implementation"),
    (lambda x: layers.SimpleRNN(3, dropout="a"), "dropout"),
    (lambda x: layers.SimpleRNN(2.5), "units"),
    (lambda x: layers.RNN(layers.LSTMCell(3))([x, x]), "nested inputs are not supported"),
    (lambda x: layers.StackedRNNCells([]), "non-empty list"),
    (lambda x: layers.Bidirectional(layers.LSTM(3), backward_layer="b"), "`backward_layer` need to be"),
])
def test_argument_errors(fn, match):
    x = keras.tensor(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match=match):
        fn(x)


def test_use_cudnn_true_requires_the_fused_kernel():
    x = keras.tensor(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="use_cudnn=True was specified"):
        layers.LSTM(3, activation="softsign", use_cudnn=True)(x)
    if HAS_FUSED:
        assert layers.LSTM(3, use_cudnn=True)(x).shape == (2, 3)
    assert layers.LSTM(3, use_cudnn=False)(x).shape == (2, 3)
