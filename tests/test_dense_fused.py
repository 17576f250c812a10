"""The fused dense op (``_core.dense``: product, bias and activation in one GEMM epilogue) and the
Dense layer that runs on it: values bit-identical to the three separate ops, gradients equal to
theirs and to finite differences, PyTorch parity, and clear errors."""
import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import _core, activations, layers, ops

rng = np.random.default_rng(7)

# (core name, parameter, the separate op computing the same)
ACTS = [
    (None, None, lambda z: z),
    ("relu", None, ops.relu),
    ("relu6", None, ops.relu6),
    ("leaky_relu", 0.2, lambda z: ops.leaky_relu(z, 0.2)),
    ("elu", 0.7, lambda z: ops.elu(z, 0.7)),
    ("selu", None, ops.selu),
    ("gelu", None, lambda z: ops.gelu(z, approximate=False)),
    ("gelu_tanh", None, lambda z: ops.gelu(z, approximate=True)),
    ("silu", None, ops.silu),
    ("sigmoid", None, ops.sigmoid),
    ("tanh", None, ops.tanh),
    ("softplus", None, ops.softplus),
    ("softsign", None, ops.softsign),
    ("exp", None, ops.exp),
]

# (x shape, k, n): vectors, single rows, awkward and multi-tile sizes, 3-D and 4-D inputs
SHAPES = [((5,), 5, 3), ((1, 1), 1, 1), ((3, 17), 17, 5), ((2, 3, 33), 33, 65), ((70, 40), 40, 300),
          ((2, 2, 3, 9), 9, 1), ((4, 0), 0, 6), ((0, 8), 8, 3)]


