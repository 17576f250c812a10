"""TextVectorization: ferrograd against Keras 3 on TensorFlow (issue 15), one run.

    python benches/bench_text.py [--rounds 3] [--tf-python /tmp/tfvenv/bin/python] [--only int_adapt ...]

TensorFlow lives in a side virtualenv (``--tf-python`` or ``$FERROGRAD_TF_PYTHON``; default
``/tmp/tfvenv/bin/python`` when it exists), for example::

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu "keras==3.15.*"

Without it the Keras column is skipped, with a message.

Data: the non-empty lines of Tiny Shakespeare (``$FERROGRAD_DATA`` or ``../shared/data``) repeated
until there are ``--n`` of them (100,000), as a NumPy ``str`` array. Cases, max_tokens=20000:

- ``int_adapt`` / ``int_call``: ``output_mode="int", output_sequence_length=32``; adapt on all the
  lines, then the layer called on them in batches of ``--batch`` (1024) slices, as Keras users do.
- ``tfidf_adapt`` / ``tfidf_call``: ``output_mode="tf_idf", ngrams=2``, adapt then call likewise.
- ``multi_hot_call``: ``output_mode="multi_hot"``, called likewise (after an untimed adapt).

Method: each (library, case) runs in its own fresh subprocess, with ``--threads`` threads (the
machine's count by default) in both libraries. A call case adapts (untimed, before the memory
window) and calls once untimed (inside it) first.
Time: best of ``--rounds`` rounds, 0.2 s pause before each; rounds stop early once a case has run
``--budget`` seconds (Keras' TF-IDF adapt takes about a minute a round), and the table says how
many ran. Peak memory: the process's RSS high-water mark (``VmHWM`` of ``/proc/self/status``)
over the measured work, minus its RSS just before it; the high-water mark is reset there by
writing 5 to ``/proc/self/clear_refs``, so setup (imports, data, a call case's adapt) is not
counted. Outputs: after the timing, an untimed pass compares the vocabularies and a SHA-256 of
every batch's output (int64 ids; float32 for the vector modes, whatever dtype each library
returns); on a mismatch the first batches are compared element-wise.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LAYER = {
    "int": {"output_mode": "int", "output_sequence_length": 32},
    "tfidf": {"output_mode": "tf_idf", "ngrams": 2},
    "multi_hot": {"output_mode": "multi_hot"},
}
CASES = ["int_adapt", "int_call", "tfidf_adapt", "tfidf_call", "multi_hot_call"]


def data_dir() -> Path:
    env = os.environ.get("FERROGRAD_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def load_texts(d: Path, n: int) -> np.ndarray:
    text = (d / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return np.array((lines * (n // len(lines) + 1))[:n])


def status_kb(key: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak() -> int:
    """Resets the RSS high-water mark; returns the current RSS (kB)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_kb("VmRSS")


def worker(a) -> None:
    layer_name, what = a.case.rsplit("_", 1)
    kwargs = LAYER[layer_name]
    texts = load_texts(Path(a.data), a.n)
    if a.worker == "keras":
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
        layer = keras.layers.TextVectorization(max_tokens=a.max_tokens, **kwargs)
        version = f"keras {keras.__version__} / TF {tf.__version__}"
        to_np = np.asarray
    else:
        import ferrograd
        from ferrograd.layers import TextVectorization
        ferrograd.set_num_threads(a.threads)
        layer = TextVectorization(max_tokens=a.max_tokens, **kwargs)
        version = f"ferrograd {getattr(ferrograd, '__version__', '')}".strip()
        to_np = lambda t: t.numpy()  # noqa: E731
    batches = [texts[i:i + a.batch] for i in range(0, len(texts), a.batch)]

    def call():
        for b in batches:
            layer(b)

    if what == "call":
        layer.adapt(texts)
    base = reset_peak()
    if what == "call":
        call()
    fn = call if what == "call" else (lambda: layer.adapt(texts))
    times, start = [], time.perf_counter()
    while len(times) < a.rounds and (not times or time.perf_counter() - start < a.budget):
        time.sleep(0.2)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    peak_mb = (status_kb("VmHWM") - base) / 1024
    # untimed check pass
    out_dir = Path(a.out)
    vocab = [str(v) for v in layer.get_vocabulary()]
    (out_dir / f"{a.worker}_{a.case}_vocab.json").write_text(json.dumps(vocab))
    digest, dtype = None, None
    if what == "call":
        h = hashlib.sha256()
        canon = np.int64 if kwargs["output_mode"] == "int" else np.float32
        for i, b in enumerate(batches):
            out = np.asarray(to_np(layer(b)))
            dtype = str(out.dtype)
            out = np.ascontiguousarray(out.astype(canon))
            h.update(str(out.shape).encode())
            h.update(out.tobytes())
            if i < 2:
                np.save(out_dir / f"{a.worker}_{a.case}_{i}.npy", out)
        digest = h.hexdigest()
    print(json.dumps({"version": version, "times": times, "peak_mb": round(peak_mb, 1),
                      "vocab_size": len(vocab), "digest": digest, "out_dtype": dtype}))


