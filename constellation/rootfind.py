"""Vectorised bracketed root finding (numpy only).

Many independent brackets are refined together, so each iteration costs one batched
function evaluation. The Illinois variant of regula falsi converges superlinearly and
never leaves its bracket.
"""

from __future__ import annotations

import numpy as np


def illinois(fun, lo, hi, f_lo, f_hi, xtol, max_iter=100):
    """Roots of ``fun`` in ``[lo, hi]`` for each element, given ``f_lo``, ``f_hi`` of opposite sign.

    Parameters
    ----------
    fun : callable(index, x) -> f
        Evaluates the functions whose elements are ``index`` at abscissae ``x``.
    lo, hi, f_lo, f_hi : ndarray, shape (n,)
    xtol : float
        Absolute tolerance on the root.

    Returns
    -------
    ndarray, shape (n,)
        A point within ``xtol`` of a sign change of each function.
    """
    lo = np.array(lo, dtype=float)
    hi = np.array(hi, dtype=float)
    f_lo = np.array(f_lo, dtype=float)
    f_hi = np.array(f_hi, dtype=float)
    side = np.zeros(lo.shape, dtype=np.int8)
    active = np.flatnonzero(hi - lo > xtol)
    for _ in range(max_iter):
        if active.size == 0:
            break
        a, b, fa, fb = lo[active], hi[active], f_lo[active], f_hi[active]
        denom = fb - fa
        x = np.where(denom != 0.0, (a * fb - b * fa) / np.where(denom != 0.0, denom, 1.0), 0.5 * (a + b))
        # Stay strictly inside, and fall back to bisection when secant steps stall.
        width = b - a
        x = np.clip(x, a + 0.01 * width, b - 0.01 * width)
        x = np.where(width < 4 * xtol, 0.5 * (a + b), x)
        fx = np.asarray(fun(active, x), dtype=float)
        same_as_lo = np.signbit(fx) == np.signbit(fa)
        s = side[active]
        # Replace lo; halve f_hi if lo moved twice running (Illinois).
        new_lo = np.where(same_as_lo, x, a)
        new_hi = np.where(same_as_lo, b, x)
        new_fa = np.where(same_as_lo, fx, np.where(s == -1, 0.5 * fa, fa))
        new_fb = np.where(same_as_lo, np.where(s == 1, 0.5 * fb, fb), fx)
        side[active] = np.where(same_as_lo, 1, -1)
        lo[active], hi[active], f_lo[active], f_hi[active] = new_lo, new_hi, new_fa, new_fb
        exact = fx == 0.0
        lo[active[exact]] = hi[active[exact]] = x[exact]
        active = active[(new_hi - new_lo > xtol) & ~exact]
    return 0.5 * (lo + hi)
