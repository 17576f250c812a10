"""ops.image.rgb_to_hsv / hsv_to_rgb and the RandomHue / RandomSaturation layers against Keras 3.15
on PyTorch (fixture tests/fixtures/keras_hsv.json; the layers' colour transforms with fixed
draws), Python's colorsys, configs, randomness only in training, and errors."""
import colorsys
import json
import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, ops

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_hsv.json")) as _f:
    KERAS = json.load(_f)
SHAPE = (2, 4, 3, 3)
X = np.array(KERAS["x"], np.float32).reshape(SHAPE)


def _k(name):
    return np.array(name, np.float32).reshape(SHAPE)


def test_conversions_match_keras_and_colorsys():
    hsv = ops.image.rgb_to_hsv(X / 255.0).numpy()
    np.testing.assert_allclose(hsv, _k(KERAS["hsv"]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(), _k(KERAS["rgb_back"]), rtol=1e-5, atol=1e-6)
    for px in (X / 255.0).reshape(-1, 3)[:10]:
        got = ops.image.rgb_to_hsv(px.reshape(1, 1, 3)).numpy().ravel()
        np.testing.assert_allclose(got, colorsys.rgb_to_hsv(*px), atol=1e-6)
    first = ops.image.rgb_to_hsv(np.transpose(X / 255.0, (0, 3, 1, 2)), data_format="channels_first").numpy()
    np.testing.assert_allclose(np.transpose(first, (0, 2, 3, 1)), hsv, rtol=1e-6, atol=1e-7)


def test_layer_transforms_match_keras():
    hue = layers.RandomHue(0.5)
    for d, want in KERAS["hue"].items():
        delta = fg.tensor(np.array([float(d), -float(d)], np.float32).reshape(2, 1, 1))
        np.testing.assert_allclose(hue._shift_hue(fg.tensor(X), delta).numpy(), _k(want), rtol=1e-4, atol=1e-3)
    sat = layers.RandomSaturation(0.5)
    for f, want in KERAS["saturation"].items():
        scale = fg.tensor(np.full((2, 1, 1), float(f) / (1 - float(f) + 1e-7), np.float32))
        np.testing.assert_allclose(sat._scale_saturation(fg.tensor(X), scale).numpy(), _k(want), rtol=1e-4,
                                   atol=1e-3)


def test_configs_match_keras():
    for layer, want in ((layers.RandomHue((0.1, 0.4), value_range=(0, 1), seed=3), KERAS["configs"]["hue"]),
                        (layers.RandomSaturation(0.3, seed=1), KERAS["configs"]["saturation"])):
        cfg = json.loads(json.dumps({k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}))
        assert cfg == want


def test_random_only_in_training_and_in_range():
    x = fg.tensor(X)
    for layer in (layers.RandomHue(0.8, seed=1), layers.RandomSaturation((0.2, 0.9), seed=2)):
        np.testing.assert_array_equal(layer(x, training=False).numpy(), X)
        y = layer(x, training=True).numpy()
        assert y.shape == X.shape and not np.allclose(y, X) and y.min() >= -1e-3 and y.max() <= 255.001
    grey = np.full((1, 2, 2, 3), 100.0, np.float32)  # no hue or saturation to change
    np.testing.assert_allclose(layers.RandomHue(1.0, seed=0)(grey, training=True).numpy(), grey, rtol=1e-5)
    np.testing.assert_allclose(layers.RandomSaturation(1.0, seed=0)(grey, training=True).numpy(), grey, rtol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="factor"):
        layers.RandomHue(1.5)
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomSaturation(0.5, value_range=1)
    with pytest.raises(ValueError, match="float dtype"):
        ops.image.rgb_to_hsv(np.zeros((2, 2, 3), np.int32))
    with pytest.raises(ValueError, match="rank"):
        ops.image.hsv_to_rgb(np.zeros((3,), np.float32))


def test_color_jitter_composes_the_four_layers_in_keras_order():
    # get_config() of keras.layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=4) in
    # Keras 3.15.1 (name and dtype left out)
    want = {"trainable": True, "data_format": "channels_last", "value_range": [0, 255], "brightness_factor": 0.2,
            "contrast_factor": None, "saturation_factor": None, "hue_factor": 0.1, "seed": 4}
    cfg = layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=4).get_config()
    assert json.loads(json.dumps({k: v for k, v in cfg.items() if k not in ("name", "dtype")})) == want
    kw = dict(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=(0.3, 0.7), hue_factor=0.1, seed=4)
    jitter = layers.RandomColorJitter(**kw)
    x = fg.tensor(X)
    y = jitter(x, training=True).numpy()
    steps = [layers.RandomBrightness(0.2, seed=4), layers.RandomContrast(0.3, seed=4),
             layers.RandomSaturation((0.3, 0.7), seed=4), layers.RandomHue(0.1, seed=4)]
    z = x
    for s in steps:
        z = s(z, training=True)
    np.testing.assert_allclose(y, z.numpy(), rtol=1e-6, atol=1e-4)
    assert not np.allclose(y, X)
    np.testing.assert_array_equal(jitter(x, training=False).numpy(), X)
    again = layers.RandomColorJitter.from_config(jitter.get_config())
    assert again.get_config() == jitter.get_config()
