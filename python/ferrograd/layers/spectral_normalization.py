"""``SpectralNormalization``: keeps a wrapped layer's kernel at spectral norm ~1 (Miyato et al.,
2018), as Keras 3 does it: during training calls, a few steps of power iteration on the kernel
(reshaped to (-1, out)) estimate its largest singular value ``sigma`` from a persistent vector
``u``; the kernel is divided by ``sigma`` in place and ``u`` is kept for the next call. Inference
calls use the kernel as it is. An all-zero kernel is left alone.
"""
from __future__ import annotations

from .. import initializers, ops
from .input_spec import InputSpec
from .rnn_wrappers import Wrapper


class SpectralNormalization(Wrapper):
    """Spectral normalization of the weights of ``layer`` (one with a ``kernel``, such as Dense or
    Conv2D, or ``embeddings``, such as Embedding).

    Example::

        critic = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.SpectralNormalization(layers.Conv2D(64, 4, strides=2)),
            layers.LeakyReLU(0.2), layers.Flatten(),
            layers.SpectralNormalization(layers.Dense(1)),
        ])

    Args:
        layer: the layer whose kernel is normalized.
        power_iterations: power-iteration steps per training call (>= 1).

    Weights: the wrapped layer's, plus ``vector_u`` (1, out), not trainable, drawn from a
    truncated normal of stddev 0.02.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(f"`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if hasattr(self.layer, "kernel"):
            name = "kernel"
        elif hasattr(self.layer, "embeddings"):
            name = "embeddings"
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        self._kernel_name = name
        kernel = self.kernel
        self.kernel_shape = tuple(kernel.shape)
        self.vector_u = self.add_weight((1, self.kernel_shape[-1]), initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u", dtype=kernel.dtype)
        self.built = True

    @property
    def kernel(self):
        """The wrapped layer's kernel (or embeddings): the tensor that is normalized in place."""
        return getattr(self.layer, self._kernel_name)

    def call(self, inputs, training=False):
        if training:
            from .. import no_grad

            with no_grad():
                if not bool(ops.all(ops.equal(self.kernel, 0)).numpy()):
                    u, kernel = self.normalized_weights()
                    self.vector_u.assign(u)
                    self.kernel.assign(kernel)
        out = self.layer(inputs)
        # Keras casts the output to the input's dtype (for mixed precision); for integer inputs
        # (an Embedding's ids) that would truncate the vectors to integers, so only floats are cast.
        dtype = getattr(inputs, "dtype", None)
        return ops.cast(out, dtype) if dtype is not None and str(dtype).startswith("float") else out

    def normalized_weights(self):
        """(u, kernel / sigma): the power-iteration vector and the normalized kernel."""
        w = ops.reshape(self.kernel, (-1, self.kernel_shape[-1]))  # (n, out)
        u = self.vector_u  # (1, out)
        v = None
        for _ in range(self.power_iterations):
            v = ops.normalize(ops.matmul(u, ops.transpose(w)), axis=None)  # (1, n)
            u = ops.normalize(ops.matmul(v, w), axis=None)  # (1, out)
        sigma = ops.matmul(ops.matmul(v, w), ops.transpose(u))  # (1, 1)
        return u, ops.reshape(self.kernel / sigma, self.kernel_shape)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
