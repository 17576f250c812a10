"""ConvLSTM1D/2D/3D against real Keras 3 (fixture tests/fixtures/keras_conv_lstm.json, captured by
tests/fixtures/capture_keras_conv_lstm.py on the PyTorch backend): configs, weight shapes, parameter
counts, outputs and states, masks, and the gradients of the input and every weight; plus finite
differences, save/load, training and clear errors."""
import json
import os

import numpy as np
import pytest
from conftest import gradcheck

import ferrograd as fg
from ferrograd import layers, ops

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "keras_conv_lstm.json")) as _f:
    KERAS = json.load(_f)["cases"]
rng = np.random.default_rng(0)


def _arr(flat, shape):
    return np.asarray(flat, dtype=np.float32).reshape(shape)


def _cfg(d):
    return json.loads(json.dumps({k: v for k, v in d.items() if k not in ("name", "dtype")}))


@pytest.mark.parametrize("i", range(len(KERAS)), ids=[f"{c['layer']}-{n}" for n, c in enumerate(KERAS)])
def test_matches_keras(i):
    case = KERAS[i]
    layer = getattr(layers, case["layer"])(**case["kwargs"])
    shape = tuple(case["shape"])
    layer.build(shape)
    cfg = _cfg(layer.get_config())
    keras_cfg = _cfg(case["config"])
    for k in ("kernel_initializer", "recurrent_initializer"):  # Keras 3.15 adds these initializer fields
        keras_cfg[k]["config"].pop("input_axes", None)
        keras_cfg[k]["config"].pop("output_axes", None)
    assert cfg == keras_cfg
    assert [list(w.shape) for w in layer.get_weights()] == case["weight_shapes"]
    assert layer.count_params() == case["params"]
    layer.set_weights([_arr(w, s) for w, s in zip(case["weights"], case["weight_shapes"])])
    x = fg.tensor(_arr(case["input"], shape), requires_grad=True)
    mask = None if case["mask"] is None else fg.tensor(np.array(case["mask"]))
    ys = layer(x, mask=mask)
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    assert len(ys) == len(case["outputs"])
    for y, want, s in zip(ys, case["outputs"], case["output_shapes"]):
        assert tuple(y.shape) == tuple(s)
        np.testing.assert_allclose(y.numpy(), _arr(want, s), rtol=1e-5, atol=2e-5)
    assert [tuple(s) for s in case["output_shapes"]] == [
        tuple(s) for s in (layer.compute_output_shape(shape) if len(ys) > 1 else [layer.compute_output_shape(shape)])]
    ops.sum(ys[0] * fg.tensor(_arr(case["upstream"], case["output_shapes"][0]))).backward()
    np.testing.assert_allclose(x.grad.numpy(), _arr(case["input_grad"], shape), rtol=1e-4, atol=5e-5)
    for w, g, s in zip(layer.trainable_weights, case["weight_grads"], case["weight_shapes"]):
        np.testing.assert_allclose(w.grad.numpy(), _arr(g, s), rtol=1e-4, atol=1e-4)


def test_gradients_match_finite_differences():
    layer = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True, dtype="float64")
    layer.build((1, 3, 3, 3, 2))
    cell = layer.cell
    own = cell.kernel, cell.recurrent_kernel, cell.bias

    def run(x, kernel, recurrent, bias):
        # the cell computes with whatever tensors its weight attributes hold
        cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent, bias
        try:
            return layer(x)
        finally:
            cell.kernel, cell.recurrent_kernel, cell.bias = own

    gradcheck(run, rng.normal(size=(1, 3, 3, 3, 2)), rng.normal(size=(2, 2, 2, 8)) * 0.5,
              rng.normal(size=(2, 2, 2, 8)) * 0.5, rng.normal(size=(8,)) * 0.5)


def test_save_load_round_trip(tmp_path):
    model = fg.Sequential([fg.Input((4, 6, 6, 1)), layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                           layers.ConvLSTM2D(2, 3, data_format="channels_last"), layers.GlobalAveragePooling2D(),
                           layers.Dense(1)])
    x = rng.normal(size=(3, 4, 6, 6, 1)).astype(np.float32)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = fg.saving.load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_learns_a_moving_dot():
    # Next-frame prediction in miniature: a dot moving one pixel right per frame.
    fg.utils.set_random_seed(0)
    frames = np.zeros((32, 5, 6, 6, 1), np.float32)
    for n in range(32):
        r, c0 = n % 6, n % 2
        for t in range(5):
            frames[n, t, r, (c0 + t) % 6, 0] = 1.0
    x, y = frames[:, :4], frames[:, 1:]
    model = fg.Sequential([fg.Input((4, 6, 6, 1)),
                           layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True),
                           layers.Conv3D(1, 1, activation="sigmoid")])
    model.compile(optimizer=fg.optimizers.Adam(0.02), loss="binary_crossentropy")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=25, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first * 0.3


def test_stateful_and_initial_state():
    layer = layers.ConvLSTM1D(2, 3, padding="same", stateful=True, return_state=True)
    x = fg.tensor(rng.normal(size=(2, 3, 5, 1)).astype(np.float32))
    _, h1, c1 = layer(x)
    _, h2, _ = layer(x)
    assert not np.allclose(h1.numpy(), h2.numpy())
    layer.reset_state()
    _, h3, _ = layer(x)
    np.testing.assert_allclose(h3.numpy(), h1.numpy(), rtol=1e-6)
    free = layers.ConvLSTM1D(2, 3, padding="same", return_state=True)
    free.build((2, 3, 5, 1))
    free.set_weights(layer.get_weights())
    _, h4, _ = free(x, initial_state=[h1, c1])
    np.testing.assert_allclose(h4.numpy(), h2.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="ndim=5"):
        layers.ConvLSTM2D(2, 3)(fg.tensor(np.zeros((2, 3, 4, 1), np.float32)))
    layer = layers.ConvLSTM2D(2, 3, padding="same")
    with pytest.raises(ValueError, match="initial state 0 must have shape"):
        layer(fg.tensor(np.zeros((2, 3, 4, 4, 1), np.float32)), initial_state=[np.zeros((2, 4, 4, 3), np.float32)] * 2)
    with pytest.raises(ValueError, match="2 initial state tensors"):
        layer(fg.tensor(np.zeros((2, 3, 4, 4, 1), np.float32)), initial_state=[np.zeros((2, 4, 4, 2), np.float32)])
    with pytest.raises(ValueError, match="filters"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="unroll"):
        layers.ConvLSTM2D(2, 3, unroll=True)
    with pytest.raises(ValueError, match="batch size must be static"):
        fg.Sequential([fg.Input((3, 4, 4, 1)), layers.ConvLSTM2D(2, 3, stateful=True)])
