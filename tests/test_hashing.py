"""keras.layers.Hashing without TensorFlow: Keras 3's documented examples (FarmHash64, a mask
value, SipHash64 with a salt pair and a single salt) reproduce exactly; integers hash as their
decimal strings and floats are truncated first (Keras' rule); the output modes, the config and
clear errors. The hashes themselves: Fingerprint64 is checked against TensorFlow's values in
test_text_layers.py; SipHash-2-4 against the reference vectors (Rust unit test) and below."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import _core, layers

LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


def test_keras_documented_examples():
    np.testing.assert_array_equal(layers.Hashing(num_bins=3)(LETTERS).numpy(), [[1], [0], [1], [1], [2]])
    np.testing.assert_array_equal(layers.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).numpy(),
                                  [[1], [1], [0], [2], [2]])
    np.testing.assert_array_equal(layers.Hashing(num_bins=3, salt=[133, 137])(LETTERS).numpy(),
                                  [[1], [2], [1], [0], [2]])
    np.testing.assert_array_equal(layers.Hashing(num_bins=3, salt=133)(LETTERS).numpy(), [[0], [0], [2], [1], [0]])
    assert layers.Hashing(num_bins=3)(LETTERS).dtype == "int64"


def test_numbers_hash_as_their_decimal_strings():
    ints = np.array([[7, -12, 0], [123456789012, 5, 7]])
    strs = np.array([[str(v) for v in row] for row in ints])
    for salt in (None, 99):
        h = layers.Hashing(num_bins=1000, salt=salt)
        np.testing.assert_array_equal(h(ints).numpy(), h(strs).numpy())
        np.testing.assert_array_equal(h(ints.astype(np.float64) + 0.75 * np.sign(ints)).numpy(), h(ints).numpy())
        np.testing.assert_array_equal(h(fg.tensor(ints)).numpy(), h(ints).numpy())
    # the bins are the hashes modulo num_bins
    fp = [_core.text_fingerprint64(s.encode()) for s in ("7", "-12", "0")]
    np.testing.assert_array_equal(layers.Hashing(num_bins=97)(np.array([7, -12, 0])).numpy(), [f % 97 for f in fp])
    # a mask value among integers
    out = layers.Hashing(num_bins=4, mask_value=-1)(np.array([-1, 3, -1])).numpy()
    assert out[0] == 0 and out[2] == 0 and 1 <= out[1] <= 3


def test_output_modes_and_shapes():
    x = [["A", "B", "A"], ["C", "D", "E"]]
    ids = layers.Hashing(num_bins=8)(x).numpy()
    multi = layers.Hashing(num_bins=8, output_mode="multi_hot")(x).numpy()
    count = layers.Hashing(num_bins=8, output_mode="count")(x).numpy()
    for r in range(2):
        np.testing.assert_array_equal(count[r], np.bincount(ids[r], minlength=8))
        np.testing.assert_array_equal(multi[r], np.bincount(ids[r], minlength=8) > 0)
    one = layers.Hashing(num_bins=8, output_mode="one_hot")(LETTERS).numpy()
    assert one.shape == (5, 8) and one.dtype == np.float32
    np.testing.assert_array_equal(one.argmax(-1), layers.Hashing(num_bins=8)(LETTERS).numpy()[:, 0])
    h = layers.Hashing(num_bins=8, output_mode="count")
    assert h.compute_output_shape((None, 3)) == (None, 8)
    assert tuple(layers.Hashing(num_bins=5)(fg.Input((2,), dtype="int64")).shape) == (None, 2)


def test_config_round_trip():
    h = layers.Hashing(num_bins=7, mask_value="", salt=5, output_mode="count", name="h")
    cfg = h.get_config()
    assert {k: cfg[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} == {
        "num_bins": 7, "salt": [5, 5], "mask_value": "", "output_mode": "count", "sparse": False}
    again = layers.Hashing.from_config(cfg)
    np.testing.assert_array_equal(again(LETTERS).numpy(), h(LETTERS).numpy())


def test_errors():
    with pytest.raises(ValueError, match="num_bins"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="output_mode"):
        layers.Hashing(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="salt"):
        layers.Hashing(num_bins=3, salt="x")
    with pytest.raises(ValueError, match="sparse"):
        layers.Hashing(num_bins=3, output_mode="count", sparse=True)
    with pytest.raises(ValueError, match="integer type"):
        layers.Hashing(num_bins=3, dtype="float32")
    with pytest.raises(TypeError, match="strings"):
        layers.Hashing(num_bins=3)([[object()]])
