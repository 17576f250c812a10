"""Hypothesis strategies of hostile arguments for the API fuzzers.

Shapes include 0-d and 0-sized ones; dtypes are every dtype ferrograd supports plus unsupported
NumPy ones; tensors come as views (transposes, stepped and reversed slices, broadcasts, expanded
dims); values include NaN, infinities, -0.0, extreme floats and extreme integers; scalar arguments
include negative and huge axes and sizes, None, strings, floats where ints are expected, bytes,
complex numbers, dicts and ragged nested lists.
"""
from __future__ import annotations

import numpy as np
from fuzz_helpers import Opaque, TensorArg
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ["float32", "float64", "int32", "int64", "bool"]
SPECIAL_FLOATS = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 1.0, -1.0, 0.5, 3.4028235e38,
                  -3.4028235e38, 1e-45, 1.1754944e-38, 65504.0, 16777217.0, 88.8, -104.0, 1e30]
SPECIAL_INTS = [0, 1, -1, 2, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 2**32, 255, 256, -129]
HUGE_INTS = [2**31, 2**31 - 1, 2**32, 2**62, 2**63 - 1, 2**63, 2**64, 10**30, -(2**31), -(2**63), -(2**63) - 1]


def elements(dtype, nasty):
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith("float"):
        width = 32 if dtype == "float32" else 64
        calm = st.floats(-8, 8, width=width)
        if not nasty:
            return calm
        special = st.sampled_from([v for v in SPECIAL_FLOATS if dtype == "float64" or abs(v) < 3.5e38
                                   or v != v or v in (float("inf"), float("-inf"))])
        return st.one_of(calm, calm, special)
    info = np.iinfo(dtype)
    calm = st.integers(-5, 8)
    if not nasty:
        return calm
    return st.one_of(calm, calm, st.sampled_from([v for v in SPECIAL_INTS if info.min <= v <= info.max]))


def shapes(max_dims=4, max_side=4):
    return st.one_of(st.just(()), hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=0, max_side=max_side),
                     hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side))


@st.composite
def tensors(draw, dtype=None, shape=None, nasty=None, views=True, max_dims=4):
    """A TensorArg: random dtype and shape, NaN/inf/extreme values, and maybe a view chain."""
    dtype = dtype or draw(st.sampled_from(DTYPES))
    if nasty is None:
        nasty = draw(st.booleans())
    if shape is None:
        shape = draw(shapes(max_dims=max_dims))
    base = draw(hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, nasty)))
    chain = []
    if views:
        cur = base
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["T", "slice", "bcast", "expand"]))
            if kind == "T" and cur.ndim >= 2:
                chain.append(("T", None))
                cur = cur.T
            elif kind == "slice" and cur.ndim >= 1:
                sl = tuple(draw(st.sampled_from([slice(None), slice(None, None, 2), slice(None, None, -1),
                                                 slice(1, None, 2), slice(-2, None)])) for _ in range(cur.ndim))
                chain.append(("slice", sl))
                cur = cur[sl]
            elif kind == "bcast":
                target = (draw(st.integers(0, 3)),) + cur.shape
                chain.append(("bcast", target))
                cur = np.broadcast_to(cur, target)
            elif kind == "expand":
                ax = draw(st.integers(0, cur.ndim))
                chain.append(("expand", ax))
                cur = np.expand_dims(cur, ax)
    return TensorArg(base, chain)


def related_shape(base):
    """Shapes that often broadcast against ``base``: itself, a suffix, ones, or fresh."""
    opts = [st.just(base), st.just(base[1:]) if base else st.just(()),
            st.just(tuple(1 if i % 2 else d for i, d in enumerate(base))), shapes()]
    return st.one_of(*opts)


AWKWARD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, -1.5, 2.0, 1e300]),
    st.sampled_from(["", "x", "float32", "int64", "same", "valid", "channels_first", "nan", "max", "mean"]),
    st.lists(st.integers(-3, 5), max_size=4).map(tuple), st.lists(st.sampled_from(HUGE_INTS), max_size=3),
    st.sampled_from([[[1, 2], [3]], [[]], [None], [1.5, "a"], (2, None), ((1, 2), (3, 4)), [(0, -1)]]),
    st.sampled_from([Opaque(b"xy", "b'xy'"), Opaque(1j, "1j"), Opaque({}, "{}"), Opaque(object(), "object()"),
                     Opaque(np.float64("nan"), "np.float64('nan')"), Opaque(np.int64(3), "np.int64(3)"),
                     Opaque(slice(None), "slice(None)"), Opaque(Ellipsis, "...")]),
)

AXIS = st.one_of(st.integers(-4, 4), st.integers(-4, 4), st.none(),
                 st.lists(st.integers(-4, 4), min_size=0, max_size=3).map(tuple), AWKWARD)
