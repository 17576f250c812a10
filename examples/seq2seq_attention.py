"""Encoder-decoder with Bahdanau (additive) attention: human-readable dates -> ISO dates.

    python examples/seq2seq_attention.py [--epochs 6] [--seed 0] [--plot attention.png] [--quick]

The data are generated with ``datetime`` (dates from 1950 to 2049, so a two-digit year is
unambiguous) in eleven formats, e.g. "tuesday, march 3 1987", "3/3/87", "03 mar 1987",
"3rd of march, 1987", "03.03.1987" -> "1987-03-03". Characters are the tokens on both sides.

Model (Keras 3 functional API, teacher forcing in training)::

    source ids (B, S) -> Embedding(mask_zero) -> Bidirectional(GRU, return_sequences, return_state)
        -> encoder outputs (B, S, 2u) and the two final states, concatenated: (B, 2u)
    "<s>" + target[:-1] (B, 10) -> Embedding -> GRU(2u, initial_state=encoder state) -> (B, 10, 2u)
    AdditiveAttention([decoder outputs, encoder outputs]) -> context (B, 10, 2u)  (padding masked)
    concat(decoder outputs, context) -> Dense(tanh) -> Dense(softmax over the target characters)

Inference is greedy, one character at a time: the decoder input starts as "<s>" followed by
padding; after each step the predicted character is written into the next position and the model
runs again (the decoder is causal, so positions after t do not change the prediction at t).
Reported: exact-match accuracy of whole dates and per-character accuracy on held-out dates,
and, when matplotlib is importable, a PNG of the attention weights of a few examples.
Measured (defaults, seed 0, 2-core AMD EPYC): 99.95% exact match, 99.99% per character, ~1 min.
"""
import argparse
import datetime
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FIRST = datetime.date(1950, 1, 1)
SPAN = (datetime.date(2049, 12, 31) - FIRST).days + 1
TARGET = ["<pad>", "<s>", "-"] + list("0123456789")  # id 0 is never produced; 1 starts decoding
TARGET_LEN = 10  # "1987-03-03"


def _ordinal(d):
    suffix = "th" if 11 <= d % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    return f"{d}{suffix}"


FORMATS = [
    lambda t: f"{DAYS[t.weekday()]}, {MONTHS[t.month - 1]} {t.day} {t.year}",  # tuesday, march 3 1987
    lambda t: f"{t.month}/{t.day}/{t.year % 100:02d}",  # 3/3/87
    lambda t: f"{t.day:02d} {MONTHS[t.month - 1][:3]} {t.year}",  # 03 mar 1987
    lambda t: f"{MONTHS[t.month - 1]} {t.day}, {t.year}",  # march 3, 1987
    lambda t: f"{t.day} {MONTHS[t.month - 1]} {t.year}",  # 3 march 1987
    lambda t: f"{_ordinal(t.day)} of {MONTHS[t.month - 1]}, {t.year}",  # 3rd of march, 1987
    lambda t: f"{t.day:02d}.{t.month:02d}.{t.year}",  # 03.03.1987 (day first)
    lambda t: f"{t.month:02d}/{t.day:02d}/{t.year}",  # 03/03/1987 (month first)
    lambda t: f"{DAYS[t.weekday()][:3]} {t.day} {MONTHS[t.month - 1][:3]} {t.year % 100:02d}",  # tue 3 mar 87
    lambda t: f"{MONTHS[t.month - 1][:3]} {_ordinal(t.day)} {t.year}",  # mar 3rd 1987
    lambda t: f"{t.year}/{t.month}/{t.day}",  # 1987/3/3
]


def make_dates(n, rng):
    """n (human-readable, ISO) pairs -- uniform random days, a uniform random format each -- and
    the format ids (n,)."""
    days = rng.integers(0, SPAN, n)
    fmts = rng.integers(0, len(FORMATS), n)
    pairs = []
    for d, f in zip(days, fmts):
        t = FIRST + datetime.timedelta(days=int(d))
        pairs.append((FORMATS[f](t), t.isoformat()))
    return pairs, fmts


def encode(pairs, src_index, src_len):
    """Source ids (N, S) padded with 0, decoder inputs (N, 10) = "<s>" + target[:-1], targets (N, 10)."""
    tgt_index = {c: i for i, c in enumerate(TARGET)}
    src = np.zeros((len(pairs), src_len), np.int32)
    tgt = np.zeros((len(pairs), TARGET_LEN), np.int32)
    for i, (s, t) in enumerate(pairs):
        src[i, :len(s)] = [src_index[c] for c in s]
        tgt[i] = [tgt_index[c] for c in t]
    dec_in = np.concatenate([np.full((len(pairs), 1), 1, np.int32), tgt[:, :-1]], axis=1)
    return src, dec_in, tgt


