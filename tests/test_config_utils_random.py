"""keras.config, the keras.utils additions and the keras.random additions, against Keras 3's
documented behaviour (messages, defaults, the windows of its docstring examples)."""
import importlib.util
import io
import json
import logging
import os
import tarfile

import numpy as np
import pytest

import ferrograd as keras


# ---- keras.config --------------------------------------------------------------------------------
def test_config_defaults_and_setters():
    c = keras.config
    assert c.backend() == "ferrograd" and c.floatx() == "float32" and c.epsilon() == 1e-7
    assert c.image_data_format() == "channels_last" and keras.backend.image_data_format() == "channels_last"
    c.set_epsilon(1e-5)
    try:
        assert c.epsilon() == 1e-5 and keras.backend.epsilon() == 1e-5
    finally:
        c.set_epsilon(1e-7)
    c.set_floatx("float32")
    with pytest.raises(ValueError, match="float32 only"):
        c.set_floatx("float16")
    with pytest.raises(ValueError, match="Unknown `floatx` value: float8"):
        c.set_floatx("float8")
    with pytest.raises(ValueError, match="Received: data_format=nchw"):
        c.set_image_data_format("nchw")
    assert repr(c.dtype_policy()) == '<DTypePolicy "float32">'
    c.set_dtype_policy("float32")
    with pytest.raises(ValueError, match="mixed_float16"):
        c.set_dtype_policy("mixed_float16")
    with pytest.raises(ValueError, match="set_backend accepts 'ferrograd'"):
        c.set_backend("jax")
    assert c.is_flash_attention_enabled() is None and c.is_nnx_enabled() is False
    assert c.max_epochs() is None and c.max_steps_per_epoch() is None
    with pytest.raises(NotImplementedError, match="set_max_epochs"):
        c.set_max_epochs(3)
    for flag, on, off in [("is_traceback_filtering_enabled", "enable_traceback_filtering",
                           "disable_traceback_filtering"),
                          ("is_interactive_logging_enabled", "enable_interactive_logging",
                           "disable_interactive_logging")]:
        getattr(c, off)()
        assert getattr(c, flag)() is False
        getattr(c, on)()
        assert getattr(c, flag)() is True
    c.enable_unsafe_deserialization()


def test_config_names_match_keras():
    import json
    import os

    with open(os.path.join(os.path.dirname(__file__), "fixtures", "keras_public_names.json")) as f:
        names = json.load(f)["namespaces"]["config"]
    assert all(callable(getattr(keras.config, n)) for n in names)


# ---- keras.utils ---------------------------------------------------------------------------------
def test_normalize_numpy_and_tensor():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    x[1] = 0
    out = keras.utils.normalize(x, axis=1)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    norm[norm == 0] = 1
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, x / norm, rtol=1e-6)
    np.testing.assert_allclose(keras.utils.normalize(keras.tensor(x), axis=0, order=1).numpy(),
                               x / np.abs(x).sum(0, keepdims=True), rtol=1e-6)


def test_timeseries_windows_follow_keras_docstring():
    # Keras' example 1: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3
    ds = keras.utils.timeseries_dataset_from_array(np.arange(99), None, 10, sequence_stride=3, sampling_rate=2,
                                                   batch_size=4)
    batches = list(ds)
    seqs = np.concatenate(batches)
    assert seqs[0].tolist() == list(range(0, 20, 2)) and seqs[1].tolist() == list(range(3, 23, 2))
    assert seqs[-1].tolist() == list(range(78, 98, 2)) and len(batches) == len(ds) == 7
    # example 2: the past 10 steps predict the next one
    data = np.arange(50, dtype=np.float32)
    ds = keras.utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10, batch_size=8)
    x, y = ds[0]
    np.testing.assert_array_equal(x[0], data[:10]) and np.testing.assert_array_equal(y[0], data[10])
    # shuffled with a seed: the same windows, reproducibly reordered
    a = np.concatenate([b[1] for b in keras.utils.timeseries_dataset_from_array(
        data[:-10], data[10:], 10, shuffle=True, seed=3, batch_size=8)])
    b = np.concatenate([b[1] for b in keras.utils.timeseries_dataset_from_array(
        data[:-10], data[10:], 10, shuffle=True, seed=3, batch_size=8)])
    np.testing.assert_array_equal(a, b)
    assert sorted(a.tolist()) == data[10:41].tolist()
    with pytest.raises(ValueError, match="`sampling_rate` must be higher than 0"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="`start_index` must be lower"):
        keras.utils.timeseries_dataset_from_array(data, None, 3, start_index=60)


