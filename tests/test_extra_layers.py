"""The activation, regularization, preprocessing and Dot/Identity layers against real Keras 3.

Every case of extra_layer_cases.py (non-default arguments) goes through the layer-test helper
(build, shapes, config round trip, save/load) and is compared with Keras' config, constructor
arguments, output shape and (with the same weights, at inference) outputs, measured by
tests/fixtures/make_keras_extra_layer_fixtures.py. The random layers' training behaviour is tested
against its definition: seeded, reproducible, inactive at inference.
"""
import inspect
import json
import os

import numpy as np
import pytest
from extra_layer_cases import affine_cases, cases, color_cases, data_cases
from test_layers import check_layer

import ferrograd as keras
from ferrograd import layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_extra_layers.json")) as _f:
    FIXTURE = json.load(_f)
KERAS = FIXTURE["layers"]
CASES = cases(keras)


def _json(v):
    return json.loads(json.dumps(v))


def _call_arg(xs):
    return keras.tensor(xs[0]) if len(xs) == 1 else [keras.tensor(x) for x in xs]


def test_fixture_covers_every_case():
    assert set(CASES) == set(KERAS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_and_arguments_equal_keras(case):
    layer = CASES[case][0]()
    assert type(layer).__name__ == KERAS[case]["class_name"]
    cfg = _json({k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")})
    want = dict(KERAS[case]["config"])
    if case == "RandomCrop":  # Keras draws a seed when none is given; both keep a given one
        assert want["seed"] == 3
    assert cfg == want
    ours = {p.name for p in inspect.signature(type(layer).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    assert set(KERAS[case]["params"]) - {"name", "dtype"} <= ours | {"name", "dtype"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_equal_keras(case):
    make, shapes = CASES[case]
    layer = make()
    xs = [np.asarray(x, np.float32) for x in KERAS[case]["inputs"]]
    layer(_call_arg(xs))
    entries = {e["name"]: e["tensor"] for e in layer._weights}
    assert set(entries) == set(KERAS[case]["weights"])
    for name, v in KERAS[case]["weights"].items():
        with keras.no_grad():
            entries[name].assign(np.asarray(v, entries[name].dtype))
    y = layer(_call_arg(xs), training=False)
    np.testing.assert_allclose(y.numpy(), np.asarray(KERAS[case]["output"], np.float32), rtol=1e-5, atol=1e-4)
    sym = [(None,) + tuple(s) for s in shapes]
    assert _json(layer.compute_output_shape(sym[0] if len(sym) == 1 else sym)) == KERAS[case]["output_shape"]


# The Random* layers (and Solarization) default to training=True in call (as Keras' preprocessing layers), so the
# helper's unseeded comparisons do not apply; their config round trip is tested below.
def _random(case):
    return case.startswith("Random") or case == "Solarization"


@pytest.mark.parametrize("case", sorted(c for c in CASES if len(CASES[c][1]) == 1 and not _random(c)))
def test_layer_helper(case, tmp_path):
    make, shapes = CASES[case]
    n_weights = len(KERAS[case]["weights"])
    check_layer(make, shapes[0], n_weights, tuple(KERAS[case]["output_shape"][1:]), tmp_path=tmp_path)


@pytest.mark.parametrize("case", sorted(c for c in CASES if _random(c)))
def test_random_layer_config_round_trip_and_save(case, tmp_path):
    layer = CASES[case][0]()
    cfg = layer.get_config()
    assert _json(type(layer).from_config(_json(cfg)).get_config()) == _json(cfg)
    shape = tuple(CASES[case][1][0])
    model = keras.Sequential([keras.Input(shape=shape), CASES[case][0]()])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).uniform(0, 1, (2,) + shape).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), x)  # inactive at inference


@pytest.mark.parametrize("label,axis", [("axis-1", -1), ("axis12", (1, 2))])
def test_normalization_adapt_equals_keras(label, axis):
    data = np.asarray(FIXTURE["normalization_adapt"]["data"], np.float32)
    want = FIXTURE["normalization_adapt"][label]
    for source in (data, keras.tensor(data), [data[:15], data[15:]], (b for b in [data[:7], data[7:]])):
        n = layers.Normalization(axis=axis)
        n.adapt(source)
        np.testing.assert_allclose(n.adapt_mean.numpy(), want["mean"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(n.adapt_variance.numpy(), want["variance"], rtol=1e-4, atol=1e-5)
        assert int(n.count.numpy()) == want["count"]
        np.testing.assert_allclose(n(keras.tensor(data[:2])).numpy(), want["output"], rtol=1e-4, atol=1e-4)


def test_normalization_in_a_model_saves_its_adapted_statistics(tmp_path):
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32) * 4 + 2
    norm = layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((3,)), norm, layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)


AFFINE = affine_cases(keras)


def test_affine_fixture_covers_every_case():
    assert set(AFFINE) == set(FIXTURE["affine"])


@pytest.mark.parametrize("case", sorted(AFFINE))
def test_affine_layers_in_training_equal_keras(case):
    x = np.asarray(FIXTURE["affine"][case]["input"], np.float32)
    y = AFFINE[case][0]()(keras.tensor(x), training=True).numpy()
    if "candidates" in FIXTURE["affine"][case]:  # RandomShear: each image is one of Keras' two outcomes
        for i, options in enumerate(FIXTURE["affine"][case]["candidates"]):
            assert any(np.allclose(y[i], np.asarray(o), rtol=1e-4, atol=1e-4) for o in options), i
        return
    np.testing.assert_allclose(y, np.asarray(FIXTURE["affine"][case]["output"]), rtol=1e-4, atol=1e-4)


COLOR = color_cases(keras)


@pytest.mark.parametrize("case", sorted(COLOR))
def test_color_layers_in_training_equal_keras(case):
    assert set(COLOR) == set(FIXTURE["color"])
    x = np.asarray(FIXTURE["color"][case]["input"], np.float32)
    y = COLOR[case][0]()(keras.tensor(x), training=True)
    np.testing.assert_allclose(y.numpy(), np.asarray(FIXTURE["color"][case]["output"]), rtol=1e-4, atol=1e-4)


DATA = data_cases(keras)


@pytest.mark.parametrize("case", sorted(DATA))
def test_categorical_layers_and_pipeline_equal_keras(case):
    assert set(DATA) == set(FIXTURE["data"])
    make, x, kwargs = DATA[case]
    layer = make()
    want = FIXTURE["data"][case]
    assert type(layer).__name__ == want["class_name"]
    cfg = _json({k: v for k, v in layer.get_config().items() if k != "dtype"})
    if case != "pipeline":  # Pipeline's nested layer configs carry Keras' DTypePolicy dicts
        assert {k: v for k, v in cfg.items() if k != "name"} == {k: v for k, v in want["config"].items()
                                                                 if k != "name"}
    else:
        assert [e["class_name"] for e in cfg["layers"]] == [e["class_name"] for e in want["config"]["layers"]]
    y = layer(x, **kwargs)
    np.testing.assert_allclose(np.asarray(y.numpy(), np.float64), np.asarray(want["output"]), rtol=1e-6)
    again = type(layer).from_config(_json(layer.get_config()))
    np.testing.assert_allclose(again(x, **kwargs).numpy(), y.numpy())
    if x.ndim > 1:
        sym = make()(keras.Input(x.shape[1:]))
        assert tuple(sym.shape[1:]) == tuple(y.shape[1:])


def test_categorical_layers_reject_bad_input():
    with pytest.raises(ValueError, match="0 <= values < num_tokens"):
        layers.CategoryEncoding(3)(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(NotImplementedError, match="adapt"):
        layers.Discretization(num_bins=3).adapt(np.arange(10.0))


def test_dot_in_a_functional_model_and_function_forms():
    a, b = keras.Input((3, 5)), keras.Input((4, 5))
    out = layers.dot([a, b], axes=(2, 2))
    assert out.shape == (None, 3, 4)
    model = keras.Model([a, b], out)
    xa = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(np.float32)
    xb = np.random.default_rng(1).standard_normal((2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), np.einsum("bik,bjk->bij", xa, xb), rtol=1e-5,
                               atol=1e-5)
    s = [keras.tensor(xa), keras.tensor(xa)]
    for fn, want in [(layers.add, xa + xa), (layers.subtract, xa * 0), (layers.multiply, xa * xa),
                     (layers.average, xa), (layers.maximum, xa), (layers.minimum, xa),
                     (layers.concatenate, np.concatenate([xa, xa], -1))]:
        np.testing.assert_allclose(fn(s).numpy(), want, rtol=1e-6)


def test_serialize_deserialize_round_trip():
    layer = layers.LeakyReLU(negative_slope=0.5, name="lr")
    cfg = layers.serialize(layer)
    assert cfg["module"] == "keras.layers" and cfg["class_name"] == "LeakyReLU"
    again = layers.deserialize(cfg)
    assert type(again) is layers.LeakyReLU and again.get_config() == layer.get_config()


def test_softmax_mask_equals_keras():
    s = FIXTURE["softmax_mask"]
    x = keras.tensor(np.asarray(s["x"], np.float32))
    y = layers.Softmax()(x, mask=keras.tensor(np.asarray(s["mask"], bool)))
    np.testing.assert_allclose(y.numpy(), np.asarray(s["axis-1"], np.float32), rtol=1e-5, atol=1e-6)


def test_prelu_and_relu_gradients_match_definition():
    x = keras.tensor(np.array([[-2.0, -0.5, 0.25, 3.0]], np.float32), requires_grad=True)
    p = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    p(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.25, 0.25, 1.0, 1.0]])
    np.testing.assert_allclose(p.alpha.grad.numpy().ravel(), [-2.0, -0.5, 0.0, 0.0])


def test_activity_regularization_adds_its_penalty():
    layer = layers.ActivityRegularization(l1=0.25, l2=0.5)
    x = np.array([[1.0, -2.0]], np.float32)
    layer(keras.tensor(x))
    assert float(layer.losses[0]) == pytest.approx(0.25 * 3 + 0.5 * 5)


# ---- random layers: seeded, active only in training -----------------------------------------------
RANDOM = [
    lambda: layers.SpatialDropout1D(0.5, seed=1), lambda: layers.SpatialDropout2D(0.5, seed=1),
    lambda: layers.SpatialDropout3D(0.5, seed=1), lambda: layers.GaussianNoise(0.5, seed=1),
    lambda: layers.GaussianDropout(0.5, seed=1), lambda: layers.AlphaDropout(0.5, seed=1),
    lambda: layers.RandomFlip(seed=1), lambda: layers.RandomContrast(0.5, seed=1),
    lambda: layers.RandomBrightness(0.5, seed=1), lambda: layers.RandomTranslation(0.3, 0.3, seed=1),
    lambda: layers.RandomZoom(0.3, seed=1), lambda: layers.RandomRotation(0.2, seed=1),
    lambda: layers.Solarization(0.5, 0.5, seed=1), lambda: layers.RandomShear(0.3, 0.2, seed=1),
    lambda: layers.RandomInvert(seed=1), lambda: layers.RandomPosterization(4, seed=1),
    lambda: layers.RandomSharpness(0.9, seed=1),
    lambda: layers.RandomGrayscale(0.5, seed=1), lambda: layers.RandomColorDegeneration(0.5, seed=1),
]
SHAPES = {"SpatialDropout1D": (4, 6, 8), "SpatialDropout3D": (4, 3, 3, 3, 8), "RandomGrayscale": (8, 6, 5, 3),
          "RandomColorDegeneration": (8, 6, 5, 3), "RandomInvert": (8, 6, 5, 3)}


@pytest.mark.parametrize("make", RANDOM, ids=lambda m: type(m()).__name__)
def test_random_layers_are_seeded_and_inactive_at_inference(make):
    name = type(make()).__name__
    shape = SHAPES.get(name, (4, 6, 5, 8))
    x = keras.tensor(np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32))
    a, b = make(), make()
    np.testing.assert_array_equal(a(x, training=False).numpy(), x.numpy())
    ya, yb = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(ya, yb)  # same seed, same draws
    assert not np.array_equal(ya, x.numpy())
    assert not np.array_equal(a(x, training=True).numpy(), ya)  # the generator moves on


def test_spatial_dropout_drops_whole_channels():
    x = keras.tensor(np.ones((8, 5, 5, 16), np.float32))
    y = layers.SpatialDropout2D(0.5, seed=4)(x, training=True).numpy()
    per_map = y.reshape(8, 25, 16)
    assert np.all(per_map.min(1) == per_map.max(1))  # constant over the map
    assert set(np.unique(y)) <= {0.0, 2.0}


def test_noise_layers_keep_their_moments():
    x = keras.tensor(np.zeros((200, 500), np.float32))
    y = layers.GaussianNoise(0.5, seed=2)(x, training=True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 0.5) < 0.01
    ones = keras.tensor(np.ones((200, 500), np.float32))
    y = layers.GaussianDropout(0.2, seed=2)(ones, training=True).numpy()
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - 0.5) < 0.01
    z = keras.tensor(np.random.default_rng(0).standard_normal((200, 500)).astype(np.float32))
    y = layers.AlphaDropout(0.2, seed=2)(z, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_random_flip_returns_flipped_images():
    x = np.random.default_rng(0).standard_normal((16, 3, 4, 2)).astype(np.float32)
    y = layers.RandomFlip("horizontal", seed=5)(keras.tensor(x), training=True).numpy()
    flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(16)]
    same = [np.array_equal(y[i], x[i]) for i in range(16)]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_random_crop_takes_a_window():
    x = np.arange(2 * 6 * 7 * 1, dtype=np.float32).reshape(2, 6, 7, 1)
    y = layers.RandomCrop(3, 4, seed=2)(keras.tensor(x), training=True).numpy()
    top, left = np.argwhere(x[0, :, :, 0] == y[0, 0, 0, 0])[0]
    np.testing.assert_array_equal(y, x[:, top:top + 3, left:left + 4])


