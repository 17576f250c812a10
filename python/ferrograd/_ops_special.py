"""Special functions of ``keras.ops`` composed from core ops: ``i0`` (the modified Bessel function
of the first kind, order 0) and the ``kaiser`` window built on it.

``i0`` evaluates the Chebyshev expansions of the Cephes library (the coefficients NumPy's ``np.i0``
uses): ``exp(|x|) * T_A(|x| / 2 - 2)`` for ``|x| <= 8`` and ``exp(|x|) * T_B(32 / |x| - 2) / sqrt(|x|)``
above, by Clenshaw's recurrence. Each step is one elementwise op in the Rust core on the whole
tensor, so the gradient (``i1(x)``, the derivative of the expansion) comes from the tape.
"""
from __future__ import annotations

from . import _core
from ._ops_more import _b, _f, _u

__all__ = ["i0", "kaiser"]

# Cephes' Chebyshev coefficients for exp(-x) i0(x): on [0, 8] (A) and on (8, inf) of sqrt(x) exp(-x) i0(x) (B).
_A = (
    -4.4153416464793395e-18, 3.3307945188222384e-17, -2.431279846547955e-16, 1.715391285555133e-15,
    -1.1685332877993451e-14, 7.676185498604936e-14, -4.856446783111929e-13, 2.95505266312964e-12,
    -1.726826291441556e-11, 9.675809035373237e-11, -5.189795601635263e-10, 2.6598237246823866e-09,
    -1.300025009986248e-08, 6.046995022541919e-08, -2.670793853940612e-07, 1.1173875391201037e-06,
    -4.4167383584587505e-06, 1.6448448070728896e-05, -5.754195010082104e-05, 0.00018850288509584165,
    -0.0005763755745385824, 0.0016394756169413357, -0.004324309995050576, 0.010546460394594998,
    -0.02373741480589947, 0.04930528423967071, -0.09490109704804764, 0.17162090152220877,
    -0.3046826723431984, 0.6767952744094761,
)
_B = (
    -7.233180487874754e-18, -4.830504485944182e-18, 4.46562142029676e-17, 3.461222867697461e-17,
    -2.8276239805165836e-16, -3.425485619677219e-16, 1.7725601330565263e-15, 3.8116806693526224e-15,
    -9.554846698828307e-15, -4.150569347287222e-14, 1.54008621752141e-14, 3.8527783827421426e-13,
    7.180124451383666e-13, -1.7941785315068062e-12, -1.3215811840447713e-11, -3.1499165279632416e-11,
    1.1889147107846439e-11, 4.94060238822497e-10, 3.3962320257083865e-09, 2.266668990498178e-08,
    2.0489185894690638e-07, 2.8913705208347567e-06, 6.889758346916825e-05, 0.0033691164782556943,
    0.8044904110141088,
)


def _chebyshev(x, coefficients):
    """Clenshaw's recurrence for ``sum c_i T_i(x / 2)`` in Cephes' convention (``chbevl``)."""
    b0 = _core.full((), coefficients[0], x.dtype)
    b1 = _core.full((), 0.0, x.dtype)
    b2 = b1
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = _b(_b(_b(x, b1, "multiply"), b2, "subtract"), c, "add")
    return _b(_b(b0, b2, "subtract"), 0.5, "multiply")


def i0(x):
    """The modified Bessel function of the first kind of order 0, elementwise (float; integers
    become float32), to NumPy's ``np.i0`` within rounding."""
    x = _u(_f(x), "abs")
    small = _b(x, 8.0, "less_equal")
    # each branch sees only inputs where it is valid (1 / 0 and sqrt near 0 stay out of the big branch)
    xs = _core.where(small, x, _core.full((), 8.0, x.dtype))
    xb = _core.where(small, _core.full((), 8.0, x.dtype), x)
    low = _chebyshev(_b(_b(xs, 0.5, "multiply"), 2.0, "subtract"), _A)
    high = _b(_chebyshev(_b(_b(32.0, xb, "divide"), 2.0, "subtract"), _B), _u(xb, "sqrt"), "divide")
    out = _b(_u(x, "exp"), _core.where(small, low, high), "multiply")
    # i0(inf) = inf (the expansion alone gives inf * 0)
    return _core.where(_b(x, float("inf"), "equal"), _core.full((), float("inf"), x.dtype), out)


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta`` (float32), as ``np.kaiser``:
    ``i0(beta * sqrt(1 - ((n - a) / a)^2)) / i0(beta)`` with ``a = (x - 1) / 2``."""
    m = int(x)
    if m < 1:
        return _core.full((0,), 0.0, "float32")
    if m == 1:
        return _core.full((1,), 1.0, "float32")
    beta = float(beta)
    a = (m - 1) / 2.0
    n = _core.arange(0.0, float(m), 1.0, "float64")
    r = _b(_b(n, a, "subtract"), a, "divide")
    arg = _b(_u(_b(1.0, _b(r, r, "multiply"), "subtract"), "sqrt"), beta, "multiply")
    w = _b(i0(arg), i0(_core.full((), beta, "float64")), "divide")
    return _core.cast(w, "float32")
