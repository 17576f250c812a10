"""The fused layer / RMS normalization kernel (`_core.layer_norm`): values and gradients against
a float64 NumPy reference and torch.nn.functional.layer_norm, finite differences, thread and
SIMD invariance."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import _core


def _ref(x, gamma, beta, eps, rms):
    x = np.asarray(x, np.float64)
    if rms:
        y = x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps)
    else:
        mu = x.mean(-1, keepdims=True)
        y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


SHAPES = [(1,), (3, 1), (2, 3, 17), (67, 300), (4, 1000), (130, 257)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rms", [False, True])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values(shape, rms, affine, dtype):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape) * 3 + 1.5
    c = shape[-1]
    gamma = rng.standard_normal(c) if affine[0] else None
    beta = rng.standard_normal(c) if affine[1] else None
    out = _core.layer_norm(
        x.astype(dtype),
        None if gamma is None else gamma.astype(dtype),
        None if beta is None else beta.astype(dtype),
        1e-3,
        rms,
    )
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), _ref(x, gamma, beta, 1e-3, rms), **tol)


@pytest.mark.parametrize("rms", [False, True])
def test_finite_differences(rms):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5))
    gamma = rng.standard_normal(5)
    beta = rng.standard_normal(5)
    gradcheck(lambda a, g, b: _core.layer_norm(a, g, b, 1e-3, rms), x, gamma, beta, atol=1e-7, rtol=1e-6)
    gradcheck(lambda a: _core.layer_norm(a, None, None, 1e-5, rms), x, atol=1e-7, rtol=1e-6)


def test_matches_torch_layer_norm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 33, 96)).astype(np.float32)
    gamma = rng.standard_normal(96).astype(np.float32)
    beta = rng.standard_normal(96).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    tx, tg, tb = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, gamma, beta)]
    ty = torch.nn.functional.layer_norm(tx, (96,), tg, tb, eps=1e-5)
    ty.backward(torch.tensor(go, dtype=torch.float64))
    fx, fgm, fb = [fg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    y = _core.layer_norm(fx, fgm, fb, 1e-5)
    (y * fg.tensor(go)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fgm.grad.numpy(), tg.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(fb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-3)


def _all(rms, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((700, 300)).astype(np.float32)
    go = rng.standard_normal(x.shape).astype(np.float32)
    gamma, beta = (rng.standard_normal(300).astype(np.float32) for _ in range(2))
    fx, fgm, fb = [fg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    y = _core.layer_norm(fx, fgm, fb, 1e-3, rms)
    (y * fg.tensor(go)).sum().backward()
    return [y.numpy(), fx.grad.numpy(), fgm.grad.numpy(), fb.grad.numpy()]


@pytest.mark.parametrize("rms", [False, True])
def test_bit_identical_across_threads(rms, threads):
    runs = []
    for nt in (1, 2, 3):
        fg.set_num_threads(nt)
        runs.append(_all(rms))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)


def test_simd_matches_scalar(scalar_kernels):
    fast = _all(False)
    _core._set_force_scalar(True)
    slow = _all(False)
    _core._set_force_scalar(False)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="gamma"):
        _core.layer_norm(np.ones((2, 3), np.float32), np.ones(4, np.float32))
    with pytest.raises(TypeError, match="layer_norm"):
        _core.layer_norm(np.ones((2, 3), np.int32))
    with pytest.raises(ValueError, match="epsilon"):
        _core.layer_norm(np.ones((2, 3), np.float32), epsilon=-1.0)
