"""keras.ops erfinv, fmod and cdist: values against NumPy / math / PyTorch (when installed), finite-
difference gradients, edges (+-1, outside the domain, zero divisors, zero distances), symbolic shapes."""
import math

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype,tol", [("float32", 2e-6), ("float64", 1e-14)])
def test_erfinv_inverts_erf(dtype, tol):
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [0.0, 1e-8, -1e-8, 0.9999999, -0.9999999]])
    y = y.astype(dtype)
    x = ops.erfinv(y).numpy()
    assert x.dtype == np.dtype(dtype)
    back = np.array([math.erf(float(v)) for v in x])
    np.testing.assert_allclose(back, y.astype(np.float64), rtol=tol * 10, atol=tol * 10)
    edges = ops.erfinv(np.array([1.0, -1.0, 1.5, -2.0, np.nan], dtype)).numpy()
    assert edges[0] == np.inf and edges[1] == -np.inf and np.isnan(edges[2:]).all()


def test_erfinv_matches_torch_and_differentiates():
    torch = pytest.importorskip("torch")
    y = np.linspace(-0.99, 0.99, 101)
    np.testing.assert_allclose(ops.erfinv(y).numpy(), torch.special.erfinv(torch.tensor(y)).numpy(), rtol=1e-12)
    gradcheck(lambda t: ops.erfinv(t), np.linspace(-0.9, 0.9, 7))


def test_fmod_matches_numpy():
    a = rng.uniform(-10, 10, (4, 5))
    b = rng.uniform(-3, 3, (5,))
    np.testing.assert_allclose(ops.fmod(a, b).numpy(), np.fmod(a, b), rtol=1e-15)
    ai = np.array([7, -7, 7, -7, 5], "int64")
    bi = np.array([3, 3, -3, -3, 0], "int64")
    np.testing.assert_array_equal(ops.fmod(ai, bi).numpy(), [1, -1, 1, -1, 0])  # sign of the dividend, x/0 -> 0
    gradcheck(lambda x, y: ops.fmod(x, y), a[:2, :3], b[:3] + 0.05)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, np.inf])
def test_cdist_matches_torch(p):
    torch = pytest.importorskip("torch")
    x1 = rng.normal(size=(2, 4, 3))
    x2 = rng.normal(size=(2, 5, 3))
    x2[0, 1] = x1[0, 2]  # a zero distance
    want = torch.cdist(torch.tensor(x1), torch.tensor(x2), p=p).numpy()
    np.testing.assert_allclose(ops.cdist(x1, x2, p=p).numpy(), want, rtol=1e-12, atol=1e-12)


def test_cdist_gradients_shapes_and_errors():
    x1 = rng.normal(size=(3, 2))
    x2 = rng.normal(size=(4, 2))
    for p in (1.0, 2.0, 3.0):
        gradcheck(lambda a, b: ops.cdist(a, b, p=p), x1, x2, atol=1e-5, rtol=1e-5)
    same = fg.tensor(np.ones((1, 2)), requires_grad=True)
    ops.sum(ops.cdist(same, np.ones((1, 2)))).backward()
    np.testing.assert_array_equal(same.grad.numpy(), [[0.0, 0.0]])  # zero distance: zero gradient, not NaN
    assert tuple(ops.cdist(fg.Input((4, 3)), fg.Input((5, 3))).shape) == (None, 4, 5)
    with pytest.raises(ValueError, match="same M"):
        ops.cdist(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="`p` must be >= 0"):
        ops.cdist(np.ones((2, 3)), np.ones((2, 3)), p=-1)
