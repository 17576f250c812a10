"""cifar10, cifar100, boston_housing and reuters loaders on small files of the published formats
(the real files are not in the shared data folder): lookup in $FERROGRAD_DATA, hash check, the
restricted unpickler, Keras' shapes, dtypes, shuffling and splits; clear errors when absent."""
import hashlib
import io
import os
import pathlib
import pickle
import tarfile

import numpy as np
import pytest

import ferrograd as keras
from ferrograd.datasets import _archive, boston_housing, cifar10, cifar100, reuters

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _batch(n, key, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    return data, labels, pickle.dumps({b"data": data, key: labels, b"batch_label": b"x"})


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path))
    monkeypatch.setenv("FERROGRAD_HOME", str(tmp_path / "home"))
    return tmp_path


def test_cifar10_reads_the_archive(data_root, monkeypatch):
    (data_root / "cifar10").mkdir()
    members, want = {}, []
    for i, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        data, labels, raw = _batch(3, b"labels", i)
        members[f"cifar-10-batches-py/{name}"] = raw
        want.append((data, labels))
    path = data_root / "cifar10" / "cifar-10-python.tar.gz"
    _tar(path, members)
    monkeypatch.setattr(cifar10, "_SHA256", _sha(path))
    (x, y), (xt, yt) = keras.datasets.cifar10.load_data()
    assert x.shape == (15, 32, 32, 3) and x.dtype == np.uint8 and y.shape == (15, 1) and y.dtype == np.uint8
    assert xt.shape == (3, 32, 32, 3) and yt.shape == (3, 1)
    np.testing.assert_array_equal(x[:3], want[0][0].reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(yt[:, 0], want[5][1])
    keras.config.set_image_data_format("channels_first")
    try:
        (x, _), _ = keras.datasets.cifar10.load_data()
        assert x.shape == (15, 3, 32, 32)
    finally:
        keras.config.set_image_data_format("channels_last")


def test_cifar100_label_modes(data_root, monkeypatch):
    (data_root / "cifar100").mkdir()
    rng = np.random.default_rng(0)
    members = {}
    for name, n in (("train", 4), ("test", 2)):
        members[f"cifar-100-python/{name}"] = pickle.dumps({
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"fine_labels": list(range(50, 50 + n)),
            b"coarse_labels": list(range(n))})
    path = data_root / "cifar100" / "cifar-100-python.tar.gz"
    _tar(path, members)
    monkeypatch.setattr(cifar100, "_SHA256", _sha(path))
    (x, y), (xt, yt) = keras.datasets.cifar100.load_data()
    assert x.shape == (4, 32, 32, 3) and y[:, 0].tolist() == [50, 51, 52, 53]
    (_, y), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
    assert y[:, 0].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="label_mode"):
        keras.datasets.cifar100.load_data(label_mode="medium")


def test_pickled_code_is_refused():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="Refusing to deserialize"):
        _archive.load_pickle(pickle.dumps({b"data": Evil()}))


def test_boston_housing_split_follows_keras(data_root, monkeypatch):
    (data_root / "boston_housing").mkdir()
    x = np.arange(20 * 13, dtype=np.float64).reshape(20, 13)
    y = np.arange(20, dtype=np.float64)
    path = data_root / "boston_housing" / "boston_housing.npz"
    np.savez(path, x=x, y=y)
    monkeypatch.setattr(boston_housing, "_SHA256", _sha(path))
    (xtr, ytr), (xte, yte) = keras.datasets.boston_housing.load_data(test_split=0.25, seed=7)
    order = np.arange(20)
    np.random.RandomState(7).shuffle(order)  # Keras' shuffle, then the first 75% train
    np.testing.assert_array_equal(ytr, order[:15]) and np.testing.assert_array_equal(yte, order[15:])
    np.testing.assert_array_equal(xtr, x[order[:15]])
    with pytest.raises(ValueError, match="test_split"):
        keras.datasets.boston_housing.load_data(test_split=1.0)


def test_reuters_sequences(data_root, monkeypatch):
    (data_root / "reuters").mkdir()
    seqs = np.empty(10, dtype=object)
    for i in range(10):
        seqs[i] = list(range(1, 3 + i))
    path = data_root / "reuters" / "reuters.npz"
    np.savez(path, x=seqs, y=np.arange(10))
    monkeypatch.setattr(reuters, "_SHA256", _sha(path))
    (x, y), (xt, yt) = keras.datasets.reuters.load_data(num_words=8, test_split=0.2, seed=1)
    assert x.dtype == object and len(x) == 8 and len(xt) == 2
    order = np.arange(10)
    np.random.RandomState(1).shuffle(order)
    np.testing.assert_array_equal(y, order[:8])
    first = [1] + [w + 3 if w + 3 < 8 else 2 for w in range(1, 3 + order[0])]
    assert list(x[0]) == first
    (x, _), _ = keras.datasets.reuters.load_data(maxlen=5)
    assert all(len(s) < 5 for s in x)
    assert len(keras.datasets.reuters.get_label_names()) == 46


def test_absent_and_corrupt_files_raise_clearly(data_root, monkeypatch):
    monkeypatch.setattr(cifar10, "_MIRRORS", [])
    with pytest.raises(OSError, match="could not find cifar10/cifar-10-python.tar.gz"):
        keras.datasets.cifar10.load_data()
    (data_root / "boston_housing").mkdir()
    (data_root / "boston_housing" / "boston_housing.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        keras.datasets.boston_housing.load_data()


def test_imdb_matches_keras_on_a_synthetic_file(data_root, monkeypatch):
    import json
    import sys

    sys.path.insert(0, str(FIXTURES))
    try:
        from capture_imdb import synthetic_npz
    finally:
        sys.path.remove(str(FIXTURES))
    from ferrograd.datasets import imdb

    (data_root / "imdb").mkdir()
    path = data_root / "imdb" / "imdb.npz"
    synthetic_npz(str(path))
    monkeypatch.setattr(imdb, "_SHA256", _sha(path))
    ref = json.loads((FIXTURES / "imdb_keras.json").read_text())
    for case in ref["cases"]:
        (x, y), (xt, yt) = keras.datasets.imdb.load_data(**case["args"])
        assert x.dtype == object and xt.dtype == object, case["args"]
        assert [list(s) for s in x] == case["x_train"], case["args"]
        assert [list(s) for s in xt] == case["x_test"], case["args"]
        assert y.tolist() == case["y_train"] and yt.tolist() == case["y_test"], case["args"]
    with pytest.raises(ValueError, match="maxlen=1"):
        keras.datasets.imdb.load_data(maxlen=1)
    with pytest.raises(TypeError, match="bogus"):
        keras.datasets.imdb.load_data(bogus=1)


def test_imdb_absent_says_where_to_put_it(data_root, monkeypatch):
    from ferrograd.datasets import imdb

    monkeypatch.setattr(imdb, "_MIRRORS", [])
    with pytest.raises(OSError, match="could not find imdb/imdb.npz in \\$FERROGRAD_DATA"):
        keras.datasets.imdb.load_data()
    (data_root / "imdb").mkdir()
    (data_root / "imdb" / "imdb_word_index.json").write_text('{"the": 1}')
    with pytest.raises(ValueError, match="MD5 mismatch"):
        keras.datasets.imdb.get_word_index()
    monkeypatch.setattr(imdb, "_WORD_INDEX_MD5", hashlib.md5(b'{"the": 1}').hexdigest())
    assert keras.datasets.imdb.get_word_index() == {"the": 1}
