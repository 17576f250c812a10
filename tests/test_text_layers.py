"""TextVectorization, StringLookup and IntegerLookup against Keras 3 (TensorFlow backend).

tests/fixtures/text_layers.json holds what Keras 3.15 on TensorFlow 2.21 returned (vocabularies,
outputs with dtype and shape, IDF weights, configs) for the cases of
tests/fixtures/capture_text_layers.py; every case is rebuilt here and compared value for value,
character for character. Then error cases, config round trips and model save/load.
"""
import json
import os
import string

import numpy as np
import pytest

import ferrograd as keras
from ferrograd import _core, layers

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "fixtures", "text_layers.json"), encoding="utf-8") as _f:
    FX = json.load(_f)

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

# The capture script's callables, on NumPy strings instead of TensorFlow ones.
CALLABLES = {
    "strip_br_lower": np.vectorize(lambda s: s.replace("<br />", " ").translate(_ASCII_LOWER), otypes=[str]),
    "split_commas": lambda x: [s.split(",") for s in x],
}


def _out(t):
    a = t if isinstance(t, np.ndarray) else t.numpy()
    if a.dtype.kind in "UO":
        return {"values": a.tolist(), "dtype": "string", "shape": list(a.shape)}
    return {"values": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}


def _config(layer):
    cfg = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}
    cfg = {k: v for k, v in cfg.items() if k not in ("standardize", "split") or v is None or isinstance(v, str)}
    return json.loads(json.dumps(cfg))


def _tv(case):
    kw = dict(case["kwargs"])
    if isinstance(kw.get("ngrams"), list):
        kw["ngrams"] = tuple(kw["ngrams"])
    if case["standardize_fn"]:
        kw["standardize"] = CALLABLES[case["standardize_fn"]]
    if kw.get("split") in CALLABLES:
        kw["split"] = CALLABLES[kw["split"]]
    return layers.TextVectorization(**kw)


def _adapt_tv(layer, case):
    corpus = FX["standardize"]["inputs"][:13]
    how = case["adapt"]
    if how == "adapt":
        layer.adapt(corpus + (["some <br />html<br />text", "HTML <br /> Text"] if case["standardize_fn"] else []))
    elif how == "adapt_2d":
        layer.adapt(np.array([[t] for t in corpus + ["the", "the", "Fox"]]))
    elif how == "adapt_commas":
        layer.adapt(["a,b,c", "b,c", "c", "x y,z", "é,😀,é"])
    elif how == "adapt_generator":
        layer.adapt((np.array(corpus[i:i + 3]) for i in range(0, len(corpus), 3)), steps=3)


@pytest.mark.parametrize("name", sorted(FX["text_vectorization"]))
def test_text_vectorization_equals_keras(name):
    case = FX["text_vectorization"][name]
    layer = _tv(case)
    _adapt_tv(layer, case)
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    assert _out(layer(np.array(case["queries"]))) == case["output"]
    if "idf" in case:
        assert layer._lookup_layer._idf.tolist() == case["idf"]
    assert _config(layer) == case["config"]


def _lookup(cls, case, adapt_data):
    layer = cls(**case["kwargs"])
    if case["how"] == "adapt":
        layer.adapt(np.array(adapt_data))
    return layer


SL_ADAPT = [["x", "y", "x", "z"], ["z", "z", "w", "x"], ["", "y", "q", "x"]]
IL_ADAPT = [[5, 7, 5, 9], [9, 9, 3, -5], [7, 5, 5, 2]]


@pytest.mark.parametrize("name", sorted(FX["string_lookup"]))
def test_string_lookup_equals_keras(name):
    case = FX["string_lookup"][name]
    layer = _lookup(layers.StringLookup, case, SL_ADAPT)
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    assert _out(layer(np.array(case["inputs"]))) == case["output"]
    if "idf" in case:
        assert layer._idf.tolist() == case["idf"]
    assert _config(layer) == case["config"]


@pytest.mark.parametrize("name", sorted(FX["integer_lookup"]))
def test_integer_lookup_equals_keras(name):
    case = FX["integer_lookup"][name]
    layer = _lookup(layers.IntegerLookup, case, IL_ADAPT)
    assert layer.get_vocabulary() == case["vocabulary"]
    assert layer.vocabulary_size() == case["vocabulary_size"]
    assert _out(layer(np.array(case["inputs"]))) == case["output"]
    if "idf" in case:
        assert layer._idf.tolist() == case["idf"]
    assert _config(layer) == case["config"]


