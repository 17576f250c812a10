"""Recurrent layers side by side: ferrograd's fused SimpleRNN/LSTM/GRU against ``torch.nn.RNN/LSTM/GRU``
(forward + backward of a whole sequence), and a character LSTM language model trained by ferrograd's
``fit``, by a plain PyTorch loop and by Keras 3's ``fit`` on the PyTorch backend (when ``keras`` is
installed), same sizes, same thread count, one process.

    python benches/bench_rnn.py [--threads 2] [--rounds 7] [--lm-steps 30]

Layer shapes (the issue's): batch 32, 64 steps, 128 features, 256 units, ``return_sequences=True``,
loss = sum of the outputs; inputs and all weights get gradients. Rounds alternate the libraries so
a disturbance on a shared machine hits both; best and median per library. GFLOP/s counts the
GEMM work only (2 * B * T * (D + u) * G * u multiply-adds forward, twice that backward) and is
compared with this process's own 1024^3 GEMM rate.

The language model: Embedding(vocab 65, 64) -> LSTM(256, return_sequences) -> Dense(65) logits,
sparse categorical cross-entropy, Adam, batch 32, sequence 64; random token ids (throughput does
not depend on them), so the script runs offline.
"""
import argparse
import os
import statistics
import time

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=7)
ap.add_argument("--lm-steps", type=int, default=30)
args = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import ferrograd as fg  # noqa: E402
from ferrograd import layers, ops  # noqa: E402

fg.set_num_threads(args.threads)
try:
    import torch
    torch.set_num_threads(args.threads)
except ImportError:  # pragma: no cover - the comparison needs torch
    torch = None

B, T, D, U = 32, 64, 128, 256
rng = np.random.default_rng(0)
x_np = rng.normal(size=(B, T, D)).astype(np.float32)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def gemm_rate():
    a = fg.tensor(rng.random((1024, 1024), dtype=np.float32))
    b = fg.tensor(rng.random((1024, 1024), dtype=np.float32))
    with fg.no_grad():
        best = min(timed(lambda: ops.matmul(a, b)) for _ in range(7))
    return 2 * 1024 ** 3 / best / 1e9


def fg_step(cls):
    layer = cls(U, return_sequences=True)
    x = fg.tensor(x_np, requires_grad=True)
    layer(x)

    def step():
        y = layer(x)
        ops.sum(y).backward()
        for w in layer.trainable_weights:
            w.grad = None
        x.grad = None
    return step


def torch_step(cls):
    m = cls(D, U, batch_first=True)
    x = torch.tensor(x_np, requires_grad=True)

    def step():
        y, _ = m(x)
        y.sum().backward()
        m.zero_grad(set_to_none=True)
        x.grad = None
    return step


def alternate(fns, rounds):
    for f in fns.values():
        f()
        f()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            # A pause first: PyTorch's OpenMP workers spin for a while after each of its calls,
            # which takes a core from whatever runs next on a 2-core machine (measured: ferrograd's
            # LSTM step 1.6 ms slower right after a torch step than after a pause; torch's own step
            # is not slower after a pause).
            time.sleep(0.05)
            times[k].append(timed(f))
    return times


def layers_table():
    print(f"layers: batch {B}, {T} steps, {D} features, {U} units, forward + backward, {args.threads} threads")
    peak = gemm_rate()
    print(f"  ferrograd GEMM 1024^3 in this process: {peak:.0f} GFLOP/s")
    for name, fcls, tcls, gates in (("LSTM", layers.LSTM, "LSTM", 4), ("GRU", layers.GRU, "GRU", 3),
                                    ("SimpleRNN", layers.SimpleRNN, "RNN", 1)):
        fns = {"ferrograd": fg_step(fcls)}
        if torch is not None:
            fns["torch"] = torch_step(getattr(torch.nn, tcls))
        times = alternate(fns, args.rounds)
        flops = 3 * 2 * B * T * (D + U) * gates * U
        fb, fm = min(times["ferrograd"]), statistics.median(times["ferrograd"])
        line = (f"  {name:9s} ferrograd {fb * 1e3:6.1f} / {fm * 1e3:6.1f} ms (best / median), "
                f"{flops / fb / 1e9:5.0f} GFLOP/s = {flops / fb / 1e9 / peak:4.0%} of GEMM")
        if "torch" in times:
            tb, tm = min(times["torch"]), statistics.median(times["torch"])
            line += f" | torch {tb * 1e3:6.1f} / {tm * 1e3:6.1f} ms | ratio {tb / fb:.2f}x best, {tm / fm:.2f}x median"
        print(line)


VOCAB, EMB, SEQ = 65, 64, 64


def lm_data(steps):
    n = B * steps
    ids = rng.integers(0, VOCAB, (n, SEQ + 1))
    return ids[:, :-1].astype(np.int32), ids[:, 1:].astype(np.int32)


def fg_lm(x, y):
    m = fg.Sequential([fg.Input((SEQ,), dtype="int32"), layers.Embedding(VOCAB, EMB),
                       layers.LSTM(U, return_sequences=True), layers.Dense(VOCAB)])
    m.compile(optimizer="adam", loss=fg.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x[:B * 2], y[:B * 2], batch_size=B, epochs=1, verbose=0)
    return lambda: m.fit(x, y, batch_size=B, epochs=1, verbose=0, shuffle=False)


def torch_lm(x, y):
    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(VOCAB, EMB)
            self.lstm = torch.nn.LSTM(EMB, U, batch_first=True)
            self.out = torch.nn.Linear(U, VOCAB)

        def forward(self, ids):
            h, _ = self.lstm(self.emb(ids))
            return self.out(h)

    m = LM()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x, dtype=torch.long), torch.tensor(y, dtype=torch.long)

    def epoch():
        for i in range(0, len(xt), B):
            opt.zero_grad(set_to_none=True)
            logits = m(xt[i:i + B])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), yt[i:i + B].reshape(-1))
            loss.backward()
            opt.step()
    return epoch


def keras_lm(x, y):
    import keras
    m = keras.Sequential([keras.Input((SEQ,), dtype="int32"), keras.layers.Embedding(VOCAB, EMB),
                          keras.layers.LSTM(U, return_sequences=True), keras.layers.Dense(VOCAB)])
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x[:B * 2], y[:B * 2], batch_size=B, epochs=1, verbose=0)
    return lambda: m.fit(x, y, batch_size=B, epochs=1, verbose=0, shuffle=False), keras.__version__


def lm_table():
    x, y = lm_data(args.lm_steps)
    tokens = x.size
    fns = {"ferrograd fit": fg_lm(x, y)}
    if torch is not None:
        fns["torch loop"] = torch_lm(x, y)
    try:
        fn, ver = keras_lm(x, y)
        fns[f"keras {ver} (torch) fit"] = fn
    except ImportError:
        pass
    rounds = max(3, args.rounds // 2)
    times = alternate(fns, rounds)
    print(f"char-LSTM LM: Embedding({VOCAB}, {EMB}) -> LSTM({U}) -> Dense({VOCAB}), batch {B}, sequence {SEQ}, "
          f"{args.lm_steps} steps per run, best of {rounds}")
    base = tokens / min(times["ferrograd fit"])
    for k, ts in times.items():
        rate = tokens / min(ts)
        extra = "" if k == "ferrograd fit" else f"  (ferrograd {base / rate:.2f}x)"
        print(f"  {k:28s} {rate:9.0f} tokens/s{extra}")


layers_table()
lm_table()
