"""Passes and night-time QKD windows, found for many satellites and stations at once.

Algorithm (state kept as numpy arrays throughout):

1. Propagate every satellite on a coarse grid (``step_s``, default 120 s) with one
   ``SatrecArray`` call per chunk of satellites (at most ``PASS_CHUNK_STATES`` coarse
   states at once, :mod:`constellation.constants`).
2. For each station, take ``h = sin(elevation)``. Every visibility interval contains a
   maximum of ``h``; samples that are local maxima are candidates. A candidate whose
   ``h`` could not reach the mask within one step is pruned: ``|dh/dt| <= |v| / range``.
3. Between samples, states come from quintic Hermite interpolation of the SGP4 positions
   and velocities and J2 accelerations (< 0.5 m at 120 s for LEO; see
   ``core.propagation.Track``), so refinement costs no more SGP4 calls. Culminations are
   refined with a batched bracketed root search on ``dh/dt``, then AOS/LOS on
   ``h - sin(mask)`` inside brackets taken from the coarse samples, and the closest
   approach on the range rate.
   A pass already in progress at the start or end of the span is cut there and flagged.
4. Horizon masks (elevation varying with azimuth) are resolved by sampling each pass at
   ``mask_step_s`` and refining every crossing.
5. The QKD window of a pass is the longest interval inside it where every constraint
   holds (Sun below the station threshold, satellite sunlit or eclipsed, range limit),
   found by sampling the pass at ``window_step_s`` and refining the edges. A pass longer
   than 12 h (a geostationary satellite never sets) is first cut at each local mean solar
   noon of its station, so every night has its own row and window; each piece has its own
   culmination and closest approach, searched over the whole piece (they may be at an edge).

All times are ``t_s``: seconds since the TimeBase start (TAI scale). The result is a
:class:`~constellation.passes.table.PassTable`.
"""

from __future__ import annotations

import numpy as np

from ..constants import DAY_S, PASS_CHUNK_STATES
from ..core import geometry
from ..core.propagation import Propagator, Track
from ..core.rootfind import illinois
from ..core.sun import SunTrack
from ..scenario.model import Constraints
from ..scenario.stations import Station
from .table import PassTable

# Root tolerances. Rise, set and window edges: 1 ms. Culmination and closest approach sit
# where the function is flat: 10 ms there moves range by < 1 cm and elevation by < 1e-5 deg
# except within a degree of the zenith (up to ~0.01 deg there).
_XTOL_S = 1e-3
_XTOL_EXTREMUM_S = 1e-2
# Passes longer than this are cut at local noon, one row (and QKD window) per night.
LONG_PASS_S = 43200.0
_SUN_STEP_S = 20.0
_BELOW = -2.0  # sin(elevation) assigned to samples SGP4 could not compute


def default_step_s(satrecs) -> float:
    """Coarse step: 120 s, shortened for short periods and for eccentric orbits.

    At most a fortieth of the shortest orbital period, far finer than the once-per-orbit
    maxima of the elevation that the pass search looks for. The interpolation of
    ``propagation.Track`` is limited by SGP4's velocity not being exactly the derivative of
    its position, a mismatch that grows with eccentricity: its error is ~0.5 m x (e / 0.01)
    x (step / 60 s) (measured, e = 0.01-0.7). The step 0.6 s / e (5 s at least) keeps it
    near 0.5 m, i.e. ~1 ms on rise and set.
    """
    if not satrecs:
        return 120.0
    mean_motion_rad_min = max(s.no_kozai for s in satrecs)
    period_s = 2 * np.pi / mean_motion_rad_min * 60.0
    eccentricity = max(s.ecco for s in satrecs)
    return float(min(120.0, period_s / 40.0, max(5.0, 0.6 / max(eccentricity, 1e-9))))


