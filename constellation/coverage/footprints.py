"""Footprints: the spherical caps of :mod:`.caps` as polygons, and their GeoJSON.

The cap of a satellite is the ground region from which it is above an elevation mask
(spherical Earth; the model is in :mod:`.caps`). Polygons are shapely geometries in
(longitude, latitude) degrees, as GeoJSON (RFC 7946) wants them: vertices are points of
the true small circle (the spherical direct problem at the cap angle), exteriors
counter-clockwise, a cap crossing the antimeridian is cut there into a MultiPolygon, and
a cap containing a pole is closed along the pole edge (latitude +/-90 from -180 to 180).

Public functions
----------------
footprint(lat_deg, lon_deg, cap_angle_deg)              one Polygon / MultiPolygon
footprints(lat_deg, lon_deg, cap_angle_deg)             list of them, vectorised
footprints_from_positions(r_km, min_elevation_deg)      footprints of Earth-fixed positions
polygon_area_km2(geometry)                              area on the sphere of a lon/lat polygon
footprints_geojson(geometries, properties)              GeoJSON FeatureCollection (a dict)

Bad arguments raise :class:`~constellation.errors.ParameterError` (a ``ValueError``).

>>> g = footprint(89.0, 30.0, 10.0)     # contains the north pole: one polygon to +90
>>> g.geom_type, g.bounds[3]
('Polygon', 90.0)
>>> footprint(0.0, 179.0, 10.0).geom_type  # crosses the antimeridian
'MultiPolygon'
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.polygon import orient

from ..constants import EARTH_MEAN_RADIUS_KM
from ..errors import ParameterError
from .caps import cap_angle_rad, cap_boundary_deg, check_min_elevation_deg

_WORLD = box(-180.0, -90.0, 180.0, 90.0)


def _wrap_deg(lon):
    return (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0


def footprints(lat_deg, lon_deg, cap_angle_deg, n_vertices: int = 180) -> list:
    """Footprint polygons of caps centred at ``(lat_deg, lon_deg)`` (arrays of one shape).

    Returns a list (one per cap) of shapely Polygon or MultiPolygon in lon/lat degrees,
    counter-clockwise, split at the antimeridian, closed along the pole edge when the cap
    contains a pole. A zero cap angle gives an empty Polygon.
    """
    lat0 = np.atleast_1d(np.asarray(lat_deg, dtype=float)).ravel()
    lon0 = _wrap_deg(np.atleast_1d(np.asarray(lon_deg, dtype=float)).ravel())
    d = np.broadcast_to(np.asarray(cap_angle_deg, dtype=float), lat0.shape).copy()
    if lon0.shape != lat0.shape:
        raise ParameterError("lat_deg/lon_deg", "arrays of the same shape", f"{lat0.shape} and {lon0.shape}")
    if np.any(~np.isfinite(d)) or np.any(d < 0.0) or np.any(d >= 90.0):
        raise ParameterError("cap_angle_deg", "a cap angle in [0, 90) deg", cap_angle_deg)
    if np.any(np.abs(lat0) > 90.0):
        raise ParameterError("lat_deg", "latitudes in [-90, 90] deg", lat_deg)
    if n_vertices < 8:
        raise ParameterError("n_vertices", "at least 8 vertices", n_vertices)
    out = [None] * lat0.size
    north = lat0 + d > 90.0
    south = lat0 - d < -90.0
    at_pole = np.abs(lat0) > 90.0 - 1e-9
    simple = ~(north | south | at_pole) & (d > 0.0)
    if simple.any():
        lat_b, lon_b = cap_boundary_deg(lat0[simple], lon0[simple], d[simple], n_vertices)
        # Azimuth runs clockwise on the map; reverse for counter-clockwise exteriors.
        coords = np.stack([lon_b[:, ::-1], lat_b[:, ::-1]], axis=-1)
        polys = shapely.polygons(coords)
        crosses = (lon_b.min(axis=1) < -180.0) | (lon_b.max(axis=1) > 180.0)
        for k, i in enumerate(np.flatnonzero(simple)):
            out[i] = _cut_at_antimeridian(polys[k]) if crosses[k] else polys[k]
    for i in np.flatnonzero(~simple):
        if d[i] == 0.0:
            out[i] = Polygon()
        elif at_pole[i]:
            edge = np.sign(lat0[i]) * (90.0 - d[i])
            out[i] = orient(box(-180.0, min(edge, np.sign(lat0[i]) * 90.0), 180.0,
                                max(edge, np.sign(lat0[i]) * 90.0)), 1.0)
        else:
            out[i] = _polar_cap(lat0[i], lon0[i], d[i], n_vertices, 90.0 if north[i] else -90.0)
    return out


def footprint(lat_deg: float, lon_deg: float, cap_angle_deg: float, n_vertices: int = 180):
    """Footprint polygon of one cap; see :func:`footprints`."""
    return footprints(lat_deg, lon_deg, cap_angle_deg, n_vertices)[0]


def _polar_cap(lat0, lon0, d, n_vertices, pole_lat):
    """A cap containing a pole: the boundary is monotonic in longitude; close it along the pole."""
    # Start where the boundary crosses the centre's meridian beyond the pole (dlon = +/-180).
    start = 0.0 if pole_lat > 0 else 180.0
    lat_b, lon_b = cap_boundary_deg(lat0, lon0, d, n_vertices, start)
    lat_b = np.append(lat_b[0], lat_b[0, 0])
    dlon_b = np.append(lon_b[0], lon_b[0, 0]) - lon0
    dlon_b[0] = 180.0 * np.sign(dlon_b[1])
    dlon_b[-1] = 180.0 * np.sign(dlon_b[-2])
    lon_b = lon0 + dlon_b
    ring = np.column_stack([np.append(lon_b, [lon_b[-1], lon_b[0]]),
                            np.append(lat_b, [pole_lat, pole_lat])])
    return _cut_at_antimeridian(orient(Polygon(ring), 1.0))


def _cut_at_antimeridian(poly):
    """Split a polygon whose longitudes leave [-180, 180] into pieces shifted back inside."""
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        part = shapely.intersection(shapely.transform(poly, lambda c, s=shift: c + [s, 0.0]), _WORLD)
        pieces.extend(p for p in getattr(part, "geoms", [part])
                      if p.geom_type == "Polygon" and p.area > 0.0)
    merged = shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]
    parts = [orient(p, 1.0) for p in getattr(merged, "geoms", [merged])]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def footprints_from_positions(r_km, min_elevation_deg=0.0, n_vertices: int = 180,
                              earth_radius_km: float = EARTH_MEAN_RADIUS_KM) -> list:
    """Footprints of satellites at Earth-fixed positions ``r_km``, shape ``(..., 3)`` (km).

    The cap is centred on the geocentric sub-satellite direction, with the angle for the
    satellite's distance from the Earth's centre. Returns a flat list (C order).
    """
    el = np.radians(check_min_elevation_deg(min_elevation_deg))
    r = np.asarray(r_km, dtype=float).reshape(-1, 3)
    radius = np.linalg.norm(r, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat = np.degrees(np.arcsin(np.clip(r[:, 2] / radius, -1.0, 1.0)))
    lon = np.degrees(np.arctan2(r[:, 1], r[:, 0]))
    angle = np.degrees(cap_angle_rad(radius, el, earth_radius_km))
    return footprints(np.nan_to_num(lat), lon, angle, n_vertices)


def _ring_integral(coords):
    """sum over edges of -integral sin(lat) dlon, edges straight in (lon, lat), radians."""
    lon = np.radians(coords[:, 0])
    lat = np.radians(coords[:, 1])
    l1, l2 = lon[:-1], lon[1:]
    p1, p2 = lat[:-1], lat[1:]
    dp = p2 - p1
    flat = np.abs(dp) < 1e-12
    mean_sin = np.where(flat, np.sin(p1), (np.cos(p1) - np.cos(p2)) / np.where(flat, 1.0, dp))
    return -np.sum((l2 - l1) * mean_sin)


def polygon_area_km2(geometry, earth_radius_km: float = EARTH_MEAN_RADIUS_KM) -> float:
    """Area on the sphere (km^2) of a lon/lat (Multi)Polygon whose edges are straight in lon/lat.

    Exact for the polygon as drawn (the GeoJSON reading of its edges): Green's theorem with
    the area element R^2 cos(lat) dlat dlon.
    """
    total = 0.0
    for poly in getattr(geometry, "geoms", [geometry]):
        if poly.is_empty:
            continue
        total += abs(_ring_integral(np.asarray(poly.exterior.coords)))
        total -= sum(abs(_ring_integral(np.asarray(h.coords))) for h in poly.interiors)
    return total * earth_radius_km**2


def footprints_geojson(geometries, properties=None, precision: int | None = 6) -> dict:
    """A GeoJSON FeatureCollection (dict, ready for ``json.dump``) of footprint geometries.

    ``properties`` is an optional list of dicts, one per geometry. Coordinates are rounded
    to ``precision`` decimals (6 = 0.1 m) unless it is None.
    """
    geometries = list(geometries)
    if properties is None:
        properties = [{} for _ in geometries]
    properties = list(properties)
    if len(properties) != len(geometries):
        raise ParameterError("properties", f"one dict per geometry ({len(geometries)})", f"{len(properties)} dicts")
    features = []
    for geom, props in zip(geometries, properties):
        if precision is not None:
            geom = shapely.transform(geom, lambda c: np.round(c, precision))
        features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
                         "properties": dict(props)})
    return {"type": "FeatureCollection", "features": features}
