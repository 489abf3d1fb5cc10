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
        """UTC ISO-8601 text with ``Z`` (``23:59:60`` during a leap second): skyfield's
        ``Time.utc_iso(places)``, character for character, formatted by numpy when ``places``
        is 3 or 6 (4x faster on long tables)."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        if t_s.size == 0:
            return []
        time = self.time(t_s)
        if places in _NUMPY_UNITS and hasattr(time, "_utc_tuple"):
            return _utc_iso_numpy(time, places)
        text = time.utc_iso(places=places)
        return [text] if isinstance(text, str) else list(text)


_NUMPY_UNITS = {3: "ms", 6: "us"}
_UNIX_EPOCH_JDN = 2440588  # Julian day number of 1970-01-01


def _utc_iso_numpy(time, places: int) -> list[str]:
    """``time.utc_iso(places=places)`` for an array Time: the calendar fields skyfield computes
    (``Time._utc_tuple``, with its rounding offset), turned into text by
    ``numpy.datetime_as_string`` instead of a ``%`` format per element. Elements numpy cannot
    write as skyfield does (a leap second ``:60``, a year outside 1000-9999, a fraction that
    rounds to a whole second) use skyfield's own format."""
    power = 10 ** places
    year, month, day, hour, minute, second, jdn = time._utc_tuple(0.5 / power, return_jd=True)
    second, fraction = divmod(second, 1.0)
    fraction *= power
    whole = second.astype(np.int64)
    units = fraction.astype(np.int64)                        # '%0Nd' truncates, as astype does
    ticks = (((jdn.astype(np.int64) - _UNIX_EPOCH_JDN) * 86400 + (hour * 60 + minute) * 60 + whole) * power
             + units)
    text = np.datetime_as_string(ticks.astype(f"datetime64[{_NUMPY_UNITS[places]}]"), timezone="UTC").tolist()
    odd = np.flatnonzero((whole >= 60) | (units >= power) | (year < 1000) | (year > 9999))
    if odd.size:
        template = f"%04d-%02d-%02dT%02d:%02d:%02d.%0{places}dZ"
        for k in odd.tolist():
            text[k] = template % (year[k], month[k], day[k], hour[k], minute[k], second[k], fraction[k])
    return text


def utc_iso(time, places: int = 3) -> str:
    """UTC ISO-8601 text of one skyfield Time."""
    return time.utc_iso(places=places)
