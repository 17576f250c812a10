"""keras.ops control flow (cond, switch, while_loop, fori_loop, scan, map, associative_scan,
vectorized_map) and in_top_k: Keras 3's documented examples and semantics, gradients through the
branch taken and through every loop step, symbolic use inside a layer, and errors."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers, ops


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def test_cond_and_switch():
    x = keras.tensor([1.0, -2.0])
    assert _np(ops.cond(ops.sum(x) > 0, lambda: x * 2, lambda: x - 1)).tolist() == [0.0, -3.0]
    assert _np(ops.cond(True, lambda: x * 2, lambda: x - 1)).tolist() == [2.0, -4.0]
    branches = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b]
    a, b = keras.tensor(3.0), keras.tensor(4.0)
    assert [float(_np(ops.switch(i, branches, a, b))) for i in (-5, 0, 1, 2, 9)] == [7.0, 7.0, 12.0, -1.0, -1.0]
    assert float(_np(ops.switch(keras.tensor(1), branches, a, b))) == 12.0
    with pytest.raises(ValueError, match="scalar"):
        ops.cond(keras.tensor([True, False]), lambda: 1, lambda: 2)
    with pytest.raises(TypeError, match="callables"):
        ops.cond(True, 1, 2)
    with pytest.raises(ValueError, match="non-empty"):
        ops.switch(0, [], a)


def test_while_and_fori_loops_follow_the_keras_docstrings():
    assert int(_np(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0))) == 10
    x, y = ops.while_loop(lambda x, y: x < 10, lambda x, y: (x + 1, y + 1), (0, 1))
    assert (int(_np(x)), int(_np(y))) == (10, 11)
    assert int(_np(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0, maximum_iterations=4))) == 4
    out = ops.while_loop(lambda v: ops.sum(v) < 100, lambda v: v * 2, [keras.tensor([1.0, 2.0])])
    assert isinstance(out, tuple) and _np(out[0]).tolist() == [64.0, 128.0]
    assert ops.fori_loop(0, 10, lambda i, s: s + i, 0) == 45
    with pytest.raises(ValueError, match="maximum_iterations"):
        ops.while_loop(lambda i: i < 3, lambda i: i + 1, 0, maximum_iterations=-1)


def test_scan_matches_a_python_loop_and_jax_semantics():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5, 3)).astype("float32")

    def f(c, x):
        c = c * 0.5 + x
        return c, ops.sum(c)

    carry, ys = ops.scan(f, keras.tensor(np.zeros(3, "float32")), keras.tensor(xs))
    c, want = np.zeros(3, "float32"), []
    for x in xs:
        c = c * 0.5 + x
        want.append(c.sum())
    np.testing.assert_allclose(_np(carry), c, rtol=1e-6)
    np.testing.assert_allclose(_np(ys), want, rtol=1e-5)
    carry, ys = ops.scan(f, keras.tensor(np.zeros(3, "float32")), keras.tensor(xs), reverse=True)
    c, want = np.zeros(3, "float32"), []
    for x in xs[::-1]:
        c = c * 0.5 + x
        want.append(c.sum())
    np.testing.assert_allclose(_np(ys), want[::-1], rtol=1e-5)  # ys keep the order of xs
    # no xs: `length` steps with x = None; y None -> zeros of the carry's shapes
    carry, ys = ops.scan(lambda c, x: (c + 1, None), keras.tensor([0.0, 0.0]), length=4)
    assert _np(carry).tolist() == [4.0, 4.0] and _np(ys).shape == (4, 2)
    # nested carry and xs
    carry, ys = ops.scan(lambda c, x: ((c[0] + x["a"], c[1] * 2), {"s": x["a"] + x["b"]}), (0.0, 1.0),
                         {"a": keras.tensor([1.0, 2.0, 3.0]), "b": keras.tensor([10.0, 20.0, 30.0])})
    assert float(_np(carry[0])) == 6.0 and float(_np(carry[1])) == 8.0
    assert _np(ys["s"]).tolist() == [11.0, 22.0, 33.0]
    with pytest.raises(ValueError, match="length"):
        ops.scan(f, 0.0)
    with pytest.raises(ValueError, match="unroll"):
        ops.scan(f, 0.0, keras.tensor(xs), unroll=0)


def test_map_and_vectorized_map():
    xs = keras.tensor(np.arange(12, dtype="float32").reshape(4, 3))
    np.testing.assert_allclose(_np(ops.map(lambda r: ops.sum(r * r), xs)), (np.arange(12).reshape(4, 3) ** 2).sum(1))
    got = ops.vectorized_map(lambda r: r[::-1], xs)
    np.testing.assert_array_equal(_np(got), np.arange(12, dtype="float32").reshape(4, 3)[:, ::-1])
    got = ops.map(lambda d: d["x"] + d["y"], {"x": xs, "y": xs})
    np.testing.assert_array_equal(_np(got), 2 * np.arange(12, dtype="float32").reshape(4, 3))


def test_associative_scan_is_an_inclusive_scan():
    e = np.arange(1, 13, dtype="float32").reshape(3, 4)
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a + b, keras.tensor(e))), np.cumsum(e, 0))
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a + b, keras.tensor(e), axis=1)),
                               np.cumsum(e, 1))
    np.testing.assert_allclose(_np(ops.associative_scan(lambda a, b: a * b, keras.tensor(e), reverse=True, axis=1)),
                               np.cumprod(e[:, ::-1], 1)[:, ::-1], rtol=1e-6)
    got = ops.associative_scan(lambda a, b: (ops.maximum(a[0], b[0]), a[1] + b[1]),
                               (keras.tensor([3.0, 1.0, 4.0, 1.0, 5.0]), keras.tensor([1.0, 1.0, 1.0, 1.0, 1.0])))
    assert _np(got[0]).tolist() == [3.0, 3.0, 4.0, 4.0, 5.0] and _np(got[1]).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="same first dimension"):
        ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] + b[1]), (keras.tensor([1.0, 2.0]), keras.tensor([1.0])))


def _finite_difference(fn, x, eps=1e-3):
    g = np.zeros_like(x)
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        g.flat[i] = (fn(x + d) - fn(x - d)) / (2 * eps)
    return g


def test_gradients_flow_through_loops_and_the_branch_taken():
    x0 = np.array([0.3, -0.7, 1.1])

    def loss(xv, backward=False):
        x = keras.tensor(xv.astype("float64"))
        if backward:
            x.requires_grad = True
        _, ys = ops.scan(lambda c, r: (ops.tanh(c * r + r), ops.sum(c * c)), x, keras.tensor(
            np.array([[0.5, 1.0, -1.0], [2.0, 0.1, 0.3]])))
        (v,) = ops.while_loop(lambda v: ops.sum(ops.abs(v)) < 5.0, lambda v: v * 1.5, (ops.sum(ys) + x,))
        out = ops.cond(ops.sum(v) > 0, lambda: ops.sum(v * v), lambda: ops.sum(ops.exp(v)))
        if backward:
            out.backward()
            return x.grad.numpy()
        return float(out.numpy())

    np.testing.assert_allclose(loss(x0, backward=True), _finite_difference(loss, x0, 1e-6), rtol=1e-5, atol=1e-7)


def test_in_top_k_matches_keras():
    preds = keras.tensor([[0.1, 0.9, 0.5], [0.3, 0.3, 0.4], [0.8, 0.1, 0.1]])
    # the values Keras 3.15 (torch backend) printed for the same calls; ties with the k-th value count as in
    assert _np(ops.in_top_k(keras.tensor([2, 0, 1]), preds, 2)).tolist() == [True, True, True]
    assert _np(ops.in_top_k(keras.tensor([2, 0, 1]), preds, 1)).tolist() == [False, False, False]
    assert _np(ops.in_top_k(keras.tensor([1, 2, 0]), preds, 1)).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="k must be in"):
        ops.in_top_k(keras.tensor([0]), keras.tensor([[1.0, 2.0]]), 3)


class _Gate(layers.Layer):
    """A layer whose call uses cond, scan and while_loop: traced on symbolic inputs for its output
    shape, run eagerly on real ones."""

    def call(self, x):  # (B, T, C)
        _, ys = ops.scan(lambda c, xt: (c + xt, c + xt), ops.zeros_like(x[:, 0]), ops.transpose(x, (1, 0, 2)))
        y = ops.transpose(ys, (1, 0, 2))  # cumulative sum over time
        return ops.cond(ops.sum(x) >= 0, lambda: y, lambda: -y)


def test_control_flow_inside_a_layer_of_a_functional_model():
    inp = keras.Input((4, 3))
    out = _Gate()(inp)
    assert tuple(out.shape) == (None, 4, 3)
    model = keras.Model(inp, out)
    x = np.abs(np.random.default_rng(1).standard_normal((2, 4, 3))).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.cumsum(x, 1), rtol=1e-6)
    np.testing.assert_allclose(model.predict(-x, verbose=0), np.cumsum(x, 1), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="inside a custom layer"):
        ops.cond(ops.sum(inp) > 0, lambda: inp, lambda: inp)
    with pytest.raises(ValueError, match="same kind"):
        class Bad(layers.Layer):
            def call(self, x):
                return ops.cond(ops.sum(x) > 0, lambda: x, lambda: x[:, 0])
        Bad()(keras.Input((4, 3)))
