"""``keras.callbacks.SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's
moving-average weights while training the raw ones."""
from __future__ import annotations

from . import _core, ops
from .callbacks import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's exponential moving averages (``use_ema=True``)
    before evaluation and prediction and back afterwards; with ``swap_on_epoch=True`` also at each
    epoch's end and back at the next epoch's start, so callbacks such as ``ModelCheckpoint`` see the
    averaged weights. The swap is in place and exact (values are exchanged, not recomputed).

    Example::

        model.compile(optimizer=keras.optimizers.SGD(use_ema=True), loss="mse")
        model.fit(x, y, validation_data=(xv, yv), callbacks=[keras.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self):
        opt = self.model.optimizer
        if not getattr(opt, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                             f"Received: use_ema={getattr(opt, 'use_ema', None)}")
        return opt

    def _swap(self):
        opt = self._optimizer()
        prev = _core.set_grad_enabled(False)
        try:
            for v, avg in opt._averages.values():
                held = ops.copy(v)
                v.assign(avg)
                avg.assign(held)
        finally:
            _core.set_grad_enabled(prev)

    def _finalize(self):
        """The averages take the (swapped-in) model values again, so ``fit``'s final
        ``finalize_variable_values`` leaves the averaged weights in the model."""
        opt = self._optimizer()
        prev = _core.set_grad_enabled(False)
        try:
            for v, avg in opt._averages.values():
                avg.assign(v)
        finally:
            _core.set_grad_enabled(prev)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:
                self._finalize()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        # Keras 3.15 tests `not self._ema_weights_in_model` here, so its predict leaves the
        # averages in the model; this swaps back, as on_test_end does
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False
