"""Fused optimizer updates against the Keras formulas (NumPy reference) and PyTorch."""
import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import optimizers

rng = np.random.default_rng(0)
SHAPES = [(3, 4), (17,), (40_000,)]  # the last one crosses the parallel chunk size


def run_fg(opt, steps=5, dtype="float64"):
    ws = [rng.standard_normal(s) for s in SHAPES]
    gs = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    vs = [fg.tensor(w, dtype=dtype) for w in ws]
    for step in gs:
        opt.apply([fg.tensor(g, dtype=dtype) for g in step], vs)
    return ws, gs, [v.numpy() for v in vs]


def ref_sgd(w, gs, lr, momentum, nesterov, wd=0.0):
    v = np.zeros_like(w)
    for g in gs:
        w = w - lr * wd * w
        if momentum:
            v = momentum * v - lr * g
            w = w + momentum * v - lr * g if nesterov else w + v
        else:
            w = w - lr * g
    return w


def ref_adam(w, gs, lr, b1, b2, eps, amsgrad=False, wd=0.0):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vh = np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        w = w - lr * wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        a = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        if amsgrad:
            vh = np.maximum(vh, v)
            w = w - a * m / (np.sqrt(vh) + eps)
        else:
            w = w - a * m / (np.sqrt(v) + eps)
    return w


def ref_rmsprop(w, gs, lr, rho, momentum, eps, centered):
    v = np.zeros_like(w)
    mg = np.zeros_like(w)
    s = np.zeros_like(w)
    for g in gs:
        v = rho * v + (1 - rho) * g * g
        if centered:
            mg = rho * mg + (1 - rho) * g
            d = v - mg * mg + eps
        else:
            d = v + eps
        inc = lr * g / np.sqrt(d)
        if momentum:
            s = momentum * s + inc
            w = w - s
        else:
            w = w - inc
    return w


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_keras_formula(momentum, nesterov):
    ws, gs, got = run_fg(optimizers.SGD(0.05, momentum=momentum, nesterov=nesterov, weight_decay=0.01))
    for i, w in enumerate(ws):
        want = ref_sgd(w, [g[i] for g in gs], 0.05, momentum, nesterov, wd=0.01)
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_and_adamw_match_keras_formula(amsgrad):
    ws, gs, got = run_fg(optimizers.Adam(0.01, amsgrad=amsgrad))
    for i, w in enumerate(ws):
        want = ref_adam(w, [g[i] for g in gs], 0.01, 0.9, 0.999, 1e-7, amsgrad)
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)
    ws, gs, got = run_fg(optimizers.AdamW(0.01, amsgrad=amsgrad))
    for i, w in enumerate(ws):
        want = ref_adam(w, [g[i] for g in gs], 0.01, 0.9, 0.999, 1e-7, amsgrad, wd=0.004)
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop_matches_keras_formula(momentum, centered):
    ws, gs, got = run_fg(optimizers.RMSprop(0.01, momentum=momentum, centered=centered))
    for i, w in enumerate(ws):
        want = ref_rmsprop(w, [g[i] for g in gs], 0.01, 0.9, momentum, 1e-7, centered)
        np.testing.assert_allclose(got[i], want, rtol=1e-12, atol=1e-12)


def test_float32_matches_float64_closely():
    opt32, opt64 = optimizers.Adam(0.01), optimizers.Adam(0.01)
    w = rng.standard_normal((50,))
    a, b = fg.tensor(w, dtype="float32"), fg.tensor(w)
    for _ in range(5):
        g = rng.standard_normal((50,))
        opt32.apply([fg.tensor(g, dtype="float32")], [a])
        opt64.apply([fg.tensor(g)], [b])
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_against_torch():
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((5, 7))
    grads = [rng.standard_normal((5, 7)) for _ in range(6)]
    cases = [
        (optimizers.SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (optimizers.SGD(0.1, momentum=0.9, nesterov=True),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        (optimizers.Adam(0.01, epsilon=1e-12), lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-12)),
        (optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-12),
         lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-12)),
        (optimizers.RMSprop(0.01, rho=0.9, epsilon=1e-14), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9,
                                                                                         eps=1e-14)),
    ]
    for ours, make in cases:
        w = fg.tensor(w0)
        p = torch.tensor(w0, requires_grad=True)
        opt = make([p])
        for g in grads:
            ours.apply([fg.tensor(g)], [w])
            p.grad = torch.tensor(g)
            opt.step()
        np.testing.assert_allclose(w.numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-7, err_msg=type(ours).__name__)


