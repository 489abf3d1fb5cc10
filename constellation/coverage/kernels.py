"""Coverage kernels: how many satellites see each grid point at each time.

A ground point is covered by a satellite when it lies within the satellite's cap
(:mod:`.caps`: spherical Earth of mean radius, elevation mask or a given cap angle).

Functions
---------
covering_counts(r_km, grid, ...)        fast: satellites in view, shape (n_time, n_point)
covering_counts_dense(r_km, grid, ...)  brute-force reference (sat x point x time)
required_cap_angle_deg(r_km, grid, k)   smallest cap angle giving continuous k-fold
                                        coverage of the grid (Walker's measure)
satellite_caps, counts_in_grid_order, resolve_backend
                                        the steps :mod:`.statistics` streams over time

Fast kernel: for each satellite state the cap touches a few grid rows; in each row the
covered points form one longitude interval (two across the antimeridian), found in closed
form, ``cos(dlon) >= (cos(lambda) - sin(lat) sin(lat_s)) / (cos(lat) cos(lat_s))``. Intervals
are written as +1/-1 into a difference array and a cumulative sum turns them into
counts, so the work grows with satellites x time x rows touched, not with the points
inside each cap. It agrees with the dense evaluation ``u_point . u_sat >= cos(lambda)``
except for points within rounding (1e-15) of a cap edge. Two backends: numba (compiled,
parallel over time steps, used when numba is installed) and numpy (fallback, ~5x slower).
Measured on 2 cores (benchmarks/bench_coverage.py): 1,000 satellites x 1,440 steps x
41,252 points in ~0.95 s including SGP4 (0.5 s of it), ~1.9x the propagation floor; dense
numpy would take ~6 minutes.

Bad arguments raise :class:`~constellation.errors.ParameterError` (a ``ValueError``).
Imports numpy only (numba when the numba backend is first used).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..constants import COVERAGE_CHUNK_STATES, EARTH_MEAN_RADIUS_KM
from ..errors import ParameterError
from .caps import cap_angle_rad, check_min_elevation_deg
from .grid import ROW_KEY, Grid, RowIndex

_TWO_PI = 2.0 * np.pi
# A block of covering_counts holds at most this many counts (n_time x n_point) at once.
_MAX_BLOCK_COUNTS = 4_000_000


def satellite_caps(r_km, valid, min_elevation_deg, cap_angle_deg):
    """Unit vectors ``(..., 3)`` and cap angles (rad, -1 where invalid) of positions ``r_km`` ``(..., 3)``.

    The cap angle is ``cap_angle_deg`` when given, else the one of the elevation mask
    ``min_elevation_deg`` at each satellite's distance; ``valid`` (``(...)``, optional)
    marks the samples to count.
    """
    r = np.asarray(r_km, dtype=float)
    radius = np.sqrt(np.einsum("...i,...i->...", r, r))
    safe = np.where(radius > 0.0, radius, 1.0)
    u = r / safe[..., None]
    if cap_angle_deg is not None:
        if not 0.0 < float(cap_angle_deg) < 180.0:
            raise ParameterError("cap_angle_deg", "an Earth central angle in (0, 180) deg", cap_angle_deg)
        psi = np.full(radius.shape, np.radians(float(cap_angle_deg)))
    else:
        el = np.radians(check_min_elevation_deg(min_elevation_deg))
        psi = cap_angle_rad(safe, el, EARTH_MEAN_RADIUS_KM)
    ok = radius > 0.0
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    return u, np.where(ok, psi, -1.0)


# --------------------------------------------------------------------------------------
# numpy backend


def _interval_events(u, psi, time_index, rows: RowIndex, stride: int):
    """Difference-array events (+1 and -1 flat indices) of every cap on every row it touches.

    ``u`` (n, 3) unit vectors, ``psi`` (n,) cap angles (rad, < 0: none), ``time_index`` (n,)
    row of the output each state writes to; flat index = time_index * stride + position.
    """
    live = psi >= 0.0
    u, psi, time_index = u[live], psi[live], time_index[live]
    if psi.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sin_s = u[:, 2]
    cos_s = np.hypot(u[:, 0], u[:, 1])
    lat_s = np.arctan2(sin_s, cos_s)
    lon_s = np.arctan2(u[:, 1], u[:, 0])
    r0 = np.searchsorted(rows.lat_rad, lat_s - psi, side="left")
    r1 = np.searchsorted(rows.lat_rad, lat_s + psi, side="right")
    width = int((r1 - r0).max(initial=0))
    if width == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n_rows = rows.lat_rad.size
    b = r0[:, None] + np.arange(width)
    touched = b < r1[:, None]
    b = np.minimum(b, n_rows - 1)
    row_lat = rows.lat_rad[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (np.cos(psi)[:, None] - np.sin(row_lat) * sin_s[:, None]) / (np.cos(row_lat) * cos_s[:, None])
    c = np.where(touched, c, 2.0)
    full = ~(c > -1.0)  # also NaN: a satellite exactly over a pole, point on the edge
    part = (c > -1.0) & (c <= 1.0)
    w = np.arccos(np.clip(c, -1.0, 1.0))
    lon0 = np.broadcast_to(lon_s[:, None], b.shape)
    base = rows.start[b]
    n_b = rows.start[b + 1] - base
    t = np.broadcast_to(time_index[:, None], b.shape).ravel()
    if rows.regular:
        full, runs = _regular_runs(part, full, w, lon0, base, n_b, t)
    else:
        runs = _irregular_runs(rows.key, part, b, w, lon0, base, n_b, t)
    t_p, lo1, hi1, t2, lo2, hi2 = runs
    fsel = np.flatnonzero(full)
    t_full = t[fsel]
    base_f = base.ravel()[fsel]
    n_f = n_b.ravel()[fsel]
    plus = np.concatenate([t_p * stride + lo1, t2 * stride + lo2, t_full * stride + base_f])
    minus = np.concatenate([t_p * stride + hi1, t2 * stride + hi2, t_full * stride + base_f + n_f])
    return plus, minus


def _regular_runs(part, full, w, lon0, base, n_b, t):
    """Covered points of the partly covered rows of a regular grid, as runs of kernel positions.

    Per (state, row) pair, shape (n, width): ``part`` / ``full`` (row partly / wholly
    covered), ``w`` the half-width (rad) of the covered longitudes around ``lon0``, the row's
    first position ``base`` and point count ``n_b``; ``t`` (n * width,) the output rows.
    Returns ``full`` with the rows whose interval holds every point, and the runs
    ``(t, lo, hi, t_wrapped, lo_wrapped, hi_wrapped)``: ``[lo, hi)`` and, for an interval
    wrapping past the row's end, a second run from the row's start.
    """
    step = _TWO_PI / n_b
    j_lo = np.ceil((lon0 - w + np.pi) / step - 0.5).astype(np.int64)
    j_hi = np.floor((lon0 + w + np.pi) / step - 0.5).astype(np.int64)
    count = j_hi - j_lo + 1
    full = full | (part & (count >= n_b))
    part = part & (count > 0) & (count < n_b)
    first = np.mod(j_lo, n_b)
    end = first + count
    # Flatten the partial rows: [first, end) within the row, wrapping past its end.
    sel = np.flatnonzero(part)
    base_p, first_p, end_p, n_p, t_p = (x.ravel()[sel] for x in (base, first, end, n_b, t))
    lo1 = base_p + first_p
    hi1 = base_p + np.minimum(end_p, n_p)
    wrap = end_p > n_p
    lo2 = base_p[wrap]
    hi2 = base_p[wrap] + end_p[wrap] - n_p[wrap]
    return full, (t_p, lo1, hi1, t_p[wrap], lo2, hi2)


def _irregular_runs(key, part, b, w, lon0, base, n_b, t):
    """As :func:`_regular_runs` (without ``full``) for rows of any longitudes, found by binary
    search in ``key`` (``RowIndex.key``); ``b`` (n, width) is the row of each pair."""
    lo = np.mod(lon0 - w + np.pi, _TWO_PI)  # in [0, 2 pi)
    hi = lo + 2.0 * w
    sel = np.flatnonzero(part)
    b_p, lo_p, hi_p, base_p, n_p, t_p = (x.ravel()[sel] for x in (b, lo, hi, base, n_b, t))
    lo1 = np.searchsorted(key, b_p * ROW_KEY + lo_p, side="left")
    wrap = hi_p >= _TWO_PI
    hi1 = np.where(wrap, base_p + n_p,
                   np.searchsorted(key, b_p * ROW_KEY + np.minimum(hi_p, _TWO_PI - 1e-12), side="right"))
    lo2 = base_p[wrap]
    hi2 = np.searchsorted(key, b_p[wrap] * ROW_KEY + hi_p[wrap] - _TWO_PI, side="right")
    return t_p, lo1, hi1, t_p[wrap], lo2, hi2


def _counts_block(u, psi, rows: RowIndex, n_points: int, n_time: int) -> np.ndarray:
    """Satellites in view, ``(n_time, n_points)`` in kernel order, from ``u`` (n_sat, n_time, 3)."""
    n_sat = u.shape[0]
    stride = n_points + 1
    time_index = np.broadcast_to(np.arange(n_time), (n_sat, n_time)).ravel()
    plus, minus = _interval_events(u.reshape(-1, 3), psi.ravel(), time_index, rows, stride)
    size = n_time * stride
    diff = np.bincount(plus, minlength=size)[:size] - np.bincount(minus, minlength=size)[:size]
    return np.cumsum(diff.reshape(n_time, stride), axis=1)[:, :n_points]


# --------------------------------------------------------------------------------------
# numba backend


@functools.cache
def _numba_counts():
    """The numba-compiled counting kernel, or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return _compile_counts(numba)


