"""LayerNormalization, RMSNormalization, GroupNormalization and UnitNormalization: outputs and
gradients against PyTorch's twins (float64), Keras' weights, masks passed through, bad arguments.
Their configs and outputs against real Keras are in test_attention_layers.py (shared cases)."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers
from ferrograd.layers.layer import get_keras_mask, set_keras_mask

torch = pytest.importorskip("torch")


def _run(layer, x, g_out):
    t = keras.tensor(x.astype(np.float32), requires_grad=True)
    y = layer(t)
    (y * keras.tensor(g_out.astype(np.float32))).sum().backward()
    return y.numpy(), t.grad.numpy()


def _torch_run(fn, x, g_out, params):
    tx = torch.tensor(x, requires_grad=True)
    ty = fn(tx, *params)
    (ty * torch.tensor(g_out)).sum().backward()
    return ty.detach().numpy(), tx.grad.numpy()


def test_rms_normalization_equals_torch():
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 5, 8))
    layer = layers.RMSNormalization(epsilon=1e-5)
    layer.build((None, 5, 8))
    scale = rng.standard_normal(8)
    layer.set_weights([scale.astype(np.float32)])
    y, gx = _run(layer, x, g)
    ts = torch.tensor(scale, requires_grad=True)
    ty, tgx = _torch_run(lambda t, s: torch.nn.functional.rms_norm(t, (8,), s, 1e-5), x, g, [ts])
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx, tgx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.scale.grad.numpy(), ts.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("groups", [1, 2, -1])
def test_group_normalization_equals_torch(groups):
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 5, 6, 4)), rng.standard_normal((2, 5, 6, 4))  # (B, H, W, C)
    layer = layers.GroupNormalization(groups=groups, epsilon=1e-5, gamma_initializer="random_normal",
                                      beta_initializer="random_normal")
    y, gx = _run(layer, x, g)
    gamma, beta = (torch.tensor(w.astype(np.float64), requires_grad=True) for w in layer.get_weights())
    n = 4 if groups == -1 else groups

    def torch_gn(t, gm, bt):  # channels_last through torch's channels_first GroupNorm
        return torch.nn.functional.group_norm(t.permute(0, 3, 1, 2), n, gm, bt, 1e-5).permute(0, 2, 3, 1)

    ty, tgx = _torch_run(torch_gn, x, g, [gamma, beta])
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx, tgx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.gamma.grad.numpy(), gamma.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.beta.grad.numpy(), beta.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_unit_normalization_equals_torch():
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((4, 7)), rng.standard_normal((4, 7))
    y, gx = _run(layers.UnitNormalization(), x, g)
    ty, tgx = _torch_run(lambda t: torch.nn.functional.normalize(t, dim=-1, eps=1e-12), x, g, [])
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx, tgx, rtol=1e-4, atol=1e-5)


def test_layer_normalization_multi_axis_weights_and_mask_pass_through():
    layer = layers.LayerNormalization(axis=[1, 2])
    x = keras.tensor(np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32))
    set_keras_mask(x, keras.tensor(np.array([[True, True, False], [True, False, False]])))
    y = layer(x)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 4), (3, 4)]
    assert layer.get_config()["axis"] == [1, 2]
    np.testing.assert_array_equal(get_keras_mask(y).numpy(), get_keras_mask(x).numpy())
    v = y.numpy().reshape(2, -1)
    np.testing.assert_allclose(v.mean(-1), 0, atol=1e-5)
    no_affine = layers.LayerNormalization(center=False, scale=False)
    no_affine(x)
    assert no_affine.weights == []


@pytest.mark.parametrize("make,exc,words", [
    (lambda: layers.GroupNormalization(groups=0), ValueError, "groups=0"),
    (lambda: layers.GroupNormalization(groups=3)(keras.ones((2, 4))), ValueError, "multiple"),
    (lambda: layers.GroupNormalization(groups=8)(keras.ones((2, 4))), ValueError, "more than"),
    (lambda: layers.LayerNormalization(axis="x"), TypeError, "axis"),
    (lambda: layers.LayerNormalization(axis=3)(keras.ones((2, 4))), ValueError, "out of bounds"),
    (lambda: layers.UnitNormalization(axis=1.5), TypeError, "axis"),
    (lambda: layers.RMSNormalization(epsilon=-1.0), ValueError, "epsilon"),
])
def test_bad_arguments(make, exc, words):
    with pytest.raises(exc, match=words):
        make()
