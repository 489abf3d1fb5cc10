"""Ground tracks, footprints and access for other tools: GeoJSON (RFC 7946) and CZML (Cesium).

Functions
---------
ground_tracks(scenario, satellites, start_s, end_s, step_s)    sampled sub-satellite tracks
split_antimeridian(longitude_deg, latitude_deg, valid)          track pieces that never cross +/-180
satellite_footprints(scenario, at_s, satellites, min_elevation_deg)   caps seen above a mask
tracks_geojson(tracks)                                          FeatureCollection of MultiLineStrings
footprints_geojson(footprints)                                  FeatureCollection of (Multi)Polygons
czml_document(scenario, passes, ...)                            list of CZML packets
write_json(document, path)                                      atomic write

GeoJSON follows RFC 7946: positions are ``[longitude, latitude]`` in degrees (WGS84) within
[-180, 180] x [-90, 90], rounded to 6 decimals (0.1 m); a track crossing the antimeridian
is cut there into a MultiLineString whose parts end and start on +/-180 at the crossing
latitude (section 3.1.9); polygon exteriors run counter-clockwise and holes clockwise
(section 3.1.6); no ``crs`` member.

CZML: satellites carry positions sampled in the Earth-fixed frame (``referenceFrame``
``FIXED``, metres, seconds after an ``epoch``) with Lagrange interpolation. A satellite's
``availability`` is the union of the runs of consecutive valid SGP4 samples inside the
requested span (never beyond the scenario; nothing after an SGP4 decay), so Cesium never
draws a position the propagation could not give. Each satellite-station pair with passes gets an ``access``
packet (a line of sight during each pass, AOS to LOS) and, where there are QKD windows, a
``qkd-window`` packet; their ``availability`` intervals are the pass table's times.

Times: ``t_s`` are TAI seconds since the scenario start (see :mod:`constellation.timebase`);
CZML sample offsets are the same seconds, as Cesium's ``JulianDate`` counts them.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = [
    "Footprints",
    "GroundTracks",
    "czml_document",
    "footprints_geojson",
    "ground_tracks",
    "satellite_footprints",
    "select_satellites",
    "split_antimeridian",
    "tracks_geojson",
    "usable_samples",
    "write_json",
]

_DECIMALS = 6
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
            (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


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
            close = difflib.get_close_matches(str(item), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(scenario.source, field, f"a satellite of the scenario{hint}", item)
    return chosen


_SGP4_DECAYED = 6


def usable_samples(states) -> np.ndarray:
    """Samples fit to show, shape ``(n_sat, n_time)``: valid, and not after a decay.

    Once SGP4 reports decay (error 6) the satellite is gone, but later calls of the
    vectorised SGP4 can again return error 0 with positions millions of km away; every
    sample after the first decay is therefore dropped as well.
    """
    decayed = np.logical_or.accumulate(states.error == _SGP4_DECAYED, axis=-1)
    return states.valid & ~decayed


def _span(scenario, start_s, end_s, field="span"):
    """``[start_s, end_s]`` clipped to the scenario, or InputError when empty."""
    duration = scenario.duration_s
    start = 0.0 if start_s is None else max(float(start_s), 0.0)
    end = duration if end_s is None else min(float(end_s), duration)
    if not end > start:
        raise InputError(scenario.source, field,
                         f"a span inside the scenario's 0..{duration:.0f} s", (start_s, end_s))
    return start, end


def _grid(start, end, step_s):
    if not step_s > 0:
        raise ValueError(f"step_s must be > 0, found {step_s}")
    grid = np.arange(start, end, float(step_s))
    return np.append(grid, end) if grid.size == 0 or grid[-1] < end else grid


def ground_tracks(scenario, satellites=None, start_s: float = 0.0, end_s: float | None = None,
                  step_s: float = 30.0) -> GroundTracks:
    """Sample the ground tracks of ``satellites`` (names or indices; None = all).

    The grid runs from ``start_s`` to ``end_s`` (default: the scenario end) every ``step_s``
    and always includes ``end_s``; the span is clipped to the scenario.
    """
    from ..core.geometry import ecef_to_geodetic as subsatellite_points_of
    from ..pipeline import propagator_for

    chosen = select_satellites(scenario, satellites)
    start, end = _span(scenario, start_s, end_s)
    t = _grid(start, end, step_s)
    states = propagator_for(scenario).states(t, chosen)
    with np.errstate(divide="ignore", invalid="ignore"):  # masked samples are zeros
        lat, lon, height = subsatellite_points_of(states.r_km)
    valid = usable_samples(states)
    lat, lon, height = (np.where(valid, x, 0.0) for x in (lat, lon, height))
    lon = np.where(lon >= 180.0, lon - 360.0, lon)
    return GroundTracks([scenario.satellites[i].name for i in chosen], t, lat, lon, height, valid,
                        states.r_km)


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
    pieces = []
    idx = np.flatnonzero(ok)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if idx.size else []
    for run in runs:
        x, y = lon[run], lat[run]
        dx = np.diff(x)
        cross = np.flatnonzero(np.abs(dx) > 180.0)
        if cross.size == 0:
            pieces.append(np.column_stack([x, y]))
            continue
        # Moving east over +180 the longitude drops (dx < 0): the piece ends at +180.
        edge = np.where(dx[cross] < 0.0, 180.0, -180.0)
        x_next = x[cross + 1] + np.where(dx[cross] < 0.0, 360.0, -360.0)
        f = (edge - x[cross]) / (x_next - x[cross])
        y_edge = y[cross] + f * (y[cross + 1] - y[cross])
        bounds = np.concatenate([[0], cross + 1, [x.size]])
        for k in range(bounds.size - 1):
            part = np.column_stack([x[bounds[k]:bounds[k + 1]], y[bounds[k]:bounds[k + 1]]])
            if k > 0:
                part = np.vstack([[-edge[k - 1], y_edge[k - 1]], part])
            if k < cross.size:
                part = np.vstack([part, [edge[k], y_edge[k]]])
            pieces.append(part)
    return [p for p in pieces if len(p) >= 2]


@dataclass
class Footprints:
    """Footprints of ``n_sat`` satellites at one instant ``at_s``.

    ``geometries`` are shapely (Multi)Polygons in (longitude, latitude) degrees, split at the
    antimeridian, counter-clockwise (see :mod:`constellation.footprints`); an empty Polygon
    for a satellite SGP4 could not compute. Sub-satellite points are geocentric, as the caps.
    """

    names: list
    at_s: float
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    cap_angle_deg: np.ndarray
    min_elevation_deg: float
    geometries: list
    valid: np.ndarray


def satellite_footprints(scenario, at_s: float, satellites=None,
                         min_elevation_deg: float | None = None) -> Footprints:
    """The ground region seeing each satellite above ``min_elevation_deg`` at ``at_s``.

    The cap's Earth central angle is ``arccos(R cos(el) / (R + h)) - el`` (spherical Earth,
    :mod:`constellation.footprints`). ``min_elevation_deg`` defaults to the lowest
    ``min_elevation_deg`` of the scenario's stations.
    """
    from shapely.geometry import Polygon

    from ..coverage.footprints import cap_angle_rad, check_min_elevation_deg, footprints_from_positions

    if min_elevation_deg is None:
        min_elevation_deg = min(s.min_elevation_deg for s in scenario.stations)
    el = float(check_min_elevation_deg(min_elevation_deg, scenario.source))
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


def _round(coords):
    return np.round(np.asarray(coords, dtype=float), _DECIMALS).tolist()


def tracks_geojson(tracks: GroundTracks, timebase=None) -> dict:
    """GeoJSON FeatureCollection with one MultiLineString per satellite, cut at the antimeridian.

    Properties: ``satellite``, ``start_s``/``end_s`` (and ``start_utc``/``end_utc`` with a
    ``timebase``), ``step_s``, ``invalid_samples`` (SGP4 failures, left out of the lines).
    """
    features = []
    t = tracks.t_s
    for k, name in enumerate(tracks.names):
        pieces = split_antimeridian(tracks.longitude_deg[k], tracks.latitude_deg[k], tracks.valid[k])
        props = {"satellite": name, "start_s": float(t[0]), "end_s": float(t[-1]),
                 "step_s": float(t[1] - t[0]) if t.size > 1 else 0.0,
                 "invalid_samples": int((~tracks.valid[k]).sum())}
        if timebase is not None:
            props["start_utc"], props["end_utc"] = timebase.utc_iso([t[0], t[-1]])
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "MultiLineString", "coordinates": [_round(p) for p in pieces]}})
    return {"type": "FeatureCollection", "features": features}


def footprints_geojson(footprints: Footprints, timebase=None) -> dict:
    """GeoJSON FeatureCollection with one footprint (Polygon or MultiPolygon) per satellite.

    Satellites SGP4 could not compute at that instant get a feature with a ``null`` geometry.
    """
    import shapely

    features = []
    when = timebase.utc_iso(footprints.at_s)[0] if timebase is not None else None
    for k, name in enumerate(footprints.names):
        geometry = footprints.geometries[k]
        props = {"satellite": name, "at_s": footprints.at_s,
                 "min_elevation_deg": footprints.min_elevation_deg,
                 "cap_angle_deg": round(float(footprints.cap_angle_deg[k]), 6),
                 "subsatellite_lon_lat_deg": _round([footprints.longitude_deg[k], footprints.latitude_deg[k]])}
        if when is not None:
            props["at_utc"] = when
        body = None
        if not geometry.is_empty:
            body = json.loads(shapely.to_geojson(shapely.set_precision(geometry, 0.0)))
            body["coordinates"] = _round_nested(body["coordinates"])
        features.append({"type": "Feature", "properties": props, "geometry": body})
    return {"type": "FeatureCollection", "features": features}


def _round_nested(value):
    if value and isinstance(value[0], (int, float)):
        return [round(float(v), _DECIMALS) for v in value]
    return [_round_nested(v) for v in value]


def _runs(valid):
    """``(first, last)`` sample indices of each run of True of length >= 2."""
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        return []
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    return [(int(r[0]), int(r[-1])) for r in runs if r.size >= 2]


def _rgba(k, alpha=255):
    return [*_PALETTE[k % len(_PALETTE)], alpha]


def _ref(packet_id: str) -> str:
    """A CZML reference to a packet's position (``#`` and ``\\`` escaped in the id)."""
    return packet_id.replace("\\", "\\\\").replace("#", "\\#") + "#position"


