"""``keras_hub.tokenizers.WordPieceTokenizer``: BERT-style sub-word tokenization in Rust.

The engine (``ferrograd._core.WordPiece``, ``src/tokenizer/wordpiece.rs``) does what Hugging Face
``tokenizers``' BertNormalizer + BertPreTokenizer + WordPiece do, id for id: drop control
characters, split CJK ideographs, optionally strip accents and lowercase, split on whitespace and
punctuation, then cover each word greedily with the longest vocabulary pieces (``##``-prefixed
after the first) or ``[UNK]``. Batches are tokenized in parallel with the GIL released.

Where keras_hub's own pure-Python path differs from that reference, the reference wins: control
and format characters are dropped rather than treated as spaces, Unicode whitespace splits words,
lowercasing is ``str.lower``-style rather than case folding, and ``[UNK]`` replaces words over 100
characters (not 100 UTF-8 bytes).

Example::

    vocab = ["[UNK]", "the", "qu", "##ick", "fox", "."]
    tok = WordPieceTokenizer(vocabulary=vocab, lowercase=True)
    tok("The quick fox.")            # array([1, 2, 3, 4, 5], dtype=int32)
    tok.detokenize([1, 2, 3])        # 'the quick'
"""
from __future__ import annotations

import os

import numpy as np

from ... import _core
from .tokenizer import Tokenizer, _check_bool, _check_sequence_length, canonicalize_ids, flatten_strings

__all__ = ["WordPieceTokenizer", "load_vocabulary"]


