"""What ``compile`` resolves: the loss over the model's outputs and the compiled metrics.

Both resolve lazily, on the first batch, once the number of outputs and the shapes of ``y`` and
``y_pred`` are known (``"accuracy"`` picks its kind from them), as Keras 3's ``CompileLoss`` and
``CompileMetrics`` do.

Multiple outputs: ``loss`` is one loss for every output, a list, or a dict keyed by output name
(outputs without a loss are left out); ``loss_weights`` a list or dict; ``metrics`` a list per output
(a list of lists, or a list as long as the outputs), a dict, or one flat list applied to every
output (a ferrograd extension; Keras refuses it). Logged names follow Keras:
``<output>_<metric>`` and ``<output>_loss`` (unweighted) when there are several outputs.
"""
from __future__ import annotations

import copy

from .. import _core
from .. import losses as losses_mod
from .. import metrics as metrics_mod
from .._core import Tensor
from .data_adapters import flatten

__all__ = ["CompileLoss", "CompileMetrics", "LossTracker"]


def _batch_dim(y):
    leaves = flatten(y)
    return leaves[0].shape[0] if leaves and getattr(leaves[0], "shape", None) else 1


def _t(x):
    return x if isinstance(x, Tensor) else _core.as_tensor(x)


class LossTracker(metrics_mod.Mean):
    """The ``Mean`` that tracks a scalar loss weighted by the batch size, with a fast path for
    that case (one ``item()``; no tensors built per step)."""

    def update_state(self, values, sample_weight=None):
        if isinstance(values, Tensor) and values.size == 1 and isinstance(sample_weight, (int, float)):
            v = float(values.item())
            self._total += v * sample_weight
            self._count += float(sample_weight)
        else:
            super().update_state(values, sample_weight)


def _output_names(model_names, n):
    names = list(model_names) if model_names else []
    return names if len(names) == n else [f"output_{k}" for k in range(n)]


def flatten_outputs(y, names, what):
    """``y`` (one tensor, a list or a dict keyed by output name) as a list in output order."""
    if isinstance(y, dict):
        if set(y) == set(names):
            return [y[k] for k in names]
        if len(y) == len(names) and all(k.startswith("output_") for k in names):
            return list(y.values())
        raise ValueError(f"{what} dict keys {sorted(y)} do not match the model's output names {names}")
    if isinstance(y, (list, tuple)):
        return list(y)
    return [y]


def _per_output(spec, what, names, default):
    n = len(names)
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"{what} names {unknown} are not outputs of the model; outputs: {names}")
        return [spec.get(k, default) for k in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"{what} has {len(spec)} entries, the model has {n} outputs")
        return list(spec)
    return [spec if spec is not None else default] * n


