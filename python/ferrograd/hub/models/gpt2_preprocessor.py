"""GPT-2's text side, as keras_hub 0.32: ``GPT2Tokenizer`` (byte-level BPE with ``<|endoftext|>``
as start, end and stop token, padding id 0) and ``GPT2CausalLMPreprocessor`` (strings to
``{"token_ids", "padding_mask"}`` and back), which give ``GPT2CausalLM.generate`` its string path.

Packing (keras_hub's StartEndPacker): ``[<|endoftext|>] + ids [+ <|endoftext|>]``, truncated to
``sequence_length`` (the end token kept when it is added), then right-padded with 0; the padding
mask is 1 on the packed tokens. Training: ``x, y, sample_weight = preprocessor(texts)`` packs to
``sequence_length + 1`` tokens and shifts by one (``y`` the next token, weighted by the mask).
"""
from __future__ import annotations

import pathlib

import numpy as np

from ..tokenizers import BytePairTokenizer
from .preset import check_preset_directory

__all__ = ["GPT2CausalLMPreprocessor", "GPT2Tokenizer"]


class GPT2Tokenizer(BytePairTokenizer):
    """GPT-2's byte-level BPE tokenizer (keras_hub's ``GPT2Tokenizer``): ``<|endoftext|>`` is the
    start, end and unsplittable token; ``pad_token_id`` is 0.

    Example::

        tokenizer = GPT2Tokenizer.from_preset("path/to/gpt2")   # vocab.json + merges.txt
        tokenizer("The quick brown fox.")

    Args: ``vocabulary`` ({token: id} or a vocab.json path), ``merges`` (rules or a merges.txt
    path) and the other arguments of :class:`~ferrograd.hub.tokenizers.BytePairTokenizer`.
    """

    def __init__(self, vocabulary=None, merges=None, **kwargs):
        self._add_special_token("<|endoftext|>", "end_token")
        self._add_special_token("<|endoftext|>", "start_token")
        self.pad_token_id = 0
        super().__init__(vocabulary=vocabulary, merges=merges, **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """The tokenizer of a local Hugging Face GPT-2 folder (``vocab.json`` and ``merges.txt``)."""
        directory = pathlib.Path(check_preset_directory(preset, cls.__name__))
        for name in ("vocab.json", "merges.txt"):
            if not (directory / name).is_file():
                raise ValueError(f"{cls.__name__}.from_preset: {directory / name} is missing (a Hugging Face GPT-2 "
                                 "folder holds vocab.json and merges.txt)")
        return cls(vocabulary=str(directory / "vocab.json"), merges=str(directory / "merges.txt"), **kwargs)


def _pack(rows, sequence_length, start, end, pad):
    """(token_ids (B, L), padding_mask (B, L)) of id lists packed as keras_hub's StartEndPacker."""
    packed = []
    for ids in rows:
        ids = list(ids)
        if start is not None:
            ids = [start] + ids
        if end is not None:
            ids = ids[:sequence_length - 1] + [end] if sequence_length is not None else ids + [end]
        packed.append(ids if sequence_length is None else ids[:sequence_length])
    width = sequence_length if sequence_length is not None else max(len(r) for r in packed)
    token_ids = np.full((len(packed), width), pad, np.int32)
    mask = np.zeros((len(packed), width), bool)
    for i, ids in enumerate(packed):
        token_ids[i, :len(ids)] = ids
        mask[i, :len(ids)] = True
    return token_ids, mask


class GPT2CausalLMPreprocessor:
    """Strings to GPT-2 inputs and back (keras_hub's ``GPT2CausalLMPreprocessor``).

    Example::

        pre = GPT2CausalLMPreprocessor(GPT2Tokenizer.from_preset(folder), sequence_length=64)
        x, y, sample_weight = pre(["a text", "another"])          # training batch
        lm = GPT2CausalLM(backbone, preprocessor=pre)
        lm.generate("The weather", max_length=30)                  # -> a string

    Args:
        tokenizer: a :class:`GPT2Tokenizer`.
        sequence_length: packed length of a training batch (1024).
        add_start_token, add_end_token: pack ``<|endoftext|>`` before / after each text (True).
    """

    def __init__(self, tokenizer, sequence_length=1024, add_start_token=True, add_end_token=True):
        if not isinstance(tokenizer, GPT2Tokenizer):
            raise TypeError(f"GPT2CausalLMPreprocessor: `tokenizer` must be a GPT2Tokenizer. Received: "
                            f"{type(tokenizer).__name__}")
        if isinstance(sequence_length, bool) or not isinstance(sequence_length, int) or sequence_length < 2:
            raise ValueError(f"GPT2CausalLMPreprocessor: `sequence_length` must be an integer >= 2. Received: "
                             f"sequence_length={sequence_length!r}")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.add_start_token = bool(add_start_token)
        self.add_end_token = bool(add_end_token)

    def _ids(self, x):
        if isinstance(x, str):
            x = [x]
        if not isinstance(x, (list, tuple)) or not all(isinstance(s, str) for s in x):
            raise TypeError(f"GPT2CausalLMPreprocessor takes a string or a list of strings. Received: {type(x)}")
        ids = self.tokenizer.tokenize(list(x))
        return [list(r) for r in ids]

    def __call__(self, x, y=None, sample_weight=None, sequence_length=None):
        """``(x, y, sample_weight)`` for training: the texts packed to ``sequence_length + 1`` tokens,
        ``x`` all but the last, ``y`` all but the first, weighted by the mask."""
        if y is not None or sample_weight is not None:
            raise ValueError("GPT2CausalLMPreprocessor makes its own labels (the next token); pass texts only")
        length = (sequence_length or self.sequence_length) + 1
        tok = self.tokenizer
        token_ids, mask = _pack(self._ids(x), length, tok.start_token_id if self.add_start_token else None,
                                tok.end_token_id if self.add_end_token else None, tok.pad_token_id)
        return ({"token_ids": token_ids[:, :-1], "padding_mask": mask[:, :-1]}, token_ids[:, 1:],
                mask[:, 1:].astype(np.float32))

    def generate_preprocess(self, x, sequence_length=None):
        """Prompts: the start token and the text's ids (no end token), padded to ``sequence_length``."""
        tok = self.tokenizer
        token_ids, mask = _pack(self._ids(x), sequence_length,
                                tok.start_token_id if self.add_start_token else None, None, tok.pad_token_id)
        return {"token_ids": token_ids, "padding_mask": mask}

    def generate_postprocess(self, x):
        """Texts of ``{"token_ids", "padding_mask"}``: the masked tokens, special tokens removed."""
        token_ids = np.asarray(x["token_ids"])
        mask = np.asarray(x["padding_mask"]).astype(bool)
        special = set(self.tokenizer.special_token_ids)
        rows = [[int(t) for t, keep in zip(ids, m) if keep and int(t) not in special]
                for ids, m in zip(token_ids, mask)]
        return [self.tokenizer.detokenize(r) if r else "" for r in rows]

    def get_config(self):
        return {"tokenizer": {"class_name": "GPT2Tokenizer", "config": self.tokenizer.get_config()},
                "sequence_length": self.sequence_length, "add_start_token": self.add_start_token,
                "add_end_token": self.add_end_token}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        tok = config.pop("tokenizer")
        if isinstance(tok, dict):
            if tok.get("class_name") != "GPT2Tokenizer":
                raise ValueError(f"GPT2CausalLMPreprocessor: unknown tokenizer class {tok.get('class_name')!r}")
            tok = GPT2Tokenizer.from_config(tok["config"])
        return cls(tok, **config)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """The preprocessor of a local Hugging Face GPT-2 folder (its vocab.json and merges.txt)."""
        return cls(GPT2Tokenizer.from_preset(preset), **kwargs)
