"""Side-by-side attention timing: ferrograd's fused kernel vs torch scaled_dot_product_attention.

Usage (repository root, ferrograd installed, PyTorch optional but needed for the ratios):

    python benches/bench_attention.py                 # every case, 2 threads, 5 rounds
    python benches/bench_attention.py --rounds 7 --only decode

Cases: B=4, N=8, H=64, S=T=512/2048, causal and not, forward and forward+backward; decode: one
query against a 4096-long cache, 32 heads of 128 (B=1), forward only; bench_gpt's small heads
(B=32, N=4, H=32, S=T=128, causal); LayerNorm forward+backward
(`_core.layer_norm` vs torch.nn.LayerNorm) on three (rows, features) shapes. float32 throughout.

Method (../shared/PERF-NOTES.md, "Measuring side by side"): both libraries pinned to the same
thread count; the libraries alternate round by round with a PAUSE_S sleep before each (OpenMP
workers keep spinning after a call); each keeps its best round, the median is printed too.
Torch runs with its default malloc settings. Inputs are made once per case; each timed call
builds the graph (leaf tensors requiring grad) and runs backward with a fixed upstream gradient.

GEMM fraction: attention FLOPs (forward 4*B*N*T*S*H, halved for causal; backward 2.5x the
forward: five T x S x H products against two) over time, divided by ferrograd's own matmul
GFLOP/s on 1024^3 measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--pause-s", type=float, default=0.2)
    p.add_argument("--only", default="")
    return p.parse_args()


ARGS = _args()
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import numpy as np  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import _core  # noqa: E402

try:
    import torch  # noqa: E402
except ImportError:  # pragma: no cover
    torch = None


def _cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _best(fn, rounds):
    times = []
    for _ in range(rounds):
        time.sleep(ARGS.pause_s)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _interleave(fns: dict, rounds: int) -> dict:
    res = {k: [] for k in fns}
    for r in range(rounds):
        order = list(fns)
        if r % 2:
            order.reverse()
        for k in order:
            res[k] += _best(fns[k], 1)
    return res


def _gemm_gflops() -> float:
    n = 1024
    a = fg.tensor(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
    best = min(_best(lambda: a @ a, 7))
    return 2 * n**3 / best / 1e9


def main() -> None:
    fg.set_num_threads(ARGS.threads)
    if torch is not None:
        torch.set_num_threads(ARGS.threads)
    print(f"CPU: {_cpu_name()}; {ARGS.threads} threads; torch {torch.__version__ if torch else 'absent'}")
    gemm = _gemm_gflops()
    print(f"ferrograd matmul 1024^3: {gemm:.0f} GFLOP/s (the GEMM reference)")
    print(f"{'case':34s} {'fg best/med ms':>16s} {'torch best/med ms':>18s} {'torch/fg':>9s} {'GFLOP/s':>8s} {'of GEMM':>8s}")
    rng = np.random.default_rng(0)
    cases = []
    for s in (512, 2048):
        for causal in (False, True):
            for bwd in (False, True):
                cases.append((f"B4 N8 H64 S{s}{' causal' if causal else ''} {'fwd+bwd' if bwd else 'fwd'}", 4, s, s, 8, 8, 64, causal, bwd))
    cases.append(("decode B1 N32 H128 T1 S4096", 1, 1, 4096, 32, 32, 128, False, False))
    # The small heads of bench_gpt's model (width 128, 4 heads, block 128, batch 32).
    for bwd in (False, True):
        cases.append((f"gpt B32 N4 H32 S128 causal {'fwd+bwd' if bwd else 'fwd'}", 32, 128, 128, 4, 4, 32, True, bwd))
    for case in cases:
        if ARGS.only and ARGS.only not in case[0]:
            continue
        _run_case(rng, gemm, *case)
    for shape in ((4096, 512), (2048, 768), (16384, 1024)):
        name = f"layer_norm {shape[0]}x{shape[1]} fwd+bwd"
        if ARGS.only and ARGS.only not in name:
            continue
        _run_layer_norm(rng, name, shape)


def _run_layer_norm(rng, name, shape):
    """fused LayerNorm (gamma, beta, eps 1e-3) vs torch.nn.LayerNorm; backward with a given g."""
    c = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    go = rng.standard_normal(shape).astype(np.float32)
    fx, fgo = fg.tensor(x), fg.tensor(go)
    fgm = fg.tensor(np.ones(c, np.float32), requires_grad=True)
    fb = fg.tensor(np.zeros(c, np.float32), requires_grad=True)

    def ours():
        a = fx.detach()
        a.requires_grad = True
        _core.layer_norm(a, fgm, fb, 1e-3).backward(fgo)

    fns = {"fg": ours}
    if torch is not None:
        ln = torch.nn.LayerNorm(c, eps=1e-3)
        tx, tgo = torch.from_numpy(x), torch.from_numpy(go)

        def theirs():
            ln(tx.detach().requires_grad_()).backward(tgo)

        fns["torch"] = theirs
    for f in fns.values():
        f()
    res = _interleave(fns, max(ARGS.rounds, 7))
    f_best, f_med = min(res["fg"]), statistics.median(res["fg"])
    # traffic: forward reads x, writes y; backward reads x and g, writes dx
    gbs = 5 * x.nbytes / f_best / 1e9
    if torch is not None:
        t_best, t_med = min(res["torch"]), statistics.median(res["torch"])
        tcol = f"{t_best*1e3:8.2f}/{t_med*1e3:8.2f}"
        ratio = f"{t_best / f_best:8.2f}x"
    else:
        tcol, ratio = "-", "-"
    print(f"{name:34s} {f_best*1e3:7.2f}/{f_med*1e3:7.2f} {tcol:>18s} {ratio:>9s} {gbs:6.1f} GB/s (5 passes)")


def _run_case(rng, gemm, name, b, t, s, n, kh, h, causal, bwd):
    q = rng.standard_normal((b, t, n, h)).astype(np.float32)
    k = rng.standard_normal((b, s, kh, h)).astype(np.float32)
    v = rng.standard_normal((b, s, kh, h)).astype(np.float32)
    go = rng.standard_normal((b, t, n, h)).astype(np.float32)
    fq, fk, fv, fgo = (fg.tensor(x) for x in (q, k, v, go))

    def ours():
        if bwd:
            ts = [x.detach() for x in (fq, fk, fv)]
            for x in ts:
                x.requires_grad = True
            o = _core.dot_product_attention(*ts, is_causal=causal)
            (o * fgo).sum().backward()
        else:
            with fg.no_grad():
                _core.dot_product_attention(fq, fk, fv, is_causal=causal)

    fns = {"fg": ours}
    if torch is not None:
        tq, tk, tv, tgo = (torch.from_numpy(x).transpose(1, 2) for x in (q, k, v, go))

        def theirs():
            if bwd:
                ts = [x.detach().requires_grad_() for x in (tq, tk, tv)]
                o = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=causal)
                o.backward(tgo)
            else:
                with torch.no_grad():
                    torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)

        fns["torch"] = theirs
    for f in fns.values():
        f()  # warm-up
    res = _interleave(fns, ARGS.rounds)
    f_best, f_med = min(res["fg"]), statistics.median(res["fg"])
    flops = 4 * b * n * t * s * h * (0.5 if causal else 1.0) * (3.5 if bwd else 1.0)
    gf = flops / f_best / 1e9
    if torch is not None:
        t_best, t_med = min(res["torch"]), statistics.median(res["torch"])
        tcol = f"{t_best*1e3:8.1f}/{t_med*1e3:8.1f}"
        ratio = f"{t_best / f_best:8.2f}x"
    else:
        tcol, ratio = "-", "-"
    if name.startswith("decode"):
        gbs = (k.nbytes + v.nbytes) / f_best / 1e9
        print(f"{name:34s} {f_best*1e3:7.1f}/{f_med*1e3:7.1f} {tcol:>18s} {ratio:>9s} {gbs:6.1f} GB/s (K+V read once)")
    else:
        print(f"{name:34s} {f_best*1e3:7.1f}/{f_med*1e3:7.1f} {tcol:>18s} {ratio:>9s} {gf:8.0f} {gf / gemm:8.0%}")


if __name__ == "__main__":
    main()
