"""A Vision Transformer on MNIST, then transfer learning to Fashion-MNIST with a frozen backbone.

    FERROGRAD_DATA=../shared/data python examples/vit_mnist.py [--epochs 5] [--head-epochs 3]
        [--seed 0] [--quick]

Part 1 trains ``hub.models.ViTImageClassifier`` on a small ``ViTBackbone``: 4x4 patches of the
28x28 image (49 patches, a Conv 4x4 stride 4 embedding) plus a learned class token and position
embeddings, 4 pre-norm encoder blocks of width 64 with 4 heads and an MLP of 128; the class
token's output feeds a Dense(10) head. AdamW with a cosine-decayed learning rate.

Part 2 reuses that backbone, frozen (``backbone.trainable = False``), for Fashion-MNIST: a new
functional model ``Input -> RandomFlip("horizontal") -> RandomTranslation(0.1, 0.1) -> backbone ->
class token -> Dense(10)`` trains only its head (the augmentation layers act in training only),
then reports test accuracy: what a feature extractor learned on digits gives on clothes.

The data are read from ``$FERROGRAD_DATA/mnist`` and ``$FERROGRAD_DATA/fashion-mnist`` (default
``../shared/data`` next to the repository).
Measured (defaults, seed 0, 2-core AMD EPYC): 97.49% MNIST test accuracy after 5 epochs (917 s);
63.4% on Fashion-MNIST from the frozen digit features after 3 head epochs.
"""
import argparse
import os
import pathlib
import sys
import time

import numpy as np

import ferrograd as keras
from ferrograd import layers
from ferrograd.hub.models import ViTBackbone, ViTImageClassifier

REPO = pathlib.Path(__file__).resolve().parents[1]


def load(name):
    os.environ.setdefault("FERROGRAD_DATA", str(REPO.parent / "shared" / "data"))
    try:
        (x, y), (xt, yt) = getattr(keras.datasets, name).load_data()
    except (OSError, ValueError) as e:
        sys.exit(f"{name} not found: set FERROGRAD_DATA to the folder holding it ({e})")
    prep = lambda a: (a.astype("float32") / 255.0)[..., None]  # noqa: E731 - (N, 28, 28, 1) in [0, 1]
    return (prep(x), y.astype("int32")), (prep(xt), yt.astype("int32"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5, help="MNIST epochs of the whole ViT")
    ap.add_argument("--head-epochs", type=int, default=3, help="Fashion-MNIST epochs of the new head")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--learning-rate", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 4,000 training images, 3 epochs of the ViT, 1 of the head")
    args = ap.parse_args()
    keras.utils.set_random_seed(args.seed)
    t0 = time.perf_counter()

    (x, y), (xt, yt) = load("mnist")
    if args.quick:
        x, y, xt, yt = x[:4000], y[:4000], xt[:1000], yt[:1000]
        args.epochs, args.head_epochs = 3, 1
    backbone = ViTBackbone(image_shape=(28, 28, 1), patch_size=4, num_layers=4, num_heads=4, hidden_dim=64,
                           mlp_dim=128)
    model = ViTImageClassifier(backbone, num_classes=10)
    steps = args.epochs * -(-len(x) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    print(f"ViT: {backbone.count_params():,} backbone parameters, {model.count_params():,} in all")
    t1 = time.perf_counter()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.05, verbose=2)
    loss, acc = model.evaluate(xt, yt, batch_size=256, verbose=0)
    print(f"MNIST test accuracy {acc * 100:.2f}% (loss {loss:.4f}) after {args.epochs} epochs, "
          f"{time.perf_counter() - t1:.0f} s")

    (fx, fy), (fxt, fyt) = load("fashion_mnist")
    if args.quick:
        fx, fy, fxt, fyt = fx[:2000], fy[:2000], fxt[:1000], fyt[:1000]
    backbone.trainable = False
    inp = keras.Input((28, 28, 1))
    h = layers.RandomFlip("horizontal", seed=args.seed)(inp)
    h = layers.RandomTranslation(0.1, 0.1, seed=args.seed)(h)
    tokens = backbone(h)  # (B, 50, 64): the class token first
    logits = layers.Dense(10)(tokens[:, 0])
    transfer = keras.Model(inp, logits)
    transfer.compile(optimizer=keras.optimizers.Adam(3e-3),
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    print(f"transfer model: {len(transfer.trainable_weights)} trainable tensors "
          f"({sum(int(np.prod(w.shape)) for w in transfer.trainable_weights):,} parameters), backbone frozen")
    t1 = time.perf_counter()
    transfer.fit(fx, fy, batch_size=args.batch_size, epochs=args.head_epochs, verbose=2)
    loss, acc = transfer.evaluate(fxt, fyt, batch_size=256, verbose=0)
    print(f"Fashion-MNIST test accuracy {acc * 100:.2f}% (loss {loss:.4f}) with the frozen MNIST backbone, "
          f"{args.head_epochs} head epochs, {time.perf_counter() - t1:.0f} s")
    print(f"wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
