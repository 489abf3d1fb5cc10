"""Spherical caps: the ground region from which a satellite is above an elevation mask (numpy only).

Model: a spherical Earth of mean radius ``EARTH_MEAN_RADIUS_KM`` (IUGG R1, in
:mod:`constellation.constants`). A satellite at distance ``r`` from the Earth's centre is
seen above elevation ``el`` from every ground point within the Earth central angle

    lambda = arccos(R cos(el) / r) - el

of the sub-satellite point (the direction of the satellite from the Earth's centre), so
the region is a spherical cap. Latitudes and longitudes here are spherical (geocentric);
on WGS84 the cap boundary moves by < 0.2 deg of latitude, well inside what a coverage grid
resolves. The coverage kernels (:mod:`.kernels`) count the grid points inside these caps
and :mod:`.footprints` draws them as polygons, so the two agree.

Functions
---------
cap_angle_rad(radius_km, min_elevation_rad)             kernel: cap angle (rad), broadcasts
cap_angle_deg(altitude_km, min_elevation_deg)           central angle of the cap (deg)
min_elevation_for_cap_deg(altitude_km, cap_angle_deg)   the inverse: mask giving that cap
cap_area_km2(cap_angle_deg)                             2 pi R^2 (1 - cos lambda)
cap_boundary_deg(lat_deg, lon_deg, cap_angle_deg, n)    boundary points (lat, lon), each (n_cap, n)
check_min_elevation_deg(min_elevation_deg)              the mask as an array, checked

Bad arguments raise :class:`~constellation.errors.ParameterError` (a ``ValueError``).

>>> round(float(cap_angle_deg(550.0, 20.0)), 3)
10.115
"""

from __future__ import annotations

import numpy as np

from ..constants import EARTH_MEAN_RADIUS_KM
from ..errors import ParameterError


def check_min_elevation_deg(min_elevation_deg) -> np.ndarray:
    """``min_elevation_deg`` as an array; ParameterError unless every value is in [0, 90)."""
    el = np.asarray(min_elevation_deg, dtype=float)
    if not np.all(np.isfinite(el)) or np.any(el < 0.0) or np.any(el >= 90.0):
        raise ParameterError("min_elevation_deg", "an elevation mask in [0, 90) deg", min_elevation_deg)
    return el


def cap_angle_rad(radius_km, min_elevation_rad, earth_radius_km: float = EARTH_MEAN_RADIUS_KM):
    """Kernel: cap central angle (rad) for satellites at ``radius_km`` from the Earth's centre.

    Broadcasts; 0 where the satellite is not above the surface.
    """
    radius = np.asarray(radius_km, dtype=float)
    el = np.asarray(min_elevation_rad, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = earth_radius_km * np.cos(el) / radius
    angle = np.arccos(np.clip(ratio, -1.0, 1.0)) - el
    return np.where(np.isfinite(ratio) & (ratio < 1.0), np.maximum(angle, 0.0), 0.0)


def cap_angle_deg(altitude_km, min_elevation_deg, earth_radius_km: float = EARTH_MEAN_RADIUS_KM):
    """Earth central angle (deg) of the region seeing a satellite at ``altitude_km`` above ``min_elevation_deg``.

    ``lambda = arccos(R cos(el) / (R + h)) - el``; broadcasts over both arguments.
    Raises ParameterError for a mask outside [0, 90) deg or a negative altitude.
    """
    el = np.radians(check_min_elevation_deg(min_elevation_deg))
    h = np.asarray(altitude_km, dtype=float)
    if not np.all(np.isfinite(h)) or np.any(h < 0.0):
        raise ParameterError("altitude_km", "an altitude >= 0 km", altitude_km)
    return np.degrees(cap_angle_rad(earth_radius_km + h, el, earth_radius_km))


def min_elevation_for_cap_deg(altitude_km, cap_angle_deg, earth_radius_km: float = EARTH_MEAN_RADIUS_KM):
    """Elevation mask (deg) at which a satellite at ``altitude_km`` covers a cap of ``cap_angle_deg``.

    Inverse of :func:`cap_angle_deg`: ``tan(el) = (cos(lambda) - R / r) / sin(lambda)``.
    Negative when the cap is larger than the satellite's horizon.
    """
    lam = np.radians(np.asarray(cap_angle_deg, dtype=float))
    r = earth_radius_km + np.asarray(altitude_km, dtype=float)
    return np.degrees(np.arctan2(np.cos(lam) - earth_radius_km / r, np.sin(lam)))


def cap_area_km2(cap_angle_deg, earth_radius_km: float = EARTH_MEAN_RADIUS_KM):
    """Area of a spherical cap of central angle ``cap_angle_deg``: 2 pi R^2 (1 - cos lambda)."""
    return 2.0 * np.pi * earth_radius_km**2 * (1.0 - np.cos(np.radians(cap_angle_deg)))


def cap_boundary_deg(lat_deg, lon_deg, cap_angle_deg, n_vertices: int = 180, start_azimuth_deg=0.0):
    """Points on the cap boundary: ``(lat_deg, lon_deg)``, each shape ``(n_cap, n_vertices)``.

    Vertex ``j`` lies at the cap angle from the centre along azimuth
    ``start_azimuth_deg + 360 j / n_vertices`` (clockwise from north; the spherical direct
    problem). Longitudes are the centre's plus an offset in (-180, 180], so they are not
    wrapped: a boundary crossing the antimeridian runs past +/-180.
    """
    lon0 = np.atleast_1d(np.asarray(lon_deg, dtype=float))[:, None]
    lat0 = np.radians(np.atleast_1d(np.asarray(lat_deg, dtype=float)))[:, None]
    d = np.radians(np.atleast_1d(np.asarray(cap_angle_deg, dtype=float)))
    d = np.broadcast_to(d, lat0.shape[:1])[:, None]
    start = np.radians(np.broadcast_to(np.asarray(start_azimuth_deg, dtype=float), lat0.shape[:1]))[:, None]
    az = start + 2.0 * np.pi * np.arange(n_vertices) / n_vertices
    sin_lat = np.clip(np.sin(lat0) * np.cos(d) + np.cos(lat0) * np.sin(d) * np.cos(az), -1.0, 1.0)
    lat = np.arcsin(sin_lat)
    dlon = np.arctan2(np.sin(az) * np.sin(d) * np.cos(lat0), np.cos(d) - np.sin(lat0) * sin_lat)
    return np.degrees(lat), lon0 + np.degrees(dlon)
