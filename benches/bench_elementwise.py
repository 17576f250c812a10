"""ferrograd vs NumPy vs PyTorch, side by side in one process: large elementwise ops, last-axis
reductions and softmax, and the per-op overhead of tiny ops.

    python benches/bench_elementwise.py [--threads 2] [--rounds 7]

Method (see PERF-NOTES "Measuring side by side"): every library pinned to the same thread count,
libraries interleaved round by round with a 0.2 s pause before each timing (OpenBLAS/OpenMP
workers spin after a call), each library's best round kept. Ratios > 1 mean ferrograd is faster.
PyTorch runs with glibc's default malloc settings, as its users get it.
"""
import argparse
import os
import statistics
import sys
import time

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=7)
ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
args = ap.parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

import numpy as np  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import ops  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(args.threads)
except ImportError:
    torch = None

fg.set_num_threads(args.threads)

N = 1_000_000 if args.quick else 10_000_000
R = 1024 if args.quick else 4096


def time_call(fn, min_time=0.25):
    """Mean seconds per call over a batch lasting at least `min_time`."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return dt / n
        n = max(n * 2, int(n * min_time / max(dt, 1e-9)) + 1)


def bench(cases, rounds):
    """cases: {lib: fn}; returns {lib: best seconds per call}."""
    best = {k: float("inf") for k in cases}
    for _ in range(rounds):
        for lib, fn in cases.items():
            time.sleep(0.2)
            best[lib] = min(best[lib], time_call(fn))
    return best


rng = np.random.default_rng(0)
a_np = rng.standard_normal(N).astype(np.float32)
b_np = rng.standard_normal(N).astype(np.float32)
m_np = rng.standard_normal((R, R)).astype(np.float32)
a_fg, b_fg, m_fg = fg.from_numpy(a_np), fg.from_numpy(b_np), fg.from_numpy(m_np)
if torch is not None:
    a_t, b_t, m_t = torch.from_numpy(a_np), torch.from_numpy(b_np), torch.from_numpy(m_np)


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


rows = []


def run(name, fg_fn, np_fn, t_fn, nbytes=None):
    cases = {"ferrograd": fg_fn, "numpy": np_fn}
    if torch is not None and t_fn is not None:
        cases["torch"] = t_fn
    best = bench(cases, args.rounds)
    rows.append((name, best, nbytes))
    line = f"{name:34s}" + "".join(f"{best.get(k, float('nan')) * 1e6:12.1f}" for k in ("ferrograd", "numpy", "torch"))
    line += f"{best['numpy'] / best['ferrograd']:9.2f}x"
    line += f"{best['torch'] / best['ferrograd']:9.2f}x" if "torch" in best else "        -"
    if nbytes:
        line += f"{nbytes / best['ferrograd'] / 1e9:9.1f}"
    print(line, flush=True)


print(f"ferrograd {fg.__version__} ({fg._core.simd_isa()}), numpy {np.__version__}, "
      f"torch {torch.__version__ if torch else 'absent'}; threads={args.threads}; python {sys.version.split()[0]}")
print(f"{'op':34s}{'fg us':>12s}{'numpy us':>12s}{'torch us':>12s}{'np/fg':>10s}{'torch/fg':>9s}{'fg GB/s':>9s}")
nb3 = 3 * 4 * N
nb2 = 2 * 4 * N
run(f"add {N // 10**6}M f32", lambda: a_fg + b_fg, lambda: a_np + b_np,
    (lambda: a_t + b_t) if torch else None, nb3)
run(f"mul {N // 10**6}M f32", lambda: a_fg * b_fg, lambda: a_np * b_np,
    (lambda: a_t * b_t) if torch else None, nb3)
run(f"exp {N // 10**6}M f32", lambda: ops.exp(a_fg), lambda: np.exp(a_np),
    (lambda: torch.exp(a_t)) if torch else None, nb2)
run(f"tanh {N // 10**6}M f32", lambda: ops.tanh(a_fg), lambda: np.tanh(a_np),
    (lambda: torch.tanh(a_t)) if torch else None, nb2)
run(f"sum last axis ({R},{R})", lambda: ops.sum(m_fg, axis=-1), lambda: m_np.sum(axis=-1),
    (lambda: m_t.sum(dim=-1)) if torch else None, 4 * R * R)
run(f"max last axis ({R},{R})", lambda: ops.max(m_fg, axis=-1), lambda: m_np.max(axis=-1),
    (lambda: m_t.amax(dim=-1)) if torch else None, 4 * R * R)
run(f"softmax last axis ({R},{R})", lambda: ops.softmax(m_fg, axis=-1), lambda: np_softmax(m_np),
    (lambda: torch.softmax(m_t, dim=-1)) if torch else None, 2 * 4 * R * R)

run(f"gelu (exact, erf) {N // 10**6}M f32", lambda: ops.gelu(a_fg, approximate=False),
    lambda: 0.5 * a_np * (1.0 + np.tanh(a_np)),  # NumPy has no erf: a tanh pass for scale
    (lambda: torch.nn.functional.gelu(a_t)) if torch else None, nb2)

# A Dense layer's forward, GPT-small's feed-forward: (4096, 128) @ (128, 512) + bias, tanh GELU.
# ferrograd: the fused dense op (bias in the product's epilogue); NumPy: the three steps.
DM, DK, DN = (1024, 128, 512) if args.quick else (4096, 128, 512)
dx_np = rng.standard_normal((DM, DK)).astype(np.float32)
dw_np = (rng.standard_normal((DK, DN)) / DK**0.5).astype(np.float32)
db_np = rng.standard_normal(DN).astype(np.float32)
dx_fg, dw_fg, db_fg = fg.tensor(dx_np), fg.tensor(dw_np), fg.tensor(db_np)
dense_fg = fg.layers.Dense(DN, activation=fg.activations.gelu)  # exact GELU
dense_fg.build((None, DK))
dense_fg.set_weights([dw_np, db_np])


def np_dense():
    z = dx_np @ dw_np + db_np
    return 0.5 * z * (1.0 + np.tanh(z))  # NumPy has no erf: a tanh pass for scale


if torch is not None:
    dx_t, dw_t, db_t = torch.from_numpy(dx_np), torch.from_numpy(dw_np.T.copy()), torch.from_numpy(db_np)
def fg_dense():
    with fg.no_grad():  # inference, as torch's tensors without requires_grad
        return dense_fg(dx_fg)


run(f"Dense+gelu ({DM},{DK})@({DK},{DN})", fg_dense, np_dense,
    (lambda: torch.nn.functional.gelu(torch.nn.functional.linear(dx_t, dw_t, db_t))) if torch else None)

one_fg, two_fg = fg.tensor([1.0]), fg.tensor([2.0])
one_np, two_np = np.ones(1, np.float32), np.full(1, 2.0, np.float32)
if torch is not None:
    one_t, two_t = torch.ones(1), torch.full((1,), 2.0)
run("tiny add (1 element), per call", lambda: one_fg + two_fg, lambda: one_np + two_np,
    (lambda: one_t + two_t) if torch else None)

x_fg = fg.tensor([1.5], requires_grad=True)
w_fg = fg.tensor([0.5], requires_grad=True)


def fg_graph():
    y = ops.tanh(x_fg * w_fg + 1.0).sum()
    y.backward()


def np_graph():  # numpy has no autograd: the forward alone, for scale
    np.tanh(one_np * two_np + 1.0).sum()


if torch is not None:
    x_t = torch.tensor([1.5], requires_grad=True)
    w_t = torch.tensor([0.5], requires_grad=True)

    def t_graph():
        y = torch.tanh(x_t * w_t + 1.0).sum()
        y.backward()

run("tiny fwd+bwd graph (4 ops)", fg_graph, np_graph, t_graph if torch else None)

geo = statistics.geometric_mean([r[1]["torch"] / r[1]["ferrograd"] for r in rows if "torch" in r[1]]) if torch else None
print(f"\ngeometric mean speedup vs numpy: "
      f"{statistics.geometric_mean([r[1]['numpy'] / r[1]['ferrograd'] for r in rows]):.2f}x"
      + (f", vs torch: {geo:.2f}x" if geo else ""))
