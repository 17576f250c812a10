"""ops.view: NumPy's ndarray.view on every pair of supported dtypes, memory shared with the
source, strided inputs, and the errors (sizes that do not divide, 0-d size changes, bool)."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

DTYPES = ["int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("src", DTYPES + ["bool"])
@pytest.mark.parametrize("dst", DTYPES)
def test_matches_numpy(src, dst):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 8)) * 100).astype(src) if src != "bool" else rng.random((3, 8)) > 0.5
    got = ops.view(fg.tensor(a), dst)
    want = a.view(dst)
    assert got.dtype == dst and tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy().view(np.uint8), want.view(np.uint8))
    assert ops.numpy.view is ops.view or ops.numpy.view(fg.tensor(a), dst).shape == got.shape


def test_shares_memory_and_handles_strided_inputs():
    x = fg.tensor(np.arange(4, dtype="int32"))
    v = ops.view(x, "float32")
    x.assign(np.full(4, 1065353216, "int32"))  # the bits of 1.0f
    np.testing.assert_array_equal(v.numpy(), np.ones(4, "float32"))
    t = fg.tensor(np.arange(12, dtype="float32").reshape(3, 4)).T
    np.testing.assert_array_equal(ops.view(t, "int32").numpy(), np.ascontiguousarray(t.numpy()).view("int32"))
    assert ops.view(x) is x or np.array_equal(ops.view(x).numpy(), x.numpy())


@pytest.mark.parametrize("x, dtype, match", [
    (np.arange(3, dtype="int32"), "int64", "divisor"),
    (np.int32(3), "int64", "0-d"),
    (np.arange(4, dtype="int32"), "bool", "bool"),
    (np.arange(4, dtype="int32"), "complex64", "complex64"),
])
def test_errors(x, dtype, match):
    with pytest.raises(ValueError, match=match):
        ops.view(fg.tensor(x), dtype)
