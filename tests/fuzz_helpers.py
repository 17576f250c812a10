"""Shared machinery of the API fuzzers (tests/test_fuzz_*.py).

The fuzzers call ferrograd with hostile arguments drawn by hypothesis strategies. Every call runs
in a worker subprocess (``python -c "...fuzz_helpers.worker_main()"``) so that a Rust panic that
aborts, a segfault or a hang fails one test instead of killing pytest. The worker

- caps its address space (``RLIMIT_AS``, 4 GiB by default) so a runaway allocation surfaces as an
  exception (or at worst a crash we report) instead of swapping the machine;
- writes the reproducer of each call to a log file *before* making the call, so after a crash or a
  timeout the last line of the log names the culprit;
- classifies each outcome: a value, or an exception of an allowed class (see ``ALLOWED``), passes;
  a ``BaseException`` that is not an ``Exception`` (``pyo3_runtime.PanicException``), a
  ``RuntimeError`` that speaks of an internal error, or any other exception class fails;
- on a failure lets hypothesis shrink the call and reports the smallest reproducer as JSON.

The documented exception classes (DESIGN.md section 7, ``src/py/errors.rs``): shape and value
problems raise ValueError, dtype problems TypeError, index problems IndexError, unsupported
arguments NotImplementedError, autograd misuse RuntimeError, bad files ValueError or OSError.
Python-side checks also raise KeyError (unknown names), OverflowError (a Python int that does not
fit the dtype), ZeroDivisionError and MemoryError; those are allowed too.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time

TESTS = pathlib.Path(__file__).resolve().parent

ALLOWED_NAMES = ("ValueError", "TypeError", "IndexError", "KeyError", "NotImplementedError", "MemoryError",
                 "OverflowError", "ZeroDivisionError", "RuntimeError", "OSError")
# RuntimeError is allowed for autograd misuse only; these words in its message mean a bug.
INTERNAL_WORDS = ("internal", "bug", "panick", "unreachable", "assertion", "please report")

MEMORY_LIMIT = int(os.environ.get("FERROGRAD_FUZZ_MEMORY", str(4 << 30)))
PREAMBLE = ("import numpy as np; import ferrograd as fg; from ferrograd import ops, layers; "
            "nan = float('nan'); inf = float('inf'); _g = lambda t: (setattr(t, 'requires_grad', True), t)[1]; "
            "import sys; sys.path.insert(0, 'tests'); from fuzz_helpers import make_array as _arr")


def make_array(dtype, shape, layout, values):
    """A NumPy array of ``dtype`` holding ``values`` in an awkward memory layout (see NpArg)."""
    import numpy as np
    with np.errstate(all="ignore"):
        base = np.array(values).astype(dtype).reshape(shape)
    if layout == "F":
        return np.asfortranarray(base)
    if layout == "rev":
        return base[::-1] if base.ndim else base
    if layout == "step":
        return np.repeat(base, 2, axis=0)[::2] if base.ndim else base
    if layout == "bcast":
        return np.broadcast_to(base, (2,) + base.shape)
    if layout == "unaligned":
        buf = np.zeros(base.nbytes + 1, np.uint8)
        a = np.ndarray(base.shape, base.dtype, buffer=buf, offset=1)
        a[...] = base
        return a
    if layout == "readonly":
        base.flags.writeable = False
    return base


class NpArg:
    """A NumPy array argument in an awkward dtype and layout, printable as ``_arr(...)``."""

    def __init__(self, dtype, shape, layout, values):
        self.dtype, self.shape, self.layout, self.values = dtype, shape, layout, values

    def array(self):
        return make_array(self.dtype, self.shape, self.layout, self.values)

    def __repr__(self):
        return f"_arr({self.dtype!r}, {self.shape!r}, {self.layout!r}, {self.values!r})"


def ci_examples(default):
    """The example count: ``$FERROGRAD_FUZZ_EXAMPLES`` when set (long mode), else ``default``."""
    return int(os.environ.get("FERROGRAD_FUZZ_EXAMPLES", default))


def long_mode():
    return "FERROGRAD_FUZZ_EXAMPLES" in os.environ


# ---------------------------------------------------------------------------------------------
# outcome classification (used in the worker)

def classify(exc):
    """None when ``exc`` is an acceptable outcome, else a short description of the failure."""
    if exc is None:
        return None
    name = type(exc).__name__
    if not isinstance(exc, Exception):
        return f"{type(exc).__module__}.{name} (not an Exception): {str(exc)[:300]}"
    if isinstance(exc, RecursionError):
        return f"RecursionError: {str(exc)[:200]}"
    if isinstance(exc, RuntimeError) and any(w in str(exc).lower() for w in INTERNAL_WORDS):
        return f"RuntimeError reporting an internal error: {str(exc)[:300]}"
    allowed = tuple(__builtins__[n] if isinstance(__builtins__, dict) else getattr(__builtins__, n)
                    for n in ALLOWED_NAMES)
    if isinstance(exc, allowed):
        if not str(exc).strip() and not isinstance(exc, (KeyError, MemoryError)):
            return f"{name} with an empty message"
        return None
    return f"{type(exc).__module__}.{name} is not a documented exception class: {str(exc)[:300]}"


# ---------------------------------------------------------------------------------------------
# reproducible argument descriptors

class TensorArg:
    """A tensor argument: a NumPy base array plus a chain of views, buildable and printable."""

    def __init__(self, base, views=(), grad=False):
        self.base = base
        self.views = tuple(views)
        self.grad = grad and base.dtype.kind == "f"  # the leaf requires grad (float dtypes only)

    def with_grad(self):
        return TensorArg(self.base, self.views, grad=True)

    def build(self):
        import ferrograd as fg
        from ferrograd import ops
        t, a = fg.tensor(self.base), self.base
        if self.grad:
            t.requires_grad = True
        for kind, p in self.views:
            if kind == "T":
                t, a = t.T, a.T
            elif kind == "slice":
                t, a = t[p], a[p]
            elif kind == "bcast":
                t, a = ops.broadcast_to(t, p), __import__("numpy").broadcast_to(a, p)
            elif kind == "expand":
                t, a = ops.expand_dims(t, p), __import__("numpy").expand_dims(a, p)
        return t, a

    def code(self):
        b = self.base
        s = f"fg.tensor(np.array({b.tolist()!r}, dtype={str(b.dtype)!r}).reshape({b.shape!r}))"
        if self.grad:
            s = f"_g({s})"
        for kind, p in self.views:
            if kind == "T":
                s += ".T"
            elif kind == "slice":
                s += "[" + ", ".join(_slice_code(x) for x in p) + "]"
            elif kind == "bcast":
                s = f"ops.broadcast_to({s}, {p!r})"
            elif kind == "expand":
                s = f"ops.expand_dims({s}, {p!r})"
        return s

    def __repr__(self):
        return self.code()


def _slice_code(s):
    def f(v):
        return "" if v is None else repr(v)
    out = f"{f(s.start)}:{f(s.stop)}"
    return out + (f":{s.step}" if s.step is not None else "")


class Opaque:
    """An argument whose repr is code, for values (``object()``) without a literal."""

    def __init__(self, value, code):
        self.value, self._code = value, code

    def __repr__(self):
        return self._code


def build(obj, leaves=None):
    """Descriptor tree -> real arguments (tensors built, lists and tuples kept).

    ``leaves``: a list that collects the built tensors whose leaf requires grad.
    """
    if isinstance(obj, TensorArg):
        t = obj.build()[0]
        if obj.grad and leaves is not None:
            leaves.append(t)
        return t
    if isinstance(obj, Opaque):
        return obj.value
    if isinstance(obj, NpArg):
        return obj.array()
    if isinstance(obj, list):
        return [build(o, leaves) for o in obj]
    if isinstance(obj, tuple):
        return tuple(build(o, leaves) for o in obj)
    if isinstance(obj, dict):
        return {k: build(v, leaves) for k, v in obj.items()}
    return obj


def with_grad(obj):
    """The same descriptor tree with every float tensor's leaf requiring grad."""
    if isinstance(obj, TensorArg):
        return obj.with_grad()
    if isinstance(obj, list):
        return [with_grad(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(with_grad(o) for o in obj)
    if isinstance(obj, dict):
        return {k: with_grad(v) for k, v in obj.items()}
    return obj


def code_of(obj):
    if isinstance(obj, (TensorArg, Opaque, NpArg)):
        return repr(obj)
    if isinstance(obj, list):
        return "[" + ", ".join(code_of(o) for o in obj) + "]"
    if isinstance(obj, tuple):
        return "(" + "".join(code_of(o) + ", " for o in obj) + ")"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {code_of(v)}" for k, v in obj.items()) + "}"
    return repr(obj)


def call_code(fn_code, args, kwargs):
    parts = [code_of(a) for a in args] + [f"{k}={code_of(v)}" for k, v in kwargs.items()]
    return f"{fn_code}({', '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# public surface enumeration

OP_NAMESPACES = ("", "nn", "image", "linalg", "numpy")


def public_ops():
    """{qualified name: function} for every public function of ferrograd.ops and its namespaces.

    A function reachable under several names is listed once (the first name wins).
    """
    from ferrograd import ops
    out, seen = {}, set()
    for ns in OP_NAMESPACES:
        mod = ops if not ns else getattr(ops, ns, None)
        if mod is None:
            continue
        for name in sorted(dir(mod)):
            f = getattr(mod, name)
            if name.startswith("_") or not callable(f) or inspect.isclass(f) or inspect.ismodule(f):
                continue
            if id(f) in seen:
                continue
            seen.add(id(f))
            out[f"ops.{ns + '.' if ns else ''}{name}"] = f
    return out


def public_layers():
    """{name: class} for every public layer class of ferrograd.layers and ferrograd.hub.layers
    (aliases once; hub names are prefixed ``hub.layers.``)."""
    from ferrograd import layers
    out, seen = {}, set()
    mods = [("", layers)]
    try:
        from ferrograd.hub import layers as hub_layers
        mods.append(("hub.layers.", hub_layers))
    except ImportError:
        pass
    for prefix, mod in mods:
        for name in sorted(dir(mod)):
            c = getattr(mod, name)
            if name.startswith("_") or not inspect.isclass(c) or c in seen or not issubclass(c, layers.Layer):
                continue
            seen.add(c)
            out[prefix + name] = c
    return out


def layer_targets():
    """Worker target names of every public layer class (``layers.Dense``, ``hub.layers.SwiGLU``)."""
    return [n if n.startswith("hub.") else "layers." + n for n in public_layers()]


def resolve(qualname):
    """'ops.nn.relu' / 'layers.Dense' / 'Tensor.__add__' -> the object."""
    import ferrograd as fg
    if qualname.startswith("Tensor."):
        return TENSOR_CALLS[qualname]
    if qualname.startswith("hub."):
        import ferrograd.hub  # noqa: F401 - a subpackage that ferrograd does not import itself
    obj = fg
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _method(name):
    def call(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    call.__name__ = name
    return call


def _binop(sym):
    def call(x, y):
        return eval(f"x {sym} y")  # noqa: S307 - fixed operator symbols only
    return call


TENSOR_CALLS = {
    **{f"Tensor.__{n}__": _binop(s) for n, s in [
        ("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"), ("mod", "%"),
        ("pow", "**"), ("matmul", "@"), ("lt", "<"), ("le", "<="), ("eq", "=="), ("ne", "!="), ("gt", ">"),
        ("and", "&"), ("or", "|"), ("xor", "^"), ("radd", "+")]},
    "Tensor.__getitem__": lambda x, key: x[key],
    "Tensor.__neg__": lambda x: -x,
    "Tensor.__abs__": lambda x: abs(x),
    "Tensor.__invert__": lambda x: ~x,
    "Tensor.__float__": lambda x: float(x),
    "Tensor.__int__": lambda x: int(x),
    "Tensor.__bool__": lambda x: bool(x),
    "Tensor.__len__": lambda x: len(x),
    "Tensor.__setitem__": lambda x, key, v: x.__setitem__(key, v),
    **{f"Tensor.{m}": _method(m) for m in [
        "reshape", "sum", "mean", "max", "min", "argmax", "prod", "std", "var", "astype", "item", "tolist",
        "numpy", "transpose", "permute", "squeeze", "expand_dims", "clip", "cumsum", "flatten", "logsumexp",
        "softmax", "log_softmax", "assign", "assign_add", "contiguous", "all", "any", "round"]},
}
TENSOR_ARITY = {k: (2 if k.startswith("Tensor.__") and k not in (
    "Tensor.__neg__", "Tensor.__abs__", "Tensor.__invert__", "Tensor.__float__", "Tensor.__int__",
    "Tensor.__bool__", "Tensor.__len__") else 1) for k in TENSOR_CALLS}
TENSOR_ARITY["Tensor.__setitem__"] = 3


# ---------------------------------------------------------------------------------------------
# known, reported and not yet fixed problems: calls that match are skipped (counted) so CI stays
# green until the fix lands. Each entry names its line in the report; delete it once fixed.

KNOWN_ISSUES = {
    # name -> predicate(name, args, kwargs). Empty: the four reported so far (MIN // -1 panics,
    # bool clip bounds, bool + bool giving 2, uint64 >= 2**63 wrapping on conversion) are fixed and
    # covered by tests/test_integer_semantics.py and tests/test_errors.py.
}


# Reported exceptions of a class outside ALLOWED, tolerated (and counted) until fixed:
# (target prefix, exception class name, words of the message).
KNOWN_EXCEPTIONS = [
]


def known_exception(name, exc):
    for prefix, cls, words in KNOWN_EXCEPTIONS:
        if name.startswith(prefix) and type(exc).__name__ == cls and words in str(exc):
            return True
    return False


# Each known issue is skipped only while its probe still shows it in the extension being tested:
# once the fix is built the fuzzer covers those calls again with no edit here.
KNOWN_PROBES = {
    # name -> callable returning True while the issue still shows in the built extension
}
_ACTIVE = {}


def active_issue(key):
    if key not in _ACTIVE:
        _ACTIVE[key] = bool(KNOWN_PROBES[key]()) if key in KNOWN_PROBES else True
    return _ACTIVE[key]


def known_issue(name, args, kwargs):
    for key, pred in KNOWN_ISSUES.items():
        if not active_issue(key):
            continue
        try:
            if pred(name, args, kwargs):
                return key
        except Exception:  # noqa: BLE001 - a predicate must never break the fuzzer
            continue
    return None


# ---------------------------------------------------------------------------------------------
# the worker: runs in a subprocess

def _limit_memory():
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass


class Logger:
    """Unbuffered line log: the last line written before a crash names the culprit."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, line):
        os.write(self.fd, (line.replace("\n", " ") + "\n").encode())


def worker_main():
    cfg = json.loads(sys.argv[1])
    _limit_memory()
    import warnings
    warnings.simplefilter("ignore")
    os.environ.setdefault("FERROGRAD_NUM_THREADS", "1")
    log = Logger(cfg["log"])
    module = __import__(cfg["module"])
    result = module.run_worker(cfg, log)
    sys.stdout.write("\n@@RESULT@@" + json.dumps(result) + "\n")
    sys.stdout.flush()


def hypothesis_settings(examples, seed=None):
    from hypothesis import HealthCheck, Phase, settings
    kw = dict(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    if os.environ.get("FERROGRAD_FUZZ_NO_SHRINK"):
        kw["phases"] = [Phase.generate]
    return settings(**kw)


def run_target(name, strategy, body, examples, log, seed=None):
    """Runs ``body(draw_value)`` under hypothesis; returns (calls, failure or None).

    ``body`` returns None on a passing call or a failure description; the failure is shrunk and
    the smallest reproducer returned.
    """
    from hypothesis import given
    from hypothesis import seed as hseed

    state = {"calls": 0, "last": None}

    @hypothesis_settings(examples, seed)
    @given(strategy)
    def test(value):
        state["calls"] += 1
        bad = body(value, log)
        if bad is not None:
            state["last"] = bad
            raise AssertionError(bad["problem"])

    if seed is not None:
        test = hseed(seed)(test)
    try:
        test()
    except AssertionError:
        return state["calls"], state["last"]
    except Exception as e:  # noqa: BLE001 - the harness itself failed (strategy bug): report it
        subs = list(getattr(e, "exceptions", ()))
        if subs and all(isinstance(x, AssertionError) for x in subs):
            return state["calls"], state["last"]  # several distinct failures: report the last one
        first = next((x for x in subs if not isinstance(x, AssertionError)), e)
        import traceback
        tb = "".join(traceback.format_exception(first))[-1500:]
        return state["calls"], {"code": name, "problem": f"harness error {type(first).__name__}: {first}\n{tb}"}
    return state["calls"], None


def attempt(fn, args, kwargs):
    """Calls ``fn``; returns (result, exception). Catches BaseException except interrupts."""
    try:
        return fn(*args, **kwargs), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - PanicException derives from BaseException
        return None, e


# ---------------------------------------------------------------------------------------------
# the parent side

def run_in_subprocess(module, targets, examples, timeout, extra=None, seed=None):
    """Runs ``module.run_worker`` over ``targets`` in fresh subprocesses until all are done.

    After a crash or a timeout the culprit (last logged call) is recorded, its target skipped and
    the worker restarted on the remaining targets. Returns a report dict:
    {"calls", "failures": [{"target", "code", "problem"}], "skipped", "slow", "seconds"}.
    """
    report = {"calls": 0, "failures": [], "skipped": 0, "slow": [], "outcomes": {}}
    todo = list(targets)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        while todo:
            log = pathlib.Path(tmp) / f"log{len(report['failures'])}_{len(todo)}.txt"
            cfg = dict(module=module, targets=todo, examples=examples, log=str(log), seed=seed, **(extra or {}))
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
                       RUST_BACKTRACE="0", FERROGRAD_NUM_THREADS=os.environ.get("FERROGRAD_NUM_THREADS", "1"))
            cmd = [sys.executable, "-c", "import fuzz_helpers; fuzz_helpers.worker_main()", json.dumps(cfg)]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
                rc, out, err, how = p.returncode, p.stdout, p.stderr, None
            except subprocess.TimeoutExpired as e:
                rc, out, err, how = None, e.stdout or "", e.stderr or "", f"timed out after {timeout} s"
                out = out.decode() if isinstance(out, bytes) else out
                err = err.decode() if isinstance(err, bytes) else err
            if rc == 0 and "@@RESULT@@" in out:
                res = json.loads(out.rsplit("@@RESULT@@", 1)[1])
                report["calls"] += res["calls"]
                report["skipped"] += res.get("skipped", 0)
                report["failures"] += res["failures"]
                report["slow"] += res.get("slow", [])
                report.setdefault("per_target", {}).update(res.get("per_target", {}))
                report["max_rss_mib"] = max(report.get("max_rss_mib", 0), res.get("max_rss_mib", 0))
                for k, v in res.get("outcomes", {}).items():
                    report["outcomes"][k] = report["outcomes"].get(k, 0) + v
                break
            lines = log.read_text().splitlines() if log.exists() else []
            target = next((ln[7:] for ln in reversed(lines) if ln.startswith("TARGET ")), None)
            culprit = next((ln[5:] for ln in reversed(lines) if ln.startswith("CALL ")), None)
            if how is None:
                how = f"worker exited with {rc}" + (f" (signal {-rc})" if rc is not None and rc < 0 else "")
            report["calls"] += sum(1 for ln in lines if ln.startswith("CALL "))
            report["failures"].append({"target": target, "code": culprit, "problem": how,
                                       "stderr": err[-1500:]})
            if target is None or target not in todo:
                break
            todo = todo[todo.index(target) + 1:]
    report["seconds"] = round(time.monotonic() - start, 1)
    # one line for the record (pytest -rA or -s shows it): what a long run reports in its notes
    print(f"fuzz report {module}: {report['calls']} calls over {len(targets)} targets in {report['seconds']} s; "
          f"{len(report['failures'])} failures; outcomes {dict(sorted(report['outcomes'].items()))}; "
          f"max RSS {report.get('max_rss_mib', 0)} MiB")
    return report


def format_failures(report):
    lines = [f"{len(report['failures'])} failure(s) in {report['calls']} calls:"]
    for f in report["failures"]:
        lines.append(f"- [{f.get('target')}] {f['problem']}\n    {PREAMBLE}\n    {f.get('code')}")
        if f.get("stderr"):
            lines.append("    stderr: " + f["stderr"].strip().replace("\n", "\n    ")[-800:])
    return "\n".join(lines)


def finite(x):
    return isinstance(x, float) and math.isfinite(x)
