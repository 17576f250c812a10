"""TextVectorization (``keras.layers.TextVectorization``, Keras 3.15 arguments, configs, vocabulary
order and outputs) on the Rust pipeline of ``src/text/``: standardization, splitting, n-grams,
``adapt`` counting, lookup and output encoding all run in Rust with the GIL released; this file
validates arguments, applies user callables and shapes the results.

Strings cannot live in ferrograd tensors, so the layer is called eagerly on Python strings,
lists or NumPy ``str``/``object``/``bytes`` arrays (it cannot take a symbolic string ``Input`` in a
functional model); its outputs are ferrograd tensors (int64; float32 for ``"tf_idf"``) that feed
a model.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..symbolic import KerasTensor
from .layer import Layer
from .lookup import StringLookup, _adapt_batches, _as_str_array, _is_batch_iterable

_I64_MAX = np.iinfo(np.int64).max


def _validate(value, allowed, arg, caller="TextVectorization"):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"Unknown value for `{arg}` argument of {caller}. Allowed values are: {allowed}. "
                     f"Received: {arg}={value}")


def _ngram_rows(rows, widths):
    """Keras' ``tf.strings.ngrams(rows, widths, separator=" ")`` on lists of tokens."""
    out = []
    for row in rows:
        grams = []
        for w in widths:
            grams.extend(" ".join(row[i:i + w]) for i in range(len(row) - w + 1))
        out.append(grams)
    return out


