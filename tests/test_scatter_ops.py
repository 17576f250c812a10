"""keras.ops.segment_sum, scatter, scatter_update and slice_update (on the core's index_add): values
against NumPy, finite-difference gradients, symbolic shapes, and the errors of bad indices."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import _core, ops

rng = np.random.default_rng(0)


def test_index_add_is_the_transpose_of_take():
    values = rng.normal(size=(3, 5, 4))
    idx = np.array([2, 0, 2, -1, 1])  # negatives wrap, repeats sum
    got = _core.index_add(fg.tensor(values), fg.tensor(idx), 6, 1).numpy()
    want = np.zeros((3, 6, 4))
    np.add.at(want, (slice(None), idx % 6), values)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    gradcheck(lambda v: _core.index_add(v, fg.tensor(idx), 6, 1), values)
    with pytest.raises(IndexError, match="index 6 is out of bounds"):
        _core.index_add(fg.tensor(values), fg.tensor(np.array([0, 1, 6, 0, 0])), 6, 1)
    with pytest.raises(ValueError, match="one entry per position"):
        _core.index_add(fg.tensor(values), fg.tensor(idx[:3]), 6, 1)
    ints = _core.index_add(fg.tensor(np.arange(5)), fg.tensor(np.array([1, 1, 0, 3, 3])), 4, 0)
    np.testing.assert_array_equal(ints.numpy(), [2, 1, 0, 7])


def test_segment_sum_matches_numpy_and_keras_rules():
    data = rng.normal(size=(7, 3)).astype("float32")
    ids = np.array([0, 0, 2, 2, 2, 4, 1])
    want = np.zeros((5, 3), "float32")
    np.add.at(want, ids, data)
    np.testing.assert_allclose(ops.segment_sum(data, ids).numpy(), want, rtol=1e-6)
    padded = ops.segment_sum(data, ids, num_segments=7, sorted=True).numpy()
    assert padded.shape == (7, 3) and not padded[5:].any()
    gradcheck(lambda d: ops.segment_sum(d, fg.tensor(ids), num_segments=6), data.astype("float64"))
    with pytest.raises(ValueError, match="outside \\[0, 3\\)"):
        ops.segment_sum(data, ids, num_segments=3)
    with pytest.raises(ValueError, match="holds -1"):
        ops.segment_sum(data, np.array([0, -1, 0, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="one id per row"):
        ops.segment_sum(data, ids[:4])
    with pytest.raises(TypeError, match="must hold integers"):
        ops.segment_sum(data, ids.astype("float32"))


def test_scatter_sums_duplicates_like_scatter_nd():
    indices = np.array([[0, 1], [2, 3], [0, 1], [1, 0]])
    values = rng.normal(size=(4, 5))
    want = np.zeros((3, 4, 5))
    np.add.at(want, (indices[:, 0], indices[:, 1]), values)
    np.testing.assert_allclose(ops.scatter(indices, values, (3, 4, 5)).numpy(), want, rtol=1e-12)
    # full coordinates: scalars per index
    got = ops.scatter(np.array([[1], [3], [1]]), np.array([1.0, 2.0, 5.0]), (4,)).numpy()
    np.testing.assert_allclose(got, [0, 6, 0, 2])
    gradcheck(lambda v: ops.scatter(fg.tensor(indices), v, (3, 4, 5)), values)
    with pytest.raises(ValueError, match="indices\\[..., 1\\]` holds 4, outside \\[0, 4\\)"):
        ops.scatter(np.array([[0, 4]]), np.ones((1, 5)), (3, 4, 5))
    with pytest.raises(ValueError, match="values` must have shape"):
        ops.scatter(indices, np.ones((4, 6)), (3, 4, 5))
    with pytest.raises(ValueError, match="coordinates per entry"):
        ops.scatter(np.zeros((2, 4), int), np.ones((2,)), (3, 4, 5))


def test_scatter_update_replaces_and_differentiates():
    inputs = rng.normal(size=(4, 3, 2))
    indices = np.array([[1, 2], [3, 0]])
    updates = rng.normal(size=(2, 2))
    want = inputs.copy()
    want[1, 2] = updates[0]
    want[3, 0] = updates[1]
    np.testing.assert_allclose(ops.scatter_update(inputs, indices, updates).numpy(), want, rtol=1e-12)
    gradcheck(lambda x, u: ops.scatter_update(x, fg.tensor(indices), u), inputs, updates)
    with pytest.raises(ValueError, match="\\(1, 2\\) appears more than once"):
        ops.scatter_update(inputs, np.array([[1, 2], [0, 0], [1, 2]]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="updates` must have shape"):
        ops.scatter_update(inputs, indices, np.zeros((2, 3)))


def test_slice_update_places_a_block():
    inputs = rng.normal(size=(5, 6))
    updates = rng.normal(size=(2, 3))
    want = inputs.copy()
    want[2:4, 1:4] = updates
    np.testing.assert_allclose(ops.slice_update(inputs, (2, 1), updates).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(ops.slice_update(inputs, fg.tensor(np.array([2, 1])), updates).numpy(), want)
    gradcheck(lambda x, u: ops.slice_update(x, (2, 1), u), inputs, updates)
    with pytest.raises(ValueError, match="on axis 1, an update of size 3 starting at 4 does not fit"):
        ops.slice_update(inputs, (0, 4), updates)
    with pytest.raises(ValueError, match="one entry/axis per axis"):
        ops.slice_update(inputs, (0,), updates)


def test_symbolic_shapes():
    x = fg.Input((6,))
    assert tuple(ops.slice_update(x, (0, 1), ops.ones((1, 2))).shape) == (None, 6)
    ids = fg.Input((), dtype="int32")
    assert tuple(ops.segment_sum(x, ids, num_segments=4).shape) == (4, 6)
    assert tuple(ops.scatter(fg.Input((2,), dtype="int32"), fg.Input(()), (3, 4)).shape) == (3, 4)
    for f in (ops.segment_max, ops.segment_min, ops.segment_prod):
        assert tuple(f(x, ids, num_segments=3).shape) == (3, 6)


def test_bincount_matches_numpy():
    x = np.array([0, 1, 1, 3, 2, 1, 7])
    np.testing.assert_array_equal(ops.bincount(x).numpy(), np.bincount(x))
    np.testing.assert_array_equal(ops.bincount(x, minlength=10).numpy(), np.bincount(x, minlength=10))
    assert ops.bincount(x).dtype == "int32"
    w = rng.normal(size=7)
    np.testing.assert_allclose(ops.bincount(x, weights=w).numpy(), np.bincount(x, weights=w), rtol=1e-12)
    rows = np.array([[0, 1, 1, 4], [2, 2, 0, 0]])
    np.testing.assert_array_equal(ops.bincount(rows).numpy(), [np.bincount(r, minlength=5) for r in rows])
    assert ops.bincount(np.zeros((0,), "int64"), minlength=3).numpy().tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="holds -1"):
        ops.bincount(np.array([0, -1]))
    with pytest.raises(ValueError, match="sparse=True"):
        ops.bincount(x, sparse=True)
    with pytest.raises(ValueError, match="weights` must have the shape"):
        ops.bincount(x, weights=np.ones(3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogram_matches_numpy_bin_for_bin(dtype):
    v = rng.normal(size=2000).astype(dtype)
    for bins, rng_ in ((10, None), (13, None), (7, (-1.0, 1.5)), (4, (-3.0, 3.0))):
        counts, edges = ops.histogram(v, bins=bins, range=rng_)
        assert counts.dtype == dtype and edges.dtype == dtype  # Keras on PyTorch: counts in the input's dtype
        want_c, want_e = np.histogram(v, bins=bins, range=rng_)
        np.testing.assert_array_equal(counts.numpy(), want_c)
        np.testing.assert_allclose(edges.numpy(), want_e, rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-6)
    # values exactly on the edges, and the last edge in the last bin
    on_edges = np.arange(11, dtype=dtype)
    np.testing.assert_array_equal(ops.histogram(on_edges, bins=5)[0].numpy(), np.histogram(on_edges, bins=5)[0])
    single = np.full(4, 2.0, dtype)
    np.testing.assert_array_equal(ops.histogram(single, bins=3)[0].numpy(), np.histogram(single, bins=3)[0])
    with pytest.raises(ValueError, match="`bins` must be a positive integer"):
        ops.histogram(v, bins=0)
    with pytest.raises(ValueError, match="min <= max"):
        ops.histogram(v, range=(1.0, 0.0))