def _run(fused, act, param, compose, xv, wv, bv, dtype):
    x = fg.tensor(xv.astype(dtype), requires_grad=True)
    w = fg.tensor(wv.astype(dtype), requires_grad=True)
    b = None if bv is None else fg.tensor(bv.astype(dtype), requires_grad=True)
    if fused:
        y = _core.dense(x, w, b, act, param)
    else:
        z = ops.matmul(x, w)
        y = compose(z if b is None else z + b)
    gy = np.cos(np.arange(y.size, dtype=np.float64)).reshape(y.shape).astype(dtype)
    (y * fg.tensor(gy)).sum().backward()
    grads = [x.grad, w.grad] + ([] if b is None else [b.grad])
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("act,param,compose", ACTS, ids=[str(a[0]) for a in ACTS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_equals_separate_ops(act, param, compose, dtype):
    for i, (xs, k, n) in enumerate(SHAPES):
        xv = rng.standard_normal(xs)
        wv = rng.standard_normal((k, n)) / max(k, 1) ** 0.5
        bv = rng.standard_normal(n) if i % 3 != 1 else None
        y1, g1 = _run(True, act, param, compose, xv, wv, bv, dtype)
        y0, g0 = _run(False, act, param, compose, xv, wv, bv, dtype)
        assert y1.shape == y0.shape and y1.dtype == y0.dtype
        # The same product, one rounding for the bias, the same element-wise kernel: same bits.
        np.testing.assert_array_equal(y1, y0, err_msg=f"{act} {xs} @ ({k}, {n})")
        tol = 2e-5 if dtype == "float32" else 1e-12
        for a, b in zip(g1, g0):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=f"{act} {xs} @ ({k}, {n})")


def test_strided_operands_and_no_grad():
    """Transposed and sliced inputs and kernels read in place; without the tape nothing is kept."""
    base = rng.standard_normal((24, 40)).astype(np.float32)
    x = fg.tensor(base)[::2, 3:].T  # (37, 12), strided both ways
    w = fg.tensor(rng.standard_normal((30, 12)).astype(np.float32)).T  # (12, 30), column-major
    b = fg.tensor(rng.standard_normal(30).astype(np.float32))
    y = _core.dense(x, w, b, "gelu")
    ref = ops.gelu(ops.matmul(x, w) + b, approximate=False)
    np.testing.assert_array_equal(y.numpy(), ref.numpy())
    x3 = fg.tensor(rng.standard_normal((4, 5, 12)).astype(np.float32)).transpose((1, 0, 2))  # rows don't merge
    y3 = _core.dense(x3, w, b, "relu")
    np.testing.assert_array_equal(y3.numpy(), ops.relu(ops.matmul(x3, w) + b).numpy())
    assert not y3.requires_grad


@pytest.mark.parametrize("act,param", [(None, None), ("gelu", None), ("tanh", None), ("elu", 0.7),
                                       ("relu", None), ("silu", None)])
def test_finite_differences(act, param):
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((4, 5))
    b = rng.standard_normal(5)
    if act == "relu":  # keep the kink out of the stencil
        b = b + 0.3 * np.sign(b)
        x = x * 0.1
    gradcheck(lambda x, w, b: _core.dense(x, w, b, act, param), x, w, b)
    gradcheck(lambda x, w: _core.dense(x, w, None, act, param), x, w)


def test_only_needed_gradients():
    x = fg.tensor(rng.standard_normal((6, 4)).astype(np.float32))
    w = fg.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = fg.tensor(np.zeros(3, np.float32))
    _core.dense(x, w, b, "silu").sum().backward()
    assert w.grad is not None and x.grad is None and b.grad is None


def test_errors():
    x = fg.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="dense.*kernel's first"):
        _core.dense(x, fg.tensor(np.ones((4, 2), np.float32)))
    with pytest.raises(ValueError, match="dense.*bias must have shape \\(2,\\)"):
        _core.dense(x, fg.tensor(np.ones((3, 2), np.float32)), fg.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="2-D kernel"):
        _core.dense(x, fg.tensor(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match="dense.*floating-point"):
        _core.dense(fg.tensor(np.ones((2, 3), np.int32)), fg.tensor(np.ones((3, 2), np.int32)))
    with pytest.raises(ValueError, match="unknown unary op 'nope'"):
        _core.dense(x, fg.tensor(np.ones((3, 2), np.float32)), None, "nope")


def test_core_activation_mapping():
    assert activations._core_activation(activations.linear) is None
    assert activations._core_activation(activations.get("relu")) == ("relu", None)
    assert activations._core_activation(activations.get("gelu")) == ("gelu", None)
    assert activations._core_activation(activations.get("swish")) == ("silu", None)
    assert activations._core_activation(activations.softmax) is False
    assert activations._core_activation(lambda t: t) is False


@pytest.mark.parametrize("activation", [None, "relu", "gelu", "tanh", "softmax", "mish"])
def test_dense_layer_matches_its_definition(activation):
    """Dense takes the fused op where one core op is its activation, the separate ops otherwise;
    either way the output is ``activation(x @ kernel + bias)``."""
    layer = layers.Dense(7, activation=activation)
    xv = rng.standard_normal((3, 4, 5)).astype(np.float32)
    y = layer(xv)
    z = ops.matmul(fg.tensor(xv), layer.kernel) + layer.bias
    ref = activations.get(activation)(z)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    # float64 layers too
    layer64 = layers.Dense(3, activation=activation, dtype="float64")
    y64 = layer64(xv.astype(np.float64))
    assert y64.dtype == "float64"


def test_dense_layer_matches_torch(torch):
    xv = rng.standard_normal((8, 6, 16)).astype(np.float32)
    layer = layers.Dense(12, activation="gelu")
    x = fg.tensor(xv, requires_grad=True)
    y = layer(x)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    (y * fg.tensor(gy)).sum().backward()
    lin = torch.nn.Linear(16, 12)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(layer.kernel.numpy().T))
        lin.bias.copy_(torch.tensor(layer.bias.numpy()))
    xt = torch.tensor(xv, requires_grad=True)
    yt = torch.nn.functional.gelu(lin(xt))
    (yt * torch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.kernel.grad.numpy(), lin.weight.grad.numpy().T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad.numpy(), lin.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("equation,out_shape,bias_axes,in_shape,linear", [
    ("abc,cde->abde", (None, 4, 8), "de", (3, 5, 6), True),  # MultiHeadAttention's projections
    ("abde,dec->abc", (None, 6), "c", (3, 5, 4, 8), True),  # and its output projection
    ("ab,bc->ac", 7, None, (4, 9), True),
    ("abc,cd->abd", (None, 5), "d", (2, 3, 4), True),
    ("abc,cde->abde", (None, 4, 8), "e", (3, 5, 6), False),  # bias over part of the output
    ("abc,dce->abde", (None, 2, 8), None, (3, 5, 6), False),  # kernel axes in another order
    ("...b,bc->...c", 5, "c", (2, 3, 4), False),
])
@pytest.mark.parametrize("activation", [None, "gelu", "softmax"])
def test_einsum_dense_fused_path(equation, out_shape, bias_axes, in_shape, linear, activation):
    """EinsumDense takes the fused dense op for plain products over trailing axes, with the
    same values and gradients as the einsum."""
    layer = layers.EinsumDense(equation, out_shape, bias_axes=bias_axes, activation=activation,
                               bias_initializer="random_normal")
    xv = rng.standard_normal(in_shape).astype(np.float32)
    x = fg.tensor(xv, requires_grad=True)
    y = layer(x)
    assert (layer._linear is not None) == linear
    ref_layer_out = ops.einsum(equation, fg.tensor(xv), layer.kernel)
    if layer.bias is not None:
        ref_layer_out = ref_layer_out + layer.bias
    ref = activations.get(activation)(ref_layer_out)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    xr = fg.tensor(xv, requires_grad=True)
    z = ops.einsum(equation, xr, layer.kernel.detach())
    if layer.bias is not None:
        z = z + layer.bias.detach()
    activations.get(activation)(z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-5)
