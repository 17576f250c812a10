"""Sequence to sequence learning for number addition (the keras.io example) on ferrograd.

    python examples/addition_rnn.py [--epochs 30] [--train-size 50000] [--seed 0] [--quick]

The model reads a question such as "535+61" as characters (one-hot, reversed, padded with
spaces to 7) and writes the answer "596" as 4 characters: an LSTM(128) encoder, its last output
repeated 4 times (RepeatVector), an LSTM(128) decoder returning sequences, and a softmax over the
12 characters at every output step. keras.io documents ~99% validation accuracy (Keras' per
character "accuracy") after ~30 epochs on 50k questions; this script reports that metric, the
exact-match rate of whole answers, and ten validation samples with check marks every few epochs.
Measured (default settings, seed 0, 2-core AMD EPYC): 99.78% validation accuracy, 99.14% of
answers exactly right, in ~220 s; >= 99% first at epoch 11, steadily from epoch ~20.
``--quick`` is a short smoke run (8000 questions, 4 epochs); it should beat the baseline that
always writes each position's most frequent training character (printed first, ~36%).
"""
import argparse
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers

DIGITS = 3
MAXLEN = DIGITS + 1 + DIGITS  # "345+678"
CHARS = "0123456789+ "  # digits, the plus sign, and space for padding


class CharacterTable:
    """One-hot encoding of strings over a fixed character set, and decoding back."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text, rows):
        x = np.zeros((rows, len(self.chars)), np.float32)  # (rows, V)
        x[np.arange(len(text)), [self.index[c] for c in text]] = 1
        return x

    def decode(self, x, argmax=True):
        """Probabilities / one-hot rows (argmax=True) or indices (argmax=False) to a string."""
        ids = np.asarray(x).argmax(-1) if argmax else np.asarray(x)
        return "".join(self.chars[i] for i in ids)


def make_questions(n, rng):
    """n distinct (unordered) questions 'a+b' (reversed and padded) with their padded answers."""
    questions, answers, seen = [], [], set()

    def number():
        return int("".join(rng.choice(list("0123456789"), rng.integers(1, DIGITS + 1))))

    while len(questions) < n:
        a, b = number(), number()
        key = (min(a, b), max(a, b))  # a+b and b+a are the same question
        if key in seen:
            continue
        seen.add(key)
        q = f"{a}+{b}".ljust(MAXLEN)
        questions.append(q[::-1])  # reversed: "12+345  " -> "  543+21" (shorter dependencies)
        answers.append(str(a + b).ljust(DIGITS + 1))
    return questions, answers


def show_samples(model, ctable, x_val, y_val, rng, count=10):
    idx = rng.integers(0, len(x_val), count)
    preds = model.predict(x_val[idx], verbose=0).argmax(-1)  # (count, DIGITS + 1)
    for row, p in zip(idx, preds):
        q, correct, guess = ctable.decode(x_val[row])[::-1], ctable.decode(y_val[row]), ctable.decode(p, False)
        print("Q", q, "T", correct, ("☑ " if guess == correct else "☒ ") + guess)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--train-size", type=int, default=50000, help="questions generated (10%% held out)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="smoke run: 8000 questions, 4 epochs (~10 s)")
    args = ap.parse_args()
    if args.quick:
        args.train_size, args.epochs = 8000, 4

    t0 = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    ctable = CharacterTable(CHARS)
    questions, answers = make_questions(args.train_size, rng)
    x = np.stack([ctable.encode(q, MAXLEN) for q in questions])  # (N, 7, 12)
    y = np.stack([ctable.encode(a, DIGITS + 1) for a in answers])  # (N, 4, 12)
    perm = rng.permutation(len(x))  # the later questions are mostly larger numbers
    x, y = x[perm], y[perm]
    split = len(x) - len(x) // 10
    x_train, x_val, y_train, y_val = x[:split], x[split:], y[:split], y[split:]
    print(f"train {x_train.shape} -> {y_train.shape}, validation {x_val.shape}")
    mode = y_train.sum(0).argmax(-1)  # (4,): each answer position's most frequent character
    baseline = float(np.mean(y_val.argmax(-1) == mode))
    print(f"baseline (most frequent character per position) val accuracy {baseline * 100:.2f}%")

    model = keras.Sequential([
        keras.Input(shape=(MAXLEN, len(CHARS))),  # (B, 7, 12)
        layers.LSTM(128),  # (B, 128): the encoded question
        layers.RepeatVector(DIGITS + 1),  # (B, 4, 128)
        layers.LSTM(128, return_sequences=True),  # (B, 4, 128)
        layers.Dense(len(CHARS), activation="softmax"),  # (B, 4, 12): one character per step
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()

    show_every = max(1, args.epochs // 5)
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        hist = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, validation_data=(x_val, y_val),
                         verbose=0)
        h = {k: v[-1] for k, v in hist.history.items()}
        acc = h["val_accuracy"]
        print(f"epoch {epoch}/{args.epochs}  loss {h['loss']:.4f}  accuracy {h['accuracy']:.4f}  "
              f"val_loss {h['val_loss']:.4f}  val_accuracy {acc:.4f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        if epoch % show_every == 0 or epoch == args.epochs:
            show_samples(model, ctable, x_val, y_val, rng)

    pred = model.predict(x_val, batch_size=256, verbose=0).argmax(-1)  # (N_val, 4)
    exact = float(np.mean(np.all(pred == y_val.argmax(-1), axis=1)))
    print(f"exact-match answers {exact * 100:.2f}% of {len(x_val)} validation questions")
    print(f"final val accuracy {acc * 100:.2f}%  ({args.epochs} epochs, {args.train_size} questions, "
          f"wall time {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
