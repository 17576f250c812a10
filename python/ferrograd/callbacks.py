"""Callbacks (``keras.callbacks``): hooks called by the fit/evaluate/predict loops in Keras order."""
from __future__ import annotations

import sys
import time

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "LambdaCallback", "TerminateOnNaN"]


class Callback:
    """Base class; override the hooks you need. ``self.model`` is set by the loop."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


class CallbackList(Callback):
    """Dispatches every hook to a list of callbacks, in order."""

    def __init__(self, callbacks=None, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattribute__(self, name):
        if name.startswith("on_"):
            cbs = object.__getattribute__(self, "callbacks")

            def dispatch(*args, **kwargs):
                for c in cbs:
                    getattr(c, name)(*args, **kwargs)

            return dispatch
        return object.__getattribute__(self, name)


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` and so on."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


def _fmt_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Keras-style progress: redraws in place on a terminal (verbose=1), one line per epoch otherwise."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self._tty = sys.stdout.isatty()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._last = 0.0
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1 and self._tty:
            now = time.perf_counter()
            steps = self.params.get("steps")
            if now - self._last > 0.05 or batch + 1 == steps:
                self._last = now
                per = (now - self._t0) / (batch + 1)
                eta = per * (steps - batch - 1) if steps else 0.0
                line = f"\r{batch + 1}/{steps} - ETA: {eta:.0f}s - {per * 1e3:.0f}ms/step - {_fmt_logs(logs or {})}"
                sys.stdout.write(line)
                sys.stdout.flush()

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        dt = time.perf_counter() - self._t0
        steps = self.params.get("steps") or 1
        line = f"{steps}/{steps} - {dt:.0f}s - {dt / steps * 1e3:.0f}ms/step - {_fmt_logs(logs or {})}"
        sys.stdout.write(("\r" if self._tty and self.verbose == 1 else "") + line + "\n")
        sys.stdout.flush()


class LambdaCallback(Callback):
    """Callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                             on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                             on_train_batch_end=on_train_batch_end, **kwargs).items():
            if fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (loss != loss or loss in (float("inf"), float("-inf"))):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
