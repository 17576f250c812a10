"""Worker side of tests/test_fuzz_layers.py (runs in a subprocess, see fuzz_helpers).

Each target is ``layers.<Class>``: the constructor gets random and awkward arguments drawn by
parameter name, then the layer is called on random inputs (one tensor, a list, or two positional
tensors; sometimes ``training=True``). Passing: an allowed exception at any step, or a result whose
tensors convert to NumPy; a layer that was built must also survive ``from_config(get_config())``.
"""
from __future__ import annotations

import inspect
import time

import fuzz_helpers as fh
import fuzz_strategies as fs
from hypothesis import strategies as st

SMALL = st.one_of(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
                  st.sampled_from([0, -1, 2**31, 2**63 - 1, 2.5, None, "3", True]))
SIZE = st.one_of(SMALL, st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple), fs.SHAPE)
RATE = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.floats(-2, 2), fs.FLOAT)


def _lay(code):
    import ferrograd as fg
    return fh.Opaque(eval(code, {"layers": fg.layers}), code)  # noqa: S307 - fixed snippets below


LAYER_CODES = ["layers.Dense(2)", "layers.LSTM(2)", "layers.GRU(2, return_sequences=True)", "layers.Conv1D(2, 1)",
               "layers.Dropout(0.5)", "layers.SimpleRNN(3)"]
CELL_CODES = ["layers.LSTMCell(2)", "layers.SimpleRNNCell(2)", "layers.GRUCell(3)"]

WORDS = ["relu", "tanh", "sigmoid", "softmax", "linear", "gelu", "bogus", "", "zeros", "ones", "glorot_uniform",
         "he_normal", "l2", "l1", "non_neg", "unit_norm", "bilinear", "nearest", "reflect", "wrap", "constant",
         "concat", "sum", "mul", "ave", "horizontal", "vertical", "horizontal_and_vertical", "one_hot",
         "multi_hot", "count", "int", "dot", "valid", "same", "causal", "full", "channels_last",
         "channels_first"]
WORD = st.one_of(st.sampled_from(WORDS), st.none(), fs.AWKWARD)


def param_strategy(name):
    if name in ("layer", "backward_layer"):
        return st.one_of(st.sampled_from(LAYER_CODES).map(_lay), fs.AWKWARD)
    if name == "cell":
        return st.one_of(st.sampled_from(CELL_CODES).map(_lay), st.lists(st.sampled_from(CELL_CODES).map(_lay),
                                                                           max_size=2), fs.AWKWARD)
    if name in ("cells", "layers"):
        codes = CELL_CODES if name == "cells" else LAYER_CODES
        return st.one_of(st.lists(st.sampled_from(codes).map(_lay), max_size=3), fs.AWKWARD)
    if name == "function":
        return st.one_of(st.sampled_from([fh.Opaque(lambda x: x * 2, "lambda x: x * 2"),
                                          fh.Opaque(lambda x: x[0], "lambda x: x[0]"),
                                          fh.Opaque(lambda x: None, "lambda x: None")]), fs.AWKWARD)
    if name == "equation":
        return st.one_of(st.sampled_from(["ab,bc->ac", "abc,cd->abd", "abc,cde->abde", "ab,b->a", "a,a->",
                                          "bad", "ab,bc->xy", "...b,bc->...c"]), fs.AWKWARD)
    if name in ("units", "filters", "output_dim", "input_dim", "num_heads", "key_dim", "head_dim",
                "num_query_heads", "num_key_value_heads", "n", "depth_multiplier", "groups", "num_tokens",
                "num_bins", "value_dim", "lora_rank", "batch_size", "height", "width"):
        return SMALL
    if name in ("kernel_size", "pool_size", "strides", "dilation_rate", "output_size", "size", "cropping",
                "padding", "output_padding", "shared_axes", "noise_shape", "target_shape", "dims",
                "output_shape", "shape", "input_shape", "batch_input_shape", "batch_shape", "value_range",
                "attention_axes", "sliding_window"):
        return st.one_of(SIZE, WORD) if name == "padding" else SIZE
    if name in ("rate", "dropout", "recurrent_dropout", "stddev", "factor", "height_factor", "width_factor",
                "x_factor", "y_factor", "epsilon", "momentum", "alpha", "negative_slope", "scale", "offset",
                "max_value", "threshold", "l1", "l2", "mask_value", "fill_value", "lora_alpha",
                "renorm_momentum", "addition_factor", "threshold_factor"):
        return st.one_of(RATE, st.tuples(st.floats(-1, 1), st.floats(-1, 1)))
    if name in ("mean", "variance", "bin_boundaries"):
        return st.one_of(st.none(), st.floats(-2, 2), st.lists(st.floats(-2, 2), max_size=4),
                         fs.AWKWARD)
    if name in ("axis", "axes"):
        return fs.AXIS
    if name == "seed":
        return fs.INT
    if name == "dtype":
        return fs.DTYPE
    if name == "name":
        return st.one_of(st.sampled_from(["a", "", "a/b", "x" * 300]), fs.AWKWARD)
    if name in fs.BOOL_NAMES or name.startswith(("use_", "return_", "go_", "mask_", "unit_", "reset_")) or name in (
            "center", "stateful", "unroll", "renorm", "normalize", "invert", "optional", "ragged", "trainable",
            "autocast", "zero_output_for_mask", "use_cudnn", "synchronized"):
        return fs.BOOL
    if "activation" in name or "initializer" in name or "regularizer" in name or "constraint" in name or name in (
            "data_format", "interpolation", "fill_mode", "merge_mode", "mode", "output_mode", "score_mode"):
        return WORD
    return st.one_of(SMALL, fs.FLOAT, fs.AWKWARD)


