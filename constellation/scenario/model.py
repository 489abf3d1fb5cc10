"""Value types of a validated scenario that later stages consume: the conditions of a QKD
window, the station pairs that want key, and the fibre tails of cities.

They live with the scenario so that every stage imports them from here, never the other
way round.
"""

from __future__ import annotations

from dataclasses import dataclass

# The end of nautical twilight (Sun 12 deg below the horizon): the night threshold of the
# shipped scenarios and the example in the design notes. Night statistics use it when a
# scenario sets no station_sun_max_elevation_deg.
DEFAULT_NIGHT_SUN_ELEVATION_DEG = -12.0


@dataclass(frozen=True)
class Constraints:
    """Conditions a QKD window must meet (None = not required)."""

    station_sun_max_elevation_deg: float | None = None
    satellite_sunlit: bool | None = None
    max_range_km: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.station_sun_max_elevation_deg, self.satellite_sunlit, self.max_range_km))

    @property
    def night_sun_max_elevation_deg(self) -> float:
        """The Sun elevation below which a station counts as dark in night statistics:
        ``station_sun_max_elevation_deg``, else ``DEFAULT_NIGHT_SUN_ELEVATION_DEG``."""
        threshold = self.station_sun_max_elevation_deg
        return DEFAULT_NIGHT_SUN_ELEVATION_DEG if threshold is None else threshold


@dataclass(frozen=True)
class Link:
    """A station pair that wants key (names of stations or fibre-connected cities)."""

    a: str
    b: str
    required_key_bits_per_day: float | None = None
    max_latency_h: float | None = None


@dataclass(frozen=True)
class Fibre:
    """A ground fibre QKD link between a city and a satellite station."""

    a: str
    b: str
    key_rate_bps: float
