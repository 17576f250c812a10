"""Optimizers whose step is composed from the Rust kernels per variable rather than one fused pass:
``keras.optimizers.Muon`` (momentum orthogonalized by Newton-Schulz iterations for 2-D weights,
AdamW for the rest) and ``ScheduleFreeAdamW`` (Defazio et al.'s schedule-free AdamW), as Keras 3.15
defines them.

Muon's step is matrix work (five Newton-Schulz iterations of three matmuls per weight matrix) and
schedule-free AdamW interpolates between three sequences; both run the matmul and element-wise
kernels under ``no_grad``, and Python only sequences them. ``_ComposedOptimizer`` holds what they
share with Keras' base optimizer: loss-scale division, gradient clipping, decoupled weight decay
(before the update, with the schedule's learning rate), the moving averages and constraints.
"""
from __future__ import annotations

import math
import re

from . import _core
from . import ops as _ops
from ._core import Tensor
from .optimizers import Optimizer


def _clip(grads, clipnorm, clipvalue, global_clipnorm):
    """Keras' gradient clipping: by value, by each gradient's norm, or by the global norm."""
    if clipvalue is not None:
        grads = [_ops.clip(g, -clipvalue, clipvalue) for g in grads]
    if clipnorm is not None:
        out = []
        for g in grads:
            n = float(_ops.sqrt(_ops.sum(_ops.square(g))))
            out.append(_ops.multiply(g, clipnorm / max(n, clipnorm)))
        grads = out
    if global_clipnorm is not None:
        total = math.sqrt(sum(float(_ops.sum(_ops.square(g))) for g in grads))
        if total > global_clipnorm:
            grads = [_ops.multiply(g, global_clipnorm / total) for g in grads]
    return grads


class _ComposedOptimizer(Optimizer):
    """Keras' ``apply`` order for a per-variable update rule: unscale, clip, decay, then
    ``_update(variable, gradient, slots, lr, step)`` for each variable."""

    def _slot_init(self, variable, name):
        """The starting value of slot ``name`` of ``variable`` (zeros unless a rule says)."""
        return _core.full(variable.shape, 0.0, variable.dtype)

    def _new_slots(self, variable):
        return [self._slot_init(variable, n) for n in self._slot_names_for(variable)]

    def _decay_rate(self, variable):
        return self.weight_decay

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = [v for v, _ in self._slots.values()]
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        for _, v in pairs:
            if not isinstance(v, Tensor):
                raise TypeError(f"variables must be ferrograd Tensors, received {type(v).__name__}")
        self.build([v for _, v in pairs])
        lr = self._current_lr()
        step = self._iterations + 1
        prev = _core.set_grad_enabled(False)
        try:
            gs = [_ops.cast(_ops.convert_to_tensor(g), v.dtype) for g, v in pairs]
            for g, (_, v) in zip(gs, pairs):
                if tuple(g.shape) != tuple(v.shape):
                    raise ValueError(f"gradient of shape {tuple(g.shape)} for a variable of shape {tuple(v.shape)}")
            if self.loss_scale_factor:
                gs = [_ops.divide(g, self.loss_scale_factor) for g in gs]
            gs = _clip(gs, self.clipnorm, self.clipvalue, self.global_clipnorm)
            for (_, v), g in zip(pairs, gs):
                wd = self._decay_rate(v)
                if wd:
                    v.assign(_ops.subtract(v, _ops.multiply(v, wd * lr)))
                self._update(v, g, self._slots[id(v)][1], lr, step)
        finally:
            _core.set_grad_enabled(prev)
        if self.use_ema:
            self._update_averages()
        self._iterations = step
        if self._constraints:
            self._apply_constraints(pairs)
        return self._iterations


