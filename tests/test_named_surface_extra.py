"""Behavioural tests for public Keras names that had none of their own (found by scanning the tests
for every present name of tests/fixtures/keras_public_names.json): Keras' layer aliases, a few
NumPy-set ops, constraints and regularizers against NumPy, the callback classes, the flash
attention switches, CustomObjectScope, Sequence and the image and data helpers of keras.utils."""
import importlib.util

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import callbacks, constraints, layers, ops, regularizers, utils

X = np.random.default_rng(0).standard_normal((2, 9, 3)).astype("float32")


@pytest.mark.parametrize("alias, name", [
    ("AvgPool1D", "AveragePooling1D"), ("AvgPool2D", "AveragePooling2D"), ("AvgPool3D", "AveragePooling3D"),
    ("MaxPool1D", "MaxPooling1D"), ("MaxPool3D", "MaxPooling3D"), ("GlobalAvgPool1D", "GlobalAveragePooling1D"),
    ("GlobalAvgPool2D", "GlobalAveragePooling2D"), ("GlobalAvgPool3D", "GlobalAveragePooling3D"),
    ("GlobalMaxPool1D", "GlobalMaxPooling1D"), ("GlobalMaxPool2D", "GlobalMaxPooling2D"),
    ("GlobalMaxPool3D", "GlobalMaxPooling3D"), ("Convolution1D", "Conv1D"), ("Convolution3D", "Conv3D"),
    ("Convolution1DTranspose", "Conv1DTranspose"), ("Convolution2DTranspose", "Conv2DTranspose"),
    ("Convolution3DTranspose", "Conv3DTranspose"), ("SeparableConvolution1D", "SeparableConv1D"),
    ("SeparableConvolution2D", "SeparableConv2D"),
])
def test_layer_aliases_are_the_layers(alias, name):
    assert getattr(layers, alias) is getattr(layers, name)


def test_alias_layers_compute():
    np.testing.assert_allclose(layers.AvgPool1D(3)(X).numpy(), X.reshape(2, 3, 3, 3).mean(2), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalMaxPool1D()(X).numpy(), X.max(1), rtol=1e-6)
    y = layers.Convolution1D(4, 3, kernel_initializer="ones", use_bias=False)(X).numpy()
    np.testing.assert_allclose(y[..., 0], np.stack([X[:, i:i + 3].sum((1, 2)) for i in range(7)], 1), rtol=1e-5)


def test_numpy_set_ops_match_numpy():
    a = np.array([[1.0, np.nan, -3.0], [4.0, 5.0, np.nan]], "float32")
    for fn in (ops, ops.numpy):
        np.testing.assert_array_equal(fn.absolute(a).numpy(), np.absolute(a))
        np.testing.assert_array_equal(fn.conj(a).numpy(), np.conj(a))
        np.testing.assert_array_equal(fn.conjugate(a).numpy(), np.conjugate(a))
        np.testing.assert_array_equal(fn.isreal(a).numpy(), np.isreal(a))
        np.testing.assert_array_equal(fn.nanmin(a, axis=1).numpy(), np.nanmin(a, axis=1))
        np.testing.assert_array_equal(fn.nanprod(a, axis=0).numpy(), np.nanprod(a, axis=0))
        np.testing.assert_array_equal(fn.nancumsum(a, axis=1).numpy(), np.nancumsum(a, axis=1))
        full = fn.full_like(a, 7.0)
        assert full.dtype == "float32" and np.array_equal(full.numpy(), np.full_like(a, 7.0))
        assert tuple(fn.empty_like(a).shape) == a.shape
        b = np.arange(24, dtype="float32").reshape(4, 6)
        for got, want in zip(fn.hsplit(b, 3), np.hsplit(b, 3)):
            np.testing.assert_array_equal(got.numpy(), want)
        for got, want in zip(fn.vsplit(b, 2), np.vsplit(b, 2)):
            np.testing.assert_array_equal(got.numpy(), want)
    assert ops.is_tensor(fg.ones(2)) and not ops.is_tensor(np.ones(2))


