"""Activations, softmax and reductions against PyTorch: values and gradients (float32)."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

torch = pytest.importorskip("torch")

rng = np.random.default_rng(7)
X = (rng.standard_normal((64, 33)) * 3).astype(np.float32)

CASES = [
    ("relu", ops.relu, torch.relu),
    ("relu6", ops.relu6, torch.nn.functional.relu6),
    ("leaky_relu", lambda t: ops.leaky_relu(t, 0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    ("elu", lambda t: ops.elu(t, 0.7), lambda t: torch.nn.functional.elu(t, 0.7)),
    ("selu", ops.selu, torch.selu),
    ("gelu", lambda t: ops.gelu(t, approximate=False), torch.nn.functional.gelu),
    ("gelu_tanh", lambda t: ops.gelu(t, approximate=True),
     lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
    ("silu", ops.silu, torch.nn.functional.silu),
    ("sigmoid", ops.sigmoid, torch.sigmoid),
    ("tanh", ops.tanh, torch.tanh),
    ("softplus", ops.softplus, torch.nn.functional.softplus),
    ("softsign", ops.softsign, torch.nn.functional.softsign),
    ("exp", lambda t: ops.exp(t * 0.3), lambda t: torch.exp(t * 0.3)),
    ("erf", ops.erf, torch.erf),
    ("softmax0", lambda t: ops.softmax(t, axis=0), lambda t: torch.softmax(t, 0)),
    ("softmax1", lambda t: ops.softmax(t, axis=-1), lambda t: torch.softmax(t, -1)),
    ("log_softmax", lambda t: ops.log_softmax(t, axis=-1), lambda t: torch.log_softmax(t, -1)),
    ("logsumexp", lambda t: ops.logsumexp(t, axis=1), lambda t: torch.logsumexp(t, 1)),
    ("var", lambda t: ops.var(t, axis=0), lambda t: torch.var(t, 0, unbiased=False)),
    ("max", lambda t: ops.max(t, axis=1), lambda t: torch.amax(t, 1)),
]


@pytest.mark.parametrize("name,f_fg,f_t", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(name, f_fg, f_t):
    g = rng.standard_normal(np.asarray(f_t(torch.from_numpy(X))).shape).astype(np.float32)
    x = fg.tensor(X, requires_grad=True)
    y = f_fg(x)
    (y * fg.tensor(g)).sum().backward()
    xt = torch.tensor(X, requires_grad=True)
    yt = f_t(xt)
    (yt * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=2e-5, atol=2e-5)


def test_matmul_batched_matches_torch():
    a = rng.standard_normal((3, 1, 17, 9)).astype(np.float32)
    b = rng.standard_normal((4, 9, 5)).astype(np.float32)
    x, w = fg.tensor(a, requires_grad=True), fg.tensor(b, requires_grad=True)
    (x @ w).sum().backward()
    xt, wt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (xt @ wt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-5)
