"""Coverage over a time span: per-point statistics streamed chunk by chunk, and their summary.

Drivers (return :class:`CoverageResult`)
    coverage(propagator, grid, duration_s, step_s, ...)   propagates chunk by chunk (bounded
                                                          memory), optional night statistics
    coverage_from_positions(r_km, step_s, grid, ...)      the same on positions you already have

Each chunk of states is counted by :mod:`.kernels` (satellites in view of each point of a
:mod:`.grid`) and folded into per-point statistics that need memory ~ n_point only. Each
time sample stands for ``step_s`` of time.

Per point (``CoverageResult`` arrays, in grid order): ``coverage_fraction`` (time usable:
with >= k satellites in view, and dark too when ``night_only``), ``night_fraction`` (Sun below the night threshold),
``night_coverage_fraction`` (covered and dark), ``passes`` (maximal runs of usable samples,
a run in progress at the start included), ``mean_gap_s`` / ``max_gap_s`` (runs without
coverage, including the runs cut by the start and end of the span; 0 for a point never
without coverage), ``mean_response_s`` (time from a random instant to the next usable
sample, averaged over the span; 0 while covered) and ``mean_in_view``. "Usable" means
covered, or covered and dark when ``night_only`` is set. ``result.summary()`` gives the
area-weighted global figures (``global_coverage_fraction``, ``mean_revisit_gap_s``,
``max_revisit_gap_s``, ...) and ``result.latitude_bands(width_deg)`` the same per band.
With numba installed the statistics are one compiled pass per point.

Typical use (what ``constellation coverage`` does, through :mod:`constellation.pipeline`)::

    from constellation.api import load_scenario, propagator_for
    scenario = load_scenario("scenarios/2027-global.toml")
    result = coverage(propagator_for(scenario), equal_area_grid(2.0), scenario.duration_s, 60.0,
                      min_elevation_deg=20.0, night_sun_elevation_deg=-12.0, night_only=True)
    result.summary()             # JSON-ready dict, area-weighted global figures
    result.latitude_bands(10.0)  # list of dicts
    result.table()               # per-point columns for CSV/Parquet

Bad arguments raise :class:`~constellation.errors.ParameterError` (a ``ValueError``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..constants import COVERAGE_CHUNK_STATES
from ..core.sun import SunTrack
from ..errors import ParameterError
from .caps import check_min_elevation_deg
from .grid import Grid
from .kernels import counts_in_grid_order, resolve_backend, satellite_caps


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
        if self.use_numba:
            self._add_numba(counts, sun)
        else:
            self._add_numpy(counts, sun)
        self.n += counts.shape[0]

    def _add_numba(self, counts, sun):
        """:meth:`add` in one compiled pass per point."""
        sun_arr = np.zeros((counts.shape[0], 3)) if sun is None else np.ascontiguousarray(sun, dtype=float)
        _numba_accumulate()(
            counts, self.k, sun_arr, self.up,
            0.0 if self.sin_night is None else float(self.sin_night), self.with_night,
            self.night_only, self.n, self.covered, self.in_view, self.dark, self.night_covered,
            self.passes, self.n_gaps, self.gap_sum, self.gap_max, self.response_sum, self.prev,
            self.gap_start)

    def _add_numpy(self, counts, sun):
        """:meth:`add` with numpy: the changes between usable and unusable, per point."""
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

    def _add_gaps(self, p, m):
        """Count gaps of ``m`` samples at points ``p``."""
        size = self.n_gaps.size
        m = np.asarray(m, dtype=np.float64)
        self.n_gaps += np.bincount(p, minlength=size)
        self.gap_sum += np.bincount(p, weights=m, minlength=size)
        self.response_sum += np.bincount(p, weights=m * (m + 1.0) / 2.0, minlength=size)
        np.maximum.at(self.gap_max, p, m.astype(np.int64))

    def finish(self):
        """Close the gaps still open at the end of the span."""
        open_gap = np.flatnonzero(~self.prev)
        self._add_gaps(open_gap, self.n - self.gap_start[open_gap])
        self.prev[:] = True


@functools.cache
def _numba_accumulate():
    """The numba-compiled statistics pass, or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return _compile_accumulate(numba)


def _compile_accumulate(numba):
    """Compile :meth:`_Accumulator.add` for numba: one pass per point (parallel over points)."""
    prange = numba.prange

    @numba.njit(parallel=True, cache=True)
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

    return accumulate


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

        ``global_coverage_fraction``: area-weighted fraction of point-time that is usable:
        >= k satellites in view (night or day), or in view and dark with ``night_only`` (then
        it equals ``global_night_coverage_fraction``; divide by ``global_night_fraction`` for
        the share of the dark time that is covered). ``mean_revisit_gap_s``: mean length of all gaps
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
            raise ParameterError("band width_deg", "a width in (0, 180] deg", width_deg)
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
    """ParameterError unless the step, the fold ``k`` and the night threshold make sense."""
    if not (np.isfinite(step_s) and step_s > 0.0):
        raise ParameterError("step_s", "a time step > 0 s", step_s)
    if int(k) != k or k < 1:
        raise ParameterError("k", "a coverage fold k >= 1 (satellites in view at once)", k)
    if night_sun_elevation_deg is not None and not -90.0 <= night_sun_elevation_deg <= 90.0:
        raise ParameterError("night_sun_elevation_deg", "a Sun elevation in [-90, 90] deg", night_sun_elevation_deg)


