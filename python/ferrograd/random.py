"""Seeded random tensors (``keras.random`` names and signatures).

Every draw is a pure function of a key and the element index (a counter-based generator in
Rust), so the values do not depend on the number of threads. ``seed(s)`` makes the sequence
of unseeded draws reproducible; passing ``seed=`` to a function makes that one draw fixed.
"""
from __future__ import annotations

from . import _core

__all__ = ["seed", "normal", "uniform", "truncated_normal", "randint", "shuffle", "SeedGenerator"]


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


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"{__name__.replace('ferrograd', 'keras')}.{name} is not available in ferrograd yet")
