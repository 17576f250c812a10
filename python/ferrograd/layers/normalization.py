"""BatchNormalization (Keras defaults: momentum 0.99, epsilon 1e-3, moving statistics)."""
from __future__ import annotations

from .. import _core, constraints, initializers, ops, regularizers
from .layer import Layer

_MASK_EPSILON = 1e-7  # Keras' backend.epsilon(), added to the masked counts


class BatchNormalization(Layer):
    """Normalizes over every axis but ``axis`` with batch statistics in training, moving ones otherwise.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``; in training the moving statistics
    follow ``moving = moving * momentum + batch * (1 - momentum)``. A layer with
    ``trainable=False`` runs in inference mode even when ``training=True`` (Keras 3). With a mask
    (one axis fewer than the inputs), the batch statistics count only the unmasked positions.

    Example: ``BatchNormalization()(x, training=True)`` on (N, H, W, C) normalizes each channel.

    Args:
        axis: the features axis (-1 for channels_last, 1 for channels_first).
        momentum, epsilon: as above.
        center, scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer,
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: as in Keras.
        renorm, renorm_clipping, renorm_momentum: batch renormalization (not implemented: renorm=True
            raises).
        synchronized: cross-replica statistics; True raises, as Keras does off TensorFlow.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 renorm=False, renorm_clipping=None, renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Expected an int value for argument `axis`. Received: axis={axis!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1]. Received: momentum={momentum}")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive. Received: epsilon={epsilon}")
        if synchronized:
            raise ValueError("Argument synchronized=True is only supported with the TensorFlow backend.")
        if renorm:
            raise NotImplementedError("BatchNormalization: `renorm=True` (batch renormalization) is not implemented "
                                      "in ferrograd. Received: renorm=True")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = False
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = False
        self.supports_masking = True

    def build(self, input_shape):
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ValueError(f"Invalid axis {self.axis} for BatchNormalization on an input of shape "
                             f"{tuple(input_shape)}")
        n = input_shape[self.axis]
        if n is None:
            raise ValueError(f"{self.name}: axis {self.axis} of the input shape {tuple(input_shape)} must be known")
        self.gamma = (self.add_weight((n,), self.gamma_initializer, name="gamma", regularizer=self.gamma_regularizer,
                                      constraint=self.gamma_constraint) if self.scale else None)
        self.beta = (self.add_weight((n,), self.beta_initializer, name="beta", regularizer=self.beta_regularizer,
                                     constraint=self.beta_constraint) if self.center else None)
        self.moving_mean = self.add_weight((n,), self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((n,), self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)
        self.built = True

    def call(self, inputs, training=False, mask=None):
        nd = inputs.ndim
        ax = self.axis % nd
        n = inputs.shape[ax]
        gamma = self.gamma if self.gamma is not None else ops.ones((n,), inputs.dtype)
        beta = self.beta if self.beta is not None else ops.zeros((n,), inputs.dtype)
        training = bool(training) and self.trainable
        if mask is not None and len(mask.shape) != nd - 1:
            raise ValueError(f"The mask provided should be one dimension less than the inputs. Received: "
                             f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        red = tuple(i for i in range(nd) if i != ax)
        shape = [1] * nd
        shape[ax] = n
        if training and mask is not None:
            # Statistics over the unmasked positions only (Keras' masked moments).
            m = ops.cast(ops.broadcast_to(ops.expand_dims(ops.cast(mask, "bool"), -1), inputs.shape), inputs.dtype)
            count = ops.sum(m, axis=red, keepdims=True) + _MASK_EPSILON  # (1, .., n, .., 1)
            mean = ops.sum(inputs * m, axis=red, keepdims=True) / count
            var = ops.sum(ops.square((inputs - mean) * m), axis=red, keepdims=True) / count
            self._update_moving(ops.reshape(mean, (-1,)), ops.reshape(var, (-1,)))
            y = (inputs - mean) * ops.rsqrt(var + self.epsilon)
            return y * ops.reshape(gamma, shape) + ops.reshape(beta, shape)
        if training and ax == nd - 1:
            # Channels last: one fused kernel (statistics, normalization and its backward).
            y, mean, var = _core.batch_norm_train(inputs, gamma, beta, self.epsilon)
            self._update_moving(mean, var)
            return y
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
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized, "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}
