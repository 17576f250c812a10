"""keras.layers.InputSpec (checked by every call, eager and symbolic, with Keras 3's rules and
messages) and keras.layers.Wrapper (the base of TimeDistributed and Bidirectional)."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers


class Square(layers.Layer):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x * x


def _x(*shape, dtype="float32"):
    return np.ones(shape, dtype=dtype)


def test_each_rule_accepts_and_rejects():
    ok_bad = [
        (layers.InputSpec(ndim=2), _x(3, 4), _x(3, 4, 1), "expected ndim=2, found ndim=3. Full shape received: "
                                                           r"\(3, 4, 1\)"),
        (layers.InputSpec(min_ndim=3), _x(1, 2, 3), _x(3, 4), "expected min_ndim=3, found ndim=2"),
        (layers.InputSpec(max_ndim=2), _x(3), _x(1, 2, 3), "expected max_ndim=2, found ndim=3"),
        (layers.InputSpec(axes={-1: 4}), _x(2, 4), _x(2, 5), "expected axis -1 of input shape to have value 4"),
        (layers.InputSpec(shape=(None, 4)), _x(7, 4), _x(7, 3), r"expected shape=\(None, 4\), found shape=\(7, 3\)"),
        (layers.InputSpec(dtype="float32"), _x(2), _x(2, dtype="float64"), "expected dtype=float32, found "
                                                                            "dtype=float64"),
        (layers.InputSpec(shape=(None, 3, 1), allow_last_axis_squeeze=True), _x(2, 3), _x(2, 4), "expected shape"),
    ]
    for spec, good, bad, message in ok_bad:
        layer = Square(spec, name="sq")
        layer(keras.tensor(good))
        with pytest.raises(ValueError, match="Input 0 with name 'None' of layer 'sq' is incompatible with the layer: "
                                             + message):
            layer(keras.tensor(bad))


def test_symbolic_calls_are_checked_too():
    layer = Square(layers.InputSpec(ndim=3), name="sq")
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layer(keras.Input((4,)))
    assert tuple(layer(keras.Input((2, 4))).shape) == (None, 2, 4)


def test_several_and_named_inputs():
    class Pair(layers.Layer):
        def __init__(self):
            super().__init__(name="pair")
            self.input_spec = [layers.InputSpec(ndim=2, name="a"), layers.InputSpec(ndim=1, name="b")]

        def call(self, inputs):
            return inputs["a"] + inputs["b"] if isinstance(inputs, dict) else inputs[0] + inputs[1]

    pair = Pair()
    np.testing.assert_array_equal(pair({"a": keras.tensor(_x(2, 3)), "b": keras.tensor(_x(3))}).numpy(), 2 * _x(2, 3))
    with pytest.raises(ValueError, match='Missing data for input "b"'):
        pair({"a": keras.tensor(_x(2, 3))})
    with pytest.raises(ValueError, match="expects 2 named input"):
        pair([keras.tensor(_x(2, 3))])
    with pytest.raises(ValueError, match="Input 1 with name 'b' of layer 'pair'.*expected ndim=1"):
        pair([keras.tensor(_x(2, 3)), keras.tensor(_x(2, 3))])


def test_spec_object():
    spec = layers.InputSpec(shape=(None, 4), dtype="float32", axes={"1": 4})
    assert spec.ndim == 2 and spec.axes == {1: 4}
    assert repr(spec) == "InputSpec(dtype=float32, shape=(None, 4), ndim=2, axes={1: 4})"
    again = layers.InputSpec.from_config(spec.get_config())
    assert again.get_config() == spec.get_config()
    with pytest.raises(TypeError, match="integer keys"):
        layers.InputSpec(axes={"x": 1})
    with pytest.raises(ValueError, match="greater than the maximum allowed value: 1"):
        layers.InputSpec(ndim=2, axes={3: 1})
    assert keras.InputSpec is layers.InputSpec


def test_wrapper_base():
    class Twice(layers.Wrapper):
        def call(self, x):
            return self.layer(self.layer(x))

    t = Twice(layers.Dense(3, use_bias=False, kernel_initializer="identity"))
    np.testing.assert_allclose(t(keras.tensor(np.eye(3, dtype=np.float32))).numpy(), np.eye(3))
    assert t.get_config()["layer"]["class_name"] == "Dense"
    again = Twice.from_config(t.get_config())
    assert isinstance(again.layer, layers.Dense)
    assert issubclass(layers.TimeDistributed, layers.Wrapper) and issubclass(layers.Bidirectional, layers.Wrapper)
    with pytest.raises(ValueError, match="isn't a supported layer type"):
        Twice("dense")
