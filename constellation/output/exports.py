"""Ground tracks, footprints and access for other tools: GeoJSON (RFC 7946) and CZML (Cesium).

Functions
---------
tracks_geojson(tracks, timebase)                                FeatureCollection of MultiLineStrings
footprints_geojson(footprints, timebase)                        FeatureCollection of (Multi)Polygons
footprints_document(scenario, at_s, min_elevation_deg, satellites)   the footprint GeoJSON of a scenario
czml_document(scenario, passes, ...)                            list of CZML packets

What is drawn (ground tracks, footprints) is computed in :mod:`constellation.coverage.tracks`.

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

Times: ``t_s`` are TAI seconds since the scenario start (see :mod:`constellation.core.timebase`);
CZML sample offsets are the same seconds, as Cesium's ``JulianDate`` counts them.
"""

from __future__ import annotations

import json

import numpy as np

from ..coverage.tracks import (Footprints, GroundTracks, sample_times_s, satellite_footprints, scenario_span_s,
                               select_satellites, split_antimeridian, usable_samples)
from ..pipeline import propagator_for

__all__ = [
    "czml_document",
    "footprints_document",
    "footprints_geojson",
    "tracks_geojson",
]

_DECIMALS = 6
_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
            (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


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

    Properties: ``satellite``, ``at_s`` (s since the scenario start; and ``at_utc`` with a
    ``timebase``), ``min_elevation_deg``, ``cap_angle_deg`` (Earth central angle of the cap)
    and ``subsatellite_lon_lat_deg`` (geocentric ``[lon, lat]``). Satellites SGP4 could not
    compute at that instant (or that had decayed) get a feature with a ``null`` geometry.
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


def footprints_document(scenario, at_s: float = 0.0, min_elevation_deg: float | None = None,
                        satellites=None) -> dict:
    """The footprints of a scenario's satellites at ``at_s`` as one GeoJSON FeatureCollection.

    The one footprint schema of every command (``export footprints``, ``coverage --geojson``,
    ``run``'s ``footprints.geojson``); see :func:`footprints_geojson` for its properties.
    ``min_elevation_deg`` defaults to the scenario's ``[coverage] min_elevation_deg`` and,
    without a ``[coverage]`` table, to the lowest mask of its stations.
    """
    if min_elevation_deg is None and scenario.coverage is not None:
        min_elevation_deg = scenario.coverage.min_elevation_deg
    feet = satellite_footprints(scenario, at_s, satellites, min_elevation_deg)
    return footprints_geojson(feet, scenario.timebase)


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
    start, end = scenario_span_s(scenario, start_s, end_s)
    tb = scenario.timebase
    t = sample_times_s(start, end, step_s)
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
