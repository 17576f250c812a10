"""``ferrograd.hub``: a mirror of ``keras_hub`` (its names, arguments, weights and configs) on
ferrograd's engine. ``python -m ferrograd.keras_compat`` maps ``keras_hub`` here, so a keras_hub
script built from layers and samplers runs as written.

- :mod:`ferrograd.hub.layers`: TransformerEncoder/Decoder, CachedMultiHeadAttention, the
  position and token embeddings, RotaryEmbedding, MaskedLMHead, MaskedLMMaskGenerator; SwiGLU,
  MixtureOfExperts, ClassToken and PatchEmbedding (ferrograd's own);
- :mod:`ferrograd.hub.samplers`: greedy, random, top-k, top-p and beam decoding.
"""
from . import layers, samplers

__all__ = ["layers", "samplers"]
