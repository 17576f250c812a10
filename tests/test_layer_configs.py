"""Faithful layer configs and numerics against real Keras 3.

Every case of layer_cases.py is built with non-default arguments; its get_config() (without name
and dtype) must equal what Keras 3 returned for the same construction, every Keras constructor
argument must appear in it, from_config must round-trip, and with the same weights the layer must
compute what Keras computed (channels_first included). The Keras figures are fixtures measured by
tests/fixtures/make_keras_layer_fixtures.py (Keras is never imported here).
"""
import inspect
import json
import os

import numpy as np
import pytest
from layer_cases import cases, inputs_for

import ferrograd as keras
from ferrograd import layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_layers.json")) as _f:
    KERAS = json.load(_f)["layers"]
CASES = cases(keras)
# Keras lists LoRA arguments in a config only once LoRA is enabled; ferrograd refuses them.
NOT_IN_KERAS_CONFIG = {"lora_rank", "lora_alpha"}


def _json(v):
    """The value as a saved file holds it (tuples become lists)."""
    return json.loads(json.dumps(v))


def _config(layer):
    return _json({k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")})


def _call_arg(xs):
    return keras.tensor(xs[0]) if len(xs) == 1 else [keras.tensor(x) for x in xs]


def _set_weights_by_name(layer, values):
    entries = {e["name"]: e["tensor"] for e in layer._weights}
    assert set(entries) == set(values), (sorted(entries), sorted(values))
    for name, v in values.items():
        with keras.no_grad():
            entries[name].assign(np.asarray(v, dtype=np.float32))


def test_fixture_covers_every_case():
    assert set(CASES) == set(KERAS)


def test_every_exported_layer_of_these_modules_has_a_case():
    mine = {"core", "conv", "pooling", "normalization", "reshaping", "merging"}
    covered = {KERAS[c]["class_name"] for c in KERAS}
    for name in layers.__all__:
        cls = getattr(layers, name)
        if isinstance(cls, type) and cls.__module__.rsplit(".", 1)[-1] in mine and name != "Lambda":
            # Keras' aliases (MaxPool2D, Convolution2D...) are covered by their class's case
            assert cls.__name__ in covered, f"no non-default config case for layers.{name}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_equals_keras(case):
    layer = CASES[case][0]()
    assert type(layer).__name__ == KERAS[case]["class_name"]
    assert _config(layer) == KERAS[case]["config"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_constructor_argument_is_in_the_config(case):
    layer = CASES[case][0]()
    cfg = layer.get_config()
    # Keras' Dense lists activity_regularizer only when one is set (the conv layers always do).
    optional = NOT_IN_KERAS_CONFIG | ({"activity_regularizer"} - set(KERAS[case]["config"]))
    keras_params = set(KERAS[case]["params"]) - optional
    assert keras_params <= set(cfg), f"missing from get_config: {sorted(keras_params - set(cfg))}"
    ours = [p.name for p in inspect.signature(type(layer).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    missing = set(ours) - optional - set(cfg)
    assert not missing, f"constructor arguments missing from get_config: {sorted(missing)}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_from_config_round_trips(case):
    make, shapes = CASES[case]
    layer = make()
    cfg = layer.get_config()
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg
    # as loaded from a file: lists for tuples
    again = type(layer).from_config(_json(cfg))
    assert _json(again.get_config()) == _json(cfg)
    xs = inputs_for(shapes)
    y = layer(_call_arg(xs))
    again(_call_arg(xs))
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(again(_call_arg(xs)).numpy(), y.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_unknown_keyword_raises_naming_it(case):
    layer = CASES[case][0]()
    cfg = layer.get_config()
    with pytest.raises(TypeError, match="bogus_argument"):
        type(layer).from_config({**cfg, "bogus_argument": 1})


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_equals_keras(case):
    make, shapes = CASES[case]
    want = KERAS[case]
    layer = make()
    xs = inputs_for(shapes)
    layer(_call_arg(xs))  # build
    _set_weights_by_name(layer, want["weights"])
    y = layer(_call_arg(xs))
    np.testing.assert_allclose(y.numpy(), np.asarray(want["output"], np.float32), rtol=1e-5, atol=1e-5)
    sym = [(None,) + tuple(s) for s in shapes]
    got = layer.compute_output_shape(sym[0] if len(sym) == 1 else sym)
    assert _json(got) == want["output_shape"]


def test_regularizers_and_activity_regularizer_join_the_losses():
    x = keras.tensor(inputs_for([(6, 5, 2)])[0])
    conv = layers.Conv2D(3, 3, kernel_regularizer=keras.regularizers.L2(0.25),
                         bias_regularizer=keras.regularizers.L1(0.5), bias_initializer="ones",
                         activity_regularizer=keras.regularizers.L1(0.125))
    y = conv(x)
    k, b = conv.kernel.numpy(), conv.bias.numpy()
    want = sorted([0.25 * (k ** 2).sum(), 0.5 * np.abs(b).sum(), 0.125 * np.abs(y.numpy()).sum()])
    got = sorted(float(v.numpy()) for v in conv.losses)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("make", [
    lambda: layers.Conv1D(3, 2, kernel_constraint="non_neg", bias_constraint="non_neg"),
    lambda: layers.Conv1DTranspose(3, 2, kernel_constraint="non_neg", bias_constraint="non_neg"),
    lambda: layers.DepthwiseConv1D(2, depthwise_constraint="non_neg", bias_constraint="non_neg"),
    lambda: layers.SeparableConv1D(3, 2, depthwise_constraint="non_neg", pointwise_constraint="non_neg",
                                   bias_constraint="non_neg"),
    lambda: layers.Dense(3, kernel_constraint="non_neg", bias_constraint="non_neg"),
], ids=["conv1d", "conv1d_transpose", "depthwise1d", "separable1d", "dense"])
def test_weight_constraints_are_applied_after_each_step(make):
    keras.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6, 2)).astype(np.float32)
    y = -np.abs(rng.standard_normal((16, 1)).astype(np.float32)) * 5  # pushes weights negative
    layer = make()
    model = keras.Sequential([keras.Input(shape=(6, 2)), layer, layers.Flatten(), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for w in layer.weights:
        assert np.isfinite(w.numpy()).all() and (w.numpy() >= 0).all()


def test_batch_norm_constraints_and_regularizers_reach_the_weights():
    bn = layers.BatchNormalization(gamma_constraint="non_neg", beta_regularizer=keras.regularizers.L2(0.5))
    bn(keras.tensor(np.ones((2, 3), np.float32)))
    entries = {e["name"]: e for e in bn._weights}
    assert entries["gamma"]["constraint"] is bn.gamma_constraint
    assert entries["beta"]["regularizer"] is bn.beta_regularizer
    assert len(bn.losses) == 1


@pytest.mark.parametrize("make,err,match", [
    (lambda: layers.Conv2D(2, 3, data_format="channels_middle"), ValueError, "data_format"),
    (lambda: layers.MaxPooling2D(data_format="NHWC"), ValueError, "data_format"),
    (lambda: layers.Conv1D(2, 3, padding="full"), ValueError, "padding"),
    (lambda: layers.Conv2D(2, 3, padding="causal"), ValueError, "padding"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), ValueError, "padding"),
    (lambda: layers.Conv2D(3, 3, groups=2), ValueError, "groups"),
    (lambda: layers.Conv2D(2, 3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), ValueError, "output padding"),
    (lambda: layers.Conv2D(2, 3, lora_rank=4), NotImplementedError, "lora_rank"),
    (lambda: layers.Dense(2, lora_rank=4), NotImplementedError, "lora_rank"),
    (lambda: layers.Dense(2, quantization_config={"mode": "int8"}), NotImplementedError, "quantization_config"),
    (lambda: layers.BatchNormalization(renorm=True), NotImplementedError, "renorm"),
    (lambda: layers.BatchNormalization(synchronized=True), ValueError, "synchronized"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), ValueError, "interpolation"),
    (lambda: layers.AveragePooling2D(), TypeError, "pool_size"),
    (lambda: layers.Dense(0), ValueError, "units"),
    (lambda: layers.Dropout(1.5), ValueError, "rate"),
], ids=lambda v: getattr(v, "__name__", None) if isinstance(v, type) else None)
def test_unsupported_or_invalid_arguments_raise_naming_them(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_activity_regularizer_of_any_layer_is_in_its_config():
    cfg = layers.Flatten(activity_regularizer="l2").get_config()
    assert cfg["activity_regularizer"]["class_name"] == "L2"
    again = layers.Flatten.from_config(cfg)
    assert again.activity_regularizer is not None and again.get_config() == cfg


def test_serialized_forms_of_functions_and_registered_classes():
    def my_penalty(w):
        return 0.0

    cfg = layers.Dense(2, kernel_regularizer=my_penalty).get_config()
    assert cfg["kernel_regularizer"] == {"module": "builtins", "class_name": "function", "config": "my_penalty",
                                         "registered_name": "function"}
    with pytest.raises(ValueError, match="my_penalty"):
        layers.Dense.from_config(cfg)

    @keras.saving.register_keras_serializable(package="test_layer_configs")
    class Halve(keras.constraints.Constraint):
        def __call__(self, w):
            return w * 0.5

    cfg = layers.Conv1D(2, 3, kernel_constraint=Halve()).get_config()
    assert cfg["kernel_constraint"] == {"module": None, "class_name": "Halve", "config": {},
                                        "registered_name": "test_layer_configs>Halve"}
    assert isinstance(layers.Conv1D.from_config(cfg).kernel_constraint, Halve)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        keras.regularizers.deserialize({"class_name": "L3", "config": {}})
    # the older ferrograd form (no module / registered_name) still loads
    init = keras.initializers.deserialize({"class_name": "RandomNormal", "config": {"stddev": 0.5}})
    assert init.get_config()["stddev"] == 0.5