def test_clipping():
    w = fg.tensor(np.zeros(4))
    g = fg.tensor(np.array([3.0, 4.0, 0.0, 0.0]))  # norm 5
    optimizers.SGD(1.0, clipnorm=1.0).apply([g], [w])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8, 0, 0])
    w = fg.tensor(np.zeros(4))
    optimizers.SGD(1.0, clipvalue=0.5).apply([fg.tensor(np.array([3.0, -4.0, 0.1, 0.0]))], [w])
    np.testing.assert_allclose(w.numpy(), [-0.5, 0.5, -0.1, 0])
    a, b = fg.tensor(np.zeros(2)), fg.tensor(np.zeros(2))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([fg.tensor(np.array([3.0, 0.0])), fg.tensor(np.array([0.0, 4.0]))],
                                                    [a, b])
    np.testing.assert_allclose(np.concatenate([a.numpy(), b.numpy()]), [-0.6, 0, 0, -0.8])


def test_schedules():
    s = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == pytest.approx(0.1) and s(10) == pytest.approx(0.05) and s(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    st = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert st(9) == pytest.approx(0.1) and st(10) == pytest.approx(0.05)
    c = optimizers.schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert c(0) == pytest.approx(1.0) and c(100) == pytest.approx(0.1) and c(50) == pytest.approx(0.55)
    cw = optimizers.schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert cw(5) == pytest.approx(0.5) and cw(10) == pytest.approx(1.0) and cw(110) == pytest.approx(0.0)
    p = optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(0), p(10), p(11), p(21)] == [1.0, 1.0, 0.5, 0.1]
    opt = optimizers.SGD(learning_rate=s)
    w = fg.tensor(np.zeros(1))
    for _ in range(10):
        opt.apply([fg.tensor(np.ones(1))], [w])
    assert opt.iterations == 10
    assert opt.learning_rate == pytest.approx(0.05)
    np.testing.assert_allclose(w.numpy(), [-sum(s(i) for i in range(10))])
    cfg = opt.get_config()
    again = optimizers.SGD.from_config(cfg)
    assert again.learning_rate == pytest.approx(0.1)


def test_identifiers_and_errors():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get(optimizers.serialize(optimizers.SGD(0.3))), optimizers.SGD)
    with pytest.raises(ValueError, match="adamm"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="not recognized"):
        optimizers.Adam(lr_typo=1)
    with pytest.raises(ValueError, match="shape"):
        optimizers.SGD().apply([fg.ones((3,))], [fg.ones((4,))])


def test_none_gradients_are_skipped_and_training_decreases_loss():
    from ferrograd import ops

    w = fg.tensor(np.array([3.0, -2.0]))
    w.requires_grad = True
    frozen = fg.tensor(np.array([1.0]))
    opt = optimizers.Adam(0.1)
    for _ in range(200):
        loss = ops.sum(ops.square(w - 1.0))
        w.grad = None
        loss.backward()
        opt.apply([w.grad, None], [w, frozen])
    np.testing.assert_allclose(w.numpy(), [1.0, 1.0], atol=1e-2)
    np.testing.assert_array_equal(frozen.numpy(), [1.0])


def _extra_fixture():
    import json
    import os

    with open(os.path.join(os.path.dirname(__file__), "fixtures", "optimizers_extra.json")) as f:
        return json.load(f)


_EXTRA = _extra_fixture()


