"""A small BERT trained by masked language modelling on Tiny Shakespeare.

    FERROGRAD_DATA=../shared/data python examples/bert_mlm.py [--steps 1500] [--seed 0] [--quick]

Text: ferrograd's byte-level BPE tokenizer is trained on the first 90% of Tiny Shakespeare (512
ids; four more are appended for [PAD]=0's shift, [CLS], [SEP] and [MASK]) and cuts it into
sequences of 64 tokens. Each step, ``hub.layers.MaskedLMMaskGenerator`` selects 15% of the
tokens (at most 12 per sequence): 80% become [MASK], 10% a random token, 10% stay. The model is
``hub.models.BertMaskedLM`` on a ``BertBackbone`` of 4 layers, width 128, 4 heads and an MLP of
512, its output projection tied to the token embedding; the loss is the cross-entropy of the
original tokens at the selected positions (padding of the position lists weighted 0).

Reported: the masked-token accuracy (top-1, over real predictions) on held-out text, with a
baseline that always guesses the most frequent training token.
Measured (defaults, seed 0, 2-core AMD EPYC): 17.3% held-out masked-token accuracy over 8,599
predictions after 1,500 steps (baseline 7.8%).
"""
import argparse
import os
import pathlib
import sys
import time

import numpy as np

import ferrograd as keras
from ferrograd import hub
from ferrograd.hub.models import BertBackbone, BertMaskedLM

REPO = pathlib.Path(__file__).resolve().parents[1]
SEQ, BATCH, SELECT = 64, 32, 12


def data_path():
    root = os.environ.get("FERROGRAD_DATA") or str(REPO.parent / "shared" / "data")
    return pathlib.Path(root) / "tinyshakespeare" / "input.txt"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=250)
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 steps")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.log_every = 40, 20
    path = data_path()
    if not path.is_file():
        sys.exit(f"Tiny Shakespeare not found at {path}: set FERROGRAD_DATA to the folder holding "
                 "tinyshakespeare/input.txt (default: ../shared/data next to the repository)")
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = path.read_text(encoding="utf-8")
    split = len(text) * 9 // 10
    tok = keras.tokenizers.BPETokenizer.train(text[:split], vocab_size=512, pattern="gpt2")
    # ids: 0 [PAD], 1..512 the BPE tokens shifted by one, then [CLS], [SEP], [MASK]
    pad, cls, sep, mask = 0, tok.n_vocab + 1, tok.n_vocab + 2, tok.n_vocab + 3
    vocab = tok.n_vocab + 4

    def sequences(part):
        ids = np.array(tok.encode_ordinary(part), np.int32) + 1
        n = len(ids) // (SEQ - 2)
        body = ids[:n * (SEQ - 2)].reshape(n, SEQ - 2)
        return np.concatenate([np.full((n, 1), cls, np.int32), body, np.full((n, 1), sep, np.int32)], 1)

    train, held = sequences(text[:split]), sequences(text[split:])
    print(f"BPE: {tok.n_vocab} ids, {len(train):,} training and {len(held):,} held-out sequences of {SEQ} tokens")

    masker = hub.layers.MaskedLMMaskGenerator(vocabulary_size=vocab, mask_selection_rate=0.15, mask_token_id=mask,
                                              mask_selection_length=SELECT, unselectable_token_ids=[pad, cls, sep],
                                              seed=args.seed)

    def batch(rows):
        m = masker(rows)
        x = {"token_ids": np.asarray(m["token_ids"]), "segment_ids": np.zeros_like(rows),
             "padding_mask": np.ones_like(rows), "mask_positions": np.asarray(m["mask_positions"])}
        return x, np.asarray(m["mask_ids"]), np.asarray(m["mask_weights"])

    backbone = BertBackbone(vocabulary_size=vocab, num_layers=4, num_heads=4, hidden_dim=128, intermediate_dim=512,
                            dropout=0.1, max_sequence_length=SEQ)
    model = BertMaskedLM(backbone)
    model.compile(optimizer=keras.optimizers.AdamW(args.learning_rate, weight_decay=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  weighted_metrics=["sparse_categorical_accuracy"])
    print(f"BertMaskedLM: {model.count_params():,} parameters")

    t0 = time.perf_counter()
    losses = []
    for step in range(1, args.steps + 1):
        x, y, w = batch(train[rng.integers(0, len(train), BATCH)])
        out = model.train_on_batch(x, y, sample_weight=w)
        losses.append(float(out[0] if isinstance(out, (list, tuple)) else out))
        if step % args.log_every == 0 or step == args.steps:
            print(f"step {step}/{args.steps}  loss {np.mean(losses):.4f}  "
                  f"{step * BATCH / (time.perf_counter() - t0):,.0f} sequences/s", flush=True)
            losses = []
    train_time = time.perf_counter() - t0

    rows = held[:256] if args.quick else held
    x, y, w = batch(rows)
    logits = model.predict(x, batch_size=64, verbose=0)  # (N, SELECT, V)
    real = w > 0
    acc = float((logits.argmax(-1) == y)[real].mean())
    most = np.bincount(train.reshape(-1), minlength=vocab)
    most[[pad, cls, sep]] = 0
    base = float((y == most.argmax())[real].mean())
    print(f"held-out masked-token accuracy {acc * 100:.1f}% over {int(real.sum()):,} predictions "
          f"(most-frequent-token baseline {base * 100:.1f}%)  training {train_time:.0f} s")


if __name__ == "__main__":
    main()
