"""Byte-level BPE tokenizers, tiktoken-identical and faster, with a trainer.

The engine is Rust (``ferrograd._core.CoreBPE``); this module holds the policy: argument
validation, tiktoken's ``allowed_special`` / ``disallowed_special`` semantics, the repair of lone
surrogates, file locations and conversions.

Example::

    from ferrograd import tokenizers
    enc = tokenizers.load_tiktoken("cl100k_base.tiktoken", encoding="cl100k_base")
    ids = enc.encode("hello world")          # [15339, 1917]
    assert enc.decode(ids) == "hello world"

    tok = tokenizers.BPETokenizer.train(open("input.txt").read(), vocab_size=1000)
    tok.save("mine.tiktoken")
"""
from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Callable, Literal, Union

from . import _core

__all__ = [
    "PRESET_PATTERNS",
    "BPETokenizer",
    "get_encoding",
    "list_presets",
    "load_gpt2",
    "load_tiktoken",
]

# name -> (pattern, special tokens, explicit n_vocab); the strings live in Rust, next to the scanner
# that must match them.
_PRESETS = {name: (pat, dict(special), n) for name, pat, special, n in _core.tokenizer_presets()}
PRESET_PATTERNS = {name: p[0] for name, p in _PRESETS.items()}

_SpecialArg = Union[Literal["all"], AbstractSet[str], Collection[str]]


def list_presets() -> list[str]:
    """Names of the built-in encodings: gpt2, r50k_base, p50k_base, cl100k_base, o200k_base."""
    return list(_PRESETS)


def _resolve_pattern(pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"pattern must be a preset name or a regex string. Received: pattern={pattern!r}")
    return _PRESETS[pattern][0] if pattern in _PRESETS else pattern


def _fix_surrogates(text: str) -> str:
    # Same repair as tiktoken: join valid surrogate pairs, replace lone surrogates with U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _check_text(text: object, arg: str = "text") -> None:
    if not isinstance(text, str):
        raise TypeError(f"{arg} must be a str. Received: {arg} of type {type(text).__name__}")


def _raise_disallowed(token: str) -> None:
    raise ValueError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        "If you want this text to be encoded as a special token, "
        f"pass it to `allowed_special`, e.g. `allowed_special={{{token!r}, ...}}`.\n"
        "If you want this text to be encoded as normal text, disable the check for this token "
        f"by passing `disallowed_special=(enc.special_tokens_set - {{{token!r}}})`.\n"
        "To disable this check for all special tokens, pass `disallowed_special=()`.\n"
    )


def _set_threads(num_threads: int | None) -> None:
    if num_threads is None:
        return
    if not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive int. Received: num_threads={num_threads!r}")
    if _core.get_num_threads() != num_threads:
        _core.set_num_threads(num_threads)


