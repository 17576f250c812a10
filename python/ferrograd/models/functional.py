"""Functional models: ``Model(inputs, outputs)`` over a graph of layer and op calls (Keras 3).

The graph is the one the symbolic calls recorded: each KerasTensor points at the node that made
it, each node at its arguments. ``Functional`` walks it back from the outputs once, at
construction, into a list of nodes in execution order, and replays that list on real tensors in
``call``. The training flag and the masks reach each layer through the call context and the
tensors (see ``layers/layer.py``), so the replay passes neither by hand.
"""
from __future__ import annotations

from .. import _core, ops
from .._core import Tensor
from ..layers.input_layer import Input
from ..layers.layer import Layer, set_keras_mask, unique_name
from ..symbolic import KerasTensor, flatten, getitem, map_structure
from .model import Model

_SUBCLASSES = {}


def functional_subclass(cls):
    """A class deriving from both ``cls`` (a Model subclass) and Functional, for subclasses whose
    __init__ passes (inputs, outputs) up, as Keras allows."""
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        sub = _SUBCLASSES[cls] = type(cls.__name__, (cls, Functional), {"__module__": cls.__module__,
                                                                          "__qualname__": cls.__qualname__})
    return sub


def topological_nodes(outputs, inputs):
    """The nodes computing ``outputs`` from ``inputs``, in execution order (each once)."""
    input_ids = {id(t) for t in inputs}
    order, done, visiting = [], set(), set()

    def visit(kt):
        if id(kt) in input_ids:
            return
        node = kt._node
        if node is None or node.is_input:
            raise ValueError(f"Graph disconnected: cannot find parent for tensor {kt}. The model inputs are "
                             f"{list(inputs)}; every path from the outputs back must reach one of them")
        if id(node) in done:
            return
        if id(node) in visiting:
            raise ValueError("The graph has a cycle")
        visiting.add(id(node))
        for t in node.input_tensors:
            visit(t)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)

    for o in outputs:
        visit(o)
    return order


def keras_layer_order(outputs, inputs):
    """The layers of the graph in Keras' ``model.layers`` order: by depth (the longest path to an
    output) from the deepest, ties in the order a depth-first walk from the outputs first meets
    them. Keras' weight lists, legacy ``.h5`` files and summaries follow this order."""
    input_ids = {id(t) for t in inputs}
    index, post, done = {}, [], set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            kt, expanded = stack.pop()
            node = kt._node
            if node is None or (id(kt) in input_ids and not node.is_input):
                continue
            if expanded:
                if id(node) not in done:
                    done.add(id(node))
                    post.append(node)
                continue
            if id(node) in done:
                continue
            index.setdefault(id(node.operation), (len(index), node.operation))
            stack.append((kt, True))
            if not node.is_input and id(kt) not in input_ids:
                stack.extend((t, False) for t in reversed(node.input_tensors))
    node_depth, op_depth = {}, {}
    for node in reversed(post):
        op = id(node.operation)
        d = max(node_depth.get(id(node), 0), op_depth.get(op, 0))
        op_depth[op] = node_depth[id(node)] = d
        if not node.is_input:
            for t in node.input_tensors:
                if t._node is not None:
                    node_depth[id(t._node)] = max(d + 1, node_depth.get(id(t._node), 0))
    for t in inputs:
        if t._node is not None and t._node.is_input and id(t._node.operation) not in op_depth:
            op_depth[id(t._node.operation)] = 0
            index[id(t._node.operation)] = (-1, t._node.operation)
    ordered = sorted(op_depth, key=lambda k: (-op_depth[k], index[k][0]))
    return [index[k][1] for k in ordered if isinstance(index[k][1], Layer)]


def _string_input(v, i, model_name):
    """A value fed to a ``dtype="string"`` model input: a NumPy array of str (tensors hold numbers,
    so strings travel through the graph as arrays until a text layer turns them into ids)."""
    if isinstance(v, KerasTensor):
        if v.dtype != "string":
            raise TypeError(f"Input {i} of model {model_name} has dtype 'string'; received a KerasTensor of dtype "
                            f"{v.dtype!r}")
        return v
    from ..layers.lookup import _as_str_array

    return _as_str_array(v, f"Input {i} of model {model_name} (dtype='string')")


