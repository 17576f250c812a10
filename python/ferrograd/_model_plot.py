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


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False, show_trainable=False,
                 splines="ortho", **kwargs):
    """The model's layer graph as a ``pydot.Dot`` (Keras 3's arguments; see :func:`plot_model`).
    ``expand_nested`` and ``subgraph`` are not implemented: nested models are drawn as one node."""
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    for arg, value in (("expand_nested", expand_nested), ("subgraph", subgraph)):
        if value:
            raise NotImplementedError(f"model_to_dot({arg}=True) is not implemented in ferrograd: nested models "
                                      "are drawn as one node")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    pydot = _pydot("model_to_dot")
    from .layers.layer import Layer
    from .models.functional import _op_name

    nodes, inputs = _nodes(model)
    dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi), splines=splines,
                    fontname="Helvetica", concentrate="true")
    dot.set_node_defaults(shape="plaintext", fontname="Helvetica", fontsize="10")
    ids, producer = {}, {}

    def add(key, name, class_name, rows):
        ids[key] = str(len(ids))
        dot.add_node(pydot.Node(ids[key], label=_label(name, class_name, rows, show_layer_names)))

    for kt in inputs:
        rows = []
        if show_shapes:
            rows.append(f"Output shape: {_shape([kt.shape])}")
        if show_dtype:
            rows.append(f"Output dtype: {kt.dtype}")
        add(id(kt), kt.name, "InputLayer", rows)
        producer[id(kt)] = id(kt)
    for op, args, outs in nodes:
        key = id(op)
        if key not in ids:
            if isinstance(op, Layer):
                name, class_name = op.name, type(op).__name__
            else:
                name = _op_name(op) or getattr(op, "__name__", "op")
                class_name = "".join(p.capitalize() for p in name.split("_"))
            rows = []
            if show_shapes:
                rows += [f"Input shape: {_shape([t.shape for t in args]) if args else '()'}",
                         f"Output shape: {_shape([t.shape for t in outs])}"]
            if show_dtype:
                rows.append(f"Output dtype: {', '.join(sorted({str(t.dtype) for t in outs}))}")
            activation = getattr(op, "activation", None)
            if show_layer_activations and activation is not None:
                rows.append(f"Activation: {getattr(activation, '__name__', type(activation).__name__)}")
            if show_trainable and isinstance(op, Layer):
                rows.append(f"Trainable: {'Y' if op.trainable else 'N'}")
            add(key, name, class_name, rows)
        for t in args:
            src = producer.get(id(t))
            if src is not None:
                edge = (ids[src], ids[key])
                if not dot.get_edge(*edge):
                    dot.add_edge(pydot.Edge(*edge))
        for t in outs:
            producer[id(t)] = key
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws the model's layer graph into ``to_file`` (its extension picks the format: png, svg, pdf,
    ...; none means png), as Keras 3 does. Returns an ``IPython.display.Image`` of the file when
    IPython is installed and the format is not pdf, else None. Needs pydot and graphviz' ``dot``
    (ImportErrors naming them otherwise); ``layer_range`` and ``expand_nested`` are not
    implemented."""
    if "layer_range" in kwargs:
        raise NotImplementedError("plot_model(layer_range=...) is not implemented in ferrograd")
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