def _compile_counts(numba):
    """Compile the counting kernel (parallel over time steps; cached on disk by numba)."""
    numba.extending.register_jitable(_add_regular_row)
    numba.extending.register_jitable(_add_irregular_row)
    prange = numba.prange

    @numba.njit(parallel=True, cache=True)
    def counts(u, psi, row_lat, row_sin, row_cos, start, regular, lon_key, out):
        """Fill ``out`` (n_time, n_point + 1), zeroed, with satellites in view (first n_point columns)."""
        n_sat, n_time = psi.shape
        n_points = out.shape[1] - 1
        for t in prange(n_time):
            diff = out[t]
            for s in range(n_sat):
                ps = psi[s, t]
                if ps < 0.0:
                    continue
                x, y, z = u[s, t, 0], u[s, t, 1], u[s, t, 2]
                cos_s = math.hypot(x, y)
                lat_s = math.atan2(z, cos_s)
                lon_s = math.atan2(y, x)
                cos_ps = math.cos(ps)
                r0 = np.searchsorted(row_lat, lat_s - ps, side="left")
                r1 = np.searchsorted(row_lat, lat_s + ps, side="right")
                for b in range(r0, r1):
                    base = start[b]
                    n = start[b + 1] - base
                    num = cos_ps - row_sin[b] * z
                    den = row_cos[b] * cos_s
                    if den > 0.0:
                        c = num / den
                    else:
                        c = 2.0 if num > 0.0 else -2.0
                    if c > 1.0:
                        continue
                    if c <= -1.0:
                        diff[base] += 1
                        diff[base + n] -= 1
                    elif regular:
                        _add_regular_row(diff, base, n, lon_s, math.acos(c))
                    else:
                        _add_irregular_row(diff, base, n, lon_s, math.acos(c), lon_key)
            running = 0
            for p in range(n_points):
                running += diff[p]
                diff[p] = running

    return counts


