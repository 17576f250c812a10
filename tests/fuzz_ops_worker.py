"""Worker side of tests/test_fuzz_ops.py (runs in a subprocess, see fuzz_helpers).

Targets are ``ops.<name>`` / ``ops.<ns>.<name>`` / ``Tensor.<method>`` (hostile calls: any value or
an allowed exception passes) and ``oracle:<name>`` (well-formed calls whose values are compared
with NumPy's).
"""
from __future__ import annotations

import time

import fuzz_helpers as fh
import fuzz_strategies as fs
import numpy as np
from hypothesis import strategies as st

SLOW_CALL_S = 5.0

# ---------------------------------------------------------------------------------------------
# hostile calls


INDEX = st.one_of(
    st.integers(-5, 5), st.sampled_from(fs.HUGE_INTS), st.none(),
    st.builds(slice, st.one_of(st.none(), st.integers(-6, 6), st.sampled_from([2**63 - 1, -(2**63)])),
              st.one_of(st.none(), st.integers(-6, 6)), st.one_of(st.none(), st.integers(-3, 3))),
    st.lists(st.integers(-4, 4), max_size=4), st.lists(st.booleans(), max_size=4),
    st.sampled_from([fh.Opaque(Ellipsis, "..."), (), (0, 0), (fh.Opaque(Ellipsis, "..."), None, 0)]),
    fs.AWKWARD,
)
INDEX = st.one_of(INDEX, st.lists(INDEX, min_size=1, max_size=3).map(tuple),
                  fs.tensors(dtype="int64", shape=(2,), nasty=False, views=False),
                  fs.tensors(dtype="bool", views=False))

TENSOR_PARAMS = {"Tensor.__getitem__": ["x", "@index"], "Tensor.__setitem__": ["x", "@index", "value"]}


@st.composite
def tensor_call_args(draw, name):
    x = draw(fs.tensors())
    params = TENSOR_PARAMS.get(name) or (["x", "y"] if fh.TENSOR_ARITY[name] == 2 else ["x"])
    args = [x]
    for p in params[1:]:
        if p == "@index":
            args.append(draw(INDEX))
        else:
            args.append(draw(st.one_of(fs.tensors(dtype=str(x.base.dtype), shape=x.base.shape), fs.tensors(),
                                       fs.INT, fs.FLOAT, fs.AWKWARD)))
    if name.startswith("Tensor.") and not name.startswith("Tensor.__"):
        args += draw(st.lists(st.one_of(fs.INT, fs.AXIS, fs.DTYPE, fs.AWKWARD), max_size=2))
    return args, {}


def check_result(res):
    """Touches a returned value: a Tensor must convert to NumPy with its own shape and dtype."""
    import ferrograd as fg
    if isinstance(res, fg.Tensor):
        a = res.numpy()
        if tuple(a.shape) != tuple(res.shape):
            return f"numpy() shape {a.shape} != tensor shape {res.shape}"
        if str(a.dtype) != str(res.dtype):
            return f"numpy() dtype {a.dtype} != tensor dtype {res.dtype}"
    elif isinstance(res, (list, tuple)):
        for r in res[:8]:
            bad = check_result(r)
            if bad:
                return bad
    return None


def check_backward(res, leaves):
    """Backpropagates the sum of every float result; gradients must match their leaves' shapes."""
    import ferrograd as fg
    outs = [r for r in (res if isinstance(res, (list, tuple)) else [res])
            if isinstance(r, fg.Tensor) and r.requires_grad]
    if not outs:
        return None

    def run():
        total = None
        for r in outs:
            s = r.sum()
            total = s if total is None else total + s
        total.backward()
    _, exc = fh.attempt(run, [], {})
    bad = fh.classify(exc)
    if bad:
        return "backward: " + bad
    if exc is None:
        for t in leaves:
            g = t.grad
            if g is not None and tuple(g.shape) != tuple(t.shape):
                return f"backward: gradient shape {tuple(g.shape)} != leaf shape {tuple(t.shape)}"
    return None


