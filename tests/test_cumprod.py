"""keras.ops cumprod and nancumprod: values against NumPy (axes, flattening, ints, bools, float32),
finite-difference gradients with no zero, one zero and several zeros per row, symbolic shapes."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(0)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2])
def test_values_match_numpy(axis):
    x = rng.uniform(0.5, 1.5, (3, 4, 5)) * rng.choice([-1, 1], (3, 4, 5))
    np.testing.assert_allclose(ops.cumprod(x, axis=axis).numpy(), np.cumprod(x, axis=axis), rtol=1e-12)
    f32 = x.astype("float32")
    got = ops.cumprod(f32, axis=axis).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.cumprod(f32, axis=axis), rtol=1e-5)


def test_integers_bools_and_dtype():
    x = np.array([[1, 2, 3], [-1, 4, 0]], "int32")
    got = ops.cumprod(x, axis=1)
    assert got.dtype == "int32"
    np.testing.assert_array_equal(got.numpy(), np.cumprod(x, axis=1))
    np.testing.assert_array_equal(ops.cumprod(np.array([True, True, False, True])).numpy(), [1, 1, 0, 0])
    assert ops.cumprod(x, dtype="float32").dtype == "float32"
    np.testing.assert_allclose(ops.nancumprod(np.array([2.0, np.nan, 3.0, np.nan])).numpy(), [2, 2, 6, 6])


@pytest.mark.parametrize("row", [
    [0.7, -1.3, 2.1, 0.4, 1.9],      # no zero
    [0.7, -1.3, 0.0, 0.4, 1.9],      # one zero inside
    [0.0, -1.3, 2.1, 0.4, 1.9],      # a zero first
    [0.7, -1.3, 2.1, 0.4, 0.0],      # a zero last
    [0.7, 0.0, 2.1, 0.0, 1.9],       # two zeros
])
def test_gradient_is_exact_at_zeros(row):
    x = np.array([row, row[::-1]])
    gradcheck(lambda t: ops.cumprod(t, axis=1), x)
    gradcheck(lambda t: ops.cumprod(t, axis=0), np.ascontiguousarray(x.T))


def test_symbolic_shapes_and_errors():
    inp = fg.Input((4, 3))
    assert tuple(ops.cumprod(inp, axis=1).shape) == (None, 4, 3)
    with pytest.raises(IndexError, match="cumprod: axis 2 is out of bounds for a tensor of rank 2"):
        ops.cumprod(np.ones((2, 3)), axis=2)
