"""The training package: data adapters, epoch iteration, callback hook order, the step override
points and the custom training-step recipe, against Keras 3 behaviour measured on its PyTorch
backend (tests/fixtures/keras_training.json, made by tests/fixtures/measure_keras_training.py)."""
from __future__ import annotations

import json
import math
import pathlib
import warnings

import numpy as np
import pytest

import ferrograd
import ferrograd as keras
from ferrograd import layers

KERAS = json.loads((pathlib.Path(__file__).parent / "fixtures" / "keras_training.json").read_text())

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]


class Recorder(keras.callbacks.Callback):
    """Records ``[hook, (batch or epoch), sorted log keys]`` for every hook, as the fixture does."""

    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(["params", dict(self.params)])
        self._rec("on_train_begin", logs)


def _make_hook(name):
    def hook(self, *args, logs=None):
        ints = [a for a in args if isinstance(a, int)]
        lg = logs if logs is not None else (args[-1] if args and isinstance(args[-1], dict) else None)
        self.events.append([name, *ints, sorted(lg) if isinstance(lg, dict) else lg])
    return hook


Recorder._rec = lambda self, name, logs: self.events.append([name, sorted(logs) if isinstance(logs, dict) else logs])
for _h in HOOKS:
    if _h != "on_train_begin":
        setattr(Recorder, _h, _make_hook(_h))


def small_regression(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3), dtype=np.float32), rng.random((n, 1), dtype=np.float32)


def dense_model(seed=0, units=1, inputs=3):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((inputs,)), layers.Dense(units)])


# ---- callback hooks in Keras order --------------------------------------------------------------
def test_fit_evaluate_predict_fire_every_hook_in_keras_order():
    x, y = small_regression(10)
    rng = np.random.default_rng(0)
    rng.random((10, 3)), rng.random((10, 1))
    xv, yv = np.random.default_rng(1).random((6, 3), dtype=np.float32), np.random.default_rng(2).random(
        (6, 1), dtype=np.float32)
    m = dense_model()
    m.compile("sgd", "mse", metrics=["mae"])
    assert m.metrics_names == KERAS["metrics_names_after_compile"]
    rec = Recorder()
    hist = m.fit(x, y, batch_size=4, epochs=2, validation_data=(xv, yv), callbacks=[rec], verbose=0)
    assert rec.events == KERAS["fit"]
    assert list(hist.history) == KERAS["history_keys"]
    assert m.metrics_names == KERAS["metrics_names_after_fit"]
    rec = Recorder()
    res = m.evaluate(x, y, batch_size=5, callbacks=[rec], verbose=0)
    assert rec.events == KERAS["evaluate"] and len(res) == KERAS["evaluate_result_len"]
    rec = Recorder()
    m.predict(x, batch_size=4, callbacks=[rec], verbose=0)
    assert rec.events == KERAS["predict"]
    # steps_per_epoch carries the iterator over epochs: epoch 2 gets the one batch left, then stops
    rec = Recorder()
    with pytest.warns(UserWarning, match="ran out of data"):
        m.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=2, validation_data=(xv, yv), validation_steps=1,
              validation_freq=2, callbacks=[rec], verbose=0)
    assert [e for e in rec.events if e[0] != "params"] == KERAS["fit_spe"]


def test_legacy_on_batch_end_and_lambda_callback():
    class Alias(keras.callbacks.Callback):
        n = 0

        def on_batch_end(self, batch, logs=None):
            self.n += 1

    x, y = small_regression(12)
    m = dense_model()
    m.compile("sgd", "mse")
    a = Alias()
    seen = []
    m.fit(x, y, batch_size=4, verbose=0, callbacks=[a, keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(b), on_test_end=lambda logs: seen.append("test"))],
          validation_data=(x, y))
    assert a.n == KERAS["alias_batch_end_calls"] == 3
    assert seen == [0, 1, 2, "test"]


