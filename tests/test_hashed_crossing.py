"""layers.HashedCrossing against Keras 3.15 on TensorFlow 2.21 (stored outputs of
``tf.sparse.cross_hashed`` through the layer), in a functional model with string inputs, and its
errors."""
import json
import pathlib

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers

CASES = json.loads((pathlib.Path(__file__).parent / "fixtures" / "keras_hashed_crossing.json").read_text())


@pytest.mark.parametrize("case", [c for c in CASES if "name" in c], ids=lambda c: c["name"])
def test_matches_keras_on_tensorflow(case):
    inputs = tuple(np.asarray(x, dtype=d) for x, d in zip(case["inputs"], case["dtypes"]))
    out = layers.HashedCrossing(**case["kwargs"])(inputs)
    got = out.numpy()
    assert list(got.shape) == case["shape"] and str(got.dtype) == case["out_dtype"]
    np.testing.assert_array_equal(got, np.asarray(case["output"], dtype=case["out_dtype"]))


def test_config_and_symbolic_model(tmp_path):
    cfg = [c for c in CASES if "config" in c][0]["config"]
    layer = layers.HashedCrossing(num_bins=5, name=cfg["name"])
    assert layer.get_config() == cfg
    assert layers.HashedCrossing.from_config(cfg).get_config() == cfg
    a, b = keras.Input(shape=(1,), dtype="string"), keras.Input(shape=(1,), dtype="int64")
    crossed = layers.HashedCrossing(num_bins=5, output_mode="one_hot")((a, b))
    assert crossed.shape == (None, 5) and crossed.dtype == "float32"
    model = keras.Model([a, b], layers.Dense(1)(crossed))
    x = [np.array([["A"], ["B"]]), np.array([[101], [102]])]
    pred = model.predict(x, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), pred)


def test_errors():
    with pytest.raises(ValueError, match="at least two inputs"):
        layers.HashedCrossing(num_bins=3)((np.array([1]),))
    with pytest.raises(ValueError, match="list or tuple of inputs"):
        layers.HashedCrossing(num_bins=3)(np.array([1]))
    with pytest.raises(ValueError, match="equal shape"):
        layers.HashedCrossing(num_bins=3)((np.array([1, 2]), np.array([1])))
    with pytest.raises(ValueError, match="should have shape"):
        layers.HashedCrossing(num_bins=3)((np.ones((2, 2), int), np.ones((2, 2), int)))
    with pytest.raises(ValueError, match="integer or string dtype"):
        layers.HashedCrossing(num_bins=3)((np.array([1.5]), np.array([1])))
    with pytest.raises(ValueError, match="output_mode"):
        layers.HashedCrossing(num_bins=3, output_mode="multi_hot")
    with pytest.raises(ValueError, match="num_bins"):
        layers.HashedCrossing(num_bins=0)
    with pytest.raises(ValueError, match="sparse=True"):
        layers.HashedCrossing(num_bins=3, sparse=True)
