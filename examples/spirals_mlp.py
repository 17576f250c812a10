"""Train a small MLP on two interleaved spirals with the raw tensor API and SGD.

Everything numeric runs in ferrograd's Rust core: the forward pass, the softmax cross-entropy,
the backward pass on the autograd tape and the in-place parameter updates. Offline, ~10 s.

    python examples/spirals_mlp.py [--steps N] [--quiet]
"""
import argparse
import math
import time

import numpy as np

import ferrograd as fg
from ferrograd import ops


def two_spirals(n_per_class=500, noise=0.2, seed=0):
    """Points on two interleaved spirals (classes 0 and 1), shape (2n, 2), labels (2n,)."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.0, 1.0, n_per_class)) * 3.0 * math.pi  # (n,)
    xs, ys = [], []
    for label, phase in ((0, 0.0), (1, math.pi)):
        r = t / (3.0 * math.pi) * 4.0
        pts = np.stack([r * np.cos(t + phase), r * np.sin(t + phase)], axis=1)  # (n, 2)
        xs.append(pts + rng.normal(0.0, noise * 0.25, pts.shape))
        ys.append(np.full(n_per_class, label))
    x = np.concatenate(xs).astype(np.float32)  # (2n, 2)
    y = np.concatenate(ys).astype(np.int64)  # (2n,)
    return x, y


def init_params(sizes, seed=0):
    """Glorot-uniform weights and zero biases, leaves that require grad."""
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        w = fg.random.uniform((fan_in, fan_out), -limit, limit, seed=seed + i)
        b = fg.zeros((fan_out,))
        w.requires_grad = True
        b.requires_grad = True
        params += [w, b]
    return params


def forward(params, x):
    h = x  # (B, 2)
    n_layers = len(params) // 2
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        h = h @ w + b  # (B, units)
        if i < n_layers - 1:
            h = ops.tanh(h)
    return h  # (B, 2) logits


def cross_entropy(logits, labels):
    logp = ops.log_softmax(logits, axis=-1)  # (B, C)
    picked = ops.take_along_axis(logp, ops.expand_dims(labels, -1), axis=-1)  # (B, 1)
    return -ops.mean(picked)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    fg.random.seed(0)
    x_np, y_np = two_spirals()
    x, y = fg.from_numpy(x_np), fg.from_numpy(y_np)
    params = init_params([2, 64, 64, 2])
    velocity = [fg.zeros_like(p) for p in params]
    lr, momentum, batch = 0.1, 0.9, 128
    rng = np.random.default_rng(1)
    n = x_np.shape[0]
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = fg.from_numpy(rng.integers(0, n, batch))
        xb, yb = ops.take(x, idx, axis=0), ops.take(y, idx, axis=0)
        loss = cross_entropy(forward(params, xb), yb)
        for p in params:
            p.grad = None
        loss.backward()
        with fg.no_grad():
            for p, v in zip(params, velocity):
                v.assign(v * momentum - p.grad * lr)  # SGD with momentum
                p.assign_add(v)
        if not args.quiet and (step % 250 == 0 or step == 1):
            print(f"step {step:5d}  loss {loss.item():.4f}")
    with fg.no_grad():
        pred = ops.argmax(forward(params, x), axis=-1)
    acc = float(ops.mean(ops.cast(ops.equal(pred, y), "float32")).item())
    print(f"final accuracy {acc * 100:.2f}% on {n} points ({time.perf_counter() - t0:.1f} s)")
    return acc


if __name__ == "__main__":
    main()
