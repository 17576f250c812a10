"""ops.image.gaussian_blur and sobel_edges against Keras 3.15 on PyTorch (fixture tests/fixtures/keras_blur.json:
square and non-square kernels, both layouts, a single image) and layers.RandomGaussianBlur (config,
the blur it applies, randomness only in training, gradients, errors)."""
import json
import os

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import layers, ops

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_blur.json")) as _f:
    KERAS = json.load(_f)


@pytest.mark.parametrize("case", KERAS["cases"], ids=lambda c: f"{c['kernel_size']}-{c['data_format']}")
def test_gaussian_blur_matches_keras(case):
    x = np.array(case["x"], np.float32).reshape(case["shape"])
    y = ops.image.gaussian_blur(x, case["kernel_size"], case["sigma"], data_format=case["data_format"]).numpy()
    np.testing.assert_allclose(y, np.array(case["y"], np.float32).reshape(case["y_shape"]), rtol=1e-5, atol=1e-6)


def test_blur_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    gradcheck(lambda x, s: ops.image.gaussian_blur(x, (3, 3), s), rng.random((1, 4, 5, 2)), np.array([0.9, 1.3]))


def test_random_gaussian_blur_layer():
    layer = layers.RandomGaussianBlur(0.7, kernel_size=5, sigma=(0.5, 2.0), value_range=(0, 1), seed=2)
    cfg = json.loads(json.dumps({k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}))
    assert cfg == KERAS["config"]
    x = np.random.default_rng(1).random((3, 8, 8, 3)).astype(np.float32)
    always = layers.RandomGaussianBlur((1.0, 1.0), kernel_size=3, sigma=(0.8, 0.8), value_range=(0, 1), seed=0)
    want = np.clip(ops.image.gaussian_blur(x, (3, 3), (0.8 + 1e-6, 0.8 + 1e-6)).numpy(), 0, 1)
    np.testing.assert_allclose(always(fg.tensor(x), training=True).numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(always(fg.tensor(x), training=False).numpy(), x)
    never = layers.RandomGaussianBlur(0.0, seed=0, value_range=(0, 1))
    np.testing.assert_array_equal(never(fg.tensor(x), training=True).numpy(), x)


def test_errors():
    with pytest.raises(ValueError, match="odd"):
        layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match="factor"):
        layers.RandomGaussianBlur(factor=2.0)
    with pytest.raises(ValueError, match="rank"):
        ops.image.gaussian_blur(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="sigma"):
        ops.image.gaussian_blur(np.zeros((4, 4, 1), np.float32), sigma=(1.0, 2.0, 3.0))


@pytest.mark.parametrize("case", KERAS["sobel"], ids=lambda c: c["data_format"])
def test_sobel_edges_match_keras(case):
    x = np.array(case["x"], np.float32).reshape(case["shape"])
    y = ops.image.sobel_edges(x, data_format=case["data_format"]).numpy()
    np.testing.assert_allclose(y, np.array(case["y"], np.float32).reshape(case["y_shape"]), rtol=1e-6, atol=1e-6)


def test_sobel_edges_gradients_and_errors():
    gradcheck(ops.image.sobel_edges, np.random.default_rng(2).random((1, 4, 3, 2)))
    with pytest.raises(ValueError, match="rank 4"):
        ops.image.sobel_edges(np.zeros((4, 4, 3), np.float32))
