"""One layer-test helper applied to every layer: build, output shape, weight count, config round trip,
save/load, and (where PyTorch has the layer) parity of outputs and gradients. The configs of layers
built with non-default arguments are checked against Keras 3 in test_layer_configs.py."""
import inspect
import json

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


def check_layer(make, input_shape, n_weights, expected_shape=None, training=False, tmp_path=None):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + tuple(input_shape)).astype(np.float32)
    layer = make()
    y = layer(keras.tensor(x), training=training)
    want = layer.compute_output_shape((None,) + tuple(input_shape))
    assert tuple(y.shape) == (2,) + tuple(want[1:]), (y.shape, want)
    if expected_shape is not None:
        assert tuple(want[1:]) == tuple(expected_shape)
    assert len(layer.weights) == n_weights
    assert layer.count_params() == sum(int(np.prod(w.shape)) for w in layer.weights)
    cfg = layer.get_config()
    # every constructor argument is returned (activity_regularizer and LoRA only when set, initial
    # `weights` never, as Keras)
    params = [p.name for p in inspect.signature(type(layer).__init__).parameters.values()
              if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    missing = set(params) - set(cfg) - {"activity_regularizer", "lora_rank", "lora_alpha", "weights"}
    assert not missing, f"{type(layer).__name__}.get_config() lacks {sorted(missing)}"
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg
    assert json.loads(json.dumps(type(layer).from_config(json.loads(json.dumps(cfg))).get_config())) == \
        json.loads(json.dumps(cfg))
    # (compared at the same `training` value: the random preprocessing layers default to training=True)
    clone(keras.tensor(x), training=training)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(keras.tensor(x), training=training).numpy(),
                               layer(keras.tensor(x), training=training).numpy(), rtol=1e-6, atol=1e-6)
    if tmp_path is not None:
        model = keras.Sequential([keras.Input(shape=input_shape), make()])
        model.save(tmp_path / "m.keras")
        again = keras.saving.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    return layer


