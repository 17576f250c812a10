"""The Keras-style API slice: layers, Sequential, compile/fit/evaluate/predict, summary, errors."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


def toy_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8).astype(np.int64)
    return x, y


def test_dense_matches_torch():
    torch = pytest.importorskip("torch")
    d = layers.Dense(5, activation="tanh")
    x = np.random.default_rng(1).standard_normal((7, 3, 4)).astype(np.float32)  # N-D input
    xt = keras.tensor(x, requires_grad=True)
    y = d(xt)
    assert y.shape == (7, 3, 5)
    lin = torch.nn.Linear(4, 5)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(d.kernel.numpy().T))
        lin.bias.copy_(torch.from_numpy(d.bias.numpy()))
    xp = torch.tensor(x, requires_grad=True)
    yp = torch.tanh(lin(xp))
    np.testing.assert_allclose(y.numpy(), yp.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    (y * keras.tensor(g)).sum().backward()
    (yp * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xp.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.kernel.grad.numpy(), lin.weight.grad.numpy().T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d.bias.grad.numpy(), lin.bias.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_layer_basics_and_config_round_trip():
    d = layers.Dense(3, activation="relu", name="proj")
    d.build((None, 4))
    assert d.count_params() == 15 and len(d.weights) == 2 and len(d.trainable_weights) == 2
    again = layers.Dense.from_config(d.get_config())
    assert again.units == 3 and again.activation is keras.activations.relu
    a = layers.Dense(2)
    b = layers.Dense(2)
    assert a.name.startswith("dense") and b.name != a.name
    d.trainable = False
    assert d.trainable_weights == [] and len(d.non_trainable_weights) == 2
    w = d.get_weights()
    d.set_weights([np.ones_like(w[0]), np.zeros_like(w[1])])
    np.testing.assert_array_equal(d.kernel.numpy(), np.ones((4, 3), np.float32))


def test_dropout_scales_in_training_only():
    x = keras.ones((1000, 10))
    d = layers.Dropout(0.25, seed=1)
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    y = d(x, training=True).numpy()
    kept = y != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.75)


def test_sequential_trains_and_reports_like_keras(capsys):
    keras.random.seed(0)
    x, y = toy_data()
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(32, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.summary()
    out = capsys.readouterr().out
    assert 'Model: "sequential' in out and "(None, 32)" in out and "288" in out and "Total params: 387" in out
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9, acc
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)
    p = model.predict(x[:5], verbose=0)
    assert p.shape == (5, 3) and np.allclose(p.sum(-1), 1, atol=1e-5)
    assert isinstance(model.train_on_batch(x[:32], y[:32]), list)


def test_fit_logs_one_line_per_epoch_when_not_a_terminal(capsys):
    x, y = toy_data(100)
    model = keras.Sequential([layers.Dense(3, input_shape=(8,))])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[1].startswith("4/4 - ") and "loss: " in out[1] and "accuracy: " in out[1]


def test_errors():
    x, y = toy_data(50)
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y)
    with pytest.raises(ValueError, match="adamm"):
        model.compile(optimizer="adamm", loss="mse")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="incompatible"):
        model.predict(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="units"):
        layers.Dense(-3)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="symbolic tensors"):
        keras.Model(inputs=np.zeros(3), outputs=np.zeros(3))
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, layers.Dense(2)(b))


def test_initializers_and_activations():
    init = keras.initializers.get("glorot_uniform")
    w = init((200, 300)).numpy()
    limit = np.sqrt(6 / 500)
    assert np.abs(w).max() <= limit and w.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)
    he = keras.initializers.HeNormal(seed=3)((400, 100)).numpy()
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.1)
    np.testing.assert_array_equal(keras.initializers.HeNormal(seed=3)((4, 4)).numpy(),
                                  keras.initializers.HeNormal(seed=3)((4, 4)).numpy())
    q = keras.initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    assert keras.activations.get("relu") is keras.activations.relu
    with pytest.raises(ValueError, match="activation"):
        keras.activations.get("relux")


def test_regularizers_add_to_the_loss_and_constraints_project():
    x, y = toy_data(64)
    model = keras.Sequential([keras.Input(shape=(8,)),
                              layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.5)),
                              layers.Dense(3, kernel_constraint=keras.constraints.NonNeg())])
    pen = model.losses
    assert len(pen) == 1
    k = model.layers[0].kernel.numpy()
    assert pen[0].item() == pytest.approx(0.5 * float((k.astype(np.float64) ** 2).sum()), rel=1e-5)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, verbose=0)
    assert (model.layers[1].kernel.numpy() >= 0).all()


def test_save_and_load_round_trip(tmp_path):
    x, y = toy_data(100)
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(6, activation="relu"), layers.Dropout(0.2),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert again.evaluate(x, y, verbose=0)[1] == pytest.approx(model.evaluate(x, y, verbose=0)[1])
    wpath = tmp_path / "w.weights.h5"
    model.save_weights(wpath)
    fresh = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(6, activation="relu"), layers.Dropout(0.2),
                              layers.Dense(3, activation="softmax")])
    fresh.load_weights(wpath)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    # corrupt and truncated archives are rejected clearly
    data = path.read_bytes()
    (tmp_path / "t.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt|truncated"):
        keras.saving.load_model(tmp_path / "t.keras")
    wrong = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(5), layers.Dense(3)])
    with pytest.raises(ValueError, match="do not match|expects"):
        wrong.load_weights(wpath)
    (tmp_path / "bad.weights.h5").write_bytes(b"\xff" * 16)
    with pytest.raises(ValueError, match="cannot read the weights"):
        fresh.load_weights(tmp_path / "bad.weights.h5")
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "m.h5")


def test_callbacks(tmp_path):
    x, y = toy_data(200)

    def make():
        m = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(3)])
        m.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
        return m

    # EarlyStopping: no epoch improves by min_delta, so training stops after `patience` epochs
    m = make()
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=10.0, restore_best_weights=True)
    h = m.fit(x, y, epochs=20, verbose=0, callbacks=[es])
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 2
    # ModelCheckpoint + CSVLogger + LearningRateScheduler + ReduceLROnPlateau
    m = make()
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "m_{epoch:02d}.keras"))
    csv = keras.callbacks.CSVLogger(tmp_path / "log.csv")
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    h = m.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[ckpt, csv, sched])
    assert (tmp_path / "m_03.keras").exists()
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].split(",")[0] == "epoch" and "val_loss" in rows[0] and len(rows) == 4
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    m = make()
    m.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    assert m.optimizer.learning_rate == pytest.approx(0.025)
    # TerminateOnNaN stops on a NaN loss
    m = make()
    bad = x.copy()
    bad[0, 0] = np.nan
    h = m.fit(bad, y, epochs=3, batch_size=200, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1


def test_functional_api_with_skip_connections():
    keras.random.seed(1)
    x, y = toy_data(400)
    inputs = keras.Input(shape=(8,))
    h = layers.Dense(16, activation="relu")(inputs)
    r = layers.Dense(16, activation="relu")(h)
    h = layers.Add()([h, r])  # residual
    h2 = layers.Dense(16)(h)
    h2 += h  # operator on symbolic tensors
    c = layers.Concatenate()([h2, inputs])
    outputs = layers.Dense(3, activation="softmax")(c)
    model = keras.Model(inputs, outputs)
    assert [type(lyr).__name__ for lyr in model.layers] == ["InputLayer", "Dense", "Dense", "Add", "Dense",
                                                            "Concatenate", "Dense"]
    assert outputs.shape == (None, 3)
    assert model.count_params() == 8 * 16 + 16 + 16 * 16 + 16 + 16 * 16 + 16 + 24 * 3 + 3
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    p = model.predict(x[:4], verbose=0)
    assert p.shape == (4, 3)


def test_subclassed_model():
    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = layers.Dense(16, activation="relu")
            self.d2 = layers.Dense(3)

        def call(self, x, training=False):
            return self.d2(self.d1(x))

    x, y = toy_data(300)
    m = MLP()
    m.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
    m.fit(x, y, epochs=10, verbose=0)
    assert len(m.trainable_weights) == 4
    assert m.evaluate(x, y, verbose=0)[1] > 0.85


def _resnet_unet_like():
    inp = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    y = layers.Conv2D(4, 3, padding="same")(x)
    x = x + y  # operator on symbolic tensors
    x = layers.BatchNormalization()(x)
    s = x[:, 1:, ..., :2]  # indexing is recorded too
    u = layers.UpSampling2D()(x)
    d = layers.MaxPooling2D()(u)
    c = layers.Concatenate()([d, x])
    inner = keras.Sequential([layers.Flatten(), layers.Dense(5)])  # a nested model
    o = keras.ops.relu(inner(c)) * 2.0  # keras.ops on symbolic tensors
    out = layers.Concatenate()([o, layers.GlobalAveragePooling2D()(s)])
    return keras.Model(inp, out)


def test_functional_model_saves_and_loads(tmp_path):
    keras.random.seed(1)
    model = _resnet_unet_like()
    model.compile("adam", "mse", metrics=["mae"])
    x = np.random.default_rng(0).random((6, 8, 8, 3), dtype=np.float32)
    model.fit(x, np.ones((6, 7), np.float32), epochs=1, verbose=0)
    path = tmp_path / "f.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert [type(lyr).__name__ for lyr in again.layers] == [type(lyr).__name__ for lyr in model.layers]
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert again.compiled and again.evaluate(x, np.ones((6, 7)), verbose=0)[0] == pytest.approx(
        model.evaluate(x, np.ones((6, 7)), verbose=0)[0], rel=1e-6)
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    # an altered graph is a clear error, never a crash
    import json
    import zipfile

    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])

    def altered(name, node):
        cfg["config"]["nodes"][3] = node
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            for n, b in {**files, "config.json": json.dumps(cfg).encode()}.items():
                z.writestr(n, b)
        return tmp_path / name

    with pytest.raises(ValueError, match="cannot rebuild the model.*layer 99"):
        keras.saving.load_model(altered("bad.keras", {**cfg["config"]["nodes"][3], "layer": 99}))
    evil = {"op": "__import__", "args": ["os"], "kwargs": {"__dict__": {}}, "outputs": [50]}
    with pytest.raises(ValueError, match="unknown op '__import__'"):
        keras.saving.load_model(altered("bad2.keras", evil))


def test_subclassed_model_saving(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class TwoDense(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.d1 = layers.Dense(7, activation="relu")
            self.d2 = layers.Dense(units)

        def call(self, x):
            return self.d2(self.d1(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    m = TwoDense(4)
    m.compile("sgd", "mse")
    m.fit(np.ones((4, 6)), np.ones((4, 4)), verbose=0)
    m.save(tmp_path / "s.keras")
    again = keras.saving.load_model(tmp_path / "s.keras")
    assert isinstance(again, TwoDense) and again.units == 4
    np.testing.assert_allclose(again.predict(np.ones((2, 6)), verbose=0), m.predict(np.ones((2, 6)), verbose=0))

    class Unregistered(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    u = Unregistered()
    u(np.ones((1, 3)))
    with pytest.raises(ValueError, match="register_keras_serializable"):
        u.save(tmp_path / "u.keras")
    lam = keras.Model(*(lambda i: (i, layers.Lambda(lambda t: t * 2)(i)))(keras.Input(shape=(3,))))
    with pytest.raises(ValueError, match="Lambda layers cannot be serialized"):
        lam.save(tmp_path / "l.keras")


def test_multi_input_multi_output_model(tmp_path):
    keras.random.seed(3)
    rng = np.random.default_rng(3)
    a_in, b_in = keras.Input(shape=(4,), name="a"), keras.Input(shape=(3,), name="b")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(a_in), b_in])
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = keras.Model([a_in, b_in], [cls, reg])
    assert model.input_names == ["a", "b"] and model.output_names == ["cls", "reg"]
    model.compile(keras.optimizers.Adam(0.02), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    xa, xb = rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=(64, 3)).astype(np.float32)
    yc = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)
    yr = (xa.sum(1, keepdims=True) * 0.5).astype(np.float32)
    h = model.fit({"a": xa, "b": xb}, {"cls": yc, "reg": yr}, epochs=30, batch_size=16, verbose=0)
    keys = set(h.history)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"} <= keys
    assert h.history["loss"][-1] < h.history["loss"][0] * 0.5
    # the total is the weighted sum of the heads (no regularizers here)
    res = model.evaluate([xa, xb], [yc, yr], verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(res["cls_loss"] + 0.5 * res["reg_loss"], rel=1e-5)
    pc, pr = model.predict([xa, xb], verbose=0)
    assert pc.shape == (64, 3) and pr.shape == (64, 1)
    assert res["cls_accuracy"] == pytest.approx(float((pc.argmax(1) == yc).mean()))
    model.save(tmp_path / "mm.keras")
    again = keras.saving.load_model(tmp_path / "mm.keras")
    for p, q in zip(again.predict([xa, xb], verbose=0), (pc, pr)):
        np.testing.assert_allclose(p, q, rtol=1e-6)
    assert again.evaluate([xa, xb], [yc, yr], verbose=0, return_dict=True)["loss"] == pytest.approx(res["loss"])
    # clear errors for the wrong number of arrays and mismatched lengths
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(xa, verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        model.fit([xa, xb[:10]], [yc, yr], verbose=0)
    with pytest.raises(ValueError, match="do not match"):
        model.fit({"a": xa, "c": xb}, [yc, yr], verbose=0)
    # one loss for every output, a flat metric list applied to each
    model.compile("sgd", "mse", metrics=["mae"])
    res = model.evaluate([xa, xb], [np.zeros((64, 3)), yr], verbose=0, return_dict=True)
    assert {"cls_mae", "reg_mae", "cls_loss", "reg_loss"} <= set(res)


def test_dict_outputs_are_named_by_their_keys(tmp_path):
    keras.random.seed(4)
    a = keras.Input(shape=(4,), name="a")
    h = layers.Dense(8, activation="relu")(a)
    model = keras.Model(a, {"cls": layers.Dense(3, activation="softmax")(h), "reg": layers.Dense(1)(h)})
    assert model.output_names == ["cls", "reg"]
    model.compile("adam", {"cls": "sparse_categorical_crossentropy", "reg": "mse"}, metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(4)
    x = rng.random((32, 4), dtype=np.float32)
    yc, yr = rng.integers(0, 3, 32), rng.random((32, 1), dtype=np.float32)
    hist = model.fit(x, {"reg": yr, "cls": yc}, epochs=2, verbose=0)  # key order does not matter
    assert set(hist.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    pred = model.predict(x, verbose=0)
    assert set(pred) == {"cls", "reg"} and pred["cls"].shape == (32, 3) and pred["reg"].shape == (32, 1)
    assert set(model.predict_on_batch(x[:2])) == {"cls", "reg"}
    model.save(tmp_path / "d.keras")
    again = keras.saving.load_model(tmp_path / "d.keras")
    for k, v in again.predict(x, verbose=0).items():
        np.testing.assert_allclose(v, pred[k], rtol=1e-6)


def test_functional_summary_lists_connections_and_ops_like_keras(capsys):
    inp = keras.Input((8,), name="x")
    shared = layers.Dense(4, name="d1")
    a, b = shared(inp), shared(inp)
    c = layers.Add(name="add")([a, b])
    d = keras.ops.relu(keras.ops.relu(c))[:, :2]
    model = keras.Model(inp, layers.Dense(1, name="out")(d))
    model.summary()
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.startswith("│")]
    assert "Connected to" in out
    assert rows[0].split("│")[1].strip() == "x (InputLayer)" and rows[0].split("│")[4].strip() == "-"
    # The shared layer's second call is its node 1; an op's name gets a suffix when repeated.
    add = next(i for i, r in enumerate(rows) if "add (Add)" in r)
    assert "d1[0][0]," in rows[add] and "d1[1][0]" in rows[add + 1]
    assert any("relu (Relu)" in r and "add[0][0]" in r for r in rows)
    assert any("relu_1 (Relu)" in r and "relu[0][0]" in r for r in rows)
    assert any("get_item (GetItem)" in r and "relu_1[0][0]" in r for r in rows)
    assert any("out (Dense)" in r and "get_item[0][0]" in r and " 3 " in r for r in rows)
    assert "Total params: 39" in out


def test_summary_wraps_long_layer_names_like_keras(capsys):
    """Keras' rich table wraps a cell wider than its column at spaces, keeping the borders."""
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(name="global_average_pooling2d"),
                              keras.layers.Dense(2)])
    model.summary()
    lines = capsys.readouterr().out.splitlines()
    table = [ln for ln in lines if ln[:1] in "┏┃┡│└"]
    assert len({len(ln) for ln in table}) == 1                      # every row as wide as the frame
    i = next(k for k, ln in enumerate(table) if "global_average_pooling2d " in ln)
    assert table[i].split("│")[2].strip() == "(None, 4)"
    assert table[i + 1].split("│")[1].strip() == "(GlobalAveragePooling2D)"
    assert table[i + 1].split("│")[2].strip() == "" and table[i + 1].split("│")[3].strip() == ""
