"""Callbacks (``keras.callbacks``): hooks called by the fit/evaluate/predict loops in Keras order."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import time
import warnings

import numpy as np

from ._fileio import atomic_write

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "LambdaCallback", "TerminateOnNaN",
           "EarlyStopping", "ModelCheckpoint", "CSVLogger", "LearningRateScheduler", "ReduceLROnPlateau",
           "BackupAndRestore", "RemoteMonitor", "TensorBoard",
           "SwapEMAWeights"]  # noqa: F822 - SwapEMAWeights: see __getattr__


class Callback:
    """Base class; override the hooks you need. ``self.model`` and ``self.params`` (``epochs``,
    ``steps``, ``verbose``) are set by the loop. ``on_batch_begin``/``on_batch_end`` are the legacy
    names: the default ``on_train_batch_begin``/``on_train_batch_end`` call them, as in Keras."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


def _pythonify_logs(logs):
    """Logs as Keras hands them to callbacks: keys sorted, nested dicts (``compile_metrics``)
    flattened, one-element tensors and NumPy scalars as Python floats."""
    if not logs:
        return {}
    out = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            out.update(_pythonify_logs(value))
            continue
        if not isinstance(value, float):
            try:
                value = float(value.item()) if getattr(value, "size", 0) == 1 else float(value)
            except (TypeError, ValueError, AttributeError):
                pass
        out[key] = value
    return out


