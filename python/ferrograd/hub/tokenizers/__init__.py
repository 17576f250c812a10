"""``keras_hub.tokenizers``: WordPiece (BERT) and byte-pair (GPT-2) tokenizers with keras_hub's
names, arguments and defaults, on ferrograd's Rust tokenizers.

- :class:`WordPieceTokenizer` / :class:`BertTokenizer`: ids identical to Hugging Face
  ``tokenizers``' BERT pipeline; ``BertTokenizer.from_preset(folder)`` reads a local checkpoint.
- :class:`BytePairTokenizer`: GPT-2's ``vocab.json`` + ``merges.txt`` on the tiktoken-identical BPE.
"""
from .bert import BertTokenizer
from .byte_pair import BytePairTokenizer
from .tokenizer import Tokenizer
from .word_piece import WordPieceTokenizer

__all__ = ["BertTokenizer", "BytePairTokenizer", "Tokenizer", "WordPieceTokenizer"]
