"""Designed orbits as SGP4 element sets: classical elements, sun-synchronous, Walker.

Satellites are built with ``Satrec.sgp4init`` directly (never through TLE text, which
rounds small values such as B*). ``altitude_km`` means the mean semi-major axis minus the
WGS72 equatorial radius, the constants SGP4 is defined with.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from sgp4.api import WGS72, Satrec

from ..constants import EARTH_ROTATION_RAD_S, SUN_SYNC_RAAN_RATE_RAD_S, WGS72_J2, WGS72_MU_KM3_S2, WGS72_RE_KM

_SGP4_EPOCH0 = dt.datetime(1949, 12, 31, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Elements:
    """Mean orbital elements at an epoch (angles in degrees)."""

    semi_major_axis_km: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    argp_deg: float
    mean_anomaly_deg: float
    epoch: dt.datetime
    bstar: float = 0.0


def semi_major_axis_km(altitude_km: float) -> float:
    return WGS72_RE_KM + altitude_km


def period_s(semi_major_axis: float) -> float:
    return 2.0 * math.pi * math.sqrt(semi_major_axis**3 / WGS72_MU_KM3_S2)


def satrec_from_elements(elements: Elements, satnum: int = 99999) -> Satrec:
    """An ``sgp4.api.Satrec`` initialised from mean elements (WGS72, improved mode)."""
    a = elements.semi_major_axis_km
    mean_motion_rad_min = math.sqrt(WGS72_MU_KM3_S2 / a**3) * 60.0
    epoch_days = (elements.epoch - _SGP4_EPOCH0).total_seconds() / 86400.0
    sat = Satrec()
    sat.sgp4init(
        WGS72, "i", int(satnum), epoch_days, float(elements.bstar), 0.0, 0.0,
        float(elements.eccentricity), math.radians(elements.argp_deg),
        math.radians(elements.inclination_deg), math.radians(elements.mean_anomaly_deg),
        mean_motion_rad_min, math.radians(elements.raan_deg),
    )
    return sat


def sun_synchronous_inclination_deg(altitude_km: float, eccentricity: float = 0.0) -> float:
    """Inclination whose J2 nodal regression follows the mean Sun (deg).

    cos i = -2 n_dot a^(7/2) (1 - e^2)^2 / (3 J2 Re^2 sqrt(mu)) (Vallado, Fundamentals of
    Astrodynamics, eq. 11-17 rearranged). Raises ValueError above ~5,970 km, where no
    sun-synchronous circular orbit exists.
    """
    a = semi_major_axis_km(altitude_km)
    cos_i = (-2.0 * SUN_SYNC_RAAN_RATE_RAD_S * a**3.5 * (1.0 - eccentricity**2) ** 2
             / (3.0 * WGS72_J2 * WGS72_RE_KM**2 * math.sqrt(WGS72_MU_KM3_S2)))
    if cos_i < -1.0:
        raise ValueError("an altitude below ~5,970 km (no sun-synchronous orbit above that)")
    return math.degrees(math.acos(cos_i))


def parse_local_time_hours(text: str) -> float:
    """``"HH:MM"`` (or ``"HH:MM:SS"``) to hours. Raises ValueError if malformed."""
    parts = str(text).split(":")
    if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts):
        raise ValueError("a local time 'HH:MM'")
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60):
        raise ValueError("a local time 'HH:MM' between 00:00 and 23:59")
    return h + m / 60.0 + s / 3600.0


def sun_right_ascension_deg(epoch: dt.datetime) -> float:
    """Apparent right ascension of the Sun, of date (deg), from DE421."""
    from .timebase import ephemeris, parse_utc

    eph = ephemeris()
    ra, _, _ = eph["earth"].at(parse_utc(epoch)).observe(eph["sun"]).apparent().radec(epoch="date")
    return float(ra.hours) * 15.0


def raan_for_ltan_deg(ltan_hours: float, epoch: dt.datetime) -> float:
    """RAAN (deg) placing the ascending node at local apparent solar time ``ltan_hours``."""
    return float(np.mod(sun_right_ascension_deg(epoch) + 15.0 * (ltan_hours - 12.0), 360.0))


def sun_synchronous(altitude_km: float, ltan_hours: float, epoch: dt.datetime,
                    mean_anomaly_deg: float = 0.0, eccentricity: float = 0.0) -> Elements:
    """Elements of a sun-synchronous orbit with the given local time of ascending node.

    The J2 formula is the first guess; the inclination is then tuned (secant steps) until
    SGP4's own secular nodal rate, which includes J4 and the Kozai-Brouwer mean-motion
    conversion, equals the mean Sun's rate to 1e-6 relative, so the node keeps its local
    time in propagation (the J2 guess alone drifts ~0.6 deg of RAAN per year).
    """
    base = Elements(semi_major_axis_km(altitude_km), eccentricity,
                    sun_synchronous_inclination_deg(altitude_km, eccentricity),
                    raan_for_ltan_deg(ltan_hours, epoch), 0.0, mean_anomaly_deg, epoch)
    target = SUN_SYNC_RAAN_RATE_RAD_S * 60.0  # rad/min, SGP4's unit

    def excess(inclination_deg: float) -> float:
        trial = dataclasses.replace(base, inclination_deg=inclination_deg)
        return satrec_from_elements(trial).nodedot - target

    i0, i1 = base.inclination_deg, base.inclination_deg + 0.05
    f0, f1 = excess(i0), excess(i1)
    for _ in range(8):
        if f1 == f0 or abs(f1) <= 1e-6 * target:
            break
        i0, i1, f0 = i1, i1 - f1 * (i1 - i0) / (f1 - f0), f1
        f1 = excess(i1)
    return dataclasses.replace(base, inclination_deg=i1)


def walker(pattern: str, total: int, planes: int, phasing: int, altitude_km: float,
           inclination_deg: float, epoch: dt.datetime, raan0_deg: float = 0.0,
           mean_anomaly0_deg: float = 0.0) -> list[tuple[int, int, Elements]]:
    """Walker delta (planes over 360 deg of RAAN) or star (over 180 deg) constellation.

    Returns ``(plane, slot, elements)`` for each of the ``total`` satellites; satellite
    ``s`` of plane ``p`` has mean anomaly ``M0 + 360 s / S + 360 F p / T`` (Walker 1984
    notation T/P/F, S = T/P satellites per plane) and right ascension of the ascending node
    ``RAAN0 + spread p / P``.
    """
    if planes <= 0 or total % planes:
        raise ValueError(f"total divisible by planes (total={total}, planes={planes})")
    if not 0 <= phasing < planes:
        raise ValueError(f"phasing in 0..planes-1 (0..{planes - 1})")
    per_plane = total // planes
    spread = 360.0 if pattern == "delta" else 180.0
    a = semi_major_axis_km(altitude_km)
    out = []
    for p in range(planes):
        for s in range(per_plane):
            m = mean_anomaly0_deg + 360.0 * s / per_plane + 360.0 * phasing * p / total
            raan = raan0_deg + spread * p / planes
            out.append((p, s, Elements(a, 0.0, inclination_deg, raan % 360.0, 0.0, m % 360.0, epoch)))
    return out


GEO_SEMI_MAJOR_AXIS_KM = (WGS72_MU_KM3_S2 / (2.0 * math.pi / 86164.0905) ** 2) ** (1.0 / 3.0)


def geostationary(longitude_deg: float, epoch: dt.datetime, inclination_deg: float = 0.0) -> Elements:
    """SGP4 elements of a satellite in geostationary slot ``longitude_deg`` (east positive) at
    ``epoch``: circular, period one sidereal day (a = 42,164 km), on its ascending node over
    the slot at the epoch (right ascension of the node = Greenwich sidereal time + longitude).

    These elements describe the satellite at the epoch. Left to SGP4 it drifts: the
    Earth's tesseral harmonics pull it towards 75 E or 105 W (from 100 E: 0.5 deg in 30
    days, 21 deg in 180). A satellite in service is kept in its slot; positions come from
    :class:`GeoSlot`, which the scenario builds alongside.
    """
    gmst_deg = math.degrees(_gmst82_rad(epoch))  # the sidereal time SGP4's TEME frame turns with
    return Elements(GEO_SEMI_MAJOR_AXIS_KM, 0.0, inclination_deg, float(np.mod(gmst_deg + longitude_deg, 360.0)),
                    0.0, 0.0, epoch)


@dataclass(frozen=True)
class GeoSlot:
    """A geosynchronous satellite kept in its slot by station keeping.

    ITU Radio Regulations No. 22.6 require a geostationary space station to keep within
    +/-0.1 deg of its nominal longitude; operators keep it there with east-west manoeuvres
    every few weeks. The model is the orbit the manoeuvres hold: circular, radius
    ``GEO_SEMI_MAJOR_AXIS_KM``, period one sidereal day, ascending node over
    ``longitude_deg``. Earth-fixed, it is a point over the equator, or for an inclined orbit a
    figure of eight between latitudes +/-``inclination_deg`` centred on the slot, with the
    satellite on its ascending node when Greenwich sidereal time is ``node_gmst_rad``. The
    inclination is held as given (without north-south manoeuvres it grows ~0.8 deg a year).
    """

    longitude_deg: float
    inclination_deg: float = 0.0
    node_gmst_rad: float = 0.0

    def states(self, gmst_rad) -> tuple[np.ndarray, np.ndarray]:
        """Earth-fixed position (km) and Earth-relative velocity (km/s), shape ``(n, 3)``,
        at Greenwich sidereal times ``gmst_rad`` (shape ``(n,)``)."""
        phase = np.atleast_1d(np.asarray(gmst_rad, dtype=float)) - self.node_gmst_rad  # angle along the orbit
        inc = math.radians(self.inclination_deg)
        turn = math.radians(self.longitude_deg) - phase  # the node's Earth-fixed longitude, less the phase
        c, s = np.cos(turn), np.sin(turn)
        ox, oy, oz = np.cos(phase), np.sin(phase) * math.cos(inc), np.sin(phase) * math.sin(inc)
        r = GEO_SEMI_MAJOR_AXIS_KM * np.stack([c * ox - s * oy, s * ox + c * oy, oz], axis=-1)
        # d/dphase of Rz(turn) o(phase), turn falling as phase grows; phase grows at Earth's rate.
        dx, dy, dz = -np.sin(phase), np.cos(phase) * math.cos(inc), np.cos(phase) * math.sin(inc)
        along = GEO_SEMI_MAJOR_AXIS_KM * np.stack([c * dx - s * dy, s * dx + c * dy, dz], axis=-1)
        turning = np.stack([r[:, 1], -r[:, 0], np.zeros_like(phase)], axis=-1)
        return r, EARTH_ROTATION_RAD_S * (along + turning)


def geo_slot(longitude_deg: float, epoch: dt.datetime, inclination_deg: float = 0.0) -> GeoSlot:
    """The :class:`GeoSlot` of :func:`geostationary`'s elements: on its node at ``epoch``."""
    return GeoSlot(float(longitude_deg), float(inclination_deg), _gmst82_rad(epoch))


def _gmst82_rad(epoch: dt.datetime) -> float:
    """Greenwich mean sidereal time (IAU 1982, as propagation rotates TEME with) at ``epoch``."""
    from .geometry import gmst82_rad
    from .timebase import parse_utc

    t = parse_utc(epoch)
    return float(gmst82_rad(t.whole, t.ut1_fraction))

