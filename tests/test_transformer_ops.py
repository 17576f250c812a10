"""The ops a transformer needs: dot_product_attention (against PyTorch's scaled_dot_product_attention
in float64), einsum (NumPy values, torch gradients, every equation Keras' EinsumDense and
MultiHeadAttention build), tril/triu, sort/argsort/top_k, the normalization ops, the keras.ops.nn
namespace, and their shape rules on symbolic inputs."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import _core, ops

torch = pytest.importorskip("torch")

needs_kernel = pytest.mark.skipif(not hasattr(_core, "dot_product_attention"),
                                  reason="the fused attention binding is not in this build of _core yet")


def _sdpa_reference(q, k, v, mask=None, bias=None, scale=None, is_causal=False):
    """torch SDPA in float64 with Keras' layout (B, T, N, H); fully masked rows give zeros."""
    tq, tk, tv = (torch.tensor(a, dtype=torch.float64).transpose(1, 2) for a in (q, k, v))  # (B, N, T, H)
    n, kh = tq.shape[1], tk.shape[1]
    tk, tv = tk.repeat_interleave(n // kh, 1), tv.repeat_interleave(n // kh, 1)
    s = tq @ tk.transpose(-1, -2) * (scale if scale is not None else 1 / np.sqrt(q.shape[-1]))
    if bias is not None:
        s = s + torch.tensor(bias, dtype=torch.float64)
    m = torch.ones(s.shape, dtype=torch.bool)
    if mask is not None:
        m = m & torch.tensor(mask)
    if is_causal:
        m = m & torch.tril(torch.ones(s.shape[-2:], dtype=torch.bool))
    p = torch.softmax(s.masked_fill(~m, float("-inf")), -1).nan_to_num(0.0)
    return (p @ tv).transpose(1, 2).numpy()


ATTENTION_CASES = {
    "self": dict(q=(2, 17, 4, 8), k=(2, 17, 4, 8)),
    "cross": dict(q=(1, 3, 2, 16), k=(1, 67, 2, 16)),
    "causal": dict(q=(2, 17, 3, 8), k=(2, 17, 3, 8), is_causal=True),
    "causal_cross": dict(q=(1, 5, 2, 4), k=(1, 9, 2, 4), is_causal=True),
    "padding_mask": dict(q=(2, 7, 2, 8), k=(2, 11, 2, 8), mask=(2, 1, 1, 11)),
    "full_mask": dict(q=(2, 5, 2, 4), k=(2, 6, 2, 4), mask=(2, 2, 5, 6)),
    "bias": dict(q=(2, 5, 2, 4), k=(2, 6, 2, 4), bias=(1, 2, 5, 6)),
    "grouped_query": dict(q=(2, 5, 6, 8), k=(2, 9, 2, 8)),
    "multi_query": dict(q=(1, 3, 4, 8), k=(1, 300, 1, 8), scale=0.3),
    "single_query": dict(q=(2, 1, 4, 16), k=(2, 67, 4, 16)),
}


@needs_kernel
@pytest.mark.parametrize("case", sorted(ATTENTION_CASES))
def test_dot_product_attention_equals_torch(case):
    c = ATTENTION_CASES[case]
    rng = np.random.default_rng(0)
    q = rng.standard_normal(c["q"])
    k, v = rng.standard_normal(c["k"]), rng.standard_normal(c["k"])
    mask = None if "mask" not in c else rng.random(c["mask"]) > 0.4
    if case == "full_mask":
        mask[0, 0, 2, :] = False  # a fully masked row
    bias = None if "bias" not in c else rng.standard_normal(c["bias"])
    kw = dict(scale=c.get("scale"), is_causal=c.get("is_causal", False))
    want = _sdpa_reference(q, k, v, mask, bias, **kw)
    tq, tk, tv = (keras.tensor(a.astype(np.float32), requires_grad=True) for a in (q, k, v))
    got = ops.dot_product_attention(tq, tk, tv, bias=None if bias is None else keras.tensor(bias.astype(np.float32)),
                                    mask=None if mask is None else keras.tensor(mask), **kw)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    # gradients of q, k, v against torch autograd (float64)
    g = rng.standard_normal(want.shape)
    (got * keras.tensor(g.astype(np.float32))).sum().backward()
    rq, rk, rv = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v))
    n = q.shape[2] // k.shape[2]
    tm = None
    if mask is not None:
        tm = torch.tensor(mask)
    if kw["is_causal"]:
        c_ = torch.tril(torch.ones(q.shape[1], k.shape[1], dtype=torch.bool))
        tm = c_ if tm is None else tm & c_
    s = (rq.transpose(1, 2) @ rk.transpose(1, 2).repeat_interleave(n, 1).transpose(-1, -2))
    s = s * (kw["scale"] if kw["scale"] is not None else 1 / np.sqrt(q.shape[-1]))
    if bias is not None:
        s = s + torch.tensor(bias)
    if tm is not None:
        s = s.masked_fill(~tm, float("-inf"))
    p = torch.softmax(s, -1).nan_to_num(0.0)
    out = (p @ rv.transpose(1, 2).repeat_interleave(n, 1)).transpose(1, 2)
    (out * torch.tensor(g)).sum().backward()
    for mine, ref in ((tq, rq), (tk, rk), (tv, rv)):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-4)
    if case == "full_mask":
        assert np.all(got.numpy()[0, 2, 0] == 0)


