"""Trainer: the Keras 3 training API (compile / fit / evaluate / predict and the step override points).

A mixin: ``class Model(Trainer, Layer)``. It asks the model core for ``self(x, training=...)``,
``self.trainable_weights``, ``self.losses`` (regularization penalties),
``self.input_names`` / ``self.output_names`` and ``self._n_inputs()`` / ``self._n_outputs()`` (None
for subclassed models), and nothing else.

The loops follow Keras 3's PyTorch backend (``keras/src/backend/torch/trainer.py``): the same
callback hooks in the same order, ``steps_per_epoch`` carrying the iterator over epochs, validation
run through ``evaluate`` on the same callbacks (``ProgbarLogger`` stays quiet inside ``fit``), logs
flattened and sorted by key before callbacks see them.

Performance note: per training step the loop does one adapter batch (a slice per array), one
``train_step`` and two callback dispatches; metric updates run with the tape off. ``predict`` of a
single batch returns the output arrays without a concatenation copy.
"""
from __future__ import annotations

import inspect
import warnings
import weakref

import numpy as np

from .. import _core, optimizers
from .. import callbacks as callbacks_mod
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from ..callbacks import _pythonify_logs
from ..utils import unpack_x_y_sample_weight
from .compile_utils import CompileLoss, CompileMetrics, LossTracker
from .data_adapters import (
    _is_array_like,
    as_arrays,
    batch_to_tensors,
    class_weight_to_sample_weights,
    flatten,
    get_data_adapter,
    is_array_data,
    map_structure,
    train_validation_split,
)
from .epoch_iterator import EpochIterator

__all__ = ["Trainer"]

_HAS_TRAINING_ARG = weakref.WeakKeyDictionary()  # class -> whether its compute_loss takes `training`


def _batch_size(x):
    for leaf in flatten(x):
        shape = getattr(leaf, "shape", None)
        if shape:
            return int(shape[0])
    return 1


