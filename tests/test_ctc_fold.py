"""ops.unfold / ops.fold and ops.ctc_loss / ops.ctc_decode: against Keras 3 on PyTorch (fixture
from tests/fixtures/capture_ctc_fold.py), adjointness and gradient checks, and argument errors."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import capture_ctc_fold as cap  # noqa: E402
from conftest import gradcheck  # noqa: E402

FIX = json.loads((Path(__file__).parent / "fixtures" / "keras_ctc_fold.json").read_text())
D = cap.inputs()


@pytest.mark.parametrize("i", range(len(cap.UNFOLD)))
def test_unfold_and_fold_match_keras(i):
    c = cap.UNFOLD[i]
    u = ops.unfold(D["image"], **c)
    np.testing.assert_allclose(u.numpy(), np.asarray(FIX["unfold"][i]), atol=1e-6)
    f = ops.fold(u, output_size=(7, 8), **c)
    np.testing.assert_allclose(f.numpy(), np.asarray(FIX["fold"][i]), atol=1e-5)
    assert ops.nn.unfold is ops.unfold and ops.nn.fold is ops.fold


def test_fold_is_the_adjoint_of_unfold_and_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 6))
    c = dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 1), stride=(1, 2))
    u = ops.unfold(x, **c).numpy()
    y = rng.standard_normal(u.shape)
    # <unfold(x), y> == <x, fold(y)>
    lhs = float((u * y).sum())
    rhs = float((x * ops.fold(y, output_size=(5, 6), **c).numpy()).sum())
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))
    gradcheck(lambda t: ops.unfold(t, **c), x)
    gradcheck(lambda t: ops.fold(t, output_size=(5, 6), **c), y)


def test_ctc_loss_and_gradient_match_keras():
    logits = fg.tensor(D["logits"], requires_grad=True)
    loss = ops.ctc_loss(D["target"], logits, D["target_length"], D["output_length"], mask_index=0)
    np.testing.assert_allclose(loss.numpy(), FIX["ctc_loss"], rtol=1e-5, atol=1e-4)
    (loss * fg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), np.asarray(FIX["ctc_grad"]), atol=1e-5)
    other = ops.nn.ctc_loss(np.array([[1, 2, 0], [3, 0, 0]], "int32"), D["logits"][:2], np.array([2, 1], "int32"),
                            np.array([9, 5], "int32"), mask_index=4)
    np.testing.assert_allclose(other.numpy(), FIX["ctc_loss_blank4"], rtol=1e-5, atol=1e-4)


def test_ctc_loss_edge_cases():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((2, 4, 3)).astype("float32")
    # three labels 1,1,1 need 5 steps (blanks between repeats): impossible in 4 -> inf
    loss = ops.ctc_loss(np.array([[1, 1, 1], [2, 0, 0]]), logits, np.array([3, 1]), np.array([4, 4]))
    assert np.isinf(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])
    # an empty target: the loss is minus the log-probability of all blanks
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    empty = ops.ctc_loss(np.zeros((2, 1)), logits, np.array([0, 0]), np.array([4, 2])).numpy()
    np.testing.assert_allclose(empty, [-lp[0, :, 0].sum(), -lp[1, :2, 0].sum()], rtol=1e-5)
    # a label array of width 0: every target is empty
    no_labels = ops.ctc_loss(np.zeros((2, 0)), logits, np.array([0, 0]), np.array([4, 2])).numpy()
    np.testing.assert_allclose(no_labels, empty, rtol=1e-6)
    gradcheck(lambda t: ops.ctc_loss(np.array([[1, 2]]), t, np.array([2]), np.array([4])),
              rng.standard_normal((1, 4, 3)))


@pytest.mark.parametrize("key, kwargs", [("decode", {}), ("decode_nomerge", dict(merge_repeated=False,
                                                                                   mask_index=2))])
def test_ctc_greedy_decode_matches_keras(key, kwargs):
    dec, scores = ops.ctc_decode(D["logits"], D["output_length"], strategy="greedy", **kwargs)
    np.testing.assert_array_equal(dec.numpy(), np.asarray(FIX[key][0]))
    np.testing.assert_allclose(scores.numpy(), np.asarray(FIX[key][1]), rtol=1e-5)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: ops.unfold(np.ones((2, 3, 4)), 2), ValueError, "4D"),
    (lambda: ops.unfold(np.ones((1, 1, 4, 4)), 5), ValueError, "does not fit"),
    (lambda: ops.unfold(np.ones((1, 1, 4, 4)), 2, stride=0), ValueError, "stride"),
    (lambda: ops.fold(np.ones((1, 4, 4)), (4, 4), 2, stride=1), ValueError, "9 blocks"),
    (lambda: ops.fold(np.ones((1, 5, 4)), (4, 4), 2, stride=2), ValueError, "multiple"),
    (lambda: ops.ctc_loss(np.ones((2, 2)), np.ones((2, 3)), [1, 1], [3, 3]), ValueError, "classes"),
    (lambda: ops.ctc_loss(np.ones((2, 2)), np.ones((2, 3, 4)), [1, 3], [3, 3]), ValueError, "out of range"),
    (lambda: ops.ctc_loss(np.full((1, 2), 7), np.ones((1, 3, 4)), [2], [3]), ValueError, "labels"),
    (lambda: ops.ctc_loss(np.ones((1, 2)), np.ones((1, 3, 4)), [2], [3], mask_index=9), ValueError,
     "mask_index"),
    (lambda: ops.ctc_decode(np.ones((1, 3, 4)), [3], strategy="beam_search"), NotImplementedError, "beam_search"),
    (lambda: ops.ctc_decode(np.ones((1, 3, 4)), [3], strategy="best"), ValueError, "strategy"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
