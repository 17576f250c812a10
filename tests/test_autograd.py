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
        (w * 1.0).assign(w - 0.1 * w.grad)  # a computed tensor: the write could not be differentiated
    with pytest.raises((RuntimeError, ValueError), match="in-place"):
        w[0] = 5.0  # item assignment keeps the tape rule; assign is Keras' variable write (next test)
    with fg.no_grad():
        w.assign_sub(w.grad * 0.5)
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])


def test_integer_and_bool_results_do_not_require_grad():
    x = fg.tensor([1.5, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not ops.argmax(x).requires_grad
    assert not ops.floor(x).requires_grad


# ---- in-place writes and the version counter ------------------------------------------------

def test_version_counts_in_place_writes_shared_by_views():
    t = fg.tensor([1.0, 2.0, 3.0, 4.0])
    v = t[1:3]
    d = t.detach()
    assert t._version == 0
    t.assign(fg.zeros((4,)))
    v[0] = 5.0
    d.assign_add(1.0)
    assert t._version == v._version == d._version == 3
    assert (t * 2)._version == 0 and t.clone()._version == 0


def test_writing_a_saved_input_fails_backward():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = fg.tensor([4.0, 5.0, 6.0])
    loss = (x * w).sum()
    w.assign(fg.zeros((3,)))  # w does not require grad: allowed, but multiply saved it
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    msg = str(e.value)
    for part in ("modified by an in-place operation", "input 1 of 'multiply'", "version 1", "version 0"):
        assert part in msg, msg
    assert x.grad is None  # checked before any gradient was accumulated


def test_assign_on_a_weight_is_a_keras_variable_write():
    w = fg.tensor([1.0, 2.0], requires_grad=True)  # a leaf, as every layer weight
    pending = (w * w).sum()
    assert w.assign([3.0, 4.0]) is w and w.requires_grad and w.grad_fn is None
    w.assign_add(1.0)
    w.assign_sub([0.5, 0.5])
    np.testing.assert_allclose(w.numpy(), [3.5, 4.5])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        pending.backward()  # the old values were saved: backward refuses instead of using the new ones
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [7.0, 9.0])
    computed = w * 2.0
    with pytest.raises(RuntimeError, match="in-place write to a tensor that requires grad"):
        computed.assign([0.0, 0.0])


def test_item_assignment_into_a_saved_output_fails_backward():
    x = fg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = ops.softmax(x)
    loss = (y * fg.tensor([1.0, 2.0, 3.0])).sum()
    with fg.no_grad():
        y[0] = 0.0
    with pytest.raises(RuntimeError, match=r"saved tensor 0 of 'softmax'.*version 1.*version 0"):
        loss.backward()


def test_writing_a_tensor_no_rule_reads_is_fine():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([3.0, 4.0])
    y = (x + b).reshape(1, 2)  # add and reshape read no values
    b.assign(fg.zeros((2,)))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    # After backward the graph is freed: writing x itself is the usual update.
    with fg.no_grad():
        x.assign_sub(x.grad)
    np.testing.assert_allclose(x.numpy(), [0.0, 1.0])


def test_optimizer_step_before_a_pending_backward_fails():
    w = fg.tensor([[0.5, -0.5], [0.25, 1.0]], requires_grad=True)
    x = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    pending = (x @ w).sum()
    other = (w * w).sum()
    other.backward()
    opt = fg.optimizers.SGD(learning_rate=0.1)
    opt.apply_gradients([(w.grad, w)])
    with pytest.raises(RuntimeError, match="input 1 of 'matmul'"):
        pending.backward()


def test_training_loop_with_in_place_updates_keeps_working():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = (x @ rng.standard_normal((5, 1))).astype(np.float32)
    model = fg.Sequential([fg.layers.Dense(8, activation="relu"), fg.layers.BatchNormalization(),
                           fg.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(hist.history["loss"]) == 3 and np.isfinite(hist.history["loss"]).all()
    assert all(v._version > 0 for v in model.trainable_weights)


def test_gradients_match_after_writes_to_unread_tensors():
    # The check is exact, not conservative: only what a rule reads is compared.
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    c = fg.tensor([3.0, 4.0])
    out = (a * c).sum() + (a - c).sum()
    with fg.no_grad():
        a.assign(fg.tensor([9.0, 9.0]))  # multiply reads c (for a's gradient), not a
    out.backward()
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 5.0])
