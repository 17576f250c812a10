"""The symbolic layer below the layers: KerasTensor, graph nodes and the ops' shape rules.

Floors, bottom up: ops -> symbolic -> layers -> models -> training. Layers and ops use this
package to run on symbolic inputs; nothing here imports the layers or the models.
"""
from .keras_tensor import KerasTensor, any_symbolic, flatten, getitem, has_symbolic, is_keras_tensor, map_structure
from .node import Node, in_trace, symbolic_op_call, tracing

__all__ = ["KerasTensor", "Node", "any_symbolic", "flatten", "getitem", "has_symbolic", "in_trace",
           "is_keras_tensor", "map_structure", "symbolic_op_call", "tracing"]