def test_standardize_and_split_equal_tensorflow():
    texts = FX["standardize"]["inputs"]
    for mode, want in FX["standardize"]["outputs"].items():
        assert _core.TextPipeline(mode, None, []).standardize(texts) == want, mode
    assert _core.TextPipeline(None, "whitespace", []).tokenize(texts) == FX["split_whitespace"]


def test_fingerprint64_equals_tensorflow():
    fp = FX["fingerprints"]
    got = [str(_core.text_fingerprint64(t.encode())) for t in fp["texts"]]
    assert got == fp["fingerprint64"]


# ---- errors ------------------------------------------------------------------------------------
def test_non_string_data_is_a_type_error():
    vec = layers.TextVectorization()
    with pytest.raises(TypeError, match="expects strings"):
        vec.adapt([1, 2, 3])
    with pytest.raises(TypeError, match="expects strings"):
        layers.StringLookup(vocabulary=["a"])(np.array([1.5, 2.0]))
    with pytest.raises(TypeError, match="tensors cannot hold strings"):
        vec(keras.tensor([1.0]))
    with pytest.raises(TypeError, match="expects integers"):
        layers.IntegerLookup(vocabulary=[1, 2])(["a"])


def test_empty_vocabulary_and_duplicates():
    with pytest.raises(ValueError, match="Cannot set an empty vocabulary"):
        layers.StringLookup(vocabulary=[])
    with pytest.raises(ValueError, match=r"repeated term.*\['b'\]"):
        layers.TextVectorization(vocabulary=["a", "b", "b"])
    with pytest.raises(ValueError, match="repeated term"):
        layers.IntegerLookup(vocabulary=[3, 4, 3])
    with pytest.raises(ValueError, match="reserved mask token"):
        layers.StringLookup(vocabulary=["a", "", "b"], mask_token="")
    with pytest.raises(ValueError, match="larger than the maximum vocab size"):
        layers.StringLookup(vocabulary=["a", "b", "c"], max_tokens=3)