def test_stop_gradient_blocks_the_tape():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x * ops.stop_gradient(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])  # d/dx x * c = c


def test_constraints_and_regularizers_match_numpy():
    w = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(constraints.UnitNorm(axis=0)(w).numpy(),
                               w / np.sqrt((w ** 2).sum(0, keepdims=True) + 1e-7), rtol=1e-5)
    norms = np.sqrt((w ** 2).sum(0, keepdims=True))
    want = w * np.clip(norms, 0, 1.0) / (1e-7 + norms)
    np.testing.assert_allclose(constraints.max_norm(1.0)(w).numpy(), want, rtol=1e-5)
    np.testing.assert_allclose(float(regularizers.l1_l2(l1=0.1, l2=0.2)(w)),
                               0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum(), rtol=1e-5)
    reg = regularizers.orthogonal_regularizer(factor=0.5, mode="columns")
    cols = w / np.linalg.norm(w, axis=0, keepdims=True)
    gram = cols.T @ cols
    off = np.abs(gram - np.eye(3)).sum() / (3 * 2)
    np.testing.assert_allclose(float(reg(w)), 0.5 * off, rtol=1e-4)


def test_callback_classes():
    class Count(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    count = Count()
    cl = callbacks.CallbackList([count], add_history=True)
    cl.on_epoch_end(0, {"loss": 1.0})
    assert count.epochs == 1
    model = fg.Sequential([fg.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    hist = model.fit(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"), epochs=2, verbose=0,
                     callbacks=[callbacks.ProgbarLogger()])
    assert isinstance(hist, callbacks.History) and len(hist.history["loss"]) == 2


def test_flash_attention_switches():
    fg.config.disable_flash_attention()
    assert fg.config.is_flash_attention_enabled() is False
    fg.config.enable_flash_attention()
    assert fg.config.is_flash_attention_enabled() is True
    with pytest.raises(NotImplementedError, match="set_max_steps_per_epoch"):
        fg.config.set_max_steps_per_epoch(3)


class Doubler(layers.Layer):
    def call(self, x):
        return x * 2


def test_custom_object_scope_resolves_saved_custom_layers(tmp_path):
    assert fg.saving.CustomObjectScope is utils.CustomObjectScope
    model = fg.Sequential([fg.Input((3,)), Doubler()])
    path = str(tmp_path / "m.keras")
    fg.models.save_model(model, path)
    with utils.CustomObjectScope({"Doubler": Doubler}):
        again = fg.saving.load_model(path)
    np.testing.assert_array_equal(again.predict(np.ones((1, 3), "float32"), verbose=0), [[2.0, 2.0, 2.0]])


def test_sequence_and_sample_weight_packing():
    class Batches(utils.Sequence):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return utils.pack_x_y_sample_weight(np.ones((2, 3), "float32"), np.zeros((2, 1), "float32"))

    x, y, sw = utils.unpack_x_y_sample_weight(utils.pack_x_y_sample_weight(1, 2, 3))
    assert (x, y, sw) == (1, 2, 3)
    assert utils.unpack_x_y_sample_weight((1,)) == (1, None, None)
    model = fg.Sequential([fg.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.fit(Batches(), epochs=1, verbose=0).history["loss"]) == 1


@pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow is not installed")
def test_array_to_img_and_save_img(tmp_path):
    arr = np.random.default_rng(2).uniform(0, 255, (5, 4, 3)).astype("float32")
    img = utils.array_to_img(arr, scale=False)
    assert img.size == (4, 5)
    path = str(tmp_path / "x.png")
    utils.save_img(path, arr, scale=False)
    back = utils.img_to_array(utils.load_img(path))
    np.testing.assert_array_equal(back, np.asarray(img, dtype="float32"))


def _graphviz():
    if importlib.util.find_spec("pydot") is None:
        return False
    import pydot
    try:
        pydot.Dot.create(pydot.Dot())
    except OSError:
        return False
    return True


def test_model_to_dot_needs_pydot_and_graphviz():
    model = fg.Sequential([fg.Input((2,)), layers.Dense(1)])
    if importlib.util.find_spec("pydot") is None:
        with pytest.raises(ImportError, match="install pydot"):
            utils.model_to_dot(model)
    elif not _graphviz():
        with pytest.raises(ImportError, match="install graphviz"):
            utils.plot_model(model)
    else:
        assert utils.model_to_dot(model) is not None


@pytest.mark.skipif(not _graphviz(), reason="needs pydot and graphviz' dot")
def test_plot_model_draws_the_layer_graph(tmp_path):
    a, b = fg.Input((4,), name="left"), fg.Input((4,), name="right")
    shared = layers.Dense(3, activation="relu", name="shared")
    merged = layers.Concatenate(name="concat")([shared(a), shared(b)])
    out = layers.Dense(1, name="head")(merged + 1.0)
    model = fg.Model([a, b], out)
    dot = utils.model_to_dot(model, show_shapes=True, show_dtype=True, show_layer_activations=True,
                             show_trainable=True)
    labels = [n.get_label() for n in dot.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
    # two inputs, the shared layer once, concat, the add op, head
    assert len(labels) == 6
    text = " ".join(labels)
    for want in ("left", "right", "shared", "concat", "head", "Output shape: (None, 6)", "Activation: relu",
                 "Output dtype: float32", "Trainable: Y"):
        assert want in text, want
    assert len(dot.get_edges()) == 5        # left->shared, right->shared, shared->concat, concat->add, add->head
    png = tmp_path / "model.png"
    assert utils.plot_model(model, str(png), show_shapes=True) is None or png.exists()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    utils.plot_model(fg.Sequential([fg.Input((2,)), layers.Dense(1)]), str(tmp_path / "seq.svg"))
    assert "<svg" in (tmp_path / "seq.svg").read_text()
    with pytest.raises(ValueError, match="not yet been built"):
        utils.plot_model(fg.Sequential([layers.Dense(1)]), str(tmp_path / "x.png"))
    # layer_range: from the shared layer to concat (Keras matches the names with re.match)
    part = utils.model_to_dot(model, layer_range=["shared", "conc"])
    names = " ".join(n.get_label() or "" for n in part.get_nodes())
    assert "shared" in names and "concat" in names and "head" not in names and "left" not in names
    assert len(part.get_edges()) == 1
    with pytest.raises(ValueError, match="does not match any layer"):
        utils.model_to_dot(model, layer_range=["nope", "head"])
    with pytest.raises(ValueError, match="two layer names"):
        utils.model_to_dot(model, layer_range="head")
    # expand_nested: the inner model becomes a cluster of its own layers, wired to the outer graph
    inner = fg.Sequential([fg.Input((4,)), layers.Dense(3, name="inner_a"), layers.Dense(2, name="inner_b")],
                          name="block")
    x = fg.Input((4,), name="outer_in")
    outer = fg.Model(x, layers.Dense(1, name="outer_head")(inner(x)))
    flat = utils.model_to_dot(outer)
    assert "inner_a" not in " ".join(n.get_label() or "" for n in flat.get_nodes())
    deep = utils.model_to_dot(outer, expand_nested=True)
    (cluster,) = deep.get_subgraphs()
    assert cluster.get_label() == "block"
    inside = " ".join(n.get_label() or "" for n in cluster.get_nodes())
    assert "inner_a" in inside and "inner_b" in inside
    # outer_in -> the block's input, inner edges, inner_b -> outer_head
    assert len(deep.get_edges()) == 2 and len(cluster.get_edges()) == 2
    utils.plot_model(outer, str(tmp_path / "nested.png"), expand_nested=True)
    assert (tmp_path / "nested.png").stat().st_size > 0
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        utils.model_to_dot(model, colour="red")
