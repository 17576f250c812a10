"""The fused attention kernel (`_core.dot_product_attention`): values and gradients against a
float64 reference (PyTorch's scaled_dot_product_attention where it is defined, an explicit
softmax otherwise), finite differences, masked rows, thread and SIMD invariance, memory."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import _core

torch = pytest.importorskip("torch")


def _ref(q, k, v, bias=None, mask=None, causal=False, scale=None, with_sdpa=True):
    """float64 reference: output and the torch tensors (for gradients).

    Uses torch.nn.functional.scaled_dot_product_attention when every row has a visible key
    (it gives NaN for fully masked rows); K/V heads are repeated for grouped queries.
    """
    tq, tk, tv = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (q, k, v)]
    n, kh = q.shape[2], k.shape[2]
    qh = tq.transpose(1, 2)  # (B, N, T, H)
    kk = tk.transpose(1, 2).repeat_interleave(n // kh, 1)  # (B, N, S, H)
    vv = tv.transpose(1, 2).repeat_interleave(n // kh, 1)
    t, s = q.shape[1], k.shape[1]
    allowed = torch.ones(t, s, dtype=torch.bool)
    if causal:
        allowed = torch.tril(allowed)
    if mask is not None:
        allowed = allowed & torch.tensor(mask)
    allowed = allowed.expand(q.shape[0], n, t, s)
    any_row = bool(allowed.any(-1).all())
    sc = scale if scale is not None else 1.0 / np.sqrt(q.shape[-1])
    if with_sdpa and any_row:
        attn = torch.zeros(allowed.shape, dtype=torch.float64).masked_fill(~allowed, -np.inf)
        if bias is not None:
            attn = attn + torch.tensor(bias, dtype=torch.float64)
        o = torch.nn.functional.scaled_dot_product_attention(qh, kk, vv, attn_mask=attn, scale=sc)
    else:
        logits = qh @ kk.transpose(-1, -2) * sc
        if bias is not None:
            logits = logits + torch.tensor(bias, dtype=torch.float64)
        logits = logits.masked_fill(~allowed, -np.inf)
        # rows with no visible key: zeros, with zero gradients (softmax of all -inf is NaN)
        row_ok = torch.isfinite(logits).any(-1, keepdim=True)
        p = torch.softmax(torch.where(row_ok, logits, torch.zeros_like(logits)), -1) * row_ok
        o = p @ vv
    return o.transpose(1, 2), (tq, tk, tv)


def _run(q, k, v, dtype, go, **kw):
    ts = [fg.tensor(x.astype(dtype), requires_grad=True) for x in (q, k, v)]
    extra = {}
    if kw.get("bias") is not None:
        extra["bias"] = fg.tensor(kw["bias"].astype(dtype))
    if kw.get("mask") is not None:
        extra["mask"] = fg.tensor(kw["mask"])
    o = _core.dot_product_attention(*ts, scale=kw.get("scale"), is_causal=kw.get("causal", False), **extra)
    (o * fg.tensor(go.astype(dtype))).sum().backward()
    return o.numpy(), [t.grad.numpy() for t in ts]


CASES = [
    # id, B, T, S, N, K, H, causal, bias, mask
    ("self", 2, 17, 17, 2, 2, 16, False, False, False),
    ("cross", 1, 3, 67, 3, 3, 8, False, False, False),
    ("causal", 1, 67, 67, 2, 2, 32, True, False, False),
    ("causal_cross", 2, 17, 67, 2, 1, 16, True, False, False),
    ("padding_mask", 2, 17, 300, 2, 2, 64, False, False, True),
    ("bias", 1, 67, 17, 2, 2, 16, False, True, False),
    ("grouped_query", 1, 67, 67, 6, 2, 16, True, True, True),
    ("multi_query", 2, 17, 3, 4, 1, 8, False, False, False),
    ("single_query", 1, 1, 300, 4, 2, 64, False, True, True),
    ("long", 1, 300, 300, 2, 1, 64, True, False, False),
    ("decode_split", 1, 3, 1100, 2, 1, 32, False, True, True),
    ("one", 1, 1, 1, 1, 1, 1, False, False, False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, dtype):
    _, b, t, s, n, kh, h, causal, has_bias, has_mask = case
    rng = np.random.default_rng(len(case[0]) * 7 + t)
    q = rng.standard_normal((b, t, n, h))
    k = rng.standard_normal((b, s, kh, h))
    v = rng.standard_normal((b, s, kh, h))
    bias = rng.standard_normal((t, s)) if has_bias else None
    # padding mask over keys (True = attend); key 0 always visible so no row is empty
    mask = None
    if has_mask:
        mask = rng.random((b, 1, 1, s)) > 0.4
        mask[..., 0] = True
    ref, (tq, tk, tv) = _ref(q, k, v, bias, mask, causal)
    go = rng.standard_normal(ref.shape)
    ref.backward(torch.tensor(go))
    out, grads = _run(q, k, v, dtype, go, bias=bias, mask=mask, causal=causal)
    tol = dict(rtol=1e-4, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(out, ref.detach().numpy(), **tol)
    for g, r, name in zip(grads, (tq, tk, tv), "qkv"):
        np.testing.assert_allclose(g, r.grad.numpy(), **tol, err_msg=f"d{name}")


def test_scale_and_bias_gradient_broadcast():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 5, 2, 4)), rng.standard_normal((2, 7, 2, 4)), rng.standard_normal((2, 7, 2, 4)))
    bias = rng.standard_normal((1, 2, 1, 7))  # per head and key
    ref, (tq, tk, tv) = _ref(q, k, v, bias, None, False, scale=0.37)
    tb = torch.tensor(bias, requires_grad=True)
    # reference bias gradient through an explicit softmax
    logits = tq.transpose(1, 2) @ tk.transpose(1, 2).transpose(-1, -2) * 0.37 + tb
    o = (torch.softmax(logits, -1) @ tv.transpose(1, 2)).transpose(1, 2)
    go = rng.standard_normal(o.shape)
    o.backward(torch.tensor(go))
    fq, fk, fv = [fg.tensor(x, requires_grad=True) for x in (q, k, v)]
    fb = fg.tensor(bias, requires_grad=True)
    out = _core.dot_product_attention(fq, fk, fv, bias=fb, scale=0.37)
    (out * fg.tensor(go)).sum().backward()
    np.testing.assert_allclose(out.numpy(), o.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert fb.grad.shape == (1, 2, 1, 7)
    np.testing.assert_allclose(fb.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fk.grad.numpy(), tk.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_finite_differences(causal):
    rng = np.random.default_rng(5)
    q = rng.standard_normal((1, 3, 2, 4))
    k = rng.standard_normal((1, 5, 1, 4))
    v = rng.standard_normal((1, 5, 1, 4))
    bias = rng.standard_normal((3, 5))
    mask = np.ones((1, 1, 3, 5), bool)
    mask[0, 0, 1, 2] = False

    def f(q, k, v, b):
        return _core.dot_product_attention(q, k, v, bias=b, mask=fg.tensor(mask), is_causal=causal)

    gradcheck(f, q, k, v, bias, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fully_masked_rows_give_zeros(dtype):
    rng = np.random.default_rng(7)
    b, t, s, n, h = 2, 5, 70, 2, 8
    q = rng.standard_normal((b, t, n, h))
    k = rng.standard_normal((b, s, n, h))
    v = rng.standard_normal((b, s, n, h))
    mask = rng.random((b, n, t, s)) > 0.5
    mask[0, 1, 2, :] = False  # one row sees nothing
    mask[1, :, :, :] = False  # a whole batch entry sees nothing
    bias = rng.standard_normal((t, s))
    bias[3, :] = -np.inf  # a row hidden by the bias alone
    ref, (tq, tk, tv) = _ref(q, k, v, bias, mask, False, with_sdpa=False)
    go = rng.standard_normal(ref.shape)
    ref.backward(torch.tensor(go))
    out, grads = _run(q, k, v, dtype, go, bias=bias, mask=mask)
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(g)) for g in grads)
    assert np.all(out[1] == 0) and np.all(out[0, 2, 1] == 0) and np.all(out[:, 3] == 0)
    assert np.all(grads[0][1] == 0) and np.all(grads[1][1] == 0) and np.all(grads[2][1] == 0)
    tol = dict(rtol=1e-4, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(out, ref.detach().numpy(), **tol)
    for g, r in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(g, r.grad.numpy(), **tol)


def _all_outputs(shapes, causal, seed=11, bias=False):
    b, t, s, n, kh, h = shapes
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((b, t, n, h)).astype(np.float32)
    k = rng.standard_normal((b, s, kh, h)).astype(np.float32)
    v = rng.standard_normal((b, s, kh, h)).astype(np.float32)
    go = rng.standard_normal((b, t, n, h)).astype(np.float32)
    ts = [fg.tensor(x, requires_grad=True) for x in (q, k, v)]
    extra = {}
    if bias:
        fb = fg.tensor(rng.standard_normal((1, n, t, s)).astype(np.float32), requires_grad=True)
        extra["bias"] = fb
    o = _core.dot_product_attention(*ts, is_causal=causal, **extra)
    (o * fg.tensor(go)).sum().backward()
    res = [o.numpy()] + [t.grad.numpy() for t in ts]
    if bias:
        res.append(fb.grad.numpy())
    return res


# (B, T, S, N, K, H): one kv head (two-pass backward on 2 threads), many heads (one task per
# head), a decode split, odd sizes
THREAD_SHAPES = [(1, 300, 200, 2, 1, 64), (4, 67, 67, 4, 2, 16), (1, 2, 2000, 4, 2, 32), (1, 131, 67, 3, 3, 17)]


@pytest.mark.parametrize("shapes", THREAD_SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_bit_identical_across_threads(shapes, causal, threads):
    runs = []
    for nt in (1, 2, 3):
        fg.set_num_threads(nt)
        runs.append(_all_outputs(shapes, causal, bias=True))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("shapes", THREAD_SHAPES)
def test_simd_matches_scalar_reference(shapes, scalar_kernels):
    fast = _all_outputs(shapes, True, bias=True)
    _core._set_force_scalar(True)
    slow = _all_outputs(shapes, True, bias=True)
    _core._set_force_scalar(False)
    for a, b in zip(fast, slow):
        # different rounding (FMA vs separate multiply and add), same order of operations
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_strided_inputs_and_noncontiguous_mask():
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 4, 3, 8))
    k = rng.standard_normal((2, 6, 3, 8))
    v = rng.standard_normal((2, 6, 3, 8))
    mask = rng.random((6, 4)).T > 0.3  # (T, S) transposed view
    mask[:, 0] = True
    fq = fg.tensor(np.ascontiguousarray(q.transpose(0, 2, 1, 3))).transpose((0, 2, 1, 3))
    out = _core.dot_product_attention(fq, k, v, mask=fg.tensor(mask))
    ref, _ = _ref(q, k, v, None, mask, False)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_no_gradient_recorded_without_requires_grad():
    x = fg.tensor(np.ones((1, 2, 1, 4), np.float32))
    out = _core.dot_product_attention(x, x, x)
    assert not out.requires_grad
    np.testing.assert_allclose(out.numpy(), 1.0)


def _dropout_run(q, k, v, seed, causal=False, rate=0.3):
    return _core.dot_product_attention(q, k, v, is_causal=causal, dropout_rate=rate, seed=seed)


def test_dropout_keeps_the_expected_fraction_scaled():
    # v = identity over keys and equal scores: output (i, j) is p_ij * mask_ij / (1 - rate).
    s_len, rate = 300, 0.3
    k = np.zeros((1, s_len, 1, s_len), np.float32)
    v = np.eye(s_len, dtype=np.float32).reshape(1, s_len, 1, s_len)
    q = np.zeros((1, 50, 1, s_len), np.float32)
    out = _dropout_run(fg.tensor(q), fg.tensor(k), fg.tensor(v), seed=3, rate=rate).numpy()
    kept = out > 0
    assert abs(kept.mean() - (1 - rate)) < 0.01
    np.testing.assert_allclose(out[kept] * s_len, 1 / (1 - rate), rtol=1e-5)


def test_dropout_is_seeded_and_averages_to_no_dropout():
    rng = np.random.default_rng(4)
    q, k, v = (fg.tensor(rng.standard_normal(sh)) for sh in ((2, 9, 4, 8), (2, 7, 2, 8), (2, 7, 2, 8)))
    a, b = _dropout_run(q, k, v, seed=7).numpy(), _dropout_run(q, k, v, seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _dropout_run(q, k, v, seed=8).numpy())
    mean = np.mean([_dropout_run(q, k, v, seed=s).numpy() for s in range(400)], axis=0)
    base = _core.dot_product_attention(q, k, v).numpy()
    assert np.abs(mean - base).max() < 0.15 * np.abs(base).max()


@pytest.mark.parametrize("causal", [False, True])
def test_dropout_gradients_match_finite_differences(causal):
    """The backward regenerates the forward's mask: gradients of the dropped attention (fixed seed)."""
    rng = np.random.default_rng(6)
    q = rng.standard_normal((1, 5, 2, 4))
    k = rng.standard_normal((1, 6, 1, 4))
    v = rng.standard_normal((1, 6, 1, 4))
    bias = rng.standard_normal((5, 6))

    def f(q, k, v, b):
        return _core.dot_product_attention(q, k, v, bias=b, is_causal=causal, dropout_rate=0.4, seed=11)

    gradcheck(f, q, k, v, bias, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("shapes", THREAD_SHAPES[:2])
def test_dropout_bit_identical_across_threads(shapes, threads):
    b, t, s, n, kh, h = shapes
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(sh).astype(np.float32) for sh in ((b, t, n, h), (b, s, kh, h), (b, s, kh, h))]
    runs = []
    for nt in (1, 2):
        fg.set_num_threads(nt)
        ts = [fg.tensor(a, requires_grad=True) for a in arrays]
        o = _dropout_run(*ts, seed=5, causal=True)
        o.sum().backward()
        runs.append([o.numpy()] + [x.grad.numpy() for x in ts])
    for a, c in zip(*runs):
        assert np.array_equal(a, c)