class CompileLoss:
    """The compiled loss: ``loss(y_true, y_pred, sample_weight)`` is the weighted sum over outputs
    (None when no output has a loss). With several losses it also updates one ``Mean`` per output,
    ``<output>_loss``, with the unweighted value (these are in ``metrics``)."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, int, float)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a list or dict "
                             f"(multiple output case). Received instead: loss_weights={loss_weights} of type "
                             f"{type(loss_weights)}")
        self.loss, self.loss_weights, self.output_names = loss, loss_weights, output_names
        self.built = False
        self.metrics = []

    def build(self, n_outputs):
        names = _output_names(self.output_names, n_outputs)
        if n_outputs == 1 and isinstance(self.loss, dict) and len(self.loss) == 1 and names[0] not in self.loss:
            fns = list(self.loss.values())
        else:
            fns = _per_output(self.loss, "loss", names, None)
        weights = _per_output(self.loss_weights, "loss_weights", names, None)
        self.names = names
        self._heads = [(k, fn, None if w is None else float(w)) for k, (fn, w) in enumerate(zip(fns, weights))
                       if fn is not None]
        self.metrics = [metrics_mod.Mean(name=f"{names[k]}_loss") for k, _, _ in self._heads] \
            if len(self._heads) > 1 else []
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        preds = y_pred if isinstance(y_pred, (list, tuple)) else (
            list(y_pred.values()) if isinstance(y_pred, dict) else [y_pred])
        if not self.built or len(self.names) != len(preds):
            self.build(len(preds))
        if y_true is None:
            raise ValueError("The compiled loss needs targets, but `y` is None: pass `y` to fit()/evaluate(), or "
                             "yield (x, y) batches from the dataset")
        if isinstance(y_pred, dict):
            preds = flatten_outputs(y_pred, self.names, "y_pred")
        ys = flatten_outputs(y_true, self.names, "y")
        if len(ys) != len(preds):
            raise ValueError(f"the model has {len(preds)} outputs, received {len(ys)} targets")
        nested_sw = isinstance(sample_weight, (list, tuple, dict))
        sws = flatten_outputs(sample_weight, self.names, "sample_weight") if nested_sw else None
        total = None
        for j, (k, fn, w) in enumerate(self._heads):
            sw = sws[k] if nested_sw else sample_weight
            yt, yp = ys[k], preds[k]
            if isinstance(fn, losses_mod.Loss):
                value = fn(yt, yp, sw)
            else:
                value = losses_mod._compiled_call(fn, yt, yp, sw)
            if self.metrics:
                self.metrics[j].update_state(value.detach(), sample_weight=float(yp.shape[0]))
            if w is not None and w != 1.0:
                value = value * w
            total = value if total is None else total + value
        return total


def _get_metric(identifier, y_true, y_pred, loss):
    """A metric object from an id, named by the id when it is a string (Keras' rule)."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        yt, yp = tuple(y_true.shape), tuple(y_pred.shape)
        if yp and yp[-1] == 1:
            m = metrics_mod.BinaryAccuracy(name=identifier)
        elif len(yt) < len(yp) or (yt and yt[-1] == 1 and yp and yp[-1] > 1):
            m = metrics_mod.SparseCategoricalAccuracy(name=identifier)
        else:
            m = metrics_mod.CategoricalAccuracy(name=identifier)
        return m
    m = metrics_mod.get(identifier, loss, tuple(y_true.shape), tuple(y_pred.shape))
    if not isinstance(m, metrics_mod.Metric):  # a plain function (keras.losses.log_cosh): Keras wraps it
        m = metrics_mod.MeanMetricWrapper(m, name=getattr(m, "__name__", None) or type(m).__name__)
    if isinstance(identifier, str):
        m.name = identifier
    return m


class CompileMetrics(metrics_mod.Metric):
    """All compiled metrics as one metric named ``compile_metrics`` whose ``result()`` is a dict
    (``{"accuracy": ...}``, or ``{"cls_accuracy": ..., "reg_mae": ...}`` for several outputs);
    ``metrics`` lists the metric objects once built. Unweighted ``metrics`` ignore ``sample_weight``;
    ``weighted_metrics`` receive it."""

    def __init__(self, metrics, weighted_metrics=None, output_names=None, loss=None):
        for arg, v in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if v and not isinstance(v, (list, tuple, dict)):
                raise ValueError(f"Expected `{arg}` argument to be a list, tuple, or dict. Received instead: "
                                 f"{arg}={v} of type {type(v)}")
        super().__init__(name="compile_metrics")
        self._user_metrics, self._user_weighted = metrics, weighted_metrics
        self.output_names, self._loss = output_names, loss
        self.built = False
        self._flat, self._flat_weighted = [], []

    @property
    def metrics(self):
        return [m for _, m, _ in self._flat + self._flat_weighted]

    def _build_set(self, ids, names, ys, preds, losses):
        """[(output index, metric, log name)] for one of metrics / weighted_metrics."""
        n, out = len(names), []
        if not ids:
            return out
        if isinstance(ids, dict):
            unknown = sorted(set(ids) - set(names))
            if unknown:
                raise ValueError(f"metrics names {unknown} are not outputs of the model; outputs: {names}")
            per = [ids.get(nm, []) for nm in names]
            per = [list(v) if isinstance(v, (list, tuple)) else [v] for v in per]
        elif n > 1 and len(ids) == n:
            per = [list(v) if isinstance(v, (list, tuple)) else [v] for v in ids]
        elif n > 1 and all(isinstance(v, (list, tuple)) for v in ids):
            raise ValueError(f"metrics has {len(ids)} lists, the model has {n} outputs")
        else:  # one flat list: for every output
            per = [list(ids) for _ in range(n)]
        used = set()
        for k, mids in enumerate(per):
            for m in mids:
                if m is None:
                    continue
                if isinstance(m, metrics_mod.Metric) and id(m) in used:
                    m = copy.deepcopy(m)  # one instance per output
                obj = _get_metric(m, ys[k], preds[k], losses[k])
                used.add(id(obj))
                out.append((k, obj, f"{names[k]}_{obj.name}" if n > 1 else obj.name))
        return out

    def build(self, y_true, y_pred):
        preds = y_pred if isinstance(y_pred, (list, tuple)) else (
            list(y_pred.values()) if isinstance(y_pred, dict) else [y_pred])
        names = _output_names(self.output_names, len(preds))
        preds = flatten_outputs(y_pred, names, "y_pred") if isinstance(y_pred, dict) else preds
        ys = flatten_outputs(y_true, names, "y")
        if len(ys) != len(preds):
            raise ValueError(f"the model has {len(preds)} outputs, received {len(ys)} targets")
        loss = self._loss  # only a hint for metrics_mod.get
        if isinstance(loss, dict):
            losses = [loss.get(nm) for nm in names]
        elif isinstance(loss, (list, tuple)):
            losses = list(loss) if len(loss) == len(names) else [None] * len(names)
        else:
            losses = [loss] * len(names)
        self._names = names
        self._flat = self._build_set(self._user_metrics, names, ys, preds, losses)
        self._flat_weighted = self._build_set(self._user_weighted, names, ys, preds, losses)
        # unique log names: a repeat gets _1, _2 (a weighted repeat is weighted_<name> first)
        seen, logs = {}, []
        for i, (k, m, nm) in enumerate(self._flat + self._flat_weighted):
            if nm in seen and i >= len(self._flat):
                base = f"weighted_{m.name}"
                nm = f"{self._names[k]}_{base}" if len(names) > 1 else base
            if nm in seen:
                seen[nm] += 1
                nm = f"{nm}_{seen[nm] - 1}"
            else:
                seen[nm] = 1
            logs.append(nm)
        self._log_names = logs
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        names = self._names
        ys = flatten_outputs(y_true, names, "y")
        preds = flatten_outputs(y_pred, names, "y_pred")
        prev = _core.set_grad_enabled(False)  # metric arithmetic never needs the tape
        try:
            for k, m, _ in self._flat:
                m.update_state(ys[k], preds[k])
            if self._flat_weighted:
                if isinstance(sample_weight, (list, tuple, dict)):
                    sws = flatten_outputs(sample_weight, names, "sample_weight")
                else:
                    sws = [sample_weight] * len(names)
                for k, m, _ in self._flat_weighted:
                    m.update_state(ys[k], preds[k], sample_weight=sws[k])
        finally:
            _core.set_grad_enabled(prev)

    def reset_state(self):
        for m in getattr(self, "_flat", []) + getattr(self, "_flat_weighted", []):
            m[1].reset_state()

    def result(self):
        if not self.built:
            return {}
        return {nm: m.result() for (_, m, _), nm in zip(self._flat + self._flat_weighted, self._log_names)}