def test_stop_training_inside_a_batch_and_validation_freq_list():
    x, y = small_regression(12)
    m = dense_model()
    m.compile("sgd", "mse")

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    rec = Recorder()
    h = m.fit(x, y, batch_size=4, epochs=5, callbacks=[Stop(), rec], verbose=0)
    assert len(h.history["loss"]) == 1
    assert [e[:2] for e in rec.events if e[0] == "on_train_batch_end"] == [["on_train_batch_end", 0],
                                                                             ["on_train_batch_end", 1]]
    h = m.fit(x, y, epochs=4, validation_data=(x, y), validation_freq=[1, 3], verbose=0)
    assert h.history["val_loss"] and len(h.history["val_loss"]) == 2


# ---- metrics, logs, names -----------------------------------------------------------------------
def _two_head_model():
    keras.utils.set_random_seed(3)
    a_in, b_in = keras.Input(shape=(4,), name="a"), keras.Input(shape=(3,), name="b")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(a_in), b_in])
    model = keras.Model([a_in, b_in], [layers.Dense(3, activation="softmax", name="cls")(h),
                                       layers.Dense(1, name="reg")(h)])
    rng = np.random.default_rng(3)
    xa, xb = rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=(64, 3)).astype(np.float32)
    yc = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)
    yr = (xa.sum(1, keepdims=True) * 0.5).astype(np.float32)
    return model, xa, xb, yc, yr


def test_multi_output_names_and_orders_match_keras():
    model, xa, xb, yc, yr = _two_head_model()
    model.compile(keras.optimizers.Adam(0.02), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    assert model.metrics_names == KERAS["mo_names_compile"]
    h = model.fit({"a": xa, "b": xb}, {"cls": yc, "reg": yr}, epochs=1, batch_size=16, verbose=0)
    assert list(h.history) == KERAS["mo_history_keys"]
    assert model.metrics_names == KERAS["mo_names_fit"]
    res = model.evaluate([xa, xb], [yc, yr], verbose=0, return_dict=True)
    assert list(res) == KERAS["mo_eval_dict_keys"]
    as_list = model.evaluate([xa, xb], [yc, yr], verbose=0)
    assert as_list == [res[k] for k in KERAS["mo_eval_list_order"]]
    assert list(model.train_on_batch([xa[:16], xb[:16]], [yc[:16], yr[:16]], return_dict=True)) == KERAS[
        "mo_tob_keys"]
    # a metric list as long as the outputs is one metric per output (Keras)
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    assert sorted(model.evaluate([xa, xb], [np.zeros((64, 3)), yr], verbose=0, return_dict=True)) == KERAS[
        "mo_flat_len2"]


def test_weighted_metrics_and_sample_weight():
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 3), dtype=np.float32), rng.random((12, 1), dtype=np.float32)
    sw = np.r_[np.zeros(6), np.ones(6)].astype(np.float32)
    m = dense_model()
    m.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae", "mse"])
    r = m.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    assert sorted(r) == KERAS["weighted_keys"]
    assert len(m.evaluate(x, y, sample_weight=sw, verbose=0)) == KERAS["weighted_list_len"]
    pred = m.predict(x, verbose=0)
    err = np.abs(pred - y)[:, 0]
    assert r["mae"] == pytest.approx(err.mean(), rel=1e-5)
    assert r["weighted_mae"] == pytest.approx(err[6:].mean(), rel=1e-5)
    # the loss is the weighted sum over the batch divided by the batch size (Keras' sum_over_batch_size)
    assert r["loss"] == pytest.approx((err[6:] ** 2).sum() / 12, rel=1e-5)


def test_custom_metric_attributes_are_tracked_and_missing_loss_is_an_error():
    class Custom(keras.Model):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.d = layers.Dense(1)
            self.tracker = keras.metrics.Mean(name="my_tracker")

        def call(self, x):
            return self.d(x)

    x, y = small_regression(10)
    c = Custom()
    c.compile("sgd", "mse", metrics=["mae"])
    assert c.metrics_names == KERAS["custom_names_compile"]
    c.fit(x, y, verbose=0)
    assert c.metrics_names == KERAS["custom_names_fit"]
    c2 = Custom()
    c2.compile("sgd")
    assert c2.metrics_names == KERAS["noloss_names"]
    with pytest.raises(ValueError, match="No loss to compute"):
        c2.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="compile"):
        Custom().fit(x, y, verbose=0)


