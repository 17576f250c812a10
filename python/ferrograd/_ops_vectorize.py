"""``keras.ops.vectorize``: NumPy's ``np.vectorize`` for tensors, with generalized-ufunc signatures.

ferrograd has no vmap, so the vectorized function calls ``pyfunc`` once per element of the broadcast
batch shape, in C order, on slices of the inputs (0-d tensors without a signature, the core
dimensions with one), and stacks what it returns; every op ``pyfunc`` runs goes on the tape, so
gradients flow as through any other composition. Unlike Keras (whose ``excluded`` and keyword
arguments are dropped before the call), ``excluded`` positions and names are passed to every call
unchanged, and so are all keyword arguments.
"""
from __future__ import annotations

import itertools
import re

import numpy as np

__all__ = ["vectorize"]

_DIMS = r"\((?:\w+(?:,\s*\w+)*)?\)"
_SIGNATURE = re.compile(rf"^\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*->\s*{_DIMS}(?:\s*,\s*{_DIMS})*\s*$")


def _parse_signature(signature):
    """``"(m,n),(n)->(m)"`` as ([("m", "n"), ("n",)], [("m",)]) (NumPy's gufunc grammar)."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r} (expected e.g. '(m,n),(n)->(m)')")
    left, right = signature.split("->")

    def groups(text):
        return [tuple(d.strip() for d in g.split(",") if d.strip()) for g in re.findall(r"\(([^)]*)\)", text)]

    return groups(left), groups(right), right.count("(") > 1


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` made to broadcast over its array arguments, as ``np.vectorize``.

    Args:
        pyfunc: a callable of tensors.
        excluded: positions (ints) or keyword names passed to ``pyfunc`` as they are, not vectorized.
        signature: a generalized-ufunc signature such as ``"(m,n),(n)->(m)"``; without one,
            ``pyfunc`` takes and returns scalars (0-d tensors).

    Returns:
        The vectorized function: the inputs' non-core dimensions broadcast, and each output has the
        broadcast shape followed by its core dimensions (a tuple of outputs for several).
    """
    if not callable(pyfunc):
        raise TypeError(f"vectorize: pyfunc must be callable; received {type(pyfunc).__name__}")
    excluded = set(excluded or ())
    bad = [e for e in excluded if not isinstance(e, (int, str)) or isinstance(e, bool)]
    if bad:
        raise TypeError(f"vectorize: excluded holds positions (int) or keyword names (str); received {bad[0]!r}")
    parsed = None if signature is None else _parse_signature(signature)

    def wrapped(*args, **kwargs):
        from . import ops
        from .symbolic import KerasTensor

        dynamic = [i for i in range(len(args)) if i not in excluded]
        tensors = [ops.convert_to_tensor(args[i]) for i in dynamic]
        if any(type(t) is KerasTensor for t in tensors):
            raise NotImplementedError("ops.vectorize on symbolic tensors (KerasTensor) is not supported: it calls "
                                      "pyfunc once per element, which needs the actual shape")
        if parsed is None:
            in_cores, out_cores, multi = [()] * len(tensors), None, None
        else:
            in_cores, out_cores, multi = parsed
            if len(in_cores) != len(tensors):
                raise TypeError(f"vectorize: the signature {signature!r} takes {len(in_cores)} array argument(s); "
                                f"received {len(tensors)}")
        sizes, batch_shapes = {}, []
        for k, (t, core) in enumerate(zip(tensors, in_cores)):
            shape = tuple(t.shape)
            if len(shape) < len(core):
                raise ValueError(f"vectorize: argument {dynamic[k]} has {len(shape)} dimension(s) but the signature "
                                 f"{signature!r} gives it {len(core)} core dimension(s)")
            for name, n in zip(core, shape[len(shape) - len(core):]):
                if sizes.setdefault(name, n) != n:
                    raise ValueError(f"vectorize: core dimension {name!r} has sizes {sizes[name]} and {n}")
            batch_shapes.append(shape[:len(shape) - len(core)])
        try:
            batch = tuple(int(d) for d in np.broadcast_shapes(*batch_shapes))
        except ValueError:
            raise ValueError(f"vectorize: the non-core shapes {batch_shapes} do not broadcast") from None
        if 0 in batch:
            raise ValueError(f"vectorize: the broadcast shape {batch} is empty, so pyfunc is never called and the "
                             "output shape and dtype are unknown")

        def call(index):
            full = list(args)
            for k, (t, bshape) in enumerate(zip(tensors, batch_shapes)):
                pad = len(batch) - len(bshape)
                idx = tuple(0 if n == 1 else index[pad + j] for j, n in enumerate(bshape))
                full[dynamic[k]] = t[idx] if idx else t
            out = pyfunc(*full, **kwargs)
            several = multi if parsed is not None else isinstance(out, tuple)
            shape_of_result.setdefault("several", several)
            outs = tuple(out) if several else (out,)
            if out_cores is not None:
                if len(outs) != len(out_cores):
                    raise ValueError(f"vectorize: pyfunc returned {len(outs)} output(s); the signature {signature!r} "
                                     f"says {len(out_cores)}")
                for o, core in zip(outs, out_cores):
                    shape = tuple(ops.shape(o))
                    want = tuple(sizes.get(name, n) for name, n in zip(core, shape))
                    if len(shape) != len(core) or shape != want:
                        raise ValueError(f"vectorize: pyfunc returned shape {shape} where the signature "
                                         f"{signature!r} says ({', '.join(core)}) with {sizes}")
                    for name, n in zip(core, shape):
                        sizes.setdefault(name, n)
            return [ops.convert_to_tensor(o) for o in outs]

        shape_of_result = {}
        results = [call(index) for index in itertools.product(*(range(n) for n in batch))]
        if any(len(r) != len(results[0]) for r in results):
            raise ValueError("vectorize: pyfunc returned different numbers of outputs for different elements")
        stacked = []
        for j in range(len(results[0])):
            parts = [r[j] for r in results]
            s = ops.stack(parts, axis=0)
            stacked.append(ops.reshape(s, batch + tuple(parts[0].shape)))
        return tuple(stacked) if shape_of_result["several"] else stacked[0]

    wrapped.__name__ = getattr(pyfunc, "__name__", "vectorized")
    wrapped.__doc__ = getattr(pyfunc, "__doc__", None)
    return wrapped