def _add_regular_row(diff, base, n, lon_s, w):
    """Mark in ``diff`` the points of a regular row (``n`` points from ``base``, evenly spaced
    from -pi) within ``w`` rad of longitude ``lon_s``: +1 at the first, -1 after the last;
    two runs when the interval wraps past the row's end. (Compiled by numba.)"""
    step = 2.0 * math.pi / n
    j_lo = int(math.ceil((lon_s - w + math.pi) / step - 0.5))
    j_hi = int(math.floor((lon_s + w + math.pi) / step - 0.5))
    count = j_hi - j_lo + 1
    if count <= 0:
        return
    if count >= n:
        diff[base] += 1
        diff[base + n] -= 1
        return
    first = j_lo % n
    end = first + count
    diff[base + first] += 1
    if end <= n:
        diff[base + end] -= 1
    else:
        diff[base + n] -= 1
        diff[base] += 1
        diff[base + end - n] -= 1


def _add_irregular_row(diff, base, n, lon_s, w, lon_key):
    """As :func:`_add_regular_row` for a row of any longitudes, ``lon_key[base:base + n]``
    (lon + pi, ascending), found by binary search. (Compiled by numba.)"""
    two_pi = 2.0 * math.pi
    seg = lon_key[base:base + n]
    lo = (lon_s - w + math.pi) % two_pi
    hi = lo + 2.0 * w
    i_lo = np.searchsorted(seg, lo, side="left")
    diff[base + i_lo] += 1
    if hi < two_pi:
        diff[base + np.searchsorted(seg, hi, side="right")] -= 1
    else:
        diff[base + n] -= 1
        diff[base] += 1
        diff[base + np.searchsorted(seg, hi - two_pi, side="right")] -= 1


def resolve_backend(backend: str) -> str:
    """``"numba"`` or ``"numpy"``: the backend that ``backend`` ("auto", "numba", "numpy") selects."""
    if backend not in ("auto", "numba", "numpy"):
        raise ParameterError("backend", "'auto', 'numba' or 'numpy'", backend)
    if backend == "numpy":
        return "numpy"
    if _numba_counts() is None:
        if backend == "numba":
            raise ParameterError("backend", "numba installed (pip install numba), or backend='numpy'", backend)
        return "numpy"
    return "numba"


def _counts_block_numba(u, psi, rows: RowIndex, n_points: int) -> np.ndarray:
    """As :func:`_counts_block`, with the numba kernel."""
    kernel = _numba_counts()
    out = np.zeros((u.shape[1], n_points + 1), np.int32)
    lon_key = rows.lon_key if rows.lon_key is not None else np.zeros(1)
    kernel(np.ascontiguousarray(u), np.ascontiguousarray(psi), rows.lat_rad, np.sin(rows.lat_rad),
           np.cos(rows.lat_rad), rows.start, rows.regular, lon_key, out)
    return out[:, :n_points]


