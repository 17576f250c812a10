"""Convolution, pooling and up-sampling: gradient checks, PyTorch parity, thread determinism, errors."""
import math

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import ops

rng = np.random.default_rng(1234)


def rand(*shape):
    return rng.standard_normal(shape)


def tf_same_pads(n, k, s, d=1):
    """(before, after) padding of TF's "same" rule along one axis."""
    keff = (k - 1) * d + 1
    out = math.ceil(n / s)
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


# ---- finite-difference gradient checks (float64) ---------------------------------------------

CONV2D = [
    # (name, x shape, kernel shape, kwargs)
    ("valid", (2, 5, 4, 3), (3, 2, 3, 2), {}),
    ("same", (1, 5, 6, 2), (3, 3, 2, 3), {"padding": "same"}),
    ("stride2_same", (2, 6, 5, 2), (3, 3, 2, 2), {"strides": 2, "padding": "same"}),
    ("stride2_valid", (1, 7, 6, 2), (2, 3, 2, 3), {"strides": (2, 1)}),
    ("dilation2", (1, 7, 7, 2), (3, 2, 2, 2), {"dilation_rate": 2, "padding": "same"}),
    ("groups2", (2, 4, 4, 4), (3, 3, 2, 4), {"padding": "same"}),
    ("pointwise", (2, 3, 4, 3), (1, 1, 3, 4), {}),
    ("pointwise_groups", (1, 3, 3, 4), (1, 1, 2, 6), {}),
]


@pytest.mark.parametrize("name,xs,ks,kw", CONV2D, ids=[c[0] for c in CONV2D])
def test_conv2d_gradcheck(name, xs, ks, kw):
    gradcheck(lambda x, w: ops.conv(x, w, **kw), rand(*xs), rand(*ks))


def test_conv2d_bias_gradcheck():
    gradcheck(lambda x, w, b: ops.conv(x, w, padding="same", strides=2, bias=b),
              rand(2, 5, 5, 2), rand(3, 3, 2, 3), rand(3))


def test_depthwise_gradcheck():
    gradcheck(lambda x, w: ops.depthwise_conv(x, w, padding="same"), rand(1, 5, 4, 3), rand(3, 3, 3, 2))


CONV1D = [
    ("valid", {}),
    ("same_stride2", {"padding": "same", "strides": 2}),
    ("causal_dilation2", {"padding": "causal", "dilation_rate": 2}),
]


@pytest.mark.parametrize("name,kw", CONV1D, ids=[c[0] for c in CONV1D])
def test_conv1d_gradcheck(name, kw):
    gradcheck(lambda x, w: ops.conv(x, w, **kw), rand(2, 7, 2), rand(3, 2, 3))


def test_conv1d_groups_and_depthwise_gradcheck():
    gradcheck(lambda x, w: ops.conv(x, w, padding="same"), rand(1, 6, 4), rand(3, 2, 2))
    gradcheck(lambda x, w: ops.depthwise_conv(x, w, padding="causal"), rand(1, 6, 2), rand(3, 2, 2))


TRANSPOSE = [
    ("valid_s2", (1, 3, 4, 2), (3, 3, 3, 2), {"strides": 2}),
    ("same_s2", (2, 3, 3, 2), (3, 3, 2, 2), {"strides": 2, "padding": "same"}),
    ("same_k4", (1, 3, 2, 2), (4, 4, 2, 2), {"strides": 2, "padding": "same"}),
    ("valid_k2_s3", (1, 2, 3, 1), (2, 2, 2, 1), {"strides": 3}),
    ("output_padding", (1, 3, 3, 2), (3, 3, 2, 2), {"strides": 2, "padding": "same", "output_padding": 1}),
]


@pytest.mark.parametrize("name,xs,ks,kw", TRANSPOSE, ids=[c[0] for c in TRANSPOSE])
def test_conv_transpose_gradcheck(name, xs, ks, kw):
    gradcheck(lambda x, w: ops.conv_transpose(x, w, **kw), rand(*xs), rand(*ks))


def test_conv1d_transpose_gradcheck():
    gradcheck(lambda x, w: ops.conv_transpose(x, w, 2, padding="same"), rand(2, 4, 2), rand(3, 3, 2))