def _drive(blocks, grid, step_s, k, min_elevation_deg, cap_angle_deg, night_sun_elevation_deg,
           night_only, backend, progress=None, n_time=None) -> CoverageResult:
    """Shared driver: ``blocks`` yields ``(r_km (n_sat, n_t, 3), valid, sun_unit (n_t, 3) or None)``;
    ``progress(done, n_time)`` is called with the time samples counted so far."""
    with_night = night_sun_elevation_deg is not None
    use_numba = resolve_backend(backend) == "numba"
    sin_night = float(np.sin(np.radians(night_sun_elevation_deg))) if with_night else None
    acc = _Accumulator(grid, k, sin_night, night_only, use_numba)
    invalid = 0
    if progress is not None:
        progress(0, n_time)
    for r, valid, sun in blocks:
        if valid is not None:
            invalid += int(np.size(valid) - np.count_nonzero(valid))
        r = np.asarray(r, dtype=float)
        if r.ndim != 3 or r.shape[-1] != 3:
            raise ParameterError("r_km", "positions of shape (n_sat, n_time, 3)", r.shape)
        u, psi = satellite_caps(r, valid, min_elevation_deg, cap_angle_deg)
        acc.add(counts_in_grid_order(u, psi, grid, use_numba), sun)
        if progress is not None:
            progress(acc.n, n_time)
    acc.finish()
    n = max(acc.n, 1)
    return CoverageResult(
        grid=grid, step_s=float(step_s), n_time=acc.n, k=int(k),
        min_elevation_deg=None if cap_angle_deg is not None else float(min_elevation_deg),
        cap_angle_deg=None if cap_angle_deg is None else float(cap_angle_deg),
        night_only=acc.night_only, night_sun_elevation_deg=night_sun_elevation_deg,
        coverage_fraction=(acc.night_covered if acc.night_only else acc.covered) / n,  # usable time
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
             chunk_states: int = COVERAGE_CHUNK_STATES, backend: str = "auto", progress=None) -> CoverageResult:
    """Coverage of ``grid`` by the satellites of ``propagator`` over ``[start_s, start_s + duration_s)``.

    Samples at ``start_s + i * step_s`` for ``i < round(duration_s / step_s)``; positions are
    propagated ``chunk_states`` satellite-states at a time, so memory stays ~ that times
    (rows touched + 10) x 8 bytes plus a few arrays of n_point, whatever the span.

    Parameters
    ----------
    propagator : constellation.core.propagation.Propagator
    grid : Grid
    min_elevation_deg : float
        Elevation mask in [0, 90) deg (ignored when ``cap_angle_deg`` is given).
    k : int
        Satellites needed in view at once.
    night_sun_elevation_deg : float, optional
        Compute night statistics: a point is dark when the Sun is below this elevation
        (e.g. -12). ``sun`` may pass a :class:`constellation.core.sun.SunTrack` covering the span.
    night_only : bool
        Passes, gaps and response count only coverage in the dark.
    progress : callable, optional
        ``progress(done, total)``: the time samples counted so far, of ``total``, after each chunk.
    """
    _check_common(step_s, k, night_sun_elevation_deg)
    if not (np.isfinite(duration_s) and duration_s >= step_s):
        raise ParameterError("duration_s", f"a duration of at least one step ({step_s} s)", duration_s)
    check_min_elevation_deg(min_elevation_deg)
    n_time = int(round(duration_s / step_s))
    t_all = start_s + step_s * np.arange(n_time)
    if night_sun_elevation_deg is not None and sun is None:
        sun = SunTrack(propagator.timebase, float(t_all[0]), float(t_all[-1]))
    block = max(1, chunk_states // max(len(propagator), 1))

    def blocks():
        for i in range(0, n_time, block):
            t = t_all[i:i + block]
            states = propagator.states(t)
            s = sun.unit_ecef(t, states.gmst_rad) if night_sun_elevation_deg is not None else None
            yield states.r_km, states.valid, s

    return _drive(blocks(), grid, step_s, k, min_elevation_deg, cap_angle_deg,
                  night_sun_elevation_deg, night_only, backend, progress, n_time)


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
        raise ParameterError("r_km", "positions of shape (n_sat, n_time >= 1, 3)", r.shape)
    if night_sun_elevation_deg is not None and sun_unit_ecef is None:
        raise ParameterError("sun_unit_ecef", "Sun directions (n_time, 3) for night statistics", None)
    n_time = r.shape[1]
    block = chunk_steps or max(1, COVERAGE_CHUNK_STATES // max(r.shape[0], 1))

    def blocks():
        for i in range(0, n_time, block):
            v = None if valid is None else np.asarray(valid)[:, i:i + block]
            s = None if sun_unit_ecef is None else np.asarray(sun_unit_ecef, dtype=float)[i:i + block]
            yield r[:, i:i + block], v, s

    return _drive(blocks(), grid, step_s, k, min_elevation_deg, cap_angle_deg,
                  night_sun_elevation_deg, night_only, backend)
