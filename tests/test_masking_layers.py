"""Masks in the layers, Keras 3 semantics: Masking creates them, Dense/Activation/Dropout/
BatchNormalization pass them on, GlobalAveragePooling1D and BatchNormalization read them, merge
layers combine them, layers without mask support drop them. Expected values are NumPy or the
Keras 3 fixtures of tests/fixtures/keras_layers.json ("masks" section)."""
import json
import os

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_layers.json")) as _f:
    K = json.load(_f)["masks"]
X, X2, X3 = (np.asarray(K[k], np.float32) for k in ("x", "x2", "x3"))
M1, M2 = np.asarray(K["m1"], bool), np.asarray(K["m2"], bool)

# layer.supports_masking as Keras 3.15 reports it for a freshly built layer.
KERAS_SUPPORTS_MASKING = {
    "Dense": True, "Activation": True, "Dropout": True, "Flatten": False, "Reshape": False, "Masking": True,
    "Conv1D": False, "Conv2D": False, "Conv2DTranspose": False, "DepthwiseConv2D": False,
    "SeparableConv2D": False, "MaxPooling1D": False, "MaxPooling2D": False, "AveragePooling1D": False,
    "AveragePooling2D": False, "GlobalAveragePooling1D": True, "GlobalAveragePooling2D": False,
    "GlobalMaxPooling1D": False, "GlobalMaxPooling2D": False, "BatchNormalization": True, "UpSampling1D": False,
    "UpSampling2D": False, "ZeroPadding2D": False, "Cropping2D": False, "Permute": False, "RepeatVector": False,
    "Add": True, "Subtract": True, "Multiply": True, "Average": True, "Maximum": True, "Minimum": True,
    "Concatenate": True,
}
REQUIRED = {"Dense": (2,), "Activation": ("relu",), "Dropout": (0.5,), "Reshape": ((2,),), "Conv1D": (2, 3),
            "Conv2D": (2, 3), "Conv2DTranspose": (2, 3), "DepthwiseConv2D": (3,), "SeparableConv2D": (2, 3),
            "AveragePooling1D": (2,), "AveragePooling2D": (2,), "Permute": ((1,),), "RepeatVector": (2,)}


def _mask(t):
    m = getattr(t, "_keras_mask", None)
    return None if m is None else np.asarray(m.numpy(), bool)


def _with_mask(a, m):
    t = keras.tensor(a)
    if m is not None:
        t._keras_mask = keras.tensor(m)
    return t


@pytest.mark.parametrize("name", sorted(KERAS_SUPPORTS_MASKING))
def test_supports_masking_as_keras(name):
    layer = getattr(layers, name)(*REQUIRED.get(name, ()))
    assert layer.supports_masking is KERAS_SUPPORTS_MASKING[name]


def test_masking_layer_zeroes_masked_steps_and_sets_the_mask():
    padded = np.asarray(K["padded"], np.float32)
    layer = layers.Masking()
    want_mask = np.any(padded != 0.0, axis=-1)
    np.testing.assert_array_equal(layer.compute_mask(keras.tensor(padded)).numpy(), want_mask)
    y = layer(keras.tensor(padded))
    np.testing.assert_array_equal(y.numpy(), np.asarray(K["masking_output"], np.float32))
    np.testing.assert_array_equal(_mask(y), np.asarray(K["masking_mask"], bool))


def test_masking_with_a_mask_value_zeroes_whole_steps():
    x = np.array([[[1.0, 1.0], [1.0, 2.0], [1.0, 1.0]]], np.float32)
    y = layers.Masking(mask_value=1.0)(keras.tensor(x))
    np.testing.assert_array_equal(_mask(y), [[False, True, False]])
    np.testing.assert_array_equal(y.numpy(), [[[0, 0], [1, 2], [0, 0]]])


def _masked_mean(x, m):
    w = m[..., None].astype(np.float32)
    return (x * w).sum(1) / w.sum(1)


