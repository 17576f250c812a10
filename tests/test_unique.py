"""keras.ops.unique (and ops.numpy.unique): NumPy's np.unique on awkward inputs (all four parts),
Keras 3.15's results on PyTorch for the documented cases (printed in a side environment), fixed
sizes, NaNs, empty inputs, symbolic shapes and errors."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(0)


def _all(x, **kw):
    return [t.numpy() for t in ops.unique(x, return_index=True, return_inverse=True, return_counts=True, **kw)]


@pytest.mark.parametrize("x", [
    np.array([3, 1, 2, 3, 1, 5, 5, 5], np.int32), rng.integers(-5, 5, size=1000), np.array([7]),
    rng.normal(size=17).round(0), rng.integers(0, 3, size=(4, 6)), np.arange(1000)[::-1].copy(),
])
def test_flat_matches_numpy(x):
    got = _all(x)
    want = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w.reshape(g.shape) if g.size == w.size else w)
    assert got[2].shape == x.shape


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_axis_matches_numpy(axis):
    x = rng.integers(0, 2, size=(9, 3)) if axis == 0 else rng.integers(0, 2, size=(3, 9))
    got = _all(x, axis=axis)
    want = np.unique(x, axis=axis, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w.reshape(-1) if w.ndim and g.ndim == 1 else w)


def test_keras_results():
    # keras.ops.unique in Keras 3.15.1 on PyTorch
    x = np.array([3, 1, 2, 3, 1, 5, 5, 5], np.int32)
    u, inv, cnt = (t.numpy() for t in ops.unique(x, return_inverse=True, return_counts=True))
    np.testing.assert_array_equal(u, [1, 2, 3, 5])
    assert u.dtype == np.int32
    np.testing.assert_array_equal(inv, [2, 0, 1, 2, 0, 3, 3, 3])
    np.testing.assert_array_equal(cnt, [2, 1, 2, 3])
    np.testing.assert_array_equal(ops.unique(x, size=6, fill_value=-1).numpy(), [1, 2, 3, 5, -1, -1])
    u, cnt = ops.unique(x, size=2, return_counts=True)
    np.testing.assert_array_equal(u.numpy(), [1, 2])
    np.testing.assert_array_equal(cnt.numpy(), [2, 1])
    np.testing.assert_array_equal(ops.unique(x, sorted=False).numpy(), [1, 2, 3, 5])
    u, inv = ops.unique(np.array([[1.0, 2], [1, 2], [0, 1]]), axis=0, return_inverse=True)
    np.testing.assert_array_equal(u.numpy(), [[0, 1], [1, 2]])
    np.testing.assert_array_equal(inv.numpy(), [1, 1, 0])
    out = ops.unique(np.array([2.0, np.nan, 1, np.nan])).numpy()
    np.testing.assert_array_equal(out[:2], [1, 2])
    assert np.isnan(out[2:]).all()  # each NaN is its own value, last
    assert ops.unique(np.zeros((0,), np.float32)).shape == (0,)
    assert fg.ops.numpy.unique is ops.unique


def test_symbolic_shapes_and_errors():
    x = fg.Input((5,), dtype="int32")
    assert tuple(ops.unique(x).shape) == (None,)
    u, inv = ops.unique(x, return_inverse=True, size=4)
    assert tuple(u.shape) == (4,) and tuple(inv.shape) == (None, 5)
    with pytest.raises(ValueError, match="size"):
        ops.unique(np.array([1, 2]), size=-1)
    with pytest.raises(ValueError, match="out of bounds"):
        ops.unique(np.array([1, 2]), axis=3)
    with pytest.raises(TypeError, match="sorted"):
        ops.unique(np.array([1, 2]), sorted="no")
