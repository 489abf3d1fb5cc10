"""Vectorised SGP4 propagation to Earth-fixed positions.

One ``sgp4.api.SatrecArray`` call gives every satellite at every time; TEME is rotated to
Earth-fixed coordinates with GMST-1982 evaluated on UT1. Samples where SGP4 reports an
error (decay, eccentricity out of range, ...) come back masked, with the error code kept
so callers can count them; they are never silently NaN in an output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray

from ..constants import EARTH_ROTATION_RAD_S, WGS72_J2, WGS72_MU_KM3_S2, WGS72_RE_KM
from .geometry import gmst82_rad, teme_to_ecef
from .timebase import TimeBase


@dataclass
class States:
    """Earth-fixed states of ``n_sat`` satellites at ``n_time`` times.

    Attributes
    ----------
    t_s : ndarray, shape (n_time,)
        Seconds since the time base start.
    r_km, v_km_s : ndarray, shape (n_sat, n_time, 3)
        Position and Earth-relative velocity; zeros where ``valid`` is False.
    error : ndarray of uint8, shape (n_sat, n_time)
        SGP4 error code (0 = fine; see ``sgp4.api.SGP4_ERRORS``).
    gmst_rad : ndarray, shape (n_time,)
    """

    t_s: np.ndarray
    r_km: np.ndarray
    v_km_s: np.ndarray
    error: np.ndarray
    gmst_rad: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return self.error == 0


class Propagator:
    """Propagates a fixed list of ``sgp4.api.Satrec`` objects on a :class:`TimeBase`.

    ``slots``, aligned with ``satrecs`` (None for the others), names the satellites kept in a
    geosynchronous slot (:class:`~constellation.core.orbits.GeoSlot`): their states come
    from the slot, not from SGP4, which would let them drift out of it. For a scenario's
    satellites, build it with :meth:`for_satellites`, which passes them.
    """

    def __init__(self, satrecs, timebase: TimeBase, slots=None):
        self.satrecs = list(satrecs)
        self.timebase = timebase
        self._array = SatrecArray(self.satrecs) if self.satrecs else None
        slots = list(slots) if slots is not None else [None] * len(self.satrecs)
        if len(slots) != len(self.satrecs):
            raise ValueError(f"one slot (or None) per satellite: {len(slots)} for {len(self.satrecs)}")
        self._kept = {i: slot for i, slot in enumerate(slots) if slot is not None}

    @classmethod
    def for_satellites(cls, satellites, timebase: TimeBase) -> Propagator:
        """A Propagator over scenario satellites (``.satrec``, ``.geo_slot``)."""
        return cls([s.satrec for s in satellites], timebase, [s.geo_slot for s in satellites])

    def __len__(self) -> int:
        return len(self.satrecs)

    def states(self, t_s, satellites=None) -> States:
        """All (or the listed) satellites at all ``t_s``: shape ``(n_sat, n_time, 3)``."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        jd, fr, fr_ut1 = self.timebase.sgp4_and_ut1(t_s)
        gmst = gmst82_rad(jd, fr_ut1)
        if satellites is None:
            array = self._array
            count = len(self.satrecs)
        else:
            chosen = [self.satrecs[i] for i in satellites]
            array = SatrecArray(chosen) if chosen else None
            count = len(chosen)
        if count == 0:
            empty = np.zeros((0, t_s.size, 3))
            return States(t_s, empty, empty.copy(), np.zeros((0, t_s.size), np.uint8), gmst)
        error, r, v = array.sgp4(jd, fr)
        if t_s.size > 1 and np.all(np.diff(t_s) > 0):
            # SGP4 may return error 0 again after a satellite has decayed (error 6), with
            # positions millions of km away: once decayed, stay decayed.
            decayed = np.logical_or.accumulate(error == 6, axis=1)
            error = np.where(decayed & (error == 0), 6, error)
        states = _to_states(t_s, error, r, v, gmst)
        for row, index in enumerate(range(count) if satellites is None else satellites):
            slot = self._kept.get(int(index))
            if slot is not None:
                states.r_km[row], states.v_km_s[row] = slot.states(gmst)
                states.error[row] = 0
        return states

    def pairwise(self, satellite_index, t_s) -> States:
        """Satellite ``satellite_index[k]`` at time ``t_s[k]``: shape ``(1, n, 3)``.

        Groups the samples by satellite and makes one ``sgp4_array`` call per satellite.
        """
        satellite_index = np.asarray(satellite_index, dtype=np.intp)
        t_s = np.asarray(t_s, dtype=float)
        n = t_s.size
        jd, fr, fr_ut1 = self.timebase.sgp4_and_ut1(t_s)
        error = np.zeros(n, np.uint8)
        r = np.empty((n, 3))
        v = np.empty((n, 3))
        order = np.argsort(satellite_index, kind="stable")
        sats, starts = np.unique(satellite_index[order], return_index=True)
        bounds = np.append(starts, n)
        kept = []
        for k, sat in enumerate(sats):
            idx = order[bounds[k] : bounds[k + 1]]
            if int(sat) in self._kept:
                kept.append((self._kept[int(sat)], idx))
                error[idx], r[idx], v[idx] = 0, 0.0, 0.0
                continue
            e, rr, vv = self.satrecs[sat].sgp4_array(jd[idx], fr[idx])
            error[idx], r[idx], v[idx] = e, rr, vv
        gmst = gmst82_rad(jd, fr_ut1)
        states = _to_states(t_s, error[None], r[None], v[None], gmst)
        for slot, idx in kept:
            states.r_km[0, idx], states.v_km_s[0, idx] = slot.states(gmst[idx])
            states.error[0, idx] = 0
        return states