def calm_strategy(name):
    """A plain valid-looking value, so that a share of the layers gets built and called."""
    if name in ("layer", "backward_layer"):
        return st.sampled_from(LAYER_CODES).map(_lay)
    if name in ("cell", "cells", "layers"):
        return param_strategy(name).filter(lambda v: isinstance(v, (list, fh.Opaque)))
    if name == "function":
        return st.just(fh.Opaque(lambda x: x * 2, "lambda x: x * 2"))
    if name == "equation":
        return st.sampled_from(["ab,bc->ac", "abc,cd->abd"])
    if name in ("kernel_size", "pool_size", "output_size", "size", "cropping", "dims", "target_shape",
                "output_shape"):
        return st.integers(1, 3)
    if name in ("rate", "factor", "height_factor", "width_factor", "stddev", "scale"):
        return st.sampled_from([0.0, 0.1, 0.5])
    return st.integers(1, 4)


@st.composite
def layer_call(draw, cls):
    args, kwargs = [], {}
    calm = draw(st.integers(0, 2)) > 0
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("input_tensor", "weights",
                                                                   "quantization_config", "arguments"):
            continue
        if p.default is p.empty:
            strat = calm_strategy(p.name) if calm else param_strategy(p.name)
            (kwargs.__setitem__(p.name, draw(strat)) if p.kind == p.KEYWORD_ONLY else args.append(draw(strat)))
        elif not calm and draw(st.integers(0, 3)) == 0:
            kwargs[p.name] = draw(param_strategy(p.name))
    rank = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(["float32"] * 6 + fs.DTYPES))
    x = fs.tensors(dtype=dtype, shape=shape, nasty=draw(st.integers(0, 4)) == 0)
    style = draw(st.sampled_from(["one", "one", "list", "two"]))
    if style == "one":
        inputs = [draw(x)]
    elif style == "list":
        inputs = [draw(st.lists(x, min_size=1, max_size=3))]
    else:
        inputs = [draw(x), draw(st.one_of(x, fs.tensors(dtype="float32")))]
    call_kwargs = {"training": True} if draw(st.integers(0, 2)) == 0 else {}
    return args, kwargs, inputs, call_kwargs


