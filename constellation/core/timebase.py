"""Time: one offline skyfield Timescale, and a uniform time axis for the numeric kernels.

Kernels work in ``t_s``: seconds on the TAI scale since the scenario start, so a leap
second is just another second. :class:`TimeBase` converts ``t_s`` to what SGP4 wants
(UTC Julian date, per AIAA 2006-6753), to UT1 for Earth rotation (skyfield's built-in
IERS tables; without UT1-UTC, passes in 2016 move by up to 0.7 s), and to UTC text.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import numpy as np

from ..constants import DAY_S


@functools.cache
def timescale():
    """The skyfield Timescale built from tables shipped inside skyfield (never downloads)."""
    from skyfield.api import load

    return load.timescale(builtin=True)


@functools.cache
def ephemeris():
    """JPL DE421 from the ``skyfield-data`` package (1900-2050; never downloads)."""
    from skyfield.api import Loader

    with warnings.catch_warnings():
        # skyfield-data warns that its own copy of the IERS table is old; we use skyfield's.
        warnings.simplefilter("ignore", RuntimeWarning)
        from skyfield_data import get_skyfield_data_path

        return Loader(get_skyfield_data_path(), verbose=False)("de421.bsp")


def parse_utc(value: str | dt.datetime):
    """Return a skyfield Time for an RFC 3339 UTC datetime (``2016-12-19T16:00:00Z``).

    Raises ValueError with the expected form when the text is not one.
    """
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a UTC datetime with a zone, e.g. 2016-12-19T16:00:00Z")
    moment = moment.astimezone(dt.timezone.utc)
    seconds = moment.second + moment.microsecond * 1e-6
    return timescale().utc(moment.year, moment.month, moment.day, moment.hour, moment.minute, seconds)


class TimeBase:
    """A time axis ``t_s`` (TAI seconds since ``start``) and its conversions.

    Parameters
    ----------
    start : skyfield Time
        The instant ``t_s = 0``.
    """

    def __init__(self, start):
        self.start = start
        self.ts = start.ts
        self._tai_whole = float(start.whole)
        self._tai_fraction = float(start.tai_fraction)

    def time(self, t_s):
        """skyfield Time for ``t_s`` (scalar or array)."""
        t_s = np.asarray(t_s, dtype=float)
        return self.ts.tai_jd(self._tai_whole, self._tai_fraction + t_s / DAY_S)

    def t_s(self, time) -> np.ndarray:
        """Seconds since start of a skyfield Time."""
        whole = np.asarray(time.whole) - self._tai_whole
        return (whole + (np.asarray(time.tai_fraction) - self._tai_fraction)) * DAY_S

    def sgp4_and_ut1(self, t_s):
        """Return ``(jd_whole, fraction_utc, fraction_ut1)`` arrays.

        ``jd_whole + fraction_utc`` is the UTC Julian date SGP4 takes (as skyfield's
        EarthSatellite computes it); ``jd_whole + fraction_ut1`` is UT1 for Earth rotation.
        """
        t = self.time(np.atleast_1d(t_s))
        whole = np.broadcast_to(t.whole, t.tai_fraction.shape).astype(float)
        fraction_utc = t.tai_fraction - t._leap_seconds() / DAY_S
        return whole, fraction_utc, np.asarray(t.ut1_fraction, dtype=float)

    def utc_iso(self, t_s, places: int = 3) -> list[str]:
        """UTC ISO-8601 text with ``Z`` (``23:59:60`` during a leap second)."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        if t_s.size == 0:
            return []
        text = self.time(t_s).utc_iso(places=places)
        return [text] if isinstance(text, str) else list(text)


def utc_iso(time, places: int = 3) -> str:
    """UTC ISO-8601 text of one skyfield Time."""
    return time.utc_iso(places=places)
