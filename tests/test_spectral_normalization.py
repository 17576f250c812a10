"""keras.layers.SpectralNormalization against Keras 3.15 on PyTorch (fixture
tests/fixtures/keras_spectral_norm.json: Dense, Conv2D and Embedding wrapped with
power_iterations=2, weights set, one training call then one inference call), plus the
normalization's meaning (the kernel's largest singular value tends to 1), config round trip,
training in a model and errors."""
import json
import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_spectral_norm.json")) as _f:
    KERAS = json.load(_f)
MAKE = {"dense": lambda: layers.Dense(3), "conv": lambda: layers.Conv2D(2, 2), "emb": lambda: layers.Embedding(5, 3)}


@pytest.mark.parametrize("case", sorted(KERAS))
def test_matches_keras(case):
    k = KERAS[case]
    x = np.array(k["x"], dtype=np.int32 if case == "emb" else np.float32)
    sn = layers.SpectralNormalization(MAKE[case](), power_iterations=2)
    sn.build(x.shape)
    assert {kk: v for kk, v in sn.get_config().items() if kk not in ("name", "dtype", "layer")} == k["config"]
    assert sn.get_config()["layer"]["class_name"] == k["layer_class"]
    # Keras lists [kernel, vector_u, bias]; set them by role.
    kernel, u, *rest = [np.array(w, np.float32) for w in k["weights"]]
    with fg.no_grad():
        sn.kernel.assign(kernel)
        sn.vector_u.assign(u)
        if rest:
            sn.layer.bias.assign(rest[0])
    y = sn(fg.tensor(x), training=True).numpy()
    k_after, u_after = (np.array(w, np.float32) for w in k["after"][:2])
    np.testing.assert_allclose(sn.kernel.numpy(), k_after, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sn.vector_u.numpy(), u_after, rtol=1e-5, atol=1e-6)
    y2 = sn(fg.tensor(x), training=False).numpy()
    if case == "emb":
        # Keras-on-torch casts the output to the ids' integer dtype (all zeros here); ferrograd
        # keeps the looked-up vectors (see SpectralNormalization.call).
        np.testing.assert_allclose(y, k_after[x], rtol=1e-5, atol=1e-6)
        assert np.all(np.array(k["y_train"]) == 0)
    else:
        np.testing.assert_allclose(y, np.array(k["y_train"]), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y2, np.array(k["y_infer"]), rtol=1e-5, atol=1e-5)


def test_power_iteration_drives_the_spectral_norm_to_one():
    sn = layers.SpectralNormalization(layers.Dense(6, kernel_initializer="random_normal"))
    x = fg.tensor(np.ones((2, 8), np.float32))
    sn(x)
    for _ in range(30):
        sn(x, training=True)
    assert abs(np.linalg.svd(sn.kernel.numpy(), compute_uv=False)[0] - 1.0) < 1e-3
    before = sn.kernel.numpy().copy()
    sn(x, training=False)
    np.testing.assert_array_equal(sn.kernel.numpy(), before)  # inference leaves the kernel alone


def test_config_round_trip_and_training_in_a_model(tmp_path):
    fg.utils.set_random_seed(0)
    model = fg.Sequential([fg.Input((8, 8, 1)), layers.SpectralNormalization(layers.Conv2D(4, 3)), layers.Flatten(),
                           layers.SpectralNormalization(layers.Dense(1), power_iterations=3)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype(np.float32)
    model.fit(x, x.mean(axis=(1, 2, 3))[:, None], epochs=2, verbose=0)
    sn = model.layers[-1]
    assert any(w is sn.vector_u for w in sn.non_trainable_weights)
    assert not any(w is sn.vector_u for w in sn.trainable_weights)
    path = str(tmp_path / "sn.keras")
    model.save(path)
    loaded = fg.saving.load_model(path)
    assert loaded.layers[-1].power_iterations == 3
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="power_iterations"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="has no attribute 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.Flatten())(fg.tensor(np.ones((2, 3), np.float32)))
    sn = layers.SpectralNormalization(layers.Dense(2))
    sn(fg.tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        sn(fg.tensor(np.ones((2, 4), np.float32)))
