"""conv2d (3x3, "same", NHWC) forward and forward+backward: ferrograd vs PyTorch (channels_last).

    python benches/bench_conv.py [--threads 2] [--rounds 5]

Same method as bench_elementwise.py: both libraries pinned to the same thread count, interleaved
round by round with a short pause, best round kept. Ratios > 1 mean ferrograd is faster.
"""
import argparse
import os
import time

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=5)
args = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import ops  # noqa: E402

torch.set_num_threads(args.threads)
fg.set_num_threads(args.threads)

SHAPES = [  # (name, N, H, W, Cin, Cout)
    ("mnist_conv1", 32, 28, 28, 1, 32),
    ("cnn_mid", 128, 14, 14, 32, 64),
    ("cifar_conv", 32, 32, 32, 64, 64),
]


def best(fn, rounds):
    fn()
    times = []
    for _ in range(rounds):
        time.sleep(0.2)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


print(f"threads={args.threads}  times in ms (best of {args.rounds})")
print(f"{'shape':<12} {'fg fwd':>9} {'torch fwd':>9} {'ratio':>6} {'fg f+b':>9} {'torch f+b':>9} {'ratio':>6}")
rng = np.random.default_rng(0)


def bench_shape(name, n, h, w, ci, co):
    x = rng.standard_normal((n, h, w, ci)).astype(np.float32)
    k = (rng.standard_normal((3, 3, ci, co)) * 0.1).astype(np.float32)
    b = np.zeros(co, np.float32)
    fx, fk, fb = fg.tensor(x), fg.tensor(k), fg.tensor(b)
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    tk = torch.from_numpy(k).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
    tb = torch.from_numpy(b)

    def fg_fwd():
        with fg.no_grad():
            ops.conv(fx, fk, padding="same", bias=fb)

    def t_fwd():
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tk, tb, padding=1)

    def fg_fb():
        xr, kr, br = (fg.tensor(a, requires_grad=True) for a in (x, k, b))
        ops.conv(xr, kr, padding="same", bias=br).sum().backward()

    def t_fb():
        xr = tx.detach().requires_grad_()
        kr = tk.detach().requires_grad_()
        br = tb.detach().requires_grad_()
        torch.nn.functional.conv2d(xr, kr, br, padding=1).sum().backward()

    res = []
    for a, c in ((fg_fwd, t_fwd), (fg_fb, t_fb)):
        ta, tc = best(a, args.rounds), best(c, args.rounds)
        res += [ta * 1e3, tc * 1e3, tc / ta]
    print(f"{name:<12} {res[0]:9.2f} {res[1]:9.2f} {res[2]:6.2f} {res[3]:9.2f} {res[4]:9.2f} {res[5]:6.2f}")


for shape in SHAPES:
    bench_shape(*shape)
