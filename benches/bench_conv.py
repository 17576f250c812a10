"""conv2d forward and forward+backward on named shapes: ferrograd (NHWC) vs PyTorch (the faster of
NCHW and channels_last, chosen per shape and pass).

    python benches/bench_conv.py [--threads 2] [--rounds 7] [--only resnet]

Method (../shared/PERF-NOTES.md, "Measuring side by side"): every library pinned to the same thread
count; the libraries interleaved round by round, each round after a short pause; each keeps its best
round (the least disturbed on a shared machine). Forward runs without a tape. Forward+backward
computes the input and weight (and bias) gradients from persistent leaf tensors whose gradients are
cleared each step, as a training loop does; the loss is a sum, so the output gradient is ones.
Ratios > 1 mean ferrograd is faster. The run starts with an FMA peak probe: on a machine loaded by
other tenants every figure drops and PyTorch's OpenMP threads lose more than ours, so quote only
runs whose probe matches the machine's quiet figure.
"""
import argparse
import math
import os
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=7)
ap.add_argument("--pause", type=float, default=0.1, help="seconds of sleep before each timing")
ap.add_argument("--only", default="", help="run only shapes whose name contains this text")
args = ap.parse_args()
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, str(args.threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import ops  # noqa: E402

torch.set_num_threads(args.threads)
fg.set_num_threads(args.threads)

# (name, batch, H, W, Cin, Cout, kernel, stride, padding)
SHAPES = [
    ("mnist_conv1", 128, 28, 28, 1, 32, 3, 1, "valid"),  # Keras MNIST convnet, first layer
    ("mnist_conv2", 128, 13, 13, 32, 64, 3, 1, "valid"),  # ... second layer (after 2x2 pooling)
    ("cifar_block", 32, 32, 32, 64, 64, 3, 1, "same"),  # a CIFAR ResNet block conv
    ("resnet_stage2", 16, 28, 28, 128, 128, 3, 1, "same"),  # ResNet stage 2 (28x28x128)
    ("pointwise", 16, 28, 28, 128, 256, 1, 1, "valid"),  # 1x1 channel expansion
    ("downsample_s2", 16, 56, 56, 64, 128, 3, 2, "same"),  # stride-2 3x3 downsampling
    ("unet_decoder", 8, 64, 64, 128, 64, 3, 1, "same"),  # U-Net decoder conv after the concat
]


def timed(fn, reps):
    time.sleep(args.pause)
    fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def bench_shape(name, n, h, w, ci, co, k, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, ci)).astype(np.float32)
    kern = (rng.standard_normal((k, k, ci, co)) / math.sqrt(k * k * ci)).astype(np.float32)
    b = np.zeros(co, np.float32)
    pad = 0 if padding == "valid" else (k - 1) // 2

    fx, fk, fb = fg.tensor(x), fg.tensor(kern), fg.tensor(b)
    gx, gk, gb = (fg.tensor(a, requires_grad=True) for a in (x, kern, b))
    # "same" with stride 2 pads (0, 1) in TF/Keras for even sizes; PyTorch pads symmetrically.
    # The work differs by one row and column of zeros, which does not matter for timing.

    def fg_fwd():
        with fg.no_grad():
            ops.conv(fx, fk, strides=stride, padding=padding, bias=fb)

    def fg_fb():
        for t in (gx, gk, gb):
            t.grad = None
        ops.conv(gx, gk, strides=stride, padding=padding, bias=gb).sum().backward()

    variants = {}
    for fmt in ("nchw", "channels_last"):
        tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
        tk = torch.from_numpy(kern).permute(3, 2, 0, 1).contiguous()
        if fmt == "channels_last":
            tx = tx.contiguous(memory_format=torch.channels_last)
            tk = tk.contiguous(memory_format=torch.channels_last)
        tb = torch.from_numpy(b)
        lx, lk, lb = (t.detach().clone().requires_grad_() for t in (tx, tk, tb))

        def t_fwd(tx=tx, tk=tk, tb=tb):
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tk, tb, stride=stride, padding=pad)

        def t_fb(lx=lx, lk=lk, lb=lb):
            for t in (lx, lk, lb):
                t.grad = None
            torch.nn.functional.conv2d(lx, lk, lb, stride=stride, padding=pad).sum().backward()

        variants[fmt] = (t_fwd, t_fb)

    # Calls per round: about 0.1 s of the slower pass.
    t1 = timed(fg_fb, 1)
    reps_fb = max(1, int(0.1 / max(t1, 1e-6)))
    t1 = timed(fg_fwd, 1)
    reps_fwd = max(1, int(0.1 / max(t1, 1e-6)))
    best = {}
    for r in range(args.rounds):
        order = [("fg", fg_fwd, fg_fb)] + [(f, *variants[f]) for f in variants]
        order = order[r % len(order):] + order[: r % len(order)]
        for lib, fwd_fn, fb_fn in order:
            for pass_, fn, reps in (("fwd", fwd_fn, reps_fwd), ("fb", fb_fn, reps_fb)):
                t = timed(fn, reps)
                key = (lib, pass_)
                best[key] = min(best.get(key, math.inf), t)
    out = {}
    for pass_ in ("fwd", "fb"):
        ours = best[("fg", pass_)]
        fmt = min(variants, key=lambda f: best[(f, pass_)])
        theirs = best[(fmt, pass_)]
        out[pass_] = (ours, theirs, fmt, theirs / ours)
    oh = (h + 2 * pad - k) // stride + 1
    gflop = 2 * n * oh * oh * co * k * k * ci / 1e9
    f, fb_ = out["fwd"], out["fb"]
    print(
        f"{name:<14} {f[0] * 1e3:8.2f} {f[1] * 1e3:8.2f} {f[2][:4]:>5} {f[3]:6.2f}   "
        f"{fb_[0] * 1e3:8.2f} {fb_[1] * 1e3:8.2f} {fb_[2][:4]:>5} {fb_[3]:6.2f}   "
        f"{gflop / f[0]:6.0f} {3 * gflop / fb_[0]:6.0f}",
        flush=True,
    )
    return f[3], fb_[3]


probe = fg._core._measure_fma_peak(args.threads, 5, 2_000_000)
print(
    f"conv2d, {args.threads} thread(s), best of {args.rounds} interleaved rounds, times in ms; "
    f"torch {torch.__version__}; FMA peak probe {probe:.0f} GFLOP/s" if probe else ""
)
print(
    f"{'shape':<14} {'fg fwd':>8} {'torch':>8} {'fmt':>5} {'ratio':>6}   "
    f"{'fg f+b':>8} {'torch':>8} {'fmt':>5} {'ratio':>6}   {'fg GFLOP/s fwd, f+b':>13}"
)
ratios = [bench_shape(*s) for s in SHAPES if args.only in s[0]]
if ratios:
    gm = [math.exp(sum(math.log(r[i]) for r in ratios) / len(ratios)) for i in (0, 1)]
    print(f"geometric mean of the ratios: forward {gm[0]:.2f}, forward+backward {gm[1]:.2f}")
