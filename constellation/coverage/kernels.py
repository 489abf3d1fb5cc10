"""Coverage: how often, and how long between, each place on Earth has a satellite in view.

A ground point is covered at a time step when at least ``k`` satellites are above the
elevation mask, i.e. within the footprint cap of :mod:`constellation.footprints` (spherical
Earth of mean radius; the point's latitude and longitude are taken as spherical). Each time
sample stands for ``step_s`` of time.

Grids (:class:`Grid`; points with area weights that sum to 1)
    equal_area_grid(resolution_deg)            latitude rows of height ``resolution_deg``,
                                               longitude counts scaled with the row's area
                                               (41,252 points at 1 deg)
    target_grid(lat_deg, lon_deg, names)       a user list of places, equal weights
    region_grid(region, resolution_deg)        points of the equal-area grid inside a shapely
                                               (Multi)Polygon in lon/lat degrees

Coverage over a time span (returns :class:`CoverageResult`)
    coverage(propagator, grid, duration_s, step_s, ...)   propagates chunk by chunk (bounded
                                                          memory), optional night statistics
    coverage_from_positions(r_km, step_s, grid, ...)      the same on positions you already have

Kernels
    covering_counts(r_km, grid, ...)        fast: satellites in view, shape (n_time, n_point)
    covering_counts_dense(r_km, grid, ...)  brute-force reference (sat x point x time)
    required_cap_angle_deg(r_km, grid, k)   smallest cap angle giving continuous k-fold
                                            coverage of the grid (Walker's measure)

Per point (``CoverageResult`` arrays, in grid order): ``coverage_fraction`` (time with >= k
satellites in view), ``night_fraction`` (Sun below the night threshold),
``night_coverage_fraction`` (covered and dark), ``passes`` (maximal runs of usable samples,
a run in progress at the start included), ``mean_gap_s`` / ``max_gap_s`` (runs without
coverage, including the runs cut by the start and end of the span; 0 for a point never
without coverage), ``mean_response_s`` (time from a random instant to the next usable
sample, averaged over the span; 0 while covered) and ``mean_in_view``. "Usable" means
covered, or covered and dark when ``night_only`` is set. ``result.summary()`` gives the
area-weighted global figures (``global_coverage_fraction``, ``mean_revisit_gap_s``,
``max_revisit_gap_s``, ...) and ``result.latitude_bands(width_deg)`` the same per band.

Typical use (what ``constellation coverage`` does)::

    from constellation.api import load_scenario, propagator_for
    scenario = load_scenario("scenarios/2027-global.toml")
    result = coverage(propagator_for(scenario), equal_area_grid(2.0), scenario.duration_s, 60.0,
                      min_elevation_deg=20.0, night_sun_elevation_deg=-12.0, night_only=True)
    result.summary()             # JSON-ready dict, area-weighted global figures
    result.latitude_bands(10.0)  # list of dicts
    result.table()               # per-point columns for CSV/Parquet

Fast kernel: for each satellite state the cap touches a few grid rows; in each row the
covered points form one longitude interval (two across the antimeridian), found in closed
form, ``cos(dlon) >= (cos(lambda) - sin(lat) sin(lat_s)) / (cos(lat) cos(lat_s))``. Intervals
are written as +1/-1 into a difference array and a cumulative sum turns them into
counts, so the work grows with satellites x time x rows touched, not with the points
inside each cap. It agrees with the dense evaluation ``u_point . u_sat >= cos(lambda)``
except for points within rounding (1e-15) of a cap edge. Two backends: numba (compiled,
parallel over time steps, used when numba is installed; the statistics are one pass per
point) and numpy (fallback, ~5x slower). Measured on 2 cores (benchmarks/bench_coverage.py):
1,000 satellites x 1,440 steps x 41,252 points in ~0.95 s including SGP4 (0.5 s of it),
~1.9x the propagation floor; dense numpy would take ~6 minutes.

>>> grid = equal_area_grid(10.0)
>>> grid.size, round(float(grid.weight.sum()), 12)
(412, 1.0)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .footprints import EARTH_MEAN_RADIUS_KM, cap_angle_rad, check_min_elevation_deg

_SOURCE = "coverage"
MIN_RESOLUTION_DEG = 0.1
MAX_RESOLUTION_DEG = 30
_HALF_PI = 0.5 * np.pi
_TWO_PI = 2.0 * np.pi
_ROW_KEY = 8.0  # > 2 pi: row index * _ROW_KEY + (lon + pi) sorts points by row, then longitude


# --------------------------------------------------------------------------------------
# Grids


@dataclass(frozen=True)
class _Rows:
    """Kernel index: points sorted by row (equal latitude), then longitude."""

    lat_rad: np.ndarray  # (n_rows,) ascending
    start: np.ndarray  # (n_rows + 1,) offsets into kernel order
    regular: bool  # row b: lon_j = -pi + (j + 0.5) 2 pi / n_b
    key: np.ndarray | None  # (n,) row * _ROW_KEY + lon + pi, ascending (irregular rows)
    lon_key: np.ndarray | None  # (n,) lon + pi in [0, 2 pi), ascending within each row
    to_grid: np.ndarray | None  # kernel position of each grid point (None: same order)


@dataclass(frozen=True)
class Grid:
    """Ground points with area weights.

    Attributes
    ----------
    lat_deg, lon_deg : ndarray, shape (n,)
    weight : ndarray, shape (n,)
        Fraction of the grid's area each point stands for; sums to 1.
    names : tuple of str or None
        Target names (``target_grid``), else None.
    resolution_deg : float or None
    """

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    weight: np.ndarray
    names: tuple | None = None
    resolution_deg: float | None = None
    _rows: _Rows | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return int(self.lat_deg.size)

    def unit_vectors(self) -> np.ndarray:
        """Unit vectors of the points (spherical lat/lon), shape ``(n, 3)``."""
        lat = np.radians(self.lat_deg)
        lon = np.radians(self.lon_deg)
        return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _check_resolution(resolution_deg) -> float:
    try:
        res = float(resolution_deg)
    except (TypeError, ValueError):
        res = float("nan")
    if not MIN_RESOLUTION_DEG <= res <= MAX_RESOLUTION_DEG:
        raise InputError(_SOURCE, "grid resolution_deg",
                         f"a resolution between {MIN_RESOLUTION_DEG} and {MAX_RESOLUTION_DEG} deg "
                         "(1 deg gives ~41,000 points)", resolution_deg)
    return res


def _equal_area_rows(res: float):
    n_rows = max(2, int(round(180.0 / res)))
    edges = np.linspace(-_HALF_PI, _HALF_PI, n_rows + 1)
    band = np.sin(edges[1:]) - np.sin(edges[:-1])  # band area / (2 pi R^2)
    cell = np.radians(180.0 / n_rows) ** 2
    counts = np.maximum(1, np.rint(_TWO_PI * band / cell)).astype(np.int64)
    lat = 0.5 * (edges[1:] + edges[:-1])
    return lat, counts, band / 2.0


def equal_area_grid(resolution_deg: float = 1.0) -> Grid:
    """Global grid of near-equal-area points, ``resolution_deg`` apart (0.1 to 30 deg).

    Rows of height ``180 / round(180 / resolution_deg)`` deg; a row holds as many equally
    spaced points (offset half a spacing from -180) as cells of ``resolution_deg`` squared
    fit in its area. Weights are the exact row area divided among its points.
    """
    res = _check_resolution(resolution_deg)
    lat, counts, band_fraction = _equal_area_rows(res)
    start = np.concatenate([[0], np.cumsum(counts)])
    row = np.repeat(np.arange(lat.size), counts)
    j = np.arange(start[-1]) - start[row]
    lon = -np.pi + (j + 0.5) * _TWO_PI / counts[row]
    weight = (band_fraction / counts)[row]
    rows = _Rows(lat, start, True, None, None, None)
    return Grid(np.degrees(lat[row]), np.degrees(lon), weight, None, res, rows)


def _irregular_rows(lat_deg, lon_deg) -> _Rows:
    lat = np.radians(lat_deg)
    lon = np.radians((np.asarray(lon_deg) + 180.0) % 360.0 - 180.0)
    order = np.lexsort((lon, lat))
    row_lat, row_of = np.unique(lat[order], return_inverse=True)
    start = np.searchsorted(row_of, np.arange(row_lat.size + 1))
    lon_key = lon[order] + np.pi
    to_grid = np.empty_like(order)
    to_grid[order] = np.arange(order.size)
    return _Rows(row_lat, start, False, row_of * _ROW_KEY + lon_key, lon_key, to_grid)


def target_grid(lat_deg, lon_deg, names=None) -> Grid:
    """A user list of places (cities, stations): latitudes and longitudes in degrees."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=float)).ravel()
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=float)).ravel()
    if lat.size == 0 or lat.shape != lon.shape:
        raise InputError(_SOURCE, "targets", "one or more (latitude, longitude) pairs",
                         f"{lat.size} latitudes and {lon.size} longitudes")
    if not (np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90.0) and np.all(np.isfinite(lon))):
        raise InputError(_SOURCE, "targets", "latitudes in [-90, 90] deg and finite longitudes",
                         list(zip(lat.tolist(), lon.tolist())))
    if names is not None:
        names = tuple(str(n) for n in names)
        if len(names) != lat.size:
            raise InputError(_SOURCE, "target names", f"one name per target ({lat.size})", names)
    lon = (lon + 180.0) % 360.0 - 180.0
    return Grid(lat, lon, np.full(lat.size, 1.0 / lat.size), names, None, _irregular_rows(lat, lon))


