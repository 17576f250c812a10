"""The model core: call context, masks, symbolic shapes with None dimensions, the graph API
(Functional, Sequential, get_layer, layer.output, clone_model, load_model, clear_session)."""
import gc
import weakref

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers, ops

# ---- call context --------------------------------------------------------------------------------


class FlagProbe(layers.Layer):
    """Records the training flag each call receives."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x, training=None):
        self.seen.append(training)
        return x


class Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(4)
        self.probe = FlagProbe()

    def call(self, x):  # does not pass `training` on by hand
        return self.probe(self.dense(x))


class Net(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Block()
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(1)

    def call(self, x, training=None):  # does not pass `training` on either
        return self.out(self.drop(self.block(x)))


def test_training_flag_reaches_layers_two_levels_deep():
    x = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.zeros((16, 1), np.float32)
    net = Net()
    net.compile(optimizer="sgd", loss="mse")
    net.fit(x, y, batch_size=8, epochs=1, verbose=0)
    probe = net.block.probe
    assert probe.seen and all(v is True for v in probe.seen), probe.seen
    probe.seen.clear()
    net.predict(x, verbose=0)
    assert probe.seen and all(v is False for v in probe.seen), probe.seen
    probe.seen.clear()
    net.evaluate(x, y, verbose=0)
    assert probe.seen and all(v is False for v in probe.seen), probe.seen
    probe.seen.clear()
    net(x)  # no flag anywhere: the signature default (None) of the probe
    assert probe.seen == [None]
    probe.seen.clear()
    net(x, training=True)
    assert probe.seen == [True]


def test_explicit_training_wins_and_is_scoped():
    probe, after = FlagProbe(), FlagProbe()

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.a, self.b = probe, after

        def call(self, x, training=None):
            return self.b(self.a(x, training=False))

    Outer()(np.ones((2, 2), np.float32), training=True)
    assert probe.seen == [False] and after.seen == [True]


def test_dropout_in_subclassed_fit_is_active():
    keras.random.seed(3)

    class DropNet(keras.Model):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.99)

        def call(self, x):
            return self.drop(x)

    m = DropNet()
    x = np.ones((4, 50), np.float32)
    m(x)  # inference: identity
    out_train = []

    class Grab(keras.callbacks.Callback):
        pass

    # Called inside a training-mode outer call, the nested Dropout drops.
    class Wrapper(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = m

        def call(self, x, training=None):
            out_train.append(self.inner(x))
            return out_train[-1]

    Wrapper()(x, training=True)
    assert float((out_train[-1].numpy() == 0).mean()) > 0.9
    np.testing.assert_array_equal(m(x).numpy(), x)


def test_call_forwards_extra_positional_arguments():
    class Pair(layers.Layer):
        def call(self, query, value, scale=1.0):
            return (query + value) * scale

    p = Pair()
    a, b = np.ones((2, 3), np.float32), np.full((2, 3), 2.0, np.float32)
    np.testing.assert_allclose(p(a, b).numpy(), 3.0)
    np.testing.assert_allclose(p(a, b, 2.0).numpy(), 6.0)
    np.testing.assert_allclose(p(a, value=b, scale=0.5).numpy(), 1.5)
    # symbolic, with two tensor arguments (the attention call shape)
    q = keras.Input((5, 3))
    out = p(q, q)
    assert out.shape == (None, 5, 3)
    m = keras.Model(q, out)
    np.testing.assert_allclose(m(np.ones((1, 5, 3), np.float32)).numpy(), 2.0)


def test_build_receives_named_shapes():
    class Cross(layers.Layer):
        def build(self, query_shape, value_shape):
            self.shapes = (query_shape, value_shape)
            self.w = self.add_weight(shape=(query_shape[-1], value_shape[-1]))

        def call(self, query, value):
            return ops.matmul(ops.matmul(query, self.w), ops.transpose(value, (0, 2, 1)))

        def compute_output_shape(self, query_shape, value_shape):
            return (query_shape[0], query_shape[1], value_shape[1])

    c = Cross()
    q, v = keras.Input((None, 4)), keras.Input((7, 6))
    out = c(q, v)
    assert c.shapes == ((None, None, 4), (None, 7, 6))
    assert out.shape == (None, None, 7)


# ---- symbolic shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize("lengths", [(5, 9, 17)])
def test_variable_length_conv1d_functional(lengths):
    inp = keras.Input((None, 8))
    h = layers.Conv1D(4, 3, padding="same", activation="relu")(inp)
    h = layers.Conv1D(4, 3)(h)
    assert h.shape == (None, None, 4)
    pooled = layers.GlobalAveragePooling1D()(h)
    out = layers.Dense(2)(pooled)
    m = keras.Model(inp, [h, out])
    for t in lengths:
        seq, y = m(np.random.default_rng(t).standard_normal((3, t, 8)).astype(np.float32))
        assert seq.shape == (3, t - 2, 4) and y.shape == (3, 2)
    m.compile(optimizer="adam", loss=[None, "mse"])


def test_sequence_model_with_lstm_shaped_layers_trains_on_several_lengths():
    # Embedding -> Conv1D -> pooled head, on (None,) ids: the recurrent layers' shape contract.
    inp = keras.Input((None,), dtype="int32")
    h = layers.Embedding(20, 8)(inp)
    h = layers.Conv1D(8, 3, padding="causal")(h)
    out = layers.Dense(1)(layers.GlobalMaxPooling1D()(h))
    m = keras.Model(inp, out)
    m.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    for t in (4, 11):
        ids = rng.integers(0, 20, (8, t))
        m.fit(ids, np.zeros((8, 1), np.float32), epochs=1, verbose=0)
        assert m.predict(ids, verbose=0).shape == (8, 1)


def test_symbolic_ops_keep_none_dimensions():
    x = keras.Input((None, 6))
    cases = {
        "relu": ops.relu(x),
        "add_bcast": x + ops.ones((1, 6)),
        "sum_last": ops.sum(x, axis=-1),
        "mean_keep": ops.mean(x, axis=1, keepdims=True),
        "reshape": ops.reshape(x, (-1, 2, 3)),
        "transpose": ops.transpose(x, (0, 2, 1)),
        "matmul": ops.matmul(x, ops.ones((6, 5))),
        "concat": ops.concatenate([x, x], axis=-1),
        "getitem": x[:, 0],
        "slice": x[:, :, 1:4],
        "expand": ops.expand_dims(x, 1),
        "softmax": ops.softmax(x),
        "argmax": ops.argmax(x, axis=-1),
        "split": ops.split(x, 2, axis=-1)[0],
        "one_hot": ops.one_hot(ops.argmax(x, axis=-1), 4),
    }
    want = {
        "relu": (None, None, 6), "add_bcast": (None, None, 6), "sum_last": (None, None),
        "mean_keep": (None, 1, 6), "reshape": (None, 2, 3), "transpose": (None, 6, None),
        "matmul": (None, None, 5), "concat": (None, None, 12), "getitem": (None, 6), "slice": (None, None, 3),
        "expand": (None, 1, None, 6), "softmax": (None, None, 6), "argmax": (None, None),
        "split": (None, None, 3), "one_hot": (None, None, 4),
    }
    for k, v in cases.items():
        assert v.shape == want[k], (k, v.shape)
    assert cases["argmax"].dtype == "int64"
    # the same graph on real data agrees with the symbolic shapes
    m = keras.Model(x, [cases[k] for k in want])
    outs = m(np.ones((2, 4, 6), np.float32))
    for k, o in zip(want, outs):
        sym = want[k]
        assert len(sym) == o.ndim and all(s is None or s == d for s, d in zip(sym, o.shape)), (k, o.shape)


def test_symbolic_op_errors_name_the_op():
    x = keras.Input((4, 6))
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(x, ops.ones((5, 2)))
    with pytest.raises(ValueError, match="broadcast"):
        x + ops.ones((3,))
    with pytest.raises(ValueError, match="reshape"):
        ops.reshape(x, (None, 5, -1))


def test_no_kernel_runs_for_symbolic_shapes(monkeypatch):
    # Shape inference never touches the Rust kernels.
    from ferrograd import _core

    def boom(*a, **k):
        raise AssertionError("a kernel ran during shape inference")

    for name in ("conv", "binary", "unary", "reduce", "pool"):
        monkeypatch.setattr(_core, name, boom)
    inp = keras.Input((None, None, 3))
    h = layers.Conv2D(4, 3, strides=2, padding="same")(inp)
    h = layers.MaxPooling2D()(h)
    assert h.shape == (None, None, None, 4)


def test_custom_layer_without_compute_output_shape_is_traced():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return ops.sum(x * self.w, axis=1)

    inp = keras.Input((None, 5))
    s = Scale()
    out = s(inp)
    assert out.shape == (None, 5) and s.built
    assert len(s._inbound_nodes) == 1


# ---- masks ---------------------------------------------------------------------------------------


def test_mask_from_embedding_reaches_global_average_pooling():
    inp = keras.Input((None,), dtype="int32")
    emb = layers.Embedding(10, 4, mask_zero=True)
    h = emb(inp)
    out = layers.GlobalAveragePooling1D()(h)
    m = keras.Model(inp, out)
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7]])
    got = m(ids).numpy()
    w = emb.embeddings.numpy()
    want = np.stack([(w[1] + w[2]) / 2, w[3], w[4:8].mean(0)])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # the mask rides on the embedding output
    h_real = emb(ids)
    np.testing.assert_array_equal(h_real._keras_mask.numpy(), ids != 0)


def test_mask_reaches_call_by_argument_name():
    class Reads(layers.Layer):
        def __init__(self):
            super().__init__()
            self.got = {}

        def call(self, query, value, query_mask=None, value_mask=None):
            self.got = {"q": query_mask, "v": value_mask}
            return query

    emb = layers.Embedding(5, 2, mask_zero=True)
    q, v = emb(np.array([[1, 0]])), emb(np.array([[0, 3, 2]]))
    r = Reads()
    r(q, v)
    np.testing.assert_array_equal(r.got["q"].numpy(), [[True, False]])
    np.testing.assert_array_equal(r.got["v"].numpy(), [[False, True, True]])


def test_masked_steps_pass_through_mask_supporting_layers():
    emb = layers.Embedding(5, 3, mask_zero=True)
    h = layers.Dense(2)(emb(np.array([[1, 0, 2]])))
    np.testing.assert_array_equal(h._keras_mask.numpy(), [[True, False, True]])


# ---- graph API -----------------------------------------------------------------------------------


def _base():
    inp = keras.Input((6,), name="pixels")
    h = layers.Dense(8, activation="relu", name="hidden")(inp)
    out = layers.Dense(3, name="logits")(h)
    return keras.Model(inp, out, name="base")


def test_functional_graph_api():
    base = _base()
    assert isinstance(base, keras.models.Functional) and isinstance(base, keras.Model)
    assert [lyr.name for lyr in base.layers] == ["pixels", "hidden", "logits"]
    assert base.get_layer("hidden") is base.layers[1] and base.get_layer(index=2).name == "logits"
    with pytest.raises(ValueError, match="No such layer: nope"):
        base.get_layer("nope")
    with pytest.raises(ValueError, match="Provide either"):
        base.get_layer()
    assert base.inputs[0].shape == (None, 6) and base.outputs[0].shape == (None, 3)
    hidden = base.get_layer("hidden")
    assert hidden.output.shape == (None, 8) and hidden.input is base.inputs[0]
    feat = keras.Model(base.inputs, base.get_layer("hidden").output)
    x = np.ones((2, 6), np.float32)
    np.testing.assert_allclose(feat(x).numpy(), np.maximum(x @ hidden.kernel.numpy() + hidden.bias.numpy(), 0),
                               rtol=1e-6)
    with pytest.raises(AttributeError, match="never been called"):
        _ = layers.Dense(2).output


def test_sequential_graph_api_pop_and_feature_extraction():
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(5, name="a"), layers.Dense(3, name="b"),
                            layers.Dense(2, name="c")])
    assert [lyr.name for lyr in seq.layers] == ["a", "b", "c"]
    assert seq.inputs[0].shape == (None, 4) and seq.outputs[0].shape == (None, 2)
    ext = keras.Model(seq.inputs, [lyr.output for lyr in seq.layers])
    outs = ext(np.ones((1, 4), np.float32))
    assert [o.shape for o in outs] == [(1, 5), (1, 3), (1, 2)]
    popped = seq.pop()
    assert popped.name == "c" and seq.outputs[0].shape == (None, 3)
    assert seq(np.ones((1, 4), np.float32)).shape == (1, 3)
    assert seq.get_layer("b").output.shape == (None, 3)
    cfg = seq.get_config()
    again = keras.Sequential.from_config(cfg)
    assert [type(lyr).__name__ for lyr in again.layers] == ["Dense", "Dense"]
    assert again(np.ones((1, 4), np.float32)).shape == (1, 3)
    with pytest.raises(ValueError, match="unique names"):
        seq.add(layers.Dense(1, name="a"))


def test_from_config_for_every_model_kind():
    base = _base()
    again = keras.Model.from_config(base.get_config())
    assert isinstance(again, keras.models.Functional)
    assert [lyr.name for lyr in again.layers] == [lyr.name for lyr in base.layers]
    again.set_weights(base.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(again(x).numpy(), base(x).numpy(), rtol=1e-6)
    assert type(keras.models.Functional.from_config(base.get_config())) is keras.models.Functional


def test_transfer_learning_with_frozen_base_and_new_head():
    keras.random.seed(0)
    base = _base()
    base.trainable = False
    inputs = keras.Input((6,))
    x = base(inputs, training=False)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    before = [w.copy() for w in base.get_weights()]
    model.compile(optimizer="adam", loss="mse")
    x_np = np.random.default_rng(1).standard_normal((32, 6)).astype(np.float32)
    head = model.layers[-1]
    head_before = head.get_weights()[0].copy()
    model.fit(x_np, np.ones((32, 1), np.float32), epochs=2, verbose=0)
    for a, b in zip(before, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(head_before, head.get_weights()[0])
    # fine-tuning: unfreeze and the base moves
    base.trainable = True
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x_np, np.ones((32, 1), np.float32), epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, base.get_weights()))


def test_clone_model_functional_and_sequential():
    base = _base()
    clone = keras.models.clone_model(base)
    assert clone is not base and [lyr.name for lyr in clone.layers] == [lyr.name for lyr in base.layers]
    assert all(a is not b for a, b in zip(clone.layers[1:], base.layers[1:]))
    assert clone(np.ones((1, 6), np.float32)).shape == (1, 3)
    seen = []

    def cf(layer):
        seen.append(layer.name)
        return layer.__class__.from_config(layer.get_config())

    keras.models.clone_model(base, clone_function=cf)
    assert seen == ["hidden", "logits"]
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    sclone = keras.models.clone_model(seq)
    assert isinstance(sclone, keras.Sequential) and sclone.layers[0] is not seq.layers[0]
    new_in = keras.Input((3,))
    fclone = keras.models.clone_model(seq, input_tensors=new_in)
    assert fclone.inputs[0] is new_in


def test_models_load_model_and_clear_session(tmp_path):
    base = _base()
    base.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = np.ones((2, 6), np.float32)
    np.testing.assert_allclose(again(x).numpy(), base(x).numpy(), rtol=1e-6)
    layers.Dense(1)
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_graph_is_freed_with_the_model():
    def build():
        inp = keras.Input((4,))
        return keras.Model(inp, layers.Dense(2)(layers.Dense(3)(inp)))

    m = build()
    ref = weakref.ref(m)
    layer_ref = weakref.ref(m.layers[1])
    del m
    gc.collect()
    assert ref() is None and layer_ref() is None


def test_subclass_passing_inputs_outputs_up():
    class Head(keras.Model):
        def __init__(self, units):
            inp = keras.Input((3,))
            super().__init__(inp, layers.Dense(units)(inp))
            self.units = units

        def describe(self):
            return f"head with {self.units}"

    h = Head(4)
    assert isinstance(h, Head) and isinstance(h, keras.models.Functional)
    assert h(np.ones((2, 3), np.float32)).shape == (2, 4) and h.describe() == "head with 4"


def test_nested_functional_model_as_layer():
    base = _base()
    inp = keras.Input((6,))
    out = layers.Dense(2)(base(inp))
    outer = keras.Model(inp, out)
    assert outer.layers[1] is base
    assert outer(np.ones((5, 6), np.float32)).shape == (5, 2)
    assert len(outer.trainable_weights) == 6


def test_activity_regularizer_and_add_loss():
    d = layers.Dense(2, kernel_initializer="ones", activity_regularizer=keras.regularizers.L2(0.5))
    x = np.ones((1, 3), np.float32)
    d(x)
    assert len(d.losses) == 1
    np.testing.assert_allclose(float(d.losses[0].item()), 0.5 * (9 + 9), rtol=1e-6)
    d(x)
    assert len(d.losses) == 1  # cleared at each outermost call

    class Penalized(layers.Layer):
        def call(self, x):
            self.add_loss(ops.sum(x) * 0.0 + 1.0)
            return x

    inp = keras.Input((3,))
    m = keras.Model(inp, layers.Dense(1)(Penalized()(inp)))
    m(x)
    assert len(m.losses) == 1


def test_explicit_mask_to_a_call_without_mask_is_an_error():
    with pytest.raises(TypeError, match="mask"):
        layers.Flatten()(np.ones((2, 3, 1), np.float32), mask=np.ones((2, 3), bool))


def test_embedding_config_matches_keras_and_round_trips():
    # Keras 3.15 (torch backend) printed these keys for Embedding(10, 4, mask_zero=True).
    keras_keys = ["name", "trainable", "dtype", "input_dim", "output_dim", "embeddings_initializer",
                  "embeddings_regularizer", "activity_regularizer", "embeddings_constraint", "mask_zero",
                  "quantization_config"]
    e = layers.Embedding(10, 4, mask_zero=True, embeddings_regularizer="l2")
    cfg = e.get_config()
    assert list(cfg) == keras_keys
    assert cfg["embeddings_initializer"]["class_name"] == "RandomUniform"
    again = layers.Embedding.from_config(cfg)
    assert again.get_config() == cfg
    with pytest.raises(NotImplementedError, match="lora_rank"):
        layers.Embedding(10, 4, lora_rank=2)
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 4)
    ids = np.array([[1, 9]])
    np.testing.assert_array_equal(e(ids).numpy(), e.embeddings.numpy()[ids])
    with pytest.raises(IndexError):
        e(np.array([[10]]))


def test_embedding_gradient_scatters_over_repeated_ids():
    e = layers.Embedding(5, 3)
    ids = np.array([[1, 1, 4]])
    out = e(ids)
    ops.sum(out).backward()
    g = e.embeddings.grad.numpy()
    np.testing.assert_array_equal(g[1], 2.0)
    np.testing.assert_array_equal(g[4], 1.0)
    np.testing.assert_array_equal(g[[0, 2, 3]], 0.0)


def test_subclass_with_two_positional_arguments_is_not_functional():
    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim

        def call(self, z):
            return self.discriminator(self.generator(z))

    gan = GAN(layers.Dense(1), layers.Dense(3), 2)
    assert not isinstance(gan, keras.models.Functional)
    assert gan(np.ones((4, 2), np.float32)).shape == (4, 1)


def test_constraints_apply_inside_optimizer_apply():
    # A custom step that never mentions constraints still gets them (Keras applies them in apply()).
    d = layers.Dense(3, kernel_constraint="non_neg", kernel_initializer="ones")
    d(np.ones((1, 2), np.float32))
    opt = keras.optimizers.SGD(10.0)
    out = ops.sum(d(np.ones((4, 2), np.float32)))
    out.backward()
    opt.apply([w.grad for w in d.trainable_weights], d.trainable_weights)
    assert float(d.kernel.numpy().min()) == 0.0  # 1 - 10 * 4 < 0, projected back to 0
    assert float(d.bias.numpy().min()) < 0  # unconstrained


def test_to_json_and_model_from_json():
    base = _base()
    text = base.to_json()
    again = keras.models.model_from_json(text)
    assert [lyr.name for lyr in again.layers] == [lyr.name for lyr in base.layers]
    again.set_weights(base.get_weights())
    x = np.ones((2, 6), np.float32)
    np.testing.assert_allclose(again(x).numpy(), base(x).numpy(), rtol=1e-6)
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert isinstance(keras.models.model_from_json(seq.to_json()), keras.Sequential)
    with pytest.raises(ValueError, match="model_from_json"):
        keras.models.model_from_json("[" * 10000)


def test_input_layer_reads_a_keras_config():
    # InputLayer config as Keras 3.15 writes it (DTypePolicy dict, ragged flag).
    cfg = {"batch_shape": [None, None, 8], "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                      "config": {"name": "float32"}, "registered_name": None},
           "sparse": False, "ragged": False, "name": "tokens"}
    layer = layers.InputLayer.from_config(cfg)
    assert layer.output.shape == (None, None, 8) and layer.name == "tokens"
    with pytest.raises(NotImplementedError, match="ragged"):
        layers.InputLayer(shape=(3,), ragged=True)


def test_weight_names_and_paths_match_keras():
    # expected values printed by Keras 3.15.1 (torch backend) for the same code
    from ferrograd import layers as L

    keras.backend.clear_session()
    d = L.Dense(2, name="dense")
    d.build((None, 4))
    assert (d.kernel.name, d.kernel.path, d.bias.path) == ("kernel", "dense/kernel", "dense/bias")
    m = keras.Sequential([keras.Input((4,)), L.Dense(3, name="d1")], name="sequential")
    assert [w.path for w in m.weights] == ["sequential/d1/kernel", "sequential/d1/bias"]
    inp = keras.Input((6,), dtype="int32")
    x = L.Embedding(10, 4, name="emb")(inp)
    x = L.Bidirectional(L.GRU(3), name="bi")(x)
    assert [w.path for w in keras.Model(inp, x).weights] == [
        "emb/embeddings", "bi/forward_gru/gru_cell/kernel", "bi/forward_gru/gru_cell/recurrent_kernel",
        "bi/forward_gru/gru_cell/bias", "bi/backward_gru/gru_cell/kernel",
        "bi/backward_gru/gru_cell/recurrent_kernel", "bi/backward_gru/gru_cell/bias"]
    inner = keras.Sequential([L.Dense(2, name="a")], name="inner")
    outer = keras.Sequential([keras.Input((3,)), inner, L.Dense(1, name="b")], name="o")
    assert [w.path for w in outer.weights] == ["o/inner/a/kernel", "o/inner/a/bias", "o/b/kernel", "o/b/bias"]
    q = keras.Input((8, 16))
    mha = L.MultiHeadAttention(2, 4, name="multi_head_attention")
    mha(q, q)
    assert [w.path for w in mha.weights] == [
        f"multi_head_attention/{p}/{k}" for p in ("query", "key", "value", "attention_output")
        for k in ("kernel", "bias")]


def test_single_input_layers_check_the_input_count_as_keras():
    # Keras 3.15 (torch): ValueError 'Layer "dense" expects 1 input(s), but it received 2 input tensors. ...'
    from ferrograd import layers as L

    a = np.ones((2, 3), "float32")
    for layer in (L.Dense(2, name="dense"), L.Flatten(name="flatten"), L.Conv1D(2, 1, name="conv1d"),
                  L.TimeDistributed(L.Dense(2), name="td")):
        with pytest.raises(ValueError, match=f'Layer "{layer.name}" expects 1 input\\(s\\), but it received 2'):
            layer([a, a])
    x = keras.Input((3,))
    with pytest.raises(ValueError, match="received 2 input tensors"):
        L.Dense(2)([x, x])
    # one tensor in a list is that tensor; nested numbers are a tensor
    assert tuple(L.Dense(2)([a]).shape) == (2, 2)
    assert tuple(L.Dense(2)([[1.0, 2.0, 3.0]]).shape) == (1, 2)
    # multi-input layers still take lists
    assert tuple(L.Add()([a, a]).shape) == (2, 3)


def test_fit_evaluate_predict_on_a_torch_dataloader():
    """Keras 3 takes a PyTorch DataLoader on every backend (keras.io's intro for engineers)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    ds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    train = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True)
    val = torch.utils.data.DataLoader(ds, batch_size=32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, epochs=8, validation_data=val, verbose=0)
    assert len(history.history["loss"]) == 8 and history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(val, verbose=0)
    assert acc > 0.8
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0)[1], acc, atol=1e-6)
    np.testing.assert_allclose(model.predict(val, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(train, y, verbose=0)
