"""3-D convolution, transposed convolution, pooling and the 3-D reshaping layers.

Against real Keras 3 (fixture tests/fixtures/keras_3d_layers.json, captured by
tests/fixtures/capture_keras_3d.py on the PyTorch backend): outputs, the input gradient and every
weight gradient of ``sum(output * upstream)`` with Keras' weights, output shapes and parameter
counts. Against PyTorch's conv3d / conv_transpose3d / max_pool3d / avg_pool3d where those have the
same semantics, finite differences for the composed ops, and clear errors on bad input.
(Configs against Keras: tests/test_layer_configs.py.)
"""
import json
import os

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import layers, ops

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_3d_layers.json")) as _f:
    KERAS = json.load(_f)["cases"]
rng = np.random.default_rng(0)


def _arr(flat, shape):
    return np.asarray(flat, dtype=np.float32).reshape(shape)


def _avg_pool_same_reference(x, pool, strides):
    """TF/JAX "same" average pooling (the pad left out of each mean), channels_last, in NumPy."""
    out = [-(-n // s) for n, s in zip(x.shape[1:4], strides)]
    lead = [max((o - 1) * s + k - n, 0) // 2 for o, s, k, n in zip(out, strides, pool, x.shape[1:4])]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for idx in np.ndindex(*out):
        lo = [max(i * s - p, 0) for i, s, p in zip(idx, strides, lead)]
        hi = [min(i * s - p + k, n) for i, s, p, k, n in zip(idx, strides, lead, pool, x.shape[1:4])]
        y[(slice(None), *idx)] = x[:, lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].mean(axis=(1, 2, 3))
    return y


# Keras 3 on PyTorch pads "same" average pooling with an odd total padding by replicating the edge
# (keras/src/backend/torch/nn.py), so its windows there differ from TensorFlow's and JAX's, which
# leave the pad out of the mean; ferrograd follows TensorFlow/JAX (as its 1-D/2-D pooling does).
# Where the replicated edge changes the result, these cases check against that rule in NumPy.
TORCH_REPLICATE_PAD = {i for i, c in enumerate(KERAS)
                       if c["layer"] == "AveragePooling3D" and c["kwargs"].get("padding") == "same"
                       and c["kwargs"].get("strides") is not None}


def test_replicated_edge_cases_follow_tensorflow():
    for i in TORCH_REPLICATE_PAD:
        case = KERAS[i]
        x = _arr(case["input"], (2, 4, 5, 3, 2))
        kw = case["kwargs"]
        y = layers.AveragePooling3D(**kw)(fg.tensor(x)).numpy()
        np.testing.assert_allclose(y, _avg_pool_same_reference(x, kw["pool_size"], kw["strides"]), rtol=1e-6,
                                   atol=1e-6)
        assert not np.allclose(y, _arr(case["output"], y.shape), atol=1e-3)  # Keras-on-torch really differs
    assert TORCH_REPLICATE_PAD


@pytest.mark.parametrize("i", sorted(set(range(len(KERAS))) - TORCH_REPLICATE_PAD),
                         ids=[f"{c['layer']}-{n}" for n, c in enumerate(KERAS) if n not in TORCH_REPLICATE_PAD])
def test_matches_keras_outputs_and_gradients(i):
    case = KERAS[i]
    layer = getattr(layers, case["layer"])(**case["kwargs"])
    shape = (2, 4, 5, 3, 2)
    layer.build(shape)
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
    assert layer.count_params() == case["params"]
    layer.set_weights([_arr(w, s) for w, s in zip(case["weights"], case["weight_shapes"])])
    x = fg.tensor(_arr(case["input"], shape), requires_grad=True)
    y = layer(x)
    out_shape = tuple(case["output_array_shape"])
    assert tuple(y.shape) == out_shape == tuple(case["output_shape"])
    np.testing.assert_allclose(y.numpy(), _arr(case["output"], out_shape), rtol=1e-5, atol=2e-5)
    ops.sum(y * fg.tensor(_arr(case["upstream"], out_shape))).backward()
    np.testing.assert_allclose(x.grad.numpy(), _arr(case["input_grad"], shape), rtol=1e-5, atol=2e-5)
    for w, g, s in zip(layer.trainable_weights, case["weight_grads"], case["weight_shapes"]):
        np.testing.assert_allclose(w.grad.numpy(), _arr(g, s), rtol=1e-5, atol=5e-5)


try:
    import torch  # noqa: F811
except ImportError:  # pragma: no cover - CI has torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _ncdhw(x):
    return torch.tensor(x).permute(0, 4, 1, 2, 3)


@needs_torch
@pytest.mark.parametrize("shape,k,strides,dilation", [
    ((2, 7, 6, 5, 3), (3, 2, 3), (1, 1, 1), (1, 1, 1)),
    ((1, 9, 4, 6, 2), (2, 2, 2), (2, 1, 3), (1, 1, 1)),
    ((2, 8, 5, 5, 4), (3, 1, 2), (1, 1, 1), (2, 1, 2)),
    ((1, 3, 3, 3, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    ((17, 2, 3, 2, 3), (2, 3, 2), (1, 1, 1), (1, 1, 1)),
])
def test_conv3d_valid_matches_torch_with_gradients(shape, k, strides, dilation):
    x = rng.normal(size=shape).astype(np.float32)
    w = rng.normal(size=k + (shape[-1], 4)).astype(np.float32)
    b = rng.normal(size=(4,)).astype(np.float32)
    fx, fw, fb = (fg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = ops.conv(fx, fw, strides=strides, dilation_rate=dilation, bias=fb)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv3d(tx.permute(0, 4, 1, 2, 3), tw.permute(4, 3, 0, 1, 2), tb, stride=strides,
                                    dilation=dilation).permute(0, 2, 3, 4, 1)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.normal(size=tuple(y.shape)).astype(np.float32)
    y.backward(fg.tensor(g))
    ty.backward(torch.tensor(g))
    for a, t in ((fx, tx), (fw, tw), (fb, tb)):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-3)


@needs_torch
@pytest.mark.parametrize("strides,dilation", [((1, 1, 1), (1, 1, 1)), ((2, 1, 2), (1, 1, 1)),
                                              ((1, 1, 1), (2, 1, 1)), ((3, 2, 1), (1, 1, 1))])
def test_conv3d_transpose_valid_matches_torch(strides, dilation):
    x = rng.normal(size=(2, 4, 5, 3, 3)).astype(np.float32)
    w = rng.normal(size=(3, 2, 3, 4, 3)).astype(np.float32)  # (kd, kh, kw, out, in)
    fx, fw = fg.tensor(x, requires_grad=True), fg.tensor(w, requires_grad=True)
    y = ops.conv_transpose(fx, fw, strides=strides, dilation_rate=dilation)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv_transpose3d(tx.permute(0, 4, 1, 2, 3), tw.permute(4, 3, 0, 1, 2), stride=strides,
                                              dilation=dilation).permute(0, 2, 3, 4, 1)
    # Keras' "valid" length is (in - 1) * s + max(k_eff, s): zeros past torch's end when s > k_eff
    pad = [(0, a - b) for a, b in zip(y.shape, ty.shape)]
    np.testing.assert_allclose(y.numpy(), np.pad(ty.detach().numpy(), pad), rtol=1e-4, atol=1e-4)
    g = rng.normal(size=tuple(y.shape)).astype(np.float32)
    y.backward(fg.tensor(g))
    ty.backward(torch.tensor(g[tuple(slice(0, n) for n in ty.shape)]))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)


@needs_torch
@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize("pool,strides", [((2, 2, 2), None), ((3, 2, 1), (2, 1, 1)), ((2, 3, 2), (1, 2, 2)),
                                          ((1, 1, 1), None)])
def test_pool3d_valid_matches_torch(kind, pool, strides):
    x = rng.normal(size=(2, 7, 6, 5, 3)).astype(np.float32)
    fx = fg.tensor(x, requires_grad=True)
    y = (ops.max_pool if kind == "max" else ops.average_pool)(fx, pool, strides)
    tx = torch.tensor(x, requires_grad=True)
    tf = torch.nn.functional.max_pool3d if kind == "max" else torch.nn.functional.avg_pool3d
    ty = tf(tx.permute(0, 4, 1, 2, 3), pool, strides or pool).permute(0, 2, 3, 4, 1)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = rng.normal(size=tuple(y.shape)).astype(np.float32)
    y.backward(fg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv3d_and_transpose_gradients_match_finite_differences(padding):
    x, w = rng.normal(size=(1, 4, 3, 3, 2)), rng.normal(size=(2, 2, 2, 2, 3))
    gradcheck(lambda a, b: ops.conv(a, b, strides=(2, 1, 1), padding=padding), x, w)
    wt = rng.normal(size=(3, 2, 2, 3, 2))
    gradcheck(lambda a, b: ops.conv_transpose(a, b, strides=(2, 1, 2), padding=padding), x, wt)


@pytest.mark.parametrize("kind", ["max", "average"])
def test_pool3d_same_gradients_match_finite_differences(kind):
    x = rng.normal(size=(1, 5, 4, 3, 2))
    f = ops.max_pool if kind == "max" else ops.average_pool
    gradcheck(lambda a: f(a, (2, 3, 2), (2, 2, 1), padding="same"), x)


def test_3d_results_do_not_depend_on_the_thread_count():
    x = fg.tensor(rng.normal(size=(3, 6, 8, 8, 4)).astype(np.float32))
    w = fg.tensor(rng.normal(size=(3, 3, 3, 4, 8)).astype(np.float32))
    wt = fg.tensor(rng.normal(size=(2, 3, 3, 5, 4)).astype(np.float32))
    old = fg.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            fg.set_num_threads(n)
            outs.append([ops.conv(x, w, padding="same").numpy(), ops.conv_transpose(x, wt, 2, padding="same").numpy(),
                         ops.average_pool(x, 3, 2, padding="same").numpy()])
    finally:
        fg.set_num_threads(old)
    for a, b in zip(*outs):
        assert np.array_equal(a, b)


def test_3d_layers_train_in_a_model():
    fg.utils.set_random_seed(0)
    model = fg.Sequential([
        fg.Input((4, 8, 8, 1)), layers.Conv3D(4, 3, padding="same", activation="relu"), layers.MaxPooling3D(2),
        layers.Conv3DTranspose(2, 2, strides=2), layers.ZeroPadding3D(1), layers.Cropping3D(1),
        layers.UpSampling3D((1, 1, 1)), layers.GlobalAveragePooling3D(), layers.Dense(1)])
    # Volumes with a per-sample offset; the target is each volume's mean.
    x = (rng.normal(size=(32, 4, 8, 8, 1)) + rng.normal(size=(32, 1, 1, 1, 1))).astype(np.float32)
    y = x.mean(axis=(1, 2, 3, 4))[:, None]
    model.compile(optimizer=fg.optimizers.Adam(0.01), loss="mse")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first * 0.05


def test_bad_3d_inputs_raise_clear_errors():
    x = fg.tensor(np.zeros((1, 2, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="depth"):
        ops.conv(x, np.zeros((3, 1, 1, 3, 2), np.float32))  # valid: depth 2 < kernel depth 3
    with pytest.raises(ValueError, match="4-D NHWC input for a 2-D kernel"):
        ops.conv(x, np.zeros((1, 1, 3, 2), np.float32))
    with pytest.raises(ValueError, match="5-D"):
        ops.max_pool(np.zeros((1, 2, 3, 4, 5, 6), np.float32), 2)
    with pytest.raises(ValueError, match="ndim=5"):
        layers.Conv3D(2, 3)(fg.tensor(np.zeros((1, 4, 4, 3), np.float32)))
    with pytest.raises(ValueError, match="ndim=5"):
        layers.UpSampling3D()(fg.tensor(np.zeros((1, 4, 4, 3), np.float32)))
    with pytest.raises(ValueError, match="padding"):
        layers.ZeroPadding3D((1, 2))
    with pytest.raises(ValueError, match="Strides must be greater than output padding"):
        layers.Conv3DTranspose(2, 3, strides=1, output_padding=1)
