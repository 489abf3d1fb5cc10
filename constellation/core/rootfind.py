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
    x_out = 0.5 * (lo + hi)
    last = np.full(lo.shape, np.inf)
    active = np.flatnonzero(hi - lo > xtol)
    for _ in range(max_iter):
        if active.size == 0:
            break
        a, b, fa, fb = lo[active], hi[active], f_lo[active], f_hi[active]
        denom = fb - fa
        safe = np.where(denom != 0.0, denom, 1.0)
        x = np.where(denom != 0.0, (a * fb - b * fa) / safe, 0.5 * (a + b))
        x = np.where((x <= a) | (x >= b), 0.5 * (a + b), x)
        fx = np.asarray(fun(active, x), dtype=float)
        same_as_lo = np.signbit(fx) == np.signbit(fa)
        s = side[active]
        # Replace the end with fx's sign; if the same end moved twice running, halve the
        # other end's value (Illinois), which keeps convergence superlinear.
        lo[active] = np.where(same_as_lo, x, a)
        hi[active] = np.where(same_as_lo, b, x)
        f_lo[active] = np.where(same_as_lo, fx, np.where(s == -1, 0.5 * fa, fa))
        f_hi[active] = np.where(same_as_lo, np.where(s == 1, 0.5 * fb, fb), fx)
        side[active] = np.where(same_as_lo, 1, -1)
        x_out[active] = x
        done = (np.abs(x - last[active]) < 0.5 * xtol) | (fx == 0.0) | (hi[active] - lo[active] < xtol)
        last[active] = x
        active = active[~done]
    return x_out
