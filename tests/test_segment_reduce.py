"""keras.ops.segment_max / segment_min / segment_prod against Keras 3 on PyTorch (values printed by
Keras 3.15.1 in a side environment, below), PyTorch's scatter_reduce (values and gradients, ties
included), finite differences, awkward shapes and threads, and clear errors."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

try:
    import torch
except ImportError:  # pragma: no cover - CI has torch
    torch = None

D = np.array([[1., 5], [3, 0], [-1, 7], [4, 4]], np.float32)
IDS = np.array([0, 2, 0, 2])
INF = np.inf


def test_matches_keras_on_torch():
    # keras.ops.segment_*(D, IDS, num_segments=4) in Keras 3.15.1 (torch backend)
    np.testing.assert_array_equal(ops.segment_max(D, IDS, num_segments=4).numpy(),
                                  [[1, 7], [-INF, -INF], [4, 4], [-INF, -INF]])
    np.testing.assert_array_equal(ops.segment_min(D, IDS, num_segments=4).numpy(),
                                  [[-1, 5], [INF, INF], [3, 0], [INF, INF]])
    np.testing.assert_array_equal(ops.segment_prod(D, IDS, num_segments=4).numpy(),
                                  [[-1, 35], [1, 1], [12, 0], [1, 1]])
    # num_segments from the ids; ids out of range are dropped; int32 keeps its dtype (empty: int min)
    assert ops.segment_max(D, IDS).shape == (3, 2)
    np.testing.assert_array_equal(ops.segment_max(D, np.array([0, -1, 5, 1]), num_segments=2).numpy(),
                                  [[1, 5], [4, 4]])
    out = ops.segment_max(D.astype(np.int32), IDS, num_segments=3)
    assert out.dtype == "int32"
    np.testing.assert_array_equal(out.numpy(), [[1, 7], [-2**31, -2**31], [4, 4]])
    np.testing.assert_array_equal(ops.segment_min(D.astype(np.int64), IDS, num_segments=3).numpy()[1], [2**63 - 1] * 2)


def test_nan_propagates():
    d = np.array([[1.0], [np.nan], [2.0]], np.float32)
    out = ops.segment_max(d, np.array([0, 0, 1])).numpy()
    assert np.isnan(out[0, 0]) and out[1, 0] == 2


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("kind", ["amax", "amin", "prod"])
@pytest.mark.parametrize("rows,cols,segs", [(1, 1, 1), (17, 3, 5), (1000, 37, 13), (64, 2048, 4)])
def test_values_and_gradients_match_torch(kind, rows, cols, segs):
    rng = np.random.default_rng(rows + cols)
    x = rng.integers(-3, 4, size=(rows, cols)).astype(np.float32)  # small integers: many ties and zeros
    if kind == "prod":
        x = np.where(rng.random((rows, cols)) < 0.7, rng.uniform(0.5, 1.5, (rows, cols)), x).astype(np.float32)
    ids = rng.integers(0, segs, size=rows)
    f = {"amax": ops.segment_max, "amin": ops.segment_min, "prod": ops.segment_prod}[kind]
    fx = fg.tensor(x, requires_grad=True)
    y = f(fx, ids, num_segments=segs)
    tx = torch.tensor(x, requires_grad=True)
    base = torch.full((segs, cols), {"amax": -np.inf, "amin": np.inf, "prod": 1.0}[kind])
    ty = base.scatter_reduce(0, torch.tensor(ids)[:, None].expand(rows, cols), tx, kind, include_self=False)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5)
    g = rng.normal(size=(segs, cols)).astype(np.float32)
    seen = np.isfinite(ty.detach().numpy())  # torch's gradient of an untouched -inf slot is not meaningful
    g = np.where(seen, g, 0).astype(np.float32)
    y.backward(fg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("f", [ops.segment_max, ops.segment_min, ops.segment_prod])
def test_gradients_match_finite_differences(f):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 3))  # distinct values: max/min are differentiable there
    ids = np.array([1, 0, 1, 2, 0, 3, 4, 9])  # every segment used (an empty one is -inf); 9 is dropped
    x = np.concatenate([x, rng.normal(size=(1, 3))])
    gradcheck(lambda t: f(t, ids, num_segments=5), x)


def test_prod_gradient_is_exact_at_zeros():
    x = fg.tensor(np.array([[2.0], [0.0], [3.0], [0.0], [0.0], [5.0]]), requires_grad=True)
    ops.segment_prod(x, np.array([0, 0, 0, 1, 1, 2])).backward(fg.tensor(np.ones((3, 1))))
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [0, 6, 0, 0, 0, 1])


def test_threads_do_not_change_results():
    rng = np.random.default_rng(2)
    x = fg.tensor(rng.normal(size=(3000, 700)).astype(np.float32))
    ids = rng.integers(0, 50, size=3000)
    old = fg.get_num_threads()
    try:
        outs = []
        for n in (1, 2):
            fg.set_num_threads(n)
            outs.append([f(x, ids, num_segments=50).numpy() for f in (ops.segment_max, ops.segment_prod)])
    finally:
        fg.set_num_threads(old)
    for a, b in zip(*outs):
        assert np.array_equal(a, b, equal_nan=True)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="must hold integers"):
        ops.segment_max(D, np.array([0.0, 1, 0, 1]))
    with pytest.raises(ValueError, match="one id per row"):
        ops.segment_min(D, np.array([0, 1]))
    with pytest.raises(ValueError, match="num_segments"):
        ops.segment_prod(D, IDS, num_segments=-1)
    with pytest.raises(TypeError, match="must be numeric"):
        ops.segment_max(np.array([True, False]), np.array([0, 0]))
    with pytest.raises(TypeError, match="sorted"):
        ops.segment_max(D, IDS, sorted="yes")