def test_dot_product_attention_validates_before_the_kernel():
    q, k = keras.ones((1, 3, 4, 8)), keras.ones((1, 5, 3, 8))
    with pytest.raises(ValueError, match="must divide"):
        ops.dot_product_attention(q, k, k)
    with pytest.raises(ValueError, match="4-D"):
        ops.dot_product_attention(keras.ones((3, 4, 8)), k, k)
    with pytest.raises(TypeError, match="floating-point"):
        ops.dot_product_attention(keras.ones((1, 3, 4, 8), dtype="int32"), k, k)
    with pytest.raises(ValueError, match="does not broadcast"):
        ops.dot_product_attention(q, q, q, mask=keras.ones((1, 1, 2, 3), dtype="bool"))
    with pytest.raises(TypeError, match="boolean"):
        ops.dot_product_attention(q, q, q, mask=keras.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="head_dim"):
        ops.dot_product_attention(q, keras.ones((1, 5, 4, 6)), keras.ones((1, 5, 4, 6)))


def test_dot_product_attention_shape_rule():
    q, k = keras.Input((None, 8, 16)), keras.Input((None, 2, 16))
    assert ops.dot_product_attention(q, k, k, is_causal=True).shape == (None, None, 8, 16)
    with pytest.raises(ValueError, match="must divide"):
        ops.dot_product_attention(q, keras.Input((None, 3, 16)), keras.Input((None, 3, 16)))


# ---- einsum ----------------------------------------------------------------------------------------
EINSUM = [
    ("abc,cde->abde", (2, 3, 4), (4, 2, 5)),  # MultiHeadAttention projections
    ("abcd,cde->abe", (2, 3, 2, 5), (2, 5, 4)),  # its output projection
    ("aecd,abcd->acbe", (2, 5, 3, 4), (2, 6, 3, 4)),  # scores (key, query)
    ("acbe,aecd->abcd", (2, 3, 6, 5), (2, 5, 3, 4)),  # weighted values
    ("bquh,bkuh->buqk", (2, 4, 3, 5), (2, 6, 3, 5)),  # GroupedQueryAttention
    ("...b,bc->...c", (2, 3, 4), (4, 5)),
    ("ab...,bc->ac...", (2, 4, 3), (4, 5)),
    ("ij,jk", (3, 4), (4, 2)),  # implicit output
    ("i,j->ij", (3,), (4,)),  # outer product
    ("bij,bij->b", (2, 3, 4), (2, 3, 4)),
    ("abc->cb", (2, 3, 4), None),
    ("abc,b->ac", (1, 3, 4), (3,)),
]


