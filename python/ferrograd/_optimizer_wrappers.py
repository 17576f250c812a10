"""Optimizers that delegate to others (``keras.optimizers`` names): ``LossScaleOptimizer``
(dynamic loss scaling), ``OptimizerMap`` and ``MultiOptimizer`` (different optimizers for
different variables). They hold no arithmetic of their own: the updates are the inner optimizers'
fused Rust steps; the finite check is one reduction per gradient.

Both wrappers keep the inner optimizers' slots per variable, so ``model.save`` stores and
``load_model`` restores them (``_slot_names_for`` / ``_slots_for`` answer per variable).
"""
from __future__ import annotations

import re
from collections.abc import MutableMapping

from .optimizers import Optimizer, deserialize, serialize


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around ``inner_optimizer``: ``fit`` multiplies the loss by the
    current scale before the backward pass (``scale_loss``); ``apply`` divides the gradients by it
    and, if they are all finite, applies them with the inner optimizer and doubles the scale after
    ``dynamic_growth_steps`` such steps in a row; otherwise it skips the update and halves the
    scale. In float32 this mostly guards against overflowing steps; Keras uses it for mixed
    precision, which ferrograd does not have.

    Args: inner_optimizer, initial_scale (2**15), dynamic_growth_steps (2000), name.
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                             "`loss_scale_factor` directly on the `inner_optimizer`.")
        defaults = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                    "loss_scale_factor": None, "gradient_accumulation_steps": None}
        for arg, default in defaults.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the "
                                 "`inner_optimizer`.")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"inner_optimizer must be a Keras Optimizer instance. Received: {inner_optimizer!r}")
        if not initial_scale > 0 or not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(f"initial_scale must be > 0 and dynamic_growth_steps an int >= 1. Received: "
                             f"initial_scale={initial_scale}, dynamic_growth_steps={dynamic_growth_steps}")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None
        self.dynamic_scale = float(initial_scale)
        self.step_counter = 0

    # the inner optimizer's state is this optimizer's state
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def use_ema(self):
        return self.inner_optimizer.use_ema

    @use_ema.setter
    def use_ema(self, value):
        if value:
            raise ValueError("LossScaleOptimizer does not support `use_ema`; set it on the inner optimizer.")

    @property
    def variables(self):
        return self.inner_optimizer.variables

    def build(self, var_list):
        self.inner_optimizer.build(var_list)

    def _slot_names_for(self, variable):
        return self.inner_optimizer._slot_names_for(variable)

    def _ema_for(self, variable):
        return self.inner_optimizer._ema_for(variable)

    def _slot_shape_for(self, variable, name):
        return self.inner_optimizer._slot_shape_for(variable, name)

    def _slots_for(self, variable):
        return self.inner_optimizer._slots_for(variable)

    def _average_of(self, variable):
        return self.inner_optimizer._average_of(variable)

    def scale_loss(self, loss):
        return loss * self.dynamic_scale

    @staticmethod
    def check_finite(grads):
        """True when every gradient (None ones skipped) is finite everywhere."""
        from . import ops

        return all(bool(ops.all(ops.isfinite(g)).item()) for g in grads if g is not None)

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if self.check_finite(grads):
            scale = self.dynamic_scale
            self.inner_optimizer.apply([None if g is None else g / scale for g in grads], trainable_variables)
            if self.step_counter == self.dynamic_growth_steps - 1:
                self.step_counter = 0
                self.dynamic_scale *= 2.0
            else:
                self.step_counter += 1
        else:
            self.step_counter = 0
            self.dynamic_scale *= 0.5
        return self.iterations

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(deserialize(config.pop("inner_optimizer")), **config)


def _check_member(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer!r}")
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError("optimizer cannot be LossScaleOptimizer.")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError("optimizer cannot be MultiOptimizer.")


class OptimizerMap(MutableMapping):
    """Variable paths (or regular expressions matched with ``re.fullmatch``) to optimizers, with
    ``default_optimizer`` for the rest. ``map[path]`` tries the exact key, then the patterns
    (two matching patterns raise ValueError); ``map(variable)`` looks up ``variable.path``."""

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for k, v in (optimizer_map or {}).items():
            self[k] = v

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        return self._optimizer_map[matching[0]] if matching else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value {self._optimizer_map[key]}. "
                             "Please make sure to not use duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        _check_member(optimizer)
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        path = getattr(variable, "path", None)
        if path is None:
            raise ValueError("OptimizerMap needs variables with a `path` (layer weights or keras.Variable)")
        return self[path]

    def get_config(self):
        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config):
        return cls(deserialize(config["default_optimizer"]),
                   {k: deserialize(v) for k, v in (config.get("optimizer_map") or {}).items()})


