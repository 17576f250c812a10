"""``keras_hub.tokenizers.BertTokenizer``: a WordPiece tokenizer that checks for BERT's special
tokens and loads a local Hugging Face checkpoint folder with ``from_preset``."""
from __future__ import annotations

import json
import os

from .word_piece import WordPieceTokenizer

__all__ = ["BertTokenizer"]


def _read_json(path: str, owner: str) -> dict | None:
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{owner}: {path!r} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{owner}: {path!r} must hold a JSON object. Received: {type(data).__name__}")
    return data


def _bert_normalizer(tokenizer_json: dict | None) -> dict | None:
    """The BertNormalizer entry of a tokenizer.json (directly or inside a Sequence)."""
    if not tokenizer_json:
        return None
    norm = tokenizer_json.get("normalizer")
    stack = [norm]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if n.get("type") == "BertNormalizer":
                return n
            stack.extend(n.get("normalizers") or [])
    return None


class BertTokenizer(WordPieceTokenizer):
    """BERT's tokenizer: a :class:`WordPieceTokenizer` whose vocabulary must hold ``[CLS]``, ``[SEP]``,
    ``[PAD]``, ``[MASK]`` and ``[UNK]``; their ids are ``cls_token_id``, ``sep_token_id``,
    ``pad_token_id``, ``mask_token_id`` (``start_token_id`` / ``end_token_id`` are [CLS] / [SEP]).

    Like keras_hub's, it does not add [CLS]/[SEP] itself (a preprocessor does).

    Args:
        vocabulary: a list of tokens or a ``vocab.txt`` path.
        lowercase: lowercase the input (uncased checkpoints).
        strip_accents: remove accents; ``None`` (default) follows ``lowercase``, as BERT's
            uncased checkpoints and Hugging Face's BertNormalizer do. keras_hub leaves accents
            unless told, which turns accented words into ``[UNK]`` with an uncased vocabulary.
        **kwargs: the other :class:`WordPieceTokenizer` arguments.
    """

    def __init__(self, vocabulary=None, lowercase=False, strip_accents=None, **kwargs) -> None:
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[PAD]", "pad_token")
        self._add_special_token("[MASK]", "mask_token")
        self._add_special_token("[CLS]", "start_token")
        self._add_special_token("[SEP]", "end_token")
        self._strip_accents_arg = strip_accents
        if strip_accents is None:
            strip_accents = bool(lowercase) if isinstance(lowercase, bool) else lowercase
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, strip_accents=strip_accents, **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["strip_accents"] = self._strip_accents_arg
        return config

    @classmethod
    def from_preset(cls, preset, **kwargs) -> BertTokenizer:
        """Loads ``vocab.txt`` from a local Hugging Face BERT folder; never downloads.

        The casing comes from ``tokenizer.json``'s BertNormalizer (``lowercase``, ``strip_accents``,
        ``handle_chinese_chars``) when present, else from ``tokenizer_config.json``
        (``do_lower_case``, ``strip_accents``, ``tokenize_chinese_chars``); ``kwargs`` override
        both (e.g. ``sequence_length=128``).
        """
        owner = f"{cls.__name__}.from_preset"
        if not isinstance(preset, (str, os.PathLike)):
            raise TypeError(f"{owner}: preset must be a directory path. Received: {type(preset).__name__}")
        folder = os.fspath(preset)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{owner}: {folder!r} is not a local directory (ferrograd reads Hugging Face "
                                    "checkpoint folders and never downloads presets)")
        vocab = os.path.join(folder, "vocab.txt")
        if not os.path.isfile(vocab):
            raise FileNotFoundError(f"{owner}: {vocab!r} does not exist; a BERT checkpoint folder needs its "
                                    "vocab.txt")
        args: dict = {}
        tok_json = _read_json(os.path.join(folder, "tokenizer.json"), owner)
        norm = _bert_normalizer(tok_json)
        config = _read_json(os.path.join(folder, "tokenizer_config.json"), owner) or {}
        if norm is not None:
            args["lowercase"] = bool(norm.get("lowercase", True))
            if norm.get("strip_accents") is not None:
                args["strip_accents"] = bool(norm["strip_accents"])
            args["split_on_cjk"] = bool(norm.get("handle_chinese_chars", True))
        else:
            if "do_lower_case" in config:
                args["lowercase"] = bool(config["do_lower_case"])
            if config.get("strip_accents") is not None:
                args["strip_accents"] = bool(config["strip_accents"])
            if "tokenize_chinese_chars" in config:
                args["split_on_cjk"] = bool(config["tokenize_chinese_chars"])
        model = (tok_json or {}).get("model") or {}
        if model.get("type") == "WordPiece":
            if isinstance(model.get("continuing_subword_prefix"), str):
                args["suffix_indicator"] = model["continuing_subword_prefix"]
            if isinstance(model.get("unk_token"), str):
                args["oov_token"] = model["unk_token"]
        args.update(kwargs)
        return cls(vocabulary=vocab, **args)
