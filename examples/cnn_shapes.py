"""A Keras-style CNN on generated images: classify squares, discs and crosses (offline, ~20 s).

    python examples/cnn_shapes.py [--epochs 6]

Everything numeric (convolutions, pooling, the fused loss, backward, Adam) runs in ferrograd's
Rust core; the script is plain Keras 3 code with ``import ferrograd as keras``.
"""
import argparse
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers


def make_shapes(n, size=24, seed=0):
    """n noisy grayscale images (size x size x 1) of a square (0), a disc (1) or a cross (2)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    x = np.zeros((n, size, size, 1), np.float32)
    y = rng.integers(0, 3, n)
    for i in range(n):
        r = rng.integers(4, 8)
        cy, cx = rng.integers(r + 1, size - r - 1, 2)
        if y[i] == 0:
            m = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        elif y[i] == 1:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            m = ((abs(yy - cy) <= 1) & (abs(xx - cx) <= r)) | ((abs(xx - cx) <= 1) & (abs(yy - cy) <= r))
        x[i, ..., 0] = m
    x += rng.normal(0, 0.2, x.shape).astype(np.float32)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=6)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    x_train, y_train = make_shapes(3000, seed=1)
    x_test, y_test = make_shapes(600, seed=2)
    model = keras.Sequential([
        keras.Input(shape=(24, 24, 1)),
        layers.Conv2D(16, 3, activation="relu"),  # (N, 22, 22, 16)
        layers.MaxPooling2D(),  # (N, 11, 11, 16)
        layers.Conv2D(32, 3, activation="relu"),  # (N, 9, 9, 32)
        layers.BatchNormalization(momentum=0.9),  # few steps: let the moving statistics settle fast
        layers.GlobalAveragePooling2D(),  # (N, 32)
        layers.Dropout(0.2),
        layers.Dense(3, activation="softmax"),  # (N, 3)
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1, verbose=2)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}  test accuracy {acc * 100:.2f}%  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
