"""Reuters newswire topics: ``load_data(...)``, ``get_word_index()``, ``get_label_names()`` as Keras.

Reads ``reuters.npz`` (and ``reuters_word_index.json``) from ``$FERROGRAD_DATA/reuters/`` or the
cache folder (downloads them there when missing) and checks their SHA-256 (the word index: MD5, the
only hash Keras publishes for it); the ragged sequences
are unpickled with a restricted unpickler that only rebuilds NumPy arrays. Shuffling, index
shifting, ``num_words``/``skip_top``/``maxlen`` and the split follow Keras, so the arrays are the
ones Keras gives.
"""
import json

import numpy as np

from . import _archive, _idx

_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # Keras publishes only the MD5 of this file
_MIRRORS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/"]

_LABELS = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
           "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
           "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
           "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
           "dlr", "gas", "silver", "wpi", "hog", "lead")


def _remove_long_seq(maxlen, seq, label):
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3):
    """((x_train, y_train), (x_test, y_test)): x are object arrays of word-index lists, y int labels."""
    f = _archive.load_npz(_idx.locate("reuters", path, _SHA256, _MIRRORS))
    xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        xs, labels = _remove_long_seq(maxlen, xs, labels)
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = int(len(xs) * (1 - test_split))
    x_train, y_train = np.array(xs[:idx], dtype="object"), np.array(labels[:idx])
    x_test, y_test = np.array(xs[idx:], dtype="object"), np.array(labels[idx:])
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path="reuters_word_index.json"):
    """The ``{word: index}`` dictionary of the dataset (indices start at 1; the data shift them by 3)."""
    with open(_idx.locate("reuters", path, _WORD_INDEX_MD5, _MIRRORS), encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed as the labels."""
    return _LABELS
