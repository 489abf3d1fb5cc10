"""The pass table: one row per pass of a satellite over a station, as numpy columns.

Made by :func:`constellation.passes.finder.find_passes`; the key (:mod:`constellation.key`)
and the network (:mod:`constellation.network`) read its QKD windows. Times are ``t_s``,
seconds since the time base start (TAI scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def rows(self, timebase) -> list[dict]:
        """Rows for tables: UTC text with ``Z``, no NaN (missing window -> None)."""
        iso = {name: timebase.utc_iso(getattr(self, name)) for name in
               ("aos_s", "culmination_s", "tca_s", "los_s", "window_start_s", "window_end_s")}
        rows = []
        for k in range(len(self)):
            window = bool(self.has_window[k])
            rows.append({
                "satellite": self.satellite_names[self.satellite[k]],
                "station": self.station_names[self.station[k]],
                "aos_utc": iso["aos_s"][k],
                "culmination_utc": iso["culmination_s"][k],
                "tca_utc": iso["tca_s"][k],
                "los_utc": iso["los_s"][k],
                "duration_s": round(float(self.duration_s[k]), 3),
                "max_elevation_deg": round(float(self.max_elevation_deg[k]), 4),
                "min_range_km": round(float(self.min_range_km[k]), 3),
                "aos_partial": bool(self.aos_partial[k]),
                "los_partial": bool(self.los_partial[k]),
                "window_start_utc": iso["window_start_s"][k] if window else None,
                "window_end_utc": iso["window_end_s"][k] if window else None,
                "window_s": round(float(self.window_s[k]), 3),
            })
        return rows
