"""The classic Keras MNIST convnet, as written for Keras 3, running on ferrograd.

    FERROGRAD_DATA=../shared/data python examples/mnist_convnet.py [--epochs 3]
        [--learning-rate 0.005 --cosine-decay]

Expected after 3 epochs: ~98.5% test accuracy with Keras' defaults (Keras 3 on PyTorch gets the
same with this script), ~99.0% with Adam at 0.005 decayed to 0 by CosineDecay.
"""
import argparse

import numpy as np

import ferrograd as keras
from ferrograd import layers

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--learning-rate", type=float, default=0.001,
                help="Adam's (peak) learning rate; Keras' default is 0.001")
ap.add_argument("--cosine-decay", action="store_true",
                help="decay the learning rate to 0 over the run with keras.optimizers.schedules.CosineDecay")
ap.add_argument("--limit", type=int, default=None, help="use only this many training samples (smoke runs)")
args = ap.parse_args()

num_classes = 10
input_shape = (28, 28, 1)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
if args.limit:
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
x_train = np.expand_dims(x_train, -1)  # (N, 28, 28, 1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

keras.utils.set_random_seed(args.seed)
model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),  # (N, 26, 26, 32)
        layers.MaxPooling2D(pool_size=(2, 2)),  # (N, 13, 13, 32)
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),  # (N, 11, 11, 64)
        layers.MaxPooling2D(pool_size=(2, 2)),  # (N, 5, 5, 64)
        layers.Flatten(),  # (N, 1600)
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),  # (N, 10)
    ]
)
model.summary()

batch_size = 128
lr = args.learning_rate
if args.cosine_decay:
    steps = -(-int(len(x_train) * 0.9) // batch_size) * args.epochs
    lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps)
model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(lr), metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=batch_size, epochs=args.epochs, validation_split=0.1)

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
