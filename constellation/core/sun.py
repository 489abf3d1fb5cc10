"""Direction of the Sun (and the Moon) in the Earth-fixed frame, cheap to evaluate at many times.

JPL DE421 (from ``skyfield-data``) gives the geocentric Sun or Moon at nodes every ``node_s``;
between nodes the Earth-fixed direction is interpolated after removing Earth rotation
(GMST-1982), so the interpolated quantity moves only ~1 deg/day and linear interpolation
over an hour errs by < 1e-7 rad (0.02 arcsec), far below what a -12 deg twilight
threshold needs. The Moon moves ~0.5 deg/h: linear interpolation over an hour errs by
~1e-5 rad; its direction is geocentric (the topocentric parallax, up to ~1 deg, is far below
what the sky brightness needs).
"""

from __future__ import annotations

import numpy as np

from .geometry import gmst82_rad
from .timebase import TimeBase, ephemeris


class SunTrack:
    """Earth-fixed unit vectors towards the Sun over ``[t0_s, t1_s]`` of a TimeBase."""

    body = "sun"

    def __init__(self, timebase: TimeBase, t0_s: float, t1_s: float, node_s: float = 3600.0):
        from skyfield.framelib import itrs

        self.timebase = timebase
        n = int(np.ceil((t1_s - t0_s) / node_s)) + 3
        self.nodes_s = t0_s - node_s + node_s * np.arange(n)
        eph = ephemeris()
        sun_itrs = (eph[self.body] - eph["earth"]).at(timebase.time(self.nodes_s)).frame_xyz(itrs).km
        unit = (sun_itrs / np.linalg.norm(sun_itrs, axis=0)).T
        self._inertial = _rotate_z(unit, self._gmst(self.nodes_s))

    def _gmst(self, t_s):
        whole, _, fraction_ut1 = self.timebase.sgp4_and_ut1(t_s)
        return gmst82_rad(whole, fraction_ut1)

    def earth_rotation_rad(self, t_s):
        """GMST-1982 (rad) at ``t_s``: pass it to :meth:`unit_ecef` of several tracks."""
        return self._gmst(np.asarray(t_s, dtype=float).ravel())

    def unit_ecef(self, t_s, gmst_rad=None):
        """Unit vectors to the Sun, shape ``t_s.shape + (3,)``.

        Pass ``gmst_rad`` when the caller already has it for these times.
        """
        t_s = np.asarray(t_s, dtype=float)
        flat = t_s.ravel()
        q = np.stack([np.interp(flat, self.nodes_s, self._inertial[:, k]) for k in range(3)], axis=-1)
        q /= np.linalg.norm(q, axis=-1, keepdims=True)
        theta = self._gmst(flat) if gmst_rad is None else np.asarray(gmst_rad, dtype=float).ravel()
        return _rotate_z(q, -theta).reshape(t_s.shape + (3,))


class MoonTrack(SunTrack):
    """Earth-fixed unit vectors towards the Moon (geocentric) over ``[t0_s, t1_s]``."""

    body = "moon"


def moon_phase_angle_deg(sun_unit, moon_unit):
    """Phase angle of the Moon (deg; 0 = full) from geocentric unit vectors to the Sun and the
    Moon (``180 - elongation``; the Sun's finite distance changes it by < 0.2 deg)."""
    cos_elongation = np.clip(np.einsum("...k,...k->...", sun_unit, moon_unit), -1.0, 1.0)
    return 180.0 - np.degrees(np.arccos(cos_elongation))


def _rotate_z(vectors, angle_rad):
    """Rotate ``(n, 3)`` vectors by ``angle_rad`` about z (counter-clockwise)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    x, y, z = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    return np.stack([c * x - s * y, s * x + c * y, z], axis=-1)