def region_grid(region, resolution_deg: float = 1.0) -> Grid:
    """Points of the equal-area grid inside ``region``, a shapely (Multi)Polygon in lon/lat degrees.

    Raises InputError when the region is empty or holds no grid point (try a finer grid).
    """
    import shapely

    res = _check_resolution(resolution_deg)
    if region is None or getattr(region, "is_empty", True) or region.area <= 0.0:
        raise InputError(_SOURCE, "region", "a non-empty polygon in lon/lat degrees", region)
    full = equal_area_grid(res)
    inside = shapely.contains_xy(region, full.lon_deg, full.lat_deg)
    if not inside.any():
        raise InputError(_SOURCE, "region", f"a polygon holding at least one point of the "
                         f"{res} deg grid (use a finer grid_deg)", region.bounds)
    weight = full.weight[inside] / full.weight[inside].sum()
    lat, lon = full.lat_deg[inside], full.lon_deg[inside]
    return Grid(lat, lon, weight, None, res, _irregular_rows(lat, lon))


# --------------------------------------------------------------------------------------
# Kernels


def _cap_angles(r_km, valid, min_elevation_deg, cap_angle_deg):
    """Unit vectors ``(..., 3)`` and cap angle (rad, -1 where invalid) of positions ``(..., 3)``."""
    r = np.asarray(r_km, dtype=float)
    radius = np.sqrt(np.einsum("...i,...i->...", r, r))
    safe = np.where(radius > 0.0, radius, 1.0)
    u = r / safe[..., None]
    if cap_angle_deg is not None:
        if not 0.0 < float(cap_angle_deg) < 180.0:
            raise InputError(_SOURCE, "cap_angle_deg", "an Earth central angle in (0, 180) deg", cap_angle_deg)
        psi = np.full(radius.shape, np.radians(float(cap_angle_deg)))
    else:
        el = np.radians(check_min_elevation_deg(min_elevation_deg, _SOURCE))
        psi = cap_angle_rad(safe, el, EARTH_MEAN_RADIUS_KM)
    ok = radius > 0.0
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    return u, np.where(ok, psi, -1.0)


