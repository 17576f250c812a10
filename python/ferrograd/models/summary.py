"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations


def _fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0
    return f"{n:.2f} GB"


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def summary_text(model):
    rows = []
    layers = getattr(model, "layers", [])
    spec = getattr(model, "_input_spec", None)
    shape = spec.shape if spec is not None else None
    for lyr in layers:
        out = "?"
        if shape is not None:
            try:
                shape = lyr.compute_output_shape(shape)
                out = _shape_str(shape)
            except NotImplementedError:
                shape = None
        params = f"{lyr.count_params():,}" if lyr.built else "0 (unbuilt)"
        rows.append((f"{lyr.name} ({type(lyr).__name__})", out, params))
    w = (33, 24, 15)
    top = "┏" + "┳".join("━" * c for c in w) + "┓"
    head = "┃" + "┃".join(f" {t:<{c - 2}} " if i < 2 else f" {t:>{c - 2}} "
                           for i, (t, c) in enumerate(zip(("Layer (type)", "Output Shape", "Param #"), w))) + "┃"
    sep = "┡" + "╇".join("━" * c for c in w) + "┩"
    body = ["│" + "│".join(f" {t:<{c - 2}} " if i < 2 else f" {t:>{c - 2}} " for i, (t, c) in enumerate(zip(r, w)))
            + "│" for r in rows]
    bottom = "└" + "┴".join("─" * c for c in w) + "┘"
    total = sum(int(v.numel()) if hasattr(v, "numel") else int(v.size) for v in model.weights)
    trainable = sum(int(v.size) for v in model.trainable_weights)
    non = total - trainable
    lines = [f'Model: "{model.name}"', top, head, sep, *body, bottom,
             f" Total params: {total:,} ({_fmt_bytes(total * 4)})",
             f" Trainable params: {trainable:,} ({_fmt_bytes(trainable * 4)})",
             f" Non-trainable params: {non:,} ({_fmt_bytes(non * 4)})"]
    return "\n".join(lines)
