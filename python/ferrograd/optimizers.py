"""Optimizers (``keras.optimizers`` names, arguments and update formulas).

Python holds configuration only: each step is one fused Rust call that clips the gradients and
updates every variable and its slots in place (``_core.optimizer_step``).

State: ``iterations`` (the number of steps applied) and, per variable, the slot tensors the fused
rule keeps, named as Keras names them (``_slot_names``, in the kernel's order): SGD ``momentum``;
Adam/AdamW ``momentum``, ``velocity`` [, ``velocity_hat``]; RMSprop ``velocity`` [, ``momentum``]
[, ``average_gradient``]. ``ferrograd.saving`` stores both in a ``.keras`` file so that training
resumes exactly where it stopped.
"""
from __future__ import annotations

import math

import numpy as np

from . import _core
from ._core import Tensor

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl", "Lamb",
    "LossScaleOptimizer", "MultiOptimizer", "OptimizerMap", "Muon", "ScheduleFreeAdamW", "Adafactor", "get",
    "serialize", "deserialize",
    "schedules",
]


class _Schedules:
    """Namespace object for ``optimizers.schedules`` (filled below)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"keras.optimizers.schedules.{name} is not available in ferrograd yet")

    def __dir__(self):
        return sorted(self.__dict__)


schedules = _Schedules()


class LearningRateSchedule:
    """Base class: ``schedule(step)`` gives the learning rate at a 0-based step."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _RateDecay(LearningRateSchedule):
    """Shared state of the decays driven by ``p = step / decay_steps`` (floored if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be positive, received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = staircase
        self.name = name

    def _progress(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (integer division if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or ``warmup_target`` after a linear warmup)
    down to ``alpha`` times that value over ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be positive, received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.alpha = float(alpha)
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        if self.warmup_target is not None and step < self.warmup_steps:
            frac = step / self.warmup_steps
            return self.initial_learning_rate + frac * (self.warmup_target - self.initial_learning_rate)
        base = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        s = min(step - (self.warmup_steps if self.warmup_target is not None else 0), self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * s / self.decay_steps))
        return base * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for steps in ``(boundaries[i-1], boundaries[i]]``."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"values must have one more entry than boundaries, received {len(boundaries)} "
                             f"boundaries and {len(values)} values")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, held at ``end`` after
    ``decay_steps``; with ``cycle`` the horizon grows to the next multiple of ``decay_steps``."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = float(step)
        horizon = float(self.decay_steps)
        if self.cycle:
            horizon *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, horizon)
        p = step / horizon
        return (self.initial_learning_rate - self.end_learning_rate) * (1.0 - p) ** self.power + \
            self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016): period ``i`` lasts
    ``first_decay_steps * t_mul ** i`` steps and starts at ``initial_learning_rate * m_mul ** i``;
    each decays to ``alpha`` times its start."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        if first_decay_steps <= 0:
            raise ValueError("Argument `first_decay_steps` must be > 0. Received: "
                             f"first_decay_steps={first_decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = float(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            # the number of whole periods before ``step``: sum_{k<i} t_mul^k <= fraction
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** i_restart
        cosine = 0.5 * self._m_mul ** i_restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay,
                                      PolynomialDecay, CosineDecayRestarts)}


def _serialize_schedule(schedule):
    """Keras' dict for a schedule: ``{"module", "class_name", "config", "registered_name"}``."""
    from ._serialization import serialize_object

    if not isinstance(schedule, LearningRateSchedule):
        raise ValueError(f"Expected a LearningRateSchedule, received {schedule!r}")
    return serialize_object(schedule, "keras.optimizers.schedules", "learning rate schedule")


def _deserialize_schedule(config, custom_objects=None):
    """The schedule described by ``serialize``'s output (or the older ``{"class_name", "config"}``);
    classes come from this module or the classes registered with ``keras.saving``."""
    from ._serialization import deserialize_object

    table = {**_SCHEDULES, **(custom_objects or {})}
    return deserialize_object(config, table, "learning rate schedule")


for _cls in (LearningRateSchedule, *_SCHEDULES.values()):
    setattr(schedules, _cls.__name__, _cls)
schedules.serialize = _serialize_schedule
schedules.deserialize = _deserialize_schedule