def load_vocabulary(path, owner: str = "WordPieceTokenizer") -> list[str]:
    """The tokens of a ``vocab.txt`` file: one per line, trailing whitespace removed (as keras_hub
    and the reference read it)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{owner}: vocabulary file {path!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{owner}: vocabulary {path!r} is a directory; expected a vocab.txt file")
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip() for line in f]
    except UnicodeDecodeError as e:
        raise ValueError(f"{owner}: vocabulary file {path!r} is not valid UTF-8 ({e})") from None


class WordPieceTokenizer(Tokenizer):
    """A WordPiece tokenizer (keras_hub's name, arguments and defaults).

    Args:
        vocabulary: a list of tokens (token ``i`` gets id ``i``) or the path of a ``vocab.txt``
            with one token per line.
        sequence_length: when set, outputs are truncated or padded with 0 to this length and
            returned as arrays of shape ``(..., sequence_length)``.
        lowercase: lowercase the input.
        strip_accents: remove accents (canonical decomposition, then nonspacing marks dropped).
        split: split on whitespace and punctuation; ``False`` means the inputs are already words
            (a string is one word, a list of strings one sample, a list of lists a batch).
        split_on_cjk: make each CJK ideograph a word of its own (only with ``split``).
        suffix_indicator: prefix of the pieces that continue a word.
        oov_token: the token for words that cannot be covered; must be in the vocabulary.
        special_tokens: tokens recognised verbatim in the text when ``special_tokens_in_strings``.
        special_tokens_in_strings: map special tokens written in the input text to their ids.
        dtype: ``"int32"`` (default), ``"int64"``, or ``"string"`` for the token strings.

    ``tokenize`` (or calling the tokenizer) takes a string (-> ids of that string), a list or
    nested list of strings (-> a list of id lists, or an array with ``sequence_length``).
    """

    def __init__(
        self,
        vocabulary=None,
        sequence_length=None,
        lowercase=False,
        strip_accents=False,
        split=True,
        split_on_cjk=True,
        suffix_indicator="##",
        oov_token="[UNK]",
        special_tokens=None,
        special_tokens_in_strings=False,
        dtype="int32",
        **kwargs,
    ) -> None:
        super().__init__(dtype=dtype, **kwargs)
        self.sequence_length = _check_sequence_length(sequence_length)
        self.lowercase = _check_bool("lowercase", lowercase)
        self.strip_accents = _check_bool("strip_accents", strip_accents)
        self.split = _check_bool("split", split)
        self.split_on_cjk = _check_bool("split_on_cjk", split_on_cjk)
        self.special_tokens_in_strings = _check_bool("special_tokens_in_strings", special_tokens_in_strings)
        for arg, v in (("suffix_indicator", suffix_indicator), ("oov_token", oov_token)):
            if not isinstance(v, str) or not v:
                raise ValueError(f"{arg} must be a non-empty string. Received: {arg}={v!r}")
        self.suffix_indicator = suffix_indicator
        self.oov_token = oov_token
        if special_tokens is not None:
            if isinstance(special_tokens, str) or not all(isinstance(t, str) and t for t in special_tokens):
                raise ValueError(f"special_tokens must be a list of non-empty strings. Received: {special_tokens!r}")
            special_tokens = list(special_tokens)
        self._init_special_tokens = special_tokens
        self.set_vocabulary(vocabulary)

    # ----- vocabulary ---------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary) -> None:
        """Sets the vocabulary from a list of tokens or a ``vocab.txt`` path (``None`` clears it)."""
        if vocabulary is None:
            self.vocabulary = None
            self._core = None
            return
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = load_vocabulary(vocabulary, type(self).__name__)
        elif isinstance(vocabulary, (list, tuple)):
            bad = next((t for t in vocabulary if not isinstance(t, str)), None)
            if bad is not None:
                raise TypeError(f"vocabulary must contain strings. Received an element of type "
                                f"{type(bad).__name__}: {bad!r:.80}")
            vocabulary = list(vocabulary)
        else:
            raise ValueError("Vocabulary must be an file path or list of terms. "
                             f"Received: vocabulary of type {type(vocabulary).__name__}")
        if self.oov_token not in vocabulary:
            raise ValueError(f'Cannot find `oov_token="{self.oov_token}"` in the vocabulary.\n'
                             f'You can either update the vocabulary to include `"{self.oov_token}"`, or pass a '
                             "different value for the `oov_token` argument when creating the tokenizer.")
        in_strings = self._special_tokens_for_splitting()
        missing = [t for t in in_strings if t not in vocabulary]
        if missing:
            raise ValueError(f"special token(s) {missing!r} are not in the vocabulary")
        self.vocabulary = vocabulary
        self._core = _core.WordPiece(
            vocabulary, self.lowercase, self.strip_accents, self.split, self.split_on_cjk,
            self.suffix_indicator, self.oov_token, in_strings,
        )
        self._update_special_token_ids()

    def _special_tokens_for_splitting(self) -> list[str]:
        if not (self.split and self.special_tokens_in_strings):
            return []
        out = list(self.special_tokens)
        out += [t for t in (self._init_special_tokens or []) if t not in out]
        return out

    def _check_vocabulary(self) -> None:
        if self._core is None:
            raise ValueError(f"No vocabulary has been set for {type(self).__name__}. Make sure to pass a "
                             "`vocabulary` argument when creating the layer.")

    def _lookup(self, token: str):
        return self._core.token_to_id(token)

    def get_vocabulary(self) -> list[str]:
        """The tokens in id order."""
        self._check_vocabulary()
        return list(self.vocabulary)

    def vocabulary_size(self) -> int:
        """The number of ids."""
        self._check_vocabulary()
        return self._core.vocabulary_size()

    def id_to_token(self, id) -> str:
        """The token of ``id`` (ValueError when out of range)."""
        self._check_vocabulary()
        if isinstance(id, bool) or not isinstance(id, (int, np.integer)):
            raise TypeError(f"id must be an int. Received: {id!r}")
        return self._core.id_to_token(int(id))

    def token_to_id(self, token: str) -> int:
        """The id of ``token`` (ValueError when it is not in the vocabulary)."""
        self._check_vocabulary()
        if not isinstance(token, str):
            raise TypeError(f"token must be a str. Received: {token!r}")
        i = self._core.token_to_id(token)
        if i is None:
            raise ValueError(f"Token '{token}' is not in the vocabulary.")
        return i

    # ----- tokenize -----------------------------------------------------------------------------
    def _finish(self, ids: list[int]):
        """One sample's ids in the output dtype, padded/truncated when ``sequence_length`` is set."""
        if self.dtype == "string":
            toks = [self.vocabulary[i] for i in ids]
            if self.sequence_length:
                toks = toks[: self.sequence_length] + [""] * (self.sequence_length - len(toks))
            return toks
        if self.sequence_length:
            ids = ids[: self.sequence_length] + [0] * (self.sequence_length - len(ids))
        return ids

    def tokenize(self, inputs):
        """Ids (or token strings with ``dtype="string"``) of a string or (nested) list of strings."""
        self._check_vocabulary()
        if not self.split:
            return self._tokenize_presplit(inputs)
        flat, rebuild = flatten_strings(inputs)
        scalar = isinstance(inputs, (str, bytes, np.str_, np.bytes_)) or (
            isinstance(inputs, np.ndarray) and inputs.ndim == 0)
        if scalar:
            ids = self._finish(self._core.encode(flat[0]))
            return ids if self.dtype == "string" else np.asarray(ids, dtype=self.dtype)
        rank1 = (isinstance(inputs, np.ndarray) and inputs.ndim == 1) or (
            isinstance(inputs, (list, tuple)) and not any(isinstance(x, (list, tuple)) for x in inputs))
        if rank1 and self.sequence_length and self.dtype != "string":
            # The whole (B, sequence_length) matrix is written in Rust.
            out = self._core.encode_batch_padded(flat, self.sequence_length, 0)
            return out if self.dtype == "int32" else out.astype(self.dtype)
        out = rebuild([self._finish(ids) for ids in self._core.encode_batch(flat)])
        if self.sequence_length and self.dtype != "string":
            return np.asarray(out, dtype=self.dtype)
        return out

    def _tokenize_presplit(self, inputs):
        if isinstance(inputs, np.ndarray):
            inputs = inputs.item() if inputs.ndim == 0 else inputs.tolist()
        if isinstance(inputs, (str, bytes)):
            samples, batched = [[inputs]], False
        elif isinstance(inputs, (list, tuple)) and inputs and all(isinstance(s, (list, tuple)) for s in inputs):
            samples, batched = [list(s) for s in inputs], True
        elif isinstance(inputs, (list, tuple)):
            samples, batched = [list(inputs)], False
        else:
            raise TypeError(f"inputs must be a string, a list of words or a list of lists of words. "
                            f"Received: {type(inputs).__name__}")
        flat, _ = flatten_strings([w for s in samples for w in s])
        ids = self._core.encode_batch(flat)
        results, k = [], 0
        for s in samples:
            row: list[int] = []
            for _ in s:
                row += ids[k]
                k += 1
            results.append(self._finish(row))
        if not batched:
            return results[0] if self.dtype == "string" else np.asarray(results[0], dtype=self.dtype)
        if self.sequence_length and self.dtype != "string":
            return np.asarray(results, dtype=self.dtype)
        return results

    def detokenize(self, inputs):
        """Token ids back to text: tokens joined by spaces, ``##`` pieces glued to their word.

        An id list (or rank-1 array) gives a string; a list of id lists (or rank-2 array) a list
        of strings. Ids out of range raise ValueError.
        """
        self._check_vocabulary()
        rows, batched = canonicalize_ids(inputs)
        out = self._core.decode_batch(rows)
        return out if batched else out[0]

    def basic_tokenize(self, text: str) -> list[str]:
        """The words a text is cut into before sub-word matching (normalised, split)."""
        self._check_vocabulary()
        if not isinstance(text, str):
            raise TypeError(f"text must be a str. Received: {type(text).__name__}")
        return self._core.basic_tokenize(text)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "vocabulary": None if self.vocabulary is None else list(self.vocabulary),
            "sequence_length": self.sequence_length,
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "split": self.split,
            "split_on_cjk": self.split_on_cjk,
            "suffix_indicator": self.suffix_indicator,
            "oov_token": self.oov_token,
            "special_tokens": self._init_special_tokens,
            "special_tokens_in_strings": self.special_tokens_in_strings,
        })
        return config