def _interval_events(u, psi, time_index, rows: _Rows, stride: int):
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
    if rows.regular:
        step = _TWO_PI / n_b
        j_lo = np.ceil((lon0 - w + np.pi) / step - 0.5).astype(np.int64)
        j_hi = np.floor((lon0 + w + np.pi) / step - 0.5).astype(np.int64)
        count = j_hi - j_lo + 1
        full |= part & (count >= n_b)
        part &= (count > 0) & (count < n_b)
        first = np.mod(j_lo, n_b)
        end = first + count
        # Flatten the partial rows: [first, end) within the row, wrapping past its end.
        sel = np.flatnonzero(part)
        t = np.broadcast_to(time_index[:, None], b.shape).ravel()
        base_p, first_p, end_p, n_p, t_p = (x.ravel()[sel] for x in (base, first, end, n_b, t))
        lo1 = base_p + first_p
        hi1 = base_p + np.minimum(end_p, n_p)
        wrap = end_p > n_p
        lo2 = base_p[wrap]
        hi2 = base_p[wrap] + end_p[wrap] - n_p[wrap]
        t2 = t_p[wrap]
    else:
        lo = np.mod(lon0 - w + np.pi, _TWO_PI)  # in [0, 2 pi)
        hi = lo + 2.0 * w
        sel = np.flatnonzero(part)
        t = np.broadcast_to(time_index[:, None], b.shape).ravel()
        b_p, lo_p, hi_p, base_p, n_p, t_p = (x.ravel()[sel] for x in (b, lo, hi, base, n_b, t))
        key = rows.key
        lo1 = np.searchsorted(key, b_p * _ROW_KEY + lo_p, side="left")
        wrap = hi_p >= _TWO_PI
        hi1 = np.where(wrap, base_p + n_p,
                       np.searchsorted(key, b_p * _ROW_KEY + np.minimum(hi_p, _TWO_PI - 1e-12), side="right"))
        lo2 = base_p[wrap]
        hi2 = np.searchsorted(key, b_p[wrap] * _ROW_KEY + hi_p[wrap] - _TWO_PI, side="right")
        t2 = t_p[wrap]
    fsel = np.flatnonzero(full)
    t_full = np.broadcast_to(time_index[:, None], b.shape).ravel()[fsel]
    base_f = base.ravel()[fsel]
    n_f = n_b.ravel()[fsel]
    plus = np.concatenate([t_p * stride + lo1, t2 * stride + lo2, t_full * stride + base_f])
    minus = np.concatenate([t_p * stride + hi1, t2 * stride + hi2, t_full * stride + base_f + n_f])
    return plus, minus


