"""Graph nodes: one per symbolic call of a layer or an op (Keras' ``ops/node.py``).

A node records the operation, the arguments it was called with (KerasTensors among them) and the
KerasTensors it produced; each output points back at its node (``kt._node``). A layer keeps its
nodes in ``layer._inbound_nodes`` (``layer.output``, ``layer.input``, node indices in
``summary()``). Nothing is kept in module-level tables: a graph lives exactly as long as the
tensors and layers that refer to it.

While a layer's output shape is being found by tracing its ``call`` on KerasTensors (layers without
``compute_output_shape``), the calls inside are shape computations only: :func:`tracing` turns
node recording off so that the inner layers gain no inbound nodes.
"""
from __future__ import annotations

import threading

from .keras_tensor import KerasTensor, flatten

_state = threading.local()


def in_trace():
    """True while a layer's output spec is being traced (no nodes are recorded)."""
    return getattr(_state, "trace_depth", 0) > 0


class tracing:  # noqa: N801 - used as a context manager, like Keras' SymbolicScope
    """Context in which symbolic calls compute shapes without recording graph nodes."""

    def __enter__(self):
        _state.trace_depth = getattr(_state, "trace_depth", 0) + 1
        return self

    def __exit__(self, *exc):
        _state.trace_depth -= 1
        return False


class Node:
    """One call of ``operation`` (a Layer or a ``keras.ops`` function) on symbolic arguments."""

    __slots__ = ("operation", "call_args", "call_kwargs", "outputs", "node_index", "__weakref__")

    def __init__(self, operation, call_args, call_kwargs, outputs):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = list(outputs)
        self.node_index = 0
        for i, kt in enumerate(self.outputs):
            kt._node = self
            kt._index = i
        inbound = getattr(operation, "_inbound_nodes", None)
        if isinstance(inbound, list):
            self.node_index = len(inbound)
            inbound.append(self)

    @property
    def input_tensors(self):
        """The KerasTensors among the arguments, in argument order."""
        return [a for a in flatten((self.call_args, self.call_kwargs)) if isinstance(a, KerasTensor)]

    @property
    def is_input(self):
        return getattr(self.operation, "_is_input_layer", False)

    @property
    def parent_nodes(self):
        return [kt._node for kt in self.input_tensors if kt._node is not None]

    def __repr__(self):
        name = getattr(self.operation, "name", None) or getattr(self.operation, "__name__", "op")
        return f"<Node {name}[{self.node_index}] -> {[kt.shape for kt in self.outputs]}>"


def symbolic_op_call(fn, name, args, kwargs):
    """The KerasTensor(s) of ``fn(*args, **kwargs)`` for a ``keras.ops`` function ``name``, from its
    shape rule; records a node (outside tracing)."""
    from . import shapes

    rule = shapes.RULES.get(name)
    if rule is None:
        raise NotImplementedError(f"ops.{name} cannot be called on symbolic tensors (KerasTensor): it has no shape "
                                  "rule; call it inside a custom layer's call() instead")
    for a in flatten((args, kwargs)):
        if isinstance(a, KerasTensor) and a.dtype == "string":
            raise TypeError(f"ops.{name} cannot take a string input ({a.name or 'a KerasTensor'} has dtype "
                            "'string'): strings can only go into TextVectorization, StringLookup or Hashing")
    out = rule(*args, **kwargs)
    outs = flatten(out)
    Node(fn, args, kwargs, outs)
    return out
