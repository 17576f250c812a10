"""The functional API: symbolic ``KerasTensor``s flow through layers and ops, and
``Model(inputs, outputs)`` replays the recorded graph on real tensors.

Shapes are inferred by running each layer once on small zero tensors (unknown dimensions set to 1
and then to 2; the dimensions that follow are unknown in the output), so every layer that can run
can also be used symbolically without a separate shape function.
"""
from __future__ import annotations

from .. import _core, ops


class KerasTensor:
    """A symbolic tensor: a shape (None for unknown dimensions), a dtype and the node that made it."""

    def __init__(self, shape, dtype="float32", name=None, node=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._node = node  # (fn, args, kwargs) or None for an input

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # Operators record ops on the graph (``x += y`` in a ResNet block).
    def __add__(self, o):
        return symbolic_call(ops.add, (self, o))

    def __radd__(self, o):
        return symbolic_call(ops.add, (o, self))

    def __sub__(self, o):
        return symbolic_call(ops.subtract, (self, o))

    def __rsub__(self, o):
        return symbolic_call(ops.subtract, (o, self))

    def __mul__(self, o):
        return symbolic_call(ops.multiply, (self, o))

    def __rmul__(self, o):
        return symbolic_call(ops.multiply, (o, self))

    def __truediv__(self, o):
        return symbolic_call(ops.divide, (self, o))

    def __matmul__(self, o):
        return symbolic_call(ops.matmul, (self, o))

    def __neg__(self):
        return symbolic_call(ops.negative, (self,))

    def __getitem__(self, key):
        return symbolic_call(lambda t: t[key], (self,))


def _map(struct, fn):
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map(s, fn) for s in struct)
    if isinstance(struct, dict):
        return {k: _map(v, fn) for k, v in struct.items()}
    return fn(struct)


def _flatten(struct, out):
    if isinstance(struct, (list, tuple)):
        for s in struct:
            _flatten(s, out)
    elif isinstance(struct, dict):
        for s in struct.values():
            _flatten(s, out)
    else:
        out.append(struct)
    return out


def has_symbolic(struct):
    return any(isinstance(s, KerasTensor) for s in _flatten(struct, []))


def _dummy(kt, fill):
    shape = tuple(fill if d is None else d for d in kt.shape)
    return _core.full(shape, 0.0, kt.dtype)


def symbolic_call(fn, args, kwargs=None):
    """A KerasTensor for ``fn(*args, **kwargs)`` where some args are KerasTensors."""
    kwargs = kwargs or {}
    outs = []
    prev = _core.set_grad_enabled(False)
    try:
        for fill in (1, 2):
            concrete = _map(args, lambda a, f=fill: _dummy(a, f) if isinstance(a, KerasTensor) else a)
            outs.append(fn(*concrete, **kwargs))
    finally:
        _core.set_grad_enabled(prev)
    node = (fn, args, kwargs)

    def to_kt(a, b):
        shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
        return KerasTensor(shape, a.dtype, node=node)

    if isinstance(outs[0], (list, tuple)):
        res = type(outs[0])(to_kt(a, b) for a, b in zip(outs[0], outs[1]))
        register_outputs(node, list(res))
        return res
    res = to_kt(outs[0], outs[1])
    register_outputs(node, [res])
    return res


def topological_nodes(outputs, inputs):
    """The nodes needed for ``outputs``, in execution order; checks the graph reaches only ``inputs``."""
    order, seen = [], set()
    input_ids = {id(t) for t in inputs}

    def visit(kt):
        if id(kt) in seen:
            return
        seen.add(id(kt))
        if kt._node is None:
            if id(kt) not in input_ids:
                raise ValueError(f"Graph disconnected: cannot obtain a value for tensor {kt} (it is not one of the "
                                 "model inputs)")
            return
        for a in _flatten(kt._node[1], []):
            if isinstance(a, KerasTensor):
                visit(a)
        order.append(kt)

    for o in outputs:
        visit(o)
    # Group outputs of one multi-output node: execute each node once.
    nodes, done = [], set()
    for kt in order:
        if id(kt._node) not in done:
            done.add(id(kt._node))
            nodes.append(kt._node)
    return nodes


def run_graph(nodes, inputs, outputs, values, training):
    """Evaluates ``nodes`` given concrete values for the inputs (a dict id -> tensor)."""
    from ..layers.layer import Layer

    cache = dict(values)
    for node in nodes:
        fn, args, kwargs = node
        concrete = _map(args, lambda a: cache[id(a)] if isinstance(a, KerasTensor) else a)
        if isinstance(fn, Layer):
            out = fn(*concrete, training=training, **kwargs)
        else:
            out = fn(*concrete, **kwargs)
        produced = [kt for kt in node_outputs(node)]
        if isinstance(out, (list, tuple)):
            for kt, v in zip(produced, out):
                cache[id(kt)] = v
        else:
            cache[id(produced[0])] = out
    return cache


_NODE_OUTPUTS = {}


def register_outputs(node, kts):
    _NODE_OUTPUTS[id(node)] = (node, kts)


def node_outputs(node):
    return _NODE_OUTPUTS[id(node)][1]
