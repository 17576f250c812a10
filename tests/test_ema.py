"""Optimizer moving averages (use_ema) against Keras 3.15, fit's finalize, SwapEMAWeights, saving."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as keras

FIX = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
import capture_ema as cap  # noqa: E402

DATA = json.loads((FIX / "keras_ema.json").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["cls"] for c in DATA["cases"]])
def test_trajectory_matches_keras(case):
    v = keras.ops.convert_to_tensor(cap.start())
    opt = getattr(keras.optimizers, case["cls"])(**case["kwargs"])
    for g, want in zip(cap.grads(), case["steps"]):
        opt.apply([keras.ops.convert_to_tensor(g)], [v])
        np.testing.assert_allclose(v.numpy(), want["var"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(opt._average_of(v).numpy(), want["average"], rtol=1e-5, atol=1e-6)
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), case["final"], rtol=1e-5, atol=1e-6)
    assert any(a is opt._average_of(v) for a in opt.variables)


def _model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def test_fit_ends_with_the_averages_and_swap_evaluates_with_them():
    x, y = _data()
    model = _model()
    model.compile(keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.9), "mse")
    seen = {}

    class Probe(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen.setdefault("test", []).append([w.numpy().copy() for w in self.model.trainable_weights])

    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0,
              callbacks=[keras.callbacks.SwapEMAWeights(), Probe()])
    opt = model.optimizer
    # after fit the model holds the averages (finalize_variable_values)
    for w in model.trainable_weights:
        np.testing.assert_array_equal(w.numpy(), opt._average_of(w).numpy())
    assert len(seen["test"]) == 2


def test_swap_is_exact_and_restores():
    x, y = _data()
    model = _model()
    model.compile(keras.optimizers.Adam(0.01, use_ema=True), "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    opt = model.optimizer
    # make the two sets differ, then swap around an evaluation and a prediction (Keras 3.15 leaves the
    # averages in the model after predict; ferrograd swaps back, see _callback_ema.py)
    with keras.no_grad():
        for w in model.trainable_weights:
            w.assign(w * 2.0)
    before = [w.numpy().copy() for w in model.trainable_weights]
    averages = [opt._average_of(w).numpy().copy() for w in model.trainable_weights]
    cb = keras.callbacks.SwapEMAWeights()
    model.evaluate(x, y, verbose=0, callbacks=[cb])
    model.predict(x, verbose=0, callbacks=[cb])
    for w, b, a in zip(model.trainable_weights, before, averages):
        np.testing.assert_array_equal(w.numpy(), b)
        np.testing.assert_array_equal(opt._average_of(w).numpy(), a)
    cb._swap()
    for w, a in zip(model.trainable_weights, averages):
        np.testing.assert_array_equal(w.numpy(), a)


def test_swap_on_epoch_leaves_the_averages_after_fit():
    x, y = _data()
    model = _model()
    model.compile(keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.5), "mse")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    for w in model.trainable_weights:
        np.testing.assert_array_equal(w.numpy(), model.optimizer._average_of(w).numpy())


def test_save_and_resume_keep_the_averages(tmp_path):
    x, y = _data()
    model = _model()
    model.compile(keras.optimizers.Adam(0.01, use_ema=True, ema_overwrite_frequency=5), "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    assert back.optimizer.use_ema and back.optimizer.ema_overwrite_frequency == 5
    for a, b in zip(model.trainable_weights, back.trainable_weights):
        np.testing.assert_array_equal(model.optimizer._average_of(a).numpy(), back.optimizer._average_of(b).numpy())
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    back.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.trainable_weights, back.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_errors():
    with pytest.raises(ValueError, match="ema_momentum"):
        keras.optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        keras.optimizers.SGD(use_ema=True, ema_overwrite_frequency=-1)  # 0 means None, as in Keras
    x, y = _data()
    model = _model()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(x, y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
