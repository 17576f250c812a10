"""Control flow of ``keras.ops``: cond, switch, while_loop, fori_loop, scan, map,
associative_scan, vectorized_map and in_top_k; and ``custom_gradient``.

ferrograd runs eagerly, so these run the user's functions in Python, one call per step, and every
op inside them goes on the tape: gradients flow through the branch taken and through every loop
step, as with Keras on PyTorch. On symbolic tensors (a layer's ``call`` traced for its output
shape) they return the output spec as Keras' ``compute_output_spec`` does: ``cond`` traces both
branches and requires the same structure, dtypes and shapes; loops keep their loop variables'
specs; ``scan`` traces one step. A functional graph cannot hold them directly (their functions
close over graph tensors), so such a call outside a layer raises and says where to put it.
"""
from __future__ import annotations

import builtins

from . import _core
from ._core import Tensor
from .symbolic import KerasTensor, flatten, in_trace

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "associative_scan", "vectorized_map",
           "in_top_k", "custom_gradient"]


def _symbolic(*values):
    return any(type(v) is KerasTensor for v in flatten(list(values)))


def _graph_only(name):
    if not in_trace():
        raise NotImplementedError(
            f"ops.{name} on symbolic tensors (KerasTensor) cannot be a node of a functional model (its functions "
            "close over graph tensors); call it inside a custom layer's call() instead")


def _pack(structure, flat):
    """``flat`` (a list) in the nesting of ``structure`` (lists, tuples, dicts; other leaves)."""
    it = iter(flat)

    def build(s):
        if isinstance(s, dict):
            return {k: build(s[k]) for k in s}
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s)
        return next(it)

    return build(structure)