class BPETokenizer:
    """A byte-level BPE encoding with tiktoken's API and output.

    Args:
        mergeable_ranks: ``{token bytes: rank}`` with ranks ``0..n`` and all 256 single bytes.
        pattern: a preset name (``"cl100k_base"``, ``"o200k_base"``, ``"r50k_base"``, ``"p50k_base"``,
            ``"gpt2"``) or any regex (fancy-regex syntax, as tiktoken).
        special_tokens: ``{text: id}``; ids must not collide with mergeable ranks.
        name: the encoding's name.
        fast: use the hand-written scanner for preset patterns (``False`` forces the regex engine;
            both give the same pieces).

    Thread safety: one instance can be used from many threads at once; the GIL is released while
    encoding and decoding.
    """

    def __init__(
        self,
        mergeable_ranks: dict[bytes, int],
        pattern: str = "cl100k_base",
        special_tokens: dict[str, int] | None = None,
        name: str = "custom",
        fast: bool = True,
    ) -> None:
        if not isinstance(mergeable_ranks, dict):
            raise TypeError(
                f"mergeable_ranks must be a dict of bytes -> int. Received: {type(mergeable_ranks).__name__}"
            )
        specials = self._check_specials(special_tokens)
        core = _core.CoreBPE.from_ranks(
            name, list(mergeable_ranks.items()), _resolve_pattern(pattern), specials, fast
        )
        self._init(core)

    @staticmethod
    def _check_specials(special_tokens: dict[str, int] | None) -> list[tuple[str, int]]:
        if special_tokens is None:
            return []
        if not isinstance(special_tokens, dict):
            raise TypeError(f"special_tokens must be a dict of str -> int. Received: {special_tokens!r}")
        return list(special_tokens.items())

    def _init(self, core: _core.CoreBPE) -> None:
        self._core = core
        self._special_tokens = dict(core.special_tokens())
        self.special_tokens_set = frozenset(self._special_tokens)

    @classmethod
    def _from_core(cls, core: _core.CoreBPE) -> BPETokenizer:
        self = cls.__new__(cls)
        self._init(core)
        return self

    def __repr__(self) -> str:
        return f"<BPETokenizer {self.name!r} n_vocab={self.n_vocab}>"

    def __reduce__(self):
        """Pickles by value (ranks, pattern, special tokens, name), so spawned workers can use it."""
        return (
            BPETokenizer,
            (self.mergeable_ranks, self.pattern, self.special_tokens, self.name, self._core.is_fast),
        )

    # ----- properties -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The encoding's name."""
        return self._core.name

    @property
    def pattern(self) -> str:
        """The pre-tokenization regex."""
        return self._core.pattern

    @property
    def n_vocab(self) -> int:
        """One more than the largest token id (mergeable or special)."""
        return self._core.n_vocab

    @property
    def eot_token(self) -> int:
        """The id of ``<|endoftext|>`` (KeyError if the encoding has none, as in tiktoken)."""
        return self._special_tokens["<|endoftext|>"]

    @property
    def special_tokens(self) -> dict[str, int]:
        """A copy of ``{special token text: id}``."""
        return dict(self._special_tokens)

    @property
    def mergeable_ranks(self) -> dict[bytes, int]:
        """A copy of ``{token bytes: rank}`` for the mergeable tokens."""
        return self._core.mergeable_ranks()

    def token_byte_values(self) -> list[bytes]:
        """The bytes of every mergeable token, sorted (as tiktoken returns them)."""
        return sorted(self._core.token_byte_values())

    def is_special_token(self, token: int) -> bool:
        """Whether ``token`` is a special token id."""
        return token in self._special_tokens.values()

    # ----- encoding ---------------------------------------------------------------------------
    def _allowed(self, allowed_special: _SpecialArg) -> tuple[bool, set[str] | None]:
        if allowed_special == "all":
            return True, None
        if isinstance(allowed_special, str):
            raise TypeError(f"allowed_special must be 'all' or a set of str. Received: {allowed_special!r}")
        return False, set(allowed_special)

    def _check_disallowed(self, text: str, allowed_special: _SpecialArg, disallowed_special: _SpecialArg) -> None:
        if disallowed_special == "all":
            allowed_all, allowed = self._allowed(allowed_special)
            if allowed_all:
                return
            disallowed = set(self.special_tokens_set) - (allowed or set())
        elif isinstance(disallowed_special, str):
            raise TypeError(f"disallowed_special must be 'all' or a set of str. Received: {disallowed_special!r}")
        else:
            disallowed = set(disallowed_special)
        if disallowed:
            found = self._core.find_disallowed(text, False, disallowed)
            if found is not None:
                _raise_disallowed(found)

    def encode_ordinary(self, text: str) -> list[int]:
        """Encodes ``text`` treating special-token text as ordinary text."""
        _check_text(text)
        try:
            return self._core.encode_ordinary(text)
        except UnicodeEncodeError:
            return self._core.encode_ordinary(_fix_surrogates(text))

    def encode(
        self,
        text: str,
        *,
        allowed_special: _SpecialArg = frozenset(),
        disallowed_special: _SpecialArg = "all",
    ) -> list[int]:
        """Encodes ``text`` with tiktoken's special-token semantics.

        Special tokens in ``allowed_special`` (or all of them with ``"all"``) become their ids.
        Text matching a special token in ``disallowed_special`` (by default every special token
        that is not allowed) raises ValueError naming the token. Tokens in neither set are
        encoded as ordinary text.
        """
        _check_text(text)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _fix_surrogates(text)
        self._check_disallowed(text, allowed_special, disallowed_special)
        allowed_all, allowed = self._allowed(allowed_special)
        return self._core.encode(text, allowed_all, allowed)

    def encode_to_numpy(
        self,
        text: str,
        *,
        allowed_special: _SpecialArg = frozenset(),
        disallowed_special: _SpecialArg = "all",
    ):
        """Like :meth:`encode`, returning a ``numpy.uint32`` array."""
        _check_text(text)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _fix_surrogates(text)
        self._check_disallowed(text, allowed_special, disallowed_special)
        allowed_all, allowed = self._allowed(allowed_special)
        return self._core.encode_to_numpy(text, allowed_all, allowed)

    def encode_bytes(self, data: bytes) -> list[int]:
        """Encodes raw bytes (which need not be UTF-8), as tiktoken's ``_encode_bytes``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes. Received: {type(data).__name__}")
        return self._core.encode_bytes(bytes(data))

    def _prepare_batch(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of str, not a single str")
        out = []
        for t in texts:
            _check_text(t, "each text")
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                t = _fix_surrogates(t)
            out.append(t)
        return out

    def encode_ordinary_batch(self, texts: Sequence[str], *, num_threads: int | None = None) -> list[list[int]]:
        """Encodes many texts in parallel in Rust.

        ``num_threads``, when given, resizes ferrograd's shared thread pool
        (see ``ferrograd.set_num_threads``); the default keeps its current size.
        """
        _set_threads(num_threads)
        return self._core.encode_batch(self._prepare_batch(texts), False, None)

    def encode_batch(
        self,
        texts: Sequence[str],
        *,
        num_threads: int | None = None,
        allowed_special: _SpecialArg = frozenset(),
        disallowed_special: _SpecialArg = "all",
    ) -> list[list[int]]:
        """Encodes many texts in parallel with :meth:`encode`'s special-token semantics."""
        _set_threads(num_threads)
        texts = self._prepare_batch(texts)
        for t in texts:
            self._check_disallowed(t, allowed_special, disallowed_special)
        allowed_all, allowed = self._allowed(allowed_special)
        return self._core.encode_batch(texts, allowed_all, allowed)

    def encode_single_token(self, text_or_bytes: str | bytes) -> int:
        """The id of a text or byte string that is exactly one token (KeyError otherwise)."""
        if isinstance(text_or_bytes, str):
            text_or_bytes = text_or_bytes.encode("utf-8")
        return self._core.encode_single_token(text_or_bytes)

    def pretokenize(self, text: str) -> list[str]:
        """The pieces the pre-tokenization pattern splits ``text`` into (before merging)."""
        _check_text(text)
        return self._core.pretokenize(text)

    # ----- decoding ---------------------------------------------------------------------------
    def decode_bytes(self, tokens: Sequence[int]) -> bytes:
        """The bytes of ``tokens``; unknown ids raise KeyError."""
        return self._core.decode_bytes(list(tokens))

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Decodes ``tokens`` to text; ``errors`` is passed to ``bytes.decode`` (default "replace")."""
        return self._core.decode_bytes(list(tokens)).decode("utf-8", errors=errors)

    def decode_single_token_bytes(self, token: int) -> bytes:
        """The bytes of one token; unknown ids raise KeyError."""
        return self._core.decode_single_token_bytes(token)

    def decode_tokens_bytes(self, tokens: Sequence[int]) -> list[bytes]:
        """The bytes of each token."""
        return [self._core.decode_single_token_bytes(t) for t in tokens]

    def decode_bytes_batch(self, batch: Sequence[Sequence[int]]) -> list[bytes]:
        """Decodes many id lists to bytes, in parallel."""
        return self._core.decode_bytes_batch([list(b) for b in batch])

    def decode_batch(self, batch: Sequence[Sequence[int]], errors: str = "replace") -> list[str]:
        """Decodes many id lists to text."""
        return [b.decode("utf-8", errors=errors) for b in self.decode_bytes_batch(batch)]

    # ----- files and conversion ---------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Writes the mergeable ranks in tiktoken's ``.tiktoken`` format (atomically).

        Special tokens and the pattern are not part of that format; keep them with
        :func:`load_tiktoken`'s ``encoding``/``pattern``/``special_tokens`` arguments.
        """
        self._core.save(os.fspath(path))

    def to_tiktoken(self):
        """The same encoding as a ``tiktoken.Encoding`` (requires tiktoken)."""
        import tiktoken

        return tiktoken.Encoding(
            name=self.name,
            pat_str=self.pattern,
            mergeable_ranks=self.mergeable_ranks,
            special_tokens=self.special_tokens,
        )

    # ----- training ---------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        data: str | Iterable[str],
        vocab_size: int,
        pattern: str = "cl100k_base",
        special_tokens: Sequence[str] | None = None,
        min_frequency: int = 2,
        progress: bool | Callable[[int, int], object] = False,
        name: str = "trained",
        batch_bytes: int = 8 << 20,
    ) -> BPETokenizer:
        """Learns a byte-level BPE vocabulary from text.

        Args:
            data: one text or an iterable of texts (read lazily in batches of ``batch_bytes``,
                so memory is bounded by the number of distinct pre-tokenized pieces).
            vocab_size: total number of ids, including the 256 byte tokens and the special tokens.
            pattern: pre-tokenization preset name or regex.
            special_tokens: texts given the ids after the learned tokens.
            min_frequency: stop merging when the best pair occurs fewer times than this.
            progress: ``True`` for a progress line on stderr, or a callable ``f(done, total)``.
            name: the encoding's name.

        Returns:
            A :class:`BPETokenizer`; ``save()`` it as ``.tiktoken`` and tiktoken encodes identically.
        """
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
            raise TypeError(f"vocab_size must be an int. Received: vocab_size={vocab_size!r}")
        specials = list(special_tokens or [])
        if len(set(specials)) != len(specials) or not all(isinstance(s, str) and s for s in specials):
            raise ValueError(f"special_tokens must be distinct non-empty str. Received: {specials!r}")
        n_mergeable = vocab_size - len(specials)
        if n_mergeable < 256:
            raise ValueError(
                f"vocab_size must leave at least 256 ids for the byte tokens after {len(specials)} special "
                f"tokens. Received: vocab_size={vocab_size}"
            )
        if not isinstance(min_frequency, int) or min_frequency < 1:
            raise ValueError(f"min_frequency must be an int >= 1. Received: min_frequency={min_frequency!r}")
        pat = _resolve_pattern(pattern)
        trainer = _core.BPETrainer(pat)
        texts = [data] if isinstance(data, str) else data
        batch: list[str] = []
        size = 0
        for t in texts:
            _check_text(t, "each text")
            try:
                t.encode("utf-8")
            except UnicodeEncodeError:
                t = _fix_surrogates(t)
            batch.append(t)
            size += len(t)
            if size >= batch_bytes:
                trainer.feed(batch)
                batch, size = [], 0
        if batch:
            trainer.feed(batch)

        callback = None
        if callable(progress):
            callback = progress
        elif progress:
            def callback(done: int, total: int) -> None:
                end = "\n" if done >= total else "\r"
                sys.stderr.write(f"BPE training: {done}/{total} merges{end}")
                sys.stderr.flush()

        tokens = trainer.train(n_mergeable, min_frequency, callback)
        ranks = {t: i for i, t in enumerate(tokens)}
        special_map = {s: len(tokens) + i for i, s in enumerate(specials)}
        return cls(ranks, pattern=pat, special_tokens=special_map, name=name)


