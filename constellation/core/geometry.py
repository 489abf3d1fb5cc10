"""Numeric kernels for Earth-fixed geometry (numpy only).

Conventions: positions in km, shapes ``(..., 3)`` with xyz last; angles in radians inside
the kernels unless the name says ``_deg``. Earth-fixed means ITRS as approximated by
rotating TEME through GMST-1982 (Vallado et al. 2006), without polar motion.
"""

from __future__ import annotations

import numpy as np

from ..constants import EARTH_ROTATION_RAD_S, WGS84_A_KM, WGS84_E2

_J2000_JD = 2451545.0
_TWO_PI = 2.0 * np.pi


def gmst82_rad(jd_ut1_whole, fraction_ut1):
    """Greenwich mean sidereal angle, IAU-1982 (rad), from a UT1 Julian date split in two.

    Uses the fractional UT1 day directly so the angle keeps ~1e-10 rad precision.
    """
    whole = np.asarray(jd_ut1_whole, dtype=float)
    fraction = np.asarray(fraction_ut1, dtype=float)
    centuries = ((whole - _J2000_JD) + fraction) / 36525.0
    # GMST(0h UT1 series, seconds) per Aoki et al. 1982, as in Vallado's gstime.
    g_s = 67310.54841 + (8640184.812866 + (0.093104 - 6.2e-6 * centuries) * centuries) * centuries
    day_turns = np.mod(whole, 1.0) + fraction + g_s / 86400.0
    return np.mod(day_turns, 1.0) * _TWO_PI


def teme_to_ecef(r_teme_km, v_teme_km_s, gmst_rad):
    """Rotate TEME position/velocity into the Earth-fixed frame.

    Parameters
    ----------
    r_teme_km, v_teme_km_s : array_like, shape (..., n_time, 3)
    gmst_rad : array_like, shape (n_time,)

    Returns
    -------
    r_km, v_km_s : ndarray, shape (..., n_time, 3)
        Velocity is relative to the rotating Earth.
    """
    r = np.asarray(r_teme_km, dtype=float)
    v = np.asarray(v_teme_km_s, dtype=float)
    c = np.cos(gmst_rad)
    s = np.sin(gmst_rad)
    x = c * r[..., 0] + s * r[..., 1]
    y = -s * r[..., 0] + c * r[..., 1]
    vx = c * v[..., 0] + s * v[..., 1] + EARTH_ROTATION_RAD_S * y
    vy = -s * v[..., 0] + c * v[..., 1] - EARTH_ROTATION_RAD_S * x
    return np.stack([x, y, r[..., 2]], axis=-1), np.stack([vx, vy, v[..., 2]], axis=-1)


def geodetic_to_ecef(latitude_deg, longitude_deg, elevation_m):
    """WGS84 geodetic coordinates to Earth-fixed position (km), shape ``(..., 3)``."""
    lat = np.radians(latitude_deg)
    lon = np.radians(longitude_deg)
    h_km = np.asarray(elevation_m, dtype=float) / 1000.0
    n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    x = (n_km + h_km) * np.cos(lat) * np.cos(lon)
    y = (n_km + h_km) * np.cos(lat) * np.sin(lon)
    z = (n_km * (1.0 - WGS84_E2) + h_km) * np.sin(lat)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(r_km):
    """Earth-fixed position (km) to WGS84 ``(latitude_deg, longitude_deg, height_km)``.

    Bowring-type fixed-point iteration; converges to < 1 mm in 4 steps for LEO to GEO.
    """
    r = np.asarray(r_km, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(5):
        n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
        height = _height(p, z, lat, n_km)
        lat = np.arctan2(z, p * (1.0 - WGS84_E2 * n_km / (n_km + height)))
    n_km = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), _height(p, z, lat, n_km)


def _height(p, z, lat, n_km):
    cos_lat = np.cos(lat)
    # Near the poles p / cos(lat) is ill-conditioned; use the z form there.
    near_pole = np.abs(cos_lat) < 1e-3
    safe_cos = np.where(near_pole, 1.0, cos_lat)
    safe_sin = np.where(near_pole, np.sin(lat), 1.0)
    from_p = p / safe_cos - n_km
    from_z = z / safe_sin - n_km * (1.0 - WGS84_E2)
    return np.where(near_pole, from_z, from_p)


def enu_basis(latitude_deg, longitude_deg):
    """East, north and up unit vectors (geodetic normal), each shape ``(..., 3)``."""
    lat = np.radians(latitude_deg)
    lon = np.radians(longitude_deg)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    east = np.stack(np.broadcast_arrays(-so, co, 0.0 * so), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return east, north, up


def look_angles(r_km, station_km, east, north, up):
    """Elevation, azimuth (rad, azimuth clockwise from north in [0, 2 pi)) and range (km).

    ``r_km`` has shape ``(..., 3)``; the station vectors broadcast against it.
    """
    d = np.asarray(r_km, dtype=float) - station_km
    range_km = np.linalg.norm(d, axis=-1)
    u = np.einsum("...i,...i->...", d, up)
    e = np.einsum("...i,...i->...", d, east)
    n = np.einsum("...i,...i->...", d, north)
    elevation = np.arcsin(np.clip(u / range_km, -1.0, 1.0))
    azimuth = np.mod(np.arctan2(e, n), _TWO_PI)
    return elevation, azimuth, range_km


def sin_elevation_and_rate(r_km, v_km_s, station_km, up):
    """sin(elevation) and its time derivative (1/s) for Earth-fixed ``r``, ``v``."""
    d = np.asarray(r_km, dtype=float) - station_km
    rho = _norm(d)
    du = np.einsum("...i,...i->...", d, up)
    dv = np.einsum("...i,...i->...", d, v_km_s)
    vu = np.einsum("...i,...i->...", v_km_s, up)
    sin_el = du / rho
    return sin_el, vu / rho - du * dv / rho**3


def range_rate_km_s(r_km, v_km_s, station_km):
    """Range (km) and range rate (km/s) of Earth-fixed ``r``, ``v`` from a station."""
    d = np.asarray(r_km, dtype=float) - station_km
    rho = _norm(d)
    return rho, np.einsum("...i,...i->...", d, v_km_s) / rho


def shadow_margin_km(r_km, sun_unit):
    """Signed distance (km) of a satellite from Earth's cylindrical shadow.

    Positive when sunlit, negative inside the cylindrical shadow of a sphere of radius
    ``WGS84_A_KM`` cast along ``sun_unit`` (the geocentric Sun direction). Skyfield's
    ``is_sunlit`` uses the satellite-to-Sun line instead; the two directions differ by
    < 5e-5 rad in LEO, which moves shadow entry and exit by ~40 ms. Continuous, so it can
    be root-found.
    """
    r = np.asarray(r_km, dtype=float)
    along = np.einsum("...i,...i->...", r, sun_unit)
    perp = np.linalg.norm(r - along[..., None] * sun_unit, axis=-1)
    behind = along < 0.0
    return np.where(behind, perp, np.linalg.norm(r, axis=-1)) - WGS84_A_KM


def _norm(d):
    return np.sqrt(np.einsum("...i,...i->...", d, d))


def interpolate_mask_deg(azimuth_deg, mask_az_deg, mask_el_deg):
    """Horizon mask elevation (deg) at ``azimuth_deg``, linear and periodic in azimuth."""
    return np.interp(np.mod(azimuth_deg, 360.0), mask_az_deg, mask_el_deg, period=360.0)
