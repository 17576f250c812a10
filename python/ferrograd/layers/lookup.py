"""Vocabulary lookup layers: StringLookup and IntegerLookup (``keras.layers`` names, arguments,
configs and outputs of Keras 3.15), on the Rust tables of ``src/text/``.

Keras runs these layers on TensorFlow whatever the backend; here the tables, the ``adapt``
counting and the encodings are Rust (``_core.StringTable``/``IntTable``/``StringCounter``/
``IntCounter``/``text_encode_ids``) and this file holds Keras' policy: argument checks, the
numbering of mask and OOV entries, vocabulary files, configs and what a saved model keeps.
Strings cannot live in ferrograd tensors: string inputs are Python strings, lists or NumPy
``str``/``object`` arrays, and ``invert=True`` on a StringLookup returns a NumPy ``str`` array.
"""
from __future__ import annotations

import collections
import io
import json
import os

import numpy as np

from .. import _core
from ..symbolic import KerasTensor
from .layer import Layer

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_I64_MAX = np.iinfo(np.int64).max


def _validate_mode(output_mode, caller):
    if output_mode not in _MODES:
        raise ValueError(f"Unknown value for `output_mode` argument of {caller}. Allowed values are: {_MODES}. "
                         f"Received: output_mode={output_mode}")


def _is_batch_iterable(data):
    """A generator or other iterable of batches (not an array-like of samples)."""
    return hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, str, bytes, _core.Tensor))


def _adapt_batches(data, steps, what):
    """The batches of an iterable ``adapt`` input, at most ``steps`` of them; a batch of several parts
    (``(texts, labels)`` from a labelled dataset) is refused with the way out."""
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        if isinstance(batch, tuple) and len(batch) in (2, 3) and any(
                isinstance(part, (list, tuple, np.ndarray, _core.Tensor)) for part in batch):
            raise ValueError(f"{what} received batches of {len(batch)} parts (inputs and labels?); it learns from "
                             "the inputs alone: pass `dataset.map(lambda x, y: x)`")
        yield batch


def _as_str_array(data, what):
    """``data`` as a NumPy array of Python ``str`` (UTF-8 ``bytes`` are decoded)."""
    if isinstance(data, _core.Tensor):
        raise TypeError(f"{what} expects strings; received a {data.dtype} tensor (ferrograd tensors cannot hold "
                        "strings: pass a list or a NumPy array of str)")
    arr = np.asarray(data, dtype=object) if not isinstance(data, np.ndarray) else data
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind == "S":
        return np.char.decode(arr, "utf-8")
    if arr.dtype.kind == "O":
        flat = arr.reshape(-1)
        if set(map(type, flat.tolist())) <= {str}:
            # Fast path (a list of str, the usual input): nothing to decode or reject, so the
            # array is returned as it is; the loop below costs ~250 ns a value.
            return arr
        out = np.empty(flat.shape, dtype=object)
        for i, v in enumerate(flat):
            if isinstance(v, bytes):
                v = v.decode("utf-8")
            elif not isinstance(v, str):
                raise TypeError(f"{what} expects strings; received {type(v).__name__} value {v!r}")
            out[i] = v
        if arr.ndim and any(isinstance(v, (list, tuple)) for v in flat):
            raise ValueError(f"{what}: nested lists of different lengths (ragged data) are not supported")
        return out.reshape(arr.shape)
    raise TypeError(f"{what} expects strings; received an array of dtype {arr.dtype}")


def _as_int_array(data, what):
    if isinstance(data, _core.Tensor):
        data = data.numpy()
    arr = np.asarray(data)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{what} expects integers; received an array of dtype {arr.dtype}")
    return arr.astype(np.int64)


def _listify(x):
    if isinstance(x, _core.Tensor):
        x = x.numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x