def _preset(encoding: str | None, pattern: str | None, special_tokens: dict[str, int] | None):
    if encoding is not None and encoding not in _PRESETS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {list(_PRESETS)} or None")
    pat = _resolve_pattern(pattern) if pattern is not None else (_PRESETS[encoding][0] if encoding else None)
    if pat is None:
        raise ValueError("pass encoding= (a preset name) or pattern= to say how text is pre-tokenized")
    specials = special_tokens if special_tokens is not None else (_PRESETS[encoding][1] if encoding else {})
    return pat, BPETokenizer._check_specials(specials)


def load_tiktoken(
    path: str | os.PathLike,
    encoding: str | None = "cl100k_base",
    *,
    pattern: str | None = None,
    special_tokens: dict[str, int] | None = None,
    name: str | None = None,
    fast: bool = True,
) -> BPETokenizer:
    """Loads a ``.tiktoken`` rank file, validating it (malformed or truncated lines, duplicate
    ranks or tokens, holes and missing byte tokens raise ValueError naming the file and line).

    ``encoding`` names the preset whose pattern and special tokens apply; ``pattern`` and
    ``special_tokens`` override it.
    """
    pat, specials = _preset(encoding, pattern, special_tokens)
    path = os.fspath(path)
    nm = name or encoding or os.path.splitext(os.path.basename(path))[0]
    return BPETokenizer._from_core(_core.CoreBPE.from_tiktoken_file(path, nm, pat, specials, fast))


