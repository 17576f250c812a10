"""SIMD and threaded kernels against the scalar reference: awkward shapes and strides, and
bit-identical results for 1 and 2 threads."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

SHAPES = [(1,), (3,), (17,), (1000,), (1031,), (3, 17), (17, 3, 5)]
UNARY = ["negative", "abs", "exp", "log", "log1p", "expm1", "sqrt", "square", "reciprocal", "sin", "cos", "tanh",
         "sigmoid", "relu", "relu6", "selu", "silu", "softplus", "softsign", "erf", "sign", "floor", "round"]


def bits(t):
    return t.numpy().view(np.uint32 if t.dtype == "float32" else np.uint64).copy()


def both_isas(fn):
    """fn() evaluated with SIMD kernels and with the scalar reference."""
    fg._core._set_force_scalar(False)
    simd = fn()
    fg._core._set_force_scalar(True)
    try:
        ref = fn()
    finally:
        fg._core._set_force_scalar(False)
    return simd, ref


def strided_variants(a):
    """Contiguous, transposed, negative-stride and step-2 views of the same data."""
    t = fg.tensor(a)
    yield "contig", t
    if a.ndim >= 2:
        yield "transposed", fg.tensor(np.ascontiguousarray(a.T)).T
    yield "reversed", fg.tensor(a[..., ::-1].copy())[..., ::-1]
    big = np.repeat(a, 2, axis=-1)
    yield "step2", fg.tensor(big)[..., ::2]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_simd_equals_scalar(name, shape):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(shape) * 4).astype(np.float32)
    if name in ("log", "sqrt", "log1p"):
        a = np.abs(a) + 0.01
    for label, t in strided_variants(a):
        simd, ref = both_isas(lambda: ops.negative(ops.negative(getattr(ops, name)(t))))
        assert np.array_equal(bits(simd), bits(ref)), f"{name} {label}"
        want = getattr(np, {"negative": "negative", "relu": "abs", "relu6": "abs", "selu": "abs", "silu": "abs",
                            "softplus": "abs", "softsign": "abs", "erf": "abs", "sigmoid": "abs",
                            "reciprocal": "reciprocal", "round": "round"}.get(name, name), None)
        if want is not None and name not in ("relu", "relu6", "selu", "silu", "softplus", "softsign", "erf",
                                             "sigmoid"):
            np.testing.assert_allclose(simd.numpy(), want(a.astype(np.float64)), rtol=3e-6, atol=1e-6,
                                       err_msg=f"{name} {label}")


@pytest.mark.parametrize("shape", [(1,), (3, 17), (1000,), (33, 65), (5, 7, 1001)])
def test_binary_and_reductions_simd_equals_scalar(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape[-1:]).astype(np.float32)
    for label, t in strided_variants(a):
        for fn in [lambda: t + b, lambda: t * t, lambda: ops.maximum(t, 0.1), lambda: t / (b + 3),
                   lambda: ops.sum(t, axis=-1), lambda: ops.sum(t, axis=0), lambda: ops.sum(t),
                   lambda: ops.max(t, axis=-1), lambda: ops.min(t), lambda: ops.prod(t * 0.5 + 1, axis=-1),
                   lambda: ops.softmax(t, axis=-1), lambda: ops.log_softmax(t, axis=0)]:
            simd, ref = both_isas(fn)
            assert np.array_equal(bits(simd), bits(ref)), label


def test_simd_isa_reported():
    assert fg._core.simd_isa() in ("avx2", "scalar")


LARGE = [
    ("add", lambda t, u: t + u),
    ("exp", lambda t, u: ops.exp(t)),
    ("tanh", lambda t, u: ops.tanh(t)),
    ("sum_all", lambda t, u: ops.sum(t)),
    ("sum_rows", lambda t, u: ops.sum(t, axis=-1)),
    ("sum_cols", lambda t, u: ops.sum(t, axis=0)),
    ("max_rows", lambda t, u: ops.max(t, axis=1)),
    ("mean_mid", lambda t, u: ops.mean(ops.reshape(t, (8, 64, -1)), axis=1)),
    ("softmax", lambda t, u: ops.softmax(t, axis=-1)),
    ("log_softmax_axis0", lambda t, u: ops.log_softmax(t, axis=0)),
    ("cumsum", lambda t, u: ops.cumsum(t, axis=1)),
    ("take", lambda t, u: ops.take(t, fg.tensor(np.arange(0, 512, 3)[::-1].copy()), axis=0)),
    ("transpose_copy", lambda t, u: ops.reshape(t.T, (-1,))),
    ("random", lambda t, u: fg.random.normal((300_000,), seed=7)),
]


@pytest.mark.parametrize("name,fn", LARGE, ids=[n for n, _ in LARGE])
def test_bit_identical_across_thread_counts(name, fn, threads):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((512, 1031)).astype(np.float32)  # 528K elements: the threaded paths run
    t, u = fg.tensor(a), fg.tensor(a[::-1].copy())
    results = []
    for n in (1, 2, 3):
        fg.set_num_threads(n)
        results.append(bits(fn(t, u)))
    assert np.array_equal(results[0], results[1]) and np.array_equal(results[0], results[2])


def test_gradients_bit_identical_across_thread_counts(threads):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((256, 300)).astype(np.float32)
    w = rng.standard_normal((300, 64)).astype(np.float32)
    grads = []
    for n in (1, 2):
        fg.set_num_threads(n)
        x = fg.tensor(a, requires_grad=True)
        wt = fg.tensor(w, requires_grad=True)
        loss = ops.mean(ops.log_softmax(ops.tanh(x @ wt), axis=-1) ** 2)
        loss.backward()
        grads.append((bits(x.grad), bits(wt.grad)))
    assert np.array_equal(grads[0][0], grads[1][0]) and np.array_equal(grads[0][1], grads[1][1])


def test_large_sum_is_accurate():
    a = np.full(10_000_000, 0.1, dtype=np.float32)
    got = float(ops.sum(fg.from_numpy(a)).item())
    assert abs(got - 1_000_000.0) / 1e6 < 1e-5


def test_caching_allocator_reuses_buffers():
    x = ops.ones((1 << 20,))
    for _ in range(3):
        y = x + 1.0
        del y
    cached, hits, misses = fg._core.cache_stats()
    assert hits > 0
    fg.empty_cache()
    assert fg._core.cache_stats()[0] == 0


def test_big_buffers_round_trip_through_the_allocator():
    # 24 MiB: above the threshold where buffers are mapped directly (huge pages on Linux).
    # Values survive the copy, ops write into such buffers, and after the cache is emptied
    # (the mappings returned) a fresh one reads as zeros.
    n = 6 << 20
    a = np.arange(n, dtype=np.float32)
    t = fg.tensor(a)
    assert t.numpy()[-1] == n - 1
    u = t * 2.0
    assert u.numpy()[12345] == 24690.0
    del u
    fg.empty_cache()
    z = ops.zeros((n,))
    assert not z.numpy().any()


def test_clock_probe():
    ghz = fg._core._measure_clock_ghz(2, 1_000_000)
    assert ghz is None or 0.05 < ghz < 8.0
    for rounds, iters in ((5, 10**12), (1000, 10**6), (0, 10), (3, 0)):
        with pytest.raises(ValueError, match="_measure_clock_ghz"):
            fg._core._measure_clock_ghz(rounds, iters)
    with pytest.raises((OverflowError, TypeError)):
        fg._core._measure_clock_ghz(-1, 10)