def test_random_contrast_and_brightness_follow_their_definition():
    x = np.random.default_rng(0).uniform(0, 1, (6, 4, 5, 3)).astype(np.float32)
    y = layers.RandomBrightness((0.1, 0.1), value_range=(0, 2), seed=1)(keras.tensor(x), training=True).numpy()
    np.testing.assert_allclose(y, np.clip(x + 0.2, 0, 2), rtol=1e-6)
    y = layers.RandomContrast((0.5, 0.5), value_range=(-10, 10), seed=1)(keras.tensor(x), training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    # the factor lies in [0.5, 1.5]: each image is its mean plus a scaled deviation
    f = ((y - mean) / (x - mean)).reshape(6, -1)
    assert np.allclose(f, f[:, :1], rtol=1e-3) and np.all((f >= 0.5 - 1e-4) & (f <= 1.5 + 1e-4))


def test_channels_first_default_follows_keras_config():
    keras.config.set_image_data_format("channels_first")
    try:
        assert layers.CenterCrop(2, 2).data_format == "channels_first"
        assert layers.Conv2D(2, 3).data_format == "channels_first"
    finally:
        keras.config.set_image_data_format("channels_last")
    assert layers.CenterCrop(2, 2).data_format == "channels_last"


def test_unsupported_resizing_options_raise():
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.Resizing(2, 2, interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        layers.Resizing(2, 2, antialias=True)
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(2, 2, interpolation="cubic-ish")


@pytest.mark.parametrize("mode", ["average", "max"])
def test_adaptive_pooling_gradients_match_torch(mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 7, 5, 3)).astype(np.float32)
    g = np.random.default_rng(4).standard_normal((2, 3, 2, 3)).astype(np.float32)
    layer = layers.AdaptiveAveragePooling2D((3, 2)) if mode == "average" else layers.AdaptiveMaxPooling2D((3, 2))
    xt = keras.tensor(x, requires_grad=True)
    y = layer(xt)
    (y * keras.tensor(g)).sum().backward()
    xp = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    pool = torch.nn.functional.adaptive_avg_pool2d if mode == "average" else torch.nn.functional.adaptive_max_pool2d
    yp = pool(xp, (3, 2))
    (yp * torch.from_numpy(g.transpose(0, 3, 1, 2))).sum().backward()
    np.testing.assert_allclose(y.numpy(), yp.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), xp.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
