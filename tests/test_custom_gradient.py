"""ops.custom_gradient: a Python backward rule on the Rust tape (Keras' documented example, gradient
reversal inside a trained model, several inputs, broadcasting and casting of returned gradients,
and errors raised by or about the user's function)."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, ops


@ops.custom_gradient
def log1pexp(x):
    e = ops.exp(x)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

    return ops.log(1 + e), grad


@ops.custom_gradient
def reverse_gradient(x, scale=1.0):
    return ops.copy(x), lambda g: ops.multiply(g, -scale)


def test_keras_doc_example_gives_the_stable_gradient():
    x = fg.tensor([0.0, 100.0, -3.0], requires_grad=True)
    y = log1pexp(x)
    assert y.grad_fn == "custom_gradient"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-np.array([0.0, 100.0, -3.0]))), rtol=1e-6)


def test_several_inputs_none_gradients_broadcast_and_cast():
    @ops.custom_gradient
    def f(a, b, c):
        def grad(g):
            return ops.multiply(g, 2.0), None, ops.sum(g)  # scalar for c: broadcast to c's shape
        return ops.add(ops.add(a, b), c), grad

    a = fg.tensor(np.ones((2, 3)), dtype="float32", requires_grad=True)
    b = fg.tensor(np.ones((2, 3)), dtype="float32", requires_grad=True)
    c = fg.tensor(np.ones((2, 3)), dtype="float64", requires_grad=True)
    f(a, b, c).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    assert b.grad is None
    assert c.grad.dtype == "float64" and np.array_equal(c.grad.numpy(), np.full((2, 3), 6.0))
    # non-tensor arguments get no gradient and pass through
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    (reverse_gradient(w, scale=0.5) * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [-1.5, -1.5])


def test_without_grad_mode_or_inputs_it_is_a_plain_call():
    with fg.no_grad():
        y = log1pexp(fg.tensor([1.0], requires_grad=True))
    assert y.grad_fn is None
    np.testing.assert_allclose(log1pexp(np.array([0.0], "float32")).numpy(), [np.log(2.0)], rtol=1e-6)


class GradientReversal(layers.Layer):
    def call(self, x):
        return reverse_gradient(x)


def test_gradient_reversal_layer_trains_and_flips_the_first_layer_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4)).astype("float32")
    first = layers.Dense(3, kernel_initializer="ones")
    head = layers.Dense(1, kernel_initializer="ones")
    for reverse, sign in ((False, 1.0), (True, -1.0)):
        for w in first.weights + head.weights:
            w.grad = None
        h = first(x)
        out = head(GradientReversal()(h) if reverse else h)
        (out * out).mean().backward()
        g = first.kernel.grad.numpy()
        if not reverse:
            base = g
        else:
            np.testing.assert_allclose(g, sign * base, rtol=1e-6)
    model = fg.Sequential([fg.Input((4,)), layers.Dense(3), GradientReversal(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(x, np.zeros((8, 1), "float32"), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


@pytest.mark.parametrize("fn, exc, match", [
    (lambda x: (x, lambda g: (g, g)), ValueError, "2 gradient"),
    (lambda x: (x, lambda g: ops.ones((5,))), ValueError, "shape"),
    (lambda x: (x, lambda g: 1 / 0), ValueError, "ZeroDivisionError"),
    (lambda x: (x, lambda g: "nope"), ValueError, "custom_gradient"),
])
def test_errors_in_the_gradient_function_are_clear(fn, exc, match):
    f = ops.custom_gradient(fn)
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = f(x)
    with pytest.raises(exc, match=match):
        y.sum().backward()


def test_bad_functions():
    with pytest.raises(ValueError, match="return \\(output, grad_fn\\)"):
        ops.custom_gradient(lambda x: x)(fg.tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="nested outputs"):
        ops.custom_gradient(lambda x: ((x, x), lambda g: g))(fg.tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="symbolic"):
        log1pexp(fg.Input((3,)))
    with pytest.raises(TypeError, match="function"):
        ops.custom_gradient(3)