@pytest.mark.parametrize("case", _EXTRA["cases"], ids=[f"{c['class']}-{i}" for i, c in enumerate(_EXTRA["cases"])])
def test_extra_optimizers_match_keras_step_by_step(case):
    # trajectories and slots recorded from Keras 3.15 (capture_optimizers_extra.py)
    opt = getattr(optimizers, case["class"])(**case["kwargs"])
    v = fg.tensor(np.array(_EXTRA["w0"], np.float32))
    for g, want in zip(_EXTRA["grads"], case["steps"]):
        opt.apply_gradients([(fg.tensor(np.array(g, np.float32)), v)])
        np.testing.assert_allclose(v.numpy(), want, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(np.array([s.numpy() for s in opt.variables]), case["slots"], rtol=2e-5, atol=2e-6)
    cfg = opt.get_config()
    for k, want in case["config"].items():
        if k == "name":  # Keras numbers a second instance's name (adagrad_1)
            continue
        assert cfg[k] == pytest.approx(want) if isinstance(want, float) else cfg[k] == want, k
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == cfg


def test_extra_optimizers_train_and_check_arguments():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    for name, lr in (("adagrad", 0.5), ("adadelta", 50.0), ("adamax", 0.05), ("nadam", 0.05), ("lion", 0.05),
                     ("ftrl", 0.5), ("lamb", 0.05)):
        fg.utils.set_random_seed(0)
        model = fg.Sequential([fg.Input((4,)), fg.layers.Dense(1)])
        opt = optimizers.get({"class_name": name, "config": {"learning_rate": lr}})
        model.compile(optimizer=opt, loss="mse")
        hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
        assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0], (name, hist.history["loss"])
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optimizers.Adagrad(initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="beta_2"):
        optimizers.Adamax(beta_2=1.0)
    with pytest.raises(TypeError, match="amsgrad"):
        optimizers.Nadam(amsgrad=True)
    with pytest.raises(ValueError, match="learning_rate_power` needs to be negative or zero"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength` needs to be positive or zero"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)


def test_lamb_trust_ratio_on_large_variables_matches_numpy_for_any_thread_count():
    # Variables of several chunks (the per-variable norms are summed chunk by chunk), one all-zero
    # variable (trust ratio 1) and a zero gradient (|r| = 0: ratio 1).
    rng = np.random.default_rng(3)
    shapes = [(300, 257), (5,), (40000,)]
    w0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    w0[1][:] = 0.0
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    grads[1][2][:] = 0.0
    results = []
    old = fg.get_num_threads()
    try:
        for n in (1, 2):
            fg.set_num_threads(n)
            opt = optimizers.Lamb(0.01, weight_decay=0.01)
            vs = [fg.tensor(w.copy()) for w in w0]
            for gs in grads:
                opt.apply_gradients([(fg.tensor(g), v) for g, v in zip(gs, vs)])
            results.append([v.numpy() for v in vs])
    finally:
        fg.set_num_threads(old)
    for a, b in zip(*results):
        assert np.array_equal(a, b)
    # NumPy reference of Keras' formulas (float64)
    ws = [w.astype(np.float64) for w in w0]
    ms, vs = [np.zeros_like(w) for w in ws], [np.zeros_like(w) for w in ws]
    for t, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            ws[i] = ws[i] - ws[i] * 0.01 * 0.01
            ms[i] += (g - ms[i]) * 0.1
            vs[i] += (g.astype(np.float64) ** 2 - vs[i]) * 0.001
            r = (ms[i] / (1 - 0.9 ** t)) / (np.sqrt(vs[i] / (1 - 0.999 ** t)) + 1e-7)
            nw, nr = np.linalg.norm(ws[i]), np.linalg.norm(r)
            ratio = nw / nr if nw > 0 and nr > 0 else 1.0
            ws[i] = ws[i] - 0.01 * ratio * r
    for got, want in zip(results[0], ws):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_nadam_resumes_exactly_from_its_iteration_count():
    g = [np.full(3, v, np.float32) for v in (0.5, -1.0, 2.0, 0.25)]
    a, wa = optimizers.Nadam(0.01), fg.tensor(np.ones(3, np.float32))
    for gi in g:
        a.apply_gradients([(fg.tensor(gi), wa)])
    b, wb = optimizers.Nadam(0.01), fg.tensor(np.ones(3, np.float32))
    for gi in g[:2]:
        b.apply_gradients([(fg.tensor(gi), wb)])
    c = optimizers.Nadam(0.01)  # a fresh optimizer given b's state, as after loading a file
    c.build([wb])
    for dst, src in zip(c.variables, b.variables):
        dst.assign(src)
    c.iterations = b.iterations
    for gi in g[2:]:
        c.apply_gradients([(fg.tensor(gi), wb)])
    np.testing.assert_array_equal(wa.numpy(), wb.numpy())
