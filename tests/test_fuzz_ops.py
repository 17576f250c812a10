"""API fuzzer for every public op: hostile calls never crash, well-formed calls match NumPy.

Every public function of ``ferrograd.ops`` and its ``nn``, ``image``, ``linalg`` and ``numpy``
namespaces (found by introspection, so a new op is covered without editing this file), plus the
Tensor operators, indexing and methods, is called with hypothesis-drawn arguments: tensors of every
dtype with 0-d and 0-sized shapes, views (transposes, stepped and reversed slices, broadcasts),
NaN/inf/-0.0 and extreme integers, and awkward scalars (negative and huge axes and sizes, None,
strings, floats for ints, nested lists). A call passes when it returns a value or raises one of the
documented exception classes (``fuzz_helpers.ALLOWED_NAMES``); a ``PanicException``, any
non-``Exception``, an undocumented class or a RuntimeError about an internal error fails. A table
of NumPy equivalents (``fuzz_ops_worker.ORACLE_NAMES``) also compares values of well-formed calls.

All calls run in a subprocess with a 4 GiB address-space limit (``fuzz_helpers``), so a crash,
abort or hang fails a test and names the last call made.

CI mode (default): derandomized hypothesis, a few examples per op (about 3,000 hostile calls and
1,500 oracle calls). Long mode: ``FERROGRAD_FUZZ_EXAMPLES=<examples per op>`` (and optionally
``FERROGRAD_FUZZ_SEED=<int>`` for a fresh random stream), e.g.::

    FERROGRAD_FUZZ_EXAMPLES=500 FERROGRAD_FUZZ_SEED=7 pytest tests/test_fuzz_ops.py -q
"""
import os

import fuzz_helpers as fh
import fuzz_ops_worker as fw
import pytest

SEED = int(os.environ["FERROGRAD_FUZZ_SEED"]) if os.environ.get("FERROGRAD_FUZZ_SEED") else None
TIMEOUT = 300 if not fh.long_mode() else 24 * 3600


def _check(report):
    assert not report["failures"], fh.format_failures(report)


def test_enumeration_finds_every_namespace():
    ops = fh.public_ops()
    assert len(ops) > 250
    for name in ["ops.add", "ops.matmul", "ops.conv", "ops.image.resize", "ops.image.extract_patches",
                 "ops.floor_divide", "ops.dot_product_attention", "ops.linalg.norm"]:
        assert name in ops or name.replace("linalg.", "") in ops, name


@pytest.mark.parametrize("part", [0, 1])
def test_hostile_calls_never_crash(part):
    targets = sorted(fh.public_ops()) + sorted(fh.TENSOR_CALLS)
    targets = targets[part::2]
    report = fh.run_in_subprocess("fuzz_ops_worker", targets, fh.ci_examples(8), TIMEOUT, seed=SEED)
    _check(report)
    assert report["calls"] >= len(targets)
    # most calls must get past argument checking somewhere, or the fuzzer tests nothing
    assert report["outcomes"].get("ok", 0) > report["calls"] // 5, report["outcomes"]


def test_numpy_and_python_data_convert_exactly_or_fail_cleanly():
    targets = ["interop:" + n for n in fw.INTEROP]
    report = fh.run_in_subprocess("fuzz_ops_worker", targets, fh.ci_examples(40), TIMEOUT, seed=SEED)
    _check(report)
    assert report["outcomes"].get("ok", 0) > report["calls"] // 3, report["outcomes"]


def test_ops_match_numpy():
    targets = ["oracle:" + n for n in fw.ORACLE_NAMES]
    report = fh.run_in_subprocess("fuzz_ops_worker", targets, fh.ci_examples(15), TIMEOUT, seed=SEED)
    _check(report)
    assert report["outcomes"].get("ok", 0) > report["calls"] * 0.8, report["outcomes"]


# --- the harness itself: each kind of failure is caught and pinned on its call -----------------

def test_classify():
    class PanicException(BaseException):
        pass
    assert fh.classify(None) is None
    assert fh.classify(ValueError("shape (2,)")) is None
    assert fh.classify(RuntimeError("backward through the graph a second time")) is None
    assert "not an Exception" in fh.classify(PanicException("attempt to divide with overflow"))
    assert "internal" in fh.classify(RuntimeError("internal error: please report"))
    assert "not a documented" in fh.classify(AttributeError("'list' object has no attribute 'ndim'"))
    assert "empty message" in fh.classify(ValueError())
    assert fh.classify(RecursionError("maximum recursion depth exceeded"))


@pytest.mark.parametrize("kind, words", [("abort", "signal 6"), ("hang", "timed out"),
                                         ("panic", "not an Exception"), ("alloc", None)])
def test_harness_reports_crashes_hangs_and_panics(kind, words):
    timeout = 8 if kind == "hang" else 120
    report = fh.run_in_subprocess("fuzz_ops_worker", ["selftest:" + kind, "selftest:fine"], 3, timeout=timeout)
    if words is None:  # a 16 GiB NumPy allocation meets the address-space limit: MemoryError, allowed
        assert not report["failures"], fh.format_failures(report)
        return
    assert len(report["failures"]) == 1, report
    f = report["failures"][0]
    assert words in f["problem"]
    assert f["target"] == "selftest:" + kind and "selftest" in f["code"]
    # the worker was restarted after the crash and ran the remaining target
    assert kind != "abort" or report["calls"] >= 2
