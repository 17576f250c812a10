"""keras.ops.vectorize against np.vectorize: broadcasting, gufunc signatures, excluded, gradients."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops


def test_keras_docstring_example():
    out = ops.vectorize(lambda a, b: a + b)([1, 2, 3, 4], 2)
    assert isinstance(out, fg.Tensor)
    np.testing.assert_array_equal(out.numpy(), [3, 4, 5, 6])


def test_scalar_function_broadcasts_like_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 1)), rng.normal(size=(4,))

    def f(x, y):
        return ops.where(x > y, x * y, x - y)

    want = np.vectorize(lambda x, y: x * y if x > y else x - y)(a, b)
    np.testing.assert_allclose(ops.vectorize(f)(a, b).numpy(), want)


def test_signature_matvec_and_several_outputs():
    rng = np.random.default_rng(1)
    m, x = rng.normal(size=(2, 5, 3, 4)), rng.normal(size=(5, 4))
    mv = ops.vectorize(ops.matmul, signature="(m,n),(n)->(m)")
    np.testing.assert_allclose(mv(m, x).numpy(), np.einsum("abmn,bn->abm", m, x))
    stats = ops.vectorize(lambda v: (ops.mean(v), ops.max(v)), signature="(n)->(),()")
    mean, mx = stats(m)
    np.testing.assert_allclose(mean.numpy(), m.mean(-1))
    np.testing.assert_allclose(mx.numpy(), m.max(-1))
    pair = ops.vectorize(lambda v: (v * 2, v + 1))(np.arange(3.0))
    assert isinstance(pair, tuple) and len(pair) == 2


def test_excluded_arguments_and_keywords_pass_unchanged():
    seen = []

    def f(x, table, scale=1.0):
        seen.append(type(table))
        return x * scale + len(table)

    v = ops.vectorize(f, excluded={1})
    np.testing.assert_array_equal(v(np.array([1.0, 2.0]), [7, 8, 9], scale=2.0).numpy(), [5.0, 7.0])
    assert seen == [list, list]


def test_gradient_flows_through_every_call():
    gradcheck(lambda a, b: ops.vectorize(lambda x, y: ops.sin(x) * y)(a, b),
              np.random.default_rng(2).normal(size=(2, 3)), np.random.default_rng(3).normal(size=(3,)))


@pytest.mark.parametrize("call,err,match", [
    (lambda: ops.vectorize(3), TypeError, "callable"),
    (lambda: ops.vectorize(ops.add, signature="(n)->(n"), ValueError, "gufunc signature"),
    (lambda: ops.vectorize(ops.add, excluded={1.5}), TypeError, "excluded"),
    (lambda: ops.vectorize(ops.matmul, signature="(m,n),(n)->(m)")(np.ones((3, 4)), np.ones(5)), ValueError,
     "core dimension 'n'"),
    (lambda: ops.vectorize(ops.add)(np.ones(3), np.ones(4)), ValueError, "do not broadcast"),
    (lambda: ops.vectorize(lambda v: v, signature="(n)->()")(np.ones((2, 3))), ValueError, "returned shape"),
    (lambda: ops.vectorize(ops.add, signature="(n),(n)->(n)")(np.ones(3)), TypeError, "takes 2"),
    (lambda: ops.vectorize(ops.negative)(np.ones((0, 2))), ValueError, "empty"),
    (lambda: ops.vectorize(ops.negative)(fg.Input((3,))), NotImplementedError, "symbolic"),
])
def test_errors_name_the_problem(call, err, match):
    with pytest.raises(err, match=match):
        call()
