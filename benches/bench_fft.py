"""FFTs: ferrograd vs NumPy vs PyTorch, side by side in one process.

    python benches/bench_fft.py [--threads 2] [--rounds 5] [--quick]

Cases: complex FFT rows of a power-of-two length (radix-2) and of a prime length (Bluestein),
rfft rows, and the STFT of one minute of 16 kHz audio with Keras' MelSpectrogram defaults
(fft_length 2048, hop 512, Hann window, centred), float32 in and out. ferrograd computes in f64
inside, NumPy's pocketfft computes float32 input in float32 (NumPy 2) or float64, PyTorch in
float32 (pocketfft/MKL). Method as bench_elementwise.py: libraries interleaved round by round, a
0.2 s pause before each timing, each library's best round kept; ratios > 1 mean ferrograd is
faster. A correctness check against NumPy runs first.
"""
import argparse
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=5)
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


def time_call(fn, min_time=0.25):
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


def bench(cases):
    best = {k: float("inf") for k in cases}
    for _ in range(args.rounds):
        for lib, fn in cases.items():
            time.sleep(0.2)
            best[lib] = min(best[lib], time_call(fn))
    return best


def run(name, fg_fn, np_fn, t_fn):
    cases = {"ferrograd": fg_fn, "numpy": np_fn}
    if torch is not None:
        cases["torch"] = t_fn
    best = bench(cases)
    line = f"{name:40s}" + "".join(f"{best.get(k, float('nan')) * 1e3:11.2f}" for k in ("ferrograd", "numpy", "torch"))
    line += f"{best['numpy'] / best['ferrograd']:9.2f}x"
    line += f"{best['torch'] / best['ferrograd']:9.2f}x" if "torch" in best else "        -"
    print(line, flush=True)


rng = np.random.default_rng(0)
rows = 256 if args.quick else 2048
cases = []
for n in (1024, 1021):
    re = rng.standard_normal((rows, n)).astype(np.float32)
    im = rng.standard_normal((rows, n)).astype(np.float32)
    z = re + 1j * im
    got = ops.fft((re, im))
    err = max(np.abs(got[0].numpy() - np.fft.fft(z).real).max(), np.abs(got[1].numpy() - np.fft.fft(z).imag).max())
    assert err < 1e-3 * np.sqrt(n), f"fft {n}: max error {err}"
    cases.append((f"fft ({rows}, {n}) complex64", re, im, z))

audio = rng.uniform(-1, 1, (1, 16000 * (10 if args.quick else 60))).astype(np.float32)
print(f"ferrograd {fg.__version__}, numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}; "
      f"threads={args.threads}; python {sys.version.split()[0]}")
print(f"{'case':40s}{'fg ms':>11s}{'numpy ms':>11s}{'torch ms':>11s}{'np/fg':>10s}{'torch/fg':>9s}")


def fft_case(name, re, im, z):
    re_fg, im_fg = fg.from_numpy(re), fg.from_numpy(im)
    z64 = z.astype(np.complex64)
    zt = torch.from_numpy(z64) if torch else None
    run(name, lambda: ops.fft((re_fg, im_fg)), lambda: np.fft.fft(z64),
        (lambda: torch.fft.fft(zt)) if torch else None)
    rt = torch.from_numpy(re) if torch else None
    run(name.replace("fft", "rfft").replace("complex64", "float32"), lambda: ops.rfft(re_fg),
        lambda: np.fft.rfft(re), (lambda: torch.fft.rfft(rt)) if torch else None)


for case in cases:
    fft_case(*case)

a_fg = fg.from_numpy(audio)
win = np.hanning(2049)[:-1].astype(np.float32)  # periodic Hann


def np_stft(x):
    p = np.pad(x, ((0, 0), (1024, 1024)), mode="reflect")
    idx = np.arange(0, p.shape[-1] - 2048 + 1, 512)[:, None] + np.arange(2048)[None, :]
    return np.fft.rfft(p[:, idx] * win, axis=-1)


if torch is not None:
    at, wt = torch.from_numpy(audio), torch.from_numpy(win)
ref = np_stft(audio)
got = ops.stft(a_fg, 2048, 512, 2048)
assert np.abs(got[0].numpy() - ref.real).max() < 1e-2, "stft differs from NumPy"
run(f"stft {audio.shape[1] // 16000} s 16 kHz (2048, hop 512)", lambda: ops.stft(a_fg, 2048, 512, 2048),
    lambda: np_stft(audio),
    (lambda: torch.stft(at, 2048, 512, 2048, window=wt, center=True, return_complex=True)) if torch else None)