class Functional(Model):
    """A model defined by its symbolic inputs and outputs: ``keras.Model(inputs, outputs)``.

    Args:
        inputs: a KerasTensor, a list or a dict of them (from ``keras.Input`` or any layer output,
            which then becomes an input of this model).
        outputs: a KerasTensor, a list or a dict of them, computed from ``inputs``.
        name: the model name (default ``functional``, numbered).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name or unique_name("functional"), trainable=trainable, **kwargs)
        flat_in = flatten(inputs)
        flat_out = flatten(outputs)
        for t in flat_in + flat_out:
            if not isinstance(t, KerasTensor):
                raise ValueError("Model(inputs, outputs) expects symbolic tensors from keras.Input and layer calls, "
                                 f"received {type(t).__name__}")
        if not flat_in or not flat_out:
            raise ValueError("Model(inputs, outputs) needs at least one input and one output")
        self._inputs_struct = inputs
        self._graph_outputs = outputs
        self.inputs = list(flat_in)
        self.outputs = list(flat_out)
        self._nodes = topological_nodes(self.outputs, self.inputs)
        self._input_layers = [t._node.operation for t in self.inputs
                              if t._node is not None and t._node.is_input]
        self._ordered_layers = keras_layer_order(self.outputs, self.inputs)
        input_layer_ids = {id(lyr) for lyr in self._input_layers}
        self._graph_layers = [lyr for lyr in self._ordered_layers if id(lyr) not in input_layer_ids]
        self._single_input = not isinstance(inputs, (list, tuple, dict))
        self.built = True

    # ---- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        """Every layer of the graph, input layers included, in Keras' order (deepest first; see
        :func:`keras_layer_order`)."""
        return list(self._ordered_layers)

    def _sublayers(self):
        return list(self._graph_layers)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._graph_outputs

    @property
    def input_names(self):
        return [kt.name or f"input_{i}" for i, kt in enumerate(self.inputs)]

    @property
    def output_names(self):
        outs = self._graph_outputs
        if isinstance(outs, dict):  # Keras: a dict of outputs is named by its keys
            return list(outs)
        names = []
        for k, kt in enumerate(self.outputs):
            op = kt._node.operation if kt._node is not None else None
            names.append(op.name if isinstance(op, Layer) else f"output_{k}")
        return names

    def _n_inputs(self):
        return len(self.inputs)

    def _n_outputs(self):
        outs = self._graph_outputs
        return len(outs) if isinstance(outs, (list, tuple, dict)) else 1

    # ---- running -----------------------------------------------------------------------------
    def _standardize_inputs(self, inputs):
        if isinstance(inputs, dict):
            if isinstance(self._inputs_struct, dict):
                missing = [k for k in self._inputs_struct if k not in inputs]
                if missing:
                    raise ValueError(f"Model {self.name}: missing inputs {missing}; expected keys "
                                     f"{list(self._inputs_struct)}")
                return [inputs[k] for k in self._inputs_struct]
            names = self.input_names
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f"Model {self.name}: missing inputs {missing}; expected keys {names}")
            return [inputs[k] for k in names]
        given = [inputs] if self._single_input or not isinstance(inputs, (list, tuple)) else list(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"Model {self.name} expects {len(self.inputs)} input(s), received {len(given)}")
        return given

    def call(self, inputs, training=None, mask=None):
        given = self._standardize_inputs(inputs)
        masks = flatten(mask) if mask is not None else [None] * len(given)
        cache = {}
        for i, (kt, v) in enumerate(zip(self.inputs, given)):
            if kt.dtype == "string":
                v = _string_input(v, i, self.name)
            elif not isinstance(v, (Tensor, KerasTensor)):
                v = _core.as_tensor(v)
            want = kt.shape
            if len(want) != len(v.shape) or any(w is not None and g is not None and w != g
                                                 for w, g in zip(want[1:], v.shape[1:])):
                raise ValueError(f"Input {i} of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape={kt.shape}, found shape={tuple(v.shape)}")
            if v.dtype != kt.dtype and kt.dtype.startswith("float") and isinstance(v, Tensor):
                v = _core.cast(v, kt.dtype)
            if i < len(masks) and masks[i] is not None and isinstance(v, Tensor):
                set_keras_mask(v, masks[i])
            cache[id(kt)] = v
        for node in self._nodes:
            args = node.call_args
            if len(args) == 1 and type(args[0]) is KerasTensor and not node.call_kwargs:
                out = node.operation(cache[id(args[0])])
            else:
                def fill(a):
                    return cache[id(a)] if isinstance(a, KerasTensor) else a

                out = node.operation(*map_structure(fill, args), **map_structure(fill, node.call_kwargs))
            produced = node.outputs
            if len(produced) == 1 and not isinstance(out, (list, tuple, dict)):
                cache[id(produced[0])] = out
            else:
                for kt, v in zip(produced, flatten(out)):
                    cache[id(kt)] = v
        return map_structure(lambda kt: cache[id(kt)], self._graph_outputs)

    @property
    def _accepts_strings(self):
        return any(kt.dtype == "string" for kt in (getattr(self, "inputs", None) or ()))

    def compute_output_spec(self, *args, **kwargs):
        kwargs.pop("training", None)
        return super().compute_output_spec(*args, **kwargs)

    # ---- config ------------------------------------------------------------------------------
    def get_config(self):
        from .. import saving

        return get_graph_config(self, saving._serialize_layer)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .. import saving

        return from_graph_config(config, lambda e: saving._deserialize_layer(e, custom_objects))


# ---- serialization -----------------------------------------------------------------------------
# A functional model is saved as its list of (unique) layers plus the recorded nodes in execution
# order. A node names a layer by its index or an op by its name in ``ferrograd.ops``; its arguments
# are JSON with tagged objects for tensors of the graph, tuples, slices, Ellipsis and small arrays.
# Loading replays the nodes symbolically, so nothing from the file is ever executed as code.

_SPECIAL_OPS = {"__getitem__": getitem}
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
    ids = {}

    def tid(kt):
        if id(kt) not in ids:
            ids[id(kt)] = len(ids)
        return ids[id(kt)]

    where = f"saving model {model.name!r}"
    input_tensors = [{"id": tid(kt), "shape": list(kt.shape), "dtype": kt.dtype, "name": kt.name}
                     for kt in model.inputs]
    layer_index = {id(lyr): i for i, lyr in enumerate(model._graph_layers)}
    nodes = []
    for node in model._nodes:
        fn = node.operation
        if id(fn) in layer_index:
            entry = {"layer": layer_index[id(fn)]}
        else:
            name = _op_name(fn)
            if name is None:
                raise ValueError(f"{where}: the graph calls {getattr(fn, '__name__', fn)!r}, which is neither a layer "
                                 "nor a function of ferrograd.ops; wrap it in a custom layer registered with "
                                 "@keras.saving.register_keras_serializable")
            entry = {"op": name}
        entry["args"] = _encode(list(node.call_args), tid, where)
        entry["kwargs"] = _encode(dict(node.call_kwargs), tid, where)
        entry["outputs"] = [tid(kt) for kt in node.outputs]
        nodes.append(entry)
    inputs = model._inputs_struct
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(lyr) for lyr in model._graph_layers],
            "input_tensors": input_tensors, "nodes": nodes,
            "inputs": tid(inputs) if isinstance(inputs, KerasTensor) else _encode(inputs, tid, where),
            "outputs": _encode(model._graph_outputs, tid, where)}


_MAX_NODES = 1 << 20


def from_graph_config(config, deserialize_layer, cls=None):
    """Rebuilds a functional model from :func:`get_graph_config` output by replaying its nodes
    symbolically (layers are looked up by class name; nothing from the file is executed)."""
    if not isinstance(config, dict):
        raise ValueError(f"a functional config must be a mapping, received {type(config).__name__}")
    for key, kind in (("layers", list), ("input_tensors", list), ("nodes", list)):
        if not isinstance(config.get(key), kind):
            raise ValueError(f"a functional config needs a list under {key!r}")
    if len(config["nodes"]) > _MAX_NODES:
        raise ValueError(f"a functional config with {len(config['nodes'])} nodes is too large")
    layers = [deserialize_layer(e) for e in config["layers"]]
    tensors = {}
    for spec in config["input_tensors"]:
        if not isinstance(spec, dict):
            raise ValueError(f"bad input tensor entry {spec!r}")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
            raise ValueError(f"bad input shape {shape!r}")
        if spec.get("dtype") not in ("float32", "float64", "int32", "int64", "bool", "string"):
            raise ValueError(f"bad input dtype {spec.get('dtype')!r}")
        name = spec.get("name")
        tensors[spec.get("id")] = Input(batch_shape=tuple(shape), dtype=spec["dtype"],
                                        name=name if isinstance(name, str) and name else None)
    for entry in config["nodes"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("outputs"), list):
            raise ValueError(f"bad node entry {entry!r}")
        args = _decode(entry.get("args", []), tensors)
        kwargs = _decode(entry.get("kwargs", {"__dict__": {}}), tensors)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("a node's args must be a list and its kwargs a mapping")
        if "layer" in entry:
            k = entry["layer"]
            if not isinstance(k, int) or not 0 <= k < len(layers):
                raise ValueError(f"node refers to layer {k!r}, the model has {len(layers)} layers")
            out = layers[k](*args, **kwargs)
        else:
            out = _op_by_name(entry.get("op"))(*args, **kwargs)
        outs = flatten(out)
        if len(outs) != len(entry["outputs"]):
            raise ValueError(f"a node produced {len(outs)} outputs, the config records {len(entry['outputs'])}")
        for key, kt in zip(entry["outputs"], outs):
            tensors[key] = kt
    inputs = config.get("inputs")
    if isinstance(inputs, int):
        if inputs not in tensors:
            raise ValueError(f"the config's input {inputs!r} is not one of its tensors")
        inputs = tensors[inputs]
    elif isinstance(inputs, list) and all(isinstance(k, int) for k in inputs):  # older files
        inputs = [tensors[k] for k in inputs if k in tensors]
    else:
        inputs = _decode(inputs, tensors)
    outputs = _decode(config.get("outputs"), tensors)
    return (cls or Functional)(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A copy of ``model`` with new layers (freshly initialized weights), as ``keras.models.clone_model``.

    ``clone_function(layer)`` makes each new layer (default: ``layer.__class__.from_config(
    layer.get_config())``); ``input_tensors`` replaces the inputs of a functional or Sequential
    model; ``call_function(layer, *args, **kwargs)`` replaces the call of each layer in the graph.
    Subclassed models are rebuilt from their config.
    """
    from .sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model: unexpected arguments {sorted(kwargs)}")

    def default_clone(layer):
        return layer.__class__.from_config(layer.get_config())

    def clone_layer(layer):
        if recursive and isinstance(layer, (Sequential, Functional)):
            return clone_model(layer, clone_function=clone_function, call_function=call_function, recursive=True)
        return (clone_function or default_clone)(layer)

    if isinstance(model, Sequential):
        new_layers = [clone_layer(lyr) for lyr in model.layers]
        if input_tensors is not None:
            x = flatten(input_tensors)[0]
            out = x
            for lyr in new_layers:
                out = call_function(lyr, out) if call_function else lyr(out)
            return Functional(x, out, name=model.name)
        clone = Sequential(name=model.name, trainable=model.trainable)
        spec = model._input_spec
        if spec is not None:
            clone.add(Input(batch_shape=spec.shape, dtype=spec.dtype))
        for lyr in new_layers:
            clone.add(lyr)
        return clone
    if isinstance(model, Functional):
        memo = {}
        if input_tensors is not None:
            new_inputs = flatten(input_tensors)
            if len(new_inputs) != len(model.inputs):
                raise ValueError(f"clone_model: input_tensors has {len(new_inputs)} tensors, the model has "
                                 f"{len(model.inputs)} inputs")
        else:
            new_inputs = [Input(batch_shape=kt.shape, dtype=kt.dtype, name=kt.name) for kt in model.inputs]
        tensors = {id(kt): nk for kt, nk in zip(model.inputs, new_inputs)}
        for node in model._nodes:
            op = node.operation

            def fill(a):
                return tensors[id(a)] if isinstance(a, KerasTensor) else a

            args, kw = map_structure(fill, node.call_args), map_structure(fill, node.call_kwargs)
            if isinstance(op, Layer):
                if id(op) not in memo:
                    memo[id(op)] = clone_layer(op)
                new = memo[id(op)]
                out = call_function(new, *args, **kw) if call_function else new(*args, **kw)
            else:
                out = op(*args, **kw)
            for kt, nk in zip(node.outputs, flatten(out)):
                tensors[id(kt)] = nk
        ins = map_structure(lambda kt: tensors[id(kt)], model._inputs_struct)
        outs = map_structure(lambda kt: tensors[id(kt)], model._graph_outputs)
        return Functional(ins, outs, name=model.name, trainable=model.trainable)
    if input_tensors is not None:
        raise ValueError("clone_model: input_tensors is only supported for Sequential and functional models")
    return model.__class__.from_config(model.get_config())