class IndexLookup(Layer):
    """The shared logic of StringLookup and IntegerLookup (Keras' ``IndexLookup``): a vocabulary
    numbered ``[mask][OOV x num_oov_indices][terms]``, learned by ``adapt`` (by frequency, ties
    broken by the term, high to low) or given, and five output modes."""

    _accepts_strings = True

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", name=None, salt=None, **kwargs):
        caller = type(self).__name__
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Unknown value for `oov_method` argument of {caller}. Allowed values are: "
                             f"('floormod', 'farmhash'). Received: oov_method={oov_method}")
        if salt is not None:
            raise NotImplementedError(f"{caller}: `salt` (SipHash OOV buckets) is not supported by ferrograd. "
                                      f"Received: salt={salt}")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        _validate_mode(output_mode, caller)
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `'one_hot'`, `'multi_hot'`, `'count'` or "
                             f"`'tf_idf'`. Received: sparse={sparse} and output_mode={output_mode}")
        if sparse:
            raise ValueError(f"{caller}: `sparse=True` is not supported by ferrograd (dense tensors only; Keras "
                             "allows it on the TensorFlow backend only). Received: sparse=True")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                             f"Received: idf_weights={idf_weights} and output_mode={output_mode}")
        frozen = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert, self.max_tokens, self.num_oov_indices = invert, max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.output_mode = mask_token, oov_token, output_mode
        self.sparse, self.pad_to_max_tokens = sparse, pad_to_max_tokens
        self.vocabulary_dtype, self.oov_method, self.salt = vocabulary_dtype, oov_method, salt
        self._frozen_vocab_size = frozen
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._is_string = vocabulary_dtype == "string"
        self._idf = None
        self._table = self._make_table([])
        if output_mode == "tf_idf":
            if has_input_vocabulary and idf_weights is None:
                raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                                 "`idf_weights` argument must also be provided.")
            if idf_weights is not None:
                self._idf = np.asarray(idf_weights, dtype=np.float32)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self._counter = None
        if not has_input_vocabulary:
            track = output_mode == "tf_idf"
            self._counter = _core.StringCounter(track) if self._is_string else _core.IntCounter(track)
        self.built = True

    # ---- numbering -------------------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _mask_value(self):
        return 0 if self.output_mode == "int" else _I64_MAX

    def _make_table(self, tokens):
        mask_value = self._mask_value()
        if self._is_string:
            mask = None if self.mask_token is None else str(self.mask_token)
            return _core.StringTable(list(tokens), mask, mask_value, self.num_oov_indices, self._oov_start_index())
        mask = None if self.mask_token is None else int(self.mask_token)
        return _core.IntTable([int(t) for t in tokens], mask, mask_value, self.num_oov_indices,
                              self._oov_start_index(), self.oov_method == "farmhash")

    # ---- vocabulary ------------------------------------------------------------------------------
    def vocabulary_size(self):
        """The vocabulary size, mask and OOV entries included."""
        return len(self._table) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order (with the mask and OOV entries unless told otherwise)."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._table.tokens())
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def _read_vocabulary_file(self, path):
        if not os.path.exists(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
        if self._is_string:
            return lines
        try:
            return [int(ln) for ln in lines]
        except ValueError as e:
            raise ValueError(f"Vocabulary file {path}: every line must be an integer ({e})") from None

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list/tuple/array of terms or the path of a file with one term per
        line) and, for ``"tf_idf"``, the IDF weights (one per term)."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if self.output_mode == "tf_idf":
                if not os.path.exists(vocabulary):
                    raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            tokens = self._read_vocabulary_file(os.fspath(vocabulary))
            repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
            if repeated:
                raise ValueError(f"Vocabulary file {vocabulary} repeats the terms {repeated[:10]}; a lookup table "
                                 "needs each term once")
            self._install(tokens)
            return
        if isinstance(vocabulary, _core.Tensor):
            vocabulary = vocabulary.numpy()
        vocab = (_as_str_array(vocabulary, f"{type(self).__name__}.set_vocabulary") if self._is_string
                 else _as_int_array(vocabulary, f"{type(self).__name__}.set_vocabulary"))
        if vocab.ndim != 1:
            raise ValueError(f"the vocabulary must be 1-D; received shape {vocab.shape}")
        vocab = vocab.tolist()
        if isinstance(idf_weights, _core.Tensor):
            idf_weights = idf_weights.numpy()
        if not vocab:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        oov_start, token_start = self._oov_start_index(), self._token_start_index()
        special = [self.mask_token] * oov_start + [self.oov_token] * self.num_oov_indices
        found_special = vocab[:token_start] == special
        tokens = vocab[token_start:] if found_special else vocab
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in tokens:
            idx = len(vocab) - 1 - vocab[::-1].index(self.mask_token)
            raise ValueError("Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: mask_token={self.mask_token} at vocabulary index [{idx}]")
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            idx = len(vocab) - 1 - vocab[::-1].index(self.oov_token)
            raise ValueError("Found reserved OOV token at unexpected location in `vocabulary`. Note that passed "
                             "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                             "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                             f"order: {special}. Received: oov_token={self.oov_token} at vocabulary index [{idx}]")
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             f"size is {new_size}; `max_tokens` is {self.max_tokens}.")
        if self.output_mode == "tf_idf":
            idf = np.asarray(idf_weights)
            if len(vocab) != len(idf):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(idf)}; len(vocabulary) is {len(vocab)}")
            if idf.ndim != 1:
                raise ValueError(f"TF-IDF data must be a 1-index array. Received: type(idf_weights)={type(idf)}")
            front, front_value = (0, 0) if found_special else (token_start, np.average(idf))
            back = self.max_tokens - front - len(idf) if self.pad_to_max_tokens and self.max_tokens else 0
            weights = np.pad(idf, (front, back), "constant", constant_values=(front_value, 0))
        self._install(tokens)
        if self.output_mode == "tf_idf":
            self._idf = weights.astype(np.float32)

    def _install(self, tokens):
        table = self._make_table(tokens)
        old = self._table
        self._table = table
        try:
            self._record_vocabulary_size()
        except RuntimeError:
            self._table = old
            raise

    def _record_vocabulary_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            size = self.vocabulary_size()
            if self._frozen_vocab_size is not None and size != self._frozen_vocab_size:
                raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                                   "vocabulary size cannot be changed after the layer is called. Old vocab size is "
                                   f"{self._frozen_vocab_size}, new vocab size is {size}")
        self._frozen_vocab_size = self.vocabulary_size()

    # ---- adapt -----------------------------------------------------------------------------------
    def _to_keys(self, data, what):
        return _as_str_array(data, what) if self._is_string else _as_int_array(data, what)

    def adapt(self, data, steps=None):
        """Learns the vocabulary (and document frequencies for ``"tf_idf"``) from ``data``: an
        array or list of terms (each element a document), or an iterable of batches."""
        self.reset_state()
        if _is_batch_iterable(data):
            for batch in _adapt_batches(data, steps, f"{type(self).__name__}.adapt"):
                self.update_state(batch)
        else:
            arr = self._to_keys(data, f"{type(self).__name__}.adapt")
            if arr.ndim == 1:
                arr = arr[:, None]
            self.update_state(arr)
        self.finalize_state()

    def update_state(self, data):
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        arr = self._to_keys(data, f"{type(self).__name__}.adapt")
        if arr.ndim < 2:
            arr = arr.reshape(1, -1)
        n_rows = arr.shape[0]
        flat = arr.reshape(-1)
        if self._is_string:
            self._counter.update_rows(flat.tolist(), n_rows)
        else:
            self._counter.update_rows(np.ascontiguousarray(flat), n_rows)

    def reset_state(self):
        if self._counter is not None:
            self._counter.reset()

    def finalize_state(self):
        if self._has_input_vocabulary or len(self._counter) == 0:
            self._record_vocabulary_size()
            return
        exclude = [t for t in (self.mask_token, self.oov_token) if t is not None]
        exclude = [str(t) for t in exclude] if self._is_string else [int(t) for t in exclude]
        token_start = self._token_start_index()
        max_learned = self.max_tokens - token_start if self.max_tokens else None
        if self._is_string:
            # the table is built in Rust from the counts: the vocabulary never becomes Python strs
            mask = None if self.mask_token is None else str(self.mask_token)
            self._table, doc_counts = self._counter.finalize_table(
                exclude, max_learned, mask, self._mask_value(), self.num_oov_indices, self._oov_start_index())
        else:
            tokens, doc_counts = self._counter.finalize(exclude, max_learned)
            self._table = self._make_table(tokens)
        if self.output_mode == "tf_idf":
            w, mean = _core.text_idf_weights(doc_counts, self._counter.num_documents)
            idf = np.concatenate([np.full(token_start, mean, np.float32), np.asarray(w, np.float32)])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size))
            self._idf = idf
        self.reset_state()
        self._record_vocabulary_size()

    # ---- call ------------------------------------------------------------------------------------
    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _idf_list(self):
        """``self._idf`` as the list the Rust encoders take (None without weights), converted once
        per weight array rather than once per call (every assignment of ``_idf`` makes a new array)."""
        idf = self._idf
        if idf is None:
            return None
        cached = getattr(self, "_idf_cache", None)
        if cached is None or cached[0] is not idf:
            cached = self._idf_cache = (idf, idf.tolist())
        return cached[1]

    def _ensure_known_vocab_size(self):
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")

    def __call__(self, inputs, *args, **kwargs):
        # Strings cannot become tensors: the lookup runs here, eagerly, on NumPy arrays.
        if type(inputs).__name__ == "KerasTensor":
            return super().__call__(inputs, *args, **kwargs)
        return self.call(inputs, *args, **kwargs)

    def _lookup(self, arr):
        flat = arr.reshape(-1)
        if self._is_string:
            return self._table.lookup(flat.tolist()).reshape(arr.shape)
        return self._table.lookup(np.ascontiguousarray(flat)).reshape(arr.shape)

    def _invert(self, inputs):
        ids = _as_int_array(inputs, f"{type(self).__name__} (invert=True)")
        flat = np.ascontiguousarray(ids.reshape(-1))
        if self._is_string:
            mask = None if self.mask_token is None else str(self.mask_token)
            out = self._table.invert(flat, mask, str(self.oov_token))
            return np.asarray(out, dtype=str).reshape(ids.shape)
        mask = None if self.mask_token is None else int(self.mask_token)
        out = self._table.invert(flat, mask, int(self.oov_token))
        return _core.as_tensor(out.reshape(ids.shape))

    def call(self, inputs):
        self._ensure_known_vocab_size()
        if self.invert:
            return self._invert(inputs)
        arr = self._to_keys(inputs, type(self).__name__)
        scalar = arr.ndim == 0
        if scalar:
            arr = arr.reshape(1)
        ids = self._lookup(arr)
        if self.output_mode == "int":
            return _core.as_tensor(ids.reshape(()) if scalar else ids)
        return self._encode(ids)

    def _encode(self, ids):
        """Encodes int64 ``ids`` (rank >= 1) in the non-int output modes."""
        depth = self._depth()
        idf = None
        if self.output_mode == "tf_idf":
            if self._idf is None:
                raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
            idf = self._idf_list()
            if len(idf) != depth:
                raise ValueError(f"the layer holds {len(idf)} idf weights for an output of depth {depth}")
        flat = np.ascontiguousarray(ids.reshape(-1))
        if self.output_mode == "one_hot":
            shape = ids.shape[:-1] if ids.ndim > 1 and ids.shape[-1] == 1 else ids.shape
            return _core.text_encode_ids(flat, flat.size, "one_hot", depth, list(shape) + [depth])
        if ids.ndim > 2 and self.output_mode != "multi_hot":
            raise NotImplementedError(f"{type(self).__name__}: output_mode={self.output_mode!r} on inputs of rank "
                                      f"{ids.ndim} is not supported by ferrograd (rank 1 or 2 only)")
        n_rows = int(np.prod(ids.shape[:-1], dtype=np.int64))
        return _core.text_encode_ids(flat, n_rows, self.output_mode, depth, list(ids.shape[:-1]) + [depth], idf)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self._depth()
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def compute_output_spec(self, inputs, *args, **kwargs):
        # int64 ids or counts (Keras' lookup layers return their int64 value dtype); float32 TF-IDF
        if self.invert:
            return KerasTensor(tuple(inputs.shape), self.vocabulary_dtype)
        dtype = "float32" if self.output_mode == "tf_idf" else "int64"
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    # ---- config and saving -------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.vocabulary_dtype,
                "invert": self.invert, "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token, "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary), "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method, "salt": self.salt}

    def _save_assets(self):
        """What a saved model keeps beside the config (Keras' assets and own variables): the
        learned vocabulary (when it is not in the config) and the IDF weights."""
        out = {}
        if self.input_vocabulary is None:
            out["vocabulary.json"] = json.dumps(self.get_vocabulary(include_special_tokens=True)).encode()
        if self.output_mode == "tf_idf" and self._idf is not None:
            buf = io.BytesIO()
            np.save(buf, self._idf.astype(np.float32), allow_pickle=False)
            out["idf_weights.npy"] = buf.getvalue()
        return out

    def _load_assets(self, assets, source):
        if "idf_weights.npy" in assets:
            try:
                idf = np.load(io.BytesIO(assets["idf_weights.npy"]), allow_pickle=False)
            except ValueError as e:
                raise ValueError(f"{source}: the idf weights of {self.name} are unreadable ({e})") from None
            if idf.dtype != np.float32 or idf.ndim != 1:
                raise ValueError(f"{source}: the idf weights of {self.name} must be a 1-D float32 array")
            self._idf = idf
        if "vocabulary.json" in assets:
            try:
                vocab = json.loads(assets["vocabulary.json"])
            except ValueError as e:
                raise ValueError(f"{source}: the vocabulary of {self.name} is not valid JSON ({e})") from None
            ok = str if self._is_string else int
            if not isinstance(vocab, list) or not all(type(v) is ok for v in vocab):
                raise ValueError(f"{source}: the vocabulary of {self.name} must be a list of {ok.__name__}")
            token_start = self._token_start_index()
            if len(vocab) > token_start:
                self._table = self._make_table(vocab[token_start:])
            self._record_vocabulary_size()