def test_dropout_rate_is_checked():
    x = fg.tensor(np.ones((1, 2, 1, 4), np.float32))
    with pytest.raises(ValueError, match="dropout_rate"):
        _core.dot_product_attention(x, x, x, dropout_rate=1.0, seed=1)


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    import ferrograd as fg
    from ferrograd import _core
    fg.set_num_threads(2)
    B, S, N, H = 1, 8192, 8, 64
    rng = np.random.default_rng(0)
    q, k, v, go = [fg.tensor(rng.standard_normal((B, S, N, H)).astype(np.float32)) for _ in range(4)]
    for t in (q, k, v):
        t.requires_grad = True
    # warm up the allocator and code paths on a small problem
    small = [fg.tensor(np.ones((1, 64, 2, 64), np.float32), requires_grad=True) for _ in range(3)]
    (_core.dot_product_attention(*small, is_causal=True) * 1.0).sum().backward()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = _core.dot_product_attention(q, k, v, is_causal=True)
    (out * go).sum().backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # inputs/outputs created after `base`: out, out * go, its gradient, dq, dk, dv (16 MiB each)
    io_mib = 6 * B * S * N * H * 4 / 2**20
    print((peak - base) / 1024 - io_mib)
    """
)


def test_memory_stays_linear():
    r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    extra_mib = float(r.stdout.strip().splitlines()[-1])
    # the scores alone would need B*N*S*S*4 = 2 GiB
    assert extra_mib < 256, f"grew {extra_mib:.0f} MiB beyond inputs and outputs"
