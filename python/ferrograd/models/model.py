"""Model: a Layer that trains (compile / fit / evaluate / predict), Keras 3 semantics."""
from __future__ import annotations

import copy
import math

import numpy as np

from .. import _core, ops, optimizers
from .. import callbacks as callbacks_mod
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .._core import Tensor
from ..layers.layer import Layer


def _to_numpy(x, name):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.numpy()
    a = np.asarray(x)
    if a.dtype == object:
        raise ValueError(f"{name} must be an array or tensor, received an object array")
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    return a


class Model(Layer):
    """Base of Sequential and subclassed models: the training API.

    Subclass it and implement ``call`` (layers assigned as attributes are tracked), or use
    :class:`ferrograd.Sequential`.
    """

    def __new__(cls, *args, **kwargs):
        # Keras: Model(inputs, outputs) builds a functional model; a subclass of Model whose
        # __init__ passes (inputs, outputs) up becomes a functional model with its extra methods.
        if len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs:
            from .functional import Functional, functional_subclass

            if cls is Model:
                return Functional.__new__(Functional)
            if not issubclass(cls, Functional):
                return Functional.__new__(functional_subclass(cls))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs:
            # A subclass's __init__ building a graph and passing (inputs, outputs) up (Keras allows it).
            from .functional import Functional, functional_subclass

            if not isinstance(self, Functional):
                self.__class__ = functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        if args:
            raise TypeError(f"{type(self).__name__}() takes no positional arguments except (inputs, outputs); "
                            f"received {len(args)}")
        super().__init__(**kwargs)
        self._init_training_state()

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None

    # ---- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers tracked by this model (attributes of a subclassed model, in assignment order)."""
        return [s for s in self._sublayers()]

    def get_layer(self, name=None, index=None):
        """A layer of :attr:`layers` by ``name`` or by ``index`` (Keras' ``get_layer``)."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            layers = self.layers
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 "layers.")
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[lyr.name for lyr in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` method implemented (subclass "
                                  "Model and implement call(), or build it with Model(inputs, outputs))")

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if isinstance(config, dict) and "nodes" in config:
            from .functional import Functional

            return Functional.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # ---- inputs and outputs (the trainer's view) -------------------------------------------------
    @property
    def input_names(self):
        """Names of the inputs of a graph model (None for a subclassed model)."""
        return None

    @property
    def output_names(self):
        """Names of the outputs of a graph model, used by dict-valued ``y``, losses and metrics
        (None for a subclassed model)."""
        return None

    def _n_inputs(self):
        return None

    def _n_outputs(self):
        return None

    @staticmethod
    def _split(data, what, n, names):
        """``data`` as a list of NumPy arrays and whether it was a single array (not a list or dict)."""
        if data is None:
            return None, True
        if isinstance(data, dict):
            if names is None:
                raise ValueError(f"{what} is a dict, but this model has no named {what}s; pass a list")
            unknown = sorted(set(data) - set(names))
            missing = [k for k in names if k not in data]
            if unknown or missing:
                raise ValueError(f"{what} dict keys {sorted(data)} do not match the model's {what} names {names}")
            return [_to_numpy(data[k], f"{what}[{k!r}]") for k in names], len(names) == 1
        arrays = isinstance(data, (list, tuple)) and len(data) > 0 and all(
            isinstance(d, (np.ndarray, Tensor)) for d in data)
        if n == 1 and arrays and len(data) == 1:
            data = data[0]
        multi = (n is not None and n > 1) or (n is None and arrays and len(data) > 1)
        if not multi:
            return [_to_numpy(data, what)], True
        if not isinstance(data, (list, tuple)) or (n is not None and len(data) != n):
            got = f"{len(data)} arrays" if isinstance(data, (list, tuple)) else "one array"
            raise ValueError(f"the model has {n} {what}s: pass a list of {n} arrays or a dict keyed by {names}, "
                             f"received {got}")
        return [_to_numpy(d, f"{what}[{i}]") for i, d in enumerate(data)], False

    @staticmethod
    def _cardinality(*groups):
        sizes = {}
        for label, arrs in groups:
            for i, a in enumerate(arrs or []):
                sizes[f"{label}[{i}]" if len(arrs) > 1 else label] = len(a) if a.ndim else 0
        if len(set(sizes.values())) > 1:
            desc = ", ".join(f"{k} sizes: {v}" for k, v in sizes.items())
            raise ValueError(f"Data cardinality is ambiguous: {desc}. Make sure all arrays contain the same number "
                             "of samples.")
        return next(iter(sizes.values()), 0)

    @staticmethod
    def _feed(tensors, single):
        return tensors[0] if single else list(tensors)

    @staticmethod
    def _flat(y_pred):
        if isinstance(y_pred, dict):
            return list(y_pred.values())
        return list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]

    # ---- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Configures the optimizer, loss and metrics (string ids or objects).

        For a model with several outputs, ``loss`` may be one loss (applied to every output), a list
        or a dict keyed by output name, ``loss_weights`` a list or dict, and ``metrics`` a flat list
        (applied to every output), a list of lists or a dict.
        """
        self.optimizer = optimizers.get(optimizer)
        if isinstance(loss, (list, tuple)):
            self.loss = [losses_mod.get(v) for v in loss]
        elif isinstance(loss, dict):
            self.loss = {k: losses_mod.get(v) for k, v in loss.items()}
        else:
            self.loss = losses_mod.get(loss)
        self._loss_weights = loss_weights
        self._metric_ids = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._metrics = None
        self._heads = None
        self.compiled = True

    def _resolve_heads(self, n_out):
        """Per output: (name, loss, weight); resolved once the number of outputs is known."""
        if self._heads is not None and len(self._heads) == n_out:
            return self._heads
        names = self.output_names or [f"output_{k}" for k in range(n_out)]
        if len(names) != n_out:
            names = [f"output_{k}" for k in range(n_out)]

        def per_output(spec, what, default):
            if isinstance(spec, dict):
                unknown = sorted(set(spec) - set(names))
                if unknown:
                    raise ValueError(f"{what} names {unknown} are not outputs of the model; outputs: {names}")
                return [spec.get(k, default) for k in names]
            if isinstance(spec, (list, tuple)):
                if len(spec) != n_out:
                    raise ValueError(f"{what} has {len(spec)} entries, the model has {n_out} outputs")
                return list(spec)
            return [spec if spec is not None else default] * n_out

        fns = per_output(self.loss, "loss", None)
        weights = per_output(self._loss_weights, "loss_weights", 1.0)
        self._heads = [(nm, fn, float(w)) for nm, fn, w in zip(names, fns, weights)]
        return self._heads

    def _resolve_metrics(self, ys, preds):
        if self._metrics is not None:
            return
        heads = self._resolve_heads(len(preds))
        ids, multi = self._metric_ids, len(heads) > 1
        if isinstance(ids, dict):
            unknown = sorted(set(ids) - {nm for nm, _, _ in heads})
            if unknown:
                raise ValueError(f"metrics names {unknown} are not outputs of the model; outputs: "
                                 f"{[nm for nm, _, _ in heads]}")
            per = [ids.get(nm, []) for nm, _, _ in heads]
            per = [list(v) if isinstance(v, (list, tuple)) else [v] for v in per]
        elif multi and ids and all(isinstance(v, (list, tuple)) for v in ids):
            if len(ids) != len(heads):
                raise ValueError(f"metrics has {len(ids)} lists, the model has {len(heads)} outputs")
            per = [list(v) for v in ids]
        else:  # one flat list: applied to every output
            per = [list(ids) for _ in heads]
        self._metrics, used = [], set()
        for k, ((nm, fn, _), mids) in enumerate(zip(heads, per)):
            for m in mids:
                if isinstance(m, metrics_mod.Metric) and id(m) in used:
                    m = copy.deepcopy(m)  # one instance per output
                obj = metrics_mod.get(m, fn, tuple(ys[k].shape), tuple(preds[k].shape))
                used.add(id(obj))
                # Keras 3 logs a metric given by string under that string ("mae", "acc")
                base = m if isinstance(m, str) else obj.name
                obj._log_name = f"{nm}_{base}" if multi else base
                self._metrics.append((k, obj))

    def _metric_logs(self):
        return {m._log_name: float(m.result()) for _, m in self._metrics}

    def _update_metrics(self, ys, preds):
        self._resolve_metrics(ys, preds)
        for k, m in self._metrics:
            m.update_state(ys[k], preds[k])

    def _compute_loss(self, y, y_pred, sample_weight=None):
        """The total loss: the weighted sum over outputs plus regularization penalties.

        ``y`` and ``y_pred`` are a tensor each or lists of tensors (one per output).
        """
        ys, preds = self._flat(y), self._flat(y_pred)
        if len(ys) != len(preds):
            raise ValueError(f"the model has {len(preds)} outputs, received {len(ys)} targets")
        total, self._last_head_losses = None, []
        for (nm, fn, w), yt, yp in zip(self._resolve_heads(len(preds)), ys, preds):
            if fn is None:
                raise ValueError("No loss to compute; pass `loss=` to compile()" if len(preds) == 1 else
                                 f"No loss for output {nm!r}; give one in compile(loss=...)")
            if isinstance(fn, losses_mod.Loss):
                part = fn(yt, yp, sample_weight)
            else:
                part = losses_mod._reduce(fn(yt, yp), sample_weight, "sum_over_batch_size")
            self._last_head_losses.append(part)
            part = part if w == 1.0 else part * w
            total = part if total is None else total + part
        for penalty in self.losses:
            total = total + penalty
        return total

    # ---- steps -------------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None):
        y_pred = self(x, training=True)
        loss = self._compute_loss(y, y_pred, sample_weight)
        tw = self.trainable_weights
        for w in tw:
            w.grad = None
        loss.backward()
        self.optimizer.apply([w.grad for w in tw], tw)
        self._apply_constraints()
        if isinstance(y_pred, (list, tuple)):
            return loss, [p.detach() for p in y_pred]
        if isinstance(y_pred, dict):
            return loss, [p.detach() for p in y_pred.values()]
        return loss, y_pred.detach()

    def _check_compiled(self):
        if not self.compiled:
            raise RuntimeError("You must call `compile()` before using the model for training or evaluation")

    def _batches(self, n, batch_size, shuffle, rng):
        idx = rng.permutation(n) if shuffle else np.arange(n)
        for s in range(0, n, batch_size):
            yield idx[s:s + batch_size]

    def _take(self, arr, idx):
        return _core.from_numpy(np.ascontiguousarray(arr[idx]))

    def _take_all(self, arrs, idx):
        return [self._take(a, idx) for a in arrs]

    def _head_means(self, n_out):
        if n_out < 2:
            return []
        return [metrics_mod.Mean(f"{nm}_loss") for nm, _, _ in self._resolve_heads(n_out)]

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a :class:`History`.

        ``x`` and ``y`` are arrays, or lists/dicts of arrays for models with several inputs/outputs.
        """
        self._check_compiled()
        if x is None or y is None:
            raise ValueError("fit() needs both x and y")
        xs, x_single = self._split(x, "input", self._n_inputs(), self.input_names)
        ys, y_single = self._split(y, "output", self._n_outputs(), self.output_names)
        sw = _to_numpy(sample_weight, "sample_weight")
        n = self._cardinality(("x", xs), ("y", ys))
        if sw is not None and len(sw) != n:
            raise ValueError(f"sample_weight has {len(sw)} entries for {n} samples")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), received {validation_split}")
        if class_weight is not None:
            if not y_single:
                raise ValueError("class_weight is only supported for models with a single output")
            y0 = ys[0]
            cw = np.vectorize(lambda c: class_weight.get(int(c), 1.0))(y0.reshape(len(y0), -1)[:, 0] if y0.ndim > 1
                                                                          and y0.shape[-1] == 1 else
                                                                          (y0.argmax(-1) if y0.ndim > 1 else y0))
            sw = cw.astype(np.float32) if sw is None else sw * cw
        if validation_split and validation_data is None:
            # Keras takes the validation samples from the end, before shuffling.
            cut = int(math.floor(n * (1.0 - validation_split)))
            validation_data = ([a[cut:] for a in xs] if not x_single else xs[0][cut:],
                               [a[cut:] for a in ys] if not y_single else ys[0][cut:])
            xs, ys = [a[:cut] for a in xs], [a[:cut] for a in ys]
            sw = sw[:cut] if sw is not None else None
            n = cut
        batch_size = batch_size or 32
        steps = math.ceil(n / batch_size)
        if steps_per_epoch:
            steps = min(steps, steps_per_epoch)
        verbose = 1 if verbose == "auto" else verbose
        history = callbacks_mod.History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(callbacks_mod.ProgbarLogger(verbose))
        cbs.append(history)
        cb = callbacks_mod.CallbackList(cbs, model=self, epochs=epochs, steps=steps, verbose=verbose)
        # Drawn from NumPy's global generator, which keras.utils.set_random_seed seeds: shuffling is
        # reproducible under a seed, as in Keras.
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        self.stop_training = False
        cb.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cb.on_epoch_begin(epoch)
            loss_m = metrics_mod.Mean("loss")
            head_ms = self._head_means(len(ys))
            if self._metrics is not None:
                for _, m in self._metrics:
                    m.reset_state()
            logs = {}
            for step, idx in enumerate(self._batches(n, batch_size, shuffle, rng)):
                if step >= steps:
                    break
                cb.on_train_batch_begin(step)
                xb, yb = self._take_all(xs, idx), self._take_all(ys, idx)
                swb = self._take(sw, idx) if sw is not None else None
                loss, y_pred = self.train_step(self._feed(xb, x_single), self._feed(yb, y_single), swb)
                weight = float(len(idx))
                loss_m.update_state(loss.detach(), sample_weight=weight)
                for hm, part in zip(head_ms, self._last_head_losses):
                    hm.update_state(part.detach(), sample_weight=weight)
                self._update_metrics(yb, self._flat(y_pred))
                logs = {"loss": float(loss_m.result())}
                logs.update({hm.name: float(hm.result()) for hm in head_ms})
                logs.update(self._metric_logs())
                cb.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                vx, vy = validation_data[0], validation_data[1]
                val = self.evaluate(vx, vy, batch_size=validation_batch_size or batch_size, verbose=0,
                                    return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            cb.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cb.on_train_end()
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss (and metrics) over the data: a scalar, a list, or a dict with ``return_dict``."""
        self._check_compiled()
        if x is None or y is None:
            raise ValueError("evaluate() needs both x and y")
        xs, x_single = self._split(x, "input", self._n_inputs(), self.input_names)
        ys, y_single = self._split(y, "output", self._n_outputs(), self.output_names)
        n = self._cardinality(("x", xs), ("y", ys))
        sw = _to_numpy(sample_weight, "sample_weight")
        if sw is not None and len(sw) != n:
            raise ValueError(f"sample_weight has {len(sw)} entries for {n} samples")
        batch_size = batch_size or 32
        loss_m = metrics_mod.Mean("loss")
        head_ms = self._head_means(len(ys))
        if self._metrics is not None:
            for _, m in self._metrics:
                m.reset_state()
        with _NoGrad():
            for idx in self._batches(n, batch_size, False, None):
                xb, yb = self._take_all(xs, idx), self._take_all(ys, idx)
                swb = self._take(sw, idx) if sw is not None else None
                y_pred = self(self._feed(xb, x_single), training=False)
                loss = self._compute_loss(self._feed(yb, y_single), y_pred, swb)
                # weighted by the batch size, so the result is a mean over samples
                loss_m.update_state(loss, sample_weight=float(len(idx)))
                for hm, part in zip(head_ms, self._last_head_losses):
                    hm.update_state(part, sample_weight=float(len(idx)))
                self._update_metrics(yb, self._flat(y_pred))
        out = {"loss": float(loss_m.result())}
        out.update({hm.name: float(hm.result()) for hm in head_ms})
        out.update(self._metric_logs() if self._metrics else {})
        if verbose not in (0, False):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in out.items()))
        if return_dict:
            return out
        vals = list(out.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for every sample as a NumPy array (a list of arrays for several outputs), computed
        in batches of ``batch_size`` (default 32)."""
        xs, x_single = self._split(x, "input", self._n_inputs(), self.input_names)
        n = self._cardinality(("x", xs))
        batch_size = batch_size or 32
        outs = []
        with _NoGrad():
            for s in range(0, n, batch_size):
                xb = [_core.from_numpy(np.ascontiguousarray(a[s:s + batch_size])) for a in xs]
                outs.append(self(self._feed(xb, x_single), training=False))
        if not outs:
            return np.zeros((0,), np.float32)
        if isinstance(outs[0], dict):
            return {k: ops.concatenate([o[k] for o in outs], axis=0).numpy() for k in outs[0]}
        if isinstance(outs[0], (list, tuple)):
            return [ops.concatenate([o[k] for o in outs], axis=0).numpy() for k in range(len(outs[0]))]
        return ops.concatenate(outs, axis=0).numpy()

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled()
        xs, x_single = self._split(x, "input", self._n_inputs(), self.input_names)
        ys, y_single = self._split(y, "output", self._n_outputs(), self.output_names)
        self._cardinality(("x", xs), ("y", ys))
        xb, yb = [_core.as_tensor(a) for a in xs], [_core.as_tensor(a) for a in ys]
        loss, y_pred = self.train_step(self._feed(xb, x_single), self._feed(yb, y_single),
                                       None if sample_weight is None else _core.as_tensor(sample_weight))
        preds = self._flat(y_pred)
        self._resolve_metrics(yb, preds)
        out = {"loss": float(loss.item())}
        if len(preds) > 1:
            out.update({f"{nm}_loss": float(p.item()) for (nm, _, _), p in
                        zip(self._resolve_heads(len(preds)), self._last_head_losses)})
        for _, m in self._metrics:
            m.reset_state()
        self._update_metrics(yb, preds)
        out.update(self._metric_logs())
        return out if return_dict else (out["loss"] if len(out) == 1 else list(out.values()))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        n = len(x) if not isinstance(x, (list, tuple, dict)) else None
        if n is None:
            xs, _ = self._split(x, "input", self._n_inputs(), self.input_names)
            n = len(xs[0])
        return self.evaluate(x, y, batch_size=max(n, 1), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict_on_batch(self, x):
        xs, x_single = self._split(x, "input", self._n_inputs(), self.input_names)
        with _NoGrad():
            out = self(self._feed([_core.as_tensor(a) for a in xs], x_single), training=False)
        if isinstance(out, dict):
            return {k: o.numpy() for k, o in out.items()}
        if isinstance(out, (list, tuple)):
            return [o.numpy() for o in out]
        return out.numpy()

    def save(self, filepath, overwrite=True, zipped=True):
        """Saves to a ``.keras`` archive (see :mod:`ferrograd.saving`)."""
        from .. import saving

        saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped)

    def save_weights(self, filepath, overwrite=True):
        from .. import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        from .. import saving

        saving.load_weights(self, filepath)

    def summary(self, line_length=None, print_fn=None):
        from .summary import summary_text

        (print_fn or print)(summary_text(self))


class _NoGrad:
    def __enter__(self):
        self._prev = _core.set_grad_enabled(False)

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._prev)
        return False