def hostile_body(name, fn):
    def body(value, log):
        args, kwargs = value
        code = fh.call_code(name, args, kwargs)
        key = fh.known_issue(name, args, kwargs)
        if key:
            body.skipped += 1
            return None
        leaves = []
        try:
            real_args, real_kwargs = fh.build(args, leaves), fh.build(kwargs, leaves)
        except Exception as e:  # noqa: BLE001 - building a view must not fail
            return {"code": code, "problem": f"building the arguments failed: {type(e).__name__}: {e}"}
        log.write("CALL " + code)
        t0 = time.monotonic()
        res, exc = fh.attempt(fn, real_args, real_kwargs)
        dt = time.monotonic() - t0
        if dt > SLOW_CALL_S:
            body.slow.append({"code": code, "seconds": round(dt, 2)})
        body.outcomes[type(exc).__name__ if exc else "ok"] = body.outcomes.get(type(exc).__name__ if exc else "ok",
                                                                               0) + 1
        bad = fh.classify(exc)
        if bad is None and exc is None:
            r, exc2 = fh.attempt(check_result, [res], {})
            bad = r or fh.classify(exc2) and f"touching the result: {fh.classify(exc2)}"
        if bad is None and exc is None and leaves:
            bad = check_backward(res, leaves)
            if bad:
                code = f"y = {code}; backward of y (summed over its float tensors)"
        return None if bad is None else {"code": code, "problem": bad}
    body.skipped, body.slow, body.outcomes = 0, [], {}
    return body


# ---------------------------------------------------------------------------------------------
# NumPy oracle: well-formed calls compared by value

def _sigmoid(a):
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-a.astype(np.float64)))


UNARY = {
    "abs": np.abs, "negative": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin,
    "cos": np.cos, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "sign": np.sign,
    "square": np.square, "log1p": np.log1p, "expm1": np.expm1, "log2": np.log2, "log10": np.log10,
    "sinh": np.sinh, "cosh": np.cosh, "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
    "logical_not": np.logical_not, "relu": lambda a: np.maximum(a, 0), "sigmoid": _sigmoid, "round": np.round,
    "exp2": np.exp2, "cbrt": np.cbrt, "signbit": np.signbit, "reciprocal": lambda a: 1.0 / a.astype(np.float64),
}
BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.true_divide,
    "maximum": np.maximum, "minimum": np.minimum, "power": np.power, "floor_divide": np.floor_divide,
    "mod": np.mod, "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "logical_xor": np.logical_xor, "fmax": np.fmax, "fmin": np.fmin,
    "hypot": np.hypot, "logaddexp": np.logaddexp,
}
REDUCE = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "max": np.max, "min": np.min, "any": np.any,
          "all": np.all, "std": np.std, "var": np.var, "count_nonzero": np.count_nonzero}
SHAPE_OPS = ["transpose", "flip", "squeeze", "expand_dims", "ravel", "tile", "roll", "swapaxes", "concatenate",
             "stack", "tril", "triu", "sort", "cumsum", "where", "clip", "matmul", "outer", "argmax", "argmin"]
ORACLE_NAMES = sorted(set(UNARY) | set(BINARY) | set(REDUCE) | set(SHAPE_OPS))

CALM_SPECIAL = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0]


@st.composite
def oracle_tensor(draw, dtype=None, shape=None, specials=True):
    dtype = dtype or draw(st.sampled_from(fs.DTYPES))
    t = draw(fs.tensors(dtype=dtype, shape=shape, nasty=False))
    if dtype.startswith("float"):  # no subnormals: products underflow in an order-dependent way
        t = fh.TensorArg(np.asarray(np.round(t.base, 3)), t.views)
    if specials and dtype.startswith("float") and t.base.size and draw(st.booleans()):
        flat = t.base.reshape(-1).copy()
        for _ in range(draw(st.integers(1, 3))):
            flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from(CALM_SPECIAL))
        t = fh.TensorArg(flat.reshape(t.base.shape), t.views)
    return t


def _same_int(name, a):
    """NumPy accumulates int32 sums and products in int64; ferrograd (like JAX) keeps int32."""
    return {"dtype": a.dtype} if name in ("sum", "prod", "cumsum") and a.dtype == np.int32 else {}