def test_global_average_pooling_1d_with_an_explicit_mask():
    y = layers.GlobalAveragePooling1D()(keras.tensor(X), mask=keras.tensor(M1))
    np.testing.assert_allclose(y.numpy(), _masked_mean(X, M1), rtol=1e-6)
    np.testing.assert_allclose(y.numpy(), np.asarray(K["gap1d"], np.float32), rtol=1e-6)
    assert _mask(y) is None
    # a NumPy mask works too, and channels_first + keepdims
    layer = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    y = layer(keras.tensor(np.ascontiguousarray(np.transpose(X, (0, 2, 1)))), mask=M1)
    np.testing.assert_allclose(y.numpy(), np.asarray(K["gap1d_channels_first_keepdims"], np.float32), rtol=1e-6)
    assert layer.compute_mask(keras.tensor(X), keras.tensor(M1)) is None


def test_global_max_pooling_1d_does_not_use_masks_as_in_keras():
    layer = layers.GlobalMaxPooling1D()
    assert layer.supports_masking is False
    y = layer(_with_mask(X, M1))
    np.testing.assert_allclose(y.numpy(), X.max(1))
    assert _mask(y) is None


def test_mask_flows_masking_dense_global_average():
    padded = np.asarray(K["padded"], np.float32)
    masked = layers.Masking()(keras.tensor(padded))
    dense = layers.Dense(2)
    dense(masked)
    with keras.no_grad():
        dense.kernel.assign(np.asarray(K["dense_kernel"], np.float32))
    h = dense(masked)
    np.testing.assert_array_equal(_mask(h), np.asarray(K["dense_mask"], bool))
    for lyr in (layers.Activation("relu"), layers.Dropout(0.5), layers.BatchNormalization()):
        np.testing.assert_array_equal(_mask(lyr(h)), _mask(h))
    y = layers.GlobalAveragePooling1D()(h)
    np.testing.assert_allclose(y.numpy(), np.asarray(K["masked_gap1d"], np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda: layers.Flatten(), lambda: layers.Reshape((12,)),
                                  lambda: layers.Conv1D(2, 1), lambda: layers.MaxPooling1D(1),
                                  lambda: layers.UpSampling1D(1), lambda: layers.GlobalAveragePooling1D()],
                         ids=["flatten", "reshape", "conv1d", "max_pool1d", "upsampling1d", "gap1d"])
def test_layers_without_mask_output_drop_it(make):
    assert _mask(make()(_with_mask(X, M1))) is None


def test_functional_model_carries_the_mask_from_masking_to_global_pooling():
    padded = np.asarray(K["padded"], np.float32)
    inp = keras.Input(shape=(4, 3))
    out = layers.GlobalAveragePooling1D()(layers.Masking()(inp))
    model = keras.Model(inp, out)
    want = _masked_mean(padded, np.any(padded != 0, axis=-1))
    np.testing.assert_allclose(model.predict(padded, verbose=0), want, rtol=1e-6)
    seq = keras.Sequential([keras.Input(shape=(4, 3)), layers.Masking(), layers.GlobalAveragePooling1D()])
    np.testing.assert_allclose(seq.predict(padded, verbose=0), want, rtol=1e-6)


def test_batch_norm_statistics_count_only_unmasked_steps():
    bn = layers.BatchNormalization(momentum=0.5)
    y = bn(keras.tensor(X), training=True, mask=keras.tensor(M1))
    np.testing.assert_allclose(y.numpy(), np.asarray(K["bn_output"], np.float32), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.asarray(K["bn_moving_mean"], np.float32), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.asarray(K["bn_moving_variance"], np.float32),
                               rtol=1e-5)
    sel = X[M1]  # (unmasked steps, C)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * sel.mean(0), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="one dimension less"):
        bn(keras.tensor(X), training=True, mask=keras.tensor(np.ones((2, 4, 3), bool)))