def test_argument_errors():
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=4)
    with pytest.raises(ValueError, match="output_sequence_length` must be either None or an integer"):
        layers.TextVectorization(output_sequence_length=2.5)
    with pytest.raises(ValueError, match="Unknown value for `standardize`"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="Unknown value for `split`"):
        layers.TextVectorization(split="comma")
    with pytest.raises(ValueError, match="Unknown value for `output_mode`"):
        layers.StringLookup(output_mode="onehot")
    with pytest.raises(ValueError, match="ngrams"):
        layers.TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="sparse=True"):
        layers.TextVectorization(output_mode="multi_hot", sparse=True)
    with pytest.raises(ValueError, match="ragged=True"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        layers.TextVectorization(max_token=3)
    with pytest.raises(ValueError, match="Unrecognized keyword argument"):
        layers.StringLookup(vocab=["a"])
    with pytest.raises(ValueError, match="`idf_weights` argument must also be provided"):
        layers.StringLookup(vocabulary=["a"], output_mode="tf_idf")
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(vocabulary=["a"], invert=True, output_mode="count")
    with pytest.raises(ValueError, match="max_tokens"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(NotImplementedError, match="salt"):
        layers.StringLookup(salt=3)
    with pytest.raises(ValueError, match="encoding='utf-8'"):  # a fuzzer finding: was AttributeError
        layers.StringLookup(encoding=1)


def test_call_errors():
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary before calling it"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "b"])
    with pytest.raises(ValueError, match="the last shape dimension must be 1"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    vec = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match="Cannot adapt layer"):
        vec.adapt(["a b"])
    with pytest.raises(TypeError, match="TextVectorization takes strings; received a symbolic input of dtype "
                                        "'float32'"):
        vec(keras.Input(shape=(1,)))


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("zeta\nalpha\né\n", encoding="utf-8")
    lookup = layers.StringLookup(vocabulary=str(path))
    assert lookup.get_vocabulary() == ["[UNK]", "zeta", "alpha", "é"]
    assert lookup(["é", "zeta", "nope"]).numpy().tolist() == [3, 1, 0]
    assert lookup.get_config()["vocabulary"] is None
    with pytest.raises(ValueError, match="does not exist"):
        layers.StringLookup(vocabulary=str(tmp_path / "missing.txt"))
    path.write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="repeats the terms"):
        layers.StringLookup(vocabulary=str(path))


# ---- behaviour ---------------------------------------------------------------------------------
def test_scalar_bytes_and_object_inputs():
    vec = layers.TextVectorization(vocabulary=["hello", "wörld"], output_sequence_length=3)
    want = [[2, 3, 1]]
    assert vec(np.array(["Hello wörld x"])).numpy().tolist() == want
    assert vec(np.array(["Hello wörld x"], dtype=object)).numpy().tolist() == want
    assert vec(np.array(["Hello wörld x".encode()])).numpy().tolist() == want
    assert vec("Hello wörld x").numpy().tolist() == want[0]
    lookup = layers.StringLookup(vocabulary=["a", "b"])
    assert lookup("b").numpy().tolist() == 2


def test_adapt_batches_equal_one_pass():
    corpus = FX["standardize"]["inputs"] * 50
    one = layers.TextVectorization(output_mode="tf_idf")
    one.adapt(corpus)
    batched = layers.TextVectorization(output_mode="tf_idf")
    batched.adapt(corpus, batch_size=7)
    gen = layers.TextVectorization(output_mode="tf_idf")
    gen.adapt(np.array(corpus[i:i + 9]) for i in range(0, len(corpus), 9))
    for other in (batched, gen):
        assert other.get_vocabulary() == one.get_vocabulary()
        assert other._lookup_layer._idf.tolist() == one._lookup_layer._idf.tolist()


def test_threads_do_not_change_results():
    corpus = [f"w{i % 97} w{i % 13} x{i % 1001}" for i in range(20000)]
    prev = keras.get_num_threads()
    outs = []
    try:
        for n in (1, max(prev, 2)):
            keras.set_num_threads(n)
            vec = layers.TextVectorization(output_mode="count", max_tokens=500)
            vec.adapt(corpus)
            outs.append((vec.get_vocabulary(), vec(corpus[:3000]).numpy()))
    finally:
        keras.set_num_threads(prev)
    assert outs[0][0] == outs[1][0]
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


# ---- config and saving -----------------------------------------------------------------------
def test_config_round_trip():
    vec = layers.TextVectorization(max_tokens=50, ngrams=(1, 2), output_mode="tf_idf", vocabulary=["a", "b"],
                                   idf_weights=[0.5, 1.5], name="tv")
    cfg = json.loads(json.dumps(vec.get_config()))
    again = layers.TextVectorization.from_config(cfg)
    assert again.get_config() == vec.get_config()
    x = ["a b a c", "b"]
    np.testing.assert_array_equal(again(x).numpy(), vec(x).numpy())
    lookup = layers.IntegerLookup(vocabulary=[7, 9], mask_token=0, num_oov_indices=2)
    again = layers.IntegerLookup.from_config(json.loads(json.dumps(lookup.get_config())))
    assert again.get_vocabulary() == lookup.get_vocabulary() == [0, -1, -1, 7, 9]


def test_model_save_load_keeps_adapted_vocabulary_and_idf(tmp_path):
    lookup = layers.IntegerLookup(output_mode="tf_idf")
    lookup.adapt(np.array([[5, 7, 5], [9, 9, 3], [7, 5, 2]]))
    inp = keras.Input(shape=(3,), dtype="int64")
    out = layers.Dense(2)(lookup(inp))
    model = keras.Model(inp, out)
    x = np.array([[5, 9, 4], [2, 2, 7]])
    want = model(keras.tensor(x)).numpy()
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    got_lookup = [lyr for lyr in loaded.layers if isinstance(lyr, layers.IntegerLookup)][0]
    assert got_lookup.get_vocabulary() == lookup.get_vocabulary()
    assert got_lookup._idf.tolist() == lookup._idf.tolist()
    np.testing.assert_array_equal(loaded(keras.tensor(x)).numpy(), want)