class CallbackList(Callback):
    """Calls every hook on a list of callbacks, in order, with the logs made Python values.

    ``add_history`` / ``add_progbar`` append a :class:`History` / :class:`ProgbarLogger` after the
    user's callbacks unless one is already there (Keras' rule); ``params`` go to every callback.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.model = None
        self.callbacks = list(callbacks) if callbacks else []
        self._history = self._progbar = None
        for c in self.callbacks:
            if self._history is None and isinstance(c, History):
                self._history = c
            elif self._progbar is None and isinstance(c, ProgbarLogger):
                self._progbar = c
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        self.params = params
        if params:
            for c in self.callbacks:
                c.set_params(params)

    def _call(self, hook, *args):
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, _pythonify_logs(logs))

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, _pythonify_logs(logs))

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", _pythonify_logs(logs))

    def on_train_end(self, logs=None):
        self._call("on_train_end", _pythonify_logs(logs))

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, _pythonify_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, _pythonify_logs(logs))

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, _pythonify_logs(logs))

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, _pythonify_logs(logs))

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", _pythonify_logs(logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", _pythonify_logs(logs))

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, _pythonify_logs(logs))

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, _pythonify_logs(logs))

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", _pythonify_logs(logs))

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", _pythonify_logs(logs))

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, _pythonify_logs(logs))

    def on_predict_batch_end(self, batch, logs=None):
        # {"outputs": batch outputs} is handed over as is (no float conversion of one-element outputs)
        self._call("on_predict_batch_end", batch, logs if logs is not None else {})


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
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Keras-style progress: redraws in place on a terminal (verbose=1), one line per epoch otherwise
    (verbose=2, or output that is not a terminal). Also reports ``evaluate`` and ``predict`` when
    they run on their own (not as ``fit``'s validation)."""

    def __init__(self, verbose=None):
        super().__init__()
        self.verbose = 1 if verbose in (None, "auto") else verbose
        self._tty = sys.stdout.isatty()
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", self.verbose)
        self.verbose = 1 if verbose in (None, "auto") else verbose

    def _start(self):
        self._t0 = time.perf_counter()
        self._last = 0.0
        self._seen = 0

    def _update(self, batch, logs):
        self._seen = batch + 1
        if self.verbose == 1 and self._tty:
            now = time.perf_counter()
            steps = self.params.get("steps")
            if now - self._last > 0.05 or batch + 1 == steps:
                self._last = now
                per = (now - self._t0) / (batch + 1)
                eta = f" - ETA: {per * (steps - batch - 1):.0f}s" if steps else ""
                line = f"\r{batch + 1}/{steps or '?'}{eta} - {per * 1e3:.0f}ms/step - {_fmt_logs(logs or {})}"
                sys.stdout.write(line)
                sys.stdout.flush()

    def _finish(self, logs):
        dt = time.perf_counter() - self._t0
        steps = self.params.get("steps") or self._seen or 1
        done = self._seen or steps
        tail = f" - {_fmt_logs(logs)}" if logs else ""
        line = f"{done}/{steps} - {dt:.0f}s - {dt / max(done, 1) * 1e3:.0f}ms/step{tail}"
        sys.stdout.write(("\r" if self._tty and self.verbose == 1 else "") + line + "\n")
        sys.stdout.flush()

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start()
        epochs = self.params.get("epochs", 1)
        if self.verbose and (epochs or 1) > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose:
            self._finish(logs or {})

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit and self.verbose:
            self._finish(logs or {})

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, {})

    def on_predict_end(self, logs=None):
        if self.verbose:
            self._finish({})


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
    """Stops training when the loss becomes NaN or infinite (``raise_error=True``: raises instead)."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating "
                                   "training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


def _monitor_mode(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'. Received: mode={mode}")
    if mode == "auto":
        m = monitor.lower()
        return "max" if m.endswith("acc") or m.endswith("accuracy") or m.endswith("auc") else "min"
    return mode


class EarlyStopping(Callback):
    """Stops training when ``monitor`` stops improving for ``patience`` epochs (Keras semantics)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights, self.start_from_epoch = baseline, restore_best_weights, \
            start_from_epoch
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta = abs(min_delta) if self.mode == "max" else -abs(min_delta)

    def _better(self, value, reference):
        if reference is None:
            return True
        v = value - self.min_delta
        return v > reference if self.mode == "max" else v < reference

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            print(f"Early stopping conditioned on metric `{self.monitor}` which is not available. Available "
                  f"metrics are: {','.join(logs or {})}")
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of every epoch, or every ``save_freq`` batches;
    ``filepath`` may use ``{epoch:02d}``, ``{batch}`` (batch-level saves) and log keys. With
    ``save_best_only`` only improvements of ``monitor`` are saved (a missing monitor warns and
    saves, as Keras does). Files are written atomically."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        filepath = os.fspath(filepath)
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        if save_weights_only and not (filepath.endswith(".weights.h5") or filepath.endswith(".safetensors")):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                             f"end in `.weights.h5` (Keras weights format). Received: filepath={filepath}")
        if not save_weights_only and not filepath.endswith(".keras"):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). Received: "
                             f"filepath={filepath}")
        self.filepath, self.monitor, self.verbose = filepath, monitor, verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self.mode = _monitor_mode(monitor, mode)
        self.best = initial_value_threshold
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None

    def _should_save(self, epoch, logs, path):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or (current > self.best if self.mode == "max" else current < self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, saving model "
                      f"to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        path = self._file_path(epoch, batch, logs)
        if os.path.isdir(path):
            raise OSError(f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing "
                          f"directory: {path}")
        if not self._should_save(epoch, logs, path):
            return
        dirname = os.path.dirname(path)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class CSVLogger(Callback):
    """Writes one CSV row per epoch (``epoch`` then the sorted log keys, ``val_*`` columns added as
    "NA" when there is no validation), in Keras' format (the ``excel`` dialect with ``separator``).

    Unlike Keras, which streams into an open file, the whole file is rewritten atomically after
    every epoch (the old rows, from before ``fit`` when ``append=True``, and the new ones): a
    reader, or a crash, never sees a half-written row, and an interrupted run leaves the rows of the
    epochs it finished.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.keys = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        self._prefix = ""
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self._prefix = f.read()
            self.append_header = not self._prefix
        self._rows = io.StringIO()
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self._writer is None:
            dialect = type("CustomDialect", (csv.excel,), {"delimiter": self.sep})
            self._writer = csv.DictWriter(self._rows, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self.append_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: _csv_value(logs.get(k, "NA")) for k in self.keys}})
        atomic_write(self.filename, self._prefix + self._rows.getvalue())

    def on_train_end(self, logs=None):
        self._writer = None


def _csv_value(v):
    if isinstance(v, str):
        return v
    if hasattr(v, "numpy") and not isinstance(v, np.ndarray):
        v = v.numpy()
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return v.item()
    if isinstance(v, (list, tuple, np.ndarray)):
        return f'"[{", ".join(map(str, np.asarray(v).ravel().tolist()))}]"'
    return v


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate from ``schedule(epoch, lr)`` at the start of each epoch."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            new = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # the older one-argument form, schedule(epoch), as Keras still accepts
            new = self.schedule(epoch)
        if isinstance(new, bool) or not isinstance(new, (float, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {new}")
        optimizer.learning_rate = float(new)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` plateaus for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best = None
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = self.best is None or (current > self.best + self.min_delta if self.mode == "max"
                                       else current < self.best - self.min_delta)
        if better:
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class BackupAndRestore(Callback):
    """Backs up the training state so that a ``fit`` that was interrupted (an exception, a killed
    process) resumes where it stopped when ``fit`` is called again with this callback.

    At the end of every epoch (or every ``save_freq`` batches) it writes
    ``{backup_dir}/latest.weights.h5`` (the model weights and the optimizer state, slots and
    iteration count, in the same safetensors form as a ``.keras`` file's weights) and
    ``training_metadata.json`` (the epoch to resume at), each atomically. ``on_train_begin``
    restores both when present and makes ``fit`` start at that epoch (batch-level backups resume at
    the start of their epoch, as in Keras). ``double_checkpoint`` keeps the previous pair as
    ``*.bkp``, used when the latest cannot be read; ``delete_checkpoint`` removes ``backup_dir``
    once training finishes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. Expected "
                             "either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, \
            delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    def on_train_begin(self, logs=None):
        if not getattr(self.model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                             f"Model {self.model} is unbuilt. You can build it beforehand by calling it on a batch "
                             "of data.")
        try:
            self._load(self._weights_path, self._training_metadata_path)
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            self._load(self._prev_weights_path, self._prev_training_metadata_path)

    def _load(self, weights_path, metadata_path):
        from . import saving

        if os.path.exists(weights_path):
            cap = saving._weights_cap(self.model)
            with open(weights_path, "rb") as f:
                data = f.read(cap + 1)
            if len(data) > cap:
                raise ValueError(f"{weights_path}: the file has more than the {cap} bytes the weights and optimizer "
                                 f"state of {self.model.name} can need; it is not their backup")
            opt_state = saving._load_weights_bytes(self.model, data, weights_path)
            if opt_state and getattr(self.model, "optimizer", None) is not None:
                saving._restore_optimizer(self.model, opt_state, weights_path)
        if os.path.exists(metadata_path):
            with open(metadata_path, "rb") as f:
                raw = f.read(1 << 16)
            try:
                epoch = json.loads(raw)["epoch"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{metadata_path}: not a training metadata file (expected {{\"epoch\": int, ...}})"
                                 ) from None
            if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
                raise ValueError(f"{metadata_path}: the epoch must be an integer >= 0, received {epoch!r}")
            self.model._initial_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save()

    def _save(self):
        from . import saving

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for src, dst in ((self._weights_path, self._prev_weights_path),
                             (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(src):
                    with open(src, "rb") as f:
                        atomic_write(dst, f.read())
        atomic_write(self._weights_path, saving._weights_bytes(self.model, with_optimizer=True))
        atomic_write(self._training_metadata_path,
                     json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))

    def on_train_end(self, logs=None):
        # the restored start epoch served this fit; a later fit starts where its caller says
        self.model._initial_epoch = None
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class RemoteMonitor(Callback):
    """POSTs the epoch logs to ``root + path`` at the end of every epoch (form field ``field``
    holding JSON, or a JSON body with ``send_as_json``), through the ``requests`` library, which
    must be installed (it is not a ferrograd dependency)."""

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False):
        super().__init__()
        try:
            import requests  # noqa: F401
        except ImportError:
            raise ImportError("RemoteMonitor requires the `requests` library (pip install requests); it is not a "
                              "dependency of ferrograd.") from None
        self.root, self.path, self.field, self.headers, self.send_as_json = root, path, field, headers, send_as_json

    def on_epoch_end(self, epoch, logs=None):
        import requests

        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        try:
            if self.send_as_json:
                requests.post(self.root + self.path, json=send, headers=self.headers)
            else:
                requests.post(self.root + self.path, {self.field: json.dumps(send)}, headers=self.headers)
        except requests.exceptions.RequestException:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)


def _summary_writer_class():
    """A TensorBoard event writer from a well-kept library: tensorboardX, else PyTorch's (which
    needs the tensorboard package); None when neither is installed."""
    try:
        from tensorboardX import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter
    except ImportError:
        return None


class TensorBoard(Callback):
    """Writes the epoch logs (and batch logs with ``update_freq``) as TensorBoard scalars under
    ``log_dir/train`` and ``log_dir/validation``, tagged ``epoch_<metric>`` / ``batch_<metric>`` as
    Keras does. The event files are written by tensorboardX or ``torch.utils.tensorboard``; without
    either this raises ImportError. Histograms, images, embeddings and profiling are not available
    (a non-default value raises); there is no graph to write (``write_graph`` has no effect).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        for arg, value, default in (("histogram_freq", histogram_freq, 0), ("write_images", write_images, False),
                                    ("profile_batch", profile_batch, 0), ("embeddings_freq", embeddings_freq, 0),
                                    ("embeddings_metadata", embeddings_metadata, None)):
            if value != default:
                raise ValueError(f"TensorBoard({arg}={value!r}) is not available in ferrograd; only scalar logs "
                                 "are written")
        if update_freq not in ("epoch", "batch") and (not isinstance(update_freq, int) or update_freq <= 0):
            raise ValueError(f"Unrecognized update_freq: {update_freq}")
        self._writer_cls = _summary_writer_class()
        if self._writer_cls is None:
            raise ImportError("TensorBoard needs an event-file writer: install tensorboardX (pip install "
                              "tensorboardX) or tensorboard for torch.utils.tensorboard; neither is a dependency of "
                              "ferrograd.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph, self.write_images = histogram_freq, write_graph, write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.profile_batch, self.embeddings_freq = profile_batch, embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_step = 0

    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = self._writer_cls(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, logs=None):
        self._global_step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_step += 1
        self._epoch_steps += 1
        if self.update_freq != "epoch" and self._global_step % self.update_freq == 0:
            w = self._writer("train")
            for k, v in (logs or {}).items():
                if isinstance(v, (int, float)):
                    w.add_scalar(f"batch_{k}", v, self._global_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.write_steps_per_second:
            dt = time.perf_counter() - self._epoch_start
            logs["steps_per_second"] = self._epoch_steps / dt if dt > 0 else 0.0
        for k, v in logs.items():
            if not isinstance(v, (int, float)):
                continue
            which, name = ("validation", k[4:]) if k.startswith("val_") else ("train", k)
            self._writer(which).add_scalar(f"epoch_{name}", v, epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


def __getattr__(name):
    if name == "SwapEMAWeights":  # its own module, which imports Callback from here
        from ._callback_ema import SwapEMAWeights

        return SwapEMAWeights
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