def _leaves(structure):
    if isinstance(structure, dict):
        return [v for k in structure for v in _leaves(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [v for s in structure for v in _leaves(s)]
    return [structure]


def _tensor(x):
    return x if isinstance(x, (Tensor, KerasTensor)) else _core.as_tensor(x)


def _spec_signature(structure):
    """Structure, dtypes and shapes of a (possibly nested) output, for comparing branches."""
    def leaf(v):
        if isinstance(v, (Tensor, KerasTensor)):
            return ("tensor", str(v.dtype), tuple(v.shape))
        return ("value", type(v).__name__)

    if isinstance(structure, dict):
        return ("dict", tuple((k, _spec_signature(structure[k])) for k in structure))
    if isinstance(structure, (list, tuple)):
        return (type(structure).__name__, tuple(_spec_signature(s) for s in structure))
    return leaf(structure)


def _truth(pred, name):
    if isinstance(pred, Tensor):
        if pred.size != 1:
            raise ValueError(f"ops.{name}: the predicate must be a scalar, received a tensor of shape "
                             f"{tuple(pred.shape)}")
        return bool(pred.item())
    return bool(pred)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``; ``pred`` is a Python or scalar boolean."""
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError(f"ops.cond: true_fn and false_fn must be callables, received {true_fn!r} and {false_fn!r}")
    if type(pred) is KerasTensor:
        _graph_only("cond")
        t, f = true_fn(), false_fn()
        if _spec_signature(t) != _spec_signature(f):
            raise ValueError("`true_fn` and `false_fn` should return outputs of the same kind (struct, dtype and "
                             f"shape). Got {t} and {f} instead.")
        return t
    return true_fn() if _truth(pred, "cond") else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to ``[0, len(branches) - 1]``."""
    branches = list(branches)
    if not branches or not all(callable(b) for b in branches):
        raise ValueError(f"ops.switch: branches must be a non-empty sequence of callables, received {branches!r}")
    if type(index) is KerasTensor:
        _graph_only("switch")
        return branches[0](*operands)  # Keras' output spec: the first branch's
    i = int(index.item()) if isinstance(index, Tensor) else int(index)
    return branches[min(max(i, 0), len(branches) - 1)](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds (and at most
    ``maximum_iterations`` times); returns the loop variables in the structure given."""
    if not callable(cond) or not callable(body):
        raise TypeError("ops.while_loop: cond and body must be callables")
    if maximum_iterations is not None and int(maximum_iterations) < 0:
        raise ValueError(f"ops.while_loop: maximum_iterations must be >= 0, received {maximum_iterations}")
    is_tuple = isinstance(loop_vars, (tuple, list))
    values = tuple(loop_vars) if is_tuple else (loop_vars,)
    if _symbolic(values):
        _graph_only("while_loop")
        out = tuple(KerasTensor(v.shape, v.dtype) if type(v) is KerasTensor else v for v in values)
        return out if is_tuple else out[0]
    values = tuple(_pack(v, [_tensor(x) for x in _leaves(v)]) for v in values)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and _truth(cond(*values), "while_loop"):
        values = body(*values)
        if not isinstance(values, (list, tuple)):
            values = (values,)
        values = tuple(values)
        steps += 1
    return values if is_tuple else values[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``."""
    if not callable(body_fun):
        raise TypeError(f"ops.fori_loop: body_fun must be a callable, received {body_fun!r}")
    if _symbolic((lower, upper, init_val)):
        _graph_only("fori_loop")
        return init_val
    lo = int(lower.item()) if isinstance(lower, Tensor) else int(lower)
    hi = int(upper.item()) if isinstance(upper, Tensor) else int(upper)
    val = init_val
    for i in range(lo, hi):
        val = body_fun(i, val)
    return val


def _stack(values):
    from . import ops

    return ops.stack(values, axis=0)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``jax.lax.scan``: ``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or ``length``
    times with ``x = None``); returns the last carry and the ``y``s stacked on a new leading axis.
    ``reverse`` runs from the end (the ``y``s keep the order of ``xs``); ``unroll`` is accepted for
    compatibility and changes nothing in eager execution, as on Keras' PyTorch backend."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be an positive integer or boolean. Received: unroll={unroll}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    xs_flat = [] if xs is None else [_tensor(x) for x in _leaves(xs)]
    if xs_flat:
        n = int(length) if length is not None else xs_flat[0].shape[0]
        if n is None:
            n = 1  # symbolic, unknown length: trace one step
        if any(x.shape[0] is not None and x.shape[0] < n for x in xs_flat):
            raise ValueError(f"scan: every leaf of xs needs at least {n} rows along axis 0, received shapes "
                             f"{[tuple(x.shape) for x in xs_flat]}")
    else:
        n = int(length)
    if _symbolic((init, xs)):
        _graph_only("scan")
        x = _pack(xs, [KerasTensor(tuple(v.shape[1:]), v.dtype) for v in xs_flat]) if xs_flat else None
        carry, y = f(init, x)
        length_out = (xs_flat[0].shape[0] if xs_flat and length is None else n)
        ys = _pack(y, [KerasTensor((length_out,) + tuple(v.shape), v.dtype) for v in _leaves(y)]) \
            if y is not None else None
        return carry, ys
    init_leaves = [_tensor(v) for v in _leaves(init)]
    carry = _pack(init, init_leaves)
    ys = []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = _pack(xs, [v[i] for v in xs_flat]) if xs_flat else None
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if n == 0 or all(y is None for y in ys):
        from . import ops

        dummy = [ops.zeros((n,) + tuple(v.shape), v.dtype) for v in init_leaves]
        return carry, _pack(init, dummy)
    structure = ys[0]
    columns = builtins.list(zip(*[_leaves(y) for y in ys]))
    return carry, _pack(structure, [_stack([_tensor(v) for v in col]) for col in columns])


def map(f, xs):  # noqa: A001 - keras.ops.map
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    _, ys = scan(lambda carry, x: (carry, f(x)), (), xs)
    return ys


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements`` (as :func:`map`; ferrograd has no
    vmap, so this loops in Python and each step runs the Rust kernels)."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan of ``elems`` along ``axis`` with the associative ``f(a, b)`` (applied to
    slices that keep ``axis`` with length 1): ``[e0, f(e0, e1), f(f(e0, e1), e2), ...]``; from
    the end when ``reverse``."""
    from . import ops

    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    flat = [_tensor(e) for e in _leaves(elems)]
    if not flat:
        raise ValueError("associative_scan: elems holds no tensors")
    if _symbolic((elems,)):
        _graph_only("associative_scan")
        return elems
    ax = axis + flat[0].ndim if axis < 0 else axis
    if not all(0 <= ax < e.ndim for e in flat):
        raise ValueError(f"associative_scan: axis {axis} is out of range for shapes {[tuple(e.shape) for e in flat]}")
    n = flat[0].shape[ax]
    if not all(e.shape[ax] == n for e in flat[1:]):
        raise ValueError("Array inputs to associative_scan must have the same first dimension. "
                         f"(saw: {[tuple(e.shape) for e in flat]})")
    if n == 0:
        return elems

    def piece(e, i):
        index = [builtins.slice(None)] * e.ndim
        index[ax] = builtins.slice(i, i + 1)
        return e[tuple(index)]

    order = range(n - 1, -1, -1) if reverse else range(n)
    acc, out = None, []
    for i in order:
        cur = [piece(e, i) for e in flat]
        acc = cur if acc is None else [_tensor(v) for v in _leaves(f(_pack(elems, acc), _pack(elems, cur)))]
        out.append(acc)
    if reverse:
        out.reverse()
    return _pack(elems, [ops.concatenate([o[j] for o in out], axis=ax) for j in range(len(flat))])


def in_top_k(targets, predictions, k):
    """Whether each target index is among the ``k`` largest predictions of its row (ties with the
    k-th value count as in), as Keras: ``targets`` (B,), ``predictions`` (B, C) -> bool (B,)."""
    from . import ops

    targets, predictions = _tensor(targets), _tensor(predictions)
    if predictions.ndim != 2 or targets.ndim != 1 or targets.shape[0] != predictions.shape[0]:
        raise ValueError(f"in_top_k: expected targets (B,) and predictions (B, C), received shapes "
                         f"{tuple(targets.shape)} and {tuple(predictions.shape)}")
    k = int(k)
    if not 1 <= k <= predictions.shape[1]:
        raise ValueError(f"in_top_k: k must be in [1, {predictions.shape[1]}] (the number of classes), received {k}")
    kth = ops.top_k(predictions, k)[0][:, k - 1:k]  # (B, 1)
    target_values = ops.take_along_axis(predictions, ops.expand_dims(ops.cast(targets, "int64"), -1), axis=-1)
    return ops.squeeze(ops.greater_equal(target_values, kth), -1)


def custom_gradient(f):
    """Decorator giving ``f`` a gradient of your own (``keras.ops.custom_gradient``).

    ``f(*args)`` returns ``(y, grad_fn)``; ``y`` is computed without recording on the tape, and in
    the backward pass ``grad_fn(upstream)`` (Keras' signature ``grad_fn(*args, upstream=None)``
    works too, since ``upstream`` arrives as the one positional argument) returns the gradient of
    each tensor argument of ``f`` in order: one tensor for one argument, else a tuple or list,
    None for an argument without gradient. Gradients are broadcast and cast to their argument's
    shape and dtype. ``y`` must be one tensor; keyword arguments are passed through but receive no
    gradient. Example (a numerically stable log(1 + exp(x))::

        @ops.custom_gradient
        def log1pexp(x):
            e = ops.exp(x)
            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
            return ops.log(1 + e), grad
    """
    import functools

    if not callable(f):
        raise TypeError(f"custom_gradient expects a function, received {f!r}")

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        symbolic = _symbolic(args, list(kwargs.values()))
        if symbolic and not in_trace():
            raise NotImplementedError("ops.custom_gradient on symbolic tensors (KerasTensor) cannot be a node of a "
                                      "functional model; call it inside a custom layer's call()")
        prev = _core.set_grad_enabled(False)
        try:
            result = f(*args, **kwargs)
        finally:
            _core.set_grad_enabled(prev)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not callable(result[1]):
            raise ValueError("a custom_gradient function must return (output, grad_fn), received "
                             f"{type(result).__name__}")
        y, grad_fn = result
        if symbolic:  # a layer traced for its output spec
            return y
        if not isinstance(y, Tensor):
            if isinstance(y, (tuple, list, dict)):
                raise NotImplementedError("custom_gradient: the function must return one tensor; nested outputs "
                                          "are not supported by ferrograd yet")
            y = _core.as_tensor(y)
        inputs = [a for a in args if isinstance(a, Tensor)]
        if not inputs or not _core.is_grad_enabled():
            return y

        def rule(upstream):
            prev = _core.set_grad_enabled(False)
            try:
                return grad_fn(upstream)
            finally:
                _core.set_grad_enabled(prev)

        return _core.custom_op(y, inputs, rule)

    return wrapper
