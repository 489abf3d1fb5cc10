"""The pass table: one row per pass of a satellite over a station, as numpy columns.

Made by :func:`constellation.passes.finder.find_passes`; the key (:mod:`constellation.key`)
and the network (:mod:`constellation.network`) read its QKD windows. Times are ``t_s``,
seconds since the time base start (TAI scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np


@dataclass
class PassTable:
    """One row per pass; every column is an ndarray of length ``n_pass``.

    ``satellite`` and ``station`` index ``satellite_names`` and ``station_names``. Times are
    seconds since the time base start: rise ``aos_s``, ``culmination_s`` (highest elevation,
    ``max_elevation_deg``), closest approach ``tca_s`` (``min_range_km``), set ``los_s``;
    ``aos_partial`` / ``los_partial`` mark passes in progress at an edge of the span (or cut
    at local noon). ``window_*`` are NaN-free: a pass with no window has ``has_window`` False
    and ``window_start_s == window_end_s == aos_s``. ``sgp4_error_samples`` counts, per
    satellite, the coarse samples SGP4 could not compute.
    """

    satellite: np.ndarray
    station: np.ndarray
    aos_s: np.ndarray
    culmination_s: np.ndarray
    tca_s: np.ndarray
    los_s: np.ndarray
    max_elevation_deg: np.ndarray
    min_range_km: np.ndarray
    aos_partial: np.ndarray
    los_partial: np.ndarray
    window_start_s: np.ndarray
    window_end_s: np.ndarray
    has_window: np.ndarray
    satellite_names: list[str] = field(default_factory=list)
    station_names: list[str] = field(default_factory=list)
    sgp4_error_samples: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.aos_s.size)

    @property
    def duration_s(self) -> np.ndarray:
        return self.los_s - self.aos_s

    @property
    def window_s(self) -> np.ndarray:
        return np.where(self.has_window, self.window_end_s - self.window_start_s, 0.0)

    def take(self, index) -> PassTable:
        """The passes ``index`` selects (a slice, indices or a mask), as a PassTable."""
        per_pass = {f.name: getattr(self, f.name)[index] for f in fields(self)
                    if f.name not in ("satellite_names", "station_names", "sgp4_error_samples")}
        return replace(self, **per_pass)

    def column_blocks(self, timebase, rows: int = 20_000):
        """:meth:`columns` of ``rows`` passes at a time (to write a long table piece by piece)."""
        for lo in range(0, len(self), rows):
            yield self.take(slice(lo, lo + rows)).columns(timebase)

    def columns(self, timebase) -> dict[str, list]:
        """The table's output columns (name -> list, one value per pass): UTC text with ``Z``,
        numbers rounded as in the tables, no NaN (a missing window -> None). Built a column
        at a time: linear in the passes."""
        iso = {name: timebase.utc_iso(getattr(self, name)) for name in
               ("aos_s", "culmination_s", "tca_s", "los_s", "window_start_s", "window_end_s")}
        window = self.has_window.astype(bool).tolist()

        def rounded(values, digits):
            return [round(v, digits) for v in np.asarray(values, dtype=float).tolist()]

        def names(index, table):
            return [table[i] for i in np.asarray(index).tolist()]

        return {
            "satellite": names(self.satellite, self.satellite_names),
            "station": names(self.station, self.station_names),
            "aos_utc": iso["aos_s"],
            "culmination_utc": iso["culmination_s"],
            "tca_utc": iso["tca_s"],
            "los_utc": iso["los_s"],
            "duration_s": rounded(self.duration_s, 3),
            "max_elevation_deg": rounded(self.max_elevation_deg, 4),
            "min_range_km": rounded(self.min_range_km, 3),
            "aos_partial": self.aos_partial.astype(bool).tolist(),
            "los_partial": self.los_partial.astype(bool).tolist(),
            "window_start_utc": [t if w else None for t, w in zip(iso["window_start_s"], window)],
            "window_end_utc": [t if w else None for t, w in zip(iso["window_end_s"], window)],
            "window_s": rounded(self.window_s, 3),
        }

    def rows(self, timebase) -> list[dict]:
        """Rows for tables (one dict per pass, the values of :meth:`columns`)."""
        columns = self.columns(timebase)
        return [dict(zip(columns, row)) for row in zip(*columns.values())]
