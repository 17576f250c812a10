"""GloVe word vectors trained on Tiny Shakespeare: nearest neighbours, analogies, a PCA picture.

    FERROGRAD_DATA=../shared/data python examples/glove_shakespeare.py [--dim 50] [--window 10]
        [--min-count 5] [--epochs 50] [--seed 0] [--plot glove_pca.png] [--save vectors.txt] [--quick]

Each line of ``$FERROGRAD_DATA/tinyshakespeare/input.txt`` is a document. Words are lower-cased
with punctuation stripped (as ``TextVectorization``'s default); words seen fewer than
``--min-count`` times are dropped. ``ferrograd.text.GloVe`` counts co-occurrences within
``--window`` words (each pair adds 1/distance), then fits ``w_i . c_j + b_i + b'_j ~ ln X_ij``
by weighted least squares with AdaGrad, all in Rust. The script prints the loss, the nearest
neighbours (cosine) of a few words, two analogies, and saves a 2-D PCA projection of some words
as a PNG when matplotlib is installed; ``--save`` writes the vectors in the GloVe text format,
which ``ferrograd.text.load_glove`` and ``glove_embedding_matrix`` read back.
"""
import argparse
import os
import pathlib
import sys
import time

import ferrograd as fg
from ferrograd.text import GloVe

REPO = pathlib.Path(__file__).resolve().parents[1]
QUERIES = ["king", "love", "death", "thou", "father", "blood", "night", "gold"]
ANALOGIES = [("he", "his", "she"), ("thou", "thy", "you"), ("king", "queen", "lord")]
PLOT_WORDS = ["king", "queen", "prince", "duke", "lord", "lady", "father", "mother", "son", "daughter", "brother",
              "love", "hate", "death", "life", "blood", "night", "day", "sun", "moon", "heaven", "hell", "thou",
              "thee", "thy", "you", "your", "gold", "crown", "sword", "war", "peace"]


def data_path():
    root = os.environ.get("FERROGRAD_DATA") or str(REPO.parent / "shared" / "data")
    return pathlib.Path(root) / "tinyshakespeare" / "input.txt"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=50)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="glove_pca.png", help="PNG path for the PCA picture ('' to skip)")
    ap.add_argument("--save", default="", help="write the vectors here (GloVe text format)")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args(argv)
    path = data_path()
    if not path.exists():
        sys.exit(f"Tiny Shakespeare not found at {path}: set FERROGRAD_DATA to the folder holding "
                 "tinyshakespeare/input.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    if args.quick:
        lines, args.epochs = lines[:8000], min(args.epochs, 8)
    t0 = time.perf_counter()
    glove = GloVe(embedding_dim=args.dim, window_size=args.window, min_count=args.min_count,
                  learning_rate=args.learning_rate, seed=args.seed)
    glove.build_vocabulary(lines)
    t1 = time.perf_counter()
    print(f"{len(lines)} lines, {len(glove)} words, {glove.num_cooccurrences} non-zero co-occurrences "
          f"({t1 - t0:.2f} s to count, {fg.get_num_threads()} threads)")
    every = max(1, args.epochs // 5)
    for e in range(args.epochs):
        loss = glove.fit(epochs=1)["loss"][-1]
        if (e + 1) % every == 0 or e == 0:
            print(f"epoch {e + 1:3d}  loss {loss:.5f}")
    t2 = time.perf_counter()
    print(f"trained {args.epochs} epochs in {t2 - t1:.2f} s")
    print("\nnearest neighbours (cosine):")
    for w in QUERIES:
        if w in glove:
            near = ", ".join(f"{n} {s:.2f}" for n, s in glove.most_similar(w, topn=6))
            print(f"  {w:>7}: {near}")
    print("\nanalogies (a : b :: c : ?):")
    for a, b, c in ANALOGIES:
        if all(w in glove for w in (a, b, c)):
            best = ", ".join(f"{n} {s:.2f}" for n, s in glove.analogy(a, b, c, topn=3))
            print(f"  {a} : {b} :: {c} : {best}")
    if args.plot:
        words = [w for w in PLOT_WORDS if w in glove]
        try:
            glove.plot_pca(words, args.plot, title=f"GloVe ({args.dim}-d) on Tiny Shakespeare, PCA")
            print(f"\nPCA picture of {len(words)} words saved to {args.plot}")
        except ImportError as e:
            print(f"\n(no PCA picture: {e})")
    if args.save:
        glove.save(args.save)
        print(f"vectors written to {args.save}")


if __name__ == "__main__":
    main()
