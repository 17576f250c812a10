"""MinMaxNorm, OrthogonalRegularizer, the initializer aliases and keras.saving's custom-object
helpers against real Keras 3 (tests/fixtures/keras_misc.json, from capture_keras_misc.py)."""
import json
import os

import numpy as np
import pytest

import ferrograd as keras

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras_misc.json")) as _f:
    KERAS = json.load(_f)
W = np.asarray(KERAS["w"], np.float32)


@pytest.mark.parametrize("case", sorted(KERAS["min_max_norm"]))
def test_min_max_norm_equals_keras(case):
    k = KERAS["min_max_norm"][case]
    c = keras.constraints.MinMaxNorm(**k["args"])
    assert c.get_config() == k["config"]
    np.testing.assert_allclose(c(keras.tensor(W)).numpy(), np.asarray(k["value"]), rtol=1e-5, atol=1e-6)
    again = keras.constraints.deserialize(keras.constraints.serialize(c))
    assert type(again) is keras.constraints.MinMaxNorm and again.get_config() == c.get_config()
    assert keras.constraints.get("min_max_norm").get_config()["max_value"] == 1.0


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_equals_keras(mode):
    k = KERAS["orthogonal"][mode]
    r = keras.regularizers.OrthogonalRegularizer(factor=0.25, mode=mode)
    assert r.get_config() == k["config"]
    assert float(r(keras.tensor(W))) == pytest.approx(k["value"], rel=1e-5)
    again = keras.regularizers.get(keras.regularizers.serialize(r))
    assert again.get_config() == r.get_config()
    with pytest.raises(ValueError, match="mode"):
        keras.regularizers.OrthogonalRegularizer(mode="diagonal")


def test_orthogonal_regularizer_in_a_dense_layer_adds_its_loss():
    layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(0.5))
    layer(keras.ones((2, 4)))
    assert len(layer.losses) == 1 and float(layer.losses[0]) > 0


def test_initializer_aliases_name_the_keras_classes():
    for name, cls_name in KERAS["initializer_aliases"].items():
        if cls_name in ("STFT", "Initializer"):
            continue
        assert getattr(keras.initializers, name).__name__ == cls_name, name


def test_custom_object_scope_and_registered_names():
    class MyLayer(keras.layers.Layer):
        pass

    assert keras.saving.get_registered_object("MyLayer") is None
    with keras.saving.custom_object_scope({"MyLayer": MyLayer}):
        assert keras.saving.get_registered_object("MyLayer") is MyLayer
        assert keras.utils.get_custom_objects()["MyLayer"] is MyLayer
    assert keras.saving.get_registered_object("MyLayer") is None
    assert keras.saving.get_registered_name(keras.layers.Dense) == "Dense"

    @keras.saving.register_keras_serializable(package="pkg")
    class Reg(keras.layers.Layer):
        pass

    assert keras.saving.get_registered_name(Reg) == "pkg>Reg" and keras.utils.get_registered_name(Reg()) == "pkg>Reg"


@pytest.mark.parametrize("name", sorted(KERAS["serialized"]))
def test_serialize_keras_object_equals_keras(name):
    objs = {"constant": keras.initializers.Constant(2.0), "l2": keras.regularizers.L2(0.5),
            "mse": keras.losses.MeanSquaredError(), "relu": keras.activations.relu,
            "non_neg": keras.constraints.NonNeg(), "nested": {"a": [keras.regularizers.L1(0.5), 3, "x"]}}
    got = json.loads(json.dumps(keras.saving.serialize_keras_object(objs[name])))
    assert got == KERAS["serialized"][name]
    again = keras.saving.deserialize_keras_object(got)
    assert json.loads(json.dumps(keras.saving.serialize_keras_object(again))) == got


def test_custom_layer_with_a_serialized_sublayer_saves_and_loads(tmp_path):
    @keras.saving.register_keras_serializable(package="test_misc")
    class Wrapped(keras.layers.Layer):
        def __init__(self, sublayer, **kwargs):
            super().__init__(**kwargs)
            self.sublayer = sublayer

        def call(self, x):
            return self.sublayer(x)

        def get_config(self):
            return {**super().get_config(), "sublayer": keras.saving.serialize_keras_object(self.sublayer)}

        @classmethod
        def from_config(cls, config):
            config["sublayer"] = keras.saving.deserialize_keras_object(config["sublayer"])
            return cls(**config)

    model = keras.Sequential([keras.Input((4,)), Wrapped(keras.layers.Dense(3, activation="relu"))])
    assert len(model.weights) == 2
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(TypeError, match="Could not locate class 'Nope'"):
        keras.saving.deserialize_keras_object({"module": None, "class_name": "Nope", "config": {},
                                               "registered_name": "Nope"})
