"""keras.ops bitwise_and/or/xor/invert/not, shifts, gcd and lcm: against NumPy on int32 and int64
(broadcasting, negative values, NumPy's rules for out-of-range shift counts and overflow), bools,
dtype errors and symbolic shapes."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(0)
BINARY = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
          "gcd": np.gcd, "lcm": np.lcm}


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_numpy(name, dtype):
    a = rng.integers(-1000, 1000, (4, 5)).astype(dtype)
    b = rng.integers(-1000, 1000, (5,)).astype(dtype)
    b[0] = 0
    a[0, 0] = 0
    got = getattr(ops, name)(a, b).numpy()
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, BINARY[name](a, b))
    assert getattr(ops.numpy, name) is getattr(ops, name)


@pytest.mark.parametrize("dtype,bits", [("int32", 32), ("int64", 64)])
def test_shifts_follow_numpy_at_the_edges(dtype, bits):
    x = np.array([1, -8, 7, -1, 123456], dtype)
    counts = np.array([0, 1, bits - 1, bits, bits + 5, -1, -bits], dtype)
    for ours, theirs in ((ops.left_shift, np.left_shift), (ops.right_shift, np.right_shift),
                         (ops.bitwise_left_shift, np.left_shift), (ops.bitwise_right_shift, np.right_shift)):
        got = ours(x[:, None], counts[None, :]).numpy()
        np.testing.assert_array_equal(got, theirs(x[:, None], counts[None, :]))


def test_not_invert_bools_promotion_and_overflow():
    x = np.array([0, 5, -6], "int64")
    np.testing.assert_array_equal(ops.bitwise_not(x).numpy(), ~x)
    np.testing.assert_array_equal(ops.bitwise_invert(np.array([True, False])).numpy(), [False, True])
    t, f = np.array([True, True, False]), np.array([True, False, False])
    np.testing.assert_array_equal(ops.bitwise_and(t, f).numpy(), t & f)
    assert ops.bitwise_xor(t, f).dtype == "bool"
    assert ops.bitwise_or(np.array([1, 2], "int32"), np.array([4, 8], "int64")).dtype == "int64"
    assert ops.bitwise_and(np.array([3, 6], "int32"), 5).dtype == "int32"
    big = np.array([2 ** 20], "int32")
    np.testing.assert_array_equal(ops.lcm(big, big + 1).numpy(), np.lcm(big, big + 1))  # wraps as NumPy does
    assert int(ops.gcd(np.array([0]), np.array([0])).numpy()[0]) == 0


def test_floats_are_refused_naming_the_operand():
    with pytest.raises(TypeError, match="bitwise_and: the second operand has dtype float32, expected an integer or "
                                        "bool tensor"):
        ops.bitwise_and(np.array([1, 2]), np.array([1.0, 2.0], "float32"))
    with pytest.raises(TypeError, match="gcd: the first operand has dtype bool, expected an integer tensor"):
        ops.gcd(np.array([True]), np.array([2]))
    with pytest.raises(TypeError, match="bitwise_not: the operand has dtype float32"):
        ops.bitwise_not(np.ones(2, "float32"))
    with pytest.raises(ValueError, match="left_shift"):
        ops.left_shift(np.ones((2, 3), "int32"), np.ones((4,), "int32"))


def test_symbolic_shapes():
    x = fg.Input((3,), dtype="int32")
    assert tuple(ops.bitwise_xor(x, x).shape) == (None, 3)
    assert ops.left_shift(x, x).dtype == "int32"
    assert tuple(ops.bitwise_not(x).shape) == (None, 3)