def test_on_batch_methods():
    x, y = small_regression(10)
    m = dense_model()
    m.compile("sgd", "mse", metrics=["mae"])
    assert isinstance(m.train_on_batch(x, y), list) and len(m.test_on_batch(x, y)) == 2
    assert isinstance(m.predict_on_batch(x), np.ndarray)
    before = m.get_weights()
    m.test_on_batch(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))
    loss, mae = m.test_on_batch(x, y)
    assert loss == pytest.approx(float(((m.predict(x, verbose=0) - y) ** 2).mean()), rel=1e-5)


# ---- data: arrays, validation_split, class_weight, generators, PyDataset ------------------------
def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = small_regression(20, seed=5)
    m = dense_model()
    m.compile("sgd", "mse")
    h = m.fit(x, y, epochs=1, batch_size=4, validation_split=0.25, shuffle=True, verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(x[15:], y[15:], verbose=0), rel=1e-6)
    with pytest.raises(ValueError, match="only supported for tensors or NumPy arrays"):
        m.fit((b for b in [(x, y)]), validation_split=0.2, verbose=0)


def test_class_weight_equals_the_matching_sample_weight():
    rng = np.random.default_rng(1)
    x = rng.random((16, 3), dtype=np.float32)
    y = rng.integers(0, 2, 16)
    cw = {0: 1.0, 1: 3.0}

    def run(**kw):
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="softmax")])
        m.compile("sgd", "sparse_categorical_crossentropy")
        return m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, **kw).history["loss"]

    by_class = run(class_weight=cw)
    assert by_class == pytest.approx(run(sample_weight=np.where(y == 1, 3.0, 1.0)), rel=1e-6)
    assert by_class != pytest.approx(run(), rel=1e-6)
    m = dense_model()
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="class_weight"):
        m.fit(x, y[:, None].astype(np.float32), class_weight=cw, sample_weight=np.ones(16), verbose=0)
    with pytest.raises(ValueError, match="not supported for Python generator"):
        m.fit((b for b in [(x, y)]), class_weight=cw, verbose=0)


def test_tensors_and_shuffle_modes():
    x, y = small_regression(12)
    m = dense_model()
    m.compile("sgd", "mse")
    ref = m.evaluate(x, y, verbose=0)
    assert m.evaluate(ferrograd.from_numpy(x), ferrograd.from_numpy(y), verbose=0) == pytest.approx(ref)
    assert m.evaluate(x.astype(np.float64), y.astype(np.float64), verbose=0) == pytest.approx(ref, rel=1e-6)
    for shuffle in (False, True, "batch"):
        h = m.fit(x, y, batch_size=5, shuffle=shuffle, verbose=0)
        assert np.isfinite(h.history["loss"][0])
    # steps without batch_size: the batch size is ceil(samples / steps), as in Keras
    rec = Recorder()
    m.evaluate(x, y, steps=3, callbacks=[rec], verbose=0)
    assert [e[1] for e in rec.events if e[0] == "on_test_batch_end"] == [0, 1, 2]


def test_generator_with_steps_per_epoch_continues_across_epochs():
    seen = []

    def gen():
        i = 0
        while True:
            seen.append(i)
            xb = np.full((2, 3), i, np.float32)
            yield xb, xb[:, :1]
            i += 1

    m = dense_model()
    m.compile("sgd", "mse")
    hist = m.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0, shuffle=False)
    # Keras peeks the first batch for its symbolic build and hands it out again: same batches seen
    assert seen == KERAS["gen_seen"] and list(hist.history) == KERAS["gen_hist"]
    seen2 = []

    def finite():
        for i in range(3):
            seen2.append(i)
            xb = np.full((2, 3), i, np.float32)
            yield (xb, xb[:, :1])

    rec = Recorder()
    m.evaluate(finite(), callbacks=[rec], verbose=0)
    assert seen2 == KERAS["gen_eval_seen"]
    assert [e[1] for e in rec.events if e[0] == "on_test_batch_end"] == [0, 1, 2]
    # x-only batches for predict, validation from a generator with validation_steps
    out = m.predict((np.ones((2, 3), np.float32) * i for i in range(3)), verbose=0)
    assert out.shape == (6, 1)
    with pytest.warns(UserWarning, match="shuffle=True"):  # the default shuffle cannot apply (Keras warns too)
        h = m.fit(gen(), steps_per_epoch=2, epochs=2, validation_data=gen(), validation_steps=2, verbose=0)
    assert len(h.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="at least one batch"):
        m.fit((b for b in []), verbose=0, shuffle=False)


