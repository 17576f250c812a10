"""layers.Equalization against Keras 3.15 on PyTorch (fixture tests/fixtures/keras_equalization.json:
default bins, 16 bins with a flat channel, value_range (0, 1), channels_first), its config, inference
pass-through and errors."""
import json
import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_equalization.json")) as _f:
    KERAS = json.load(_f)


@pytest.mark.parametrize("case", KERAS["cases"], ids=lambda c: json.dumps(c["kwargs"]))
def test_matches_keras(case):
    x = np.array(case["x"], np.float32).reshape(case["shape"])
    y = layers.Equalization(**case["kwargs"])(fg.tensor(x)).numpy()
    np.testing.assert_allclose(y, np.array(case["y"], np.float32).reshape(case["shape"]), rtol=1e-6, atol=1e-6)


def test_config_inference_and_errors():
    cfg = layers.Equalization(value_range=(0, 1), bins=32).get_config()
    assert json.loads(json.dumps({k: v for k, v in cfg.items() if k not in ("name", "dtype")})) == KERAS["config"]
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(layers.Equalization()(fg.tensor(x), training=False).numpy(), x)
    with pytest.raises(ValueError, match="bins"):
        layers.Equalization(bins=0)
    with pytest.raises(ValueError, match="value_range"):
        layers.Equalization(value_range=5)
