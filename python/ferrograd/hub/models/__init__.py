"""``keras_hub.models``: backbones and tasks with keras_hub's names, arguments and configs, and
``from_preset`` on local Hugging Face checkpoint folders (never a download).

- ``Backbone``/``Task``: the base classes (functional models configured by their constructor);
- ``BertBackbone``, ``BertMaskedLM``, ``BertTextClassifier`` (alias ``BertClassifier``);
- ``GPT2Backbone``, ``GPT2CausalLM`` (KV-cache ``generate`` with the samplers), ``GPT2Tokenizer``,
  ``GPT2CausalLMPreprocessor``;
- ``ViTBackbone``, ``ViTImageClassifier``;
- sentence embeddings and search (``semantic.py``): ``mean_pool``, ``l2_normalize``, ``cosine_top_k``.
"""
from .backbone import Backbone, Task
from .bert import BertBackbone, BertClassifier, BertMaskedLM, BertTextClassifier
from .gpt2 import GPT2Backbone, GPT2CausalLM
from .gpt2_preprocessor import GPT2CausalLMPreprocessor, GPT2Tokenizer
from .semantic import cosine_top_k, l2_normalize, mean_pool
from .vit import ViTBackbone, ViTImageClassifier

__all__ = ["Backbone", "BertBackbone", "BertClassifier", "BertMaskedLM", "BertTextClassifier", "GPT2Backbone",
           "GPT2CausalLM", "GPT2CausalLMPreprocessor", "GPT2Tokenizer", "Task", "ViTBackbone", "ViTImageClassifier",
           "cosine_top_k", "l2_normalize", "mean_pool"]
