"""The training package: what ``Model.fit`` / ``evaluate`` / ``predict`` are made of.

- :mod:`.data_adapters`: arrays, generators/iterators and ``keras.utils.PyDataset`` as batches;
  ``validation_split``, ``class_weight`` and the ``(x, y, sample_weight)`` packing.
- :mod:`.epoch_iterator`: the steps of an epoch (``steps_per_epoch`` / ``validation_steps``).
- :mod:`.compile_utils`: the compiled loss over outputs and the compiled metrics.
- :mod:`.trainer`: the :class:`Trainer` mixin of :class:`ferrograd.Model`: compile, the loops firing
  the callback hooks in Keras order, and the override points ``train_step`` / ``test_step`` /
  ``predict_step`` / ``compute_loss`` / ``compute_metrics`` / ``metrics``.
"""
from .compile_utils import CompileLoss, CompileMetrics
from .data_adapters import ArrayDataAdapter, DataAdapter, GeneratorDataAdapter, PyDatasetAdapter, get_data_adapter
from .epoch_iterator import EpochIterator
from .trainer import Trainer

__all__ = ["Trainer", "EpochIterator", "DataAdapter", "ArrayDataAdapter", "GeneratorDataAdapter",
           "PyDatasetAdapter", "get_data_adapter", "CompileLoss", "CompileMetrics"]
