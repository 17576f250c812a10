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
    r = run("import keras.applications\n", tmp_path)
    assert r.returncode != 0 and "keras.applications is not available in ferrograd yet" in r.stderr