def test_multi_input_generator_batches_may_be_dicts():
    model, xa, xb, yc, yr = _two_head_model()
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"])

    def gen():
        for s in range(0, 64, 16):
            yield {"a": xa[s:s + 16], "b": xb[s:s + 16]}, {"cls": yc[s:s + 16], "reg": yr[s:s + 16]}

    h = model.fit(gen(), epochs=1, verbose=0, shuffle=False)
    assert set(h.history) == {"loss", "cls_loss", "reg_loss"}
    pc, pr = model.predict(({"a": xa[s:s + 16], "b": xb[s:s + 16]} for s in range(0, 64, 16)), verbose=0)
    assert pc.shape == (64, 3) and pr.shape == (64, 1)


class Batches(keras.utils.PyDataset):
    def __init__(self, n, tag, calls, **kw):
        super().__init__(**kw)
        self.n, self.tag, self.calls = n, tag, calls

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls.append(f"{self.tag}[{i}]")
        xb = np.full((2, 3), i, np.float32)
        return xb, xb[:, :1]

    def on_epoch_begin(self):
        self.calls.append(f"{self.tag}.begin")

    def on_epoch_end(self):
        self.calls.append(f"{self.tag}.end")


def test_pydataset_feeds_fit_with_validation_pydataset():
    calls = []

    class Ep(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            calls.append(f"epoch{e}")

        def on_test_begin(self, logs=None):
            calls.append("test_begin")

    m = dense_model()
    m.compile("sgd", "mse")
    h = m.fit(Batches(3, "t", calls), validation_data=Batches(2, "v", calls), epochs=2, verbose=0, callbacks=[Ep()],
              shuffle=False)
    assert set(h.history) == {"loss", "val_loss"}
    # Keras first reads batch 0 for its symbolic build ("t.begin", "t[0]"); ferrograd builds lazily
    assert KERAS["pydataset_calls"][:2] == ["t.begin", "t[0]"]
    assert calls == KERAS["pydataset_calls"][2:]
    calls2 = []
    m.evaluate(Batches(2, "e", calls2), verbose=0)
    m.predict(Batches(2, "p", calls2), verbose=0)
    assert calls2 == KERAS["pydataset_eval_predict"]


def test_pydataset_shuffle_workers_and_x_only_batches():
    x, y = small_regression(24)

    class Slices(keras.utils.PyDataset):
        def __init__(self, with_y=True, **kw):
            super().__init__(**kw)
            self.with_y = with_y

        def __len__(self):
            return math.ceil(len(x) / 5)

        def __getitem__(self, i):
            s = slice(i * 5, (i + 1) * 5)
            return (x[s], y[s]) if self.with_y else x[s]

    m = dense_model()
    m.compile("sgd", "mse")
    ref = m.evaluate(x, y, verbose=0)
    assert m.evaluate(Slices(), verbose=0) == pytest.approx(ref, rel=1e-6)
    assert m.evaluate(Slices(workers=3, max_queue_size=2), verbose=0) == pytest.approx(ref, rel=1e-6)
    np.testing.assert_allclose(m.predict(Slices(with_y=False, workers=2), verbose=0), m.predict(x, verbose=0))
    with pytest.warns(UserWarning, match="threads"):
        m.evaluate(Slices(workers=2, use_multiprocessing=True), verbose=0)
    keras.utils.set_random_seed(1)
    order = []

    class Order(Slices):
        def __getitem__(self, i):
            order.append(i)
            return super().__getitem__(i)

    m.fit(Order(), epochs=2, shuffle=True, verbose=0)
    assert sorted(order[:5]) == list(range(5)) and order[:10] != list(range(5)) * 2
    with pytest.raises(ValueError, match="should not be passed"):
        m.fit(Slices(), y, verbose=0)


# ---- the override points and the custom training-step recipe ------------------------------------
class RecipeModel(keras.Model):
    """Keras 3's 'Customizing what happens in fit()' (PyTorch backend) in ferrograd form."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]
        with ferrograd.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _functional(cls, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((3,))
    return cls(inp, layers.Dense(1)(inp))


def test_custom_train_step_recipe_matches_the_default_step():
    x, y = small_regression(32, seed=7)
    custom, default = _functional(RecipeModel), _functional(keras.Model)
    for m in (custom, default):
        m.compile("adam", "mse", metrics=["mae"])
    keras.utils.set_random_seed(11)
    hc = custom.fit(x, y, epochs=3, batch_size=8, verbose=0)
    keras.utils.set_random_seed(11)
    hd = default.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert list(hc.history) == KERAS["A_history_keys"]
    for k in ("loss", "mae"):
        assert hc.history[k] == pytest.approx(hd.history[k], rel=1e-6)
    for a, b in zip(custom.get_weights(), default.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_custom_loss_tracker_and_metrics_property():
    class B(keras.Model):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = list(self.trainable_weights)
            with ferrograd.no_grad():
                self.optimizer.apply([v.grad for v in trainable_weights], trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    x, y = small_regression(32, seed=2)
    m = _functional(B)
    m.compile(optimizer="adam")
    batch_losses = []
    cb = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: batch_losses.append([]),
                                        on_train_batch_end=lambda b, logs: batch_losses[-1].append(logs["loss"]))
    h = m.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[cb])
    assert list(h.history) == KERAS["B_history_keys"] and m.metrics_names == KERAS["B_metrics_names"]
    # the trackers are reset at every epoch start: the epoch loss is the last running mean of that epoch
    assert h.history["loss"] == pytest.approx([b[-1] for b in batch_losses])
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_sample_weight_in_a_custom_step_and_custom_test_step():
    class SW(keras.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            tw = list(self.trainable_weights)
            with ferrograd.no_grad():
                self.optimizer.apply([v.grad for v in tw], tw)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name != "loss":
                    metric.update_state(y, y_pred)
                else:
                    metric.update_state(loss)
            return {m.name: m.result() for m in self.metrics}

    x, y = small_regression(16, seed=3)
    m = _functional(SW)
    m.compile("sgd", "mse", metrics=["mae"])
    h = m.fit(x, y, sample_weight=np.linspace(0, 1, 16).astype(np.float32), epochs=2, verbose=0)
    assert set(h.history) == {"loss", "mae"}
    res = m.evaluate(x, y, verbose=0)
    assert type(res).__name__ + str(len(res)) == KERAS["C_evaluate_type"]
    assert res[0] == pytest.approx(float(((m.predict(x, verbose=0) - y) ** 2).mean()), rel=1e-5)


def test_compute_loss_override_and_regularization_penalties():
    x, y = small_regression(8)
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((3,)), layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.5))])
    m.compile("sgd", "mse")
    y_pred = m(ferrograd.from_numpy(x))
    k = m.layers[0].kernel.numpy()
    mse = float(((y_pred.numpy() - y) ** 2).mean())
    assert m.compute_loss(y=ferrograd.from_numpy(y), y_pred=y_pred).item() == pytest.approx(
        mse + 0.5 * float((k ** 2).sum()), rel=1e-5)

    class Doubled(keras.Sequential):
        def compute_loss(self, x, y, y_pred, sample_weight):  # written without `training`, as in Keras < 3.3
            return super().compute_loss(x, y, y_pred, sample_weight) * 2.0

    keras.utils.set_random_seed(0)
    d = Doubled([keras.Input((3,)), layers.Dense(1)])
    d.compile("sgd", "mse")
    assert d.evaluate(x, y, verbose=0) == pytest.approx(2 * mse_of(d, x, y), rel=1e-5)


def mse_of(model, x, y):
    return float(((model.predict(x, verbose=0) - y) ** 2).mean())


def test_gan_step_with_two_optimizers_updates_each_side_in_its_phase():
    latent_dim = 4
    keras.utils.set_random_seed(5)
    discriminator = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(1)],
                                     name="discriminator")
    generator = keras.Sequential([keras.Input((latent_dim,)), layers.Dense(8, activation="relu"), layers.Dense(6)],
                                 name="generator")

    def snapshot(model):
        return [w.numpy().copy() for w in model.trainable_weights]

    def changed(a, b):
        return all(not np.array_equal(u, v) for u, v in zip(a, b))

    def same(a, b):
        return all(np.array_equal(u, v) for u, v in zip(a, b))

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.phases = []

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            start = (snapshot(self.discriminator), snapshot(self.generator))
            # train the discriminator on generated and real samples
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            generated = self.generator(z)
            combined = keras.ops.concatenate([generated, real_images], axis=0)
            labels = keras.ops.concatenate([keras.ops.ones((batch_size, 1)), keras.ops.zeros((batch_size, 1))],
                                           axis=0)
            labels = labels + 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)
            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(combined))
            d_loss.backward()
            grads = [v.grad for v in self.discriminator.trainable_weights]
            with ferrograd.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            mid = (snapshot(self.discriminator), snapshot(self.generator))
            # train the generator through the (frozen by construction) discriminator
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            misleading = keras.ops.zeros((batch_size, 1))
            self.zero_grad()
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(z)))
            g_loss.backward()
            grads = [v.grad for v in self.generator.trainable_weights]
            with ferrograd.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)
            end = (snapshot(self.discriminator), snapshot(self.generator))
            self.phases.append((start, mid, end))
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)  # as the Keras guide
    d_opt, g_opt = keras.optimizers.Adam(3e-3), keras.optimizers.Adam(3e-3)
    gan.compile(d_optimizer=d_opt, g_optimizer=g_opt,
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    d0, g0 = snapshot(discriminator), snapshot(generator)
    real = np.random.default_rng(0).normal(size=(32, 6)).astype(np.float32)
    h = gan.fit(real, batch_size=8, epochs=2, verbose=0)
    assert set(h.history) == {"d_loss", "g_loss"} and len(h.history["d_loss"]) == 2
    assert len(gan.phases) == 8
    for (d_s, g_s), (d_m, g_m), (d_e, g_e) in gan.phases:
        assert changed(d_s, d_m) and same(g_s, g_m)  # discriminator phase: only D moves
        assert same(d_m, d_e) and changed(g_m, g_e)  # generator phase: only G moves
    assert changed(d0, snapshot(discriminator)) and changed(g0, snapshot(generator))
    assert d_opt.iterations == g_opt.iterations == 8
    # a PyDataset of x-only batches feeds the same step ((x,) tuples)

    class Real(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return real[i * 8:(i + 1) * 8]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Real() does not call super().__init__()
        gan.fit(Real(), epochs=1, verbose=0)
    assert len(gan.phases) == 10


def test_predict_single_batch_returns_the_outputs_and_progbar_lines(capsys):
    x, y = small_regression(10)
    m = dense_model()
    m.compile("sgd", "mse", metrics=["mae"])
    with ferrograd.no_grad():
        direct = m(ferrograd.from_numpy(x)).numpy()
    np.testing.assert_array_equal(m.predict(x, verbose=0), direct)
    np.testing.assert_array_equal(m.predict(x, batch_size=3, verbose=0), direct)
    m.evaluate(x, y, batch_size=5)
    m.predict(x)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2/2 - ") and "loss: " in out[0] and "mae: " in out[0]
    assert out[1].startswith("1/1 - ")
    m.fit(x, y, batch_size=4, epochs=1, verbose=2)  # one epoch: no "Epoch 1/1" header (Keras)
    assert capsys.readouterr().out.startswith("3/3 - ")