CASES = [
    ("dense", lambda: layers.Dense(5, activation="relu"), (3, 4), 2, (3, 5)),
    ("activation", lambda: layers.Activation("tanh"), (4,), 0, (4,)),
    ("dropout", lambda: layers.Dropout(0.3), (4,), 0, (4,)),
    ("flatten", lambda: layers.Flatten(), (3, 4), 0, (12,)),
    ("reshape", lambda: layers.Reshape((2, -1)), (3, 4), 0, (2, 6)),
    ("permute", lambda: layers.Permute((2, 1)), (3, 4), 0, (4, 3)),
    ("repeat_vector", lambda: layers.RepeatVector(3), (4,), 0, (3, 4)),
    ("conv1d", lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (9, 3), 2, (9, 4)),
    ("conv2d", lambda: layers.Conv2D(4, 3, strides=2, padding="same"), (9, 7, 3), 2, (5, 4, 4)),
    ("conv2d_groups", lambda: layers.Conv2D(4, (3, 2), groups=2), (6, 6, 4), 2, (4, 5, 4)),
    ("conv2d_transpose", lambda: layers.Conv2DTranspose(3, 3, strides=2), (4, 5, 2), 2, (9, 11, 3)),
    ("depthwise", lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (6, 5, 3), 2, (6, 5, 6)),
    ("separable", lambda: layers.SeparableConv2D(4, 3), (6, 6, 3), 3, (4, 4, 4)),
    ("max_pool2d", lambda: layers.MaxPooling2D(), (6, 7, 3), 0, (3, 3, 3)),
    ("avg_pool2d", lambda: layers.AveragePooling2D(3, strides=2, padding="same"), (7, 7, 2), 0, (4, 4, 2)),
    ("max_pool1d", lambda: layers.MaxPooling1D(2), (7, 2), 0, (3, 2)),
    ("avg_pool1d", lambda: layers.AveragePooling1D(3, padding="same"), (7, 2), 0, (3, 2)),
    ("gap2d", lambda: layers.GlobalAveragePooling2D(), (4, 5, 3), 0, (3,)),
    ("gmp2d", lambda: layers.GlobalMaxPooling2D(keepdims=True), (4, 5, 3), 0, (1, 1, 3)),
    ("gap1d", lambda: layers.GlobalAveragePooling1D(), (4, 3), 0, (3,)),
    ("gmp1d", lambda: layers.GlobalMaxPooling1D(), (4, 3), 0, (3,)),
    ("upsampling2d", lambda: layers.UpSampling2D(2), (3, 4, 2), 0, (6, 8, 2)),
    ("upsampling2d_bilinear", lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (3, 4, 2), 0,
     (6, 12, 2)),
    ("upsampling1d", lambda: layers.UpSampling1D(3), (4, 2), 0, (12, 2)),
    ("zero_padding2d", lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), (3, 4, 2), 0, (6, 5, 2)),
    ("cropping2d", lambda: layers.Cropping2D(((1, 0), (1, 2))), (4, 5, 2), 0, (3, 2, 2)),
    ("batch_norm", lambda: layers.BatchNormalization(), (4, 3), 4, (4, 3)),
    ("masking", lambda: layers.Masking(0.5), (4, 3), 0, (4, 3)),
    ("conv1d_transpose", lambda: layers.Conv1DTranspose(3, 3, strides=2), (5, 2), 2, (11, 3)),
    ("depthwise1d", lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (6, 3), 2, (4, 6)),
    ("separable1d", lambda: layers.SeparableConv1D(4, 3, padding="same"), (6, 3), 3, (6, 4)),
    ("zero_padding1d", lambda: layers.ZeroPadding1D((2, 1)), (3, 2), 0, (6, 2)),
    ("cropping1d", lambda: layers.Cropping1D(1), (5, 2), 0, (3, 2)),
    ("conv2d_channels_first", lambda: layers.Conv2D(4, 3, data_format="channels_first"), (3, 6, 5), 2,
     (4, 4, 3)),
    ("max_pool2d_channels_first", lambda: layers.MaxPooling2D(data_format="channels_first"), (3, 6, 5), 0,
     (3, 3, 2)),
    # the transformer layers (their Keras fixtures are in test_attention_layers / test_norm_layers)
    ("layer_norm", lambda: layers.LayerNormalization(epsilon=0.01, center=False), (3, 4), 1, (3, 4)),
    ("layer_norm_axes", lambda: layers.LayerNormalization(axis=(1, 2)), (3, 4), 2, (3, 4)),
    ("rms_norm", lambda: layers.RMSNormalization(epsilon=1e-3), (3, 4), 1, (3, 4)),
    ("group_norm", lambda: layers.GroupNormalization(groups=2, epsilon=0.01), (3, 4), 2, (3, 4)),
    ("unit_norm", lambda: layers.UnitNormalization(), (3, 4), 0, (3, 4)),
    ("einsum_dense", lambda: layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d"), (3, 4), 2,
     (3, 5)),
    ("embedding", lambda: layers.Embedding(10, 3, mask_zero=True), (4,), 1, (4, 3)),
    # 3-D layers, ConvLSTM, wrappers and the newer preprocessing layers (Keras fixtures: test_layers_3d,
    # test_conv_lstm, test_spectral_normalization, test_reversible_embedding, test_hashing, test_hsv_layers,
    # test_gaussian_blur, test_equalization)
    ("conv3d", lambda: layers.Conv3D(4, (3, 2, 2), strides=(2, 1, 1), padding="same", groups=2, use_bias=False),
     (5, 4, 3, 2), 1, (3, 4, 3, 4)),
    ("conv3d_transpose", lambda: layers.Conv3DTranspose(3, 2, strides=(2, 1, 2), output_padding=(1, 0, 1)),
     (3, 4, 3, 2), 2, (7, 5, 7, 3)),
    ("max_pool3d", lambda: layers.MaxPooling3D((2, 2, 1), strides=(1, 2, 1), padding="same"), (4, 5, 3, 2), 0,
     (4, 3, 3, 2)),
    ("avg_pool3d", lambda: layers.AveragePooling3D(2, data_format="channels_first"), (2, 4, 6, 4), 0, (2, 2, 3, 2)),
    ("gap3d", lambda: layers.GlobalAveragePooling3D(keepdims=True), (3, 4, 5, 2), 0, (1, 1, 1, 2)),
    ("gmp3d", lambda: layers.GlobalMaxPooling3D(), (3, 4, 5, 2), 0, (2,)),
    ("upsampling3d", lambda: layers.UpSampling3D((2, 1, 3)), (2, 3, 2, 2), 0, (4, 3, 6, 2)),
    ("zero_padding3d", lambda: layers.ZeroPadding3D(((1, 0), (2, 1), (0, 3))), (2, 3, 2, 2), 0, (3, 6, 5, 2)),
    ("cropping3d", lambda: layers.Cropping3D(((1, 0), (1, 1), (0, 1))), (3, 4, 3, 2), 0, (2, 2, 2, 2)),
    ("conv_lstm2d", lambda: layers.ConvLSTM2D(3, (2, 3), strides=(2, 1), return_sequences=True, go_backwards=True,
                                              unit_forget_bias=False, recurrent_dropout=0.25, seed=1),
     (4, 5, 5, 2), 3, (4, 2, 3, 3)),
    ("conv_lstm1d", lambda: layers.ConvLSTM1D(2, 3, padding="same", data_format="channels_first",
                                              use_bias=False), (3, 2, 6), 2, (2, 6)),
    ("spectral_norm", lambda: layers.SpectralNormalization(layers.Dense(3), power_iterations=2), (4,), 3, (3,)),
    ("reversible_embedding", lambda: layers.ReversibleEmbedding(10, 3, tie_weights=False, logit_soft_cap=2.0),
     (4,), 2, (4, 3)),
    ("hashing", lambda: layers.Hashing(7, salt=(3, 5), mask_value=0), (4,), 0, (4,)),
    ("random_hue", lambda: layers.RandomHue((0.1, 0.3), value_range=(-3, 3), seed=2), (4, 4, 3), 0, (4, 4, 3)),
    ("random_saturation", lambda: layers.RandomSaturation((0.2, 0.6), seed=2), (4, 4, 3), 0, (4, 4, 3)),
    ("random_color_jitter", lambda: layers.RandomColorJitter(brightness_factor=0.1, hue_factor=0.2, seed=1),
     (4, 4, 3), 0, (4, 4, 3)),
    ("random_gaussian_blur", lambda: layers.RandomGaussianBlur(0.5, kernel_size=5, sigma=(0.2, 0.9), seed=1),
     (6, 6, 3), 0, (6, 6, 3)),
    ("equalization", lambda: layers.Equalization(value_range=(-3, 3), bins=32), (4, 4, 3), 0, (4, 4, 3)),
]


