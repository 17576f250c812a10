"""keras.layers.ReversibleEmbedding (Keras 3.15): lookups forward, logits in reverse with tied or
separate weights, the soft cap, shapes, config and save/load; keras_hub's class is a registered
subclass of it."""
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import layers, ops

# get_config() of keras.layers.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=2.0,
# mask_zero=True) in Keras 3.15.1 (name and dtype left out), printed in a side environment.
KERAS_CONFIG = {"input_dim": 10, "output_dim": 4, "embeddings_initializer": {
    "module": "keras.initializers", "class_name": "RandomUniform", "config": {"seed": None, "minval": -0.05,
                                                                              "maxval": 0.05},
    "registered_name": None}, "embeddings_regularizer": None, "activity_regularizer": None,
    "embeddings_constraint": None, "mask_zero": True, "quantization_config": None, "tie_weights": False,
    "reverse_dtype": None, "logit_soft_cap": 2.0}


def test_forward_reverse_and_soft_cap():
    rng = np.random.default_rng(0)
    ids = np.array([[1, 0, 7], [3, 3, 9]])
    tied = layers.ReversibleEmbedding(10, 4)
    h = tied(fg.tensor(ids))
    table = tied.embeddings.numpy()
    np.testing.assert_array_equal(h.numpy(), table[ids])
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(tied(fg.tensor(x), reverse=True).numpy(), x @ table.T, rtol=1e-5, atol=1e-6)
    capped = layers.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=0.5)
    capped.build((2, 3))
    assert [tuple(w.shape) for w in capped.weights] == [(10, 4), (4, 10)]
    want = 0.5 * np.tanh(x @ capped.reverse_embeddings.numpy() / 0.5)
    np.testing.assert_allclose(capped(fg.tensor(x), reverse=True).numpy(), want, rtol=1e-5, atol=1e-6)
    assert tuple(capped.compute_output_shape((2, 3, 4), reverse=True)) == (2, 3, 10)
    assert tuple(capped.compute_output_shape((2, 3))) == (2, 3, 4)


def test_config_matches_keras_and_round_trips():
    layer = layers.ReversibleEmbedding(10, 4, tie_weights=False, logit_soft_cap=2.0, mask_zero=True)
    cfg = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable")}
    assert cfg == KERAS_CONFIG
    again = layers.ReversibleEmbedding.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_tied_gradients_reach_the_table_from_both_directions(tmp_path):
    layer = layers.ReversibleEmbedding(6, 3)
    ids = fg.tensor(np.array([[1, 2]]))
    logits = layer(layer(ids), reverse=True)  # (1, 2, 6)
    ops.sum(logits).backward()
    g = layer.embeddings.grad.numpy()
    assert g.shape == (6, 3) and np.all(np.isfinite(g)) and np.abs(g).sum() > 0
    model = fg.Sequential([fg.Input((2,), dtype="int32"), layers.ReversibleEmbedding(6, 3)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = fg.saving.load_model(path)
    assert type(loaded.layers[0]) is layers.ReversibleEmbedding
    np.testing.assert_array_equal(loaded.predict(np.array([[1, 5]]), verbose=0),
                                  model.predict(np.array([[1, 5]]), verbose=0))


def test_keras_hub_class_is_a_registered_subclass():
    from ferrograd.hub.layers import ReversibleEmbedding as HubReversibleEmbedding

    assert issubclass(HubReversibleEmbedding, layers.ReversibleEmbedding)
    assert HubReversibleEmbedding is not layers.ReversibleEmbedding
    with pytest.raises(ValueError):
        layers.ReversibleEmbedding(0, 4)