def test_batch_norm_not_trainable_runs_in_inference_mode():
    bn = layers.BatchNormalization(trainable=False)
    y = bn(keras.tensor(X), training=True)
    np.testing.assert_allclose(y.numpy(), X / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0.0)


MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
PAIRS = {"both": (M1, M2), "first": (M1, None), "second": (None, M2)}


def _expect(key):
    e = K["merges"][key]
    return np.asarray(e["output"], np.float32), None if e["mask"] is None else np.asarray(e["mask"], bool)


@pytest.mark.parametrize("cls", MERGES)
@pytest.mark.parametrize("label", sorted(PAIRS))
def test_merge_with_masks_on_the_inputs_matches_keras(cls, label):
    masks = PAIRS[label]
    y = getattr(layers, cls)()([_with_mask(X, masks[0]), _with_mask(X2, masks[1])])
    want, want_mask = _expect(f"{cls}/{label}")
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)
    got_mask = _mask(y)
    assert (got_mask is None) == (want_mask is None)
    if want_mask is not None:
        np.testing.assert_array_equal(got_mask, want_mask)


@pytest.mark.parametrize("cls", MERGES)
def test_merge_compute_mask_and_explicit_masks(cls):
    layer = getattr(layers, cls)()
    xs = [keras.tensor(X), keras.tensor(X2)]
    want, want_mask = _expect(f"{cls}/both")
    np.testing.assert_array_equal(layer.compute_mask(xs, [keras.tensor(M1), keras.tensor(M2)]).numpy(), want_mask)
    _, first_mask = _expect(f"{cls}/first")
    got = layer.compute_mask(xs, [keras.tensor(M1), None])
    assert (got is None) == (first_mask is None)
    assert layer.compute_mask(xs, None) is None
    if cls in ("Maximum", "Minimum", "Multiply"):  # their values depend on the masks
        y = layer(xs, mask=[M1, M2])
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        layer.compute_mask(xs, [keras.tensor(M1)])


@pytest.mark.parametrize("cls", ["Maximum", "Minimum", "Multiply", "Add"])
@pytest.mark.parametrize("label", ["three", "three_all"])
def test_merge_of_three_masked_inputs_matches_keras(cls, label):
    third = None if label == "three" else M1
    y = getattr(layers, cls)()([_with_mask(X, M1), _with_mask(X2, M2), _with_mask(X3, third)])
    want, want_mask = _expect(f"{cls}/{label}")
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)
    got_mask = _mask(y)
    assert (got_mask is None) == (want_mask is None)
    if want_mask is not None:
        np.testing.assert_array_equal(got_mask, want_mask)


@pytest.mark.parametrize("label", ["both", "first"])
def test_concatenate_on_the_steps_axis_concatenates_the_masks(label):
    masks = PAIRS[label]
    y = layers.Concatenate(axis=1)([_with_mask(X, masks[0]), _with_mask(X2, masks[1])])
    want, want_mask = _expect(f"Concatenate_axis1/{label}")
    np.testing.assert_allclose(y.numpy(), want)
    np.testing.assert_array_equal(_mask(y), want_mask)
    np.testing.assert_array_equal(want_mask, np.concatenate([masks[0], np.ones_like(M1) if masks[1] is None
                                                             else masks[1]], axis=1))


def test_lambda_mask_argument():
    fixed = layers.Lambda(lambda x: x * 2.0, mask=lambda inputs, mask: mask)
    assert fixed.supports_masking
    y = fixed(_with_mask(X, M1))
    np.testing.assert_array_equal(_mask(y), M1)
    seen = {}

    def fn(x, mask=None):
        seen["mask"] = mask
        return x

    layers.Lambda(fn)(_with_mask(X, M2))
    np.testing.assert_array_equal(np.asarray(seen["mask"].numpy(), bool), M2)
    assert not layers.Lambda(fn).supports_masking