def distinct(*shape):
    """Values with no near-ties (max pooling's gradient is not differentiable at ties)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.01, n)).reshape(shape)


POOL = [
    ("valid", (2, 4, 6, 2), {"pool_size": 2}),
    ("same_odd", (1, 5, 5, 3), {"pool_size": 2, "padding": "same"}),
    ("overlap", (1, 5, 6, 2), {"pool_size": 3, "strides": 1}),
    ("overlap_same_s2", (2, 5, 4, 1), {"pool_size": (3, 2), "strides": 2, "padding": "same"}),
]


@pytest.mark.parametrize("name,xs,kw", POOL, ids=[c[0] for c in POOL])
@pytest.mark.parametrize("fn", [ops.max_pool, ops.average_pool], ids=["max", "avg"])
def test_pool2d_gradcheck(name, xs, kw, fn):
    gradcheck(lambda x: fn(x, **kw), distinct(*xs))


@pytest.mark.parametrize("fn", [ops.max_pool, ops.average_pool], ids=["max", "avg"])
def test_pool1d_gradcheck(fn):
    gradcheck(lambda x: fn(x, 3, strides=2, padding="same"), distinct(2, 8, 2))


def test_upsample_gradcheck():
    gradcheck(lambda x: ops.upsample_nearest(x, (2, 3)), rand(1, 2, 3, 2))
    gradcheck(lambda x: ops.upsample_bilinear(x, (2, 3)), rand(2, 3, 2, 2))


# ---- PyTorch parity (float32, NHWC <-> NCHW) -------------------------------------------------

torch = pytest.importorskip("torch")
F = torch.nn.functional


def nchw(a):
    return a.permute(0, 3, 1, 2)


def nhwc(a):
    return a.permute(0, 2, 3, 1)


def torch_conv2d(x, w, b, strides, padding, dilation, groups):
    """x NHWC, w (kh, kw, cin/g, cout) as torch tensors; TF-style padding made explicit."""
    kh, kw = w.shape[0], w.shape[1]
    xt = nchw(x)
    if padding == "same":
        pt, pb = tf_same_pads(x.shape[1], kh, strides[0], dilation[0])
        pl, pr = tf_same_pads(x.shape[2], kw, strides[1], dilation[1])
        xt = F.pad(xt, (pl, pr, pt, pb))
    y = F.conv2d(xt, w.permute(3, 2, 0, 1).contiguous(), b, stride=strides, dilation=dilation, groups=groups)
    return nhwc(y)


def check_parity(fg_fn, t_fn, arrays, rtol=1e-4, atol=1e-4):
    """Outputs and gradients of every input agree (float32) under one random upstream gradient."""
    arrays = [a.astype(np.float32) for a in arrays]
    xs = [fg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fg_fn(*xs)
    yt = t_fn(*ts)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    (y * fg.tensor(g)).sum().backward()
    (yt * torch.from_numpy(g)).sum().backward()
    for i, (a, b) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}")


PARITY2D = [
    # (name, x shape, kernel shape, strides, padding, dilation)
    ("c1_odd", (1, 9, 7, 1), (3, 3, 1, 3), (1, 1), "same", (1, 1)),
    ("c3_s2", (2, 11, 9, 3), (3, 3, 3, 17), (2, 2), "same", (1, 1)),
    ("c17_valid", (3, 8, 7, 17), (2, 3, 17, 5), (1, 2), "valid", (1, 1)),
    ("dilated", (2, 13, 10, 3), (3, 3, 3, 4), (1, 1), "same", (2, 3)),
    ("groups", (2, 7, 7, 6), (3, 3, 2, 9), (2, 1), "same", (1, 1)),
    ("pointwise", (2, 5, 6, 17), (1, 1, 17, 3), (1, 1), "valid", (1, 1)),
    ("pointwise_s2", (1, 9, 9, 3), (1, 1, 3, 5), (2, 2), "valid", (1, 1)),
    ("big_tiles", (3, 40, 37, 8), (5, 5, 8, 6), (1, 1), "same", (1, 1)),
    # small patches (kh*kw*cin <= 32) run the direct kernel: register blocks of 32 channels + tail
    ("direct_c1", (2, 30, 29, 1), (3, 3, 1, 40), (1, 1), "same", (1, 1)),
    ("direct_c3_s2_d2", (2, 21, 19, 3), (3, 3, 3, 33), (2, 1), "same", (2, 1)),
    ("direct_5x5_valid", (1, 12, 11, 1), (5, 5, 1, 64), (1, 1), "valid", (1, 1)),
]


@pytest.mark.parametrize("name,xs,ks,s,p,d", PARITY2D, ids=[c[0] for c in PARITY2D])
def test_conv2d_matches_torch(name, xs, ks, s, p, d):
    groups = xs[3] // ks[2]
    check_parity(
        lambda x, w, b: ops.conv(x, w, strides=s, padding=p, dilation_rate=d, bias=b),
        lambda x, w, b: torch_conv2d(x, w, b, s, p, d, groups),
        [rng.standard_normal(xs), rng.standard_normal(ks) * 0.3, rng.standard_normal(ks[3])],
    )


def test_depthwise_matches_torch():
    c, m = 3, 2
    check_parity(
        lambda x, w: ops.depthwise_conv(x, w, strides=2, padding="same"),
        lambda x, w: torch_conv2d(x, w.reshape(3, 3, 1, c * m), None, (2, 2), "same", (1, 1), c),
        [rng.standard_normal((2, 9, 8, c)), rng.standard_normal((3, 3, c, m))],
    )


def test_conv1d_causal_matches_torch():
    def t_fn(x, w):
        xt = F.pad(x.permute(0, 2, 1), (4, 0))  # (k - 1) * dilation zeros on the left
        return F.conv1d(xt, w.permute(2, 1, 0).contiguous(), dilation=2).permute(0, 2, 1)

    check_parity(lambda x, w: ops.conv(x, w, padding="causal", dilation_rate=2), t_fn,
                 [rng.standard_normal((2, 17, 3)), rng.standard_normal((3, 3, 5))])


def keras_transpose_layout(n, k, s, d, padding, output_padding=None):
    """(output length, top padding of the adjoint conv) following Keras."""
    keff = (k - 1) * d + 1
    if padding == "valid":
        out = (n - 1) * s + (max(keff, s) if output_padding is None else keff + output_padding)
        return out, 0
    if output_padding is None:
        out, pad_len = n * s, s + keff - 2
    else:
        out, pad_len = (n - 1) * s + keff % 2 + output_padding, keff + keff % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, keff - 1)
    return out, keff - 1 - left


TRANSPOSE_PARITY = [
    ("valid_s2", (2, 5, 4, 3), (3, 3, 17, 3), 2, "valid", None),
    ("same_s2", (1, 7, 6, 1), (3, 3, 4, 1), 2, "same", None),
    ("same_k4_s2", (2, 4, 5, 3), (4, 4, 2, 3), 2, "same", None),
    ("same_s1", (1, 6, 5, 17), (3, 3, 3, 17), 1, "same", None),
    ("valid_k2_s3", (1, 3, 4, 2), (2, 2, 3, 2), 3, "valid", None),
    ("same_op1", (1, 4, 4, 2), (3, 3, 3, 2), 2, "same", 1),
]


@pytest.mark.parametrize("name,xs,ks,s,p,op", TRANSPOSE_PARITY, ids=[c[0] for c in TRANSPOSE_PARITY])
def test_conv_transpose_matches_torch(name, xs, ks, s, p, op):
    def t_fn(x, w):
        full = nhwc(F.conv_transpose2d(nchw(x), w.permute(3, 2, 0, 1).contiguous(), stride=s))
        oh, pt = keras_transpose_layout(xs[1], ks[0], s, 1, p, op)
        ow, pl = keras_transpose_layout(xs[2], ks[1], s, 1, p, op)
        # Keras' output is a window of the full transposed conv, zero-extended past its end.
        full = F.pad(full, (0, 0, 0, max(0, pl + ow - full.shape[2]), 0, max(0, pt + oh - full.shape[1])))
        return full[:, pt:pt + oh, pl:pl + ow, :]

    check_parity(lambda x, w: ops.conv_transpose(x, w, s, padding=p, output_padding=op), t_fn,
                 [rng.standard_normal(xs), rng.standard_normal(ks)])


def random_conv_case(seed):
    r = np.random.default_rng(seed)
    groups = int(r.choice([1, 1, 2, 3]))
    cin = groups * int(r.integers(1, 4))
    cout = groups * int(r.integers(1, 4))
    k = tuple(int(v) for v in r.integers(1, 5, 2))
    s = tuple(int(v) for v in r.integers(1, 4, 2))
    d = tuple(int(v) for v in r.integers(1, 3, 2))
    padding = str(r.choice(["valid", "same"]))
    keff = [(k[i] - 1) * d[i] + 1 for i in range(2)]
    lo = keff if padding == "valid" else [1, 1]
    hw = [int(r.integers(lo[i], lo[i] + 6)) for i in range(2)]
    return (int(r.integers(1, 3)), *hw, cin), (*k, cin // groups, cout), s, padding, d


@pytest.mark.parametrize("seed", range(16))
def test_conv2d_random_geometry_matches_torch(seed):
    xs, ks, s, p, d = random_conv_case(seed)
    groups = xs[3] // ks[2]
    check_parity(
        lambda x, w: ops.conv(x, w, strides=s, padding=p, dilation_rate=d),
        lambda x, w: torch_conv2d(x, w, None, s, p, d, groups),
        [rng.standard_normal(xs), rng.standard_normal(ks)],
    )


@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose_random_geometry_matches_torch(seed):
    r = np.random.default_rng(100 + seed)
    xs = (int(r.integers(1, 3)), int(r.integers(1, 6)), int(r.integers(1, 6)), int(r.integers(1, 4)))
    ks = (int(r.integers(1, 5)), int(r.integers(1, 5)), int(r.integers(1, 4)), xs[3])
    s, d = int(r.integers(1, 4)), int(r.integers(1, 3))
    p = str(r.choice(["valid", "same"]))

    def t_fn(x, w):
        full = nhwc(F.conv_transpose2d(nchw(x), w.permute(3, 2, 0, 1).contiguous(), stride=s, dilation=d))
        oh, pt = keras_transpose_layout(xs[1], ks[0], s, d, p)
        ow, pl = keras_transpose_layout(xs[2], ks[1], s, d, p)
        full = F.pad(full, (0, 0, 0, max(0, pl + ow - full.shape[2]), 0, max(0, pt + oh - full.shape[1])))
        return full[:, pt:pt + oh, pl:pl + ow, :]

    check_parity(lambda x, w: ops.conv_transpose(x, w, s, padding=p, dilation_rate=d), t_fn,
                 [rng.standard_normal(xs), rng.standard_normal(ks)])


def torch_pool(x, kind, k, s, padding):
    xt = nchw(x)
    if padding == "same":
        pt, pb = tf_same_pads(x.shape[1], k[0], s[0])
        pl, pr = tf_same_pads(x.shape[2], k[1], s[1])
        pads = (pl, pr, pt, pb)
    else:
        pads = (0, 0, 0, 0)
    if kind == "max":
        return nhwc(F.max_pool2d(F.pad(xt, pads, value=-math.inf), k, s))
    sums = F.avg_pool2d(F.pad(xt, pads), k, s, divisor_override=1)
    counts = F.avg_pool2d(F.pad(torch.ones_like(xt[:1, :1]), pads), k, s, divisor_override=1)
    return nhwc(sums / counts)


POOL_PARITY = [
    ("valid_c1", (1, 7, 9, 1), (2, 2), None, "valid"),
    ("same_c3", (2, 7, 5, 3), (3, 3), (2, 2), "same"),
    ("overlap_c17", (3, 6, 7, 17), (3, 2), (1, 1), "valid"),
    ("same_s3", (1, 10, 11, 4), (2, 3), (3, 2), "same"),
    # windows that tile the image (pool_size == strides): the backward writes each input once
    ("tiled_remainder", (3, 11, 13, 40), (2, 2), None, "valid"),
    ("tiled_same_clipped", (2, 9, 7, 33), (3, 2), (3, 2), "same"),
]


@pytest.mark.parametrize("name,xs,k,s,p", POOL_PARITY, ids=[c[0] for c in POOL_PARITY])
@pytest.mark.parametrize("kind", ["max", "average"])
def test_pool_matches_torch(name, xs, k, s, p, kind):
    fn = ops.max_pool if kind == "max" else ops.average_pool
    check_parity(lambda x: fn(x, k, strides=s, padding=p),
                 lambda x: torch_pool(x, kind, k, s or k, p), [rng.standard_normal(xs)])


def test_max_pool_ties_go_to_first_max_like_torch():
    x = np.zeros((1, 4, 4, 2), np.float32)
    check_parity(lambda t: ops.max_pool(t, 2, strides=1), lambda t: torch_pool(t, "max", (2, 2), (1, 1), "valid"),
                 [x], rtol=0, atol=0)


def test_pool1d_matches_torch():
    x = rng.standard_normal((2, 11, 3))
    ncl = lambda t: t.permute(0, 2, 1)  # noqa: E731 - (N, L, C) <-> (N, C, L)
    check_parity(lambda t: ops.max_pool(t, 3, strides=2), lambda t: ncl(F.max_pool1d(ncl(t), 3, 2)), [x])
    check_parity(lambda t: ops.average_pool(t, 2), lambda t: ncl(F.avg_pool1d(ncl(t), 2)), [x])


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
def test_upsample_matches_torch(size):
    x = rng.standard_normal((2, 5, 3, 17))
    for mode, fn in (("nearest", ops.upsample_nearest), ("bilinear", ops.upsample_bilinear)):
        kw = {} if mode == "nearest" else {"align_corners": False}
        out = (5 * size[0], 3 * size[1])
        check_parity(lambda t: fn(t, size), lambda t: nhwc(F.interpolate(nchw(t), size=out, mode=mode, **kw)), [x])


def test_global_pooling_composes_from_reductions():
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(ops.mean(x, axis=(1, 2)).numpy(), x.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(ops.max(x, axis=(1, 2)).numpy(), x.max(axis=(1, 2)))


def test_strided_view_input():
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    view = ops.transpose(fg.tensor(x), (0, 3, 2, 1))  # (2, 5, 6, 3), non-contiguous
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 2, 1)[..., 1:]))
    want = torch_conv2d(xt, torch.from_numpy(w), None, (1, 1), "same", (1, 1), 1)
    got = ops.conv(view[:, :, :, 1:], w, padding="same")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-4)


# ---- determinism across thread counts --------------------------------------------------------

def run_all(x, w, b, threads):
    fg.set_num_threads(threads)
    xt, wt, bt = (fg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = ops.conv(xt, wt, strides=1, padding="same", bias=bt)
    g = fg.tensor(np.cos(np.arange(np.prod(y.shape), dtype=np.float32)).reshape(y.shape))
    (y * g).sum().backward()
    yg = ops.conv(fg.tensor(x), w[:, :, :4], padding="same", strides=2)  # groups 4, strided
    p = ops.max_pool(xt, 3, strides=2, padding="same")
    xq = fg.tensor(x, requires_grad=True)
    (ops.max_pool(xq, 3, strides=2, padding="same").sum() + (ops.average_pool(xq, 2, strides=1) ** 2).sum()).backward()
    xd, kd = fg.tensor(x, requires_grad=True), fg.tensor(w[:, :, :, :2], requires_grad=True)  # depthwise, m=2
    d = ops.depthwise_conv(xd, kd, strides=2, padding="same")
    (d * d).sum().backward()
    xp, kp = fg.tensor(x, requires_grad=True), fg.tensor(w[1:2, 1:2], requires_grad=True)  # 1x1: plain GEMMs
    (ops.conv(xp, kp) ** 2).sum().backward()
    xt2 = fg.tensor(x, requires_grad=True)
    ops.max_pool(xt2, 2).sum().backward()  # tiled windows: the select-based backward
    direct = ops.conv(fg.tensor(x[..., :1]), fg.tensor(np.tile(w[:, :, :1], (1, 1, 1, 2))[..., :40]),
                      padding="same", bias=fg.tensor(np.tile(b, 2)[:40]))  # small patch: direct kernel
    return [y.numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy(), yg.numpy(), p.numpy(),
            d.numpy(), xd.grad.numpy(), kd.grad.numpy(), xp.grad.numpy(), kp.grad.numpy(), xq.grad.numpy(),
            direct.numpy(), xt2.grad.numpy()]


def test_bit_identical_for_1_and_2_threads(threads):
    x = rng.standard_normal((4, 24, 22, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    one = run_all(x, w, b, 1)
    two = run_all(x, w, b, 2)
    for a, c in zip(one, two):
        assert np.array_equal(a, c)


def test_empty_batch():
    x = fg.tensor(np.zeros((0, 5, 5, 3), np.float32), requires_grad=True)
    w = fg.tensor(np.ones((3, 3, 3, 4), np.float32), requires_grad=True)
    y = ops.conv(x, w, padding="same")
    (y.sum() + ops.max_pool(x, 2).sum()).backward()
    assert y.shape == (0, 5, 5, 4) and x.grad.shape == (0, 5, 5, 3)
    np.testing.assert_array_equal(w.grad.numpy(), 0)
    assert ops.conv_transpose(x, np.ones((3, 3, 2, 3), np.float32), 2).shape == (0, 11, 11, 2)


# ---- argument errors -------------------------------------------------------------------------

X4 = np.zeros((1, 5, 5, 3), np.float32)
K4 = np.zeros((3, 3, 3, 4), np.float32)

ERRORS = [
    (lambda: ops.conv(X4, K4, data_format="channels_first"), "channels_first"),
    (lambda: ops.conv(X4, K4, padding="full"), "padding"),
    (lambda: ops.conv(X4, K4, padding="causal"), "padding"),
    (lambda: ops.conv(X4, K4, strides=0), "strides"),
    (lambda: ops.conv(X4, K4, strides=(1, 2, 3)), "strides"),
    (lambda: ops.conv(X4, K4, dilation_rate=-1), "dilation_rate"),
    (lambda: ops.conv(X4[0], K4), "expected a 4-D NHWC input for a 2-D kernel"),
    (lambda: ops.conv(X4, K4[0]), "expected a 3-D NLC input for a 1-D kernel"),
    (lambda: ops.conv(X4, K4[0, 0]), "expected a 4-D kernel"),
    (lambda: ops.conv(X4, np.zeros((3, 3, 2, 4), np.float32)), "not a multiple"),
    (lambda: ops.conv(X4, np.zeros((3, 3, 1, 4), np.float32)), "do not divide"),
    (lambda: ops.conv(X4, np.zeros((7, 3, 3, 4), np.float32)), "at least the dilated kernel size"),
    (lambda: ops.conv(X4, K4, bias=np.zeros(3, np.float32)), "bias must have shape"),
    (lambda: ops.depthwise_conv(X4, np.zeros((3, 3, 2, 2), np.float32)), "input channels"),
    (lambda: ops.conv_transpose(X4, np.zeros((3, 3, 4, 2), np.float32), 2), "in_channels"),
    (lambda: ops.conv_transpose(X4, np.zeros((3, 3, 4, 3), np.float32), 2, output_padding=2), "output_padding"),
    (lambda: ops.conv_transpose(X4, K4, 2, padding="causal"), "padding"),
    (lambda: ops.max_pool(X4, (2, 2, 2)), "pool_size"),
    (lambda: ops.max_pool(X4, 2, strides=0), "strides"),
    (lambda: ops.average_pool(np.zeros((5, 3), np.float32), 2), "got shape (5, 3)"),
    (lambda: ops.max_pool(X4, 6), "at least"),
    (lambda: ops.upsample_bilinear(X4, 0), "size"),
    (lambda: ops.upsample_nearest(X4[0], 2), "4-D NHWC"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_are_clear_value_errors(i):
    fn, fragment = ERRORS[i]
    with pytest.raises(ValueError, match=None) as e:
        fn()
    assert fragment in str(e.value), str(e.value)
