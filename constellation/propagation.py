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
