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
    """Propagates a fixed list of ``sgp4.api.Satrec`` objects on a :class:`TimeBase`."""

    def __init__(self, satrecs, timebase: TimeBase):
        self.satrecs = list(satrecs)
        self.timebase = timebase
        self._array = SatrecArray(self.satrecs) if self.satrecs else None

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
        return _to_states(t_s, error, r, v, gmst)

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
        for k, sat in enumerate(sats):
            idx = order[bounds[k] : bounds[k + 1]]
            e, rr, vv = self.satrecs[sat].sgp4_array(jd[idx], fr[idx])
            error[idx], r[idx], v[idx] = e, rr, vv
        return _to_states(t_s, error[None], r[None], v[None], gmst82_rad(jd, fr_ut1))


def _to_states(t_s, error, r, v, gmst) -> States:
    bad = (error != 0) | ~np.isfinite(r).all(axis=-1) | ~np.isfinite(v).all(axis=-1)
    error = np.where(bad & (error == 0), 255, error).astype(np.uint8)
    r = np.where(bad[..., None], 0.0, r)
    v = np.where(bad[..., None], 0.0, v)
    r_ecef, v_ecef = teme_to_ecef(r, v, gmst)
    return States(t_s, r_ecef, v_ecef, error, gmst)


class Track:
    """Coarse states of some satellites, interpolated between samples.

    Positions between two samples come from the cubic Hermite polynomial through both
    positions and velocities. For LEO at 60 s steps its error is below a metre (the
    fourth-derivative bound (dt^4 / 384) |r''''| ~ dt^4 n^4 a / 384 gives 0.3 m at 500 km;
    ``tests/test_positions.py`` measures it against SGP4), i.e. ~0.1 ms along the orbit,
    so event refinement needs no further SGP4 calls.
    """

    def __init__(self, states: States):
        self.t_s = states.t_s
        self.r_km = states.r_km
        self.v_km_s = states.v_km_s
        self.valid = states.valid
        self.gmst_unwrapped = np.unwrap(states.gmst_rad)

    def gmst_rad(self, t_s):
        """GMST at ``t_s`` (linear between samples: UT1 is smooth, so error ~1e-12 rad)."""
        return np.interp(t_s, self.t_s, self.gmst_unwrapped)

    def at(self, satellite, t_s):
        """Interpolated ``(r_km, v_km_s, valid)`` of satellite ``satellite[k]`` at ``t_s[k]``.

        ``satellite`` indexes the satellites of this track; shapes ``(n, 3)``, ``(n, 3)``, ``(n,)``.
        """
        t_s = np.asarray(t_s, dtype=float)
        satellite = np.asarray(satellite)
        grid = self.t_s
        n_t = grid.size
        if n_t == 1:
            return self.r_km[satellite, 0], self.v_km_s[satellite, 0], self.valid[satellite, 0]
        i = np.clip(np.searchsorted(grid, t_s, side="right") - 1, 0, n_t - 2)
        h = (grid[i + 1] - grid[i])[:, None]
        s = (t_s[:, None] - grid[i][:, None]) / h
        flat = satellite * n_t + i
        r_flat, v_flat = self.r_km.reshape(-1, 3), self.v_km_s.reshape(-1, 3)
        p0, p1 = r_flat[flat], r_flat[flat + 1]
        m0, m1 = v_flat[flat] * h, v_flat[flat + 1] * h
        # p(s) = p0 + m0 s + c2 s^2 + c3 s^3 (cubic Hermite in power form).
        c2 = 3.0 * (p1 - p0) - 2.0 * m0 - m1
        c3 = 2.0 * (p0 - p1) + m0 + m1
        r = p0 + s * (m0 + s * (c2 + s * c3))
        dr = (m0 + s * (2.0 * c2 + 3.0 * s * c3)) / h
        valid_flat = self.valid.reshape(-1)
        return r, dr, valid_flat[flat] & valid_flat[flat + 1]