def _axis_for(draw, ndim, allow_none=True, multi=True):
    if ndim == 0:
        return None
    opts = [st.integers(-ndim, ndim - 1)]
    if allow_none:
        opts.append(st.none())
    if multi and ndim > 1:
        opts.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return draw(st.one_of(*opts))


@st.composite
def oracle_call(draw, name):
    """(args, kwargs, numpy function of the built args) for a well-formed call of ``name``."""
    if name in UNARY:
        x = draw(oracle_tensor())
        return [x], {}, lambda a: UNARY[name](a)
    if name in BINARY:
        shp = draw(hnp_shapes2())
        dt = draw(st.sampled_from(fs.DTYPES))
        x = draw(oracle_tensor(dtype=dt, shape=shp[0]))
        dt2 = dt if draw(st.integers(0, 3)) else draw(st.sampled_from(fs.DTYPES))
        y = draw(oracle_tensor(dtype=dt2, shape=shp[1]))
        if name == "floor_divide" and not np.isfinite(x.base).all():
            return [x, y], {}, None  # inf // 1: NaN in NumPy and JAX, inf in TensorFlow and PyTorch
        return [x, y], {}, lambda a, b: BINARY[name](a, b)
    if name in REDUCE:
        x = draw(oracle_tensor())
        nd = x.build()[1].ndim
        axis = _axis_for(draw, nd, multi=name != "count_nonzero")
        kw = {"axis": axis}
        if name != "count_nonzero" and draw(st.booleans()):
            kw["keepdims"] = True
        return [x], kw, lambda a: REDUCE[name](a, **kw, **_same_int(name, a))
    x = draw(oracle_tensor(specials=name not in ("sort", "argmax", "argmin", "clip")))
    a = x.build()[1]
    nd = a.ndim
    if name == "transpose":
        perm = tuple(draw(st.permutations(range(nd))))
        return [x], {"axes": perm}, lambda a: np.transpose(a, perm)
    if name == "flip":
        ax = _axis_for(draw, nd)
        return [x], {"axis": ax}, lambda a: np.flip(a, ax)
    if name == "squeeze":
        ones = [i for i, d in enumerate(a.shape) if d == 1]
        ax = draw(st.sampled_from(ones)) if ones and draw(st.booleans()) else None
        return [x], {"axis": ax}, lambda a: np.squeeze(a, ax)
    if name == "expand_dims":
        ax = draw(st.integers(-nd - 1, nd))
        return [x, ax], {}, lambda a, ax: np.expand_dims(a, ax)
    if name == "ravel":
        return [x], {}, np.ravel
    if name == "tile":
        reps = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))
        return [x, reps], {}, lambda a, r: np.tile(a, r)
    if name == "roll":
        sh = draw(st.integers(-5, 5))
        ax = _axis_for(draw, nd, multi=False)
        return [x, sh], {"axis": ax}, lambda a, s: np.roll(a, s, ax)
    if name == "swapaxes":
        if nd == 0:
            return [x], {}, None
        a1, a2 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
        return [x, a1, a2], {}, lambda a, i, j: np.swapaxes(a, i, j)
    if name in ("concatenate", "stack"):
        n = draw(st.integers(1, 3))
        shp = a.shape
        ax = draw(st.integers(-max(nd, 1), max(nd, 1) - 1)) if (nd or name == "stack") else 0
        if name == "stack":
            ax = draw(st.integers(-nd - 1, nd))
        xs = [x] + [draw(oracle_tensor(dtype=str(x.base.dtype), shape=shp)) for _ in range(n - 1)]
        if name == "concatenate" and nd == 0:
            return [xs], {"axis": 0}, None
        fn = np.concatenate if name == "concatenate" else np.stack
        return [xs], {"axis": ax}, lambda xs: fn(xs, axis=ax)
    if name in ("tril", "triu"):
        k = draw(st.integers(-3, 3))
        if nd < 2:
            return [x], {"k": k}, None
        fn = np.tril if name == "tril" else np.triu
        return [x], {"k": k}, lambda a: fn(a, k)
    if name == "sort":
        ax = draw(st.integers(-nd, nd - 1)) if nd else -1
        return [x], {"axis": ax}, (lambda a: np.sort(a, ax)) if nd else None
    if name in ("argmax", "argmin"):
        ax = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
        fn = np.argmax if name == "argmax" else np.argmin
        return [x], {"axis": ax}, lambda a: fn(a, axis=ax)
    if name == "cumsum":
        ax = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
        return [x], {"axis": ax}, lambda a: np.cumsum(a, axis=ax, **_same_int(name, a))
    if name == "where":
        c = draw(oracle_tensor(dtype="bool", shape=a.shape))
        y = draw(oracle_tensor(dtype=str(x.base.dtype), shape=a.shape[1:]))
        return [c, x, y], {}, np.where
    if name == "clip":
        lo, hi = sorted([draw(st.integers(-4, 4)), draw(st.integers(-4, 4))])
        return [x, lo, hi], {}, lambda a, lo, hi: np.clip(a, lo, hi)
    if name in ("matmul", "outer"):
        m, k, n = (draw(st.integers(0, 4)) for _ in range(3))
        dt = draw(st.sampled_from(["float32", "float64", "int32", "int64"]))
        if name == "matmul":
            batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
            xa = draw(oracle_tensor(dtype=dt, shape=batch + (m, k)))
            xb = draw(oracle_tensor(dtype=dt, shape=(k, n)))
            return [xa, xb], {}, np.matmul
        xa = draw(oracle_tensor(dtype=dt, shape=(m,)))
        xb = draw(oracle_tensor(dtype=dt, shape=(n, k)))
        return [xa, xb], {}, np.outer
    raise KeyError(name)


