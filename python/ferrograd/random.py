"""Seeded random tensors (``keras.random`` names and signatures).

Every draw is a pure function of a key and the element index (a counter-based generator in
Rust), so the values do not depend on the number of threads. ``seed(s)`` makes the sequence
of unseeded draws reproducible; passing ``seed=`` to a function makes that one draw fixed.
"""
from __future__ import annotations

from . import _core

__all__ = ["seed", "normal", "uniform", "truncated_normal", "randint", "shuffle", "SeedGenerator", "dropout",
           "categorical", "binomial", "gamma", "beta"]


class SeedGenerator:
    """A stateful seed source: each call to :meth:`next` gives a new seed derived from ``seed``."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f"SeedGenerator seed must be a non-negative int, received: seed={seed!r}")
        self._seed = seed
        self._count = 0

    def next(self):
        self._count += 1
        if self._seed is None:
            return None
        return (self._seed * 1_000_003 + self._count) & 0xFFFFFFFFFFFFFFFF


def _seed_value(seed):
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be None, an int or a SeedGenerator, received: seed={seed!r}")
    return seed & 0xFFFFFFFFFFFFFFFF


def seed(s):
    """Resets the global generator so that subsequent unseeded draws are reproducible."""
    _core.seed(_seed_value(s))


def _shape(shape):
    return (shape,) if isinstance(shape, int) else tuple(shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution."""
    return _core.random("normal", _shape(shape), float(mean), float(stddev), dtype, _seed_value(seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from ``[minval, maxval)``."""
    return _core.random("uniform", _shape(shape), float(minval), float(maxval), dtype, _seed_value(seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution, redrawing values more than 2 stddev from the mean."""
    return _core.random("truncated_normal", _shape(shape), float(mean), float(stddev), dtype, _seed_value(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Samples integers uniformly from ``[minval, maxval)``."""
    return _core.random("randint", _shape(shape), float(minval), float(maxval), dtype, _seed_value(seed))


def shuffle(x, axis=0, seed=None):
    """Shuffles ``x`` along ``axis``."""
    x = _core.as_tensor(x)
    n = x.shape[axis]
    perm = _core.permutation(n, _seed_value(seed))
    return _core.take(x, perm, axis)


def _symbolic(fn, args, kwargs, shape, dtype):
    """The KerasTensor of a random op on a symbolic input (a node records it outside a trace)."""
    from .symbolic import KerasTensor, Node, in_trace

    out = KerasTensor(shape, dtype)
    if not in_trace():
        Node(fn, args, kwargs, [out])
    return out


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each entry with probability ``rate`` and scales the others by ``1 / (1 - rate)``;
    ``noise_shape`` (None entries take the input's size) broadcasts one draw over several entries."""
    from . import ops
    from .symbolic import KerasTensor

    if isinstance(inputs, KerasTensor):
        return _symbolic(dropout, (inputs, rate), {"noise_shape": noise_shape, "seed": seed}, inputs.shape,
                         inputs.dtype)
    inputs = _core.as_tensor(inputs)
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                         f"Received: rate={rate}")
    if rate == 1:
        return ops.multiply(inputs, 0.0)
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = ops.cast(ops.greater_equal(uniform(shape, 0.0, 1.0, inputs.dtype, seed), rate), inputs.dtype)
    return ops.multiply(ops.multiply(inputs, keep), 1.0 / (1.0 - rate))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of ``logits`` (batch, classes): (batch, num_samples).

    Gumbel-max sampling: ``argmax(logits + g)`` with ``g = -log(-log(u))`` picks class ``k`` with
    probability ``softmax(logits)[k]`` exactly.
    """
    from . import ops
    from .symbolic import KerasTensor

    if isinstance(logits, KerasTensor):
        return _symbolic(categorical, (logits, num_samples), {"dtype": dtype, "seed": seed},
                         (logits.shape[0], int(num_samples)), dtype)
    logits = _core.as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"`logits` should be a 2D tensor (batch_size, num_classes). Received: "
                         f"logits.shape={tuple(logits.shape)}")
    b, k = logits.shape
    u = uniform((b, int(num_samples), k), 1e-20, 1.0, "float32", seed)  # (B, S, K)
    g = ops.negative(ops.log(ops.negative(ops.log(u))))
    scores = ops.add(ops.expand_dims(ops.cast(logits, "float32"), 1), g)  # (B, S, K)
    return ops.cast(ops.argmax(scores, axis=-1), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples the number of successes of ``counts`` trials of success probability ``probabilities``
    (both broadcast to ``shape``): the sum of ``counts`` Bernoulli draws (O(max(counts)) work per
    entry)."""
    from . import ops

    shape = _shape(shape)
    counts_t = _core.as_tensor(counts, "float32")
    n_max = int(ops.max(counts_t).item()) if counts_t.ndim else int(counts_t.item())
    if n_max < 0:
        raise ValueError(f"`counts` must be non-negative. Received: counts={counts!r}")
    if n_max == 0:
        return ops.zeros(shape, dtype or "float32")
    u = uniform((n_max,) + shape, 0.0, 1.0, "float32", seed)  # (N, *shape)
    success = ops.cast(ops.less(u, _core.as_tensor(probabilities, "float32")), "float32")
    trial = ops.reshape(ops.arange(n_max, dtype="float32"), (n_max,) + (1,) * len(shape))
    success = ops.multiply(success, ops.cast(ops.less(trial, counts_t), "float32"))
    return ops.cast(ops.sum(success, axis=0), dtype or "float32")


def _shape_param(name, value, shape):
    """A gamma/beta parameter as the list the Rust sampler takes: one value, or one per element
    (a tensor or array broadcast to ``shape``)."""
    import numpy as np

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    if arr.size == 1:
        return [float(arr.reshape(-1)[0])]
    try:
        return np.broadcast_to(arr, shape).reshape(-1).tolist()
    except ValueError:
        raise ValueError(f"`{name}` of shape {arr.shape} does not broadcast to the sample shape {shape}") from None


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from a Gamma(``alpha``, 1) distribution (Marsaglia-Tsang in Rust; ``alpha`` > 0,
    a number or a tensor broadcastable to ``shape``)."""
    shape = _shape(shape)
    return _core.random_gamma(shape, _shape_param("alpha", alpha, shape), None, dtype, _seed_value(seed))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from a Beta(``alpha``, ``beta``) distribution: X / (X + Y) with X ~ Gamma(alpha) and
    Y ~ Gamma(beta), computed in log space (small parameters give 0 or 1, never NaN). Each
    parameter is a number > 0 or a tensor broadcastable to ``shape``."""
    shape = _shape(shape)
    return _core.random_gamma(shape, _shape_param("alpha", alpha, shape), _shape_param("beta", beta, shape), dtype,
                              _seed_value(seed))


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
