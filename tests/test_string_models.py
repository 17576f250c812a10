"""Models with ``keras.Input(dtype="string")``: strings travel through the graph as NumPy arrays
until a text layer (TextVectorization, StringLookup, Hashing) turns them into numbers; fit,
evaluate, predict and save/load work end to end, and anything else refuses a string input."""
import numpy as np
import pytest

import ferrograd as keras
from ferrograd import layers

TEXTS = np.array(["the cat sat", "the dog ran far", "a cat and a dog", "birds fly"] * 8)
LABELS = np.array([0, 1, 0, 1] * 8, dtype="float32")


def _text_model(seed=0):
    keras.utils.set_random_seed(seed)
    vec = layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vec.adapt(TEXTS)
    inp = keras.Input(shape=(1,), dtype="string", name="text")
    ids = vec(inp)
    x = layers.Embedding(20, 4)(ids)
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inp, out), vec, ids


def test_symbolic_string_input_and_specs():
    inp = keras.Input(shape=(1,), dtype="string")
    assert inp.dtype == "string" and inp.shape == (None, 1)
    vec = layers.TextVectorization(vocabulary=["a", "b"], output_sequence_length=4)
    assert vec(inp).shape == (None, 4) and vec(inp).dtype == "int64"
    multi = layers.TextVectorization(vocabulary=["a", "b"], output_mode="multi_hot")
    assert multi(inp).shape == (None, 3) and multi(inp).dtype == "float32"  # [UNK], a, b
    assert multi(np.array([["a b"], ["b"]])).shape == (2, 3)
    tokens = keras.Input(shape=(3,), dtype="string")
    lookup = layers.StringLookup(vocabulary=["a", "b", "c"])
    assert lookup(tokens).shape == (None, 3) and lookup(tokens).dtype == "int64"
    assert layers.Hashing(num_bins=4, output_mode="one_hot")(tokens).shape == (None, 3, 4)
    assert layers.Hashing(num_bins=4)(tokens).shape == (None, 3)
    ids = keras.Input(shape=(2,), dtype="int64")
    inverted = layers.StringLookup(vocabulary=["a", "b"], invert=True)(ids)
    assert inverted.dtype == "string" and inverted.shape == (None, 2)


def test_end_to_end_fit_predict_save_load(tmp_path):
    model, vec, _ = _text_model()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(TEXTS[:, None], LABELS, epochs=3, batch_size=8, shuffle=True, verbose=0)
    assert len(hist.history["loss"]) == 3 and np.isfinite(hist.history["loss"]).all()
    pred = model.predict(TEXTS[:4, None], verbose=0)
    # the same numbers as the text layer run eagerly and the rest of the model run on its ids
    rest = keras.Model(model.layers[2].input, model.output)
    np.testing.assert_allclose(rest.predict(vec(TEXTS[:4, None]), verbose=0), pred, rtol=1e-6)
    assert model.evaluate(TEXTS[:, None], LABELS, verbose=0, return_dict=True)["loss"] > 0
    path = tmp_path / "text_model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.inputs[0].dtype == "string"
    np.testing.assert_array_equal(loaded.predict(TEXTS[:4, None], verbose=0), pred)
    assert loaded.layers[1].get_vocabulary() == vec.get_vocabulary()
    # raw Python strings, bytes and object arrays are accepted as well
    direct = model(np.array([["the cat"]], dtype=object)).numpy()
    np.testing.assert_allclose(model(np.array([[b"the cat"]])).numpy(), direct)


def test_sequential_starting_with_text_layer():
    vec = layers.TextVectorization(vocabulary=["cat", "dog"], output_sequence_length=3)
    with_input = keras.Sequential([keras.Input(shape=(), dtype="string"), vec, layers.Embedding(4, 2),
                                   layers.GlobalAveragePooling1D(), layers.Dense(1)])
    assert with_input.predict(np.array(["cat dog", "dog"]), verbose=0).shape == (2, 1)
    lazy = keras.Sequential([layers.TextVectorization(vocabulary=["cat", "dog"], output_sequence_length=3),
                             layers.Embedding(4, 2), layers.Flatten(), layers.Dense(1)])
    out = lazy.predict(np.array(["cat dog", "dog cat cat"]), verbose=0)
    assert out.shape == (2, 1)
    assert lazy.inputs[0].dtype == "string"
    lazy.compile("sgd", "mse")
    lazy.fit(np.array(["cat", "dog"] * 4), np.zeros((8, 1), "float32"), epochs=1, verbose=0)


def test_mixed_string_and_numeric_inputs():
    tokens = keras.Input(shape=(3,), dtype="string")
    num = keras.Input(shape=(2,))
    ids = layers.StringLookup(vocabulary=["a", "b", "c"])(tokens)
    hashed = layers.Hashing(num_bins=4, output_mode="multi_hot")(tokens)
    x = layers.Concatenate()([layers.Flatten()(layers.Embedding(5, 2)(ids)), hashed, num])
    model = keras.Model([tokens, num], layers.Dense(1)(x))
    x_tok = np.array([["a", "b", "z"], ["c", "c", "a"]])
    model.compile("sgd", "mse")
    model.fit([x_tok, np.ones((2, 2), "float32")], np.zeros((2, 1), "float32"), epochs=1, verbose=0)
    assert model.predict([x_tok, np.ones((2, 2), "float32")], verbose=0).shape == (2, 1)


def test_string_model_output():
    ids = keras.Input(shape=(2,), dtype="int64")
    model = keras.Model(ids, layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)(ids))
    out = model(np.array([[1, 2], [3, 0]]))
    assert out.tolist() == [["a", "b"], ["c", "[UNK]"]]


def test_string_inputs_refused_elsewhere():
    inp = keras.Input(shape=(1,), dtype="string", name="words")
    with pytest.raises(TypeError, match=r"Layer dense.* \(Dense\) cannot take a string input"):
        layers.Dense(2)(inp)
    with pytest.raises(TypeError, match="ops.add cannot take a string input \\(words has dtype 'string'\\)"):
        inp + 1
    with pytest.raises(TypeError, match="ops.sum cannot take a string input"):
        keras.ops.sum(inp)
    model, _, _ = _text_model()
    with pytest.raises(TypeError, match=r"Input 0 of model .* \(dtype='string'\) expects strings; received a "
                                        "float32 tensor"):
        model(keras.ops.ones((2, 1)))
    with pytest.raises(TypeError, match=r"expects strings; received int"):
        model(np.array([[1]], dtype=object))