def hnp_shapes2():
    from hypothesis.extra import numpy as hnp
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4).map(
        lambda s: s.input_shapes)


def compare(got, want, lowp=False):
    """None when the ferrograd result matches NumPy's, else the difference in words.

    ``lowp``: an input was not float64, so float32 rounding of intermediates is expected.
    """
    want = np.asarray(want)
    if tuple(got.shape) != tuple(want.shape):
        return f"shape {tuple(got.shape)} != numpy {tuple(want.shape)}"
    if want.dtype.kind in "biu" and got.dtype.kind in "biu":
        if not np.array_equal(got.astype(np.int64), want.astype(np.int64)):
            return f"values differ: got {got.tolist()!r:.300} want {want.tolist()!r:.300}"
        return None
    g, w = got.astype(np.float64), want.astype(np.float64)
    # the tolerance of the float32 compute type, relative to the magnitudes involved
    lowp = lowp or got.dtype == np.float32 or want.dtype == np.float32
    rtol, atol = (2e-5, 1e-5) if lowp else (1e-9, 1e-12)
    if want.dtype == np.float16:  # NumPy computes bool inputs of some functions in float16
        rtol, atol = 1e-3, 1e-3
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(w), 1.0)
        same = (g == w) | (np.isnan(g) & np.isnan(w)) | (np.abs(g - w) <= atol + rtol * scale)
    if not same.all():
        idx = np.argwhere(~same)[0]
        return f"values differ at {tuple(idx)}: got {g[tuple(idx)]!r} want {w[tuple(idx)]!r}"
    return None


def oracle_body(name, fn):
    def body(value, log):
        args, kwargs, npfn = value
        code = fh.call_code(f"ops.{name}", args, kwargs)
        if fh.known_issue(f"ops.{name}", args, kwargs) or fh.known_issue(f"oracle:ops.{name}", args, kwargs):
            body.skipped += 1
            return None
        real = [fh.build(a) for a in args]
        log.write("CALL " + code)
        res, exc = fh.attempt(fn, real, fh.build(kwargs))
        bad = fh.classify(exc)
        body.outcomes[type(exc).__name__ if exc else "ok"] = body.outcomes.get(type(exc).__name__ if exc else "ok",
                                                                               0) + 1
        if bad:
            return {"code": code, "problem": bad}
        if exc is not None or npfn is None:
            return None
        np_args = [_np_view(a) for a in args]
        try:
            with np.errstate(all="ignore"):
                want = npfn(*np_args)
        except Exception:  # noqa: BLE001 - NumPy refuses the call too: nothing to compare
            return None
        import ferrograd as fg
        got = res.numpy() if isinstance(res, fg.Tensor) else np.asarray(res)
        dts = [a.base.dtype for a in args if isinstance(a, fh.TensorArg)]
        dts += [t.base.dtype for a in args if isinstance(a, list) for t in a if isinstance(t, fh.TensorArg)]
        diff = compare(got, want, lowp=any(d != np.float64 for d in dts))
        if diff is not None:
            diff += f" (result dtype {got.dtype}, argument dtypes {[str(getattr(r, 'dtype', '')) for r in real]})"
        return None if diff is None else {"code": code, "problem": f"differs from NumPy: {diff}"}
    body.skipped, body.slow, body.outcomes = 0, [], {}
    return body


