"""Finite-difference gradient checks (float64) for every differentiable op."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(42)


def away_from(v, lo=0.2):
    """Values with |v| >= lo (keeps kinks such as relu's or abs's out of the difference stencil)."""
    return np.where(np.abs(v) < lo, np.sign(v + 1e-12) * lo + v, v)


X = away_from(rng.standard_normal((3, 4)))
POS = rng.uniform(0.5, 2.0, (3, 4))

UNARY = [
    ("negative", ops.negative, X),
    ("abs", ops.abs, X),
    ("exp", ops.exp, X),
    ("log", ops.log, POS),
    ("log1p", ops.log1p, POS),
    ("expm1", ops.expm1, X),
    ("sqrt", ops.sqrt, POS),
    ("rsqrt", ops.rsqrt, POS),
    ("square", ops.square, X),
    ("reciprocal", ops.reciprocal, POS),
    ("sin", ops.sin, X),
    ("cos", ops.cos, X),
    ("tanh", ops.tanh, X),
    ("sigmoid", ops.sigmoid, X),
    ("relu", ops.relu, X),
    ("relu6", ops.relu6, X * 4),
    ("leaky_relu", lambda t: ops.leaky_relu(t, 0.1), X),
    ("elu", lambda t: ops.elu(t, 0.7), X),
    ("selu", ops.selu, X),
    ("gelu_exact", lambda t: ops.gelu(t, approximate=False), X),
    ("gelu_tanh", lambda t: ops.gelu(t, approximate=True), X),
    ("silu", ops.silu, X),
    ("softplus", ops.softplus, X * 3),
    ("softsign", ops.softsign, X),
    ("erf", ops.erf, X),
    ("clip", lambda t: ops.clip(t, -0.5, 0.5), X),
]


@pytest.mark.parametrize("name,fn,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fn, x):
    if name == "clip":
        x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x * 1.3, x)
    gradcheck(fn, x)


@pytest.mark.parametrize("fn", [ops.sign, ops.floor, ops.ceil, ops.round])
def test_piecewise_constant_ops_do_not_require_grad(fn):
    x = fg.tensor(X, requires_grad=True)
    assert not fn(x).requires_grad


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 1, 4), (5, 4)), ((4,), (2, 3, 4)), ((), (2, 3)), ((2, 1), (1, 3))]


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "minimum"])
def test_binary_broadcasting(op, sa, sb):
    a = away_from(rng.standard_normal(sa))
    b = away_from(rng.standard_normal(sb)) + (0.05 if op in ("maximum", "minimum") else 0.0)
    gradcheck(getattr(ops, op), a, b)


def test_power_and_mod():
    a = rng.uniform(0.5, 2.0, (3, 4))
    b = rng.uniform(-1.5, 1.5, (4,))
    gradcheck(ops.power, a, b)
    gradcheck(lambda t: t ** 3.0, X)
    gradcheck(lambda t: 2.0 ** t, X)
    m = rng.uniform(0.1, 0.9, (3, 4)) + np.arange(4)  # away from multiples of the divisor
    gradcheck(ops.mod, m, np.full((4,), 1.0) * 1.0 + 0.0)


def test_where():
    c = rng.standard_normal((3, 4)) > 0
    gradcheck(lambda a, b: ops.where(fg.tensor(c), a, b), X, rng.standard_normal((4,)))


AXES = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2)]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp"])
def test_reductions(name, axis, keepdims):
    x = rng.permutation(24).reshape(2, 3, 4) * 0.1 + 0.3  # distinct values: max/min are unique
    fn = getattr(ops, name)
    gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)


def test_max_gradient_split_between_ties():
    x = fg.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    ops.max(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5, 0])


def test_prod_gradient_with_zero():
    gradcheck(lambda t: ops.prod(t, axis=1), np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [1.0, 2.0, -1.0]]))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family(axis):
    x = rng.standard_normal((3, 4, 5))
    gradcheck(lambda t: ops.softmax(t, axis=axis), x)
    gradcheck(lambda t: ops.log_softmax(t, axis=axis), x)


def test_cumsum():
    x = rng.standard_normal((3, 4))
    gradcheck(lambda t: ops.cumsum(t, axis=0), x)
    gradcheck(lambda t: ops.cumsum(t, axis=1), x)
    gradcheck(lambda t: ops.cumsum(t), x)


def test_shape_ops():
    x = rng.standard_normal((2, 3, 4))
    gradcheck(lambda t: ops.reshape(t, (4, -1)), x)
    gradcheck(lambda t: ops.reshape(ops.transpose(t, (2, 0, 1)), (4, 6)), x)  # reshape of a non-contiguous view
    gradcheck(lambda t: ops.transpose(t), x)
    gradcheck(lambda t: ops.expand_dims(t, 1), x)
    gradcheck(lambda t: ops.squeeze(ops.expand_dims(t, 0), 0), x)
    gradcheck(lambda t: ops.broadcast_to(t[:, :1, :], (2, 5, 4)), x)
    gradcheck(lambda t: ops.flip(t, axis=(0, 2)), x)
    gradcheck(lambda t: ops.tile(t, (2, 1, 3)), x)
    gradcheck(lambda t: ops.repeat(t, 2, axis=1), x)
    gradcheck(lambda t: ops.repeat(t, [1, 0, 2], axis=1), x)
    gradcheck(lambda t: ops.pad(t, ((1, 0), (0, 2), (1, 1))), x)
    gradcheck(lambda t: ops.pad(t, ((1, 1), (2, 1), (0, 3)), mode="reflect"), x)
    gradcheck(lambda t: ops.pad(t, ((1, 1), (2, 1), (0, 3)), mode="symmetric"), x)
    gradcheck(lambda t: ops.swapaxes(t, 0, 2), x)
    gradcheck(lambda t: ops.moveaxis(t, 0, -1), x)


def test_concatenate_stack_split():
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 5))
    gradcheck(lambda s, t: ops.concatenate([s, t], axis=1), a, b)
    gradcheck(lambda s, t: ops.stack([s, t], axis=1), a, a * 2)
    gradcheck(lambda t: ops.split(t, [1, 3], axis=1)[1] * 3.0, b)
    gradcheck(lambda t: ops.concatenate(ops.split(t, 5, axis=1)[::-1], axis=0), b)


def test_gathers():
    x = rng.standard_normal((5, 3))
    idx = fg.tensor(np.array([4, 0, 4, 2]))
    gradcheck(lambda t: ops.take(t, idx, axis=0), x)  # repeated index accumulates
    gradcheck(lambda t: ops.take(t, fg.tensor(np.array([[2, 1], [0, 2]])), axis=1), x)
    gradcheck(lambda t: ops.take(t, fg.tensor(np.array([14, 0, -1]))), x)
    ia = fg.tensor(np.array([[0], [2], [1], [1], [0]]))
    gradcheck(lambda t: ops.take_along_axis(t, ia, axis=1), x)
    gradcheck(lambda t: ops.take_along_axis(t, fg.tensor(np.array([[4, 0, 1]])), axis=0), x)


def test_indexing():
    x = rng.standard_normal((4, 5, 3))
    gradcheck(lambda t: t[1], x)
    gradcheck(lambda t: t[1:3, ::2], x)
    gradcheck(lambda t: t[::-1, -2, None, 1:], x)
    gradcheck(lambda t: t[..., 0], x)
    gradcheck(lambda t: t[[3, 0, 3]], x)
    gradcheck(lambda t: t[:, [1, 4]], x)
    gradcheck(lambda t: t[fg.tensor(np.array([True, False, True, True]))], x)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)),
                                   ((3, 4), (4,)), ((4,), (4,)), ((1, 3, 4), (2, 4, 5))])
def test_matmul(sa, sb):
    gradcheck(ops.matmul, rng.standard_normal(sa), rng.standard_normal(sb))


def test_matmul_transposed_views():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    gradcheck(lambda s, t: ops.matmul(s.T, t.T), a, b)


def test_matmul_shared_matrix_gradient_folds_the_batch():
    # x (..., K) @ W (K, N): W's gradient is one GEMM over all leading rows; check it on a permuted
    # (non-contiguous) batch, a 4-D batch, and against NumPy on empty extents.
    a, w = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 5))
    gradcheck(lambda s, t: ops.matmul(ops.transpose(s, (1, 2, 0)), t), a, w)
    gradcheck(ops.matmul, rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((4, 3)))
    for sa, sb in [((2, 0, 4), (4, 3)), ((2, 3, 0), (0, 3)), ((2, 3, 4), (4, 0))]:
        x = fg.tensor(rng.standard_normal(sa), requires_grad=True)
        k = fg.tensor(rng.standard_normal(sb), requires_grad=True)
        ops.matmul(x, k).sum().backward()
        assert k.grad.shape == sb and np.all(k.grad.numpy() == 0)
        assert x.grad.shape == sa and np.all(x.grad.numpy() == 0)


def test_cast_between_floats_is_differentiable():
    x = fg.tensor(X, requires_grad=True)
    y = ops.cast(x, "float32").sum()
    y.backward()
    assert x.grad.dtype == "float64"
    np.testing.assert_allclose(x.grad.numpy(), np.ones_like(X))
