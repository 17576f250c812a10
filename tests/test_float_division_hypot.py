"""Float floor_divide / mod follow NumPy's remainder-based rule, and hypot is C's hypot.

Both were found by the API fuzzer's NumPy oracle (long run, seed 2612): ``floor_divide(-1.0, inf)``
gave -0.0 (NumPy: -1.0) and ``hypot(nan, inf)`` gave nan (NumPy: inf)."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

inf, nan = np.inf, np.nan
AWKWARD = np.array([0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 0.3, 7.5, -7.5, 1e30, -1e-30, 3.0, inf, -inf, nan])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["floor_divide", "mod", "hypot"])
def test_every_pair_of_awkward_values_matches_numpy(name, dtype):
    a, b = np.meshgrid(AWKWARD.astype(dtype), AWKWARD.astype(dtype), indexing="ij")
    with np.errstate(all="ignore"):
        want = {"floor_divide": np.floor_divide, "mod": np.mod, "hypot": np.hypot}[name](a, b)
    got = getattr(ops, name)(fg.tensor(a), fg.tensor(b)).numpy()
    assert got.dtype == want.dtype
    if name == "hypot":  # libm's hypot and glibc's (NumPy's) may differ in the last place
        np.testing.assert_allclose(got, want, rtol=2 * np.finfo(dtype).eps, atol=0)
    else:
        np.testing.assert_array_equal(got, want)  # NaN where NumPy has NaN, same values elsewhere
    zero = want == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))  # and the sign of zeros


def test_cases_found_and_classic_rounding():
    assert ops.floor_divide(fg.tensor(np.float32(-1.0)), fg.tensor(np.float32(inf))).numpy() == -1.0
    assert ops.hypot(fg.tensor(np.float32(nan)), fg.tensor(np.float32(inf))).numpy() == inf
    assert ops.floor_divide(fg.tensor(1.0), fg.tensor(0.1)).numpy() == 9.0  # 1 // 0.1 == 9.0 in Python
    assert ops.hypot(fg.tensor(np.float32(3e30)), fg.tensor(np.float32(4e30))).numpy() == np.float32(5e30)
    assert ops.hypot(fg.tensor(np.float32(3e-30)), fg.tensor(np.float32(4e-30))).numpy() == np.float32(5e-30)


def test_hypot_integers_promote_and_broadcast():
    out = ops.hypot(fg.tensor(np.array([3, 5], "int32")), fg.tensor(np.array([[4], [12]], "int32")))
    assert out.dtype == "float32"
    np.testing.assert_allclose(out.numpy(), np.hypot([3, 5], [[4], [12]]), rtol=1e-6)


def test_hypot_gradient():
    rng = np.random.default_rng(0)
    gradcheck(ops.hypot, rng.normal(size=(3, 4)), rng.normal(size=(1, 4)))
    a = fg.tensor(np.zeros(3), requires_grad=True)
    b = fg.tensor(np.array([0.0, 3.0, -4.0]), requires_grad=True)
    ops.sum(ops.hypot(a, b)).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0, 0, 0])  # 0 at the origin, not NaN
    np.testing.assert_array_equal(b.grad.numpy(), [0, 1, -1])
