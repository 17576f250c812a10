"""The tape: accumulation, shared weights, graph freeing, grad modes, errors."""
import threading

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops


def test_grads_accumulate_across_backward_calls():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_shared_weight_used_many_times_sums_gradients():
    # An RNN-like chain: h = tanh(h @ w) repeated with the same w.
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 3)) * 0.5
    h0 = rng.standard_normal((2, 3))
    w = fg.tensor(w0, requires_grad=True)
    h = fg.tensor(h0)
    for _ in range(4):
        h = ops.tanh(h @ w)
    h.sum().backward()
    eps = 1e-6
    num = np.zeros_like(w0)
    for i in range(3):
        for j in range(3):
            vals = []
            for d in (eps, -eps):
                wp = w0.copy()
                wp[i, j] += d
                hh = h0
                for _ in range(4):
                    hh = np.tanh(hh @ wp)
                vals.append(hh.sum())
            num[i, j] = (vals[0] - vals[1]) / (2 * eps)
    np.testing.assert_allclose(w.grad.numpy(), num, rtol=1e-5, atol=1e-8)


def test_diamond_graph():
    x = fg.tensor([2.0], requires_grad=True, dtype="float64")
    a = x * x
    b = a + x
    c = a * b  # x^2 (x^2 + x) = x^4 + x^3
    c.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4 * 8 + 3 * 4])


def test_broadcast_gradients_reduce_to_input_shape():
    b = fg.tensor(np.zeros((1, 3)), requires_grad=True)
    x = fg.tensor(np.ones((4, 3)))
    (x + b).sum().backward()
    assert b.grad.shape == (1, 3)
    np.testing.assert_allclose(b.grad.numpy(), [[4.0, 4.0, 4.0]])


def test_graph_is_freed_after_backward_unless_retained():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_non_scalar_backward_needs_gradient():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(fg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(fg.tensor([1.0, 2.0, 3.0]))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fg.tensor([1.0]).sum().backward()


def test_no_grad_and_detach():
    x = fg.tensor([1.0], requires_grad=True)
    with fg.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    z = x.detach() * 2
    assert not z.requires_grad
    assert (x * 2).grad_fn == "multiply"

    @fg.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert fg.is_grad_enabled()


def test_no_grad_is_thread_local():
    x = fg.tensor([1.0], requires_grad=True)
    seen = {}

    def worker():
        seen["requires_grad"] = (x * 2).requires_grad

    with fg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["requires_grad"] is True


def test_requires_grad_rules():
    with pytest.raises(TypeError, match="floating-point"):
        fg.tensor([1, 2]).requires_grad = True
    x = fg.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    assert y.is_leaf is False and x.is_leaf is True


def test_in_place_update_rules():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="in-place"):
        w.assign(w - 0.1 * w.grad)
    with fg.no_grad():
        w.assign_sub(w.grad * 0.5)
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])


def test_integer_and_bool_results_do_not_require_grad():
    x = fg.tensor([1.5, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not ops.argmax(x).requires_grad
    assert not ops.floor(x).requires_grad


def test_gil_released_during_large_kernels():
    a = fg.random.normal((300, 300), seed=1)
    errors = []

    def work():
        try:
            for _ in range(3):
                ops.tanh(a @ a).sum()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