def test_timeseries_dataset_trains_a_model():
    data = np.random.default_rng(0).standard_normal((120, 3)).astype(np.float32)
    ds = keras.utils.timeseries_dataset_from_array(data[:-5], data[5:, 0], sequence_length=5, batch_size=16)
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    hist = model.fit(ds, epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 2


def test_split_dataset():
    x, y = np.arange(10), np.arange(10) * 2
    (lx, ly), (rx, ry) = keras.utils.split_dataset((x, y), left_size=0.8)
    assert lx.tolist() == list(range(8)) and ry.tolist() == [16, 18]
    left, right = keras.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    assert len(left) == 7 and len(right) == 3 and sorted(np.concatenate([left, right]).tolist()) == list(range(10))
    d_left, _ = keras.utils.split_dataset({"a": x, "b": y}, left_size=2)
    assert set(d_left) == {"a", "b"} and d_left["b"].tolist() == [0, 2]
    with pytest.raises(ValueError, match="greater than the number of samples"):
        keras.utils.split_dataset(x, left_size=8, right_size=5)


def test_get_file_reads_local_copies_and_checks_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("FERROGRAD_HOME", str(tmp_path / "home"))
    (tmp_path / "data").mkdir()
    f = tmp_path / "data" / "thing.txt"
    f.write_bytes(b"hello")
    import hashlib

    sha, md5 = hashlib.sha256(b"hello").hexdigest(), hashlib.md5(b"hello").hexdigest()
    assert keras.utils.get_file("thing.txt", origin="http://invalid.invalid/x", file_hash=sha) == str(f)
    assert keras.utils.get_file("thing.txt", file_hash=md5) == str(f)
    with pytest.raises(ValueError, match="expected 0000"):
        keras.utils.get_file("thing.txt", file_hash="0" * 64)
    with pytest.raises(ValueError, match="no `origin`"):
        keras.utils.get_file("absent.txt")
    # an archive is extracted next to its cached copy; members escaping the folder are refused
    cache = tmp_path / "home" / "datasets"
    cache.mkdir(parents=True)
    with tarfile.open(cache / "pack.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("pack/a.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    out = keras.utils.get_file("pack.tar.gz", extract=True)
    assert (tmp_path / "home" / "datasets" / "pack.tar.gz_extracted" / "pack" / "a.txt").read_bytes() == b"hi"
    assert out.endswith("pack.tar.gz_extracted")
    with tarfile.open(cache / "evil.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"no"))
    with pytest.raises(ValueError, match="outside"):
        keras.utils.get_file("evil.tar.gz", extract=True)


def test_progbar_averages_like_keras(capsys):
    bar = keras.utils.Progbar(4, stateful_metrics=["acc"], interval=0)
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(3, [("loss", 4.0), ("acc", 0.75)])  # covers 2 steps: (1*1 + 4*2) / 3 = 3.0
    assert bar._values["loss"] == (9.0, 3) and bar._values["acc"] == (0.75, 1)
    out = capsys.readouterr().out
    assert "3/4" in out and "loss: 3.0000" in out and "acc: 0.7500" in out
    bar.add(1, [("loss", 2.0)])
    assert "4/4" in capsys.readouterr().out
    quiet = keras.utils.Progbar(2, verbose=2)
    quiet.update(1, [("loss", 1.0)])
    assert capsys.readouterr().out == ""
    quiet.update(2, [("loss", 3.0)])
    assert capsys.readouterr().out.startswith("2/2")


def test_progbar_goes_to_logging_when_interactive_logging_is_off(capsys, caplog):
    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="ferrograd"):
            keras.utils.Progbar(1).update(1, [("loss", 0.5)])
    finally:
        keras.config.enable_interactive_logging()
    assert capsys.readouterr().out == "" and "loss: 0.5000" in caplog.text


def test_plot_model_and_pillow_helpers_fail_clearly():
    if importlib.util.find_spec("pydot") is None:
        with pytest.raises(ImportError, match="install pydot"):
            keras.utils.plot_model(keras.Sequential())
    x = keras.utils.img_to_array(np.zeros((4, 5), np.uint8))
    assert x.shape == (4, 5, 1) and x.dtype == np.float32
    assert keras.utils.img_to_array(np.zeros((4, 5, 3)), data_format="channels_first").shape == (3, 4, 5)
    try:
        import PIL  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pillow"):
            keras.utils.load_img("x.png")


def test_utils_helpers():
    assert keras.utils.standardize_dtype("float") == "float32" and keras.utils.standardize_dtype(np.int32) == "int32"
    assert keras.utils.is_keras_tensor(keras.Input((3,))) and not keras.utils.is_keras_tensor(np.zeros(3))
    keras.utils.clear_session()
    assert keras.layers.Dense(2).name == "dense"


# ---- keras.random --------------------------------------------------------------------------------
def test_random_dropout():
    x = keras.ones((200, 100))
    y = keras.random.dropout(x, 0.25, seed=1).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and abs((y == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(y, keras.random.dropout(x, 0.25, seed=1).numpy())
    y = keras.random.dropout(x, 0.5, noise_shape=(200, 1), seed=2).numpy()
    assert np.all(y.min(1) == y.max(1))  # one draw per row


def test_random_categorical_frequencies():
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], np.float32)
    s = keras.random.categorical(keras.tensor(np.log(np.maximum(p, 1e-30))), 20000, seed=3).numpy()
    assert s.shape == (2, 20000) and s.dtype == np.int32
    freq = np.stack([np.bincount(r, minlength=3) / 20000 for r in s])
    np.testing.assert_allclose(freq, p, atol=0.015)
    with pytest.raises(ValueError, match="2D"):
        keras.random.categorical(keras.ones((3,)), 2)


def test_random_binomial_moments_and_errors():
    b = keras.random.binomial((20000,), 10, 0.3, seed=2).numpy()
    assert b.dtype == np.float32 and abs(b.mean() - 3.0) < 0.05 and abs(b.var() - 2.1) < 0.1
    assert keras.random.binomial((3,), keras.tensor([0.0, 5.0, 10.0]), 1.0, seed=1).numpy().tolist() == [0, 5, 10]


def test_random_gamma_and_beta_moments_parameters_and_errors():
    for a in (0.2, 1.0, 4.5):
        g = keras.random.gamma((40000,), a, seed=4).numpy()
        assert g.dtype == np.float32 and (g > 0).all()
        assert abs(g.mean() - a) < 0.03 * a + 0.005 and abs(g.var() - a) < 0.08 * a + 0.005
    for a, b in ((0.2, 0.2), (2.0, 5.0)):
        x = keras.random.beta((40000,), a, b, dtype="float64", seed=5).numpy()
        assert x.dtype == np.float64 and ((x >= 0) & (x <= 1)).all()
        assert abs(x.mean() - a / (a + b)) < 0.01
    # tensor parameters broadcast over the shape, one per column here
    x = keras.random.beta((20000, 2), keras.tensor([0.5, 8.0]), 1.0, seed=6).numpy()
    np.testing.assert_allclose(x.mean(0), [0.5 / 1.5, 8.0 / 9.0], atol=0.01)
    g = keras.random.gamma((3,), np.array([1e-3, 1.0, 1e3]), seed=1).numpy()
    assert g[0] < 0.5 and g[2] > 800
    np.testing.assert_array_equal(keras.random.beta((5,), 0.3, 0.3, seed=9).numpy(),
                                  keras.random.beta((5,), 0.3, 0.3, seed=9).numpy())
    # tiny parameters: the gamma draws underflow, the beta draws are still 0 or 1, never NaN
    t = keras.random.beta((1000,), 1e-4, 1e-4, seed=2).numpy()
    assert np.isfinite(t).all()
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        keras.random.gamma((2,), 0.0)
    with pytest.raises(ValueError, match="beta must be finite and > 0"):
        keras.random.beta((2,), 1.0, -1.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        keras.random.gamma((2, 3), np.ones(4))
    with pytest.raises(TypeError, match="float dtype"):
        keras.random.gamma((2,), 1.0, dtype="int32")


def test_random_ops_on_symbolic_inputs():
    inp = keras.Input((4,))
    out = keras.random.dropout(inp, 0.5, seed=3)
    assert out.shape == (None, 4)
    model = keras.Model(inp, out)
    y = model(np.ones((8, 4), np.float32)).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    logits = keras.Input((3,))
    assert keras.random.categorical(logits, 5).shape == (None, 5)

    class MyDropout(keras.layers.Layer):  # keras.io's backend-agnostic layer
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    sym = MyDropout(0.5)(keras.Input((6,)))
    assert sym.shape == (None, 6)


def _text_tree(root):
    for cls, texts in {"neg": ["bad", "awful film", "meh"], "pos": ["great", "loved it"]}.items():
        (root / cls).mkdir(parents=True)
        for i, t in enumerate(texts):
            (root / cls / f"{i}.txt").write_text(t)
    (root / "pos" / "notes.md").write_text("not a .txt file")


def test_text_dataset_from_directory(tmp_path, capsys):
    _text_tree(tmp_path)
    ds = keras.utils.text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    texts, labels = ds[0]
    assert list(texts) == ["bad", "awful film"] and labels.tolist() == [0, 0] and labels.dtype == np.int32
    texts, labels = ds[2]
    assert list(texts) == ["loved it"] and labels.tolist() == [1]
    # shuffled as Keras: RandomState(seed) over the file list, the same over the labels
    order = [os.path.join(str(tmp_path), p) for p in ["neg/0.txt", "neg/1.txt", "neg/2.txt", "pos/0.txt",
                                                      "pos/1.txt"]]
    np.random.RandomState(7).shuffle(order)
    ds = keras.utils.text_dataset_from_directory(tmp_path, batch_size=None, seed=7, label_mode="categorical",
                                                 max_length=3, verbose=False)
    assert ds.file_paths == order
    text, label = ds[0]
    assert len(text.encode()) <= 3 and label.shape == (2,) and label.sum() == 1.0
    train, val = keras.utils.text_dataset_from_directory(tmp_path, validation_split=0.4, subset="both", seed=1,
                                                         label_mode="binary", verbose=False)
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths) and val[0][1].shape == (2, 1)
    only_text = keras.utils.text_dataset_from_directory(tmp_path, labels=None, shuffle=False, verbose=False)
    assert isinstance(only_text[0], np.ndarray) and len(only_text[0]) == 5
    with pytest.raises(ValueError, match="must provide a `seed`"):
        keras.utils.text_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        (tmp_path / "third").mkdir()
        keras.utils.text_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)


def test_utils_config_object():
    c = keras.utils.Config(learning_rate=0.1, layers=2)
    assert c.learning_rate == 0.1 and c["layers"] == 2 and list(c) == ["layers", "learning_rate"]
    c.dropout = 0.5
    assert c.as_dict() == {"learning_rate": 0.1, "layers": 2, "dropout": 0.5} and len(c) == 3
    c.freeze()
    with pytest.raises(ValueError, match="frozen"):
        c.dropout = 0.2
    with pytest.raises(AttributeError, match="Did you mean 'dropout'"):
        c.dropou  # noqa: B018
    c.unfreeze()
    c.update(layers=3)
    assert json.loads(c.to_json())["layers"] == 3


def test_get_source_inputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    h = keras.layers.Dense(2)(a)
    out = keras.layers.Concatenate()([h, b, a])
    src = keras.utils.get_source_inputs(out)
    assert len(src) == 2 and src[0] is a and src[1] is b
    assert keras.utils.get_source_inputs(a) == [a]