def build_models(src_vocab, units=64, emb=32):
    """The training model (teacher forcing) and a model with the same layers that also outputs
    the attention weights."""
    src = keras.Input((None,), dtype="int32", name="source")  # (B, S)
    dec = keras.Input((None,), dtype="int32", name="decoder_input")  # (B, T)
    x = layers.Embedding(src_vocab, emb, mask_zero=True)(src)  # (B, S, emb), mask (B, S)
    enc, h_fwd, h_bwd = layers.Bidirectional(layers.GRU(units, return_sequences=True, return_state=True))(x)
    state = layers.Concatenate()([h_fwd, h_bwd])  # (B, 2u); enc (B, S, 2u)
    y = layers.Embedding(len(TARGET), emb)(dec)  # (B, T, emb)
    y = layers.GRU(2 * units, return_sequences=True)(y, initial_state=[state])  # (B, T, 2u)
    context, weights = layers.AdditiveAttention()([y, enc], return_attention_scores=True)  # (B, T, 2u), (B, T, S)
    z = layers.Concatenate()([y, context])  # (B, T, 4u)
    z = layers.Dense(2 * units, activation="tanh")(z)  # (B, T, 2u)
    probs = layers.Dense(len(TARGET), activation="softmax")(z)  # (B, T, V)
    return keras.Model([src, dec], probs), keras.Model([src, dec], [probs, weights])


def greedy_decode(model, src, batch_size=500):
    """Writes the predicted character into the decoder input one position at a time."""
    dec = np.zeros((len(src), TARGET_LEN), np.int32)
    dec[:, 0] = 1  # "<s>"
    out = np.zeros((len(src), TARGET_LEN), np.int32)
    for t in range(TARGET_LEN):
        probs = model.predict([src, dec], batch_size=batch_size, verbose=0)  # (N, T, V)
        out[:, t] = probs[:, t].argmax(-1)
        if t + 1 < TARGET_LEN:
            dec[:, t + 1] = out[:, t]
    return out


def plot_attention(attn_model, pairs, src, dec, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no attention plot written (would have gone to {path})")
        return
    _, weights = attn_model.predict([src, dec], verbose=0)  # (n, T, S)
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.5 * len(pairs), 3.6))
    for ax, (s, t), w in zip(np.atleast_1d(axes), pairs, weights):
        ax.imshow(w[:, :len(s)], cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(s)), list(s), fontsize=7)
        ax.set_yticks(range(TARGET_LEN), list(t), fontsize=8)
        ax.set_title(s, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"attention weights of {len(pairs)} examples written to {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--train-size", type=int, default=20000)
    ap.add_argument("--test-size", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="attention.png", help="where to save the attention weights (PNG)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 4000 dates, 3 epochs")
    args = ap.parse_args()
    if args.quick:
        args.train_size, args.test_size, args.epochs = 4000, 500, 3

    t0 = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train, _ = make_dates(args.train_size, rng)
    test, test_formats = make_dates(args.test_size, rng)
    chars = sorted({c for s, _ in train + test for c in s})
    src_index = {c: i + 1 for i, c in enumerate(chars)}  # 0 is padding
    src_len = max(len(s) for s, _ in train + test)
    x_train, d_train, y_train = encode(train, src_index, src_len)
    x_test, d_test, y_test = encode(test, src_index, src_len)
    print(f"{len(train)} training / {len(test)} held-out dates, {len(chars)} source characters, "
          f"source length {src_len}; e.g.", "; ".join(f"{s!r} -> {t}" for s, t in train[:3]))

    model, attn_model = build_models(len(chars) + 1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit([x_train, d_train], y_train, batch_size=64, epochs=args.epochs,
              validation_data=([x_test, d_test], y_test), verbose=2)
    train_time = time.perf_counter() - t0

    pred = greedy_decode(model, x_test)  # (N, 10)
    exact = float(np.mean(np.all(pred == y_test, axis=1)))
    per_char = float(np.mean(pred == y_test))
    for (s, t), p in list(zip(test, pred))[:8]:
        guess = "".join(TARGET[i] for i in p)
        print(f"{s:<30} -> {guess}  {'☑' if guess == t else '☒ ' + t}")
    print(f"greedy decoding on {len(test)} held-out dates: exact match {exact * 100:.2f}%  "
          f"per-character accuracy {per_char * 100:.2f}%")
    print(f"wall time {time.perf_counter() - t0:.1f} s (training {train_time:.1f} s)")

    pick = [int(np.argmax(test_formats == f)) for f in (0, 1, 5)]  # the first held-out date of 3 formats
    pick_dec = np.concatenate([np.ones((len(pick), 1), np.int32), pred[pick, :-1]], axis=1)  # the greedy path
    plot_attention(attn_model, [test[i] for i in pick], x_test[pick], pick_dec, args.plot)


if __name__ == "__main__":
    main()