class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer that ``optimizer_map`` (an ``OptimizerMap`` or a
    callable ``variable -> optimizer``) gives it; one ``apply`` applies every sub-optimizer to its
    variables. ``optimizers`` lists the sub-optimizers; the learning rate lives on each of them,
    so ``learning_rate`` raises here.

    Args: optimizer_map, loss_scale_factor (set on every sub-optimizer), name.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not (isinstance(optimizer_map, OptimizerMap) or callable(optimizer_map)):
            raise TypeError(f"optimizer_map must be an OptimizerMap or a callable. Received: {optimizer_map!r}")
        self._inner_optimizers = []
        self._optimizer_map = optimizer_map
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        if isinstance(optimizer_map, OptimizerMap):
            for opt in list(optimizer_map.values()) + [optimizer_map.default_optimizer]:
                if opt not in self._inner_optimizers:
                    self._inner_optimizers.append(opt)
        self.loss_scale_factor = loss_scale_factor
        self._owner = {}  # id(variable) -> (variable, optimizer)

    @property
    def optimizers(self):
        return self._inner_optimizers

    @property
    def iterations(self):
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        # a restored count (load_model) also goes to the sub-optimizers, which step with this one
        self._iterations = int(value)
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.iterations = value

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the "
                             "individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
                             "individual sub-optimizers instead.")

    @property
    def loss_scale_factor(self):
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.loss_scale_factor = value

    @property
    def variables(self):
        return [v for opt in self._inner_optimizers for v in opt.variables]

    def _optimizer_of(self, variable):
        entry = self._owner.get(id(variable))
        if entry is not None and entry[0] is variable:
            return entry[1]
        opt = self._optimizer_map(variable)
        _check_member(opt)
        if opt not in self._inner_optimizers:
            opt.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(opt)
        self._owner[id(variable)] = (variable, opt)
        return opt

    def build(self, var_list):
        groups = {}
        for v in var_list:
            groups.setdefault(id(self._optimizer_of(v)), (self._optimizer_of(v), []))[1].append(v)
        for opt, vs in groups.values():
            opt.build(vs)

    def _slot_names_for(self, variable):
        return self._optimizer_of(variable)._slot_names_for(variable)

    def _ema_for(self, variable):
        return self._optimizer_of(variable)._ema_for(variable)

    def _slot_shape_for(self, variable, name):
        return self._optimizer_of(variable)._slot_shape_for(variable, name)

    def _slots_for(self, variable):
        entry = self._owner.get(id(variable))
        return entry[1]._slots_for(variable) if entry is not None and entry[0] is variable else None

    def _average_of(self, variable):
        entry = self._owner.get(id(variable))
        return entry[1]._average_of(variable) if entry is not None and entry[0] is variable else None

    @property
    def use_ema(self):
        return any(opt.use_ema for opt in self.__dict__.get("_inner_optimizers", []))

    @use_ema.setter
    def use_ema(self, value):
        if value:
            raise ValueError("MultiOptimizer does not take `use_ema`; set it on the sub-optimizers.")

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is None:
            trainable_variables = [v for v, _ in self._owner.values()]
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"Gradients must match trainable variables one-to-one. Received {len(grads)} "
                             f"gradients and {len(variables)} variables.")
        groups = {}
        for g, v in zip(grads, variables):
            opt = self._optimizer_of(v)
            groups.setdefault(id(opt), (opt, [], []))
            groups[id(opt)][1].append(g)
            groups[id(opt)][2].append(v)
        for opt, gs, vs in groups.values():
            opt.apply(gs, vs)
        self._iterations += 1
        return self._iterations

    def finalize_variable_values(self, var_list):
        groups = {}
        for v in var_list:
            opt = self._optimizer_of(v)
            groups.setdefault(id(opt), (opt, []))[1].append(v)
        for opt, vs in groups.values():
            opt.finalize_variable_values(vs)

    def get_config(self):
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise ValueError("MultiOptimizer.get_config: a callable optimizer_map cannot be serialized; use an "
                             "OptimizerMap to save the model with its optimizer")
        return {"name": self.name, "optimizer_map": self._optimizer_map.get_config(),
                "loss_scale_factor": self.loss_scale_factor}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(OptimizerMap.from_config(config.pop("optimizer_map")), **config)
