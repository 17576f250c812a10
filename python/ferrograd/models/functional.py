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
        return symbolic_call(_getitem, (self, key))


def _getitem(x, key):
    """``x[key]`` as a named function, so that graphs that index tensors can be saved."""
    return x[key]


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


# ---- serialization -----------------------------------------------------------------------------
# A functional model is saved as its list of (unique) layers plus the recorded nodes in execution
# order. A node names a layer by its index or an op by its name in ``ferrograd.ops``; its arguments
# are JSON with tagged objects for tensors of the graph, tuples, slices, Ellipsis and small arrays.
# Loading replays the nodes symbolically, so nothing from the file is ever executed as code.

_SPECIAL_OPS = {"__getitem__": _getitem}
_MAX_CONST = 1 << 16


def _op_name(fn):
    for k, v in _SPECIAL_OPS.items():
        if v is fn:
            return k
    name = getattr(fn, "__name__", None)
    if name in ops.__all__ and getattr(ops, name, None) is fn:
        return name
    return None


def _op_by_name(name):
    if name in _SPECIAL_OPS:
        return _SPECIAL_OPS[name]
    if isinstance(name, str) and name in ops.__all__ and callable(getattr(ops, name, None)):
        return getattr(ops, name)
    raise ValueError(f"unknown op {name!r} (expected a function of ferrograd.ops)")


def _encode(obj, tid, where):
    import numpy as np

    if isinstance(obj, KerasTensor):
        return {"__tensor__": tid(obj)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_encode(v, tid, where) for v in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tid, where) for v in obj]}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise ValueError(f"{where}: only string dictionary keys can be saved, received {list(obj)}")
        return {"__dict__": {k: _encode(v, tid, where) for k, v in obj.items()}}
    if isinstance(obj, slice):
        return {"__slice__": [_encode(obj.start, tid, where), _encode(obj.stop, tid, where),
                              _encode(obj.step, tid, where)]}
    if obj is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if isinstance(obj, (np.ndarray, _core.Tensor)):
        a = np.asarray(obj)
        if a.size > _MAX_CONST:
            raise ValueError(f"{where}: a constant of {a.size} elements is too large to store in the config; "
                             "hold it as a layer weight instead")
        return {"__array__": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}
    raise ValueError(f"{where}: cannot save an argument of type {type(obj).__name__} ({obj!r})")


def _decode(obj, tensors):
    import numpy as np

    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        raise ValueError(f"unexpected value {obj!r}")
    if "__tensor__" in obj:
        key = obj["__tensor__"]
        if key not in tensors:
            raise ValueError(f"tensor {key!r} is used before any node produces it")
        return tensors[key]
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {str(k): _decode(v, tensors) for k, v in obj["__dict__"].items()}
    if "__slice__" in obj:
        return slice(*(_decode(v, tensors) for v in obj["__slice__"]))
    if "__ellipsis__" in obj:
        return Ellipsis
    if "__array__" in obj:
        dtype = obj.get("dtype")
        if dtype not in ("float32", "float64", "int32", "int64", "bool"):
            raise ValueError(f"unsupported constant dtype {dtype!r}")
        a = np.asarray(obj["__array__"], dtype=dtype)
        if list(a.shape) != list(obj.get("shape", [])):
            raise ValueError(f"constant of shape {list(a.shape)} does not match its recorded shape {obj.get('shape')}")
        return _core.as_tensor(a)
    raise ValueError(f"unexpected object with keys {sorted(obj)!r} in a node's arguments")


def get_graph_config(model, serialize_layer):
    """The JSON config of a functional model (layers, nodes, inputs and outputs)."""
    f = model._functional
    ids = {}

    def tid(kt):
        if id(kt) not in ids:
            ids[id(kt)] = len(ids)
        return ids[id(kt)]

    where = f"saving model {model.name!r}"
    input_tensors = [{"id": tid(kt), "shape": list(kt.shape), "dtype": kt.dtype, "name": kt.name}
                     for kt in f["inputs"]]
    layer_index = {id(lyr): i for i, lyr in enumerate(f["layers"])}
    nodes = []
    for node in f["nodes"]:
        fn, args, kwargs = node
        if id(fn) in layer_index:
            entry = {"layer": layer_index[id(fn)]}
        else:
            name = _op_name(fn)
            if name is None:
                raise ValueError(f"{where}: the graph calls {getattr(fn, '__name__', fn)!r}, which is neither a layer "
                                 "nor a function of ferrograd.ops; wrap it in a custom layer registered with "
                                 "@keras.saving.register_keras_serializable")
            entry = {"op": name}
        entry["args"] = _encode(list(args), tid, where)
        entry["kwargs"] = _encode(dict(kwargs), tid, where)
        entry["outputs"] = [tid(kt) for kt in node_outputs(node)]
        nodes.append(entry)
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(lyr) for lyr in f["layers"]],
            "input_tensors": input_tensors, "nodes": nodes,
            "inputs": tid(f["inputs"][0]) if f["single_input"] else [tid(kt) for kt in f["inputs"]],
            "outputs": _encode(f["outputs"], tid, where)}


def from_graph_config(config, deserialize_layer):
    """Rebuilds a functional model from :func:`get_graph_config` output by replaying its nodes."""
    from .model import Model

    layers = [deserialize_layer(e) for e in config["layers"]]
    tensors = {}
    for spec in config["input_tensors"]:
        shape = spec["shape"]
        if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
            raise ValueError(f"bad input shape {shape!r}")
        if spec.get("dtype") not in ("float32", "float64", "int32", "int64", "bool"):
            raise ValueError(f"bad input dtype {spec.get('dtype')!r}")
        tensors[spec["id"]] = KerasTensor(tuple(shape), spec["dtype"], spec.get("name"))
    for entry in config["nodes"]:
        args = _decode(entry["args"], tensors)
        kwargs = _decode(entry["kwargs"], tensors)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("a node's args must be a list and its kwargs a mapping")
        if "layer" in entry:
            k = entry["layer"]
            if not isinstance(k, int) or not 0 <= k < len(layers):
                raise ValueError(f"node refers to layer {k!r}, the model has {len(layers)} layers")
            out = layers[k](*args, **kwargs)
        else:
            out = symbolic_call(_op_by_name(entry.get("op")), tuple(args), kwargs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(outs) != len(entry["outputs"]):
            raise ValueError(f"a node produced {len(outs)} outputs, the config records {len(entry['outputs'])}")
        for key, kt in zip(entry["outputs"], outs):
            tensors[key] = kt
    inputs = config["inputs"]
    inputs = [tensors[k] for k in inputs] if isinstance(inputs, list) else tensors[inputs]
    outputs = _decode(config["outputs"], tensors)
    return Model(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
