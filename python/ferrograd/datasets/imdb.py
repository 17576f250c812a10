"""IMDB movie-review sentiment: ``load_data(...)`` and ``get_word_index()`` as Keras.

Reads ``imdb.npz`` (and ``imdb_word_index.json``) from ``$FERROGRAD_DATA/imdb/`` or the cache
folder, downloading them there from Keras' mirror when missing and reachable, and checks their
SHA-256 (the word index: MD5, the only hash Keras publishes for it). The ragged sequences are
unpickled with a restricted unpickler that only rebuilds NumPy arrays. Shuffling (train and test
each with ``seed``), index shifting, ``maxlen`` filtering, ``num_words``/``skip_top`` and the OOV
rule follow Keras 3, so the arrays are the ones Keras gives.
"""
import json

import numpy as np

from . import _archive, _idx

_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # Keras publishes only the MD5 of this file
_MIRRORS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/"]


def _shift(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [int(w) + index_from for w in x] for x in xs]
    return [[int(w) + index_from for w in x] for x in xs]


def _drop_long(maxlen, xs, labels):
    keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in keep], np.asarray(labels)[keep]


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """((x_train, y_train), (x_test, y_test)): x are object arrays of word-index lists (25,000 reviews
    each in the published file), y are 0/1 labels.

    Args:
        path: the file name under ``$FERROGRAD_DATA/imdb/`` or the cache folder.
        num_words: keep the ``num_words - 1`` most frequent words (indices below ``num_words``);
            others become ``oov_char`` (or are dropped when ``oov_char`` is None).
        skip_top: also treat the ``skip_top`` most frequent words as out of vocabulary.
        maxlen: drop sequences of ``maxlen`` words or more.
        seed: the shuffling seed (``np.random.RandomState``), as Keras.
        start_char: index that starts every sequence (None for none).
        oov_char: index of out-of-vocabulary words.
        index_from: the shift added to every word index (0 padding, 1 start, 2 OOV are reserved).
    """
    if kwargs:
        raise TypeError(f"load_data() got unexpected keyword arguments: {sorted(kwargs)}")
    for arg, value in (("num_words", num_words), ("maxlen", maxlen)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 0):
            raise ValueError(f"imdb.load_data: {arg} must be None or a non-negative integer, received {value!r}")
    f = _archive.load_npz(_idx.locate("imdb", path, _SHA256, _MIRRORS))
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]
    x_train, x_test = _shift(x_train, start_char, index_from), _shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs if x) if any(xs) else 0
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(x_train)
    return (np.array(xs[:idx], dtype="object"), labels[:idx]), (np.array(xs[idx:], dtype="object"), labels[idx:])


def get_word_index(path="imdb_word_index.json"):
    """The ``{word: index}`` dictionary (indices start at 1 by frequency; the data shift them by
    ``index_from``, 3 by default)."""
    with open(_idx.locate("imdb", path, _WORD_INDEX_MD5, _MIRRORS), encoding="utf-8") as f:
        return json.load(f)
