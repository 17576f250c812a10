"""tf.data-style methods on the datasets keras.utils returns (map, take, skip, cache, prefetch)."""
import numpy as np
import pytest

import ferrograd as keras


@pytest.fixture
def text_dir(tmp_path):
    for i in range(5):
        (tmp_path / "neg").mkdir(exist_ok=True)
        (tmp_path / "pos").mkdir(exist_ok=True)
        (tmp_path / "neg" / f"{i}.txt").write_text(f"bad awful film number {i}")
        (tmp_path / "pos" / f"{i}.txt").write_text(f"good great movie number {i}")
    return tmp_path


def _ds(text_dir, **kw):
    return keras.utils.text_dataset_from_directory(text_dir, batch_size=4, seed=3, verbose=False, **kw)


def test_map_unpacks_tuples_and_applies_per_read(text_dir):
    ds = _ds(text_dir)
    texts = ds.map(lambda x, y: x)
    assert len(texts) == len(ds) == 3
    for i in range(len(ds)):
        x, y = ds[i]
        np.testing.assert_array_equal(texts[i], x)
        lab = ds.map(lambda x, y: y + 10)[i]
        np.testing.assert_array_equal(lab, y + 10)
    plain = keras.utils.text_dataset_from_directory(text_dir, labels=None, batch_size=4, shuffle=False,
                                                   verbose=False)
    upper = plain.map(lambda x: np.char.upper(x.astype(str)))
    assert str(upper[0][0]) == str(plain[0][0]).upper()
    assert upper.file_paths == plain.file_paths  # the source's attributes stay reachable
    assert ds.map(lambda x, y: x).class_names == ["neg", "pos"]


def test_take_skip_and_minus_one(text_dir):
    ds = _ds(text_dir)
    assert [len(ds.take(n)) for n in (0, 1, 2, 5, -1)] == [0, 1, 2, 3, 3]
    assert [len(ds.skip(n)) for n in (0, 1, 2, 5, -1)] == [3, 2, 1, 0, 0]
    np.testing.assert_array_equal(ds.skip(1)[0][0], ds[1][0])
    np.testing.assert_array_equal(ds.skip(1).take(1)[0][1], ds[1][1])
    assert len(list(ds.take(2))) == 2
    assert len(list(ds.as_numpy_iterator())) == ds.cardinality() == 3
    with pytest.raises(IndexError, match="out of range"):
        ds.take(1)[1]


def test_cache_runs_the_map_once_per_batch(text_dir):
    calls = []

    def f(x, y):
        calls.append(1)
        return x, y

    ds = _ds(text_dir).map(f).cache()
    for _ in range(3):
        list(ds)
    assert len(calls) == 3
    uncached = _ds(text_dir).map(f)
    list(uncached)
    list(uncached)
    assert len(calls) == 3 + 6


def test_prefetch_is_the_dataset_and_checks_its_argument(text_dir):
    ds = _ds(text_dir)
    assert ds.prefetch(10) is ds
    assert ds.prefetch(-1) is ds
    for bad in (0, -2, 1.5, True, None):
        with pytest.raises(ValueError, match="buffer_size"):
            ds.prefetch(bad)


def test_bad_arguments_name_themselves(text_dir):
    ds = _ds(text_dir)
    with pytest.raises(TypeError, match="map_func must be callable"):
        ds.map(3)
    for bad in (-2, 1.0, "1", False):
        with pytest.raises(ValueError, match="count"):
            ds.take(bad)
        with pytest.raises(ValueError, match="count"):
            ds.skip(bad)
    with pytest.raises(NotImplementedError, match="filename"):
        ds.cache("/tmp/cache_file")


def test_adapt_on_labelled_batches_says_what_to_do(text_dir):
    ds = _ds(text_dir)
    for layer in (keras.layers.TextVectorization(), keras.layers.StringLookup()):
        with pytest.raises(ValueError, match=r"map\(lambda x, y: x\)"):
            layer.adapt(ds)
    lookup = keras.layers.IntegerLookup()
    lookup.adapt(iter([(1, 2, 3), (3, 4)]))  # tuples of terms are still terms
    assert sorted(lookup.get_vocabulary()[1:]) == [1, 2, 3, 4]


def test_keras_io_text_classification_pipeline_trains(text_dir):
    """The keras-io "text classification from scratch" flow on a dataset from a directory."""
    keras.utils.set_random_seed(0)
    raw_train = _ds(text_dir)
    vectorize = keras.layers.TextVectorization(max_tokens=50, output_mode="int", output_sequence_length=6)
    vectorize.adapt(raw_train.map(lambda x, y: x))
    assert "great" in vectorize.get_vocabulary()

    def vectorize_text(text, label):
        return vectorize(text), label

    train = raw_train.map(vectorize_text).cache().prefetch(buffer_size=10)
    model = keras.Sequential([keras.Input((6,), dtype="int64"), keras.layers.Embedding(50, 8),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(train, epochs=30, verbose=0)
    assert model.evaluate(train, verbose=0)[1] == 1.0


def test_timeseries_dataset_has_the_methods():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    ds = keras.utils.timeseries_dataset_from_array(data, np.arange(20), sequence_length=4, batch_size=5)
    doubled = ds.map(lambda x, y: (x * 2, y)).take(2)
    assert len(doubled) == 2
    np.testing.assert_array_equal(doubled[1][0], ds[1][0] * 2)