def _rust_texts(arr):
    """A str array as the Rust side takes it: for a NumPy ``U`` array its UCS-4 code units as an
    ``(n, width)`` uint32 view (decoded in Rust, in parallel: no Python ``str`` per text), else a
    list of str."""
    flat = arr.reshape(-1)
    if flat.dtype.kind == "U" and flat.dtype.itemsize:
        flat = np.ascontiguousarray(flat, dtype=flat.dtype.newbyteorder("="))
        return flat.view(np.uint32).reshape(flat.size, flat.dtype.itemsize // 4)
    return flat.tolist()


class TextVectorization(Layer):
    """Turns strings into token indices (``"int"``) or per-text vectors (``"multi_hot"``,
    ``"count"``, ``"tf_idf"``) through a vocabulary learned by :meth:`adapt` or given.

    Each text is standardized (``"lower_and_strip_punctuation"``: ASCII lower-casing and removal of
    the 32 ASCII punctuation marks, exactly as TensorFlow does it; non-ASCII letters keep their
    case), split (``"whitespace"``: ASCII whitespace; ``"character"``: code points), optionally
    turned into n-grams, then looked up: 0 is padding, 1 is ``[UNK]`` (in ``"int"`` mode), the
    learned terms follow by frequency (ties: the larger term first).

    Example::

        vec = TextVectorization(max_tokens=1000, output_sequence_length=4)
        vec.adapt(["the cat sat", "the dog"])
        vec(["the cat barked"])   # [[2, 5, 1, 0]]

    Args: max_tokens, standardize (a mode, None or a callable taking and returning a NumPy str
    array), split (a mode, None or a callable returning lists of tokens per text), ngrams (int or
    tuple of widths), output_mode, output_sequence_length ("int" only), pad_to_max_tokens,
    vocabulary (list or file), idf_weights, sparse (False only), ragged (False only), encoding
    ("utf-8"), name.
    """

    _accepts_strings = True

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        if sparse:
            raise ValueError("TextVectorization: `sparse=True` is not supported by ferrograd (dense tensors only; "
                             "Keras allows it on the TensorFlow backend only). Received: sparse=True")
        if ragged:
            raise ValueError("TextVectorization: `ragged=True` is not supported by ferrograd (dense tensors only; "
                             "Keras allows it on the TensorFlow backend only). Received: ragged=True")
        _validate(standardize, ("lower_and_strip_punctuation", "lower", "strip_punctuation"), "standardize")
        _validate(split, ("whitespace", "character"), "split")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError("Unknown value for `output_mode` argument of TextVectorization. Allowed values are: "
                             "('int', 'one_hot', 'multi_hot', 'count', 'tf_idf'). "
                             f"Received: output_mode={output_mode}")
        if not (ngrams is None or isinstance(ngrams, int) or
                (isinstance(ngrams, tuple) and all(isinstance(i, int) for i in ngrams))):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (isinstance(output_sequence_length, int) or output_sequence_length is None):
            raise ValueError("`output_sequence_length` must be either None or an integer when `output_mode` is "
                             f"'int'. Received: output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                             f"Received output_sequence_length={output_sequence_length}.")
        if output_mode == "one_hot":
            raise ValueError("TextVectorization: output_mode='one_hot' gives one row per token, which needs ragged "
                             "tensors; ferrograd supports 'int', 'multi_hot', 'count' and 'tf_idf' here. "
                             "Received: output_mode='one_hot'")
        self._max_tokens, self._standardize, self._split = max_tokens, standardize, split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        if self._ngrams is not None and any(w < 1 for w in self._ngrams):
            raise ValueError(f"`ngrams` widths must be positive. Received: ngrams={ngrams}")
        self._ragged, self._output_mode = ragged, output_mode
        self._output_sequence_length, self._encoding = output_sequence_length, encoding
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
                                          pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
                                          sparse=sparse, has_input_vocabulary=self._has_input_vocabulary,
                                          encoding=encoding, vocabulary_size=vocabulary_size)
        # The Rust pipeline runs the built-in modes; a callable stage runs in Python around it.
        self._pipeline = _core.TextPipeline(standardize if isinstance(standardize, str) else None,
                                            split if isinstance(split, str) else None,
                                            list(self._ngrams or ()))
        self._std_only = _core.TextPipeline(standardize if isinstance(standardize, str) else None, None, [])
        self.built = True

    # ---- vocabulary ------------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order ("" and "[UNK]" first in "int" mode, unless told otherwise)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and IDF weights for "tf_idf") instead of adapting."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ---- preprocessing -----------------------------------------------------------------------------
    def _texts(self, inputs):
        arr = _as_str_array(inputs, "TextVectorization")
        if callable(self._standardize):
            out = self._standardize(arr.astype(str) if arr.dtype.kind != "U" else arr)
            arr = _as_str_array(out, "TextVectorization (the standardize callable's result)")
        return arr

    def _squeeze_for_split(self, arr):
        if arr.ndim > 1:
            if arr.shape[-1] != 1:
                raise ValueError("When using `TextVectorization` to tokenize strings, the input rank must be 1 or "
                                 f"the last shape dimension must be 1. Received: inputs.shape={arr.shape} with "
                                 f"rank={arr.ndim}")
            arr = arr[..., 0]
        return arr

    def _python_rows(self, arr):
        """Token rows for a callable split (or built-in split after a callable standardize)."""
        texts = arr.reshape(-1).tolist()
        if callable(self._split):
            rows = self._split(np.asarray(texts, dtype=str))
            rows = [[t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in row] for row in rows]
            return _ngram_rows(rows, self._ngrams) if self._ngrams else rows
        return self._pipeline.tokenize(texts)

    # ---- adapt -----------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from texts: a list or array of strings (each one a document), or
        an iterable of batches (a generator), of which ``steps`` are read when given.
        ``batch_size`` cuts an array into batches as it is counted (same result, less memory)."""
        self.reset_state()
        if _is_batch_iterable(data):
            for batch in _adapt_batches(data, steps, "TextVectorization.adapt"):
                self.update_state(batch)
        else:
            arr = _as_str_array(data, "TextVectorization.adapt")
            if arr.ndim == 1:
                arr = arr[:, None]
            step = batch_size or max(len(arr), 1)
            for start in range(0, max(len(arr), 1), step):
                self.update_state(arr[start:start + step])
        self.finalize_state()

    def update_state(self, data):
        lk = self._lookup_layer
        if lk._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{lk.name}' after setting a static vocabulary via `vocabulary` "
                             "argument or `set_vocabulary()` method.")
        if self._split is None:
            arr = self._texts(data)
            if not callable(self._standardize):
                arr = np.asarray(self._std_only.standardize(arr.reshape(-1).tolist()) or [], dtype=object
                                 ).reshape(arr.shape)
            if self._ngrams:
                rows = arr.reshape(-1, arr.shape[-1]).tolist() if arr.ndim else [[arr.item()]]
                self._count_rows(_ngram_rows(rows, self._ngrams))
            else:
                lk.update_state(arr)
            return
        if not callable(self._standardize) and not callable(self._split):
            arr = self._squeeze_for_split(_as_str_array(data, "TextVectorization.adapt"))
            lk._counter.update_texts(self._pipeline, _rust_texts(arr))
            return
        arr = self._squeeze_for_split(self._texts(data))
        self._count_rows(self._python_rows(arr))

    def _count_rows(self, rows):
        """Counts ragged token rows: padded with the mask token "", which adapt never learns."""
        width = max((len(r) for r in rows), default=0)
        flat = [t for r in rows for t in (list(r) + [""] * (width - len(r)))]
        self._lookup_layer._counter.update_rows(flat, len(rows))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # ---- call ------------------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        if type(inputs).__name__ == "KerasTensor":
            return super().__call__(inputs, *args, **kwargs)
        return self.call(inputs)

    def call(self, inputs):
        lk = self._lookup_layer
        lk._ensure_known_vocab_size()
        mode, seq = self._output_mode, self._output_sequence_length
        if self._split is None:
            return self._call_unsplit(inputs)
        if not callable(self._standardize) and not callable(self._split):
            arr = self._squeeze_for_split(_as_str_array(inputs, "TextVectorization"))
            texts = _rust_texts(arr)
            idf = lk._idf_list() if mode == "tf_idf" else None
            if mode == "tf_idf" and idf is None:
                raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
            depth = lk._depth() if mode != "int" else 0
            out = lk._table.vectorize(self._pipeline, texts, mode, depth, seq, idf)
            return out[0] if arr.ndim == 0 else out
        arr = self._squeeze_for_split(self._texts(inputs))
        scalar = arr.ndim == 0
        rows = self._python_rows(arr.reshape(-1))
        width = max((len(r) for r in rows), default=0)
        flat = [t for r in rows for t in r]
        ids = lk._table.lookup(flat) if flat else np.zeros(0, np.int64)
        fill = 0 if mode == "int" else _I64_MAX
        grid = np.full((len(rows), width), fill, np.int64)
        pos = 0
        for i, r in enumerate(rows):
            grid[i, :len(r)] = ids[pos:pos + len(r)]
            pos += len(r)
        if mode == "int":
            out = _core.as_tensor(self._fit_length(grid))
        else:
            out = lk._encode(grid)
        return out[0] if scalar else out

    def _fit_length(self, ids):
        seq = self._output_sequence_length
        if seq is None:
            return ids
        ids = ids[..., :seq]
        if ids.shape[-1] < seq:
            pad = [(0, 0)] * (ids.ndim - 1) + [(0, seq - ids.shape[-1])]
            ids = np.pad(ids, pad)
        return np.ascontiguousarray(ids)

    def _call_unsplit(self, inputs):
        lk = self._lookup_layer
        arr = self._texts(inputs)
        if not callable(self._standardize):
            arr = np.asarray(self._std_only.standardize(arr.reshape(-1).tolist()), dtype=object).reshape(arr.shape)
        if self._ngrams:
            rows = _ngram_rows(arr.reshape(-1, arr.shape[-1]).tolist() if arr.ndim else [[arr.item()]], self._ngrams)
            width = max((len(r) for r in rows), default=0)
            grid = np.full((len(rows), width), "", dtype=object)
            for i, r in enumerate(rows):
                grid[i, :len(r)] = r
            arr = grid.reshape(arr.shape[:-1] + (width,)) if arr.ndim else grid[0]
        if self._output_mode != "int":
            return lk(arr)
        scalar = arr.ndim == 0
        ids = lk._lookup(arr.reshape(1) if scalar else arr)
        if scalar:
            return _core.as_tensor(ids.reshape(()))
        return _core.as_tensor(self._fit_length(ids))

    def compute_output_spec(self, inputs, *args, **kwargs):
        if inputs.dtype != "string":
            raise TypeError(f"{self.name}: TextVectorization takes strings; received a symbolic input of dtype "
                            f"{inputs.dtype!r}. Use `keras.Input(shape=(1,), dtype=\"string\")`.")
        dtype = "int64" if self._output_mode == "int" else "float32"  # Keras: int64 ids, floatx vectors
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:  # the call squeezes a trailing axis of 1 before splitting each text into tokens
            input_shape = tuple(input_shape)
            if len(input_shape) >= 2 and input_shape[-1] == 1:
                input_shape = input_shape[:-1]
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # ---- config and saving -------------------------------------------------------------------------
    def get_config(self):
        lk = self._lookup_layer
        return {"name": self.name, "trainable": self.trainable, "dtype": "string",
                "max_tokens": lk.max_tokens, "standardize": self._standardize, "split": self._split,
                "ngrams": self._ngrams_arg, "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length, "pad_to_max_tokens": lk.pad_to_max_tokens,
                "sparse": lk.sparse, "ragged": self._ragged,
                "vocabulary": lk.input_vocabulary if not isinstance(lk.input_vocabulary, np.ndarray)
                else lk.input_vocabulary.tolist(),
                "idf_weights": lk.input_idf_weights if not isinstance(lk.input_idf_weights, np.ndarray)
                else lk.input_idf_weights.tolist(),
                "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        config.pop("trainable", None)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