def covering_counts(r_km, grid: Grid, min_elevation_deg: float = 20.0, *, valid=None,
                    cap_angle_deg: float | None = None, chunk_states: int = COVERAGE_CHUNK_STATES,
                    backend: str = "auto") -> np.ndarray:
    """Number of satellites in view of each grid point at each time (fast kernel).

    Parameters
    ----------
    r_km : array_like, shape (n_sat, n_time, 3)
        Earth-fixed positions (km).
    grid : Grid
    min_elevation_deg : float
        Elevation mask, [0, 90) deg.
    valid : array_like of bool, shape (n_sat, n_time), optional
        False samples (SGP4 errors) cover nothing.
    cap_angle_deg : float, optional
        Use this Earth central angle for every satellite instead of the one from the mask.
    backend : {"auto", "numba", "numpy"}
        "auto" uses numba when it is installed (~10x faster), else numpy.

    Returns
    -------
    ndarray of int32, shape (n_time, n_point), grid order.
    """
    r = np.asarray(r_km, dtype=float)
    if r.ndim != 3 or r.shape[-1] != 3:
        raise ParameterError("r_km", "positions of shape (n_sat, n_time, 3)", r.shape)
    n_sat, n_time = r.shape[:2]
    use_numba = resolve_backend(backend) == "numba"
    u, psi = satellite_caps(r, valid, min_elevation_deg, cap_angle_deg)
    out = np.empty((n_time, grid.size), np.int32)
    block = max(1, min(chunk_states // max(n_sat, 1), _MAX_BLOCK_COUNTS // max(grid.size, 1)))
    for t0 in range(0, n_time, block):
        t1 = min(n_time, t0 + block)
        out[t0:t1] = counts_in_grid_order(u[:, t0:t1], psi[:, t0:t1], grid, use_numba)
    return out


def counts_in_grid_order(u, psi, grid: Grid, use_numba: bool) -> np.ndarray:
    """Satellites in view ``(n_time, n_point)``, in grid order, of caps ``u`` (n_sat, n_time, 3)
    and ``psi`` (n_sat, n_time, rad; < 0: none) from :func:`satellite_caps`. For a regular
    grid the result is a view of the kernel's buffer."""
    if use_numba:
        counts = _counts_block_numba(u, psi, grid.row_index, grid.size)
    else:
        counts = _counts_block(u, psi, grid.row_index, grid.size, u.shape[1])
    return counts if grid.row_index.to_grid is None else counts[:, grid.row_index.to_grid]


def covering_counts_dense(r_km, grid: Grid, min_elevation_deg: float = 20.0, *, valid=None,
                          cap_angle_deg: float | None = None) -> np.ndarray:
    """Brute-force reference for :func:`covering_counts`: every satellite x point x time.

    A point is covered when ``u_point . u_sat >= cos(cap angle)``. Memory ~ n_sat x n_point
    per time step; for tests and small cases.
    """
    r = np.asarray(r_km, dtype=float)
    u, psi = satellite_caps(r, valid, min_elevation_deg, cap_angle_deg)
    p = grid.unit_vectors()
    out = np.empty((r.shape[1], grid.size), np.int32)
    for t in range(r.shape[1]):
        dots = u[:, t] @ p.T  # (n_sat, n_point)
        live = psi[:, t] >= 0.0
        out[t] = np.count_nonzero((dots >= np.cos(psi[:, t])[:, None]) & live[:, None], axis=0)
    return out


def required_cap_angle_deg(r_km, grid: Grid, k: int = 1, *, valid=None) -> float:
    """Smallest cap angle (deg) with which every grid point always has ``k`` satellites in view.

    The maximum over points and times of the central angle to the k-th nearest satellite:
    Walker's and Lang & Adams' measure of a constellation's efficiency (theta). Dense
    evaluation, n_sat x n_point per time step. Grid sampling can only underestimate it, by
    at most the grid's spacing.
    """
    r = np.asarray(r_km, dtype=float)
    u, psi = satellite_caps(r, valid, 0.0, None)
    if not 1 <= k <= r.shape[0]:
        raise ParameterError("k", f"a coverage fold between 1 and the number of satellites ({r.shape[0]})", k)
    p = grid.unit_vectors()
    worst = -1.0
    for t in range(r.shape[1]):
        dots = np.where((psi[:, t] >= 0.0)[:, None], u[:, t] @ p.T, -2.0)
        kth = -np.partition(-dots, k - 1, axis=0)[k - 1]  # k-th largest cosine per point
        worst = max(worst, float(np.arccos(np.clip(kth.min(), -1.0, 1.0))))
    return float(np.degrees(worst))