class Optimizer:
    """Base optimizer: learning rate (float, schedule or callable), decoupled weight decay and
    gradient clipping (``clipnorm`` per variable, ``clipvalue`` elementwise, ``global_clipnorm``
    over all gradients)."""

    _rule = None

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int) or isinstance(
                    ema_overwrite_frequency, bool) or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                 f"ema_overwrite_frequency={ema_overwrite_frequency}")
        if gradient_accumulation_steps:
            raise ValueError("gradient_accumulation_steps is not supported by ferrograd optimizers yet")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Only one of `clipnorm` and `global_clipnorm` can be set. "
                             f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}")
        for arg, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if v is not None and not v > 0:
                raise ValueError(f"`{arg}` must be a positive number. Received: {arg}={v}")
        if weight_decay is not None and weight_decay < 0:
            raise ValueError(f"weight_decay must be non-negative. Received: weight_decay={weight_decay}")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.loss_scale_factor = loss_scale_factor
        self.name = name or _snake(type(self).__name__)
        self._iterations = 0
        self._slots = {}  # id(variable) -> (variable, [slot tensors])
        self._constraints = {}  # id(variable) -> (variable, constraint), for constrained variables
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._averages = {}  # id(variable) -> (variable, moving average), with use_ema

    # ---- state -------------------------------------------------------------------------------
    @property
    def iterations(self):
        """Number of update steps applied so far."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value)

    @property
    def learning_rate(self):
        """The current learning rate (a schedule is evaluated at the current iteration)."""
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value

    def _current_lr(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self._iterations))
        if callable(lr):
            return float(lr())
        return float(lr)

    @property
    def variables(self):
        """The slot tensors of every variable seen so far (variable by variable, each in
        ``_slot_names()`` order), then the moving averages with ``use_ema``. Unlike Keras, the
        iteration count is not among them: it is the plain integer ``iterations``."""
        return [s for _, slots in self._slots.values() for s in slots] + [a for _, a in self._averages.values()]

    def _slot_names(self):
        """Keras's names of the slots kept per variable, in the order the fused kernel takes them."""
        return []

    def _slot_names_for(self, variable):
        """The slot names of ``variable`` (the same for every variable here; wrappers that delegate
        to several optimizers answer per variable)."""
        return self._slot_names()

    def _slot_shape_for(self, variable, name):
        """The shape of slot ``name`` of ``variable`` (the variable's own, unless a rule keeps a
        factored slot, as Adafactor does)."""
        return tuple(variable.shape)

    def _ema_for(self, variable):
        """Whether ``variable`` has a moving average (``use_ema``)."""
        return self.use_ema

    def scale_loss(self, loss):
        """``loss`` times ``loss_scale_factor`` when one is set (Keras' hook: ``fit`` calls it
        before the backward pass, and ``apply`` divides the gradients back)."""
        return loss * self.loss_scale_factor if self.loss_scale_factor else loss

    def _n_slots(self):
        return len(self._slot_names())

    def _slot_inits(self):
        """The value each slot starts from (``_slot_names()`` order): zeros unless a rule says."""
        return [0.0] * self._n_slots()

    def _new_slots(self, variable):
        """The slot tensors of a variable seen for the first time (``_slot_inits()`` values, the
        variable's shape); rules with per-variable slots override it."""
        return [_core.full(variable.shape, init, variable.dtype) for init in self._slot_inits()]

    def build(self, var_list):
        """Creates the slots of ``var_list`` (done lazily by ``apply`` otherwise)."""
        for v in var_list:
            if id(v) not in self._slots:
                self._slots[id(v)] = (v, self._new_slots(v))
                constraint = getattr(v, "constraint", None)  # set by Layer.add_weight, as on Keras variables
                if constraint is not None:
                    self._constraints[id(v)] = (v, constraint)
            if self.use_ema and id(v) not in self._averages:
                self._averages[id(v)] = (v, _core.full(v.shape, 0.0, v.dtype))  # zeros, as Keras

    def _slots_for(self, variable):
        """The slot tensors of ``variable`` (``_slot_names()`` order), or None before its first update.

        ``_slots`` holds each variable itself next to its slots, so an id is never reused while its
        entry lives; the identity check guards against a look-up with a different tensor anyway.
        """
        entry = self._slots.get(id(variable))
        return entry[1] if entry is not None and entry[0] is variable else None

    # ---- updates -----------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Applies ``[(grad, variable), ...]``; pairs whose gradient is None are skipped."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        """One update step of every variable with its gradient (in place); returns the iteration."""
        if trainable_variables is None:
            trainable_variables = [v for v, _ in self._slots.values()]
        grads = list(grads)
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        for _, v in pairs:
            if not isinstance(v, Tensor):
                raise TypeError(f"variables must be ferrograd Tensors, received {type(v).__name__}")
        self.build([v for _, v in pairs])
        lr = self._current_lr()
        if self.loss_scale_factor:
            pairs = [(g / self.loss_scale_factor, v) for g, v in pairs]
        by_dtype = {}
        for g, v in pairs:
            by_dtype.setdefault(v.dtype, []).append((g, v))
        step = self._iterations + 1
        for group in by_dtype.values():
            _core.optimizer_step(
                self._rule, [v for _, v in group], [g for g, _ in group],
                [self._slots[id(v)][1] for _, v in group], lr, step,
                weight_decay=float(self.weight_decay or 0.0), clipnorm=self.clipnorm, clipvalue=self.clipvalue,
                global_clipnorm=self.global_clipnorm, **self._hyper())
        if self.use_ema:
            self._update_averages()
        self._iterations = step
        if self._constraints:
            self._apply_constraints(pairs)
        return self._iterations

    # ---- exponential moving average (use_ema) ------------------------------------------------
    def _update_averages(self):
        """Keras' order, before the step is counted: ``average = m * average + (1 - m) * variable``
        for every variable the optimizer has built (``m`` is 0 on the first step, so the average
        starts at the variable), then, every ``ema_overwrite_frequency`` steps, the variables take
        their averages. ``m`` and ``1 - m`` are rounded to float32 as Keras computes them."""
        m = np.float32(self.ema_momentum if self._iterations != 0 else 0.0)
        keep, take = float(m), float(np.float32(1.0) - m)
        prev = _core.set_grad_enabled(False)
        try:
            for v, avg in self._averages.values():
                avg.assign(avg * keep + v * take)
            if self.ema_overwrite_frequency and (self._iterations + 1) % self.ema_overwrite_frequency == 0:
                for v, avg in self._averages.values():
                    v.assign(avg)
        finally:
            _core.set_grad_enabled(prev)

    def _average_of(self, variable):
        entry = self._averages.get(id(variable))
        return entry[1] if entry is not None and entry[0] is variable else None

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, gives each variable of ``var_list`` its moving average (``fit`` calls
        this when training ends, as Keras does); otherwise nothing."""
        if not self.use_ema:
            return
        prev = _core.set_grad_enabled(False)
        try:
            for v in var_list:
                avg = self._average_of(v)
                if avg is not None:
                    v.assign(avg)
        finally:
            _core.set_grad_enabled(prev)

    def _apply_constraints(self, pairs):
        """Projects each updated variable that has a constraint (Keras applies ``variable.constraint``
        after the update, inside ``apply``, so custom training steps get it too)."""
        prev = _core.set_grad_enabled(False)
        try:
            for _, v in pairs:
                entry = self._constraints.get(id(v))
                if entry is not None and entry[0] is v:
                    v.assign(entry[1](v))
        finally:
            _core.set_grad_enabled(prev)

    def _hyper(self):
        return {}

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = _serialize_schedule(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor, "gradient_accumulation_steps": None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict) and "class_name" in lr:
            config["learning_rate"] = _deserialize_schedule(lr)
        return cls(**config)


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum: ``v = m v - lr g; w += v``."""

    _rule = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ["momentum"] if self.momentum else []

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba) with Keras' epsilon placement and default ``epsilon=1e-7``."""

    _rule = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        for arg, v in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= v < 1:
                raise ValueError(f"`{arg}` must be in [0, 1). Received: {arg}={v}")
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad

    def _slot_names(self):
        return ["momentum", "velocity"] + (["velocity_hat"] if self.amsgrad else [])

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default ``weight_decay=0.004``)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name=name, **kwargs)


