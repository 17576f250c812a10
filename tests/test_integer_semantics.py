"""Integer arithmetic gives NumPy's defined results on edge values and never traps.

ferrograd's integer dtypes are int32 and int64. On MIN, MAX, 0, -1 and a few small values each op
is compared with NumPy: `+ - *`, `power`, sums, products and cumulative sums wrap modulo 2**bits;
`x // 0` and `x % 0` give 0 (NumPy adds a RuntimeWarning, ferrograd does not); `MIN // -1` wraps
to MIN and `MIN % -1` is 0; `negative(MIN)` and `abs(MIN)` wrap to MIN; an integer raised to a
negative integer power is a ValueError, as in NumPy.
"""
import warnings

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

DTYPES = ["int32", "int64"]


def edge_values(dtype):
    info = np.iinfo(dtype)
    return np.array([info.min, info.min + 1, -7, -1, 0, 1, 7, info.max - 1, info.max], dtype=dtype)


def pairs(dtype):
    """Every (a, b) pair of edge values, as two flat arrays."""
    v = edge_values(dtype)
    a, b = np.meshgrid(v, v, indexing="ij")
    return a.ravel(), b.ravel()


def numpy_result(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def check(got, want):
    got = np.asarray(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


BINARY = [
    ("add", np.add),
    ("subtract", np.subtract),
    ("multiply", np.multiply),
    ("floor_divide", np.floor_divide),
    ("mod", np.mod),
    ("maximum", np.maximum),
    ("minimum", np.minimum),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,np_fn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_edge_values_match_numpy(dtype, name, np_fn):
    a, b = pairs(dtype)
    got = getattr(ops, name)(fg.tensor(a), fg.tensor(b))
    check(got, numpy_result(np_fn, a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_operators_match_numpy(dtype):
    a, b = pairs(dtype)
    x, y = fg.tensor(a), fg.tensor(b)
    check(x // y, numpy_result(np.floor_divide, a, b))
    check(x % y, numpy_result(np.mod, a, b))
    check(x + y, a + b)
    check(x * y, a * b)
    check(x - y, a - b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_min_by_minus_one_and_by_zero(dtype):
    lo = int(np.iinfo(dtype).min)
    x = fg.tensor([lo, 5, -5, 0], dtype=dtype)
    assert (x // -1).numpy().tolist() == [lo, -5, 5, 0]
    assert (x % -1).numpy().tolist() == [0, 0, 0, 0]
    assert (x // 0).numpy().tolist() == [0, 0, 0, 0]
    assert (x % 0).numpy().tolist() == [0, 0, 0, 0]
    # A broadcast scalar divisor and a strided operand take the other kernel paths.
    big = fg.tensor(np.full((4, 64), lo, dtype=dtype))
    check(ops.floor_divide(big[:, ::2], -1), np.full((4, 32), lo, dtype=dtype))
    check(ops.mod(big.T, fg.tensor(np.full((4,), -1, dtype=dtype))), np.zeros((64, 4), dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_wraps_like_numpy(dtype):
    v = edge_values(dtype)
    x = fg.tensor(v)
    check(ops.negative(x), np.negative(v))
    check(-x, np.negative(v))
    check(ops.abs(x), np.abs(v))
    check(abs(x), np.abs(v))
    check(ops.square(x), np.square(v))


@pytest.mark.parametrize("dtype", DTYPES)
def test_power_wraps_over_the_whole_exponent(dtype):
    base = np.array([-1, -1, 2, 2, 3, 3, 0, 1, -2], dtype=dtype)
    big = int(np.iinfo(dtype).max)
    exp = np.array([big, big - 1, 70, 3, big, 0, 0, big, 63], dtype=dtype)
    check(ops.power(fg.tensor(base), fg.tensor(exp)), np.power(base, exp))
    check(fg.tensor(base) ** fg.tensor(exp), np.power(base, exp))


@pytest.mark.parametrize("dtype", DTYPES)
def test_negative_integer_power_is_a_value_error(dtype):
    with pytest.raises(ValueError, match="negative integer powers"):
        np.power(np.array([2], dtype=dtype), np.array([-1], dtype=dtype))
    with pytest.raises(ValueError, match="negative integer powers") as info:
        ops.power(fg.tensor([2, 3], dtype=dtype), fg.tensor([1, -1], dtype=dtype))
    assert "-1" in str(info.value) and dtype in str(info.value)
    with pytest.raises(ValueError, match="negative integer powers"):
        fg.tensor([2], dtype=dtype) ** -2
    # A float base is fine.
    assert ops.power(fg.tensor([2.0]), fg.tensor([-1])).numpy().tolist() == [0.5]


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_wrap(dtype):
    info = np.iinfo(dtype)
    v = np.array([info.max, 1, info.max, 3], dtype=dtype)
    x = fg.tensor(v)
    # NumPy widens int32 sums to int64; ferrograd keeps the input dtype, so compare in it.
    check(ops.sum(x), np.sum(v, dtype=dtype))
    check(ops.prod(x), np.prod(v, dtype=dtype))
    check(ops.cumsum(x), np.cumsum(v, dtype=dtype))
    check(ops.max(x), np.max(v))
    check(ops.min(fg.tensor(edge_values(dtype))), np.min(edge_values(dtype)))
    long = np.full(100_000, info.max, dtype=dtype)
    check(ops.sum(fg.tensor(long)), np.sum(long, dtype=dtype))


def test_bool_clip_uses_integer_bounds():
    got = ops.clip(fg.tensor([False, True]), -1, 1).numpy()
    assert got.tolist() == [0, 1]


@pytest.mark.parametrize("name,ref", [("add", np.add), ("multiply", np.multiply), ("maximum", np.maximum),
                                      ("minimum", np.minimum)])
def test_bool_arithmetic_stays_bool_as_numpy(name, ref):
    a = np.array([[True], [False]])
    b = np.array([True, False, True])
    got = getattr(ops, name)(fg.tensor(a), fg.tensor(b)).numpy()
    want = ref(a, b)
    assert got.dtype == want.dtype == np.bool_
    np.testing.assert_array_equal(got, want)
    assert (fg.tensor(a) + fg.tensor(b)).numpy().dtype == np.bool_


def test_bool_subtract_raises_and_bool_with_int_promotes():
    with pytest.raises(TypeError, match="subtract.*bool"):
        ops.subtract(fg.tensor([True]), fg.tensor([False]))
    got = ops.add(fg.tensor([True, False]), fg.tensor(np.array([1, 1], np.int32))).numpy()
    assert got.dtype == np.int32 and got.tolist() == [2, 1]
    with pytest.raises(ValueError, match="add"):
        ops.add(fg.tensor([True, False]), fg.tensor([True, False, True]))


EXTREMES = [None, -2**63, -2**63 + 1, -4, -1, 0, 1, 3, 4, 2**63 - 1]


@pytest.mark.parametrize("step", [-2**63, -2**63 + 1, -2, -1, 1, 2, 2**63 - 1])
def test_slices_with_extreme_bounds_match_python(step):
    data = [10, 11, 12, 13]
    x = fg.tensor(data)
    for start in EXTREMES:
        for stop in EXTREMES:
            want = data[start:stop:step]
            got = x[start:stop:step].numpy().tolist()
            assert got == want, (start, stop, step)


@pytest.mark.parametrize("index", [-2**63, -5, 4, 2**63 - 1])
def test_extreme_integer_indices_raise_index_error(index):
    x = fg.tensor([1, 2, 3, 4])
    with pytest.raises(IndexError, match="out of bounds"):
        x[index]
    with pytest.raises(IndexError, match="out of bounds"):
        ops.take(x, fg.tensor([index]))
    with pytest.raises(IndexError, match="out of bounds"):
        ops.take_along_axis(x, fg.tensor([index]), axis=0)


def test_uint64_in_range_converts_exactly():
    a = np.array([0, 2**63 - 1], dtype="uint64")
    assert fg.from_numpy(a).numpy().tolist() == [0, 2**63 - 1]
    assert fg.tensor(a).dtype == "int64"
    assert fg.from_numpy(np.array([2**64 - 1], dtype="uint64"), dtype="float64").numpy().tolist() == [2.0**64]
