"""Side-by-side float32 matmul timing: ferrograd vs NumPy (OpenBLAS) vs PyTorch, in one run.

Usage (from the repository root, with ferrograd installed, e.g. `pip install .`):

    python benches/bench_matmul.py                  # every shape, 2 threads, 7 rounds
    python benches/bench_matmul.py --rounds 11 --only square
    python benches/bench_matmul.py --threads 1

PyTorch is optional (install it with ../shared/wheels/install_torch.py); it is skipped cleanly
when absent.

Method (see ../shared/PERF-NOTES.md, "Measuring side by side"):
- every library is pinned to the same thread count: ferrograd.set_num_threads, torch.set_num_threads,
  and OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS set *before* NumPy is imported;
- OpenBLAS and OpenMP workers keep spinning after a call, which slows whichever library runs
  next: the script sleeps PAUSE_S before timing each library and interleaves the libraries round
  by round (round r times ferrograd, then NumPy, then PyTorch, with the order rotated each round);
- a round times enough calls to last about ROUND_S; each library keeps its best round (the least
  disturbed on a shared machine) and its median round; both are printed.
All three compute C = A @ B into a freshly allocated result, as a user's `a @ b` does.

Peak: measured at start-up by the FMA probe (`ferrograd._core._measure_fma_peak`: independent FMAs
on the widest vectors, on every thread at once), so it is right whatever the core (Zen 4 issues a
512-bit FMA as two halves, Intel server cores have two full 512-bit pipes, turbo clocks vary).
With --clock-ghz, or where the probe does not exist, the formula cores x 2 FMA units x 8 lanes x
2 flops x clock is used instead (clock from the dependent-multiplication probe
`_measure_clock_ghz`, else 3.0 GHz).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2, help="threads for every library (default 2)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds per shape (default 7)")
    p.add_argument("--round-s", type=float, default=0.15, help="target seconds per round (default 0.15)")
    p.add_argument(
        "--pause-s", type=float, default=0.2, help="sleep before timing each library (default 0.2)"
    )
    p.add_argument(
        "--clock-ghz",
        type=float,
        default=None,
        help="core clock for the peak figure (default: measured, else 3.0)",
    )
    p.add_argument("--only", default="", help="run only shapes whose name contains this text")
    return p.parse_args()


ARGS = _parse_args()
# Must precede the NumPy import: OpenBLAS sizes its pool when it loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import ferrograd as fg  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: compare with NumPy only.
    torch = None

# name, batch (None = plain 2-D product), m, k, n
SHAPES = [
    ("square_64", None, 64, 64, 64),
    ("square_128", None, 128, 128, 128),
    ("square_256", None, 256, 256, 256),
    ("square_512", None, 512, 512, 512),
    ("square_1024", None, 1024, 1024, 1024),
    ("square_2048", None, 2048, 2048, 2048),
    ("gemv_1x4096x4096", None, 1, 4096, 4096),
    ("dense_4096x512->2048", None, 4096, 512, 2048),
    ("attn_qkv_4096x512->1536", None, 4096, 512, 1536),
    ("attn_out_4096x512->512", None, 4096, 512, 512),
    ("bmm_32x(128x64@64x128)", 32, 128, 64, 128),
    # Few rows against a large weight: decode steps of a batch of sequences, small-batch RNN steps.
    ("decode_4x768->3072", None, 4, 768, 3072),
    ("decode_8x4096->4096", None, 8, 4096, 4096),
    ("decode_32x1024->4096", None, 32, 1024, 4096),
]


def _calls_per_round(fn, round_s: float) -> int:
    """How many calls make a round of about `round_s` seconds (at least 1)."""
    fn()
    t0 = time.perf_counter()
    fn()
    dt = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(round_s / dt))


def _time_round(fn, calls: int, pause_s: float) -> float:
    """Seconds per call over one round, after letting other libraries' workers go idle."""
    time.sleep(pause_s)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def main() -> int:
    threads = ARGS.threads
    fg.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    # Peak: the FMA probe (independent FMAs on every thread at once, the widest vectors) unless
    # a clock is given; the clock formula is the fallback where the probe does not exist.
    probe = None if ARGS.clock_ghz is not None else fg._core._measure_fma_peak(threads, 5, 2_000_000)
    if probe is not None:
        peak = probe
        peak_how = f"measured by the FMA probe on {threads} thread(s)"
    else:
        clock, how = ARGS.clock_ghz, "given"
        if clock is None:
            clock, how = fg._core._measure_clock_ghz(), "measured"
            if clock is None:
                clock, how = 3.0, "assumed"
        peak = threads * 2 * 8 * 2 * clock
        peak_how = f"{threads} cores x 2 FMA units x 8 lanes x 2 flops x {clock:.2f} GHz ({how})"
    libs = ["ferrograd", "numpy"] + (["torch"] if torch is not None else [])
    print(f"float32 matmul, {threads} thread(s), {ARGS.rounds} interleaved rounds, best and median round")
    print(
        f"numpy {np.__version__}"
        + (f", torch {torch.__version__}" if torch is not None else ", torch not installed (skipped)")
    )
    cfg = fg._core._gemm_config()
    print(
        f"ferrograd GEMM: {cfg['isa']} {cfg['mr']}x{cfg['nr']} tile, mc/kc/nc = "
        f"{cfg['mc']}/{cfg['kc']}/{cfg['nc']}, {'B' if cfg['order'] == 'b' else 'A'} block in L2 "
        f"(caches: L1d {cfg['l1d'] >> 10} KiB, L2 {cfg['l2'] >> 10} KiB, L3 {cfg['l3'] >> 20} MiB)"
    )
    print(f"peak = {peak:.0f} GFLOP/s ({peak_how})\n")
    header = f"{'shape':26s} " + " ".join(f"{lib + ' best/med':>20s}" for lib in libs)
    header += f" {'fg/np':>6s}" + (f" {'fg/torch':>8s}" if torch is not None else "") + f" {'fg %peak':>8s}"
    print(header + "   (GFLOP/s)")
    ratios_np, ratios_t = [], []
    rng = np.random.default_rng(0)
    for name, batch, m, k, n in SHAPES:
        if ARGS.only and ARGS.only not in name:
            continue
        a_shape = (batch, m, k) if batch else (m, k)
        b_shape = (batch, k, n) if batch else (k, n)
        a = rng.standard_normal(a_shape, dtype=np.float32)
        b = rng.standard_normal(b_shape, dtype=np.float32)
        flops = 2.0 * (batch or 1) * m * k * n
        fa, fb = fg.from_numpy(a), fg.from_numpy(b)
        fns = {
            "ferrograd": lambda fa=fa, fb=fb: fg.ops.matmul(fa, fb),
            "numpy": lambda a=a, b=b: np.matmul(a, b),
        }
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda ta=ta, tb=tb: torch.matmul(ta, tb)
        # Correctness first: a fast wrong answer is not a result.
        expect = np.matmul(a, b)
        got = fns["ferrograd"]().numpy()
        if got.shape != expect.shape or not np.allclose(got, expect, rtol=1e-4, atol=1e-3 * np.sqrt(k)):
            print(
                f"{name}: ferrograd result differs from NumPy (max abs diff "
                f"{np.max(np.abs(got - expect)) if got.shape == expect.shape else 'shape ' + str(got.shape)})"
            )
            return 1
        calls = {lib: _calls_per_round(fns[lib], ARGS.round_s) for lib in libs}
        times = {lib: [] for lib in libs}
        for r in range(ARGS.rounds):
            order = libs[r % len(libs) :] + libs[: r % len(libs)]
            for lib in order:
                times[lib].append(_time_round(fns[lib], calls[lib], ARGS.pause_s))
        best = {lib: flops / min(ts) / 1e9 for lib, ts in times.items()}
        med = {lib: flops / statistics.median(ts) / 1e9 for lib, ts in times.items()}
        line = f"{name:26s} " + " ".join(f"{best[lib]:9.1f} /{med[lib]:8.1f}  " for lib in libs)
        r_np = best["ferrograd"] / best["numpy"]
        ratios_np.append(r_np)
        line += f" {r_np:6.2f}"
        if torch is not None:
            r_t = best["ferrograd"] / best["torch"]
            ratios_t.append(r_t)
            line += f" {r_t:8.2f}"
        line += f" {100 * best['ferrograd'] / peak:7.0f}%"
        if m == 1:
            # GEMV is bandwidth-bound: the matrix is read once.
            gbs = {lib: 4.0 * k * n / min(ts) / 1e9 for lib, ts in times.items()}
            line += "   GB/s " + " ".join(f"{lib}={gbs[lib]:.1f}" for lib in libs)
        print(line, flush=True)
    if ratios_np:
        print(
            f"\ngeometric mean of best-round ratios: ferrograd/numpy {statistics.geometric_mean(ratios_np):.2f}"
            + (f", ferrograd/torch {statistics.geometric_mean(ratios_t):.2f}" if ratios_t else "")
        )
    print("(glibc malloc defaults for every library; ratios > 1 mean ferrograd is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