class RMSprop(Optimizer):
    """RMSprop: ``v = rho v + (1-rho) g^2; w -= lr g / sqrt(v + eps)`` (optionally centered, with momentum)."""

    _rule = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def _slot_names(self):
        # the kernel's order: velocity, [momentum], [average gradient]
        return ["velocity"] + (["momentum"] if self.momentum else []) + (["average_gradient"] if self.centered else [])

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


def _check_unit(**values):
    for arg, v in values.items():
        if not 0 <= v < 1:
            raise ValueError(f"`{arg}` must be in [0, 1). Received: {arg}={v}")


class Adagrad(Optimizer):
    """Adagrad: ``a += g^2; w -= lr g / sqrt(a + eps)``, the accumulator starting at
    ``initial_accumulator_value``."""

    _rule = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        if initial_accumulator_value < 0:
            raise ValueError("`initial_accumulator_value` must be non-negative. Received: "
                             f"initial_accumulator_value={initial_accumulator_value}")
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def _slot_names(self):
        return ["accumulator"]

    def _slot_inits(self):
        return [self.initial_accumulator_value]

    def _hyper(self):
        return {"epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler): running averages of squared gradients and squared updates; the step is
    ``lr * -sqrt(ad + eps) g / sqrt(ag + eps)``."""

    _rule = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="adadelta", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _slot_names(self):
        return ["accumulated_grad", "accumulated_delta_var"]

    def _hyper(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm, ``u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))``."""

    _rule = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="adamax", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        _check_unit(beta_1=beta_1, beta_2=beta_2)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _slot_names(self):
        return ["momentum", "norm"]

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Adamax):
    """Nadam: Adam with Nesterov momentum and Keras' momentum schedule
    ``u_t = b1 (1 - 0.5 * 0.96^t)`` (its running product is recomputed from ``iterations``, so a
    restored optimizer continues exactly)."""

    _rule = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="nadam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)
        self._u_cache = (0, 1.0)  # (step, product of u_1..u_step)

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _u(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** step)

    def _u_product(self, step):
        done, prod = self._u_cache
        if done > step:
            done, prod = 0, 1.0
        for k in range(done + 1, step + 1):
            prod *= self._u(k)
        self._u_cache = (step, prod)
        return prod

    def _hyper(self):
        t = self._iterations + 1
        prod = self._u_product(t)
        u_t, u_next = self._u(t), self._u(t + 1)
        coefs = (u_next / (1.0 - prod * u_next), (1.0 - u_t) / (1.0 - prod))
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "nadam_coefs": coefs}