def _counts_block(u, psi, rows: _Rows, n_points: int, n_time: int) -> np.ndarray:
    """Satellites in view, ``(n_time, n_points)`` in kernel order, from ``u`` (n_sat, n_time, 3)."""
    n_sat = u.shape[0]
    stride = n_points + 1
    time_index = np.broadcast_to(np.arange(n_time), (n_sat, n_time)).ravel()
    plus, minus = _interval_events(u.reshape(-1, 3), psi.ravel(), time_index, rows, stride)
    size = n_time * stride
    diff = np.bincount(plus, minlength=size)[:size] - np.bincount(minus, minlength=size)[:size]
    return np.cumsum(diff.reshape(n_time, stride), axis=1)[:, :n_points]


@functools.cache
def _numba_kernels():
    """The numba-compiled kernels, or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return _compile_numba(numba)


def _compile_numba(numba):
    njit = numba.njit(parallel=True, cache=True)
    prange = numba.prange

    @njit
    def counts(u, psi, row_lat, row_sin, row_cos, start, regular, lon_key, out):
        """Fill ``out`` (n_time, n_point + 1), zeroed, with satellites in view (first n_point columns)."""
        n_sat, n_time = psi.shape
        n_points = out.shape[1] - 1
        two_pi = 2.0 * math.pi
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
                        continue
                    w = math.acos(c)
                    if regular:
                        step = two_pi / n
                        j_lo = int(math.ceil((lon_s - w + math.pi) / step - 0.5))
                        j_hi = int(math.floor((lon_s + w + math.pi) / step - 0.5))
                        count = j_hi - j_lo + 1
                        if count <= 0:
                            continue
                        if count >= n:
                            diff[base] += 1
                            diff[base + n] -= 1
                            continue
                        first = j_lo % n
                        end = first + count
                        diff[base + first] += 1
                        if end <= n:
                            diff[base + end] -= 1
                        else:
                            diff[base + n] -= 1
                            diff[base] += 1
                            diff[base + end - n] -= 1
                    else:
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
            running = 0
            for p in range(n_points):
                running += diff[p]
                diff[p] = running

    @njit
    def accumulate(counts, k, sun, up, sin_night, with_night, night_only, t_offset, covered, in_view,
                   dark_n, night_covered, passes, n_gaps, gap_sum, gap_max, response_sum, prev, gap_start):
        n_time, n_points = counts.shape
        for p in prange(n_points):
            was = prev[p]
            g0 = gap_start[p]
            for t in range(n_time):
                c = counts[t, p]
                cov = c >= k
                in_view[p] += c
                if cov:
                    covered[p] += 1
                use = cov
                if with_night:
                    dark = sun[t, 0] * up[p, 0] + sun[t, 1] * up[p, 1] + sun[t, 2] * up[p, 2] < sin_night
                    if dark:
                        dark_n[p] += 1
                        if cov:
                            night_covered[p] += 1
                    if night_only:
                        use = cov and dark
                tg = t_offset + t
                if use and not was:
                    passes[p] += 1
                    m = tg - g0
                    if m > 0:
                        n_gaps[p] += 1
                        gap_sum[p] += m
                        response_sum[p] += 0.5 * m * (m + 1.0)
                        if m > gap_max[p]:
                            gap_max[p] = m
                elif was and not use:
                    g0 = tg
                was = use
            prev[p] = was
            gap_start[p] = g0

    return counts, accumulate


def _backend(backend: str) -> str:
    if backend not in ("auto", "numba", "numpy"):
        raise InputError(_SOURCE, "backend", "'auto', 'numba' or 'numpy'", backend)
    if backend == "numpy":
        return "numpy"
    if _numba_kernels() is None:
        if backend == "numba":
            raise InputError(_SOURCE, "backend", "numba installed (pip install numba), or backend='numpy'",
                             backend)
        return "numpy"
    return "numba"


def _counts_block_numba(u, psi, rows: _Rows, n_points: int) -> np.ndarray:
    kernel = _numba_kernels()[0]
    out = np.zeros((u.shape[1], n_points + 1), np.int32)
    lon_key = rows.lon_key if rows.lon_key is not None else np.zeros(1)
    kernel(np.ascontiguousarray(u), np.ascontiguousarray(psi), rows.lat_rad, np.sin(rows.lat_rad),
           np.cos(rows.lat_rad), rows.start, rows.regular, lon_key, out)
    return out[:, :n_points]


def covering_counts(r_km, grid: Grid, min_elevation_deg: float = 20.0, *, valid=None,
                    cap_angle_deg: float | None = None, chunk_states: int = 60_000,
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
        raise InputError(_SOURCE, "r_km", "positions of shape (n_sat, n_time, 3)", r.shape)
    n_sat, n_time = r.shape[:2]
    use_numba = _backend(backend) == "numba"
    u, psi = _cap_angles(r, valid, min_elevation_deg, cap_angle_deg)
    out = np.empty((n_time, grid.size), np.int32)
    block = max(1, min(chunk_states // max(n_sat, 1), 4_000_000 // max(grid.size, 1)))
    for t0 in range(0, n_time, block):
        t1 = min(n_time, t0 + block)
        out[t0:t1] = _counts_chunk(u[:, t0:t1], psi[:, t0:t1], grid, use_numba)
    return out


def _counts_chunk(u, psi, grid: Grid, use_numba: bool) -> np.ndarray:
    """Counts ``(n_time, n_point)`` in grid order (a view of the kernel buffer for regular grids)."""
    if use_numba:
        counts = _counts_block_numba(u, psi, grid._rows, grid.size)
    else:
        counts = _counts_block(u, psi, grid._rows, grid.size, u.shape[1])
    return counts if grid._rows.to_grid is None else counts[:, grid._rows.to_grid]


def covering_counts_dense(r_km, grid: Grid, min_elevation_deg: float = 20.0, *, valid=None,
                          cap_angle_deg: float | None = None) -> np.ndarray:
    """Brute-force reference for :func:`covering_counts`: every satellite x point x time.

    A point is covered when ``u_point . u_sat >= cos(cap angle)``. Memory ~ n_sat x n_point
    per time step; for tests and small cases.
    """
    r = np.asarray(r_km, dtype=float)
    u, psi = _cap_angles(r, valid, min_elevation_deg, cap_angle_deg)
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
    u, psi = _cap_angles(r, valid, 0.0, None)
    if not 1 <= k <= r.shape[0]:
        raise InputError(_SOURCE, "k", f"a coverage fold between 1 and the number of satellites "
                         f"({r.shape[0]})", k)
    p = grid.unit_vectors()
    worst = -1.0
    for t in range(r.shape[1]):
        dots = np.where((psi[:, t] >= 0.0)[:, None], u[:, t] @ p.T, -2.0)
        kth = -np.partition(-dots, k - 1, axis=0)[k - 1]  # k-th largest cosine per point
        worst = max(worst, float(np.arccos(np.clip(kth.min(), -1.0, 1.0))))
    return float(np.degrees(worst))


# --------------------------------------------------------------------------------------
# Statistics over time


class _Accumulator:
    """Per-point statistics streamed over time chunks (memory ~ n_point).

    ``usable`` is covered (>= k in view), or covered and dark when ``night_only``. Gaps are
    maximal runs of unusable samples; a gap open at the end is closed by :meth:`finish`.
    """

    def __init__(self, grid: Grid, k: int, sin_night, night_only: bool, use_numba: bool):
        n = grid.size
        self.k = int(k)
        self.up = grid.unit_vectors()
        self.sin_night = sin_night
        self.with_night = sin_night is not None
        self.night_only = bool(night_only and self.with_night)
        self.use_numba = use_numba
        self.n = 0
        self.covered = np.zeros(n, np.int64)
        self.in_view = np.zeros(n, np.float64)
        self.dark = np.zeros(n, np.int64)
        self.night_covered = np.zeros(n, np.int64)
        self.passes = np.zeros(n, np.int64)
        self.n_gaps = np.zeros(n, np.int64)
        self.gap_sum = np.zeros(n, np.float64)
        self.gap_max = np.zeros(n, np.int64)
        self.response_sum = np.zeros(n, np.float64)
        self.prev = np.zeros(n, bool)
        self.gap_start = np.zeros(n, np.int64)

    def add(self, counts, sun):
        """Fold in ``counts`` (n_t, n_point) satellites in view and ``sun`` (n_t, 3) or None."""
        n_t = counts.shape[0]
        if self.use_numba:
            sun_arr = np.zeros((n_t, 3)) if sun is None else np.ascontiguousarray(sun, dtype=float)
            _numba_kernels()[1](
                counts, self.k, sun_arr, self.up,
                0.0 if self.sin_night is None else float(self.sin_night), self.with_night,
                self.night_only, self.n, self.covered, self.in_view, self.dark, self.night_covered,
                self.passes, self.n_gaps, self.gap_sum, self.gap_max, self.response_sum, self.prev,
                self.gap_start)
            self.n += n_t
            return
        covered = counts >= self.k
        self.covered += np.count_nonzero(covered, axis=0)
        self.in_view += counts.sum(axis=0)
        usable = covered
        if self.with_night:
            dark = (np.asarray(sun, dtype=float) @ self.up.T) < self.sin_night
            self.dark += np.count_nonzero(dark, axis=0)
            self.night_covered += np.count_nonzero(covered & dark, axis=0)
            if self.night_only:
                usable = covered & dark
        change = np.empty_like(usable)
        change[0] = usable[0] != self.prev
        change[1:] = usable[1:] != usable[:-1]
        p, t = np.nonzero(change.T)  # sorted by point, then time
        t_global = t + self.n
        rising = usable[t, p]
        same_point = np.zeros(p.size, bool)
        same_point[1:] = p[1:] == p[:-1]
        prev_t = np.zeros_like(t_global)
        prev_t[1:] = t_global[:-1]
        start = np.where(same_point, prev_t, self.gap_start[p])
        pr, gap = p[rising], (t_global - start)[rising]
        self.passes += np.bincount(pr, minlength=self.passes.size)
        self._add_gaps(pr[gap > 0], gap[gap > 0])
        last = np.ones(p.size, bool)
        last[:-1] = p[1:] != p[:-1]
        falls = last & ~rising
        self.gap_start[p[falls]] = t_global[falls]
        self.prev = usable[-1].copy()
        self.n += n_t

    def _add_gaps(self, p, m):
        size = self.n_gaps.size
        m = np.asarray(m, dtype=np.float64)
        self.n_gaps += np.bincount(p, minlength=size)
        self.gap_sum += np.bincount(p, weights=m, minlength=size)
        self.response_sum += np.bincount(p, weights=m * (m + 1.0) / 2.0, minlength=size)
        np.maximum.at(self.gap_max, p, m.astype(np.int64))

    def finish(self):
        open_gap = np.flatnonzero(~self.prev)
        self._add_gaps(open_gap, self.n - self.gap_start[open_gap])
        self.prev[:] = True


@dataclass
class CoverageResult:
    """Per-point coverage statistics (arrays in grid order) and the settings that made them."""

    grid: Grid
    step_s: float
    n_time: int
    k: int
    min_elevation_deg: float | None
    cap_angle_deg: float | None
    night_only: bool
    night_sun_elevation_deg: float | None
    coverage_fraction: np.ndarray
    night_fraction: np.ndarray | None
    night_coverage_fraction: np.ndarray | None
    passes: np.ndarray
    gap_count: np.ndarray
    mean_gap_s: np.ndarray
    max_gap_s: np.ndarray
    mean_response_s: np.ndarray
    mean_in_view: np.ndarray
    invalid_states: int = 0
    _gap_sum_s: np.ndarray = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return self.n_time * self.step_s

    def _figures(self, sel) -> dict:
        w = self.grid.weight[sel]
        total = float(w.sum())
        wn = w / total if total > 0 else w
        gaps = float(np.dot(w, self.gap_count[sel]))
        out = {
            "area_fraction": total,
            "n_points": int(np.count_nonzero(sel) if sel.dtype == bool else len(sel)),
            "coverage_fraction": _fraction(np.dot(wn, self.coverage_fraction[sel])),
            "mean_revisit_gap_s": float(np.dot(w, self._gap_sum_s[sel]) / gaps) if gaps > 0 else 0.0,
            "max_revisit_gap_s": float(self.max_gap_s[sel].max(initial=0.0)),
            "mean_response_time_s": float(np.dot(wn, self.mean_response_s[sel])),
            "mean_passes": float(np.dot(wn, self.passes[sel])),
            "mean_in_view": float(np.dot(wn, self.mean_in_view[sel])),
        }
        if self.night_fraction is not None:
            out["night_fraction"] = _fraction(np.dot(wn, self.night_fraction[sel]))
            out["night_coverage_fraction"] = _fraction(np.dot(wn, self.night_coverage_fraction[sel]))
        return out

    def summary(self) -> dict:
        """Area-weighted global figures (JSON-ready).

        ``global_coverage_fraction``: area-weighted fraction of point-time with >= k
        satellites in view (night or day). ``mean_revisit_gap_s``: mean length of all gaps
        in usable coverage, area-weighted. ``max_revisit_gap_s``: longest gap at any point.
        """
        fig = self._figures(np.ones(self.grid.size, bool))
        out = {
            "n_points": self.grid.size,
            "grid_resolution_deg": self.grid.resolution_deg,
            "n_times": self.n_time,
            "step_s": self.step_s,
            "duration_s": self.duration_s,
            "min_elevation_deg": self.min_elevation_deg,
            "cap_angle_deg": self.cap_angle_deg,
            "k": self.k,
            "night_only": self.night_only,
            "night_sun_elevation_deg": self.night_sun_elevation_deg,
            "global_coverage_fraction": fig["coverage_fraction"],
            "mean_revisit_gap_s": fig["mean_revisit_gap_s"],
            "max_revisit_gap_s": fig["max_revisit_gap_s"],
            "mean_response_time_s": fig["mean_response_time_s"],
            "mean_passes_per_point": fig["mean_passes"],
            "mean_satellites_in_view": fig["mean_in_view"],
            "invalid_states": self.invalid_states,
        }
        if self.night_fraction is not None:
            out["global_night_fraction"] = fig["night_fraction"]
            out["global_night_coverage_fraction"] = fig["night_coverage_fraction"]
        return out

    def latitude_bands(self, width_deg: float = 10.0) -> list[dict]:
        """The summary figures per latitude band of ``width_deg`` (bands without points left out)."""
        if not 0.0 < float(width_deg) <= 180.0:
            raise InputError(_SOURCE, "band width_deg", "a width in (0, 180] deg", width_deg)
        edges = np.arange(-90.0, 90.0 + 1e-9, float(width_deg))
        if edges[-1] < 90.0:
            edges = np.append(edges, 90.0)
        band = np.clip(np.searchsorted(edges, self.grid.lat_deg, side="right") - 1, 0, edges.size - 2)
        out = []
        for i in range(edges.size - 1):
            sel = band == i
            if sel.any():
                out.append({"lat_min_deg": float(edges[i]), "lat_max_deg": float(edges[i + 1]),
                            **self._figures(sel)})
        return out

    def table(self) -> dict:
        """Per-point columns (name -> array) for a CSV/Parquet writer; never NaN."""
        cols = {"latitude_deg": self.grid.lat_deg, "longitude_deg": self.grid.lon_deg,
                "area_weight": self.grid.weight}
        if self.grid.names is not None:
            cols = {"name": np.asarray(self.grid.names, dtype=object), **cols}
        cols.update({"coverage_fraction": self.coverage_fraction, "passes": self.passes,
                     "mean_gap_s": self.mean_gap_s, "max_gap_s": self.max_gap_s,
                     "mean_response_s": self.mean_response_s, "mean_in_view": self.mean_in_view})
        if self.night_fraction is not None:
            cols["night_fraction"] = self.night_fraction
            cols["night_coverage_fraction"] = self.night_coverage_fraction
        return cols


def _fraction(x) -> float:
    """An area-weighted fraction, with the last-bit rounding of the weighted sum removed."""
    return float(min(1.0, max(0.0, round(float(x), 15))))


def _check_common(step_s, k, night_sun_elevation_deg):
    if not (np.isfinite(step_s) and step_s > 0.0):
        raise InputError(_SOURCE, "step_s", "a time step > 0 s", step_s)
    if int(k) != k or k < 1:
        raise InputError(_SOURCE, "k", "a coverage fold k >= 1 (satellites in view at once)", k)
    if night_sun_elevation_deg is not None and not -90.0 <= night_sun_elevation_deg <= 90.0:
        raise InputError(_SOURCE, "night_sun_elevation_deg", "a Sun elevation in [-90, 90] deg",
                         night_sun_elevation_deg)


def _run(blocks, grid, step_s, k, min_elevation_deg, cap_angle_deg, night_sun_elevation_deg,
         night_only, backend) -> CoverageResult:
    """Shared driver: ``blocks`` yields ``(r_km (n_sat, n_t, 3), valid, sun_unit (n_t, 3) or None)``."""
    with_night = night_sun_elevation_deg is not None
    use_numba = _backend(backend) == "numba"
    sin_night = float(np.sin(np.radians(night_sun_elevation_deg))) if with_night else None
    acc = _Accumulator(grid, k, sin_night, night_only, use_numba)
    invalid = 0
    for r, valid, sun in blocks:
        if valid is not None:
            invalid += int(np.size(valid) - np.count_nonzero(valid))
        r = np.asarray(r, dtype=float)
        if r.ndim != 3 or r.shape[-1] != 3:
            raise InputError(_SOURCE, "r_km", "positions of shape (n_sat, n_time, 3)", r.shape)
        u, psi = _cap_angles(r, valid, min_elevation_deg, cap_angle_deg)
        acc.add(_counts_chunk(u, psi, grid, use_numba), sun)
    acc.finish()
    n = max(acc.n, 1)
    return CoverageResult(
        grid=grid, step_s=float(step_s), n_time=acc.n, k=int(k),
        min_elevation_deg=None if cap_angle_deg is not None else float(min_elevation_deg),
        cap_angle_deg=None if cap_angle_deg is None else float(cap_angle_deg),
        night_only=acc.night_only, night_sun_elevation_deg=night_sun_elevation_deg,
        coverage_fraction=acc.covered / n,
        night_fraction=acc.dark / n if with_night else None,
        night_coverage_fraction=acc.night_covered / n if with_night else None,
        passes=acc.passes, gap_count=acc.n_gaps,
        mean_gap_s=acc.gap_sum / np.maximum(acc.n_gaps, 1) * step_s,
        max_gap_s=acc.gap_max * float(step_s),
        mean_response_s=acc.response_sum / n * step_s,
        mean_in_view=acc.in_view / n,
        invalid_states=invalid, _gap_sum_s=acc.gap_sum * step_s,
    )


def coverage(propagator, grid: Grid, duration_s: float, step_s: float = 60.0, *, start_s: float = 0.0,
             min_elevation_deg: float = 20.0, k: int = 1, night_sun_elevation_deg: float | None = None,
             night_only: bool = False, cap_angle_deg: float | None = None, sun=None,
             chunk_states: int = 60_000, backend: str = "auto") -> CoverageResult:
    """Coverage of ``grid`` by the satellites of ``propagator`` over ``[start_s, start_s + duration_s)``.

    Samples at ``start_s + i * step_s`` for ``i < round(duration_s / step_s)``; positions are
    propagated ``chunk_states`` satellite-states at a time, so memory stays ~ that times
    (rows touched + 10) x 8 bytes plus a few arrays of n_point, whatever the span.

    Parameters
    ----------
    propagator : constellation.propagation.Propagator
    grid : Grid
    min_elevation_deg : float
        Elevation mask in [0, 90) deg (ignored when ``cap_angle_deg`` is given).
    k : int
        Satellites needed in view at once.
    night_sun_elevation_deg : float, optional
        Compute night statistics: a point is dark when the Sun is below this elevation
        (e.g. -12). ``sun`` may pass a :class:`constellation.sun.SunTrack` covering the span.
    night_only : bool
        Passes, gaps and response count only coverage in the dark.
    """
    _check_common(step_s, k, night_sun_elevation_deg)
    if not (np.isfinite(duration_s) and duration_s >= step_s):
        raise InputError(_SOURCE, "duration_s", f"a duration of at least one step ({step_s} s)", duration_s)
    check_min_elevation_deg(min_elevation_deg, _SOURCE)
    n_time = int(round(duration_s / step_s))
    t_all = start_s + step_s * np.arange(n_time)
    if night_sun_elevation_deg is not None and sun is None:
        from ..core.sun import SunTrack

        sun = SunTrack(propagator.timebase, float(t_all[0]), float(t_all[-1]))
    block = max(1, chunk_states // max(len(propagator), 1))

    def blocks():
        for i in range(0, n_time, block):
            t = t_all[i:i + block]
            states = propagator.states(t)
            s = sun.unit_ecef(t, states.gmst_rad) if night_sun_elevation_deg is not None else None
            yield states.r_km, states.valid, s

    return _run(blocks(), grid, step_s, k, min_elevation_deg, cap_angle_deg,
                night_sun_elevation_deg, night_only, backend)


def coverage_from_positions(r_km, step_s: float, grid: Grid, *, valid=None, min_elevation_deg: float = 20.0,
                            k: int = 1, sun_unit_ecef=None, night_sun_elevation_deg: float | None = None,
                            night_only: bool = False, cap_angle_deg: float | None = None,
                            chunk_steps: int | None = None, backend: str = "auto") -> CoverageResult:
    """:func:`coverage` on Earth-fixed positions already computed, ``r_km`` shape (n_sat, n_time, 3).

    ``sun_unit_ecef`` (n_time, 3) is needed for night statistics.
    """
    _check_common(step_s, k, night_sun_elevation_deg)
    r = np.asarray(r_km, dtype=float)
    if r.ndim != 3 or r.shape[-1] != 3 or r.shape[1] == 0:
        raise InputError(_SOURCE, "r_km", "positions of shape (n_sat, n_time >= 1, 3)", r.shape)
    if night_sun_elevation_deg is not None and sun_unit_ecef is None:
        raise InputError(_SOURCE, "sun_unit_ecef", "Sun directions (n_time, 3) for night statistics", None)
    n_time = r.shape[1]
    block = chunk_steps or max(1, 60_000 // max(r.shape[0], 1))

    def blocks():
        for i in range(0, n_time, block):
            v = None if valid is None else np.asarray(valid)[:, i:i + block]
            s = None if sun_unit_ecef is None else np.asarray(sun_unit_ecef, dtype=float)[i:i + block]
            yield r[:, i:i + block], v, s

    return _run(blocks(), grid, step_s, k, min_elevation_deg, cap_angle_deg,
                night_sun_elevation_deg, night_only, backend)