def load_gpt2(
    encoder_json: str | os.PathLike,
    vocab_bpe: str | os.PathLike,
    *,
    special_tokens: dict[str, int] | None = None,
    fast: bool = True,
) -> BPETokenizer:
    """Loads GPT-2's ``encoder.json`` + ``vocab.bpe`` (the ``gpt2`` encoding), checking that the two
    files agree, as tiktoken does."""
    pat, specials = _preset("gpt2", None, special_tokens)
    core = _core.CoreBPE.from_gpt2_files(os.fspath(encoder_json), os.fspath(vocab_bpe), "gpt2", pat, specials, fast)
    return BPETokenizer._from_core(core)


def get_encoding(name: str, data_dir: str | os.PathLike | None = None) -> BPETokenizer:
    """Loads a preset from ``data_dir`` (default ``$FERROGRAD_DATA``), which holds
    ``tiktoken/<name>.tiktoken`` (or ``gpt2/encoder.json`` + ``gpt2/vocab.bpe`` for ``gpt2``)."""
    if name not in _PRESETS:
        raise ValueError(f"unknown encoding {name!r}; expected one of {list(_PRESETS)}")
    root = data_dir if data_dir is not None else os.environ.get("FERROGRAD_DATA")
    if root is None:
        raise ValueError("no data_dir given and FERROGRAD_DATA is not set")
    if name == "gpt2":
        return load_gpt2(os.path.join(root, "gpt2", "encoder.json"), os.path.join(root, "gpt2", "vocab.bpe"))
    return load_tiktoken(os.path.join(root, "tiktoken", f"{name}.tiktoken"), encoding=name)