def czml_document(scenario, passes=None, *, satellites=None, start_s: float = 0.0,
                  end_s: float | None = None, step_s: float = 60.0,
                  interpolation_degree: int = 5) -> list[dict]:
    """A CZML document (list of packets, ready for ``json.dump``) for Cesium.

    Parameters
    ----------
    scenario : Scenario
    passes : PassTable, optional
        Passes to show as access lines (AOS to LOS) and QKD windows; only those of the chosen
        satellites and inside the span are used, clipped to each satellite's availability.
    satellites : list of str or int, optional
        Default: all.
    start_s, end_s : float
        Span in seconds since the scenario start, clipped to the scenario.
    step_s : float
        Position sample spacing (60 s with degree-5 Lagrange interpolation stays within
        metres of SGP4 in LEO).

    Returns
    -------
    list of dict
        ``document`` (clock over the span), ``satellite/NAME``, ``station/NAME``,
        ``access/SAT/STATION`` and ``qkd-window/SAT/STATION`` packets.
    """
    chosen = select_satellites(scenario, satellites)
    start, end = _span(scenario, start_s, end_s)
    tb = scenario.timebase
    t = _grid(start, end, step_s)
    from ..pipeline import propagator_for

    states = propagator_for(scenario).states(t, chosen)
    usable = usable_samples(states)

    def iso(t_s):
        return tb.utc_iso(t_s)[0]

    epoch = iso(start)
    span = f"{epoch}/{iso(end)}"
    packets = [{"id": "document", "name": scenario.name, "version": "1.0",
                "clock": {"interval": span, "currentTime": epoch, "multiplier": 60,
                          "range": "LOOP_STOP", "step": "SYSTEM_CLOCK_MULTIPLIER"}}]
    available = {}
    for k, sat in enumerate(chosen):
        name = scenario.satellites[sat].name
        runs = _runs(usable[k])
        if not runs:
            continue  # SGP4 failed at every sample: nothing valid to show
        available[sat] = [(t[a], t[b]) for a, b in runs]
        keep = np.concatenate([np.arange(a, b + 1) for a, b in runs])
        samples = np.column_stack([t[keep] - start, states.r_km[k, keep] * 1000.0])
        period_s = 2.0 * np.pi / scenario.satellites[sat].satrec.no_kozai * 60.0
        packets.append({
            "id": f"satellite/{name}", "name": name,
            "availability": [f"{iso(a)}/{iso(b)}" for a, b in available[sat]],
            "position": {"epoch": epoch, "referenceFrame": "FIXED",
                         "interpolationAlgorithm": "LAGRANGE",
                         "interpolationDegree": int(interpolation_degree),
                         "cartesian": np.round(samples, 3).ravel().tolist()},
            "point": {"pixelSize": 8, "color": {"rgba": _rgba(k)},
                      "outlineColor": {"rgba": [255, 255, 255, 255]}, "outlineWidth": 1},
            "label": {"text": name, "font": "12pt sans-serif", "horizontalOrigin": "LEFT",
                      "pixelOffset": {"cartesian2": [10, 0]}, "fillColor": {"rgba": _rgba(k)}},
            "path": {"leadTime": 0.0, "trailTime": round(period_s, 1), "resolution": step_s,
                     "width": 1.5, "material": {"solidColor": {"color": {"rgba": _rgba(k, 180)}}}},
        })
    for station in scenario.stations:
        packets.append({
            "id": f"station/{station.name}", "name": station.name, "availability": span,
            "position": {"cartographicDegrees": [station.longitude_deg, station.latitude_deg,
                                                 station.elevation_m]},
            "point": {"pixelSize": 7, "color": {"rgba": [20, 20, 20, 255]},
                      "outlineColor": {"rgba": [255, 255, 255, 255]}, "outlineWidth": 2},
            "label": {"text": station.name, "font": "11pt sans-serif", "horizontalOrigin": "LEFT",
                      "pixelOffset": {"cartesian2": [8, 0]}},
        })
    if passes is not None:
        packets.extend(_access_packets(scenario, passes, available, iso))
    return packets


