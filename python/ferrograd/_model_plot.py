"""``keras.utils.model_to_dot`` and ``plot_model``: a model's layer graph drawn with pydot/graphviz.

One graph node per layer (a layer called twice is one node with edges from both callers) and per
op applied to symbolic tensors (``x + y``, ``ops.concatenate``), one per model input; edges follow
the tensors. Labels are HTML-like tables as Keras draws them: the class (with the layer name when
``show_layer_names``), then the rows the ``show_*`` flags ask for. pydot and the graphviz ``dot``
program are optional: without them the functions raise Keras' ImportErrors.
"""
from __future__ import annotations

import html
import os
import re

_PYDOT = "You must install pydot (`pip install pydot`) for `{}` to work."
_GRAPHVIZ = ("You must install graphviz (see instructions at https://graphviz.gitlab.io/download/) "
             "for `{}` to work.")


def _pydot(what):
    try:
        import pydot
    except ImportError:
        raise ImportError(_PYDOT.format(what)) from None
    try:
        pydot.Dot.create(pydot.Dot())  # runs `dot`: fails without graphviz
    except (OSError, FileNotFoundError, AssertionError):
        raise ImportError(_GRAPHVIZ.format(what)) from None
    return pydot


def _shape(shapes):
    text = [str(tuple(s)).replace(",)", ")") for s in shapes]
    return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"