class Trainer:
    """The training half of :class:`ferrograd.Model` (Keras 3 semantics).

    Override points, as in Keras 3: ``train_step(data)``, ``test_step(data)``, ``predict_step(data)``,
    ``compute_loss(x, y, y_pred, sample_weight, training)``, ``compute_metrics(x, y, y_pred,
    sample_weight)`` and the ``metrics`` property.
    """

    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    stop_evaluating = False
    stop_predicting = False
    history = None
    steps_per_execution = 1
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _loss_weights = None
    _metric_ids = None
    _weighted_metric_ids = None
    _initial_epoch = None
    _eval_epoch_iterator = None

    # ---- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Configures the optimizer, loss and metrics (string ids or objects).

        For a model with several outputs, ``loss`` may be one loss (applied to every output), a list
        or a dict keyed by output name, ``loss_weights`` a list or dict, and ``metrics`` a list per
        output (list of lists or a dict), or one flat list applied to every output.
        ``weighted_metrics`` are metrics that receive ``sample_weight``. ``run_eagerly`` and
        ``jit_compile`` are accepted and have no effect (ferrograd always runs eagerly);
        ``steps_per_execution`` must be 1, as on Keras' PyTorch backend.
        """
        if steps_per_execution != 1:
            raise ValueError("`steps_per_execution` must be 1 with ferrograd (as with Keras' PyTorch backend). "
                             f"Received: steps_per_execution={steps_per_execution}")
        self.optimizer = optimizers.get(optimizer)
        if isinstance(loss, (list, tuple)):
            resolved = [losses_mod.get(v) for v in loss]
        elif isinstance(loss, dict):
            resolved = {k: losses_mod.get(v) for k, v in loss.items()}
        else:
            resolved = losses_mod.get(loss)
        output_names = self.output_names
        self.loss = resolved
        self._loss_weights = loss_weights
        self._metric_ids = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._weighted_metric_ids = (weighted_metrics if isinstance(weighted_metrics, dict) or weighted_metrics is None
                                     else list(weighted_metrics))
        self._compile_loss = CompileLoss(resolved, loss_weights, output_names) if loss is not None else None
        self._compile_metrics = (CompileMetrics(metrics, weighted_metrics, output_names, loss=resolved)
                                 if metrics is not None or weighted_metrics is not None else None)
        self._loss_tracker = LossTracker(name="loss")
        self.steps_per_execution = 1
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        self.stop_training = False
        self.compiled = True

    def _assert_compile_called(self, method_name=None):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model." if method_name is None else
                             f"You must call `compile()` before calling `{method_name}()`.")

    # ---- metrics -----------------------------------------------------------------------------
    @property
    def metrics(self):
        """Loss tracker, compiled metrics, per-output loss trackers, then metrics set as attributes of
        the model (Keras' order). The compiled metrics are one ``compile_metrics`` entry, built on
        the first batch."""
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._tracked_metrics())
        return out

    def _tracked_metrics(self):
        """Metric objects held in the model's own attributes (``self.tracker = Mean(...)``)."""
        own = {id(self._loss_tracker), id(self._compile_metrics)}
        found = []
        for key, value in vars(self).items():
            if key in ("_metric_ids", "_weighted_metric_ids"):
                continue  # compile()'s arguments: those metrics live in compile_metrics
            items = value if isinstance(value, (list, tuple)) else (value,)
            for it in items:
                if isinstance(it, metrics_mod.Metric) and id(it) not in own:
                    own.add(id(it))
                    found.append(it)
        return found

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """The current value of every metric in ``self.metrics`` as a dict (a dict-valued result,
        such as ``compile_metrics``, is merged in)."""
        out = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' results when the step returned the same keys, else the step's own logs (a
        custom ``train_step`` may log something else)."""
        metric_logs = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(metric_logs):
            return metric_logs
        return logs

    def _flatten_metrics_in_order(self, logs):
        """``logs`` as a list in ``metrics`` order (compiled metrics by their own names), the rest
        sorted; a lone value is returned as is."""
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names += [sub.name for sub in m.metrics]
            else:
                names.append(m.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    # ---- loss and metrics of one batch -------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss over the outputs (weighted by
        ``loss_weights``) plus ``self.losses`` (regularization penalties). Override it to change the
        loss while keeping the default ``train_step``."""
        del x, training  # the default does not use them
        total = None
        if self._compile_loss is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for penalty in self.losses:
            if penalty.ndim:
                penalty = penalty.sum()
            total = penalty if total is None else total + penalty
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Calls ``compute_loss``, leaving out ``training`` for overrides written without it."""
        cls = type(self)
        takes = _HAS_TRAINING_ARG.get(cls)
        if takes is None:
            takes = "training" in inspect.signature(self.compute_loss).parameters
            _HAS_TRAINING_ARG[cls] = takes
        if takes:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with a batch and returns ``get_metrics_result()``."""
        del x
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    # ---- the step override points ------------------------------------------------------------
    def zero_grad(self):
        """Clears the gradients of every trainable weight (PyTorch's ``Module.zero_grad``)."""
        for w in self.trainable_weights:
            w.grad = None

    def train_step(self, data):
        """One training step on one batch; returns the logs (``{name: value}``).

        ``data`` is the batch as the data adapter yields it: ``x``, ``(x,)``, ``(x, y)`` or
        ``(x, y, sample_weight)``; ``keras.utils.unpack_x_y_sample_weight(data)`` splits it.

        Customizing what happens in ``fit()`` (the Keras 3 PyTorch-backend recipe, in ferrograd
        form; ferrograd weights are tensors, so their gradients are ``v.grad``)::

            class CustomModel(keras.Model):
                def train_step(self, data):
                    x, y = data
                    self.zero_grad()                            # clear last step's gradients
                    y_pred = self(x, training=True)             # forward pass
                    loss = self.compute_loss(y=y, y_pred=y_pred)
                    loss.backward()                             # gradients on the weights
                    trainable_weights = list(self.trainable_weights)
                    gradients = [v.grad for v in trainable_weights]
                    with ferrograd.no_grad():
                        self.optimizer.apply(gradients, trainable_weights)
                    for metric in self.metrics:                 # includes the loss tracker
                        if metric.name == "loss":
                            metric.update_state(loss)
                        else:
                            metric.update_state(y, y_pred)
                    return {m.name: m.result() for m in self.metrics}

        ``compile(optimizer, loss, metrics)`` then ``fit`` as usual: the loop, callbacks,
        validation and ``History`` are unchanged. Several optimizers (a GAN) work the same way:
        each ``opt.apply(grads, sub_model.trainable_weights)`` updates only those weights. Weight
        constraints are applied inside ``optimizer.apply``, as in Keras, so custom steps get them.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        trainable = self.trainable_weights
        for w in trainable:
            w.grad = None
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        if trainable:
            self.optimizer.scale_loss(loss).backward()
            self.optimizer.apply([w.grad for w in trainable], trainable)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step (run with the tape off): forward with ``training=False``, loss
        tracker and compiled metrics updated; returns the logs. Override for custom evaluation."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """One inference step (tape off): ``self(x, training=False)`` of the batch's ``x``."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ---- data --------------------------------------------------------------------------------
    def _standardize_part(self, data, what):
        """``x`` or ``y`` mapped onto the model's inputs/outputs: a dict keyed by name becomes a
        list in model order, a one-element list for a one-input model its element; the number of
        arrays is checked. Subclassed models (no names) get the data as given."""
        if data is None:
            return None
        n = self._n_inputs() if what == "input" else self._n_outputs()
        if n is None:
            return data
        names = self.input_names if what == "input" else self.output_names
        if isinstance(data, dict):
            if names is None or set(data) != set(names):
                raise ValueError(f"{what} dict keys {sorted(data)} do not match the model's {what} names {names}")
            data = [data[k] for k in names]
            return data[0] if n == 1 else data
        is_list = isinstance(data, (list, tuple)) and len(data) > 0 and all(_is_array_like(d) for d in data)
        if n == 1:
            if is_list and len(data) == 1:
                return data[0]
            return data
        if not is_list or len(data) != n:
            got = f"{len(data)} arrays" if is_list else "one array"
            raise ValueError(f"the model has {n} {what}s: pass a list of {n} arrays or a dict keyed by {names}, "
                             f"received {got}")
        return list(data)

    def _standardize_batch(self, batch):
        if isinstance(batch, dict):
            return (self._standardize_part(batch, "input"),)
        x, y, sw = unpack_x_y_sample_weight(batch)
        x, y = self._standardize_part(x, "input"), self._standardize_part(y, "output")
        return (x,) if y is None and sw is None else ((x, y) if sw is None else (x, y, sw))

    def _epoch_iterator(self, x, y, sample_weight, batch_size, steps, shuffle, class_weight):
        if is_array_data(x):
            x, y = self._standardize_part(x, "input"), self._standardize_part(y, "output")
        adapter = get_data_adapter(x, y, sample_weight=sample_weight, batch_size=batch_size, steps_per_epoch=steps,
                                   shuffle=shuffle, class_weight=class_weight, standardize=self._standardize_batch)
        return EpochIterator(adapter, steps)

    def _callbacks(self, callbacks, verbose, epochs, steps, add_history=False):
        if isinstance(callbacks, callbacks_mod.CallbackList):
            return callbacks
        return callbacks_mod.CallbackList(callbacks, add_history=add_history, add_progbar=verbose != 0,
                                          model=self, verbose=verbose, epochs=epochs, steps=steps)

    @staticmethod
    def _should_eval(epoch, validation_freq):
        epoch += 1
        if isinstance(validation_freq, int):
            return epoch % validation_freq == 0
        if isinstance(validation_freq, (list, tuple, set)):
            return epoch in validation_freq
        raise ValueError("Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={validation_freq} of the type {type(validation_freq)}.")

    # ---- loops -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns the :class:`~ferrograd.callbacks.History`.

        ``x``: arrays (or a list/dict of them for several inputs), a generator/iterator of batches,
        or a ``keras.utils.PyDataset``; ``y`` and ``sample_weight`` only with arrays.
        ``validation_split`` (arrays only) holds out the last fraction of the samples, before
        shuffling; ``validation_data`` is ``(x, y)``, ``(x, y, sample_weight)``, a generator or a
        PyDataset. ``steps_per_epoch`` limits an epoch and carries the data iterator over to the
        next epoch (Keras' rule); ``class_weight`` maps class index to a loss weight.
        """
        self._assert_compile_called("fit")
        if is_array_data(x):
            x, y = self._standardize_part(x, "input"), self._standardize_part(y, "output")
            x, y, sample_weight = as_arrays(x, "x"), as_arrays(y, "y"), as_arrays(sample_weight, "sample_weight")
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = train_validation_split((x, y, sample_weight), validation_split)
        if validation_data is not None:
            val_x, val_y, val_sw = unpack_x_y_sample_weight(validation_data)
        iterator = self._epoch_iterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight)
        iterator.reset()
        callbacks = self._callbacks(callbacks, verbose, epochs, iterator.num_batches, add_history=True)
        self.stop_training = False
        self._eval_epoch_iterator = None
        training_logs = {}
        train_step = self.train_step
        callbacks.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = {}
            for step, data in iterator:
                callbacks.on_train_batch_begin(step)
                logs = train_step(data)
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation_data is not None and self._should_eval(epoch, validation_freq):
                if self._eval_epoch_iterator is None:
                    self._eval_epoch_iterator = self._epoch_iterator(
                        val_x, val_y, val_sw, validation_batch_size or batch_size, validation_steps, False, None)
                val_logs = self._test_loop(self._eval_epoch_iterator, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        self._eval_epoch_iterator = None
        finalize = getattr(self.optimizer, "finalize_variable_values", None)
        if finalize is not None and epochs > 0:
            finalize(self.trainable_weights)  # with use_ema, the weights take their moving averages (Keras)
        callbacks.on_train_end(logs=training_logs)
        return self.history

    def _test_loop(self, iterator, callbacks):
        iterator.reset()
        self.stop_evaluating = False
        callbacks.on_test_begin()
        logs = {}
        self.reset_metrics()
        test_step, set_grad = self.test_step, _core.set_grad_enabled
        for step, data in iterator:
            callbacks.on_test_batch_begin(step)
            prev = set_grad(False)
            try:
                logs = test_step(data)
            finally:
                set_grad(prev)
            callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = _pythonify_logs(self._get_metrics_result_or_logs(logs))
        callbacks.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics over the data: a scalar, a list in ``metrics_names`` order, or a dict
        with ``return_dict``. ``x`` as in :meth:`fit`; ``steps`` limits the number of batches."""
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        self._assert_compile_called("evaluate")
        iterator = self._epoch_iterator(x, y, sample_weight, batch_size, steps, False, None)
        callbacks = self._callbacks(callbacks, verbose, 1, iterator.num_batches)
        logs = self._test_loop(iterator, callbacks)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for every sample as NumPy arrays (a list or dict of arrays for several outputs),
        computed in batches of ``batch_size`` (default 32) with the tape off."""
        iterator = self._epoch_iterator(x, None, None, batch_size, steps, False, None)
        callbacks = self._callbacks(callbacks, verbose, 1, iterator.num_batches)
        self.stop_predicting = False
        predict_step, set_grad = self.predict_step, _core.set_grad_enabled
        outputs = []
        callbacks.on_predict_begin()
        for step, data in iterator:
            callbacks.on_predict_batch_begin(step)
            prev = set_grad(False)
            try:
                batch_outputs = predict_step(data)
            finally:
                set_grad(prev)
            outputs.append(map_structure(_to_numpy_out, batch_outputs))
            callbacks.on_predict_batch_end(step, {"outputs": batch_outputs})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        if not outputs:
            return np.zeros((0,), np.float32)
        if len(outputs) == 1:
            return outputs[0]
        return _concat_structure(outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on the given batch, metrics reset first; returns its logs (a list in
        ``metrics_names`` order, or a dict with ``return_dict``)."""
        self._assert_compile_called("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same time. "
                                 f"Received: sample_weight={sample_weight}, class_weight={class_weight}")
            sample_weight = class_weight_to_sample_weights(y, class_weight)
        data = self._batch(x, y, sample_weight)
        self.reset_metrics()
        logs = _pythonify_logs(self.train_step(data))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One ``test_step`` on the given batch, metrics reset first."""
        self._assert_compile_called("test_on_batch")
        data = self._batch(x, y, sample_weight)
        self.reset_metrics()
        prev = _core.set_grad_enabled(False)
        try:
            logs = _pythonify_logs(self.test_step(data))
        finally:
            _core.set_grad_enabled(prev)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """``predict_step`` on one batch, as NumPy arrays."""
        data = self._batch(x, None, None)
        prev = _core.set_grad_enabled(False)
        try:
            out = self.predict_step(data)
        finally:
            _core.set_grad_enabled(prev)
        return map_structure(_to_numpy_out, out)

    def _batch(self, x, y, sample_weight):
        x, y = self._standardize_part(x, "input"), self._standardize_part(y, "output")
        x, y, sw = (batch_to_tensors(as_arrays(v, what)) for v, what in
                    ((x, "x"), (y, "y"), (sample_weight, "sample_weight")))
        return (x,) if y is None and sw is None else (x, y, sw)


def _to_numpy_out(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _concat_structure(batches):
    first = batches[0]
    if isinstance(first, dict):
        return {k: _concat_structure([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concat_structure([b[i] for b in batches]) for i in range(len(first)))
    return np.concatenate(batches, axis=0)