def check_output_shape(name, layer, inputs, res):
    """compute_output_shape (what symbolic calls use) agrees with the shape a concrete call gave."""
    import ferrograd as fg
    # Lambda: the user states the shape; Rescaling: list-valued scale/offset broadcast against the
    # input, which compute_output_shape ignores (as Keras's does)
    if name in ("layers.Lambda", "layers.Rescaling") or len(inputs) != 1 or not isinstance(inputs[0], fh.TensorArg) \
            or not isinstance(res, fg.Tensor):
        return None
    shape = tuple(inputs[0].build()[1].shape)
    if name == "layers.RNN" and len(shape) > 3:
        return None  # reported: a generic RNN over a plain cell on 4-D+ steps (see the fuzz report)
    want, exc = fh.attempt(layer.compute_output_shape, [shape], {})
    if exc is not None:
        bad = fh.classify(exc)
        return None if bad is None else f"compute_output_shape{shape}: {bad}"
    if not isinstance(want, (tuple, list)) or not all(isinstance(d, (int, type(None))) for d in want):
        return None  # several outputs or a nested structure: not compared here
    got = tuple(res.shape)
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        return f"compute_output_shape{shape} gives {tuple(want)} but the call returned shape {got}"
    return None


def layer_body(name, cls):
    from fuzz_ops_worker import check_result

    def body(value, log):
        args, kwargs, inputs, call_kwargs = value
        ctor = fh.call_code(name, args, kwargs)
        log.write("CALL " + ctor)
        t0 = time.monotonic()
        layer, exc = fh.attempt(cls, fh.build(args), fh.build(kwargs))
        outcome = "ctor:" + (type(exc).__name__ if exc else "ok")
        if exc is None:
            code = ctor + "(" + ", ".join([fh.code_of(i) for i in inputs]
                                          + [f"{k}={v!r}" for k, v in call_kwargs.items()]) + ")"
            log.write("CALL " + code)
            res, exc = fh.attempt(layer, fh.build(inputs), call_kwargs)
            outcome = "call:" + (type(exc).__name__ if exc else "ok")
            if exc is None:
                bad, exc = fh.attempt(check_result, [res], {})
                if bad:
                    return {"code": code, "problem": bad}
                bad = check_output_shape(name, layer, inputs, res)
                if bad:
                    return {"code": code, "problem": bad}
            else:
                ctor = code
            if exc is None and name != "layers.Lambda":
                # (Lambda refuses to serialize by design: loading it would execute code)
                # get_config returns exactly the constructor arguments: the round trip must work
                # (only after a successful call: a failed build may leave a layer half made)
                log.write("CALL type(layer).from_config(layer.get_config()) for layer = " + ctor)
                _, exc2 = fh.attempt(lambda: type(layer).from_config(layer.get_config()), [], {})
                if exc2 is not None:
                    return {"code": f"layer = {ctor}; type(layer).from_config(layer.get_config())",
                            "problem": f"config round trip failed: {type(exc2).__name__}: {str(exc2)[:300]}"}
        if exc is not None and fh.known_exception(name, exc):
            body.skipped += 1
            exc = None
        body.outcomes[outcome] = body.outcomes.get(outcome, 0) + 1
        if time.monotonic() - t0 > 5.0:
            body.slow.append({"code": ctor, "seconds": round(time.monotonic() - t0, 2)})
        bad = fh.classify(exc)
        return None if bad is None else {"code": ctor, "problem": bad}

    body.skipped, body.slow, body.outcomes = 0, [], {}
    return body


def run_worker(cfg, log):
    result = {"calls": 0, "failures": [], "skipped": 0, "slow": [], "outcomes": {}}
    for target in cfg["targets"]:
        log.write("TARGET " + target)
        cls = fh.resolve(target)
        body = layer_body(target, cls)
        calls, failure = fh.run_target(target, layer_call(cls), body, cfg["examples"], log, cfg.get("seed"))
        result["calls"] += calls
        result["skipped"] += body.skipped
        result["slow"] += body.slow
        for k, v in body.outcomes.items():
            result["outcomes"][k] = result["outcomes"].get(k, 0) + v
        if failure:
            failure["target"] = target
            result["failures"].append(failure)
    return result
