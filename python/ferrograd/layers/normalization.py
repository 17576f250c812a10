"""BatchNormalization (Keras defaults: momentum 0.99, epsilon 1e-3, moving statistics)."""
from __future__ import annotations

from .. import _core, initializers, ops
from .layer import Layer


class BatchNormalization(Layer):
    """Normalizes over every axis but ``axis`` with batch statistics in training, moving ones otherwise.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``; in training the moving statistics
    follow ``moving = moving * momentum + batch * (1 - momentum)``.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1]. Received: momentum={momentum}")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        n = input_shape[self.axis]
        self.gamma = self.add_weight((n,), self.gamma_initializer, name="gamma") if self.scale else None
        self.beta = self.add_weight((n,), self.beta_initializer, name="beta") if self.center else None
        self.moving_mean = self.add_weight((n,), self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((n,), self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)
        self.built = True

    def call(self, inputs, training=False):
        nd = inputs.ndim
        ax = self.axis % nd
        n = inputs.shape[ax]
        gamma = self.gamma if self.gamma is not None else ops.ones((n,), inputs.dtype)
        beta = self.beta if self.beta is not None else ops.zeros((n,), inputs.dtype)
        if training and ax == nd - 1:
            # Channels last: one fused kernel (statistics, normalization and its backward).
            y, mean, var = _core.batch_norm_train(inputs, gamma, beta, self.epsilon)
            self._update_moving(mean, var)
            return y
        red = tuple(i for i in range(nd) if i != ax)
        shape = [1] * nd
        shape[ax] = n
        if training:
            mean = ops.mean(inputs, axis=red, keepdims=True)
            var = ops.var(inputs, axis=red, keepdims=True)
            self._update_moving(ops.reshape(mean, (-1,)), ops.reshape(var, (-1,)))
            y = (inputs - mean) * ops.rsqrt(var + self.epsilon)
            return y * ops.reshape(gamma, shape) + ops.reshape(beta, shape)
        # Inference: fold the moving statistics into one scale and shift per channel (two passes).
        scale = gamma * ops.rsqrt(self.moving_variance + self.epsilon)
        shift = beta - self.moving_mean * scale
        return inputs * ops.reshape(scale, shape) + ops.reshape(shift, shape)

    def _update_moving(self, mean, var):
        prev = _core.set_grad_enabled(False)
        try:
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + ops.stop_gradient(mean) * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + ops.stop_gradient(var) * (1.0 - m))
        finally:
            _core.set_grad_enabled(prev)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
