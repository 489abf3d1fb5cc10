"""Distances on the WGS84 ellipsoid between ground sites.

API
---
``geodesic_distance_km(lat1_deg, lon1_deg, lat2_deg, lon2_deg)``
    Shortest path on the WGS84 ellipsoid (Karney 2013, J. Geodesy 87:43, through the
    ``geographiclib`` package): accurate to ~15 nm for any pair, antipodal ones included
    (Vincenty's inverse fails to converge there). Scalars or broadcastable arrays.
``site_distance_km(a, b)``
    The same for two objects with ``latitude_deg`` / ``longitude_deg`` (e.g. ``Station``).
``great_circle_distance_km(...)``
    Haversine on a sphere of the IUGG mean radius (``constants.EARTH_MEAN_RADIUS_KM``,
    6,371.0088 km): an independent, cruder cross-check (within ~0.5 % of the geodesic).

Heights are ignored: the distance is measured on the ellipsoid surface, as published
link lengths are (Xinglong-Graz 7,641 km geodesic, 7,621 km on a sphere; docs/references.md §3).

>>> round(geodesic_distance_km(40.39587, 117.57746, 47.0671, 15.4933), 1)
7641.3
"""

from __future__ import annotations

import numpy as np

from ..constants import EARTH_MEAN_RADIUS_KM, WGS84_A_KM, WGS84_F


def _geodesic():
    try:
        from geographiclib.geodesic import Geodesic
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("geodesic distances need the 'geographiclib' package: "
                          "pip install geographiclib") from error
    return Geodesic(WGS84_A_KM * 1000.0, WGS84_F)


def geodesic_distance_km(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """WGS84 geodesic distance (km) between points given in degrees.

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : float or array_like
        Geodetic latitudes in [-90, 90] and longitudes (any range); arrays broadcast.

    Returns
    -------
    float, or ndarray of the broadcast shape
    """
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                                   (lat1_deg, lon1_deg, lat2_deg, lon2_deg)))
    if np.any(np.abs(lat1) > 90.0) or np.any(np.abs(lat2) > 90.0):
        raise ValueError("latitudes must lie in [-90, 90] degrees")
    geod = _geodesic()
    out = np.empty(lat1.shape)
    flat = out.reshape(-1)
    for k, (p1, l1, p2, l2) in enumerate(zip(lat1.ravel(), lon1.ravel(), lat2.ravel(), lon2.ravel())):
        flat[k] = geod.Inverse(p1, l1, p2, l2, outmask=geod.DISTANCE)["s12"] / 1000.0
    return float(out) if out.ndim == 0 else out


def site_distance_km(a, b) -> float:
    """Geodesic distance (km) between two sites with ``latitude_deg`` and ``longitude_deg``."""
    return float(geodesic_distance_km(a.latitude_deg, a.longitude_deg, b.latitude_deg, b.longitude_deg))


def great_circle_distance_km(lat1_deg, lon1_deg, lat2_deg, lon2_deg, radius_km: float = EARTH_MEAN_RADIUS_KM):
    """Haversine distance (km) on a sphere of ``radius_km``; arrays broadcast."""
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    d = 2.0 * radius_km * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d
