"""Keras 3 idioms from keras.io examples that use this issue's names, run unmodified through
``python -m ferrograd.keras_compat`` (data swapped for small generated arrays): the backend-agnostic
custom layer (keras.random.dropout + SeedGenerator), the ViT augmentation pipeline (Normalization.adapt,
Resizing, RandomFlip, RandomRotation, RandomZoom), the time-series classifier's Conv1D/BN/ReLU
block, the CCT preprocessing (Rescaling, RandomCrop) and keras.config."""
from test_keras_compat import run

SCRIPT = '''
import numpy as np
import keras
from keras import layers

print("BACKEND", keras.config.backend(), keras.config.image_data_format())
keras.utils.set_random_seed(1)
rng = np.random.default_rng(0)


class MyDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)


x_train = rng.uniform(0, 255, (32, 16, 16, 3)).astype("float32")
y_train = rng.integers(0, 4, (32,))
data_augmentation = keras.Sequential(
    [
        layers.Normalization(),
        layers.Resizing(24, 24),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(factor=0.02),
        layers.RandomZoom(height_factor=0.2, width_factor=0.2),
    ],
    name="data_augmentation",
)
data_augmentation.layers[0].adapt(x_train)
inputs = keras.Input(shape=(16, 16, 3))
x = layers.Rescaling(scale=1.0 / 255)(inputs)
x = data_augmentation(x)
x = layers.RandomCrop(20, 20)(x)
x = layers.Conv2D(8, 3, padding="same")(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
x = layers.GlobalAveragePooling2D()(x)
x = MyDropout(0.25)(x)
outputs = layers.Dense(4, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=8, epochs=2, verbose=0)
print("LOSSES", len(history.history["loss"]))
print("PRED", model.predict(x_train[:3], verbose=0).shape)

series = rng.standard_normal((40, 50, 1)).astype("float32")
labels = (series.mean(axis=(1, 2)) > 0).astype("int64")
inp = keras.layers.Input((50, 1))
h = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(inp)
h = keras.layers.BatchNormalization()(h)
h = keras.layers.ReLU()(h)
h = keras.layers.GlobalAveragePooling1D()(h)
out = keras.layers.Dense(2, activation="softmax")(h)
clf = keras.models.Model(inputs=inp, outputs=out)
clf.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
clf.fit(series, labels, epochs=1, batch_size=8, verbose=0)
print("DONE")
'''


def test_keras_idioms_of_this_issue_run_unmodified(tmp_path):
    r = run(SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "BACKEND ferrograd channels_last" in r.stdout
    assert "LOSSES 2" in r.stdout and "PRED (3, 4)" in r.stdout and "DONE" in r.stdout
