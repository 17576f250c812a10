"""Tensor basics: creation, dtypes, NumPy interop and memory sharing, views, repr, indexing."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops


def test_tensor_from_python_data():
    t = fg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.dtype == "float32" and t.ndim == 2 and t.size == 4
    assert fg.tensor([1, 2]).dtype == "int64"
    assert fg.tensor([True]).dtype == "bool"
    assert fg.tensor(np.zeros(3)).dtype == "float64"
    assert fg.tensor([1, 2], dtype="float64").dtype == "float64"
    assert fg.tensor(3.5).shape == ()
    assert fg.tensor(3.5).item() == 3.5
    assert isinstance(fg.tensor([7]).item(), int)
    assert fg.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_from_numpy_shares_memory_and_numpy_shares_back():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = fg.from_numpy(a)
    assert t._data_ptr() == a.ctypes.data
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    v = t.numpy()
    v[1, 2] = -1
    assert a[1, 2] == -1
    assert np.shares_memory(np.asarray(t), a)
    # a view of a tensor shares memory too
    tv = t.T
    assert np.shares_memory(tv.numpy(), a)
    np.testing.assert_array_equal(tv.numpy(), a.T)


def test_from_numpy_copies_when_needed():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # not contiguous
    t = fg.from_numpy(a)
    np.testing.assert_array_equal(t.numpy(), a)
    assert not np.shares_memory(t.numpy(), a)
    u8 = np.arange(5, dtype=np.uint8)
    t = fg.from_numpy(u8)
    assert t.dtype == "int32"
    np.testing.assert_array_equal(t.numpy(), u8)
    ro = np.ones(3, np.float32)
    ro.setflags(write=False)
    t = fg.from_numpy(ro)
    assert not np.shares_memory(t.numpy(), ro)
    assert fg.from_numpy(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_bool_arrays_with_bytes_other_than_0_and_1_are_normalised():
    # NumPy reads any nonzero byte as True; Rust's bool must be 0 or 1, so such an array is
    # copied with nonzero -> True instead of shared (ferrograd/src/py/numpy.rs explains why).
    raw = np.array([0, 1, 2, 255, 0], np.uint8)
    a = raw.view(bool)
    for t in (fg.from_numpy(a), fg._core.from_numpy(a, copy=True), fg.tensor(a), fg.as_tensor(a)):
        assert t.dtype == "bool"
        np.testing.assert_array_equal(t.numpy().view(np.uint8), [0, 1, 1, 1, 0])
        np.testing.assert_array_equal(ops.logical_not(t).numpy(), [True, False, False, False, True])
        np.testing.assert_array_equal(t.astype("int32").numpy(), [0, 1, 1, 1, 0])
    assert not np.shares_memory(fg.from_numpy(a).numpy(), a)
    np.testing.assert_array_equal(ops.where(a, 1.0, 0.0).numpy(), [0, 1, 1, 1, 0])
    big = np.zeros(100_003, np.uint8)
    big[-1] = 7  # found past any vector-width prefix
    assert fg.from_numpy(big.view(bool)).numpy().view(np.uint8)[-1] == 1
    # Valid bool arrays are still shared.
    ok = np.array([True, False, True])
    t = fg.from_numpy(ok)
    assert np.shares_memory(t.numpy(), ok)


def test_tensor_constructor_copies():
    a = np.ones(3, np.float32)
    t = fg.tensor(a)
    a[0] = 5
    assert t[0].item() == 1.0


def test_numpy_keeps_tensor_memory_alive():
    arr = (fg.ones((1000,)) * 3).numpy()
    import gc

    gc.collect()
    big = [fg.ones((1000,)) * 7 for _ in range(10)]  # recycled buffers must not be ours
    assert np.all(arr == 3)
    del big


def test_views_share_storage():
    t = ops.arange(12, dtype="float32")
    r = t.reshape(3, 4)
    s = r[:, 1]
    assert s._data_ptr() == t._data_ptr() + 4
    assert not s.is_contiguous()
    c = s.contiguous()
    assert c.is_contiguous()
    np.testing.assert_array_equal(c.numpy(), [1, 5, 9])
    assert r.T.strides == (1, 4)


def test_astype_and_cast():
    t = fg.tensor([1.7, -2.5, 0.0])
    np.testing.assert_array_equal(t.astype("int32").numpy(), [1, -2, 0])
    np.testing.assert_array_equal(t.astype("bool").numpy(), [True, True, False])
    assert t.astype(np.float64).dtype == "float64"
    assert ops.cast(t, "float32") is not None


def test_operators_and_scalar_typing():
    t = fg.tensor([1.0, 2.0])
    assert (t + 1).dtype == "float32" and (t * 0.5).dtype == "float32"
    i = fg.tensor([1, 2], dtype="int32")
    assert (i + 1).dtype == "int32"
    assert (i * 1.5).dtype == "float32"
    assert (i / 2).dtype == "float32"
    np.testing.assert_array_equal((2 - t).numpy(), [1.0, 0.0])
    np.testing.assert_array_equal((1 / t).numpy(), [1.0, 0.5])
    np.testing.assert_array_equal((t ** 2).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal((-t).numpy(), [-1.0, -2.0])
    np.testing.assert_array_equal(abs(-t).numpy(), [1.0, 2.0])
    np.testing.assert_array_equal((t >= 2).numpy(), [False, True])
    np.testing.assert_array_equal(((t > 1) & (t < 3)).numpy(), [False, True])
    np.testing.assert_array_equal((~(t > 1)).numpy(), [True, False])
    a = np.array([10.0, 20.0], np.float32)
    r = a + t  # numpy defers to Tensor
    assert isinstance(r, fg.Tensor)
    np.testing.assert_array_equal(r.numpy(), [11.0, 22.0])
    m = fg.tensor(np.eye(2, dtype=np.float32))
    np.testing.assert_array_equal((m @ t).numpy(), [1.0, 2.0])
    assert (t == None) is False  # noqa: E711 - falls back to identity


def test_bool_len_float_int():
    assert bool(fg.tensor([1.0])) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(fg.tensor([1.0, 2.0]))
    assert len(fg.ones((3, 2))) == 3
    with pytest.raises(TypeError):
        len(fg.tensor(1.0))
    assert float(fg.tensor([2.5])) == 2.5
    assert int(fg.tensor([7])) == 7
    assert [1, 2, 3][fg.tensor(1)] == 2
    assert [x.item() for x in fg.tensor([4, 5])] == [4, 5]


def test_setitem():
    t = fg.zeros((3, 4))
    t[1] = 5.0
    t[:, 0] = fg.tensor([1.0, 2.0, 3.0])
    t[2, 1:3] = np.array([7.0, 8.0])
    t[[0, 2], 3] = 9.0
    want = np.zeros((3, 4), np.float32)
    want[1] = 5
    want[:, 0] = [1, 2, 3]
    want[2, 1:3] = [7, 8]
    want[[0, 2], 3] = 9
    np.testing.assert_array_equal(t.numpy(), want)
    m = fg.tensor(np.arange(6.0).reshape(2, 3))
    m[m > 2] = 0.0
    np.testing.assert_array_equal(m.numpy(), [[0, 1, 2], [0, 0, 0]])


def test_repr():
    r = repr(fg.tensor([[1.0, 2.0]], requires_grad=True))
    assert r.startswith("Tensor(") and "float32" in r and "requires_grad=True" in r
    assert "grad_fn=multiply" in repr(fg.tensor([1.0], requires_grad=True) * 2)
    assert "..." in repr(fg.zeros((100, 100)))


def test_random_is_seeded_and_thread_count_independent(threads):
    fg.random.seed(123)
    a = fg.random.normal((1000,)).numpy()
    fg.random.seed(123)
    b = fg.random.normal((1000,)).numpy()
    np.testing.assert_array_equal(a, b)
    c = fg.random.normal((1000,)).numpy()
    assert not np.array_equal(a, c)
    big = fg.random.uniform((200_000,), -2, 3, seed=5).numpy()
    assert big.min() >= -2 and big.max() < 3 and abs(big.mean() - 0.5) < 0.02
    n = fg.random.normal((200_000,), mean=1.0, stddev=2.0, seed=5).numpy()
    assert abs(n.mean() - 1.0) < 0.03 and abs(n.std() - 2.0) < 0.03
    tn = fg.random.truncated_normal((200_000,), stddev=1.0, seed=5).numpy()
    assert np.abs(tn).max() <= 2.0
    fg.set_num_threads(1)
    one = fg.random.normal((200_000,), seed=9).numpy()
    fg.set_num_threads(2)
    two = fg.random.normal((200_000,), seed=9).numpy()
    np.testing.assert_array_equal(one, two)
    r = fg.random.randint((10_000,), 3, 7, seed=1).numpy()
    assert r.min() == 3 and r.max() == 6
    s = fg.random.shuffle(ops.arange(10), seed=3).numpy()
    assert sorted(s.tolist()) == list(range(10))


def test_threads_setting():
    before = fg.get_num_threads()
    fg.set_num_threads(1)
    assert fg.get_num_threads() == 1
    fg.set_num_threads(before)
    with pytest.raises(ValueError):
        fg.set_num_threads(0)


def test_float64_precision_kept():
    x = fg.tensor(np.array([1e-10, 1.0], dtype=np.float64))
    np.testing.assert_allclose(ops.log1p(x).numpy(), np.log1p(np.array([1e-10, 1.0])), rtol=1e-15)
