"""Training throughput (samples/s) of the Keras MNIST convnet: ferrograd's ``fit`` against the same
network in a plain PyTorch loop and in Keras 3 on the PyTorch backend (when ``keras`` is installed),
same batch size, same thread count, one process. Also the per-batch overhead of ``predict``.

    python benches/bench_train.py [--threads 2] [--steps 60]

Data: random images of MNIST's shape (throughput does not depend on the values), so the script
runs offline. Every library gets a warm-up, then `--steps` timed training steps; best of 3 runs.
"""
import argparse
import os
import time

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=60)
ap.add_argument("--batch", type=int, default=128)
args = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import ferrograd as fg  # noqa: E402

fg.set_num_threads(args.threads)
N = args.batch * args.steps
rng = np.random.default_rng(0)
x = rng.random((N, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, N)
results = {}


def best_of(fn, runs=3):
    best = float("inf")
    for _ in range(runs):
        time.sleep(0.2)
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def fg_model():
    from ferrograd import layers

    m = fg.Sequential([fg.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                       layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                       layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


m = fg_model()
m.fit(x[: args.batch * 3], y[: args.batch * 3], batch_size=args.batch, epochs=1, verbose=0)
t = best_of(lambda: m.fit(x, y, batch_size=args.batch, epochs=1, verbose=0, shuffle=True))
results["ferrograd fit"] = N / t
xb = x[: args.batch]
t_pred = best_of(lambda: [m.predict(xb, batch_size=args.batch, verbose=0) for _ in range(20)]) / 20
t_call = best_of(lambda: [m(fg.from_numpy(xb)) for _ in range(20)]) / 20

try:
    import torch

    torch.set_num_threads(args.threads)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Dropout(0.5), torch.nn.Linear(1600, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y)

    def torch_epoch():
        perm = torch.randperm(N)
        for s in range(0, N, args.batch):
            idx = perm[s:s + args.batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    torch_epoch()
    results["torch loop"] = N / best_of(torch_epoch)
except ImportError:
    torch = None

try:
    import keras

    km = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                           keras.layers.MaxPooling2D(), keras.layers.Conv2D(64, 3, activation="relu"),
                           keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dropout(0.5),
                           keras.layers.Dense(10, activation="softmax")])
    km.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    km.fit(x[: args.batch * 3], y[: args.batch * 3], batch_size=args.batch, epochs=1, verbose=0)
    results[f"keras {keras.__version__} ({keras.backend.backend()}) fit"] = N / best_of(
        lambda: km.fit(x, y, batch_size=args.batch, epochs=1, verbose=0))
except ImportError:
    pass

print(f"MNIST convnet training, batch {args.batch}, {args.threads} threads, {N} samples per timed epoch")
base = results["ferrograd fit"]
for k, v in results.items():
    print(f"  {k:34s} {v:9.0f} samples/s   ferrograd/this = {base / v:5.2f}x")
print(f"  predict() on one batch: {t_pred * 1e3:.2f} ms; direct model call: {t_call * 1e3:.2f} ms "
      f"(overhead {100 * (t_pred / t_call - 1):.0f}%)")
