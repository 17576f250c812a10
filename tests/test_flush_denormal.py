"""Subnormal floats in the kernels: flushed to zero by default (FTZ/DAZ, as TensorFlow and XLA run
their CPU kernels), IEEE on request, never changing NumPy or Python arithmetic."""
import platform
import subprocess
import sys

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import ops

X86 = platform.machine().lower() in ("x86_64", "amd64")
SUB = np.array([1e-45, -3e-40, 1e-39, 2.0], dtype=np.float32)  # three subnormals and a normal value


@pytest.fixture
def restore_mode():
    before = fg.is_flush_denormal_enabled()
    yield
    fg.set_flush_denormal(before)


@pytest.mark.skipif(not X86, reason="flushing subnormals is implemented for x86-64")
def test_default_flushes_and_ieee_on_request(restore_mode):
    r = subprocess.run([sys.executable, "-c", "import ferrograd as fg; print(fg.is_flush_denormal_enabled())"],
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "True", r.stderr
    r = subprocess.run([sys.executable, "-c", "import ferrograd as fg; print(fg.is_flush_denormal_enabled())"],
                       capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "FERROGRAD_FLUSH_DENORMAL": "0"})
    assert r.stdout.strip() == "False", r.stderr
    assert fg.set_flush_denormal(True) is True and fg.is_flush_denormal_enabled()
    t = fg.tensor(SUB)
    np.testing.assert_array_equal((t * 2.0).numpy(), [0.0, 0.0, 0.0, 4.0])  # inputs read as zero
    np.testing.assert_array_equal(ops.greater(t, 0.0).numpy(), [False, False, False, True])
    np.testing.assert_array_equal((fg.tensor([1e-30], dtype="float32") * 1e-10).numpy(), [0.0])  # results
    fg.set_flush_denormal(False)
    assert not fg.is_flush_denormal_enabled()
    np.testing.assert_array_equal((t * 2.0).numpy(), SUB * 2.0)
    np.testing.assert_array_equal(ops.greater(t, 0.0).numpy(), SUB > 0)


@pytest.mark.skipif(not X86, reason="flushing subnormals is implemented for x86-64")
def test_numpy_and_python_keep_ieee_after_a_kernel(restore_mode):
    fg.set_flush_denormal(True)
    big = fg.tensor(np.full(1 << 16, 1e-39, np.float32))  # large enough to release the GIL and use threads
    assert float(ops.sum(big * 1.0).numpy()) == 0.0
    assert np.float32(1e-39) * np.float32(2.0) > 0  # NumPy on the calling thread: unchanged
    assert 5e-324 * 2 > 0  # Python floats too


@pytest.mark.skipif(not X86, reason="flushing subnormals is implemented for x86-64")
def test_thread_counts_agree_in_either_mode(restore_mode):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((300, 200)) * 1e-20).astype(np.float32)
    b = (rng.standard_normal((200, 150)) * 1e-20).astype(np.float32)  # products ~1e-40: subnormal
    before = fg.get_num_threads()
    try:
        for mode in (True, False):
            fg.set_flush_denormal(mode)
            outs = []
            for n in (1, 2):
                fg.set_num_threads(n)
                outs.append(ops.matmul(fg.tensor(a), fg.tensor(b)).numpy())
            np.testing.assert_array_equal(outs[0], outs[1])
            assert (np.count_nonzero(outs[0]) == 0) == mode
    finally:
        fg.set_num_threads(before)


def test_set_flush_denormal_reports_support(restore_mode):
    assert fg.set_flush_denormal(True) is X86
    assert fg.set_flush_denormal(False) is X86
    assert fg.is_flush_denormal_enabled() is False
