"""Shared test helpers: finite-difference gradient checks, data paths, optional torch."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import ferrograd as fg

REPO = pathlib.Path(__file__).resolve().parents[1]


def shared_data_dir():
    """``$FERROGRAD_DATA`` or ``<repo>/../shared/data``; None when absent."""
    env = os.environ.get("FERROGRAD_DATA")
    for cand in ([pathlib.Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture
def data_dir():
    d = shared_data_dir()
    if d is None:
        pytest.skip("shared data folder (../shared/data or $FERROGRAD_DATA) is absent")
    return d


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def threads():
    """Restores the thread count after a test that changes it."""
    before = fg.get_num_threads()
    yield
    fg.set_num_threads(before)


@pytest.fixture
def scalar_kernels():
    """Runs the test body twice is not possible; this fixture restores SIMD after forcing scalar."""
    yield
    fg._core._set_force_scalar(False)


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0):
    """Compares backward() against central finite differences in float64.

    ``fn`` maps tensors to a tensor; the scalar checked is ``sum(fn(*xs) * w)`` with fixed random
    weights ``w`` so that every output element gets a distinct upstream gradient.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64, order="C") for a in arrays]  # C order: reshape(-1) below is a view
    xs = [fg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    w = rng.standard_normal(out.shape)
    wt = fg.tensor(w)
    loss = (out * wt).sum()
    loss.backward()
    for i, a in enumerate(arrays):
        analytic = xs[i].grad
        assert analytic is not None, f"input {i} got no gradient"
        analytic = analytic.numpy()
        assert analytic.shape == a.shape
        numeric = np.zeros_like(a)
        flat = a.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            vals = []
            for d in (eps, -eps):
                flat[j] = orig + d
                with fg.no_grad():
                    args = [fg.tensor(arrays[k]) for k in range(len(arrays))]
                    vals.append(float((fn(*args) * wt).sum().item()))
            flat[j] = orig
            numeric.reshape(-1)[j] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, atol=atol, rtol=rtol, err_msg=f"gradient of input {i}")