def find_passes(propagator: Propagator, stations: list[Station], duration_s: float,
                constraints: Constraints = Constraints(), *, satellite_names=None,
                step_s: float | None = None, sun=None, chunk_states: int = PASS_CHUNK_STATES,
                mask_step_s: float = 1.0, window_step_s: float = 30.0, progress=None) -> PassTable:
    """Find every pass of every satellite over every station in ``[0, duration_s]``.

    Parameters
    ----------
    propagator : Propagator
        The satellites and the time base.
    stations : list of Station
    duration_s : float
        Length of the span (s).
    constraints : Constraints
        What the QKD window of each pass must satisfy.
    sun : SunTrack, optional
        Required when ``constraints`` involve the Sun; built on demand otherwise.
    chunk_states : int
        Satellites are processed in chunks of at most this many coarse states.
    progress : callable, optional
        ``progress(done, total)``: called with ``(0, n_satellite)`` first, then with the
        satellites done after each chunk (an int). Within a chunk it hears fractional
        counts as the chunk's work goes on: the chunk's satellites times the share of its
        work done (after propagating, after each station's coarse search, after the
        refinement), estimated from :data:`_CHUNK_COST`.
    """
    n_sat = len(propagator)
    names = list(satellite_names) if satellite_names is not None else [f"sat{k}" for k in range(n_sat)]
    step = float(step_s) if step_s else default_step_s(propagator.satrecs)
    grid = np.arange(0.0, duration_s, step)
    grid = np.append(grid, duration_s) if grid.size == 0 or grid[-1] < duration_s else grid
    needs_sun = constraints.station_sun_max_elevation_deg is not None or constraints.satellite_sunlit is not None
    if needs_sun and sun is None:
        sun = SunTrack(propagator.timebase, 0.0, duration_s)
    geo = _StationGeometry(stations)
    if needs_sun:
        geo.tabulate_sun(sun, np.linspace(0.0, duration_s, int(np.ceil(duration_s / _SUN_STEP_S)) + 1))
    longitudes = np.array([s.longitude_deg for s in stations], dtype=float)
    start_s_of_day = _seconds_of_day(propagator.timebase.utc_iso(0.0, places=6)[0])
    parts = []
    errors = np.zeros(n_sat, dtype=np.int64)
    per_chunk = max(1, chunk_states // max(grid.size, 1))
    if progress is not None:
        progress(0, n_sat)
    for first in range(0, n_sat, per_chunk):
        chunk = np.arange(first, min(n_sat, first + per_chunk))
        steps = _ChunkProgress(progress, first, chunk.size, n_sat, len(stations))
        states = propagator.states(grid, chunk)
        steps.advance("propagate")
        errors[chunk] = (~states.valid).sum(axis=1)
        track = Track(states)
        found = _passes_in_chunk(track, geo, states, duration_s, steps)
        if found is not None:
            steps.advance("refine")
            found = _apply_masks(track, geo, found, mask_step_s)
            found, pieces = _split_long_passes(found, longitudes, start_s_of_day)
            _closest_approach(track, geo, found)
            _piece_extrema(track, geo, found, pieces)
            steps.advance("approach")
            _windows(track, geo, found, constraints, sun, window_step_s)
            found["satellite"] = chunk[found["satellite"]]
            parts.append(found)
        if progress is not None:
            progress(int(chunk[-1]) + 1, n_sat)
    table = _concatenate(parts)
    order = np.lexsort((table["aos_s"], table["station"], table["satellite"]))
    cols = {k: v[order] for k, v in table.items()}
    return PassTable(
        satellite=cols["satellite"], station=cols["station"], aos_s=cols["aos_s"],
        culmination_s=cols["culmination_s"], tca_s=cols["tca_s"], los_s=cols["los_s"],
        max_elevation_deg=np.degrees(np.arcsin(np.clip(cols["h_max"], -1, 1))),
        min_range_km=cols["min_range_km"], aos_partial=cols["aos_partial"],
        los_partial=cols["los_partial"], window_start_s=cols["window_start_s"],
        window_end_s=cols["window_end_s"], has_window=cols["has_window"],
        satellite_names=names, station_names=[s.name for s in stations],
        sgp4_error_samples=errors,
    )


# The work on a chunk of satellites, in parts weighted by their cost (relative to
# propagating the chunk), for the progress reported within a chunk only (find_passes finds
# the same passes without it). Measured on 1,000 LEO satellites over 10 stations for a day
# (120-s steps, one chunk): propagating 0.48 s, the coarse search 0.05 s a station, refining
# the 43,000 passes found ~0.5 s (culminations, rise and set 0.29 s; masks, cuts and closest
# approach 0.09 s; windows 0.05 s); over 40 stations the search took 0.03 s a station and the
# refinement 0.04 s. Every part but propagating costs this much per station: the passes, and
# so the refinement, grow with the stations as the search does.
_CHUNK_COST = {"propagate": 1.0, "station": 0.07, "refine": 0.07, "approach": 0.02, "windows": 0.02}


class _ChunkProgress:
    """``progress(done, total)`` within a chunk of ``size`` satellites from ``first``: each
    part of its work done (:data:`_CHUNK_COST`) adds its share of the chunk's satellites.
    The chunk's end is the caller's to report, as a whole number; this stays below it."""

    def __init__(self, progress, first: int, size: int, n_sat: int, n_station: int):
        self.progress, self.first, self.size, self.n_sat, self.n_station = progress, first, size, n_sat, n_station
        self.total = _CHUNK_COST["propagate"] + n_station * (sum(_CHUNK_COST.values()) - _CHUNK_COST["propagate"])
        self.done = 0.0

    def advance(self, part: str) -> None:
        """``part`` done: ``propagate`` (the chunk), ``station`` (one station's coarse
        search), ``refine`` or ``approach`` (for every station at once)."""
        if self.progress is None:
            return
        self.done += _CHUNK_COST[part] * (1 if part in ("propagate", "station") else self.n_station)
        self.progress(self.first + self.size * min(self.done / self.total, 0.999), self.n_sat)


class _StationGeometry:
    """Station vectors stacked for gathering by index."""

    def __init__(self, stations: list[Station]):
        self.stations = stations
        self.position_km = np.array([s.position_km for s in stations]).reshape(-1, 3)
        enu = [s.enu for s in stations]
        self.east = np.array([e[0] for e in enu]).reshape(-1, 3)
        self.north = np.array([e[1] for e in enu]).reshape(-1, 3)
        self.up = np.array([e[2] for e in enu]).reshape(-1, 3)
        self.sin_lowest = np.sin(np.radians([s.lowest_elevation_deg() for s in stations]))
        self.masks = [s.mask_arrays_deg() for s in stations]

    def tabulate_sun(self, sun, grid):
        """Sun elevation at each station on a grid (its second derivative is ~Earth's rotation
        rate squared, so linear interpolation between 20 s samples errs by < 3e-6 deg, under
        1 ms of a twilight threshold crossing)."""
        self.sun_grid_s = grid
        self.sun_elevation_table_deg = np.degrees(np.arcsin(np.clip(self.up @ sun.unit_ecef(grid).T, -1.0, 1.0)))

    def sun_elevation_deg(self, station_idx, t_s):
        """Sun elevation (deg, geometric, no refraction) at ``station_idx[k]`` at ``t_s[k]``."""
        grid, table = self.sun_grid_s, self.sun_elevation_table_deg
        if grid.size == 1:
            return table[station_idx, 0]
        i = np.clip(np.searchsorted(grid, t_s, side="right") - 1, 0, grid.size - 2)
        frac = (t_s - grid[i]) / (grid[i + 1] - grid[i])
        a, b = table[station_idx, i], table[station_idx, i + 1]
        return a + frac * (b - a)

    def sin_mask(self, station_idx, r_km):
        """sin of the elevation a satellite at ``r_km`` must exceed, per sample."""
        out = self.sin_lowest[station_idx].astype(float)
        masked = np.flatnonzero([self.masks[s] is not None for s in np.atleast_1d(station_idx)])
        if masked.size:
            st = np.atleast_1d(station_idx)[masked]
            _, az, _ = geometry.look_angles(r_km[masked], self.position_km[st], self.east[st],
                                            self.north[st], self.up[st])
            for s in np.unique(st):
                sel = st == s
                az_deg, el_deg = self.masks[s]
                mask_el = geometry.interpolate_mask_deg(np.degrees(az[sel]), az_deg, el_deg)
                floor_el = self.stations[s].min_elevation_deg
                out[masked[sel]] = np.sin(np.radians(np.maximum(mask_el, floor_el)))
        return out


def _coarse_candidates(states, geo, steps=None):
    """Per station: sampled local maxima of sin(elevation) that could reach the mask
    (``steps.advance("station")`` after each station, if ``steps`` is given).

    Returns a list of ``(station, satellite, i_max, lb, nb)`` arrays where ``lb`` holds the
    last below-mask sample index at or before samples ``i_max - 1`` and ``i_max`` and
    ``nb`` the first one at or after samples ``i_max`` and ``i_max + 1`` (-1 / n_t: none).
    """
    r, valid = states.r_km, states.valid
    n_s, n_t = valid.shape
    flat = r.reshape(-1, 3)
    r2 = np.einsum("ij,ij->i", flat, flat).reshape(n_s, n_t)
    speed = np.sqrt(np.einsum("ijk,ijk->ij", states.v_km_s, states.v_km_s))
    dt = float(np.max(np.diff(states.t_s))) if n_t > 1 else 0.0
    idx = np.arange(n_t, dtype=np.int32)
    out = []
    for s_idx in range(len(geo.stations)):
        p, u = geo.position_km[s_idx], geo.up[s_idx]
        rho = np.sqrt(np.maximum(r2 - 2.0 * (flat @ p).reshape(n_s, n_t) + p @ p, 1e-12))
        h = ((flat @ u).reshape(n_s, n_t) - p @ u) / rho
        h[~valid] = _BELOW
        threshold = geo.sin_lowest[s_idx]
        is_max = np.zeros((n_s, n_t), dtype=bool)
        if n_t == 1:
            is_max[:] = True
        else:
            is_max[:, 1:-1] = (h[:, 1:-1] >= h[:, :-2]) & (h[:, 1:-1] > h[:, 2:])
            is_max[:, 0] = h[:, 0] > h[:, 1]
            is_max[:, -1] = h[:, -1] >= h[:, -2]
        # |d sin(el) / dt| <= |v| / range: prune maxima that cannot reach the mask within a step.
        reach = h + dt * speed / np.maximum(rho - speed * dt, 50.0)
        sat, i_max = np.nonzero(is_max & (reach >= threshold) & valid)
        if steps is not None:
            steps.advance("station")
        if sat.size == 0:
            continue
        below = h < threshold
        last_below = np.maximum.accumulate(np.where(below, idx, -1), axis=1)
        next_below = np.minimum.accumulate(np.where(below, idx, n_t)[:, ::-1], axis=1)[:, ::-1]
        before, after = np.maximum(i_max - 1, 0), np.minimum(i_max + 1, n_t - 1)
        lb = np.stack([last_below[sat, before], last_below[sat, i_max]], axis=1)
        nb = np.stack([next_below[sat, i_max], next_below[sat, after]], axis=1)
        out.append((np.full(sat.size, s_idx), sat, i_max, lb, nb))
    return out


def _passes_in_chunk(track, geo, states, duration_s, steps=None):
    """Passes of the chunk's satellites over every station: a dict of columns, or None.

    Sampled maxima of the elevation are refined into culminations; those above the mask are
    kept, several culminations of one pass merged into the highest, then the rise and set
    are found between the coarse samples around them.
    """
    found = _coarse_candidates(states, geo, steps)
    if not found:
        return None
    station, sat, i_max, lb, nb = (np.concatenate(parts) for parts in zip(*found))
    culm, h_max, ok = _culminations(track, geo, states, sat, station, i_max)
    keep = ok & (h_max > geo.sin_lowest[station])
    sat, station, culm, h_max, i_max, lb, nb = (a[keep] for a in (sat, station, culm, h_max, i_max, lb, nb))
    if sat.size == 0:
        return None
    j, k = _rise_set_samples(states.t_s, culm, i_max, lb, nb)
    best = _highest_culmination(sat, station, j, h_max)
    sat, station, culm, h_max, j, k = (a[best] for a in (sat, station, culm, h_max, j, k))
    aos, los = _rise_and_set(track, geo, states.t_s, sat, station, culm, j, k, duration_s)
    return dict(satellite=sat, station=station, aos_s=aos, culmination_s=culm, los_s=los,
                h_max=h_max, aos_partial=j < 0, los_partial=k >= states.t_s.size)


def _culminations(track, geo, states, sat, station, i_max):
    """Culmination near each sampled maximum ``i_max``: ``(t_s, sin(elevation), ok)``.

    The root of dh/dt in [t_{i-1}, t_{i+1}], or a span edge; the sampled derivative at
    ``i_max`` says on which side of the sample the maximum lies. ``ok`` is False where the
    track could not be evaluated.
    """
    grid = states.t_s
    n_t = grid.size
    up, pos = geo.up[station], geo.position_km[station]
    rate_mid = _rate_from(states, sat, i_max, pos, up)
    lo_i = np.where(rate_mid > 0.0, i_max, np.maximum(i_max - 1, 0))
    hi_i = np.where(rate_mid > 0.0, np.minimum(i_max + 1, n_t - 1), i_max)
    t_lo, t_hi = grid[lo_i], grid[hi_i]
    rate_lo = _rate_from(states, sat, lo_i, pos, up)
    rate_hi = _rate_from(states, sat, hi_i, pos, up)
    culm = grid[i_max].copy()
    at_start = rate_lo <= 0.0
    at_end = (rate_hi >= 0.0) & ~at_start
    culm[at_start] = t_lo[at_start]
    culm[at_end] = t_hi[at_end]
    # Every bracket lies in one sample interval, so each candidate's polynomial is built once.
    seg = track.segments(sat, np.minimum(lo_i, max(n_t - 2, 0)))

    def h_rate(k, t):
        rr, vv, ok = seg.at(k, t)
        _, rate = geometry.sin_elevation_and_rate(rr, vv, pos[k], up[k])
        return np.where(ok, rate, 0.0)

    inner = np.flatnonzero(~at_start & ~at_end)
    if inner.size:
        culm[inner] = illinois(lambda k, t: h_rate(inner[k], t), t_lo[inner], t_hi[inner],
                               rate_lo[inner], rate_hi[inner], _XTOL_EXTREMUM_S)
    rr, vv, ok = seg.at(np.arange(sat.size), culm)
    h_max, _ = geometry.sin_elevation_and_rate(rr, vv, pos, up)
    return culm, h_max, ok


def _rise_set_samples(grid, culm, i_max, lb, nb):
    """The AOS/LOS brackets from the coarse samples around each culmination: ``(j, k)``, the
    last sample below the mask before it and the first after it (-1 / n_t: none)."""
    rows = np.arange(culm.size)
    j = lb[rows, (np.searchsorted(grid, culm, side="right") - 1 >= i_max).astype(int)].astype(np.int64)
    k = nb[rows, (np.searchsorted(grid, culm, side="left") > i_max).astype(int)].astype(np.int64)
    return j, k


def _highest_culmination(sat, station, j, h_max):
    """Index of the highest culmination of each pass, passes in (satellite, station, j) order.

    One pass can have several culminations (the elevation dips without setting); they share
    the pass's last sample below the mask before it, ``j``.
    """
    key = np.stack([sat, station, j], axis=1)
    _, first_of, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    best = np.full(first_of.size, -1)
    order = np.lexsort((-h_max, inverse))
    best[inverse[order[::-1]]] = order[::-1]
    return best


def _rise_and_set(track, geo, grid, sat, station, culm, j, k, duration_s):
    """AOS and LOS (s) of each pass: roots of ``sin(el) - sin(mask)`` between the coarse
    samples ``j``, ``j + 1`` (or the culmination) and ``k - 1`` (or the culmination), ``k``.
    A pass in progress at the start (``j < 0``) rises at 0, one at the end (``k >= n_t``)
    sets at ``duration_s``."""
    n_t = grid.size
    up, pos = geo.up[station], geo.position_km[station]
    sin_thr = geo.sin_lowest[station]

    def f_visible(segments, which, idx, t):
        rr, _, ok = segments.at(idx, t)
        w = which[idx]
        hh, _ = geometry.sin_elevation_and_rate(rr, rr, pos[w], up[w])
        return np.where(ok, hh - sin_thr[w], -1.0)

    aos = np.zeros(sat.size)
    los = np.full(sat.size, float(duration_s))
    rise = np.flatnonzero(j >= 0)
    if rise.size:
        lo = grid[j[rise]]
        hi = np.minimum(grid[np.minimum(j[rise] + 1, n_t - 1)], culm[rise])
        seg_rise = track.segments(sat[rise], np.minimum(j[rise], max(n_t - 2, 0)))
        every = np.arange(rise.size)
        aos[rise] = illinois(lambda q, t: f_visible(seg_rise, rise, q, t), lo, hi,
                             f_visible(seg_rise, rise, every, lo), f_visible(seg_rise, rise, every, hi), _XTOL_S)
    fall = np.flatnonzero(k < n_t)
    if fall.size:
        hi = grid[k[fall]]
        lo = np.maximum(grid[np.maximum(k[fall] - 1, 0)], culm[fall])
        seg_fall = track.segments(sat[fall], np.maximum(k[fall] - 1, 0))
        every = np.arange(fall.size)
        los[fall] = illinois(lambda q, t: f_visible(seg_fall, fall, q, t), lo, hi,
                             f_visible(seg_fall, fall, every, lo), f_visible(seg_fall, fall, every, hi), _XTOL_S)
    return aos, los


def _seconds_of_day(utc_text: str) -> float:
    clock = utc_text[11:].rstrip("Z").split(":")
    return min(int(clock[0]) * 3600.0 + int(clock[1]) * 60.0 + float(clock[2]), 86399.999)


def _split_long_passes(table, longitudes_deg, start_s_of_day):
    """Cut passes longer than LONG_PASS_S at each local mean solar noon of their station.

    A satellite that stays up for days (GEO, high MEO) would otherwise have one pass and
    so one QKD window; cut at noon, every night gets its own row and window. The cut
    edges are marked partial (the pass goes on). Returns the table and the rows of the
    pieces (passes cut in two or more), whose culmination and closest approach are
    still the whole pass's clipped into the piece: :func:`_piece_extrema` finds their own.
    """
    a, b = table["aos_s"], table["los_s"]
    long = np.flatnonzero(b - a > LONG_PASS_S)
    if long.size == 0:
        return table, np.zeros(0, dtype=np.intp)
    pieces, whole = [], []
    for k in long:
        noon_offset_s = (12.0 * 3600.0 - longitudes_deg[table["station"][k]] * 240.0 - start_s_of_day) % DAY_S
        first = a[k] + (noon_offset_s - a[k]) % DAY_S
        edges = np.concatenate([[a[k]], np.arange(first, b[k], DAY_S), [b[k]]])
        edges = edges[np.concatenate([[True], np.diff(edges) > 1.0])]
        edges[-1] = b[k]
        for e0, e1 in zip(edges[:-1], edges[1:]):
            piece = {c: v[k:k + 1].copy() for c, v in table.items()}
            piece["aos_s"][:], piece["los_s"][:] = e0, e1
            piece["aos_partial"][:] = table["aos_partial"][k] if e0 == a[k] else True
            piece["los_partial"][:] = table["los_partial"][k] if e1 == b[k] else True
            piece["culmination_s"][:] = np.clip(table["culmination_s"][k], e0, e1)
            pieces.append(piece)
            whole.append(edges.size == 2)
    keep = np.ones(a.size, dtype=bool)
    keep[long] = False
    kept = {c: v[keep] for c, v in table.items()}
    cut = int(keep.sum()) + np.flatnonzero(~np.array(whole))
    return {c: np.concatenate([kept[c], *[p[c] for p in pieces]]) for c in table}, cut


# Coarse samples held at once by _piece_extrema (one GEO over a station for 60 days: ~43,000;
# batches bound the memory and change results by rounding only, ~1e-9 s).
_PIECE_BATCH_SAMPLES = 250_000


def _piece_extrema(track, geo, table, rows, batch_samples: int = _PIECE_BATCH_SAMPLES):
    """The culmination (highest elevation) and closest approach (shortest range) of each
    piece ``rows`` of a pass cut at noon, within the piece, in place.

    Over a piece of a GEO pass the elevation may peak anywhere, at several places, or at an
    edge (where it only rises or only falls), and the range minimum need not lie near the
    elevation maximum, so each is searched over the whole piece (:func:`_largest_in`)."""
    if rows.size == 0:
        return
    grid = track.t_s
    a, b = table["aos_s"][rows], table["los_s"][rows]
    counts = np.searchsorted(grid, b, side="left") - np.searchsorted(grid, a, side="right") + 2
    batch = (np.cumsum(counts) - counts) // batch_samples
    for part in np.split(np.arange(rows.size), np.flatnonzero(np.diff(batch)) + 1):
        r = rows[part]
        station = table["station"][r]
        pos, up = geo.position_km[station], geo.up[station]

        def elevation(rr, vv, k):
            return geometry.sin_elevation_and_rate(rr, vv, pos[k], up[k])

        def nearness(rr, vv, k):
            rho, rate = geometry.range_rate_km_s(rr, vv, pos[k])
            return -rho, -rate

        (culm, h_max), (tca, nearest) = _largest_in(track, table["satellite"][r], a[part], b[part],
                                                    (elevation, nearness))
        table["culmination_s"][r], table["h_max"][r] = culm, h_max
        table["tca_s"][r], table["min_range_km"][r] = tca, -nearest


def _largest_in(track, sat, t0, t1, funs):
    """Where each ``f`` of ``funs`` is largest over ``[t0[k], t1[k]]`` for satellite
    ``sat[k]``: a ``(t_s, f)`` pair per function.

    ``fun(r_km, v_km_s, k) -> (f, df/dt)`` for rows ``k``. ``f`` is taken at both edges and
    at every coarse sample of the track inside (the samples themselves, no interpolation);
    between two of these points where ``df/dt`` turns from positive to negative, at the root
    of ``df/dt`` (bracketed root search to ``_XTOL_EXTREMUM_S`` on the track's polynomial,
    as culminations and closest approaches elsewhere). Points the track cannot evaluate are
    never chosen.
    """
    grid = track.t_s
    first = np.searchsorted(grid, t0, side="right")
    counts = np.searchsorted(grid, t1, side="left") - first + 2
    owner = np.repeat(np.arange(t0.size), counts)
    pos_in = np.arange(owner.size) - (np.cumsum(counts) - counts)[owner]
    edge0, edge1 = pos_in == 0, pos_in == counts[owner] - 1
    inner = np.flatnonzero(~edge0 & ~edge1)
    sample = first[owner[inner]] + pos_in[inner] - 1
    t = np.empty(owner.size)
    rr, vv, ok = np.empty((owner.size, 3)), np.empty((owner.size, 3)), np.empty(owner.size, dtype=bool)
    t[inner] = grid[sample]
    rr[inner], vv[inner] = track.r_km[sat[owner[inner]], sample], track.v_km_s[sat[owner[inner]], sample]
    ok[inner] = track.valid[sat[owner[inner]], sample]
    for edge, t_edge in ((edge0, t0), (edge1, t1)):
        t[edge] = t_edge
        rr[edge], vv[edge], ok[edge] = track.at(sat, t_edge)
    same_row = owner[:-1] == owner[1:]
    starts = np.cumsum(counts) - counts
    out = []
    for fun in funs:
        f, rate = fun(rr, vv, owner)
        f, rate = np.where(ok, f, -np.inf), np.where(ok, rate, 0.0)
        # The largest point of each row (the first if several are equal) ...
        top = np.maximum.reduceat(f, starts)
        hit = np.flatnonzero(f == top[owner])
        best = hit[np.unique(owner[hit], return_index=True)[1]]
        best_t, best_f = t[best], f[best]
        # ... unless a turn of the rate between two points holds more: refined there.
        # Consecutive points of one row lie in one sample interval of the track.
        turn = np.flatnonzero(same_row & (rate[:-1] > 0.0) & (rate[1:] < 0.0))
        if turn.size:
            seg = track.segments(sat[owner[turn]], track.interval(t[turn]))

            def rate_on(k, tt, seg=seg, turn=turn, fun=fun):
                r_k, v_k, ok_k = seg.at(k, tt)
                return np.where(ok_k, fun(r_k, v_k, owner[turn[k]])[1], 0.0)

            root = illinois(rate_on, t[turn], t[turn + 1], rate[turn], rate[turn + 1], _XTOL_EXTREMUM_S)
            r_k, v_k, ok_k = seg.at(np.arange(turn.size), root)
            f_root = np.where(ok_k, fun(r_k, v_k, owner[turn])[0], -np.inf)
            order = np.lexsort((-f_root, owner[turn]))
            pick = order[np.concatenate([[True], np.diff(owner[turn][order]) != 0])]
            row = owner[turn[pick]]
            higher = f_root[pick] > best_f[row]
            best_t[row[higher]], best_f[row[higher]] = root[pick[higher]], f_root[pick[higher]]
        out.append((best_t, best_f))
    return out


def _rate_from(states, sat_local, time_idx, pos, up):
    rr = states.r_km[sat_local, time_idx]
    vv = states.v_km_s[sat_local, time_idx]
    _, rate = geometry.sin_elevation_and_rate(rr, vv, pos, up)
    return rate


_COLUMNS = dict(satellite=np.intp, station=np.intp, aos_s=float, culmination_s=float, los_s=float,
                h_max=float, aos_partial=bool, los_partial=bool)


_ALL_COLUMNS = dict(_COLUMNS, tca_s=float, min_range_km=float, window_start_s=float, window_end_s=float,
                    has_window=bool)


def _concatenate(parts):
    if not parts:
        return {k: np.zeros(0, dtype=t) for k, t in _ALL_COLUMNS.items()}
    return {k: np.concatenate([p[k] for p in parts]).astype(t) for k, t in _ALL_COLUMNS.items()}


def _apply_masks(track, geo, table, mask_step_s):
    """Split passes over masked stations into the intervals above the azimuth mask."""
    masked_station = np.array([m is not None for m in geo.masks], dtype=bool)
    rows = np.flatnonzero(masked_station[table["station"]]) if table["station"].size else np.zeros(0, int)
    if rows.size == 0:
        return table
    keep = np.ones(table["station"].size, dtype=bool)
    keep[rows] = False
    new = {k: [v[keep]] for k, v in table.items()}
    for r in rows:
        sat, st = table["satellite"][r], table["station"][r]
        a, b = table["aos_s"][r], table["los_s"][r]
        n = max(3, int(np.ceil((b - a) / mask_step_s)) + 1)
        t = np.linspace(a, b, n)

        def margin(_, tt, sat=sat, st=st):
            rr, vv, ok = track.at(np.full(np.size(tt), sat), np.atleast_1d(tt))
            hh, _ = geometry.sin_elevation_and_rate(rr, vv, geo.position_km[st], geo.up[st])
            return np.where(ok, hh - geo.sin_mask(np.full(np.size(tt), st), rr), -1.0)

        f = margin(None, t)
        above = f > 0
        if not above.any():
            continue
        starts = np.flatnonzero(above & np.concatenate([[True], ~above[:-1]]))
        ends = np.flatnonzero(above & np.concatenate([~above[1:], [True]]))
        for i0, i1 in zip(starts, ends):
            t0 = t[i0] if i0 == 0 else illinois(margin, t[i0 - 1:i0], t[i0:i0 + 1], f[i0 - 1:i0], f[i0:i0 + 1], _XTOL_S)[0]
            t1 = t[i1] if i1 == n - 1 else illinois(margin, t[i1:i1 + 1], t[i1 + 1:i1 + 2], f[i1:i1 + 1], f[i1 + 1:i1 + 2], _XTOL_S)[0]
            seg = t[i0:i1 + 1]
            rr, vv, ok = track.at(np.full(seg.size, sat), seg)
            hh, _ = geometry.sin_elevation_and_rate(rr, vv, geo.position_km[st], geo.up[st])
            peak = int(np.argmax(np.where(ok, hh, -2)))
            culm, h_max = seg[peak], hh[peak]
            if table["aos_s"][r] < table["culmination_s"][r] < table["los_s"][r] and t0 <= table["culmination_s"][r] <= t1:
                culm, h_max = table["culmination_s"][r], table["h_max"][r]
            values = dict(satellite=sat, station=st, aos_s=t0, culmination_s=culm, los_s=t1, h_max=h_max,
                          aos_partial=bool(table["aos_partial"][r] and i0 == 0),
                          los_partial=bool(table["los_partial"][r] and i1 == n - 1))
            for k2, val in values.items():
                new[k2].append(np.array([val]))
    return {k: np.concatenate(v).astype(_COLUMNS[k]) for k, v in new.items()}


def _closest_approach(track, geo, table):
    """Time and value of the minimum range inside each pass (root of the range rate).

    The closest approach lies within seconds of the culmination: the search takes the
    sample interval holding the culmination, or its neighbour on the side the range rate
    points to, clipped to the pass.
    """
    n = table["aos_s"].size
    table["tca_s"], table["min_range_km"] = np.zeros(n), np.zeros(n)
    if n == 0:
        return
    sat, station = table["satellite"], table["station"]
    pos = geo.position_km[station]
    a, b = table["aos_s"], table["los_s"]
    rows = np.arange(n)
    last = max(track.t_s.size - 2, 0)

    def rate_on(seg, idx, t):
        rr, vv, ok = seg.at(idx, t)
        _, rdot = geometry.range_rate_km_s(rr, vv, pos[idx])
        return np.where(ok, rdot, 0.0)

    interval = track.interval(table["culmination_s"])
    seg = track.segments(sat, interval)
    rate_culm = rate_on(seg, rows, table["culmination_s"])
    interval = np.clip(interval + np.where(rate_culm > 0.0, -1, 0) * (track.t_s[interval] >= table["culmination_s"]), 0, last)
    seg = track.segments(sat, interval)
    lo = np.clip(track.t_s[interval], a, b)
    hi = np.clip(track.t_s[np.minimum(interval + 1, track.t_s.size - 1)], a, b)
    r_lo, r_hi = rate_on(seg, rows, lo), rate_on(seg, rows, hi)
    # Approaching at both ends -> the interval after; receding at both -> the one before.
    step = np.where((r_lo < 0.0) & (r_hi < 0.0), 1, np.where((r_lo > 0.0) & (r_hi > 0.0), -1, 0))
    moved = np.flatnonzero(step != 0)
    if moved.size:
        interval[moved] = np.clip(interval[moved] + step[moved], 0, last)
        seg = track.segments(sat, interval)
        lo = np.clip(track.t_s[interval], a, b)
        hi = np.clip(track.t_s[np.minimum(interval + 1, track.t_s.size - 1)], a, b)
        r_lo, r_hi = rate_on(seg, rows, lo), rate_on(seg, rows, hi)
    tca = np.where(r_lo >= 0.0, lo, hi)  # monotonic range: the nearer end (cut passes)
    inner = np.flatnonzero((r_lo < 0.0) & (r_hi > 0.0))
    if inner.size:
        tca[inner] = illinois(lambda k, t: rate_on(seg, inner[k], t), lo[inner], hi[inner],
                              r_lo[inner], r_hi[inner], _XTOL_EXTREMUM_S)
    rr, _, _ = seg.at(rows, tca)
    table["tca_s"] = tca
    table["min_range_km"] = np.sqrt(np.einsum("ij,ij->i", rr - pos, rr - pos))


# Samples of the constraint margins held at once by _windows (~200 bytes each in flight).
_WINDOW_BATCH_SAMPLES = 250_000


def _constraint_margin(track, geo, constraints, sun, sat, station, t):
    """min over constraints of a continuous margin, positive where all hold."""
    margin = np.full(np.shape(t), np.inf)
    need_sat = constraints.satellite_sunlit is not None or constraints.max_range_km is not None
    if need_sat:
        rr, vv, ok = track.at(sat, t)
        margin = np.where(ok, margin, -1.0)
    if constraints.satellite_sunlit is not None:
        sun_unit = sun.unit_ecef(t, gmst_rad=track.gmst_rad(t))
    if constraints.station_sun_max_elevation_deg is not None:
        sun_el = geo.sun_elevation_deg(station, t)
        margin = np.minimum(margin, constraints.station_sun_max_elevation_deg - sun_el)
    if constraints.satellite_sunlit is not None:
        lit = geometry.shadow_margin_km(rr, sun_unit) / 10.0
        margin = np.minimum(margin, lit if constraints.satellite_sunlit else -lit)
    if constraints.max_range_km is not None:
        rho = np.linalg.norm(rr - geo.position_km[station], axis=-1)
        margin = np.minimum(margin, (constraints.max_range_km - rho) / 10.0)
    return margin


def _windows(track, geo, table, constraints, sun, window_step_s, batch_samples: int = _WINDOW_BATCH_SAMPLES):
    """Longest interval of each pass where every constraint holds.

    Passes are sampled in batches of about ``batch_samples`` samples (each pass is refined on
    its own, so batching changes no result, only the memory: ~0.7 GB for 100,000 passes at
    once, ~50 MB a batch)."""
    a, b = table["aos_s"], table["los_s"]
    n = a.size
    table["window_start_s"], table["window_end_s"] = a.copy(), b.copy()
    table["has_window"] = b > a
    if n == 0 or not constraints.any:
        return
    counts = np.maximum(3, np.ceil((b - a) / window_step_s).astype(int) + 1)
    batch = (np.cumsum(counts) - counts) // batch_samples
    cuts = np.flatnonzero(np.diff(batch)) + 1
    for rows in np.split(np.arange(n), cuts):
        part = {key: table[key][rows] for key in ("aos_s", "los_s", "satellite", "station")}
        _windows_batch(track, geo, part, counts[rows], constraints, sun)
        for key in ("window_start_s", "window_end_s", "has_window"):
            table[key][rows] = part[key]


def _windows_batch(track, geo, table, counts, constraints, sun):
    """:func:`_windows` on the passes of ``table`` (``counts`` samples each)."""
    a, b = table["aos_s"], table["los_s"]
    n = a.size
    owner = np.repeat(np.arange(n), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos_in = np.arange(owner.size) - starts[owner]
    t = a[owner] + (b - a)[owner] * pos_in / (counts[owner] - 1)
    sat, station = table["satellite"], table["station"]

    def margin(idx, tt):
        return _constraint_margin(track, geo, constraints, sun, sat[idx], station[idx], tt)

    f = margin(owner, t)
    ok = f > 0
    first = pos_in == 0
    last = pos_in == counts[owner] - 1
    run_start = ok & (first | ~np.roll(ok, 1))
    run_end = ok & (last | ~np.roll(ok, -1))
    rs, re = np.flatnonzero(run_start), np.flatnonzero(run_end)
    run_owner = owner[rs]
    length = t[re] - t[rs]
    order = np.lexsort((-length, run_owner))
    best = np.full(n, -1)
    best[run_owner[order[::-1]]] = order[::-1]
    has = best >= 0
    table["has_window"] = has & (b > a)
    w0, w1 = a.copy(), a.copy()
    pick = np.flatnonzero(has)
    i0, i1 = rs[best[pick]], re[best[pick]]
    w0[pick], w1[pick] = t[i0], t[i1]
    # Refine interior edges between a failing and a passing sample.
    edge = ~first[i0]
    if edge.any():
        q = pick[edge]
        w0[q] = illinois(lambda k, tt: margin(q[k], tt), t[i0[edge] - 1], t[i0[edge]],
                         f[i0[edge] - 1], f[i0[edge]], _XTOL_S)
    edge = ~last[i1]
    if edge.any():
        q = pick[edge]
        w1[q] = illinois(lambda k, tt: margin(q[k], tt), t[i1[edge]], t[i1[edge] + 1],
                         f[i1[edge]], f[i1[edge] + 1], _XTOL_S)
    # Root finding may land a rounding error (~1e-13 s) outside the pass: keep windows inside.
    table["window_start_s"], table["window_end_s"] = np.clip(w0, a, b), np.clip(w1, a, b)
