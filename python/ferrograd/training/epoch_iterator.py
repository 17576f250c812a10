"""EpochIterator: the steps of one epoch over a data adapter, with Keras 3's ``steps_per_epoch`` rules.

- Without ``steps_per_epoch`` an epoch is one full pass over the adapter (a generator of unknown
  length runs until it is exhausted).
- With ``steps_per_epoch`` the underlying iterator carries over from one epoch to the next: epoch 2
  continues where epoch 1 stopped, and a fresh pass (reshuffled) starts only once the data is used
  up. When the data runs out before ``steps_per_epoch`` steps, the epoch ends early with a warning.

Iterating yields ``(step, batch)``. ``steps_per_execution`` is 1, as on Keras' PyTorch backend.
"""
from __future__ import annotations

import warnings

__all__ = ["EpochIterator"]


class EpochIterator:
    def __init__(self, adapter, steps_per_epoch=None):
        self.data_adapter = adapter
        self.steps_per_epoch = steps_per_epoch
        self._num_batches = adapter.num_batches
        self._current_iterator = None
        self._steps_seen = 0

    @property
    def num_batches(self):
        """Steps per epoch: ``steps_per_epoch``, else the adapter's count (None while unknown)."""
        if self.steps_per_epoch:
            return self.steps_per_epoch
        return self._num_batches

    def reset(self):
        """Forgets the carried-over iterator (called once before a fit/evaluate loop, as Keras does)."""
        self._current_iterator = None
        self._num_batches = self.data_adapter.num_batches
        self._steps_seen = 0
        self.data_adapter.on_epoch_end()

    def _interrupted_warning(self):
        warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset or generator "
                      "can generate at least `steps_per_epoch * epochs` batches.", stacklevel=4)

    def __iter__(self):
        adapter = self.data_adapter
        adapter.on_epoch_begin()
        steps = self.steps_per_epoch or self._num_batches or -1
        if steps > 0:
            if self._current_iterator is None or self.steps_per_epoch is None:
                self._current_iterator = iter(adapter.get_iterator())
                self._steps_seen = 0
            it = self._current_iterator
            for step in range(steps):
                if self._num_batches and self._steps_seen >= self._num_batches:
                    if self.steps_per_epoch:
                        self._interrupted_warning()
                    break
                self._steps_seen += 1
                try:
                    batch = next(it)
                except StopIteration:
                    self._ran_out()
                    return
                yield step, batch
            if self._num_batches and self._steps_seen >= self._num_batches:
                self._current_iterator = iter(adapter.get_iterator())
                self._steps_seen = 0
        else:  # unknown length: until the data ends
            step = 0
            for batch in adapter.get_iterator():
                self._steps_seen = step + 1
                yield step, batch
                step += 1
            if self._num_batches is None:
                self._num_batches = self._steps_seen or None
        adapter.on_epoch_end()

    def _ran_out(self):
        if self._num_batches is None:
            self._num_batches = self._steps_seen - 1 or None
        if self.steps_per_epoch:
            self._interrupted_warning()
        self._current_iterator = None
        self.data_adapter.on_epoch_end()