def run_worker(python: str, lib: str, case: str, a, out: str) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--worker", lib, "--case", case, "--out", out,
           "--data", str(data_dir()), "--n", str(a.n), "--batch", str(a.batch), "--rounds", str(a.rounds),
           "--budget", str(a.budget), "--max-tokens", str(a.max_tokens), "--threads", str(a.threads)]
    # RAYON_NUM_THREADS too: with set_num_threads(1) ferrograd's text par_iters still run on Rayon's
    # global pool (threading::install runs them inline, outside its own pool).
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "", "RAYON_NUM_THREADS": str(a.threads)}
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{lib} {case} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare(out: str, case: str, res: dict) -> str:
    p = Path(out)
    va = json.loads((p / f"ferrograd_{case}_vocab.json").read_text())
    vb = json.loads((p / f"keras_{case}_vocab.json").read_text())
    if va != vb:
        diff = next((i for i, (x, y) in enumerate(zip(va, vb)) if x != y), min(len(va), len(vb)))
        return f"vocab DIFFERS (sizes {len(va)}/{len(vb)}, first at index {diff})"
    if not case.endswith("_call"):
        return f"vocab equal ({len(va)})"
    if res["ferrograd"]["digest"] == res["keras"]["digest"]:
        return f"vocab equal, outputs identical (all batches; dtypes {res['ferrograd']['out_dtype']}" \
               f" / {res['keras']['out_dtype']})"
    x, y = np.load(p / f"ferrograd_{case}_0.npy"), np.load(p / f"keras_{case}_0.npy")
    if x.shape != y.shape:
        return f"vocab equal, outputs DIFFER (batch 0 shapes {x.shape} / {y.shape})"
    bad = x != y
    return (f"vocab equal, outputs DIFFER: batch 0 has {int(bad.sum())} unequal elements, "
            f"max abs diff {float(np.abs(x.astype(np.float64) - y).max()):.3g}")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next(ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def fma_check() -> str:
    try:
        import ferrograd._core as core
        return f"{core._measure_fma_peak(os.cpu_count() or 1, 5, 2_000_000):.0f} GFLOP/s"
    except (ImportError, AttributeError):
        return "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description="TextVectorization: ferrograd vs Keras 3 on TensorFlow")
    ap.add_argument("--rounds", type=int, default=3, help="best of N rounds")
    ap.add_argument("--budget", type=float, default=60.0, help="stop adding rounds to a case after this many s")
    ap.add_argument("--n", type=int, default=100_000, help="number of lines")
    ap.add_argument("--batch", type=int, default=1024, help="call batch size (both libraries)")
    ap.add_argument("--max-tokens", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", nargs="+", choices=CASES, default=CASES)
    default_tf = "/tmp/tfvenv/bin/python" if Path("/tmp/tfvenv/bin/python").exists() else None
    ap.add_argument("--tf-python", default=os.environ.get("FERROGRAD_TF_PYTHON", default_tf),
                    help="python of a virtualenv with tensorflow and keras 3")
    ap.add_argument("--worker", choices=["ferrograd", "keras"], help=argparse.SUPPRESS)
    ap.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a)
    if not (data_dir() / "tinyshakespeare" / "input.txt").exists():
        sys.exit(f"Tiny Shakespeare not found under {data_dir()} (set FERROGRAD_DATA)")
    libs = {"ferrograd": sys.executable}
    if a.tf_python and Path(a.tf_python).exists():
        libs["keras"] = a.tf_python
    else:
        print(f"# Keras/TensorFlow peer skipped: no python at --tf-python / $FERROGRAD_TF_PYTHON ({a.tf_python!r})")
    print(f"# CPU: {cpu_model()}; {os.cpu_count()} hardware threads; {a.threads} threads per library; "
          f"python {sys.version.split()[0]}")
    print(f"# load check (ferrograd FMA peak, ~330-350 GFLOP/s when quiet): {fma_check()} before", flush=True)
    print(f"# {a.n} lines, max_tokens={a.max_tokens}, call batches of {a.batch}; time = best of "
          f"{a.rounds} rounds (fewer past {a.budget:.0f} s); MB = peak RSS (VmHWM) over the measured work "
          "minus RSS before it (call cases: after the adapt)", flush=True)
    head = f"{'case':15s} {'ferrograd s':>11s} {'keras/TF s':>10s} {'TF/ours':>8s} {'ours MB':>8s} {'TF MB':>8s}  check"
    print(head)
    versions = set()
    with tempfile.TemporaryDirectory(prefix="bench_text_") as out:
        for case in a.only:
            res = {lib: run_worker(py, lib, case, a, out) for lib, py in libs.items()}
            versions.update(r["version"] for r in res.values())
            f = res["ferrograd"]
            k = res.get("keras")
            fb = min(f["times"])
            line = f"{case:15s} {fb:11.3f}"
            if k:
                kb = min(k["times"])
                rounds = "" if len(k["times"]) == a.rounds else f" [TF: {len(k['times'])} round(s)]"
                line += f" {kb:10.3f} {kb / fb:7.1f}x {f['peak_mb']:8.1f} {k['peak_mb']:8.1f}  {compare(out, case, res)}"
                line += rounds
            else:
                line += f" {'-':>10s} {'-':>8s} {f['peak_mb']:8.1f} {'-':>8s}  (no peer)"
            print(line, flush=True)
    print(f"# {'; '.join(sorted(versions))}")
    print(f"# load check after: {fma_check()}")


if __name__ == "__main__":
    main()
