"""keras.ops arcsin, arccos, arctan, arcsinh, arccosh, arctanh and arctan2: values against NumPy in
float32 and float64 (edges and outside the domain included), finite-difference gradients, integer
inputs, the SIMD build against the scalar reference, and symbolic shapes."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

UNARY = {"arcsin": (-1, 1), "arccos": (-1, 1), "arctan": (-50, 50), "arcsinh": (-50, 50), "arccosh": (1, 60),
         "arctanh": (-1, 1)}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float64", 1e-14)])
def test_values_match_numpy(name, dtype, rtol):
    lo, hi = UNARY[name]
    x = np.concatenate([np.linspace(lo, hi, 1001), [lo, hi, lo - 0.5, hi + 0.5, np.nan, np.inf, -np.inf]])
    x = x.astype(dtype)
    got = getattr(ops, name)(x).numpy()
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradients(name):
    lo, hi = UNARY[name]
    inside = np.linspace(lo, hi, 9)[1:-1] if name != "arccosh" else np.linspace(1.2, 5, 7)
    gradcheck(lambda x: getattr(ops, name)(x), inside, atol=1e-5, rtol=1e-5)


def test_simd_matches_the_scalar_reference(scalar_kernels):
    x = np.random.default_rng(0).uniform(-0.99, 0.99, 1003).astype("float32")
    simd = {n: getattr(ops, n)(x if n != "arccosh" else x + 2).numpy() for n in UNARY}
    fg._core._set_force_scalar(True)
    for n in UNARY:
        np.testing.assert_array_equal(getattr(ops, n)(x if n != "arccosh" else x + 2).numpy(), simd[n], err_msg=n)


def test_arctan2_quadrants_dtypes_and_gradient():
    y = np.array([0.0, 1.0, -1.0, 1.0, -1.0, 0.0, -0.0, 2.5])
    x = np.array([1.0, 0.0, 0.0, -1.0, -1.0, -1.0, -1.0, 0.3])
    np.testing.assert_allclose(ops.arctan2(y, x).numpy(), np.arctan2(y, x), rtol=1e-15)
    assert ops.arctan2(np.array([1, -1]), np.array([0, 2])).dtype == "float32"  # integers give float32
    np.testing.assert_allclose(ops.arctan2(np.float32(1.0), np.ones((2, 3), "float32")).numpy(),
                               np.full((2, 3), np.pi / 4), rtol=1e-6)  # broadcasting
    gradcheck(lambda a, b: ops.arctan2(a, b), y[[0, 3, 7]] + 0.5, x[[0, 3, 7]])


def test_integer_inputs_and_symbolic_shapes():
    assert ops.arcsin(np.array([0, 1])).dtype == "float32"
    inp = fg.Input((3,))
    assert tuple(ops.arctan(inp).shape) == (None, 3)
    assert tuple(ops.arctan2(inp, inp).shape) == (None, 3)
    assert fg.ops.numpy.arctanh is ops.arctanh