def _clip(intervals, limits):
    """Intersections of ``(a, b)`` intervals with the ``limits`` intervals (both sorted)."""
    out = []
    for a, b in intervals:
        for lo, hi in limits:
            x, y = max(a, lo), min(b, hi)
            if y > x:
                out.append((x, y))
    return out


def _access_packets(scenario, passes, available, iso):
    packets = []
    for sat, limits in available.items():
        sat_name = scenario.satellites[sat].name
        for st, station in enumerate(scenario.stations):
            rows = np.flatnonzero((passes.satellite == sat) & (passes.station == st))
            if rows.size == 0:
                continue
            refs = {"references": [_ref(f"satellite/{sat_name}"), _ref(f"station/{station.name}")]}
            kinds = (("access", passes.aos_s[rows], passes.los_s[rows], [255, 255, 255, 200], 1.5),
                     ("qkd-window", passes.window_start_s[rows][passes.has_window[rows]],
                      passes.window_end_s[rows][passes.has_window[rows]], [0, 230, 118, 255], 3.0))
            for kind, a, b, rgba, width in kinds:
                intervals = _clip(sorted(zip(a.tolist(), b.tolist())), limits)
                if not intervals:
                    continue
                packets.append({
                    "id": f"{kind}/{sat_name}/{station.name}",
                    "name": f"{sat_name} - {station.name} ({kind.replace('-', ' ')})",
                    "availability": [f"{iso(x)}/{iso(y)}" for x, y in intervals],
                    "polyline": {"positions": refs, "width": width, "arcType": "NONE",
                                 "material": {"solidColor": {"color": {"rgba": rgba}}}},
                })
    return packets


def write_json(document, path: str | Path) -> Path:
    """Write a GeoJSON dict or CZML packet list to ``path`` (compact JSON, no NaN); returns the path.

    Written to a temporary name in the same folder, then renamed, so a reader never sees
    half a file.
    """
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, separators=(",", ":"), allow_nan=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
