"""Model: a Layer that trains (compile / fit / evaluate / predict), Keras 3 semantics."""
from __future__ import annotations

import math

import numpy as np

from .. import _core, ops, optimizers
from .. import callbacks as callbacks_mod
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .._core import Tensor
from ..layers.layer import Layer, unique_name


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

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if (inputs is not None or outputs is not None) and not kwargs.get("name"):
            kwargs["name"] = unique_name("functional")
        super().__init__(**kwargs)
        self._functional = None
        if inputs is not None or outputs is not None:
            self._init_functional(inputs, outputs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None

    # ---- functional graphs -------------------------------------------------------------------
    def _init_functional(self, inputs, outputs):
        from . import functional

        ins = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for t in list(ins) + list(outs):
            if not isinstance(t, functional.KerasTensor):
                raise ValueError(f"Model(inputs, outputs) expects symbolic tensors from keras.Input and layer calls, "
                                 f"received {type(t).__name__}")
        nodes = functional.topological_nodes(list(outs), list(ins))
        layers, seen = [], set()
        for fn, _, _ in nodes:
            if isinstance(fn, Layer) and id(fn) not in seen:
                seen.add(id(fn))
                layers.append(fn)
        self._functional = {"inputs": list(ins), "outputs": outputs, "nodes": nodes, "layers": layers,
                            "single_input": not isinstance(inputs, (list, tuple))}
        self._input_spec = ins[0] if len(ins) == 1 else None
        self.built = True

    @property
    def layers(self):
        if self._functional is not None:
            return list(self._functional["layers"])
        return [s for s in self._sublayers()]

    def _sublayers(self):
        if getattr(self, "_functional", None) is not None:
            return list(self._functional["layers"])
        return super()._sublayers()

    def call(self, inputs, training=False):
        if self._functional is None:
            raise NotImplementedError(f"{type(self).__name__} must implement call() (or be built with "
                                      "Model(inputs, outputs))")
        from . import functional

        f = self._functional
        given = [inputs] if f["single_input"] else list(inputs)
        if len(given) != len(f["inputs"]):
            raise ValueError(f"Model {self.name} expects {len(f['inputs'])} inputs, received {len(given)}")
        values = {}
        for kt, v in zip(f["inputs"], given):
            v = v if isinstance(v, Tensor) else _core.as_tensor(v)
            want = kt.shape[1:]
            if len(want) != v.ndim - 1 or any(w is not None and w != g for w, g in zip(want, v.shape[1:])):
                raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape={kt.shape}, found shape={tuple(v.shape)}")
            if v.dtype != kt.dtype and kt.dtype.startswith("float"):
                v = _core.cast(v, kt.dtype)
            values[id(kt)] = v
        cache = functional.run_graph(f["nodes"], f["inputs"], f["outputs"], values, training)
        return functional._map(f["outputs"], lambda kt: cache[id(kt)])

    def get_config(self):
        if self._functional is not None:
            from .. import saving
            from . import functional

            return functional.get_graph_config(self, saving._serialize_layer)
        return super().get_config()

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if cls is Model and isinstance(config, dict) and "nodes" in config:
            from .. import saving
            from . import functional

            return functional.from_graph_config(config, lambda e: saving._deserialize_layer(e, custom_objects))
        return cls(**config)

    # ---- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Configures the optimizer, loss and metrics (string ids or objects)."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses_mod.get(loss)
        self._metric_ids = list(metrics or [])
        self._metrics = None
        self.compiled = True

    def _resolve_metrics(self, y, y_pred):
        if self._metrics is None:
            self._metrics = [metrics_mod.get(m, self.loss, tuple(y.shape), tuple(y_pred.shape))
                             for m in self._metric_ids]

    def _compute_loss(self, y, y_pred, sample_weight=None):
        fn = self.loss
        if fn is None:
            raise ValueError("No loss to compute; pass `loss=` to compile()")
        if isinstance(fn, losses_mod.Loss):
            loss = fn(y, y_pred, sample_weight)
        else:
            loss = losses_mod._reduce(fn(y, y_pred), sample_weight, "sum_over_batch_size")
        for penalty in self.losses:
            loss = loss + penalty
        return loss

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

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a :class:`History`."""
        self._check_compiled()
        x, y = _to_numpy(x, "x"), _to_numpy(y, "y")
        sw = _to_numpy(sample_weight, "sample_weight")
        if x is None or y is None:
            raise ValueError("fit() needs both x and y")
        if len(x) != len(y):
            raise ValueError(f"Data cardinality is ambiguous: x sizes: {len(x)}, y sizes: {len(y)}. "
                             "Make sure all arrays contain the same number of samples.")
        if sw is not None and len(sw) != len(x):
            raise ValueError(f"sample_weight has {len(sw)} entries for {len(x)} samples")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), received {validation_split}")
        if class_weight is not None:
            cw = np.vectorize(lambda c: class_weight.get(int(c), 1.0))(y.reshape(len(y), -1)[:, 0] if y.ndim > 1
                                                                          and y.shape[-1] == 1 else
                                                                          (y.argmax(-1) if y.ndim > 1 else y))
            sw = cw.astype(np.float32) if sw is None else sw * cw
        if validation_split and validation_data is None:
            # Keras takes the validation samples from the end, before shuffling.
            cut = int(math.floor(len(x) * (1.0 - validation_split)))
            validation_data = (x[cut:], y[cut:])
            x, y = x[:cut], y[:cut]
            sw = sw[:cut] if sw is not None else None
        batch_size = batch_size or 32
        n = len(x)
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
            if self._metrics is not None:
                for m in self._metrics:
                    m.reset_state()
            logs = {}
            for step, idx in enumerate(self._batches(n, batch_size, shuffle, rng)):
                if step >= steps:
                    break
                cb.on_train_batch_begin(step)
                xb, yb = self._take(x, idx), self._take(y, idx)
                swb = self._take(sw, idx) if sw is not None else None
                loss, y_pred = self.train_step(xb, yb, swb)
                loss_m.update_state(loss.detach(), sample_weight=float(len(idx)))
                self._resolve_metrics(yb, y_pred)
                for m in self._metrics:
                    m.update_state(yb, y_pred)
                logs = {m.name: float(m.result()) for m in self._metrics}
                logs["loss"] = float(loss_m.result())
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
        x, y = _to_numpy(x, "x"), _to_numpy(y, "y")
        if len(x) != len(y):
            raise ValueError(f"Data cardinality is ambiguous: x sizes: {len(x)}, y sizes: {len(y)}")
        sw = _to_numpy(sample_weight, "sample_weight")
        batch_size = batch_size or 32
        loss_m = metrics_mod.Mean("loss")
        if self._metrics is not None:
            for m in self._metrics:
                m.reset_state()
        with _NoGrad():
            for idx in self._batches(len(x), batch_size, False, None):
                xb, yb = self._take(x, idx), self._take(y, idx)
                swb = self._take(sw, idx) if sw is not None else None
                y_pred = self(xb, training=False)
                loss = self._compute_loss(yb, y_pred, swb)
                # weighted by the batch size, so the result is a mean over samples
                loss_m.update_state(loss, sample_weight=float(len(idx)))
                self._resolve_metrics(yb, y_pred)
                for m in self._metrics:
                    m.update_state(yb, y_pred)
        out = {"loss": float(loss_m.result())}
        out.update({m.name: float(m.result()) for m in (self._metrics or [])})
        if verbose not in (0, False):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in out.items()))
        if return_dict:
            return out
        vals = list(out.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for every sample, as a NumPy array (batches of ``batch_size``, default 32)."""
        x = _to_numpy(x, "x")
        batch_size = batch_size or 32
        outs = []
        with _NoGrad():
            for s in range(0, len(x), batch_size):
                outs.append(self(_core.from_numpy(np.ascontiguousarray(x[s:s + batch_size])), training=False))
        if not outs:
            return np.zeros((0,), np.float32)
        return ops.concatenate(outs, axis=0).numpy()

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._check_compiled()
        xb, yb = _core.as_tensor(_to_numpy(x, "x")), _core.as_tensor(_to_numpy(y, "y"))
        loss, y_pred = self.train_step(xb, yb, None if sample_weight is None else _core.as_tensor(sample_weight))
        self._resolve_metrics(yb, y_pred)
        out = {"loss": float(loss.item())}
        for m in self._metrics:
            m.reset_state()
            m.update_state(yb, y_pred)
            out[m.name] = float(m.result())
        return out if return_dict else (out["loss"] if len(out) == 1 else list(out.values()))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=len(x), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    def predict_on_batch(self, x):
        with _NoGrad():
            return self(_core.as_tensor(_to_numpy(x, "x")), training=False).numpy()

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