class Muon(_ComposedOptimizer):
    """Muon (Jordan et al. 2024; Moonlight's learning-rate scaling): for a 2-D weight, momentum
    ``m = momentum m + g``, then the (Nesterov) step ``g + momentum m`` is orthogonalized by
    ``ns_steps`` quintic Newton-Schulz iterations (``muon_a``, ``muon_b``, ``muon_c``) and applied
    with ``learning_rate * sqrt(max(rows, cols)) * rms_rate``. Other weights (rank != 2, paths
    containing "embedding" when ``exclude_embeddings``, paths matching a pattern of
    ``exclude_layers``) get AdamW (``adam_beta_1``, ``adam_beta_2``, ``epsilon``, learning rate
    times ``adam_lr_ratio``). Decoupled weight decay: ``weight_decay`` for Muon weights,
    ``adam_weight_decay`` for the others.

    Args: as ``keras.optimizers.Muon``.
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
                 nesterov=True, rms_rate=0.2, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if not isinstance(ns_steps, int) or isinstance(ns_steps, bool) or ns_steps < 0:
            raise ValueError(f"`ns_steps` must be a non-negative integer. Received: ns_steps={ns_steps!r}")
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps, self.nesterov = adam_lr_ratio, momentum, ns_steps, nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if len(variable.shape) != 2:
            return True
        path = getattr(variable, "path", None) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _slot_names_for(self, variable):
        return ["momentum", "velocity"] if self._should_use_adamw(variable) else ["momentum"]

    def _newton_schulz(self, x):
        rows, cols = x.shape[-2], x.shape[-1]
        if rows > cols:
            x = _ops.swapaxes(x, -1, -2)
        x = _ops.divide(x, _ops.add(_ops.sqrt(_ops.sum(_ops.square(x), axis=(-2, -1), keepdims=True)), 1e-7))
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        for _ in range(self.ns_steps):
            ta = _ops.matmul(x, _ops.swapaxes(x, -1, -2))
            tb = _ops.add(_ops.multiply(ta, b), _ops.multiply(_ops.matmul(ta, ta), c))
            x = _ops.add(_ops.multiply(x, a), _ops.matmul(tb, x))
        return _ops.swapaxes(x, -1, -2) if rows > cols else x

    def _decay_rate(self, variable):
        return self.adam_weight_decay if self._should_use_adamw(variable) else self.weight_decay

    def _update(self, v, g, slots, lr, step):
        if self._should_use_adamw(v):
            self._adamw(v, g, slots[0], slots[1], lr * self.adam_lr_ratio, step)
        else:
            self._muon(v, g, slots[0], lr)

    def _muon(self, v, g, m, lr):
        m.assign(_ops.add(_ops.multiply(m, self.momentum), g))
        direction = _ops.add(g, _ops.multiply(m, self.momentum)) if self.nesterov else m
        update = _ops.multiply(self._newton_schulz(direction), lr)
        if self.rms_rate is not None:
            update = _ops.multiply(update, math.sqrt(max(v.shape[0], v.shape[1])) * self.rms_rate)
        v.assign(_ops.subtract(v, update))

    def _adamw(self, v, g, m, vel, lr, step):
        alpha = lr * math.sqrt(1 - self.adam_beta_2 ** step) / (1 - self.adam_beta_1 ** step)
        m.assign(_ops.add(m, _ops.multiply(_ops.subtract(g, m), 1 - self.adam_beta_1)))
        vel.assign(_ops.add(vel, _ops.multiply(_ops.subtract(_ops.square(g), vel), 1 - self.adam_beta_2)))
        v.assign(_ops.subtract(v, _ops.divide(_ops.multiply(m, alpha), _ops.add(_ops.sqrt(vel), self.epsilon))))

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum, "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings, "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate}


class ScheduleFreeAdamW(_ComposedOptimizer):
    """Schedule-free AdamW (Defazio et al. 2024), as Keras 3.15: the variable holds the
    interpolation ``y = (1 - beta_1) z + beta_1 x`` between the Adam-style iterate ``z`` (slot
    "momentum", starting at the variable) and the running average ``x`` of the ``z``s (weights
    ``1 / t``); no learning-rate schedule is needed. ``warmup_steps`` ramps the rate linearly.

    Args: learning_rate (0.0025), beta_1 (0.9), beta_2 (0.999), epsilon (1e-8), warmup_steps (0),
    and the base optimizer arguments.
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        if not isinstance(warmup_steps, int) or isinstance(warmup_steps, bool) or warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be a non-negative integer. Received: warmup_steps={warmup_steps!r}")
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, warmup_steps

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _slot_init(self, variable, name):
        if name == "momentum":
            return _ops.copy(variable)
        return super()._slot_init(variable, name)

    def _update(self, v, g, slots, lr, step):
        z, vel = slots
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        vel.assign(_ops.add(vel, _ops.multiply(_ops.subtract(_ops.square(g), vel), 1 - self.beta_2)))
        denom = _ops.add(_ops.sqrt(_ops.divide(vel, 1 - self.beta_2 ** step)), self.epsilon)
        z.assign(_ops.subtract(z, _ops.divide(_ops.multiply(g, lr), denom)))
        weight = 1.0 / step
        b1 = self.beta_1
        # Keras reads ``momentum.value`` before updating z, but that value follows the in-place
        # update (on its PyTorch and TensorFlow backends alike, measured), so x_old is formed from
        # the new z; we match Keras' numbers.
        x_old = _ops.divide(_ops.subtract(v, _ops.multiply(z, 1 - b1)), b1)
        x_new = _ops.add(_ops.multiply(x_old, 1 - weight), _ops.multiply(z, weight))
        v.assign(_ops.add(_ops.multiply(z, 1 - b1), _ops.multiply(x_new, b1)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}


class Adafactor(_ComposedOptimizer):
    """Adafactor (Shazeer and Stern 2018), as Keras 3.15: the second moment of a weight of rank 2
    or more is kept factored, as its row means ``r`` (shape ``[..., rows]``) and column means
    ``c`` (``[..., cols]``) of ``g^2 + epsilon_1``, decayed by ``1 - t^beta_2_decay``; the step
    ``g / sqrt(v)`` (``v`` rebuilt from ``r`` and ``c``) is clipped to RMS ``clip_threshold`` and
    scaled by ``max(epsilon_2, rms(w)) * min(lr, 1 / sqrt(t))``. With ``relative_step`` (and a
    constant learning rate) the rate is also capped at ``1 / sqrt(t)``. Rank 0 and 1 weights keep
    a full second moment.

    Args: learning_rate (0.001), beta_2_decay (-0.8), epsilon_1 (1e-30), epsilon_2 (1e-3),
    clip_threshold (1.0), relative_step (True), and the base optimizer arguments.
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def _slot_names(self):
        return ["r", "c", "velocity"]

    def _slot_names_for(self, variable):
        return ["r", "c", "velocity"] if len(variable.shape) >= 2 else ["velocity"]

    def _slot_shape_for(self, variable, name):
        shape = tuple(variable.shape)
        if name == "r":
            return shape[:-1]
        if name == "c":
            return shape[:-2] + shape[-1:]
        return shape

    def _slot_init(self, variable, name):
        return _core.full(self._slot_shape_for(variable, name), 0.0, variable.dtype)

    @staticmethod
    def _rms(x):
        return float(_ops.sqrt(_ops.mean(_ops.square(x)))) if x.size else 0.0

    def _update(self, v, g, slots, lr, step):
        from .optimizers import LearningRateSchedule

        if self.relative_step and not isinstance(self._learning_rate, LearningRateSchedule) and not callable(
                self._learning_rate):
            lr = min(lr, 1.0 / math.sqrt(step))
        rho = min(lr, 1.0 / math.sqrt(step))
        alpha = max(self.epsilon_2, self._rms(v)) * rho
        reg = _ops.add(_ops.square(g), self.epsilon_1)
        beta = 1.0 - step ** self.beta_2_decay
        if len(v.shape) >= 2:
            r, c, vel = slots
            r.assign(_ops.add(_ops.multiply(r, beta), _ops.multiply(_ops.mean(reg, axis=-1), 1.0 - beta)))
            c.assign(_ops.add(_ops.multiply(c, beta), _ops.multiply(_ops.mean(reg, axis=-2), 1.0 - beta)))
            row = _ops.divide(r, _ops.mean(r, axis=-1, keepdims=True))
            vel.assign(_ops.multiply(_ops.expand_dims(row, -1), _ops.expand_dims(c, -2)))
        else:
            (vel,) = slots
            vel.assign(_ops.add(_ops.multiply(vel, beta), _ops.multiply(reg, 1.0 - beta)))
        u = _ops.divide(g, _ops.sqrt(vel))
        u = _ops.divide(u, max(1.0, self._rms(u) / self.clip_threshold))
        v.assign(_ops.subtract(v, _ops.multiply(u, alpha)))

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}