SHAPE = st.one_of(st.lists(st.integers(-1, 4), max_size=4).map(tuple), st.integers(-2, 5),
                  st.lists(st.integers(0, 3), max_size=3).map(tuple), AWKWARD)
INT = st.one_of(st.integers(-3, 6), st.integers(0, 4), AWKWARD)
FLOAT = st.one_of(st.floats(-3, 3), st.sampled_from([0.0, 1e-7, 1.0, float("nan"), float("inf")]), AWKWARD)
BOOL = st.one_of(st.booleans(), st.booleans(), AWKWARD)
STRING = st.one_of(st.sampled_from(["valid", "same", "causal", "full", "channels_last", "channels_first",
                                    "constant", "reflect", "nearest", "bilinear", "left", "right", "ij", "xy",
                                    "ii->i", "ij,jk->ik", "...", "C", "fro", "euclidean", "linear"]), AWKWARD)
DTYPE = st.one_of(st.sampled_from(DTYPES + ["float16", "uint8", "int8", "complex64", "bfloat16", "string"]),
                  st.none(), AWKWARD)

TENSOR_NAMES = {"x", "x1", "x2", "inputs", "images", "a", "b", "y", "target", "output", "kernel", "bias", "q",
                "query", "key", "value", "mask", "mean", "variance", "indices", "start_indices", "condition",
                "sorted_sequence", "values", "weights", "depthwise_kernel", "pointwise_kernel", "scale", "gamma",
                "beta", "array", "x_min", "x_max", "y_true", "y_pred", "logits", "labels", "data", "tensor",
                "segment_ids", "bins", "arr", "initial", "updates", "inputs_shape", "sample_weight"}
LIST_NAMES = {"xs", "operands", "condlist", "choicelist", "tensors", "arrays"}
AXIS_NAMES = {"axis", "axes", "axis1", "axis2", "axisa", "axisb", "axisc", "source", "destination", "dim"}
SHAPE_NAMES = {"shape", "newshape", "new_shape", "size", "output_size", "pool_size", "strides", "kernel_size",
               "dilation_rate", "block_size", "repeats", "reps", "pad_width", "output_padding",
               "indices_or_sections", "output_shape", "sizes", "start_indices_shape"}
INT_NAMES = {"k", "n", "N", "M", "num", "num_classes", "kth", "shift", "decimals", "target_height",
             "target_width", "top_cropping", "left_cropping", "bottom_cropping", "right_cropping", "top_padding",
             "left_padding", "bottom_padding", "right_padding", "ord", "offset", "seed", "sequence_length",
             "num_segments", "deg", "order", "max_length"}
FLOAT_NAMES = {"epsilon", "alpha", "threshold", "rtol", "atol", "max_val", "fill_value", "start", "stop", "step",
               "base", "nan", "posinf", "neginf", "negative_slope", "default_value", "constant_values", "dx",
               "attn_logits_soft_cap", "default", "q", "momentum", "minval", "maxval", "stddev", "rate",
               "max_value", "label_smoothing"}
BOOL_NAMES = {"keepdims", "endpoint", "from_logits", "sparse", "is_causal", "equal_nan", "flash_attention",
              "approximate", "assume_unique", "invert", "rms_scaling", "retstep", "synchronized", "sorted",
              "increasing", "antialias", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "return_counts",
              "training", "stable"}
STRING_NAMES = {"data_format", "padding", "method", "mode", "interpolation", "indexing", "side", "subscripts",
                "fill_mode", "reduction", "norm_type"}


def arg_for(name, tensor_st, list_st):
    if name == "dtype":
        return DTYPE
    if name in LIST_NAMES:
        return st.one_of(list_st, list_st, AWKWARD)
    if name in AXIS_NAMES:
        return AXIS
    if name in SHAPE_NAMES:
        return SHAPE
    if name in INT_NAMES:
        return st.one_of(INT, tensor_st) if name in ("k", "shift") else INT
    if name in BOOL_NAMES:
        return BOOL
    if name in STRING_NAMES:
        return STRING
    if name in FLOAT_NAMES:
        return st.one_of(FLOAT, tensor_st) if name in ("q", "fill_value", "x_min", "x_max", "threshold",
                                                        "start", "stop") else FLOAT
    if name in TENSOR_NAMES:
        return st.one_of(tensor_st, tensor_st, tensor_st, tensor_st, AWKWARD)
    return st.one_of(tensor_st, INT, FLOAT, AWKWARD)


