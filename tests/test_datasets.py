"""Dataset loaders (skipped without the shared data folder) and utils."""
import gzip

import numpy as np
import pytest

import ferrograd as keras
from ferrograd.datasets import _idx
from ferrograd.utils import pad_sequences, to_categorical


def test_mnist_load_data(data_dir, monkeypatch):
    monkeypatch.setenv("FERROGRAD_DATA", str(data_dir))
    (x, y), (xt, yt) = keras.datasets.mnist.load_data()
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and y.shape == (60000,)
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert set(np.unique(y)) == set(range(10))


def test_fashion_mnist_load_data(data_dir, monkeypatch):
    monkeypatch.setenv("FERROGRAD_DATA", str(data_dir))
    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and yt.shape == (10000,)


def test_corrupt_and_missing_files_are_reported(tmp_path, monkeypatch):
    d = tmp_path / "mnist"
    d.mkdir()
    (d / "train-images-idx3-ubyte.gz").write_bytes(b"not the real file")
    monkeypatch.setenv("FERROGRAD_DATA", str(tmp_path))
    monkeypatch.setenv("FERROGRAD_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="SHA-256"):
        keras.datasets.mnist.load_data()
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="promises 5"):
        _idx.read_idx(bad)


def test_to_categorical_and_pad_sequences():
    np.testing.assert_array_equal(to_categorical([0, 2, 1], 3), np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert to_categorical(np.array([[1], [0]])).shape == (2, 2)
    with pytest.raises(ValueError):
        to_categorical([0, 5], 3)
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3, 4, 5, 6]], maxlen=3), [[0, 1, 2], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences([[1, 2]], maxlen=3, padding="post"), [[1, 2, 0]])


def test_download_is_atomic_verified_and_gets_the_umask(tmp_path, monkeypatch):
    import hashlib
    import os
    import stat

    from ferrograd.datasets import _idx

    src = tmp_path / "mirror"
    src.mkdir()
    payload = b"\x00\x01" * 5000
    (src / "f.gz").write_bytes(payload)
    good = hashlib.sha256(payload).hexdigest()
    monkeypatch.setenv("FERROGRAD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FERROGRAD_DATA", raising=False)
    mirror = src.as_uri() + "/"
    old = os.umask(0o022)
    try:
        with pytest.raises(OSError, match="SHA-256 mismatch"):
            _idx.locate("toy", "f.gz", "0" * 64, [mirror])
        folder = tmp_path / "home" / "datasets" / "toy"
        assert list(folder.iterdir()) == []  # nothing partial left behind
        path = _idx.locate("toy", "f.gz", good, [mirror])
        assert path.read_bytes() == payload
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(old)
