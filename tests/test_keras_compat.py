"""Unmodified Keras scripts run through ``python -m ferrograd.keras_compat``."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import keras
    from keras import layers
    from keras.utils import to_categorical

    x = np.random.default_rng(0).standard_normal((256, 4)).astype("float32")
    y = to_categorical((x[:, 0] > 0).astype("int64"), 2)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    print("ACC", model.evaluate(x, y, verbose=0)[1])
    """
)


def run(code, tmp_path):
    p = tmp_path / "script.py"
    p.write_text(code)
    env = dict(os.environ, KERAS_BACKEND="torch")
    return subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", str(p)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_keras_script_runs(tmp_path):
    r = run(SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    acc = float(r.stdout.split("ACC")[-1])
    assert acc > 0.9


def test_missing_api_is_named(tmp_path):
    r = run("import keras\nkeras.layers.TFSMLayer(\"saved\")\n", tmp_path)
    assert r.returncode != 0 and "keras.layers.TFSMLayer is not available in ferrograd yet" in r.stderr
    r = run("import keras.applications.mobilenet_v2\n", tmp_path)
    assert r.returncode != 0 and "keras.applications.mobilenet_v2 is not available in ferrograd yet" in r.stderr
    r = run("import keras\nkeras.applications.MobileNetV2()\n", tmp_path)
    assert r.returncode != 0 and "keras.applications.MobileNetV2 is not available in ferrograd yet" in r.stderr


OPTIONS_SCRIPT = textwrap.dedent(
    """
    import urllib.request
    import numpy as np
    import keras

    (x, y), (xt, yt) = keras.datasets.cifar100.load_data(label_mode="coarse")
    print("CIFAR", x.shape, x.dtype, y.shape, int(y.max()) < 20, xt.shape)
    data = np.loadtxt("https://example.invalid/some/dir/table.tsv", delimiter="\\t")
    print("TSV", data.shape)
    try:
        urllib.request.urlopen("https://example.invalid/missing.bin")
    except OSError as e:
        print("REFUSED", "missing.bin" in str(e))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    h = model.fit(np.zeros((640, 3)), np.zeros((640, 1)), 32, 5, 0, [cb])   # positional, as Keras allows
    print("FIT", len(h.history["loss"]), len(seen))
    short = []
    cb2 = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: short.append(b))
    model.fit(np.zeros((64, 3)), np.zeros((64, 1)), batch_size=32, callbacks=[cb2], verbose=0)
    print("SHORT", len(short))
    print("PRED", model.predict(np.zeros((640, 3)), verbose=0).shape)
    """
)


def test_runner_options_cap_training_and_swap_data(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "table.tsv").write_text("1\t2\t3\n4\t5\t6\n")
    script = tmp_path / "script.py"
    script.write_text(OPTIONS_SCRIPT)
    env = dict(os.environ, FERROGRAD_DATA=str(tmp_path / "no-data"), FERROGRAD_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", "--max-epochs", "2", "--max-steps", "3",
                        "--synthetic-data", "--url-dir", str(files), str(script)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "CIFAR (50000, 32, 32, 3) uint8 (50000, 1) True (10000, 32, 32, 3)" in out
    assert "TSV (2, 3)" in out and "REFUSED True" in out
    assert "FIT 2 6" in out            # 2 epochs of 3 batches instead of 5 of 20
    assert "SHORT 2" in out            # a dataset shorter than the cap keeps its own batches
    assert "PRED (640, 1)" in out      # predict is never cut
    bad = subprocess.run([sys.executable, "-m", "ferrograd.keras_compat", "--max-steps", "0", str(script)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "--max-steps must be a positive integer" in bad.stderr