@pytest.mark.parametrize("eq,sa,sb", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_values_gradients_and_shape_rule(eq, sa, sb):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in (sa, sb) if s is not None]
    want = np.einsum(eq, *arrays)
    ts = [keras.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    got = ops.einsum(eq, *ts)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(want.shape)
    (got * keras.tensor(g.astype(np.float32))).sum().backward()
    rs = [torch.tensor(a, requires_grad=True) for a in arrays]
    (torch.einsum(eq, *rs) * torch.tensor(g)).sum().backward()
    for mine, ref in zip(ts, rs):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-5, atol=1e-5)
    sym = [keras.Input(a.shape[1:], batch_size=a.shape[0]) for a in arrays]
    assert ops.einsum(eq, *sym).shape == want.shape


def test_einsum_errors():
    with pytest.raises(ValueError, match="repeated subscripts"):
        ops.einsum("ii->i", keras.ones((3, 3)))
    with pytest.raises(ValueError, match="rank"):
        ops.einsum("abc,cd->abd", keras.ones((2, 3)), keras.ones((3, 4)))
    with pytest.raises(ValueError, match="sizes"):
        ops.einsum("ab,bc->ac", keras.ones((2, 3)), keras.ones((4, 5)))
    with pytest.raises(ValueError, match="operands"):
        ops.einsum("ab,bc->ac", keras.ones((2, 3)))


# ---- triangles and sorting ------------------------------------------------------------------------
def test_tril_triu():
    x = np.random.default_rng(2).standard_normal((2, 4, 5)).astype(np.float32)
    for k in (-2, 0, 1, 3):
        np.testing.assert_array_equal(ops.tril(x, k).numpy(), np.tril(x, k))
        np.testing.assert_array_equal(ops.triu(x, k).numpy(), np.triu(x, k))
    assert ops.tril(keras.Input((None, 4))).shape == (None, None, 4)


def test_sort_argsort_top_k_equal_numpy():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, (3, 7, 6)).astype(np.float32)  # many ties: the order must be stable
    for axis in (-1, 0, 1):
        np.testing.assert_array_equal(ops.sort(x, axis=axis).numpy(), np.sort(x, axis=axis))
        np.testing.assert_array_equal(ops.argsort(x, axis=axis).numpy(), np.argsort(x, axis=axis, kind="stable"))
    values, idx = ops.top_k(x, 3)
    want_idx = np.argsort(-x, axis=-1, kind="stable")[..., :3]
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want_idx, -1))
    assert idx.dtype == "int32" and ops.argsort(x).dtype == "int32"
    ints = keras.tensor(np.array([[3, 1, 2]], np.int32))
    np.testing.assert_array_equal(ops.sort(ints).numpy(), [[1, 2, 3]])
    v, i = ops.top_k(keras.Input((None, 10)), 4)
    assert v.shape == (None, None, 4) and i.dtype == "int32"


def test_sort_puts_nan_last_and_top_k_first():
    x = np.array([[1.0, np.nan, -2.0, np.nan, 0.5]], np.float32)
    np.testing.assert_array_equal(ops.argsort(x).numpy(), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(ops.sort(x).numpy(), np.sort(x))
    _, idx = ops.top_k(x, 3)
    np.testing.assert_array_equal(idx.numpy(), torch.topk(torch.tensor(x), 3).indices.numpy())


def test_sort_and_top_k_gradients_follow_the_elements():
    x = keras.tensor(np.array([[0.3, -1.0, 2.0, 0.5]], np.float32), requires_grad=True)
    v, _ = ops.top_k(x, 2)
    (v * keras.tensor(np.array([[1.0, 10.0]], np.float32))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 1.0, 10.0]])


def test_top_k_and_sort_on_long_rows():
    x = np.random.default_rng(5).standard_normal((2, 50_000)).astype(np.float32)
    t = keras.tensor(x, requires_grad=True)
    values, idx = ops.top_k(t, 5)
    want = np.argsort(-x, axis=-1, kind="stable")[:, :5]
    np.testing.assert_array_equal(idx.numpy(), want)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want, -1))
    values.sum().backward()
    assert t.grad.numpy().sum() == 10.0
    got = ops.sort(t).numpy()
    np.testing.assert_array_equal(got, np.sort(x, axis=-1))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool"])
