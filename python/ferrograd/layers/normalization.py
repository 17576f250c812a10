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
        red = tuple(i for i in range(nd) if i != ax)
        shape = [1] * nd
        shape[ax] = inputs.shape[ax]
        if training:
            mean = ops.mean(inputs, axis=red, keepdims=True)
            var = ops.var(inputs, axis=red, keepdims=True)
            prev = _core.set_grad_enabled(False)
            try:
                m = self.momentum
                self.moving_mean.assign(self.moving_mean * m + ops.reshape(mean, (-1,)) * (1.0 - m))
                self.moving_variance.assign(self.moving_variance * m + ops.reshape(var, (-1,)) * (1.0 - m))
            finally:
                _core.set_grad_enabled(prev)
        else:
            mean = ops.reshape(self.moving_mean, shape)
            var = ops.reshape(self.moving_variance, shape)
        y = (inputs - mean) * ops.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * ops.reshape(self.gamma, shape)
        if self.beta is not None:
            y = y + ops.reshape(self.beta, shape)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
