"""``ferrograd.hub``: a mirror of ``keras_hub`` (its names, arguments, weights and configs) on
ferrograd's engine. ``python -m ferrograd.keras_compat`` maps ``keras_hub`` here, so a keras_hub
script built from layers and samplers runs as written.

- :mod:`ferrograd.hub.layers`: TransformerEncoder/Decoder, CachedMultiHeadAttention, the
  position and token embeddings, RotaryEmbedding, MaskedLMHead, MaskedLMMaskGenerator; SwiGLU,
  MixtureOfExperts, ClassToken and PatchEmbedding (ferrograd's own);
- :mod:`ferrograd.hub.samplers`: greedy, random, top-k, top-p and beam decoding;
- :mod:`ferrograd.hub.tokenizers`: WordPieceTokenizer and BertTokenizer (ids identical to Hugging
  Face ``tokenizers``), BytePairTokenizer (GPT-2 vocab.json + merges.txt on the Rust BPE);
- :mod:`ferrograd.hub.models`: backbones and tasks (BERT), ``from_preset`` on local Hugging Face
  checkpoint folders, and the semantic-search helpers ``mean_pool``, ``l2_normalize`` and
  ``cosine_top_k`` (also exported here).
"""
from . import layers, models, samplers, tokenizers
from .models.semantic import cosine_top_k, l2_normalize, mean_pool

__all__ = ["cosine_top_k", "l2_normalize", "layers", "mean_pool", "models", "samplers", "tokenizers"]
