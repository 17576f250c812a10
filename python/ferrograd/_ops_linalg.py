"""``keras.ops.linalg``: the linear-algebra names ferrograd can compute exactly from its kernels
(``norm``). The decompositions and solvers (qr, svd, eig/eigh, inv, solve, cholesky, det, lstsq, ...)
need LAPACK-style kernels the Rust core does not have yet: they raise the house error naming the op
and are not approximated in Python."""
from __future__ import annotations

import sys as _sys

from . import ops as _ops

__all__ = ["norm"]

norm = _ops.norm

_sys.modules.setdefault(__name__.replace("_ops_linalg", "ops.linalg"), _sys.modules[__name__])

_DECOMPOSITIONS = ("cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor", "matrix_rank",
                   "pinv", "qr", "solve", "solve_triangular", "svd")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    why = (" (it needs a linear-algebra decomposition kernel, which the Rust core does not have)"
           if name in _DECOMPOSITIONS else (" (forward-mode autodiff is not supported)" if name == "jvp" else ""))
    raise AttributeError(f"keras.ops.linalg.{name} is not available in ferrograd yet{why}")
