"""``keras_hub.tokenizers.BytePairTokenizer``: GPT-2 style byte-level BPE from a ``vocab.json``
(token -> id) and a ``merges.txt`` (merge rules in priority order), on ferrograd's Rust BPE
(:class:`ferrograd.tokenizers.BPETokenizer`, the tiktoken-identical engine).

The merge rules become BPE ranks (the 256 byte tokens, then one rank per merge result, in merge
order), which is exactly how tiktoken turns GPT-2's ``vocab.bpe`` into its ``r50k``/``gpt2``
ranks; a rank is then mapped to the vocabulary's id for the same token. Text is pre-tokenized with
GPT-2's pattern. When two merge rules produce the same token (never in GPT-2's files) the first
one's priority is kept.
"""
from __future__ import annotations

import json
import os

import numpy as np

from ... import tokenizers as _bpe
from .tokenizer import Tokenizer, _check_bool, _check_sequence_length, canonicalize_ids, flatten_strings

__all__ = ["BytePairTokenizer"]


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table: printable Latin-1 bytes (not the space) stand for
    themselves, the other 68 bytes for U+0100 onwards in byte order."""
    keep = [b for b in range(256) if (0x21 <= b <= 0x7E) or (0xA1 <= b <= 0xAC) or (0xAE <= b <= 0xFF)]
    table = {b: chr(b) for b in keep}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


_BYTE2UNI = _bytes_to_unicode()
_UNI2BYTE = {c: b for b, c in _BYTE2UNI.items()}


def _read_vocabulary(vocabulary, owner: str) -> dict[str, int]:
    if isinstance(vocabulary, (str, os.PathLike)):
        path = os.fspath(vocabulary)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{owner}: vocabulary file {path!r} does not exist")
        try:
            with open(path, encoding="utf-8") as f:
                vocabulary = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{owner}: vocabulary file {path!r} is not valid JSON ({e})") from None
    if not isinstance(vocabulary, dict):
        raise ValueError("Vocabulary must be an file path or dictionary mapping string token to int ids. "
                         f"Received: `type(vocabulary)={type(vocabulary)}`.")
    for k, v in vocabulary.items():
        if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{owner}: the vocabulary must map str tokens to non-negative int ids. "
                             f"Received: {k!r}: {v!r}")
    return dict(vocabulary)


def _read_merges(merges, owner: str) -> list[str]:
    if isinstance(merges, (str, os.PathLike)):
        path = os.fspath(merges)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{owner}: merges file {path!r} does not exist")
        try:
            with open(path, encoding="utf-8") as f:
                return [line.rstrip() for line in f]
        except UnicodeDecodeError as e:
            raise ValueError(f"{owner}: merges file {path!r} is not valid UTF-8 ({e})") from None
    if isinstance(merges, (list, tuple)):
        return list(merges)
    raise ValueError(f"Merges must be a file path or a list of merge rules. Received: `type(merges)={type(merges)}`")


def _token_bytes(token: str, owner: str) -> bytes:
    try:
        return bytes(_UNI2BYTE[c] for c in token)
    except KeyError as e:
        raise ValueError(f"{owner}: token {token!r} contains {e.args[0]!r}, which is not in GPT-2's byte "
                         "alphabet") from None


class BytePairTokenizer(Tokenizer):
    """Byte-level BPE (keras_hub's name, arguments and defaults).

    Args:
        vocabulary: ``{token: id}`` or the path of a ``vocab.json``.
        merges: merge rules ``"a b"`` in priority order, or the path of a ``merges.txt`` (a
            ``#version`` line is skipped).
        sequence_length: when set, outputs are truncated or padded (with ``pad_token_id`` when the
            class defines one, else 0) and returned as arrays.
        add_prefix_space: put a space before each input that does not start with one, so the first
            word tokenizes like the others.
        unsplittable_tokens: tokens kept whole when they appear in the text (e.g. ``<|endoftext|>``);
            defaults to the class's special tokens.
        dtype: ``"int32"`` (default), ``"int64"`` or ``"string"``.
    """

    def __init__(
        self,
        vocabulary=None,
        merges=None,
        sequence_length=None,
        add_prefix_space=False,
        unsplittable_tokens=None,
        dtype="int32",
        **kwargs,
    ) -> None:
        super().__init__(dtype=dtype, **kwargs)
        self.sequence_length = _check_sequence_length(sequence_length)
        self.add_prefix_space = _check_bool("add_prefix_space", add_prefix_space)
        if unsplittable_tokens is None:
            unsplittable_tokens = self.special_tokens
        if isinstance(unsplittable_tokens, str) or not all(isinstance(t, str) and t for t in unsplittable_tokens):
            raise ValueError(f"unsplittable_tokens must be a list of non-empty strings. "
                             f"Received: {unsplittable_tokens!r}")
        self.unsplittable_tokens = list(unsplittable_tokens)
        self.set_vocabulary_and_merges(vocabulary, merges)

    def set_vocabulary_and_merges(self, vocabulary, merges) -> None:
        """Sets the vocabulary and merge rules from data or files (``None`` clears them)."""
        owner = type(self).__name__
        if vocabulary is None or merges is None:
            self.vocabulary = self.merges = None
            self._enc = None
            return
        vocabulary = _read_vocabulary(vocabulary, owner)
        merges = _read_merges(merges, owner)
        ranks = {bytes([b]): b for b in range(256)}
        rules = []
        for merge in merges:
            if not isinstance(merge, str):
                raise ValueError(f"{owner}: merge rules must be strings 'a b'. Received: {merge!r}")
            if "#version:" in merge.lstrip() or not merge.strip():
                continue
            parts = merge.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{owner}: merge rule {merge!r} must be two tokens separated by one space")
            a, b = parts
            if a not in vocabulary or b not in vocabulary:
                raise ValueError(f"Merge rule '{merge}' contains token '{a}' or '{b}' that is not in the vocabulary.")
            rules.append(merge)
            ranks.setdefault(_token_bytes(a, owner) + _token_bytes(b, owner), len(ranks))
        specials = {}
        for t in self.unsplittable_tokens:
            if t not in vocabulary:
                raise ValueError(f"{owner}: unsplittable token {t!r} is not in the vocabulary")
            specials[t] = len(ranks) + len(specials)
        # rank -> id (-1: a token the merges can build but the vocabulary lacks).
        rank_to_id = np.full(len(ranks) + len(specials), -1, dtype=np.int64)
        for tok, r in ranks.items():
            rank_to_id[r] = vocabulary.get("".join(_BYTE2UNI[b] for b in tok), -1)
        for t, r in specials.items():
            rank_to_id[r] = vocabulary[t]
        id_to_rank = np.full(max(vocabulary.values(), default=-1) + 1, -1, dtype=np.int64)
        for r, i in enumerate(rank_to_id.tolist()):
            if i >= 0 and id_to_rank[i] < 0:
                id_to_rank[i] = r
        self.vocabulary = vocabulary
        self.merges = rules
        self._enc = _bpe.BPETokenizer(ranks, pattern="gpt2", special_tokens=specials, name="keras_hub_bpe")
        self._rank_to_id = rank_to_id.tolist()
        self._id_to_rank = id_to_rank
        self._id_to_token = {i: t for t, i in vocabulary.items()}
        self._update_special_token_ids()

    # ----- vocabulary ---------------------------------------------------------------------------
    def _check_vocabulary(self) -> None:
        if self._enc is None:
            raise ValueError(f"No vocabulary has been set for {type(self).__name__}. Make sure to pass "
                             "`vocabulary` and `merges` arguments when creating the layer.")

    def _lookup(self, token: str):
        return self.vocabulary.get(token)

    def get_vocabulary(self) -> list[str]:
        """The tokens, in id order."""
        self._check_vocabulary()
        return [t for t, _ in sorted(self.vocabulary.items(), key=lambda kv: kv[1])]

    def vocabulary_size(self) -> int:
        self._check_vocabulary()
        return len(self.vocabulary)

    def id_to_token(self, id) -> str:
        self._check_vocabulary()
        if id not in self._id_to_token:
            raise ValueError(f"`id` must be in range [0, {self.vocabulary_size() - 1}]. Received: {id}")
        return self._id_to_token[id]

    def token_to_id(self, token: str) -> int:
        self._check_vocabulary()
        if token not in self.vocabulary:
            raise ValueError(f"Token '{token}' is not in the vocabulary.")
        return self.vocabulary[token]

    # ----- tokenize -----------------------------------------------------------------------------
    def _ids(self, ranks: list[int]) -> list[int]:
        r2i = self._rank_to_id
        ids = [r2i[r] for r in ranks]
        if -1 in ids:
            bad = next(r for r in ranks if r2i[r] < 0)
            tok = self._enc.decode_single_token_bytes(bad)
            raise ValueError(f"{type(self).__name__}: the merges produce the token "
                             f"{''.join(_BYTE2UNI[b] for b in tok)!r}, which is not in the vocabulary")
        return ids

    def tokenize(self, inputs):
        """Ids (or token strings with ``dtype="string"``) of a string or (nested) list of strings."""
        self._check_vocabulary()
        flat, rebuild = flatten_strings(inputs)
        if self.add_prefix_space:
            # As the reference's ByteLevel pre-tokenizer: only where the text does not already
            # start with a space (and never for an empty text).
            flat = [t if not t or t.startswith(" ") else " " + t for t in flat]
        batch = self._enc.encode_batch(flat, allowed_special=set(self.unsplittable_tokens), disallowed_special=())
        pad = getattr(self, "pad_token_id", None) or 0
        results = []
        for ranks in batch:
            ids = self._ids(ranks)
            row = [self._id_to_token[i] for i in ids] if self.dtype == "string" else ids
            if self.sequence_length:
                fill = "" if self.dtype == "string" else pad
                row = row[: self.sequence_length] + [fill] * (self.sequence_length - len(row))
            results.append(row)
        out = rebuild(results)
        scalar = isinstance(inputs, (str, bytes, np.str_, np.bytes_)) or (
            isinstance(inputs, np.ndarray) and inputs.ndim == 0)
        if self.dtype != "string" and (scalar or self.sequence_length):
            return np.asarray(out, dtype=self.dtype)
        return out

    def detokenize(self, inputs):
        """Token ids back to text (bytes decoded as UTF-8, invalid sequences replaced)."""
        self._check_vocabulary()
        rows, batched = canonicalize_ids(inputs)
        n = len(self._id_to_rank)
        out = []
        for row in rows:
            bad = next((i for i in row if not 0 <= i < n or self._id_to_rank[i] < 0), None)
            if bad is not None:
                raise ValueError(f"`id` must be in range [0, {self.vocabulary_size() - 1}] and in the vocabulary. "
                                 f"Received: {bad}")
            out.append(self._enc.decode([int(self._id_to_rank[i]) for i in row]))
        return out if batched else out[0]

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "vocabulary": None if self.vocabulary is None else dict(self.vocabulary),
            "merges": None if self.merges is None else list(self.merges),
            "sequence_length": self.sequence_length,
            "add_prefix_space": self.add_prefix_space,
            "unsplittable_tokens": self.unsplittable_tokens,
        })
        return config