def test_argsort_kernel_is_stable_and_thread_independent(dtype, threads):
    rng = np.random.default_rng(11)
    x = (rng.integers(0, 7, (33, 1031)) - 3).astype(dtype)
    if dtype.startswith("float"):
        x[rng.random(x.shape) < 0.05] = np.nan
    outs = []
    for n in (1, 2):
        keras.set_num_threads(n)
        outs.append(ops.argsort(keras.tensor(x)).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], np.argsort(x, axis=-1, kind="stable"))
    desc = keras._core.argsort(keras.tensor(x), True).numpy()
    key = np.where(np.isnan(x), np.inf, x) if dtype.startswith("float") else x.astype(np.int64)
    # descending and stable: NaN (largest) first, ties in index order
    want = np.lexsort((np.arange(x.shape[1])[None, :].repeat(x.shape[0], 0), -np.where(
        np.isinf(key), np.finfo(np.float64).max, key).astype(np.float64)), axis=-1)
    np.testing.assert_array_equal(desc, want)


def test_top_k_errors():
    with pytest.raises(ValueError, match="larger than"):
        ops.top_k(keras.ones((2, 3)), 4)
    with pytest.raises(ValueError, match="non-negative integer"):
        ops.top_k(keras.ones((2, 3)), -1)


# ---- normalization ops and the nn namespace -----------------------------------------------------------
def test_normalization_ops_equal_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 6))
    g, b = rng.standard_normal(6), rng.standard_normal(6)
    tx = torch.tensor(x)
    want = torch.nn.functional.layer_norm(tx, (6,), torch.tensor(g), torch.tensor(b), 1e-5).numpy()
    got = ops.layer_normalization(x.astype(np.float32), g.astype(np.float32), b.astype(np.float32), epsilon=1e-5)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    want = torch.nn.functional.rms_norm(tx, (4, 6), None, 1e-6).numpy()
    got = ops.rms_normalization(x.astype(np.float32), axis=(1, 2), epsilon=1e-6)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    want = torch.nn.functional.normalize(tx, dim=-1).numpy()
    np.testing.assert_allclose(ops.normalize(x.astype(np.float32)).numpy(), want, rtol=1e-5, atol=1e-6)
    mean, var = ops.moments(x.astype(np.float32), axes=(0, 1))
    np.testing.assert_allclose(mean.numpy(), x.mean((0, 1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var.numpy(), x.var((0, 1)), rtol=1e-5, atol=1e-6)


def test_ops_nn_namespace():
    import ferrograd.ops.nn as nn

    assert keras.ops.nn is nn
    for name in ("relu", "gelu", "silu", "softmax", "log_softmax", "dot_product_attention", "conv", "max_pool",
                 "one_hot", "layer_normalization", "rms_normalization", "moments", "normalize"):
        assert getattr(nn, name) is getattr(ops, name)
    with pytest.raises(AttributeError, match="keras.ops.nn.polar"):
        nn.polar  # noqa: B018


@pytest.mark.parametrize("k", [1, 7, 256, 257, 1000])
def test_top_k_kernel_equals_the_stable_order(k, threads):
    rng = np.random.default_rng(k)
    x = rng.integers(-20, 20, (5, 3001)).astype(np.float32)  # many ties
    x[:, ::101] = np.nan
    for data in (x, np.sort(x, axis=-1), -np.sort(x, axis=-1)):  # shuffled, ascending, descending
        want = np.lexsort((np.broadcast_to(np.arange(data.shape[1]), data.shape),
                           -np.nan_to_num(data, nan=np.inf)), axis=-1)[:, :k]
        got = []
        for n in (1, 2):
            keras.set_num_threads(n)
            v, i = ops.top_k(keras.tensor(data), k)
            got.append(i.numpy())
        np.testing.assert_array_equal(got[0], got[1])
        np.testing.assert_array_equal(got[0], want)
        np.testing.assert_array_equal(v.numpy(), np.take_along_axis(data, want, -1))