@pytest.mark.parametrize("name,make,shape,n_weights,out", CASES, ids=[c[0] for c in CASES])
def test_layer(name, make, shape, n_weights, out, tmp_path):
    check_layer(make, shape, n_weights, out, tmp_path=tmp_path)


def test_layer_names_follow_keras():
    assert layers.Conv2D(2, 3).name.startswith("conv2d")
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")
    assert layers.BatchNormalization().name.startswith("batch_normalization")


def test_batch_norm_matches_torch_and_tracks_moving_stats():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((8, 5, 5, 3)).astype(np.float32) * 2 + 1
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    xt = keras.tensor(x, requires_grad=True)
    y = bn(xt, training=True)
    tb = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.1)
    xp = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yp = tb(xp)
    np.testing.assert_allclose(y.numpy(), yp.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
    g = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    (y * keras.tensor(g)).sum().backward()
    (yp * torch.from_numpy(g.transpose(0, 3, 1, 2))).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xp.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(bn.gamma.grad.numpy(), tb.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.beta.grad.numpy(), tb.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bn.moving_mean.numpy(), tb.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    # torch's running variance is unbiased; Keras' moving variance uses the biased batch variance
    n = 8 * 5 * 5
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * x.reshape(-1, 3).var(0), rtol=1e-4)
    assert tb.running_var.numpy() == pytest.approx(0.9 + 0.1 * x.reshape(-1, 3).var(0) * n / (n - 1), rel=1e-4)
    inf = bn(keras.tensor(x), training=False).numpy()
    want = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inf, want, rtol=1e-4, atol=1e-4)