# Outside this range of geocentric distance a state is not a satellite (decay below ~0 km,
# or SGP4 diverging): it is masked like an SGP4 error, with code 255.
PLAUSIBLE_RADIUS_KM = (6300.0, 1_000_000.0)


def _to_states(t_s, error, r, v, gmst) -> States:
    radius = np.sqrt(np.einsum("...i,...i->...", np.nan_to_num(r), np.nan_to_num(r)))
    bad = (error != 0) | ~np.isfinite(r).all(axis=-1) | ~np.isfinite(v).all(axis=-1)
    bad |= (radius < PLAUSIBLE_RADIUS_KM[0]) | (radius > PLAUSIBLE_RADIUS_KM[1])
    error = np.where(bad & (error == 0), 255, error).astype(np.uint8)
    r = np.where(bad[..., None], 0.0, r)
    v = np.where(bad[..., None], 0.0, v)
    r_ecef, v_ecef = teme_to_ecef(r, v, gmst)
    return States(t_s, r_ecef, v_ecef, error, gmst)


class Track:
    """Coarse states of some satellites, interpolated between samples.

    Between two samples the position is the quintic Hermite polynomial matching position,
    velocity and acceleration at both ends. Positions and velocities come from SGP4; the
    acceleration is gravity with J2 (WGS72, SGP4's constants) plus the Coriolis and
    centrifugal terms of the rotating frame, which leaves out only forces ~1e-3 of J2's
    (higher zonals, drag, luni-solar). What limits it is SGP4 itself, whose velocity is not
    exactly the derivative of its position: for near-circular LEO at 120 s steps the error
    is 0.2-0.5 m (``tests/test_positions.py`` measures it against SGP4), growing with
    eccentricity (``passes.default_step_s`` shortens the step accordingly). That is ~0.1 ms
    along the orbit, so event refinement needs no further SGP4 calls.
    """

    def __init__(self, states: States):
        self.t_s = states.t_s
        self.r_km = states.r_km
        self.v_km_s = states.v_km_s
        self.a_km_s2 = rotating_frame_acceleration(states.r_km, states.v_km_s)
        self.valid = states.valid
        # Component-major copies (3, n_sat * n_time) make row gathers cheap.
        self._cm = [np.ascontiguousarray(x.reshape(-1, 3).T) for x in (self.r_km, self.v_km_s, self.a_km_s2)]
        self.gmst_unwrapped = np.unwrap(states.gmst_rad)

    def gmst_rad(self, t_s):
        """GMST at ``t_s`` (linear between samples: UT1 is smooth, so error ~1e-12 rad)."""
        return np.interp(t_s, self.t_s, self.gmst_unwrapped)

    def interval(self, t_s):
        """Index ``i`` of the sample interval ``[t_i, t_i+1]`` holding each ``t_s``."""
        return np.clip(np.searchsorted(self.t_s, t_s, side="right") - 1, 0, max(self.t_s.size - 2, 0))

    def segments(self, satellite, interval) -> "Segments":
        """The interpolating polynomials of ``satellite[k]`` on sample interval ``interval[k]``."""
        satellite = np.asarray(satellite)
        i = np.asarray(interval)
        n_t = self.t_s.size
        if n_t == 1:
            r, v = self.r_km[satellite, 0], self.v_km_s[satellite, 0]
            coef = np.stack([r, v * 0.0] + [r * 0.0] * 4, axis=0).transpose(0, 2, 1)
            return Segments(self.t_s[i], np.ones(i.size), np.ascontiguousarray(coef), self.valid[satellite, 0])
        flat = satellite * n_t + i
        r_cm, v_cm, a_cm = self._cm
        valid_flat = self.valid.reshape(-1)
        return Segments.between(self.t_s[i], self.t_s[i + 1],
                                (np.take(r_cm, flat, axis=1), np.take(v_cm, flat, axis=1), np.take(a_cm, flat, axis=1)),
                                (np.take(r_cm, flat + 1, axis=1), np.take(v_cm, flat + 1, axis=1),
                                 np.take(a_cm, flat + 1, axis=1)),
                                valid_flat[flat] & valid_flat[flat + 1])

    def at(self, satellite, t_s):
        """Interpolated ``(r_km, v_km_s, valid)`` of satellite ``satellite[k]`` at ``t_s[k]``.

        ``satellite`` indexes the satellites of this track; shapes ``(n, 3)``, ``(n, 3)``, ``(n,)``.
        """
        t_s = np.asarray(t_s, dtype=float)
        return self.segments(satellite, self.interval(t_s)).at(np.arange(t_s.size), t_s)


