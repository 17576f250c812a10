"""Tokenizer benchmarks: ferrograd vs tiktoken vs Hugging Face `tokenizers`, side by side.

Run from the repo root (wrap in the machine's build lock when sharing the machine):

    python benches/bench_tokenizer.py                 # everything
    python benches/bench_tokenizer.py --only encode   # encode throughput only (also: patho, train)

Method (see shared PERF-NOTES): libraries are timed in interleaved rounds with a 0.2 s pause
before each timing, and each one's best round is reported (the machine is shared and noisy).
Outputs are checked for equality with tiktoken before timing. Training runs each trainer in a
fresh subprocess and reports wall time and peak RSS (VmHWM) of that process.

Data: ``$FERROGRAD_DATA`` or ``../shared/data`` (Tiny Shakespeare, the tiktoken rank files, GPT-2's
files); "source code" is the Python standard library's .py files, read in sorted order.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def data_dir() -> Path:
    env = os.environ.get("FERROGRAD_DATA")
    d = Path(env) if env else REPO.parent / "shared" / "data"
    if not d.is_dir():
        sys.exit(f"data folder {d} not found (set FERROGRAD_DATA)")
    return d


def source_code(n_bytes: int) -> list[str]:
    """Python standard library sources, sorted by path, until n_bytes."""
    out, size = [], 0
    for p in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "**", "*.py"), recursive=True)):
        if "site-packages" in p:
            continue
        try:
            t = Path(p).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        out.append(t)
        size += len(t.encode())
        if size >= n_bytes:
            break
    return out


def best_of(fns: dict, rounds: int) -> dict:
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            time.sleep(0.2)
            t0 = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def reference_encoders(d: Path):
    import tiktoken
    from tokenizer_helpers import tiktoken_reference

    from ferrograd import tokenizers

    os.environ.setdefault("FERROGRAD_DATA", str(d))
    fg = {n: tokenizers.load_tiktoken(d / "tiktoken" / f"{n}.tiktoken", encoding=n) for n in ["cl100k_base", "o200k_base", "r50k_base"]}
    tk = {n: tiktoken_reference(n) for n in fg}
    return fg, tk, tiktoken


def hf_gpt2(d: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE.from_file(str(d / "gpt2" / "encoder.json"), str(d / "gpt2" / "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def bench_encode(d: Path, rounds: int) -> list[dict]:
    import ferrograd

    fg, tk, _ = reference_encoders(d)
    hf = hf_gpt2(d)
    shakes = (d / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    code_docs = source_code(3 << 20)
    code = "".join(code_docs)
    corpora = {"shakespeare": shakes, "source_code": code}
    rows = []
    for cname, text in corpora.items():
        mb = len(text.encode()) / 1e6
        # Documents for the batch runs: ~16 KB slices on line boundaries.
        docs, cur, size = [], [], 0
        for line in text.splitlines(keepends=True):
            cur.append(line)
            size += len(line)
            if size >= 16384:
                docs.append("".join(cur))
                cur, size = [], 0
        if cur:
            docs.append("".join(cur))
        for name in ["cl100k_base", "o200k_base", "r50k_base"]:
            f, t = fg[name], tk[name]
            assert f.encode_ordinary(text) == t.encode_ordinary(text), f"{name} differs on {cname}"
            fns = {
                "ferrograd_1t": lambda f=f, text=text: f.encode_ordinary(text),
                "tiktoken_1t": lambda t=t, text=text: t.encode_ordinary(text),
                "ferrograd_batch_2t": lambda f=f, docs=docs: f.encode_ordinary_batch(docs, num_threads=2),
                "tiktoken_batch_2t": lambda t=t, docs=docs: t.encode_ordinary_batch(docs, num_threads=2),
            }
            if name == "r50k_base":
                # HF's GPT-2 byte-level BPE (same ranks; its own regex differs slightly on
                # whitespace runs, so ids are not compared).
                fns["hf_tokenizers_1t"] = lambda text=text: hf.encode(text, add_special_tokens=False)
                fns["hf_tokenizers_batch_2t"] = lambda docs=docs: hf.encode_batch(docs, add_special_tokens=False)
            ferrograd.set_num_threads(2)
            best = best_of(fns, rounds)
            row = {"corpus": cname, "MB": round(mb, 2), "encoding": name}
            row.update({k: round(mb / v, 2) for k, v in best.items()})
            row["speedup_1t"] = round(row["ferrograd_1t"] / row["tiktoken_1t"], 2)
            row["speedup_batch"] = round(row["ferrograd_batch_2t"] / row["tiktoken_batch_2t"], 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _time_in_subprocess(code: str, timeout: float) -> float | None:
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return float(r.stdout.strip().splitlines()[-1])


def bench_pathological(d: Path) -> list[dict]:
    rows = []
    setup = (
        f"import sys, time; sys.path.insert(0, 'tests'); import os; os.environ.setdefault('FERROGRAD_DATA', {str(d)!r});"
        "from tokenizer_helpers import tiktoken_reference, ours;"
    )
    for label, ch in [("one letter 'a'", "a"), ("digits '1'", "1"), ("spaces", " "), ("'\\u00e9' (2-byte)", "\u00e9")]:
        for n_bytes in [10_000, 100_000, 1_000_000]:
            n = n_bytes // len(ch.encode())
            row = {"input": label, "bytes": n_bytes}
            for lib, ctor in [("ferrograd", "ours('cl100k_base')"), ("tiktoken", "tiktoken_reference('cl100k_base')")]:
                code = setup + f"e={ctor}; s={ch!r}*{n}; e.encode_ordinary('warm'); t0=time.perf_counter(); e.encode_ordinary(s); print(time.perf_counter()-t0)"
                t = _time_in_subprocess(code, timeout=30)
                row[f"{lib}_s"] = None if t is None else round(t, 4)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


TRAIN_WORKER = r"""
import json, os, resource, sys, time
sys.path.insert(0, 'benches')
from bench_tokenizer import training_corpus
texts = training_corpus(%(mb)d)
def hwm_kb():
    # VmHWM belongs to this process's address space; ru_maxrss would also count the parent's
    # RSS at fork (Linux folds the pre-exec high-water mark into it).
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
base = hwm_kb()
t0 = time.perf_counter()
if %(lib)r == 'ferrograd':
    import ferrograd
    ferrograd.set_num_threads(2)
    from ferrograd.tokenizers import BPETokenizer
    tok = BPETokenizer.train(texts, vocab_size=%(vocab)d, pattern='cl100k_base', min_frequency=2)
    n = tok.n_vocab
else:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tr = trainers.BpeTrainer(vocab_size=%(vocab)d, min_frequency=2, show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=tr)
    n = tok.get_vocab_size()
dt = time.perf_counter() - t0
peak = hwm_kb()
print(json.dumps({"lib": %(lib)r, "seconds": round(dt, 2), "vocab": n, "peak_rss_MB": round(peak / 1024, 1),
                  "rss_before_training_MB": round(base / 1024, 1), "corpus_MB": round(sum(len(t.encode()) for t in texts) / 1e6, 1)}))
"""


def training_corpus(mb: int) -> list[str]:
    """~mb MB: Tiny Shakespeare plus standard-library sources, as a list of documents."""
    d = data_dir()
    shakes = (d / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    docs = [shakes[i:i + 50_000] for i in range(0, len(shakes), 50_000)]
    return docs + source_code(mb * 1_000_000 - len(shakes.encode()))


def bench_train(mb: int, vocab: int, rounds: int) -> list[dict]:
    rows = []
    for _ in range(rounds):
        for lib in ["ferrograd", "hf_tokenizers"]:
            time.sleep(0.2)
            r = subprocess.run(
                [sys.executable, "-c", TRAIN_WORKER % {"lib": lib, "mb": mb, "vocab": vocab}],
                capture_output=True, text=True, cwd=REPO, env={**os.environ, "RAYON_NUM_THREADS": "2"}, check=False,
            )
            if r.returncode != 0:
                raise RuntimeError(r.stderr)
            row = json.loads(r.stdout.strip().splitlines()[-1])
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["encode", "patho", "train"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--train-mb", type=int, default=20)
    ap.add_argument("--vocab", type=int, default=32000)
    args = ap.parse_args()
    d = data_dir()
    print(f"# machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}", flush=True)
    if args.only in (None, "encode"):
        print("# encode throughput, MB/s (best of rounds)", flush=True)
        bench_encode(d, args.rounds)
    if args.only in (None, "patho"):
        print("# pathological input, cl100k_base encode_ordinary, seconds (None = over 30 s)", flush=True)
        bench_pathological(d)
    if args.only in (None, "train"):
        print(f"# training {args.vocab} vocab on ~{args.train_mb} MB", flush=True)
        bench_train(args.train_mb, args.vocab, max(1, args.rounds // 3))


if __name__ == "__main__":
    main()
