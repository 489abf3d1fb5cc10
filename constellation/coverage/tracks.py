"""Ground tracks and footprints of a scenario's satellites: where they are over the Earth.

Functions
---------
select_satellites(scenario, satellites)                         indices of named satellites
ground_tracks(scenario, satellites, start_s, end_s, step_s)     sampled sub-satellite tracks
usable_samples(states)                                          valid and not after a decay
split_antimeridian(longitude_deg, latitude_deg, valid)          track pieces that never cross +/-180
satellite_footprints(scenario, at_s, satellites, min_elevation_deg)   caps seen above a mask
scenario_span_s(scenario, start_s, end_s)                       a span clipped to the scenario
sample_times_s(start_s, end_s, step_s)                          a sampling grid ending on end_s

The GeoJSON and CZML writers (:mod:`constellation.output.exports`) and the maps
(:mod:`constellation.plots.maps`) draw what these compute. Times ``t_s`` are TAI seconds
since the scenario start (see :mod:`constellation.core.timebase`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.geometry import ecef_to_geodetic
from ..core.propagation import Propagator
from ..errors import InputError, ParameterError, did_you_mean
from .caps import cap_angle_rad, check_min_elevation_deg

__all__ = [
    "Footprints",
    "GroundTracks",
    "ground_tracks",
    "sample_times_s",
    "satellite_footprints",
    "scenario_span_s",
    "select_satellites",
    "split_antimeridian",
    "usable_samples",
]

_SGP4_DECAYED = 6  # SGP4 error code: the satellite has decayed


@dataclass
class GroundTracks:
    """Sub-satellite points of ``n_sat`` satellites at ``n_time`` times.

    Attributes
    ----------
    names : list of str, length n_sat
    t_s : ndarray, shape (n_time,)
        Seconds since the scenario start.
    latitude_deg, longitude_deg, height_km : ndarray, shape (n_sat, n_time)
        WGS84 geodetic; longitude in [-180, 180). Zero where ``valid`` is False.
    valid : ndarray of bool, shape (n_sat, n_time)
        False where SGP4 could not compute the sample, or after the satellite decayed.
    r_km : ndarray, shape (n_sat, n_time, 3)
        Earth-fixed positions.
    """

    names: list
    t_s: np.ndarray
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    height_km: np.ndarray
    valid: np.ndarray
    r_km: np.ndarray


@dataclass
class Footprints:
    """Footprints of ``n_sat`` satellites at one instant ``at_s``.

    ``geometries`` are shapely (Multi)Polygons in (longitude, latitude) degrees, split at the
    antimeridian, counter-clockwise (see :mod:`constellation.coverage.footprints`); an empty
    Polygon for a satellite SGP4 could not compute. Sub-satellite points are geocentric, as
    the caps. ``latitude_deg``, ``longitude_deg``, ``cap_angle_deg`` and ``valid`` have
    shape ``(n_sat,)``.
    """

    names: list
    at_s: float
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    cap_angle_deg: np.ndarray
    min_elevation_deg: float
    geometries: list
    valid: np.ndarray


def select_satellites(scenario, satellites=None, field: str = "satellites") -> list[int]:
    """Indices of the named (or indexed) satellites of ``scenario``; all of them for None.

    Raises InputError naming the unknown satellite and the closest known name.
    """
    names = [s.name for s in scenario.satellites]
    if satellites is None:
        return list(range(len(names)))
    if isinstance(satellites, (str, int, np.integer)):
        satellites = [satellites]
    chosen = []
    for item in satellites:
        if isinstance(item, (int, np.integer)) and 0 <= item < len(names):
            chosen.append(int(item))
        elif item in names:
            chosen.append(names.index(item))
        else:
            hint = did_you_mean(item, names)
            raise InputError(scenario.source, field, f"a satellite of the scenario{hint}", item)
    return chosen


def usable_samples(states) -> np.ndarray:
    """Samples fit to show, shape ``(n_sat, n_time)``: valid, and not after a decay.

    Once SGP4 reports decay (error 6) the satellite is gone, but later calls of the
    vectorised SGP4 can again return error 0 with positions millions of km away; every
    sample after the first decay is therefore dropped as well.
    """
    decayed = np.logical_or.accumulate(states.error == _SGP4_DECAYED, axis=-1)
    return states.valid & ~decayed


def scenario_span_s(scenario, start_s, end_s, field: str = "span") -> tuple[float, float]:
    """``(start_s, end_s)`` clipped to the scenario (None: its start / end), or InputError when empty."""
    duration = scenario.duration_s
    start = 0.0 if start_s is None else max(float(start_s), 0.0)
    end = duration if end_s is None else min(float(end_s), duration)
    if not end > start:
        raise InputError(scenario.source, field,
                         f"a span inside the scenario's 0..{duration:.0f} s", (start_s, end_s))
    return start, end


def sample_times_s(start_s: float, end_s: float, step_s: float) -> np.ndarray:
    """Times every ``step_s`` from ``start_s``, always ending on ``end_s``, shape ``(n_time,)``.

    Raises ValueError unless ``step_s > 0``.
    """
    if not step_s > 0:
        raise ValueError(f"step_s must be > 0, found {step_s}")
    grid = np.arange(start_s, end_s, float(step_s))
    return np.append(grid, end_s) if grid.size == 0 or grid[-1] < end_s else grid


def ground_tracks(scenario, satellites=None, start_s: float = 0.0, end_s: float | None = None,
                  step_s: float = 30.0) -> GroundTracks:
    """Sample the ground tracks of ``satellites`` (names or indices; None = all).

    The grid runs from ``start_s`` to ``end_s`` (default: the scenario end) every ``step_s``
    and always includes ``end_s``; the span is clipped to the scenario.
    """
    chosen = select_satellites(scenario, satellites)
    start, end = scenario_span_s(scenario, start_s, end_s)
    t = sample_times_s(start, end, step_s)
    states = _propagator(scenario).states(t, chosen)
    with np.errstate(divide="ignore", invalid="ignore"):  # masked samples are zeros
        lat, lon, height = ecef_to_geodetic(states.r_km)
    valid = usable_samples(states)
    lat, lon, height = (np.where(valid, x, 0.0) for x in (lat, lon, height))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)
    return GroundTracks([scenario.satellites[i].name for i in chosen], t, lat, lon, height, valid,
                        states.r_km)


def _propagator(scenario) -> Propagator:
    # As pipeline.propagator_for, which this stage (before the pipeline) must not import.
    return Propagator.for_satellites(scenario.satellites, scenario.timebase)


def split_antimeridian(longitude_deg, latitude_deg, valid=None) -> list[np.ndarray]:
    """Cut a track into pieces that never cross the antimeridian nor a gap of invalid samples.

    Where consecutive samples are more than 180 deg apart in longitude the track crosses
    +/-180: the piece ends on the antimeridian at the latitude interpolated linearly in
    (unwrapped longitude, latitude), and the next piece starts there on the other side.

    Parameters
    ----------
    longitude_deg, latitude_deg : array_like, shape (n,)
    valid : array_like of bool, shape (n,), optional
        Samples to leave out (a gap ends a piece); NaN samples are left out too.

    Returns
    -------
    list of ndarray, each shape (m, 2) with columns (longitude_deg, latitude_deg), m >= 2

    Examples
    --------
    >>> [p.tolist() for p in split_antimeridian([170.0, -170.0], [0.0, 10.0])]
    [[[170.0, 0.0], [180.0, 5.0]], [[-180.0, 5.0], [-170.0, 10.0]]]
    """
    lon = np.asarray(longitude_deg, dtype=float)
    lat = np.asarray(latitude_deg, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if valid is not None:
        ok &= np.asarray(valid, dtype=bool)
    lon = np.where(ok, (lon + 180.0) % 360.0 - 180.0, 0.0)
    idx = np.flatnonzero(ok)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if idx.size else []
    pieces = [piece for run in runs for piece in _cut_run(lon[run], lat[run])]
    return [p for p in pieces if len(p) >= 2]


def _cut_run(x, y) -> list[np.ndarray]:
    """One run of valid samples cut where it crosses +/-180 (see :func:`split_antimeridian`)."""
    dx = np.diff(x)
    cross = np.flatnonzero(np.abs(dx) > 180.0)
    if cross.size == 0:
        return [np.column_stack([x, y])]
    # Moving east over +180 the longitude drops (dx < 0): the piece ends at +180.
    edge = np.where(dx[cross] < 0.0, 180.0, -180.0)
    x_next = x[cross + 1] + np.where(dx[cross] < 0.0, 360.0, -360.0)
    f = (edge - x[cross]) / (x_next - x[cross])
    y_edge = y[cross] + f * (y[cross + 1] - y[cross])
    bounds = np.concatenate([[0], cross + 1, [x.size]])
    pieces = []
    for k in range(bounds.size - 1):
        part = np.column_stack([x[bounds[k]:bounds[k + 1]], y[bounds[k]:bounds[k + 1]]])
        if k > 0:
            part = np.vstack([[-edge[k - 1], y_edge[k - 1]], part])
        if k < cross.size:
            part = np.vstack([part, [edge[k], y_edge[k]]])
        pieces.append(part)
    return pieces


def default_footprint_mask_deg(scenario) -> float:
    """The elevation mask of a footprint when none is given: the lowest of the stations' masks;
    without stations, the ``[coverage]`` mask, or 10 deg (a station's default)."""
    if scenario.stations:
        return min(s.min_elevation_deg for s in scenario.stations)
    return scenario.coverage.min_elevation_deg if scenario.coverage is not None else 10.0


def satellite_footprints(scenario, at_s: float, satellites=None,
                         min_elevation_deg: float | None = None) -> Footprints:
    """The ground region seeing each satellite above ``min_elevation_deg`` at ``at_s``.

    The cap's Earth central angle is ``arccos(R cos(el) / (R + h)) - el`` (spherical Earth,
    :mod:`constellation.coverage.caps`). ``min_elevation_deg`` defaults to the lowest
    ``min_elevation_deg`` of the scenario's stations (without stations: the ``[coverage]``
    mask, or 10 deg as a station's default). A mask outside [0, 90) deg or an
    instant outside the scenario is an InputError naming the scenario file.
    """
    # shapely (GEOS) is loaded only when footprints are asked for.
    from shapely.geometry import Polygon

    from .footprints import footprints_from_positions

    if min_elevation_deg is None:
        min_elevation_deg = default_footprint_mask_deg(scenario)
    try:
        el = float(check_min_elevation_deg(min_elevation_deg))
    except ParameterError as exc:
        raise InputError(scenario.source, exc.field, exc.expected, exc.found) from None
    at_s = float(at_s)
    if not 0.0 <= at_s <= scenario.duration_s:
        raise InputError(scenario.source, "at_s", f"an instant in 0..{scenario.duration_s:.0f} s", at_s)
    # Sampled from the start (every 5 min) so that a satellite that decayed earlier is caught.
    grid_end = at_s if at_s > 0.0 else min(1.0, scenario.duration_s)
    tracks = ground_tracks(scenario, satellites, 0.0, grid_end, step_s=300.0)
    last = int(np.searchsorted(tracks.t_s, at_s))
    r = tracks.r_km[:, last]
    valid = tracks.valid[:, last]
    geometries = footprints_from_positions(r[valid], el) if valid.any() else []
    out = [Polygon()] * len(tracks.names)
    for k, geometry in zip(np.flatnonzero(valid), geometries):
        out[k] = geometry
    radius = np.linalg.norm(r, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat = np.where(valid, np.degrees(np.arcsin(np.clip(r[:, 2] / radius, -1.0, 1.0))), 0.0)
    lon = np.degrees(np.arctan2(r[:, 1], r[:, 0]))
    cap = np.where(valid, np.degrees(cap_angle_rad(np.where(valid, radius, 1.0), np.radians(el))), 0.0)
    return Footprints(tracks.names, at_s, lat, lon, cap, el, out, valid)