@dataclass
class Segments:
    """Polynomials ``r(s) = sum_k coef[k, :, row] s^k``, ``s = (t - t0_s) / h_s``, one per row.

    ``coef`` has shape ``(6, 3, n)`` (power, component, row): gathering rows along the last
    axis is ~3x faster than from ``(n, 6, 3)``.
    """

    t0_s: np.ndarray
    h_s: np.ndarray
    coef: np.ndarray
    valid: np.ndarray

    @classmethod
    def between(cls, t0_s, t1_s, start, end, valid) -> "Segments":
        """The quintic Hermite polynomials matching position, velocity and acceleration at
        ``t0_s`` and ``t1_s``; ``start`` and ``end`` are ``(r_km, v_km_s, a_km_s2)``, each
        component-major, shape ``(3, n)``."""
        h = np.asarray(t1_s, dtype=float) - np.asarray(t0_s, dtype=float)
        (p0, v0, acc0), (p1, v1, acc1) = start, end
        m0, m1 = v0 * h, v1 * h
        h2 = h * h
        a0, a1 = acc0 * h2, acc1 * h2
        # Quintic Hermite in power form: p(s) = p0 + m0 s + a0/2 s^2 + c3 s^3 + c4 s^4 + c5 s^5.
        dp = p1 - p0
        c3 = 10.0 * dp - 6.0 * m0 - 4.0 * m1 - 1.5 * a0 + 0.5 * a1
        c4 = -15.0 * dp + 8.0 * m0 + 7.0 * m1 + 1.5 * a0 - a1
        c5 = 6.0 * dp - 3.0 * m0 - 3.0 * m1 - 0.5 * a0 + 0.5 * a1
        coef = np.stack([p0, m0, 0.5 * a0, c3, c4, c5], axis=0)
        return cls(np.asarray(t0_s, dtype=float), h, coef, np.asarray(valid, dtype=bool))

    def at(self, rows, t_s):
        """``(r_km, v_km_s, valid)`` of polynomial ``rows[k]`` at ``t_s[k]``; shapes ``(n, 3)``."""
        rows = np.asarray(rows)
        c = np.take(self.coef, rows, axis=2)
        h = self.h_s[rows]
        s = (np.asarray(t_s, dtype=float) - self.t0_s[rows]) / h
        r = c[5]
        dr = 5.0 * c[5]
        for k in (4, 3, 2, 1):
            r = r * s + c[k]
            dr = dr * s + k * c[k]
        r = r * s + c[0]
        return r.T, (dr / h).T, self.valid[rows]


def rotating_frame_acceleration(r_km, v_km_s):
    """Acceleration (km/s^2) in the Earth-fixed frame: J2 gravity, Coriolis, centrifugal.

    Shapes ``(..., 3)``; Earth-relative velocity.
    """
    r = np.asarray(r_km, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = np.einsum("...i,...i->...", r, r)
    r2 = np.where(r2 > 0.0, r2, 1.0)  # masked samples are zeros
    rn = np.sqrt(r2)
    mu_r3 = WGS72_MU_KM3_S2 / (r2 * rn)
    k = 1.5 * WGS72_J2 * WGS72_RE_KM**2 / r2
    z2 = 5.0 * z * z / r2
    w = EARTH_ROTATION_RAD_S
    vx, vy = v_km_s[..., 0], v_km_s[..., 1]
    ax = -mu_r3 * x * (1.0 + k * (1.0 - z2)) + 2.0 * w * vy + w * w * x
    ay = -mu_r3 * y * (1.0 + k * (1.0 - z2)) - 2.0 * w * vx + w * w * y
    az = -mu_r3 * z * (1.0 + k * (3.0 - z2))
    return np.stack([ax, ay, az], axis=-1)
