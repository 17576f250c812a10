"""LossScaleOptimizer, OptimizerMap and MultiOptimizer: Keras 3's rules (dynamic scale growth and
backoff, skipped non-finite steps, regex variable routing), equality with the inner optimizers run
by hand, fit, and save/load with the sub-optimizers' slots."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, optimizers


def _var(values):
    return fg.Variable(np.asarray(values, "float32"), name="w")


def test_loss_scale_optimizer_scales_unscales_grows_and_backs_off():
    w = _var([1.0, 2.0])
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=4.0, dynamic_growth_steps=2)
    assert float(opt.scale_loss(fg.tensor(1.5))) == 6.0
    g = fg.tensor([4.0, 8.0])  # scaled gradients: unscaled [1, 2]
    with fg.no_grad():
        opt.apply([g], [w])
        np.testing.assert_allclose(w.numpy(), [0.9, 1.8], rtol=1e-6)
        assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == (4.0, 1, 1)
        opt.apply([g], [w])  # second finite step in a row: the scale doubles
        assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == (8.0, 0, 2)
        before = w.numpy().copy()
        opt.apply([fg.tensor([np.inf, 1.0])], [w])  # skipped, scale halves
        np.testing.assert_array_equal(w.numpy(), before)
        assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == (4.0, 0, 2)
        opt.apply([None], [w])  # no gradient: nothing to check, nothing applied
    assert opt.learning_rate == pytest.approx(0.1) and opt.inner_optimizer.loss_scale_factor is None
    opt.learning_rate = 0.5
    assert opt.inner_optimizer.learning_rate == pytest.approx(0.5)


def test_loss_scale_optimizer_in_fit_matches_the_inner_optimizer():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)).astype("float32"), rng.standard_normal((32, 1)).astype("float32")

    def run(opt):
        fg.random.seed(1)
        m = fg.Sequential([fg.Input((4,)), layers.Dense(3, kernel_initializer="ones"),
                           layers.Dense(1, kernel_initializer="ones")])
        m.compile(optimizer=opt, loss="mse")
        m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        return m

    a = run(optimizers.Adam(0.01))
    b = run(optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=1024.0, dynamic_growth_steps=3))
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_allclose(wa.numpy(), wb.numpy(), rtol=1e-5, atol=1e-6)
    assert b.optimizer.dynamic_scale == 1024.0 * 2 ** (8 // 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(dynamic=False), "dynamic=False"),
    (dict(clipnorm=1.0), "clipnorm"),
    (dict(foo=1), "foo"),
    (dict(initial_scale=0.0), "initial_scale"),
])
def test_loss_scale_optimizer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimizers.LossScaleOptimizer(optimizers.SGD(), **kwargs)
    with pytest.raises(TypeError, match="inner_optimizer"):
        optimizers.LossScaleOptimizer("sgd")


def test_optimizer_map_routing():
    adam, sgd, rms = optimizers.Adam(), optimizers.SGD(), optimizers.RMSprop()
    om = optimizers.OptimizerMap(default_optimizer=rms)
    om["encoder/layer_0/dense"] = adam
    om["encoder/.*"] = sgd
    om["decoder"] = adam
    assert om["decoder"] is adam and om["encoder/layer_0/dense"] is adam
    assert om["encoder/layer_0/attention/query"] is sgd and om["decoder/layer_0/dense"] is rms
    om[".*query"] = adam
    with pytest.raises(ValueError, match="Multiple optimizers"):
        om["encoder/attention/query"]  # noqa: B018
    with pytest.raises(ValueError, match="already exists"):
        om["decoder"] = sgd
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        om["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("sgd")
    assert len(om) == 4 and set(om) == {"encoder/layer_0/dense", "encoder/.*", "decoder", ".*query"}


def _model():
    return fg.Sequential([fg.Input((4,)), layers.Dense(3, name="enc", kernel_initializer="ones"),
                          layers.Dense(1, name="dec", kernel_initializer="ones")])


def test_multi_optimizer_equals_the_sub_optimizers_run_separately_and_saves():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((16, 4)).astype("float32"), rng.standard_normal((16, 1)).astype("float32")
    m = _model()
    om = optimizers.OptimizerMap(optimizers.SGD(0.1), {".*/enc/.*": optimizers.Adam(0.01)})
    m.compile(optimizer=optimizers.MultiOptimizer(om), loss="mse")
    m.fit(x, y, epochs=2, batch_size=16, verbose=0)
    # by hand: the same steps with Adam on enc and SGD on dec
    ref = _model()
    adam, sgd = optimizers.Adam(0.01), optimizers.SGD(0.1)
    enc, dec = ref.layers[0].weights, ref.layers[1].weights
    for _ in range(2):
        for w in ref.weights:
            w.grad = None
        fg.losses.MeanSquaredError()(y, ref(x)).backward()
        with fg.no_grad():
            adam.apply([w.grad for w in enc], enc)
            sgd.apply([w.grad for w in dec], dec)
    for a, b in zip(m.weights, ref.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert [o.iterations for o in m.optimizer.optimizers] == [2, 2] and m.optimizer.iterations == 2
    with pytest.raises(AttributeError, match="sub-optimizers"):
        m.optimizer.learning_rate  # noqa: B018
    path = "/tmp/fg_multi_optimizer.keras"
    m.save(path)
    m2 = fg.saving.load_model(path)
    assert [type(o).__name__ for o in m2.optimizer.optimizers] == ["Adam", "SGD"]
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    m2.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(m.weights, m2.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_multi_optimizer_with_a_callable_and_loss_scale_factor():
    adam, sgd = optimizers.Adam(0.01), optimizers.SGD(0.1)
    multi = optimizers.MultiOptimizer(lambda v: adam if "enc" in v.path else sgd, loss_scale_factor=2.0)
    m = _model()
    m.compile(optimizer=multi, loss="mse")
    m.fit(np.ones((4, 4), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert adam.loss_scale_factor == 2.0 and sgd.loss_scale_factor == 2.0 and adam.iterations == 1
    with pytest.raises(ValueError, match="callable optimizer_map"):
        multi.get_config()
    with pytest.raises(TypeError, match="OptimizerMap or a callable"):
        optimizers.MultiOptimizer(3)
    bad = optimizers.MultiOptimizer(lambda v: optimizers.MultiOptimizer(lambda u: sgd))
    with pytest.raises(ValueError, match="MultiOptimizer"):
        bad.apply([fg.ones((2,))], [_var([1.0, 2.0])])
