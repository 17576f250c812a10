"""``keras_hub.models``: backbones and tasks with keras_hub's names, arguments and configs, and
``from_preset`` on local Hugging Face checkpoint folders (never a download).

- ``Backbone``/``Task``: the base classes (functional models configured by their constructor);
- ``BertBackbone``, ``BertMaskedLM``, ``BertTextClassifier`` (alias ``BertClassifier``).
"""
from .backbone import Backbone, Task
from .bert import BertBackbone, BertClassifier, BertMaskedLM, BertTextClassifier

__all__ = ["Backbone", "BertBackbone", "BertClassifier", "BertMaskedLM", "BertTextClassifier", "Task"]
