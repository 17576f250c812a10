"""Losses against PyTorch (values and gradients) and Keras semantics (reductions, ids)."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import losses, ops

rng = np.random.default_rng(5)


def test_fused_softmax_cross_entropy_gradcheck():
    logits = rng.standard_normal((4, 5))
    labels = fg.tensor(np.array([0, 4, 2, 2]))
    gradcheck(lambda x: fg._core.softmax_cross_entropy(x, labels, True), logits)
    target = rng.uniform(0, 1, (4, 5))
    target /= target.sum(-1, keepdims=True)
    gradcheck(lambda x: fg._core.softmax_cross_entropy(x, fg.tensor(target), False), logits)
    gradcheck(lambda t: fg._core.softmax_cross_entropy(fg.tensor(logits), t, False), target)
    gradcheck(lambda x: losses.sparse_categorical_crossentropy(fg.tensor(np.array([[1, 0], [2, 2]])), x,
                                                               from_logits=True), rng.standard_normal((2, 2, 3)))


def test_against_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.standard_normal((16, 10)).astype(np.float32) * 3
    y = rng.integers(0, 10, 16)
    onehot = np.eye(10, dtype=np.float32)[y]
    probs = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    bin_t = rng.integers(0, 2, (16, 10)).astype(np.float32)
    cases = [
        ("scce_logits", lambda p: losses.SparseCategoricalCrossentropy(from_logits=True)(y, p),
         lambda p: tf.cross_entropy(p, torch.from_numpy(y)), x),
        ("cce_logits", lambda p: losses.CategoricalCrossentropy(from_logits=True)(onehot, p),
         lambda p: tf.cross_entropy(p, torch.from_numpy(onehot)), x),
        ("cce_smooth", lambda p: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(onehot, p),
         lambda p: tf.cross_entropy(p, torch.from_numpy(onehot), label_smoothing=0.1), x),
        ("scce_probs", lambda p: losses.SparseCategoricalCrossentropy()(y, p),
         # Keras renormalises probabilities before the log (so the gradient has a 1/sum term)
         lambda p: tf.nll_loss(torch.log(p / p.sum(-1, keepdim=True)), torch.from_numpy(y)), probs),
        ("bce_logits", lambda p: losses.BinaryCrossentropy(from_logits=True)(bin_t, p),
         lambda p: tf.binary_cross_entropy_with_logits(p, torch.from_numpy(bin_t)), x),
        ("bce_probs", lambda p: losses.BinaryCrossentropy()(bin_t, ops.sigmoid(p)),
         lambda p: tf.binary_cross_entropy(torch.sigmoid(p), torch.from_numpy(bin_t)), x),
        ("mse", lambda p: losses.MeanSquaredError()(onehot, p), lambda p: tf.mse_loss(p, torch.from_numpy(onehot)), x),
        ("mae", lambda p: losses.MeanAbsoluteError()(onehot, p), lambda p: tf.l1_loss(p, torch.from_numpy(onehot)), x),
        ("huber", lambda p: losses.Huber(delta=1.0)(onehot, p),
         lambda p: tf.huber_loss(p, torch.from_numpy(onehot), delta=1.0), x),
    ]
    for name, ours, theirs, inp in cases:
        a = fg.tensor(inp, requires_grad=True)
        la = ours(a)
        la.backward()
        b = torch.tensor(inp, requires_grad=True)
        lb = theirs(b)
        lb.backward()
        np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


def test_reductions_and_sample_weight():
    yt = np.array([[0.0], [1.0], [2.0]])
    yp = np.array([[1.0], [1.0], [4.0]])
    per = losses.MeanSquaredError(reduction="none")(yt, yp).numpy()
    np.testing.assert_allclose(per, [1.0, 0.0, 4.0])
    assert losses.MeanSquaredError(reduction="sum")(yt, yp).item() == pytest.approx(5.0)
    assert losses.MeanSquaredError()(yt, yp).item() == pytest.approx(5.0 / 3)
    w = np.array([2.0, 1.0, 0.0])
    assert losses.MeanSquaredError()(yt, yp, sample_weight=w).item() == pytest.approx(2.0 / 3)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_extreme_logits_are_stable():
    x = fg.tensor(np.array([[1000.0, -1000.0, 0.0]], dtype=np.float32), requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([1]), x)
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2000.0)
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()
    b = losses.BinaryCrossentropy(from_logits=True)(np.array([[0.0, 1.0]]), np.array([[500.0, -500.0]]))
    assert b.item() == pytest.approx(500.0)


def test_ignore_class_and_label_shapes():
    x = rng.standard_normal((4, 3)).astype(np.float32)
    full = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(np.array([[0], [1], [2], [1]]), x)
    ign = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1, reduction="none")(
        np.array([0, 1, 2, 1]), x)
    np.testing.assert_allclose(ign.numpy(), full.numpy() * np.array([1, 0, 1, 0]), rtol=1e-6)


def test_identifiers_and_errors():
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(losses.get("SparseCategoricalCrossentropy"), losses.SparseCategoricalCrossentropy)
    with pytest.raises(ValueError, match="Could not interpret loss"):
        losses.get("categorical_crossentropyy")
    with pytest.raises(IndexError, match="out of range"):
        losses.sparse_categorical_crossentropy(np.array([3]), np.zeros((1, 3), np.float32), from_logits=True)
    with pytest.raises(ValueError, match="do not match"):
        fg._core.softmax_cross_entropy(fg.zeros((2, 3)), fg.tensor([0, 1, 2]), True)

