"""keras.ops.i0 and keras.ops.kaiser against NumPy; i0's gradient is i1."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

X = np.array([0.0, 1e-8, 0.5, 1.0, 3.0, 7.99, 8.0, 8.01, 15.0, 30.0, 100.0, 700.0, -2.5, -9.0])


def test_i0_matches_numpy_float64_and_float32():
    np.testing.assert_allclose(ops.i0(fg.tensor(X)).numpy(), np.i0(X), rtol=4e-16 * 8)
    x32 = X[np.abs(X) < 50].astype("float32")  # i0(100) overflows float32
    got = ops.i0(fg.tensor(x32)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.i0(x32.astype("float64")), rtol=3e-6)
    assert ops.numpy.i0(np.array([1, 2])).dtype == "float32"


def test_i0_edges():
    got = ops.i0(fg.tensor(np.array([np.nan, np.inf, -np.inf, 800.0]))).numpy()
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == np.inf and got[3] == np.inf


def test_i0_gradient_is_i1():
    gradcheck(ops.i0, np.array([[0.3, -1.7, 4.0], [7.5, 8.5, 12.0]]))
    x = fg.tensor(np.array([1.0, 10.0]), requires_grad=True)
    ops.sum(ops.i0(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5651591039924851, 2670.988303701255], rtol=1e-12)  # i1(x)


@pytest.mark.parametrize("m,beta", [(0, 5.0), (1, 3.0), (2, 0.0), (12, 14.0), (51, 8.6), (7, -2.0)])
def test_kaiser_matches_numpy(m, beta):
    got = ops.kaiser(m, beta)
    assert got.dtype == "float32" and tuple(got.shape) == (m,)
    np.testing.assert_allclose(got.numpy(), np.kaiser(m, beta), rtol=1e-6, atol=1e-7)


def test_i0_in_a_functional_model():
    inp = fg.Input((3,))
    model = fg.Model(inp, ops.i0(inp))
    np.testing.assert_allclose(model.predict(np.array([[0.0, 2.0, 9.0]], "float32"), verbose=0),
                               np.i0([[0.0, 2.0, 9.0]]), rtol=1e-6)