def _nodes(model):
    """``[(operation, input tensors, output tensors)]`` in execution order, and the model inputs."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        nodes = getattr(model, "_graph_nodes", None)
    if not nodes and not getattr(model, "built", False):
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    if not nodes:
        raise ValueError(f"model_to_dot draws models built on symbolic inputs (a Functional or Sequential "
                         f"model with an Input); {type(model).__name__} {model.name!r} has no layer graph. "
                         "Call model.summary() instead")
    return [(n.operation, list(n.input_tensors), list(n.outputs)) for n in nodes], list(model.inputs or [])


def _label(name, class_name, rows, show_layer_names):
    head = f"<b>{html.escape(name)}</b> ({html.escape(class_name)})" if show_layer_names else \
        f"<b>{html.escape(class_name)}</b>"
    cells = [f'<tr><td bgcolor="black" align="center"><font color="white">{head}</font></td></tr>']
    cells += [f'<tr><td align="left">{html.escape(r)}</td></tr>' for r in rows]
    return '<<table border="0" cellborder="1" bgcolor="white" cellspacing="0">' + "".join(cells) + "</table>>"


def _layer_range(model, layer_range):
    """The layers ``layer_range = [first, last]`` selects (names matched as Keras matches them, with
    ``re.match``, both ends included), as a set of ids."""
    if not (isinstance(layer_range, (list, tuple)) and len(layer_range) == 2
            and all(isinstance(n, str) for n in layer_range)):
        raise ValueError(f"layer_range must be a list of two layer names (start and end). Received: "
                         f"layer_range={layer_range!r}")
    layers = list(model.layers)
    bounds = []
    for pattern in layer_range:
        hits = [i for i, layer in enumerate(layers) if re.match(pattern, layer.name)]
        if not hits:
            raise ValueError(f"Passed layer_name {pattern!r} does not match any layer of model {model.name!r} "
                             f"(layers: {[layer.name for layer in layers]})")
        bounds.append(hits[0])
    lo, hi = bounds
    if lo > hi:
        raise ValueError(f"layer_range {list(layer_range)}: {layer_range[0]!r} comes after {layer_range[1]!r}")
    return {id(layer) for layer in layers[lo:hi + 1]}


def _add_graph(dot, model, opts, keep=None):
    """Adds ``model``'s nodes and edges to ``dot`` (a Dot or a Cluster); returns the graph-node ids
    of its inputs and of the producers of its outputs, so a caller can wire a nested model in.
    ``keep``: the ids of the layers to draw (``layer_range``), None for all."""
    import pydot

    from .layers.layer import Layer
    from .models.functional import _op_name
    from .models.model import Model

    nodes, inputs = _nodes(model)
    producer, drawn = {}, set()

    def add(key, name, class_name, rows):
        dot.add_node(pydot.Node(key, label=_label(name, class_name, rows, opts["show_layer_names"])))
        drawn.add(key)

    def link(src, dst):
        if src in drawn and dst in drawn and not dot.get_edge(src, dst):
            dot.add_edge(pydot.Edge(src, dst))

    input_ids = []
    for kt in inputs:
        key = str(id(kt))
        input_ids.append(key)
        producer[id(kt)] = key
        if keep is not None and kt._node is not None and id(kt._node.operation) not in keep:
            continue
        rows = [f"Output shape: {_shape([kt.shape])}"] if opts["show_shapes"] else []
        if opts["show_dtype"]:
            rows.append(f"Output dtype: {kt.dtype}")
        add(key, kt.name, "InputLayer", rows)
    for op, args, outs in nodes:
        key = str(id(op))
        nested = opts["expand_nested"] and isinstance(op, Model) and bool(
            getattr(op, "_nodes", None) or getattr(op, "_graph_nodes", None))
        if keep is not None and id(op) not in keep:
            for t in outs:
                producer[id(t)] = key
            continue
        if nested:
            cluster = pydot.Cluster(key, label=op.name, style="dashed")
            ins, out_ids = _add_graph(cluster, op, opts)
            dot.add_subgraph(cluster)
            drawn.update(ins + out_ids)
            for t, dst in zip(args, ins):
                if id(t) in producer:
                    link(producer[id(t)], dst)
            for t, src in zip(outs, out_ids):
                producer[id(t)] = src
            continue
        if key not in drawn:
            if isinstance(op, Layer):
                name, class_name = op.name, type(op).__name__
            else:
                name = _op_name(op) or getattr(op, "__name__", "op")
                class_name = "".join(p.capitalize() for p in name.split("_"))
            rows = []
            if opts["show_shapes"]:
                rows += [f"Input shape: {_shape([t.shape for t in args]) if args else '()'}",
                         f"Output shape: {_shape([t.shape for t in outs])}"]
            if opts["show_dtype"]:
                rows.append(f"Output dtype: {', '.join(sorted({str(t.dtype) for t in outs}))}")
            activation = getattr(op, "activation", None)
            if opts["show_layer_activations"] and activation is not None:
                rows.append(f"Activation: {getattr(activation, '__name__', type(activation).__name__)}")
            if opts["show_trainable"] and isinstance(op, Layer):
                rows.append(f"Trainable: {'Y' if op.trainable else 'N'}")
            add(key, name, class_name, rows)
        for t in args:
            if id(t) in producer:
                link(producer[id(t)], key)
        for t in outs:
            producer[id(t)] = key
    return input_ids, [producer[id(t)] for t in model.outputs if id(t) in producer]


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False, show_trainable=False,
                 splines="ortho", **kwargs):
    """The model's layer graph as a ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``), with
    Keras 3's arguments (see :func:`plot_model`). ``expand_nested`` draws each nested Functional or
    Sequential model as a dashed cluster of its own layers; ``layer_range`` (keyword) draws only the
    layers from one name to another."""
    layer_range = kwargs.pop("layer_range", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    pydot = _pydot("model_to_dot")
    keep = None if layer_range is None else _layer_range(model, layer_range)
    if subgraph:
        dot = pydot.Cluster(str(id(model)), label=model.name, style="dashed")
    else:
        dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi), splines=splines,
                        fontname="Helvetica", concentrate="true")
        dot.set_node_defaults(shape="plaintext", fontname="Helvetica", fontsize="10")
    opts = {"show_shapes": show_shapes, "show_dtype": show_dtype, "show_layer_names": show_layer_names,
            "show_layer_activations": show_layer_activations, "show_trainable": show_trainable,
            "expand_nested": expand_nested}
    _add_graph(dot, model, opts, keep)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws the model's layer graph into ``to_file`` (its extension picks the format: png, svg, pdf,
    ...; none means png), as Keras 3 does; ``layer_range=[first, last]`` draws part of it and
    ``expand_nested`` opens nested models. Returns an ``IPython.display.Image`` of the file when
    IPython is installed and the format is not pdf, else None. Needs pydot and graphviz' ``dot``
    (ImportErrors naming them otherwise)."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                       splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    if not os.path.splitext(to_file)[1]:
        to_file += ".png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