def _np_view(obj):
    if isinstance(obj, fh.TensorArg):
        return obj.build()[1]
    if isinstance(obj, list):
        return [_np_view(o) for o in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# NumPy and Python data in: fg.tensor / from_numpy / as_tensor / convert_to_tensor on arrays of
# every NumPy dtype (byte-swapped, object, strings, datetimes ...) in every layout (Fortran order,
# negative and stepped strides, zero strides, unaligned, read-only) and on ragged or deep nested
# lists. A supported dtype must round-trip exactly.

INTEROP = ["fg.tensor", "fg.from_numpy", "fg.as_tensor", "ops.convert_to_tensor"]
NP_DTYPES = ["float32", "float64", "int32", "int64", "bool", "uint8", "int8", "int16", "uint16", "uint32",
             "uint64", "float16", "complex64", ">f4", ">i8", "<f8", "object", "U3", "S2", "datetime64[s]",
             "timedelta64[ms]", "longdouble"]
PY_LEAF = st.one_of(st.integers(-3, 300), st.sampled_from(fs.HUGE_INTS), st.floats(), st.booleans(), st.none(),
                    st.sampled_from(["a", b"b", 1j]))


@st.composite
def np_args(draw):
    from hypothesis.extra import numpy as hnp
    shape = draw(fs.shapes(max_dims=3))
    n = int(np.prod(shape))
    values = draw(st.lists(st.one_of(st.integers(-3, 300), st.sampled_from([2**31 - 1, -(2**31), 2**62])),
                           min_size=n, max_size=n))
    del hnp
    return fh.NpArg(draw(st.sampled_from(NP_DTYPES)), shape,
                    draw(st.sampled_from(["C", "F", "rev", "step", "bcast", "unaligned", "readonly"])), values)


def _deep(d):
    v = 1
    for _ in range(d):
        v = [v]
    return v


def interop_args(name):
    nested = st.recursive(PY_LEAF, lambda c: st.lists(c, max_size=3), max_leaves=12)
    deep = st.integers(1, 3000).map(lambda d: fh.Opaque(_deep(d), f"__import__('functools').reduce("
                                                            f"lambda v, _: [v], range({d}), 1)"))
    data = st.one_of(np_args(), np_args(), np_args(), nested, deep)
    kw = st.fixed_dictionaries({}, optional={"dtype": fs.DTYPE}) if name != "fg.from_numpy" else st.just({})
    return st.tuples(data, kw).map(lambda v: ([v[0]], v[1]))


def check_interop(arg, res):
    """A supported dtype round-trips exactly (values, shape, and dtype for the five native ones)."""
    import ferrograd as fg
    if not isinstance(arg, fh.NpArg) or not isinstance(res, fg.Tensor):
        return None
    a = arg.array()
    got = res.numpy()
    if got.shape != a.shape:
        return f"shape {got.shape} != array shape {a.shape}"
    native = a.dtype.newbyteorder("=") if a.dtype.byteorder not in "=|" else a.dtype
    if str(native) in fs.DTYPES:
        if str(got.dtype) != str(native):
            return f"dtype {got.dtype} for an array of {a.dtype}"
        if not np.array_equal(got, a, equal_nan=a.dtype.kind == "f"):
            return f"values changed: {got.tolist()!r:.200} from {a.tolist()!r:.200}"
    elif a.dtype.kind in "iub" and got.dtype.kind in "iub":
        if not np.array_equal(got.astype(object), a.astype(object)):
            return f"{a.dtype} values changed in {got.dtype}: {got.tolist()!r:.200} from {a.tolist()!r:.200}"
    return None


def interop_body(name):
    fn = {"fg.tensor": lambda *a, **k: __import__("ferrograd").tensor(*a, **k),
          "fg.from_numpy": lambda *a, **k: __import__("ferrograd").from_numpy(*a, **k),
          "fg.as_tensor": lambda *a, **k: __import__("ferrograd").as_tensor(*a, **k),
          "ops.convert_to_tensor": lambda *a, **k: __import__("ferrograd").ops.convert_to_tensor(*a, **k)}[name]
    inner = hostile_body(name, fn)

    def body(value, log):
        bad = inner(value, log)
        if bad is not None:
            return bad
        args, kwargs = value
        if kwargs.get("dtype") is None and not fh.known_issue("interop:" + name, args, kwargs):
            res, exc = fh.attempt(fn, [fh.build(args[0])], {})
            if exc is None:
                diff = check_interop(args[0], res)
                if diff:
                    return {"code": fh.call_code(name, args, kwargs), "problem": diff}
        return None
    body.skipped, body.slow, body.outcomes = 0, inner.slow, inner.outcomes
    return body


# ---------------------------------------------------------------------------------------------
# self-test targets: prove the harness catches each kind of failure (tests/test_fuzz_ops.py)

class _FakePanic(BaseException):
    """Stands in for pyo3_runtime.PanicException (a BaseException) without needing a real panic."""


def selftest_body(target):
    import os as _os

    def fn(i):
        kind = target.split(":")[1]
        if kind == "abort":
            _os.abort()
        if kind == "hang":
            time.sleep(3600)
        if kind == "panic":
            raise _FakePanic("attempt to calculate the remainder with overflow")
        if kind == "alloc":
            import resource
            if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
                return i  # no limit on this platform: do not really touch 16 GiB
            return np.ones(2**31)  # 16 GiB: MemoryError under the worker's address-space limit
        return i

    def body(i, log):
        code = f"{target}({i})"
        log.write("CALL " + code)
        _, exc = fh.attempt(fn, [i], {})
        bad = fh.classify(exc)
        return None if bad is None else {"code": code, "problem": bad}
    body.skipped, body.slow, body.outcomes = 0, [], {}
    return body


def run_worker(cfg, log):
    from ferrograd import ops
    result = {"calls": 0, "failures": [], "skipped": 0, "slow": [], "outcomes": {}}
    examples, seed = cfg["examples"], cfg.get("seed")
    for target in cfg["targets"]:
        log.write("TARGET " + target)
        if target.startswith("selftest:"):
            body, strat = selftest_body(target), st.integers(0, 3)
        elif target.startswith("interop:"):
            body, strat = interop_body(target[8:]), interop_args(target[8:])
        elif target.startswith("oracle:"):
            name = target[7:]
            body = oracle_body(name, getattr(ops, name))
            strat = oracle_call(name)
        else:
            fn = fh.resolve(target)
            body = hostile_body(target, fn)
            strat = tensor_call_args(target) if target.startswith("Tensor.") else fs.call_args(fn)
            short = target if target.startswith("Tensor.") else target.split(".")[-1]
            if short in fs.SEEDS:
                strat = st.one_of(strat, fs.seeded_call_args(target, fn))
            # a third of the calls run with float inputs requiring grad, then backward
            strat = st.tuples(strat, st.integers(0, 2)).map(
                lambda v: (fh.with_grad(v[0][0]), fh.with_grad(v[0][1])) if v[1] == 0 else v[0])
        calls, failure = fh.run_target(target, strat, body, examples, log, seed)
        result["calls"] += calls
        result["skipped"] += body.skipped
        result["slow"] += body.slow
        for k, v in body.outcomes.items():
            result["outcomes"][k] = result["outcomes"].get(k, 0) + v
        result.setdefault("per_target", {})[target] = body.outcomes.get("ok", 0)
        if failure:
            failure["target"] = target
            result["failures"].append(failure)
    return result