class Lion(Optimizer):
    """Lion (Chen et al.): ``w -= lr sign(b1 m + (1-b1) g); m = b2 m + (1-b2) g``."""

    _rule = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="lion", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        if not 0 < beta_1 <= 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Received: beta_1={beta_1}.")
        if not 0 < beta_2 <= 1:
            raise ValueError(f"Argument `beta_2` must be in the [0, 1] range. Received: beta_2={beta_2}.")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _slot_names(self):
        return ["momentum"]

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al.), Keras' formulation: with the accumulator
    ``n`` (from ``initial_accumulator_value``) and the linear term ``z``, per step
    ``n' = n + g^2``, ``z += g + 2 l2s w - (n'^-p - n^-p) / lr * w``,
    ``w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 (l2 + beta / (2 lr)))`` with ``p`` the
    ``learning_rate_power``, ``l1``/``l2``/``l2s`` the regularization strengths.
    One fused Rust pass per parameter."""

    _rule = "ftrl"

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="ftrl", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value, "positive or zero"),
                  ("l1_regularization_strength", l1_regularization_strength, "positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength, "positive or zero"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, "positive or zero"))
        for arg, value, want in checks:
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be {want}. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _slot_names(self):
        return ["accumulator", "linear"]

    def _slot_inits(self):
        return [float(self.initial_accumulator_value), 0.0]

    def _hyper(self):
        return {"ftrl": (float(self.learning_rate_power), float(self.l1_regularization_strength),
                         float(self.l2_regularization_strength), float(self.l2_shrinkage_regularization_strength),
                         float(self.beta))}

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Lamb(Optimizer):
    """LAMB (You et al., 2019), Keras' formulation: Adam's moments ``m``, ``v`` and direction
    ``r = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon)``, scaled per variable by the trust
    ratio ``|w| / |r|`` (1 when either norm is 0): ``w -= lr * |w| / |r| * r``. Layer-wise
    adaptation keeps large-batch training stable. Two Rust passes per step: the fused moment
    update, then the per-variable norms (summed chunk by chunk in a fixed order, so the result
    does not depend on the thread count) and the scaled update."""

    _rule = "lamb"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="lamb", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        for arg, v in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= v < 1:
                raise ValueError(f"`{arg}` must be in [0, 1). Received: {arg}={v}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "adamax": Adamax, "nadam": Nadam, "lion": Lion, "ftrl": Ftrl, "lamb": Lamb}


def serialize(optimizer):
    """``{"class_name": ..., "config": ...}`` for an optimizer."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """The optimizer described by ``serialize``'s output."""
    if not isinstance(config, dict):
        raise TypeError(f"Could not interpret optimizer config: expected a dict. Received: {config!r}")
    name = config.get("class_name", "")
    cls = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Could not interpret optimizer class name: {name!r}; known: {sorted(_BY_NAME)}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An optimizer from a name (``"adam"``), a serialized dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; "
                             f"expected one of {sorted(_BY_NAME)}")
        return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


from ._optimizer_composed import Adafactor, Muon, ScheduleFreeAdamW  # noqa: E402
from ._optimizer_wrappers import LossScaleOptimizer, MultiOptimizer, OptimizerMap  # noqa: E402

_BY_NAME.update({"lossscaleoptimizer": LossScaleOptimizer, "multioptimizer": MultiOptimizer, "muon": Muon,
                 "schedulefreeadamw": ScheduleFreeAdamW, "adafactor": Adafactor})


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
