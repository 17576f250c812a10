"""ops.nextafter (a Rust binary op on C's nextafter): NumPy's values on every pair of awkward
floats in both float widths, integer promotion, broadcasting, and its gradient."""
import numpy as np
from conftest import gradcheck

from ferrograd import ops

AWKWARD = [0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 1e-300, 3.4e38, -3.4e38, 1.7e308, np.inf, -np.inf, np.nan, 0.5,
           2.0 ** 24]


def test_matches_numpy_on_every_pair():
    a, b = np.meshgrid(np.array(AWKWARD), np.array(AWKWARD), indexing="ij")
    for dtype in ("float32", "float64"):
        x, y = a.astype(dtype), b.astype(dtype)
        got = ops.nextafter(x, y).numpy()
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, np.nextafter(x, y))
        np.testing.assert_array_equal(ops.numpy.nextafter(x, y).numpy(), np.nextafter(x, y))


def test_integers_broadcasting_and_mixed_widths():
    np.testing.assert_array_equal(ops.nextafter(np.array([1, 2]), np.array([3, 0])).numpy(),
                                  np.nextafter(np.float32([1, 2]), np.float32([3, 0])))
    x = np.linspace(-2, 2, 12, dtype="float32").reshape(3, 4)
    np.testing.assert_array_equal(ops.nextafter(x, np.float32(np.inf)).numpy(), np.nextafter(x, np.float32(np.inf)))
    mixed = ops.nextafter(np.float32([1.0]), np.float64([2.0]))
    assert mixed.dtype == "float64" and mixed.numpy()[0] == np.nextafter(1.0, 2.0)


def test_gradient_passes_to_the_first_argument():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((3, 4)) * 10
    gradcheck(lambda a: ops.nextafter(a, b), rng.standard_normal((3, 4)))