def test_conv2d_layer_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 9, 8, 3)).astype(np.float32)
    conv = layers.Conv2D(5, (3, 2), strides=(2, 1), padding="valid", activation="relu")
    xt = keras.tensor(x, requires_grad=True)
    y = conv(xt)
    tc = torch.nn.Conv2d(3, 5, (3, 2), stride=(2, 1))
    with torch.no_grad():
        tc.weight.copy_(torch.from_numpy(conv.kernel.numpy().transpose(3, 2, 0, 1)))
        tc.bias.copy_(torch.from_numpy(conv.bias.numpy()))
    xp = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    yp = torch.relu(tc(xp))
    np.testing.assert_allclose(y.numpy(), yp.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    yp.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xp.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(conv.kernel.grad.numpy(), tc.weight.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-4,
                               atol=1e-5)


def test_small_unet_and_resnet_train(tmp_path):
    keras.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 1)).astype(np.float32)
    y = (x > 0).astype(np.float32)  # per-pixel target
    inp = keras.Input(shape=(8, 8, 1))
    c1 = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)  # (8, 8, 8)
    p1 = layers.MaxPooling2D()(c1)  # (4, 4, 8)
    c2 = layers.Conv2D(16, 3, padding="same", activation="relu")(p1)
    u1 = layers.Conv2DTranspose(8, 2, strides=2, padding="same")(c2)  # (8, 8, 8)
    m1 = layers.Concatenate()([u1, c1])
    out = layers.Conv2D(1, 1, activation="sigmoid")(m1)
    unet = keras.Model(inp, out)
    unet.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    h = unet.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < 0.7 * h.history["loss"][0]
    labels = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    inp = keras.Input(shape=(8, 8, 1))
    h0 = layers.Conv2D(8, 3, padding="same")(inp)
    r = layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same", activation="relu")(h0))
    h1 = layers.Activation("relu")(layers.Add()([h0, r]))
    o = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(h1))
    resnet = keras.Model(inp, o)
    resnet.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = resnet.fit(x, labels, epochs=8, batch_size=8, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_fused_batch_norm_gradcheck_and_errors():
    from conftest import gradcheck

    from ferrograd import _core

    r = np.random.default_rng(4)
    x, gamma, beta = r.standard_normal((5, 3, 4)) * 2 + 1, r.standard_normal(4), r.standard_normal(4)
    gradcheck(lambda a, g, b: _core.batch_norm_train(a, g, b, 1e-3)[0], x, gamma, beta)
    y, mean, var = _core.batch_norm_train(keras.tensor(x), keras.tensor(gamma), keras.tensor(beta), 1e-3)
    flat = x.reshape(-1, 4)
    np.testing.assert_allclose(mean.numpy(), flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), flat.var(0), rtol=1e-12)
    want = (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3) * gamma + beta
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)
    # strided views are read through their layout
    wide = keras.tensor(np.repeat(gamma, 2))[::2]
    ys = _core.batch_norm_train(keras.tensor(x), wide, keras.tensor(beta), 1e-3)[0]
    np.testing.assert_allclose(ys.numpy(), want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\), expected \(4,\)"):
        _core.batch_norm_train(keras.tensor(x), keras.tensor(gamma[:3]), keras.tensor(beta), 1e-3)
    with pytest.raises(ValueError, match="at least one value per channel"):
        _core.batch_norm_train(keras.tensor(np.zeros((0, 4))), keras.tensor(gamma), keras.tensor(beta), 1e-3)
    with pytest.raises(ValueError, match="epsilon"):
        _core.batch_norm_train(keras.tensor(x), keras.tensor(gamma), keras.tensor(beta), -1.0)
    with pytest.raises(TypeError, match="float input"):
        _core.batch_norm_train(keras.tensor(np.ones((2, 4), np.int64)), keras.tensor(gamma), keras.tensor(beta), 1e-3)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_fused_batch_norm_bit_identical_across_threads(n_threads, threads):
    x = np.random.default_rng(5).standard_normal((64, 8, 8, 40)).astype(np.float32)  # parallel blocks
    g = np.random.default_rng(6).standard_normal(x.shape).astype(np.float32)

    def run(n):
        keras.set_num_threads(n)
        assert keras.get_num_threads() == n
        bn = layers.BatchNormalization()
        xt = keras.tensor(x, requires_grad=True)
        y = bn(xt, training=True)
        (y * keras.tensor(g)).sum().backward()
        return [y.numpy(), xt.grad.numpy(), bn.gamma.grad.numpy(), bn.beta.grad.numpy(),
                bn.moving_variance.numpy()]

    for a, b in zip(run(1), run(n_threads)):  # one thread against several: bit-identical
        assert np.array_equal(a, b)


def test_batch_norm_other_axis_and_no_affine_match_numpy():
    x = np.random.default_rng(7).standard_normal((6, 3, 5)).astype(np.float32)
    bn = layers.BatchNormalization(axis=1, center=False, scale=False)
    y = bn(keras.tensor(x), training=True).numpy()
    mu, var = x.mean((0, 2), keepdims=True), x.var((0, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    bn_last = layers.BatchNormalization(center=False)
    y2 = bn_last(keras.tensor(x), training=True).numpy()
    mu2, var2 = x.mean((0, 1)), x.var((0, 1))
    np.testing.assert_allclose(y2, (x - mu2) / np.sqrt(var2 + 1e-3), rtol=1e-4, atol=1e-5)
    assert len(bn_last.weights) == 3  # gamma + the two moving statistics
