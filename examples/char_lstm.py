"""A character-level LSTM language model on Tiny Shakespeare, then sampling from it.

    FERROGRAD_DATA=../shared/data python examples/char_lstm.py [--steps 3000] [--seed 0]
        [--temperature 0.8] [--prompt "ROMEO:"] [--sample-length 400] [--quick]

The text is read from ``$FERROGRAD_DATA/tinyshakespeare/input.txt`` (default ``../shared/data``
next to the repository). The first 90% trains, the last 10% is held out. Each training step
takes 32 random windows of 64 characters and predicts every next character::

    ids (B, 64) -> Embedding(V, 64) -> LSTM(256, return_sequences=True) -> Dense(V) logits (B, 64, V)

with sparse categorical cross-entropy on the logits and Adam. The log shows the training loss,
bits per character (loss / ln 2) and tokens per second; the end, the held-out loss. Sampling
runs a one-step copy of the model (same weights, an LSTM that returns its states): the prompt
goes in once, then one character at a time with the states carried over, drawn from
``softmax(logits / temperature)``.
Measured (defaults, seed 0, 2-core AMD EPYC): training loss 1.46 (2.11 bpc) over the last 250
steps, held-out 1.66 (2.40 bpc), ~50k tokens/s, ~2 min.
"""
import argparse
import math
import os
import pathlib
import sys
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers

REPO = pathlib.Path(__file__).resolve().parents[1]
SEQ, BATCH, EMB, UNITS = 64, 32, 64, 256


def data_path():
    root = os.environ.get("FERROGRAD_DATA") or str(REPO.parent / "shared" / "data")
    return pathlib.Path(root) / "tinyshakespeare" / "input.txt"


def windows(ids, starts):
    """Inputs (n, SEQ) and next-character targets (n, SEQ) of the windows starting at ``starts``."""
    idx = starts[:, None] + np.arange(SEQ + 1)  # (n, SEQ + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def build_step_model(model, vocab):
    """A model of (ids (1, t), h, c) -> (logits (1, t, V), h, c) sharing ``model``'s weights."""
    ids, h, c = keras.Input((None,), dtype="int32"), keras.Input((UNITS,)), keras.Input((UNITS,))
    x = layers.Embedding(vocab, EMB)(ids)  # (1, t, EMB)
    x, h2, c2 = layers.LSTM(UNITS, return_sequences=True, return_state=True)(x, initial_state=[h, c])  # (1, t, U)
    logits = layers.Dense(vocab)(x)  # (1, t, V)
    step = keras.Model([ids, h, c], [logits, h2, c2])
    step.set_weights(model.get_weights())
    return step


def sample(step, prompt, length, temperature, stoi, itos, rng):
    h = c = np.zeros((1, UNITS), np.float32)
    x = np.array([[stoi[ch] for ch in prompt]], np.int32)  # (1, len(prompt))
    out = []
    for _ in range(length):
        logits, h, c = step.predict_on_batch([x, h, c])  # (1, t, V), (1, U), (1, U)
        z = logits[0, -1].astype(np.float64) / max(temperature, 1e-6)
        p = np.exp(z - z.max())
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        out.append(itos[nxt])
        x = np.array([[nxt]], np.int32)
    return prompt + "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=3000, help="training steps of 32 x 64 characters")
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--prompt", default="ROMEO:\n")
    ap.add_argument("--sample-length", type=int, default=400)
    ap.add_argument("--log-every", type=int, default=250)
    ap.add_argument("--quick", action="store_true", help="smoke run: 100 steps, a 100-character sample")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.log_every, args.sample_length = 100, 25, 100

    path = data_path()
    if not path.is_file():
        sys.exit(f"Tiny Shakespeare not found at {path}: set FERROGRAD_DATA to the folder holding "
                 "tinyshakespeare/input.txt (default: ../shared/data next to the repository)")
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([stoi[ch] for ch in text], np.int32)
    split = len(ids) * 9 // 10
    train, held = ids[:split], ids[split:]
    print(f"{len(text):,} characters, vocabulary {len(chars)}; {len(train):,} train / {len(held):,} held out")

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = keras.Sequential([
        keras.Input((SEQ,), dtype="int32"),  # (B, 64)
        layers.Embedding(len(chars), EMB),  # (B, 64, 64)
        layers.LSTM(UNITS, return_sequences=True),  # (B, 64, 256)
        layers.Dense(len(chars)),  # (B, 64, V) logits
    ])
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.summary()

    t0 = time.perf_counter()
    t_log, losses, loss = t0, [], float("nan")
    for step in range(1, args.steps + 1):
        x, y = windows(train, rng.integers(0, len(train) - SEQ - 1, BATCH))  # (B, 64) each
        losses.append(float(model.train_on_batch(x, y)))
        if step % args.log_every == 0 or step == args.steps:
            now = time.perf_counter()
            loss = float(np.mean(losses))
            print(f"step {step}/{args.steps}  loss {loss:.4f}  bpc {loss / math.log(2):.3f}  "
                  f"{len(losses) * BATCH * SEQ / (now - t_log):,.0f} tokens/s", flush=True)
            t_log, losses = now, []
    train_time = time.perf_counter() - t0

    n_held = 64 if args.quick else 512
    hx, hy = windows(held, np.linspace(0, len(held) - SEQ - 1, n_held).astype(np.int64))
    held_loss = float(model.evaluate(hx, hy, batch_size=128, verbose=0))
    print(f"final training loss {loss:.4f} (bpc {loss / math.log(2):.3f})  held-out loss {held_loss:.4f} "
          f"(bpc {held_loss / math.log(2):.3f})  {args.steps * BATCH * SEQ / train_time:,.0f} tokens/s  "
          f"training {train_time:.1f} s")

    step_model = build_step_model(model, len(chars))
    t1 = time.perf_counter()
    text_out = sample(step_model, args.prompt, args.sample_length, args.temperature, stoi, chars, rng)
    print(f"--- sample (temperature {args.temperature}, {args.sample_length} characters in "
          f"{time.perf_counter() - t1:.1f} s) ---")
    print(text_out)
    print("---")
    print(f"wall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
