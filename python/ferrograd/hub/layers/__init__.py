"""``keras_hub.layers``: transformer blocks, embeddings and masked-LM pieces (keras_hub's names,
arguments, weights and configs), plus blocks of ferrograd's own design (SwiGLU, MixtureOfExperts,
ClassToken, PatchEmbedding)."""
from .blocks import ClassToken, MixtureOfExperts, PatchEmbedding, SwiGLU
from .cached_attention import CachedMultiHeadAttention
from .embeddings import (
    PositionEmbedding,
    ReversibleEmbedding,
    RotaryEmbedding,
    SinePositionEncoding,
    TokenAndPositionEmbedding,
)
from .masked_lm import MaskedLMHead, MaskedLMMaskGenerator
from .transformer import TransformerDecoder, TransformerEncoder

__all__ = ["CachedMultiHeadAttention", "ClassToken", "MaskedLMHead", "MaskedLMMaskGenerator", "MixtureOfExperts",
           "PatchEmbedding", "PositionEmbedding", "ReversibleEmbedding", "RotaryEmbedding", "SinePositionEncoding",
           "SwiGLU", "TokenAndPositionEmbedding", "TransformerDecoder", "TransformerEncoder"]

# One-tensor layers check the input count as Keras' input_spec does (see ferrograd.layers).
# (Not MaskedLMMaskGenerator: it takes ragged lists of ids.)
for _cls in (CachedMultiHeadAttention, ClassToken, MaskedLMHead, MixtureOfExperts, PatchEmbedding, PositionEmbedding,
             ReversibleEmbedding, RotaryEmbedding, SinePositionEncoding, SwiGLU, TokenAndPositionEmbedding,
             TransformerDecoder, TransformerEncoder):
    _cls._single_input = True
del _cls
