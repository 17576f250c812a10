"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

import textwrap


def _fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0
    return f"{n:.2f} GB"


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.strip("_").split("_"))


def _functional_rows(model):
    """Rows (name (type), output shape, params, connected-to lines) of a functional graph, in
    execution order, as Keras 3 lists them: input layers, then every layer call and every
    ``keras.ops`` call, each naming the tensors it reads as ``producer[node][tensor]``."""
    from ..symbolic import KerasTensor

    rows, producer = [], {}
    for kt in model.inputs:
        rows.append((f"{kt.name} (InputLayer)", _shape_str(kt.shape), "0", ["-"]))
        producer[id(kt)] = f"{kt.name}[0][0]"
    calls, op_names = {}, {}
    for node in model._nodes:
        fn = node.operation
        if hasattr(fn, "count_params"):
            name, kind, params = fn.name, type(fn).__name__, f"{fn.count_params():,}"
        else:
            base = getattr(fn, "__name__", "op").strip("_")
            base = "get_item" if base == "getitem" else base
            seen = op_names.get(base, 0)
            op_names[base] = seen + 1
            name, kind, params = (base if seen == 0 else f"{base}_{seen}"), _camel(base), "0"
        # A layer called several times (shared weights) has one node per call; each op call is
        # its own operation, always node 0.
        index = calls.get(id(fn), 0) if hasattr(fn, "count_params") else 0
        calls[id(fn)] = index + 1
        outs = node.outputs
        links = [producer[id(a)] for a in node.input_tensors if isinstance(a, KerasTensor) and id(a) in producer]
        shp = _shape_str(outs[0].shape) if len(outs) == 1 else ", ".join(_shape_str(o.shape) for o in outs)
        rows.append((f"{name} ({kind})", shp, params,
                     [f"{lnk}," for lnk in links[:-1]] + links[-1:] if links else ["-"]))
        for t, o in enumerate(outs):
            producer[id(o)] = f"{name}[{index}][{t}]"
    return rows


def _wrap(text, width):
    """A cell's lines: text longer than the column wraps at spaces (long words are cut), as Keras'
    rich tables wrap it."""
    text = str(text)
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _table(heads, rows, widths, right, separators):
    """A Keras-style box table; a row's last cell may be a list of lines, and cells wider than
    their column wrap onto more lines."""
    def line(cells):
        return "│" + "│".join(f" {t:>{c - 2}} " if i in right else f" {t:<{c - 2}} "
                              for i, (t, c) in enumerate(zip(cells, widths))) + "│"

    out = ["┏" + "┳".join("━" * c for c in widths) + "┓",
           "┃" + "┃".join(f" {t:>{c - 2}} " if i in right else f" {t:<{c - 2}} "
                          for i, (t, c) in enumerate(zip(heads, widths))) + "┃",
           "┡" + "╇".join("━" * c for c in widths) + "┩"]
    for r, row in enumerate(rows):
        cells = [[piece for part in (cell if isinstance(cell, list) else [cell]) for piece in _wrap(part, c - 2)]
                 for cell, c in zip(row, widths)]
        for k in range(max(len(cell) for cell in cells)):
            out.append(line([cell[k] if k < len(cell) else "" for cell in cells]))
        if separators and r < len(rows) - 1:
            out.append("├" + "┼".join("─" * c for c in widths) + "┤")
    out.append("└" + "┴".join("─" * c for c in widths) + "┘")
    return out


def summary_text(model):
    if getattr(model, "_nodes", None) is not None and type(model).__name__ != "Sequential":
        rows = _functional_rows(model)
        widths = [max([base] + [len(str(c)) + 2 for c in col])
                  for base, col in zip((21, 19, 12, 19),
                                       ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                                        [x for r in rows for x in r[3]]))]
        table = _table(("Layer (type)", "Output Shape", "Param #", "Connected to"), rows, widths, {2}, True)
    else:
        table = _table(("Layer (type)", "Output Shape", "Param #"), _sequential_rows(model), (33, 24, 15), {2},
                       False)
    total = sum(int(v.numel()) if hasattr(v, "numel") else int(v.size) for v in model.weights)
    trainable = sum(int(v.size) for v in model.trainable_weights)
    non = total - trainable
    lines = [f'Model: "{model.name}"', *table,
             f" Total params: {total:,} ({_fmt_bytes(total * 4)})",
             f" Trainable params: {trainable:,} ({_fmt_bytes(trainable * 4)})",
             f" Non-trainable params: {non:,} ({_fmt_bytes(non * 4)})"]
    return "\n".join(lines)


def _sequential_rows(model):
    rows = []
    outputs = {}
    for node in getattr(model, "_graph_nodes", []):
        outputs[id(node.operation)] = node.outputs
    for lyr in getattr(model, "layers", []):
        outs = outputs.get(id(lyr))
        out = "?" if not outs else (_shape_str(outs[0].shape) if len(outs) == 1 else
                                     ", ".join(_shape_str(o.shape) for o in outs))
        params = f"{lyr.count_params():,}" if lyr.built else "0 (unbuilt)"
        rows.append((f"{lyr.name} ({type(lyr).__name__})", out, params))
    return rows