@st.composite
def call_args(draw, fn, required_arity=None):
    """(args, kwargs) descriptors for a call of ``fn`` drawn from its signature.

    The tensors of one call share a dtype and related shapes most of the time, so that a good share
    of calls gets past argument checking into the kernels.
    """
    import inspect
    dtype = draw(st.sampled_from(DTYPES))
    base = draw(shapes())
    nasty = draw(st.booleans())
    same = st.builds(lambda s: s, related_shape(base))
    tensor_st = st.one_of(
        same.flatmap(lambda s: tensors(dtype=dtype, shape=s, nasty=nasty)),
        same.flatmap(lambda s: tensors(dtype=dtype, shape=s, nasty=nasty)),
        tensors(),
    )
    list_st = st.lists(st.one_of(tensor_st, tensors(dtype=dtype, shape=base, nasty=nasty)), min_size=0, max_size=3)
    if required_arity is not None:
        params = [inspect.Parameter(f"x{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(required_arity)]
    else:
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = [inspect.Parameter("x", inspect.Parameter.POSITIONAL_ONLY)]
    args, kwargs = [], {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        strat = arg_for(p.name, tensor_st, list_st)
        if p.default is p.empty:
            if p.kind == p.KEYWORD_ONLY:
                kwargs[p.name] = draw(strat)
            else:
                args.append(draw(strat))
        elif draw(st.integers(0, 3)) == 0:
            kwargs[p.name] = draw(strat)
    if draw(st.integers(0, 30)) == 0:  # a wrong arity now and then
        if args and draw(st.booleans()):
            args.pop()
        else:
            args.append(draw(AWKWARD))
    return args, kwargs


# ---------------------------------------------------------------------------------------------
# seed calls: a well-formed call per op that random arguments rarely reach (convolutions, pools,
# attention, image ops, indexing ...). The fuzzer starts from the seed half of the time and
# replaces each argument by a hostile one with probability 1/4, so the kernels behind argument
# checking see hostile values too. Tensor specs: "<kind>:<shape>" with kind f (float), p
# (positive float), s (sorted float), b (bool) or iN (integers in [0, N)).

SEEDS = {
    "adaptive_average_pool": (["f:2,6,6,3", (2, 2)], {}),
    "adaptive_max_pool": (["f:2,6,6,3", (2, 2)], {}),
    "array_split": (["f:6,4", 3], {"axis": 0}),
    "average_pool": (["f:2,6,6,3", 2], {"strides": None, "padding": "valid"}),
    "max_pool": (["f:2,6,6,3", 2], {"strides": 1, "padding": "same"}),
    "batch_normalization": (["f:2,3", "f:3", "p:3", -1], {}),
    "clip": (["f:3,4", -1.0, 1.0], {}),
    "concatenate": ([["f:2,3", "f:4,3"]], {"axis": 0}),
    "conv": (["f:1,6,6,3", "f:3,3,3,4"], {"strides": 1, "padding": "valid"}),
    "conv_transpose": (["f:1,4,4,3", "f:3,3,5,3", 2], {"padding": "same"}),
    "correlate": (["f:5", "f:3"], {}),
    "cross": (["f:4,3", "f:4,3"], {}),
    "depth_to_space": (["f:1,2,2,8", 2], {}),
    "space_to_depth": (["f:1,4,4,2", 2], {}),
    "depthwise_conv": (["f:1,6,6,3", "f:3,3,3,2"], {"strides": 1, "padding": "same"}),
    "separable_conv": (["f:1,6,6,3", "f:3,3,3,2", "f:1,1,6,4"], {"padding": "same"}),
    "diagonal": (["f:3,4"], {}),
    "diff": (["f:5"], {}),
    "digitize": (["f:6", "s:4"], {}),
    "dot_product_attention": (["f:1,4,2,8", "f:1,5,2,8", "f:1,5,2,8"], {"is_causal": False}),
    "dsplit": (["f:2,2,4", 2], {}),
    "einsum": (["ij,jk->ik", "f:2,3", "f:3,4"], {}),
    "parse_einsum": (["ij,jk->ik", [2, 2]], {}),
    "geomspace": ([1.0, 100.0], {"num": 5}),
    "logspace": ([0.0, 2.0], {"num": 5}),
    "get_item": (["f:4,3", 1], {}),
    "crop_images": (["f:1,6,6,3"], {"top_cropping": 1, "left_cropping": 1, "target_height": 3, "target_width": 3}),
    "extract_patches": (["f:1,6,6,3", (2, 2)], {}),
    "pad_images": (["f:1,4,4,3"], {"top_padding": 1, "left_padding": 1, "target_height": 7, "target_width": 7}),
    "resize": (["f:1,4,4,3", (8, 8)], {}),
    "rgb_to_grayscale": (["f:1,4,4,3"], {}),
    "matmul": (["f:3,4", "f:4,2"], {}),
    "moveaxis": (["f:2,3,4", 0, -1], {}),
    "multi_hot": (["i5:2,3"], {"num_classes": 5}),
    "one_hot": (["i5:4", 5], {}),
    "percentile": (["f:10", 50.0], {}),
    "nanpercentile": (["f:10", 50.0], {}),
    "quantile": (["f:10", 0.5], {}),
    "nanquantile": (["f:10", 0.5], {}),
    "psnr": (["p:1,4,4,3", "p:1,4,4,3", 1.0], {}),
    "repeat": (["f:3", 2], {}),
    "reshape": (["f:2,6", (3, 4)], {}),
    "saturate_cast": (["f:5", "int32"], {}),
    "searchsorted": (["s:5", "f:3"], {}),
    "select": ([["b:4", "b:4"], ["f:4", "f:4"]], {}),
    "slice": (["f:4,5", (1, 1), (2, 3)], {}),
    "split": (["f:6,2", 3], {}),
    "swapaxes": (["f:2,3", 0, 1], {}),
    "take": (["f:5,3", "i5:4"], {"axis": 0}),
    "take_along_axis": (["f:4,3", "i3:4,3"], {"axis": 1}),
    "tensordot": (["f:3,4", "f:4,5"], {"axes": 1}),
    "top_k": (["f:3,6", 2], {}),
    "trace": (["f:4,4"], {}),
    "tril": (["f:4,4"], {}),
    "triu": (["f:4,4"], {}),
    "unstack": (["f:3,4"], {}),
    "upsample_bilinear": (["f:1,3,3,2"], {"size": (2, 2)}),
    "upsample_nearest": (["f:1,3,3,2"], {"size": (2, 2)}),
    "Tensor.__and__": (["b:4", "b:4"], {}),
    "Tensor.__or__": (["b:4", "b:4"], {}),
    "Tensor.__xor__": (["b:4", "b:4"], {}),
    "Tensor.__matmul__": (["f:3,4", "f:4,2"], {}),
    "Tensor.astype": (["f:3", "int32"], {}),
    "Tensor.clip": (["f:3", -1.0, 1.0], {}),
    "Tensor.expand_dims": (["f:3", 0], {}),
}


def _is_spec(v):
    return isinstance(v, str) and ":" in v and v.split(":")[0] in {"f", "p", "s", "b", "i3", "i5"}


@st.composite
def seed_tensor(draw, spec):
    kind, dims = spec.split(":")
    shape = tuple(int(d) for d in dims.split(","))
    nasty = draw(st.integers(0, 3)) == 0
    if kind.startswith("i"):
        dtype = draw(st.sampled_from(["int64", "int32"]))
        hi = int(kind[1:])
        els = st.one_of(st.integers(0, hi - 1), st.sampled_from([-1, hi, -(hi + 1), 2**31 - 1])) if nasty \
            else st.integers(0, hi - 1)
    elif kind == "b":
        dtype, els = "bool", st.booleans()
    else:
        dtype = draw(st.sampled_from(["float32", "float32", "float64"]))
        els = elements(dtype, nasty) if kind == "f" else st.floats(0.125, 4, width=32 if dtype == "float32" else 64)
    strided = draw(st.integers(0, 3)) == 0 and len(shape) >= 1
    base_shape = (shape[0] * 2,) + shape[1:] if strided else shape
    base = draw(hnp.arrays(np.dtype(dtype), base_shape, elements=els))
    if kind == "s":
        base = np.sort(base, axis=-1)
    views = [("slice", (slice(None, None, 2),))] if strided else []
    return TensorArg(base, views)


@st.composite
def seeded_call_args(draw, name, fn):
    """A seed call of ``name`` with some arguments replaced by hostile ones."""
    import inspect
    short = name.split(".")[-1] if not name.startswith("Tensor.") else name
    args, kwargs = SEEDS[short]
    params = {}
    try:
        params = {p.name: p for p in inspect.signature(fn).parameters.values()}
    except (TypeError, ValueError):
        pass
    names = [p for p in params if params[p].kind not in (inspect.Parameter.VAR_KEYWORD,)]
    tensor_st = tensors()
    list_st = st.lists(tensor_st, max_size=3)

    def realize(v, pname, keep=False):
        if not keep and draw(st.integers(0, 3)) == 0:
            return draw(arg_for(pname, tensor_st, list_st))
        if _is_spec(v):
            return draw(seed_tensor(v))
        if isinstance(v, list) and v and all(_is_spec(x) for x in v):
            return [draw(seed_tensor(x)) for x in v]
        return v

    out_args = []
    for i, v in enumerate(args):
        pname = names[i] if i < len(names) else "x"
        out_args.append(realize(v, pname, keep=i == 0 and name.startswith("Tensor.")))
    out_kwargs = {k: realize(v, k) for k, v in kwargs.items()}
    if draw(st.integers(0, 3)) == 0:
        optional = [p for p in names[len(args):] if p not in out_kwargs and params[p].kind != params[p].VAR_POSITIONAL]
        if optional:
            k = draw(st.sampled_from(optional))
            out_kwargs[k] = draw(arg_for(k, tensor_st, list_st))
    return out_args, out_kwargs
