"""Property tests (hypothesis) of broadcasting, reductions, indexing and shape ops against NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg
from ferrograd import ops

settings.register_profile("ferrograd", max_examples=60, deadline=None)
settings.load_profile("ferrograd")

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


@pytest.fixture(autouse=True)
def ieee_subnormals():
    """These are exact NumPy-parity checks, subnormal inputs included: run the kernels in IEEE
    mode (by default they flush subnormals to zero, as TensorFlow does; test_flush_denormal.py)."""
    before = fg.is_flush_denormal_enabled()
    fg.set_flush_denormal(False)
    yield
    fg.set_flush_denormal(before)


def arrays(shape_st, dtype=np.float32, elements=finite):
    return shape_st.flatmap(lambda s: hnp.arrays(dtype, s, elements=elements))


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5), st.data())
def test_broadcast_binary_matches_numpy(shapes, data):
    a = data.draw(hnp.arrays(np.float32, shapes.input_shapes[0], elements=finite))
    b = data.draw(hnp.arrays(np.float32, shapes.input_shapes[1], elements=finite))
    ta, tb = fg.tensor(a), fg.tensor(b)
    for name in ["add", "subtract", "multiply", "maximum", "minimum"]:
        got = getattr(ops, name)(ta, tb).numpy()
        want = getattr(np, name)(a, b)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    for name in ["equal", "less", "greater_equal"]:
        np.testing.assert_array_equal(getattr(ops, name)(ta, tb).numpy(), getattr(np, name)(a, b))


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=6), st.data())
def test_integer_arithmetic_matches_numpy(shapes, data):
    ints = st.integers(-1000, 1000)
    a = data.draw(hnp.arrays(np.int64, shapes.input_shapes[0], elements=ints))
    b = data.draw(hnp.arrays(np.int64, shapes.input_shapes[1], elements=ints.filter(lambda v: v != 0)))
    ta, tb = fg.tensor(a), fg.tensor(b)
    np.testing.assert_array_equal((ta + tb).numpy(), a + b)
    np.testing.assert_array_equal((ta * tb).numpy(), a * b)
    np.testing.assert_array_equal((ta // tb).numpy(), a // b)
    np.testing.assert_array_equal((ta % tb).numpy(), a % b)
    np.testing.assert_allclose((ta / tb).numpy(), (a / b).astype(np.float32), rtol=1e-6)


@st.composite
def array_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6))
    a = draw(hnp.arrays(np.float32, shape, elements=st.floats(-10, 10, width=32)))
    nd = len(shape)
    axes = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    return a, axes


@given(array_and_axes(), st.booleans())
def test_reductions_match_numpy(arg, keepdims):
    a, axes = arg
    t = fg.tensor(a)
    a64 = a.astype(np.float64)
    for name, ref in [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("var", np.var),
                      ("std", np.std)]:
        got = getattr(ops, name)(t, axis=axes, keepdims=keepdims).numpy()
        want = ref(a64, axis=axes, keepdims=keepdims)
        assert got.shape == np.shape(want), name
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-4, err_msg=name)
    got = ops.prod(fg.tensor(a / 16), axis=axes, keepdims=keepdims).numpy()  # no float32 overflow
    np.testing.assert_allclose(got, np.prod(a64 / 16, axis=axes, keepdims=keepdims), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(ops.any(t > 5, axis=axes, keepdims=keepdims).numpy(),
                                  np.any(a > 5, axis=axes, keepdims=keepdims))
    if isinstance(axes, int):
        np.testing.assert_array_equal(ops.argmax(t, axis=axes).numpy(), np.argmax(a, axis=axes))
        np.testing.assert_array_equal(ops.argmin(t, axis=axes, keepdims=keepdims).numpy(),
                                      np.argmin(a, axis=axes, keepdims=keepdims))


@st.composite
def basic_index(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=7))
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    idx = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return a, idx


@given(basic_index())
def test_basic_indexing_matches_numpy(arg):
    a, idx = arg
    got = fg.tensor(a)[idx]
    want = a[idx]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), st.data())
def test_integer_array_indexing_matches_numpy(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    ids = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)),
                               elements=st.integers(-n, n - 1)))
    key = (slice(None),) * axis + (ids,)
    got = fg.tensor(a)[key]
    np.testing.assert_array_equal(got.numpy(), a[key])
    np.testing.assert_array_equal(ops.take(fg.tensor(a), fg.tensor(ids), axis=axis).numpy(), np.take(a, ids, axis=axis))


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=4, max_side=5)), st.data())
def test_views_of_views_match_numpy(a, data):
    t = fg.tensor(a)
    perm = data.draw(st.permutations(range(a.ndim)))
    np.testing.assert_array_equal(t.transpose(perm).numpy(), a.transpose(perm))
    np.testing.assert_array_equal(ops.reshape(t.transpose(perm), (-1,)).numpy(), a.transpose(perm).reshape(-1))
    np.testing.assert_array_equal(ops.flip(t).numpy(), np.flip(a))
    np.testing.assert_array_equal((t.transpose(perm) * 2).numpy(), a.transpose(perm) * 2)
    np.testing.assert_allclose(ops.cumsum(t, axis=-1).numpy(), np.cumsum(a, axis=-1), rtol=1e-5, atol=1e-3)


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=3, max_side=6)))
def test_softmax_matches_numpy(a):
    t = fg.tensor(a)
    for axis in range(-a.ndim, a.ndim):
        shifted = a.astype(np.float64) - a.max(axis=axis, keepdims=True)
        e = np.exp(shifted)
        want = e / e.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(ops.softmax(t, axis=axis).numpy(), want, rtol=1e-5, atol=1e-6)
        log_want = shifted - np.log(e.sum(axis=axis, keepdims=True))
        np.testing.assert_allclose(ops.log_softmax(t, axis=axis).numpy(), log_want, rtol=1e-5, atol=1e-4)


def test_shape_ops_match_numpy():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = fg.tensor(a)
    np.testing.assert_array_equal(ops.concatenate([t, t], axis=1).numpy(), np.concatenate([a, a], axis=1))
    np.testing.assert_array_equal(ops.stack([t, t], axis=-1).numpy(), np.stack([a, a], axis=-1))
    for got, want in zip(ops.split(t, [1, 3], axis=2), np.split(a, [1, 3], axis=2)):
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(ops.tile(t, (2, 1)).numpy(), np.tile(a, (2, 1)))
    np.testing.assert_array_equal(ops.repeat(t, 3).numpy(), np.repeat(a, 3))
    np.testing.assert_array_equal(ops.repeat(t, [1, 2, 0], axis=1).numpy(), np.repeat(a, [1, 2, 0], axis=1))
    for mode in ["constant", "reflect", "symmetric", "edge"]:
        np.testing.assert_array_equal(ops.pad(t, ((1, 2), (2, 1), (0, 3)), mode=mode).numpy(),
                                      np.pad(a, ((1, 2), (2, 1), (0, 3)), mode=mode))
    np.testing.assert_array_equal(ops.one_hot(fg.tensor(np.array([0, 2, 5, -1])), 3).numpy(),
                                  np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]], dtype=np.float32))
    idx = np.array([[1, 0, 3], [2, 2, 0]])[:, None, :].repeat(3, 1)
    np.testing.assert_array_equal(ops.take_along_axis(t, fg.tensor(idx), axis=2).numpy(),
                                  np.take_along_axis(a, idx, axis=2))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
def test_creation_and_dtypes(dtype):
    z = ops.zeros((2, 3), dtype=dtype)
    assert z.dtype == dtype and z.shape == (2, 3)
    np.testing.assert_array_equal(ops.ones((4,), dtype).numpy(), np.ones(4, dtype))
    np.testing.assert_array_equal(ops.eye(3, 4, k=1, dtype=dtype).numpy(), np.eye(3, 4, k=1, dtype=dtype))
    a = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    t = fg.from_numpy(a)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), a)


def test_arange_linspace():
    np.testing.assert_array_equal(ops.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(ops.arange(0.5, 3.0, 0.5).numpy(), np.arange(0.5, 3.0, 0.5))
    np.testing.assert_allclose(ops.arange(5, 0, -2).numpy(), np.arange(5, 0, -2))
    np.testing.assert_allclose(ops.linspace(0, 1, 7).numpy(), np.linspace(0, 1, 7, dtype=np.float32))
    np.testing.assert_allclose(ops.linspace(0, 1, 4, endpoint=False).numpy(), np.linspace(0, 1, 4, endpoint=False))