class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary (or back, with ``invert=True``).

    Index 0 is the mask token when ``mask_token`` is set (in ``"int"`` mode), then come
    ``num_oov_indices`` out-of-vocabulary indices (unknown strings are spread over them by
    FarmHash when there are several), then the terms. ``adapt`` learns the terms by frequency.

    Example::

        layer = StringLookup(vocabulary=["a", "b", "c"])
        layer([["a", "c"], ["d", "b"]])   # [[1, 3], [0, 2]]

    Args: max_tokens, num_oov_indices (1), mask_token (None), oov_token ("[UNK]"), vocabulary (a
    list/array or a file with one term per line), idf_weights, invert, output_mode ("int",
    "one_hot", "multi_hot", "count", "tf_idf"), pad_to_max_tokens, sparse (False only), encoding
    ("utf-8"), name. Outputs are int64 tensors (float32 for "tf_idf"); inverted outputs are NumPy
    ``str`` arrays.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, salt=None, **kwargs):
        if not isinstance(encoding, str) or encoding.lower().replace("-", "").replace("_", "") != "utf8":
            raise ValueError(f"StringLookup: only encoding='utf-8' is supported by ferrograd. Received: "
                             f"encoding={encoding!r}")
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        return {**config, "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous indices through a vocabulary (or back, with ``invert=True``).

    Example::

        layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
        layer([[12, 1138, 42], [42, 1000, 36]])   # [[1, 3, 4], [4, 0, 2]]

    Args: max_tokens, num_oov_indices (1; several OOV indices use ``floormod`` or, with
    ``oov_method="farmhash"``, the FarmHash of the decimal text), mask_token (None), oov_token (-1),
    vocabulary, vocabulary_dtype ("int64" only), idf_weights, invert, output_mode, sparse (False
    only), pad_to_max_tokens, oov_method, salt (None only), name.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, vocabulary_dtype=vocabulary_dtype,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method, salt=salt, name=name, **kwargs)

    def get_vocabulary(self, include_special_tokens=True):
        return [int(v) for v in super().get_vocabulary(include_special_tokens)]

    def get_config(self):
        config = super().get_config()
        for k in ("oov_token", "mask_token"):
            if config[k] is not None:
                config[k] = int(config[k])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
