"""Design spaces for sizing: ``[[designs]]`` families expanded into candidate constellations.

A family is a parameter grid. Each parameter is a scalar or a list of choices; the grid is
their product. Parameters come in two kinds:

* *count* parameters (``planes``, ``sats_per_plane``, ``count``) that add satellites;
* *shape* parameters (``altitude_km``, ``inclination_deg``, ``phasing``) that do not.

Designs that share every shape parameter form a *lattice* ordered by their counts; the
planner's pruning assumes key and coverage never drop when a count grows (see
:mod:`constellation.planner`). Cost is ``unit_cost`` per satellite plus ``plane_cost`` per
orbital plane (a launch); a hybrid adds the costs of its parts.

Families:

``sso``      sun-synchronous planes at ``altitude_km``; plane ``p`` takes the local time of
             ascending node ``ltan[p]``, so adding a plane adds an orbit and keeps the
             others; satellites evenly spaced in each plane, plane ``p`` shifted by
             ``p / (planes * sats_per_plane)`` of a revolution.
``walker``   inclined Walker delta ``T/P/F`` with ``T = planes * sats_per_plane``.
``meo``      the same pattern at medium-Earth-orbit altitude (2,000-30,000 km).
``geo``      the first ``count`` slots of ``longitudes_deg`` (a preference list).
``hybrid``   every combination of the designs of the families named in ``parts``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.orbits import parse_local_time_hours

__all__ = ["Design", "DesignSpec", "SweepSpec", "TargetsSpec", "dominates", "expand_designs"]

Count = Annotated[int, Field(ge=1, le=10000)]
Altitude = Annotated[float, Field(gt=150.0, lt=400000.0)]
Inclination = Annotated[float, Field(ge=0.0, le=180.0)]

# The parameters each family takes (beyond name, family, costs, link and qkd).
FAMILY_KEYS = {
    "sso": {"altitude_km", "planes", "sats_per_plane", "ltan"},
    "walker": {"altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing"},
    "meo": {"altitude_km", "inclination_deg", "planes", "sats_per_plane", "phasing"},
    "geo": {"longitudes_deg", "count", "inclination_deg"},
    "hybrid": {"parts"},
}
_REQUIRED = {
    "sso": {"altitude_km", "planes", "sats_per_plane", "ltan"},
    "walker": {"altitude_km", "inclination_deg", "planes", "sats_per_plane"},
    "meo": {"altitude_km", "inclination_deg", "planes", "sats_per_plane"},
    "geo": {"longitudes_deg", "count"},
    "hybrid": {"parts"},
}
_OPTIONAL_PARAMS = {"phasing", "inclination_deg"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignSpec(_Strict):
    """One ``[[designs]]`` family."""

    name: str = Field(min_length=1)
    family: Literal["sso", "walker", "meo", "geo", "hybrid"]
    altitude_km: Altitude | list[Altitude] | None = None
    inclination_deg: Inclination | list[Inclination] | None = None
    planes: Count | list[Count] | None = None
    sats_per_plane: Count | list[Count] | None = None
    phasing: Annotated[int, Field(ge=0)] | list[Annotated[int, Field(ge=0)]] | None = None
    ltan: list[str] | None = None
    longitudes_deg: list[Annotated[float, Field(ge=-180.0, le=360.0)]] | None = None
    count: Count | list[Count] | None = None
    parts: list[str] | None = None
    unit_cost: Annotated[float, Field(ge=0.0)] = 1.0
    plane_cost: Annotated[float, Field(ge=0.0)] = 0.0
    link: dict[str, Any] | None = None
    qkd: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _family_keys(self):
        given = {k for k in FAMILY_KEYS["sso"] | FAMILY_KEYS["walker"] | FAMILY_KEYS["geo"] | {"parts"}
                 if getattr(self, k) is not None}
        allowed, required = FAMILY_KEYS[self.family], _REQUIRED[self.family]
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(f"only {', '.join(sorted(allowed))} for a {self.family} family "
                             f"(found {', '.join(extra)})")
        missing = sorted(required - given)
        if missing:
            raise ValueError(f"{', '.join(missing)} for a {self.family} family")
        if self.family == "sso":
            for text in self.ltan:
                parse_local_time_hours(text)
            if len(self.ltan) < max(_choices(self.planes)):
                raise ValueError(f"one ltan per plane: {max(_choices(self.planes))} planes need "
                                 f"{max(_choices(self.planes))} ltan values, found {len(self.ltan)}")
        if self.family == "meo" and not all(2000.0 <= h <= 30000.0 for h in _choices(self.altitude_km)):
            raise ValueError("altitude_km between 2,000 and 30,000 km for a meo family")
        if self.family == "geo" and len(self.longitudes_deg) < max(_choices(self.count)):
            raise ValueError(f"count <= the number of longitudes_deg ({len(self.longitudes_deg)})")
        if self.family == "hybrid" and self.link is not None or self.family == "hybrid" and self.qkd is not None:
            raise ValueError("link and qkd on the parts of a hybrid, not on the hybrid")
        return self


class StationTarget(_Strict):
    name: str = Field(min_length=1)
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None


class RegionTarget(_Strict):
    """``[[targets.regions]]``: night coverage and revisit over a lon/lat polygon.

    Evaluated on the equal-area grid inside the polygon (``grid_deg``), sampled every
    ``step_s``, with a cone of ``min_elevation_deg`` (geometric coverage, as ``constellation
    coverage``; stations use their QKD windows instead). Night: the scenario's
    ``station_sun_max_elevation_deg`` (else -12 deg).
    """

    name: str = Field(min_length=1)
    region: list[tuple[Annotated[float, Field(ge=-180.0, le=360.0)], Annotated[float, Field(ge=-90.0, le=90.0)]]] \
        = Field(min_length=3)
    grid_deg: Annotated[float, Field(ge=0.25, le=10.0)] = 2.0
    step_s: Annotated[float, Field(ge=10.0, le=3600.0)] = 120.0
    min_elevation_deg: Annotated[float, Field(ge=0.0, lt=90.0)] = 20.0
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None


class TargetsSpec(_Strict):
    """``[targets]``: what a feasible design must reach.

    Key and latency targets apply to every ``[[links]]`` entry (a link's own
    ``required_key_bits_per_day`` / ``max_latency_h`` take precedence); coverage and
    revisit targets to every station (``[[targets.stations]]`` entries take precedence).

    Two latencies: ``max_latency_h`` bounds the age of the key a delivery uses (as in
    ``network.csv``: delivery time minus the oldest key spent, which grows with the span
    when one end gets more key than the other), ``max_delivery_gap_h`` the longest a link
    waits for fresh key (gap between deliveries, span edges included).
    """

    min_key_bits_per_day: Annotated[float, Field(ge=0.0)] | None = None
    min_key_bits_per_day_p10: Annotated[float, Field(ge=0.0)] | None = None
    max_latency_h: Annotated[float, Field(gt=0.0)] | None = None
    max_delivery_gap_h: Annotated[float, Field(gt=0.0)] | None = None
    min_night_coverage_fraction: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_revisit_h: Annotated[float, Field(gt=0.0)] | None = None
    stations: list[StationTarget] = []
    regions: list[RegionTarget] = []


class SweepSpec(_Strict):
    """``[sweep]``: how the design space is searched."""

    prune: bool = True
    prune_margin: Annotated[float, Field(ge=0.0)] = 0.5
    # Key integrated over 5 s slots: per-pass key within 0.35 % of 1 s slots, totals within
    # 2e-5 (64-satellite Walker, 7 stations, 7 days), 6x faster.
    key_slot_s: Annotated[float, Field(ge=0.1, le=60.0)] = 5.0
    batch: Annotated[int, Field(ge=1, le=10000)] | None = None


@dataclass(frozen=True)
class Design:
    """One candidate constellation."""

    family: str
    params: dict  # the grid point, JSON-able
    satellites: tuple  # satellite tables, as in a scenario's [[satellites]]
    n_satellites: int
    n_planes: int
    cost: float
    lattice: tuple  # (family, shape parameters): designs comparable by count
    level: tuple  # count parameters, compared componentwise within a lattice
    id: str = field(default="")

    def label(self) -> str:
        return f"{self.family}: " + ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())


def dominates(bigger: Design, smaller: Design) -> bool:
    """True when ``bigger`` has every count of ``smaller`` or more, with the same shape."""
    return bigger.lattice == smaller.lattice and all(b >= s for b, s in zip(bigger.level, smaller.level))


def expand_designs(specs: list[DesignSpec]) -> list[Design]:
    """Every design of every family, with a stable id (a hash of its satellites)."""
    by_name = {s.name: s for s in specs}
    out = []
    for spec in specs:
        if spec.family == "hybrid":
            parts = [_family_designs(by_name[p]) for p in spec.parts]
            for combo in itertools.product(*parts):
                out.append(_combine(spec.name, combo))
        else:
            out.extend(_family_designs(spec))
    return [_with_id(d) for d in out]


def _choices(value) -> list:
    if value is None:
        return [None]
    return list(value) if isinstance(value, list) else [value]


def _short(value):
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + " ".join(str(_short(v)) for v in value) + "]"
    return value


def _with_id(design: Design) -> Design:
    digest = hashlib.sha256(json.dumps([design.family, design.satellites], sort_keys=True).encode()).hexdigest()
    return Design(**{**design.__dict__, "id": digest[:12]})


def _terminal(spec: DesignSpec, table: dict) -> dict:
    if spec.link is not None:
        table["link"] = dict(spec.link)
    if spec.qkd is not None:
        table["qkd"] = dict(spec.qkd)
    return table


def _family_designs(spec: DesignSpec) -> list[Design]:
    if spec.family == "sso":
        return [_sso(spec, h, p, s) for h in _choices(spec.altitude_km) for p in _choices(spec.planes)
                for s in _choices(spec.sats_per_plane)]
    if spec.family in ("walker", "meo"):
        return [_walker(spec, h, i, p, s, f)
                for h in _choices(spec.altitude_km) for i in _choices(spec.inclination_deg)
                for f in _choices(spec.phasing) for p in _choices(spec.planes) for s in _choices(spec.sats_per_plane)
                if (f or 0) < p]
    if spec.family == "geo":
        return [_geo(spec, n, i) for i in _choices(spec.inclination_deg) for n in _choices(spec.count)]
    raise ValueError(f"a hybrid cannot be a part of another hybrid ({spec.name})")


def _sso(spec, altitude_km, planes, per_plane) -> Design:
    sats = []
    total = planes * per_plane
    for p in range(planes):
        for s in range(per_plane):
            anomaly = (360.0 * s / per_plane + 360.0 * p / total) % 360.0
            sats.append(_terminal(spec, {"name": f"{spec.name}-P{p + 1}-{s + 1}", "altitude_km": float(altitude_km),
                                         "ltan": spec.ltan[p], "mean_anomaly_deg": round(anomaly, 6),
                                         "unit_cost": spec.unit_cost + spec.plane_cost / per_plane}))
    params = {"altitude_km": altitude_km, "planes": planes, "sats_per_plane": per_plane,
              "ltan": list(spec.ltan[:planes])}
    return Design(spec.name, params, tuple(sats), total, planes, total * spec.unit_cost + planes * spec.plane_cost,
                  (spec.name, altitude_km), (planes, per_plane))


def _walker(spec, altitude_km, inclination_deg, planes, per_plane, phasing) -> Design:
    total = planes * per_plane
    phasing = phasing or 0
    sat = _terminal(spec, {"name": f"{spec.name}", "walker": "delta", "total": total, "planes": planes,
                           "phasing": phasing, "altitude_km": float(altitude_km),
                           "inclination_deg": float(inclination_deg),
                           "unit_cost": spec.unit_cost + spec.plane_cost * planes / total})
    params = {"altitude_km": altitude_km, "inclination_deg": inclination_deg, "planes": planes,
              "sats_per_plane": per_plane, "phasing": phasing}
    return Design(spec.name, params, (sat,), total, planes, total * spec.unit_cost + planes * spec.plane_cost,
                  (spec.name, altitude_km, inclination_deg, phasing), (planes, per_plane))


def _geo(spec, count, inclination_deg) -> Design:
    sats = tuple(_terminal(spec, {"name": f"{spec.name}-{k + 1}", "geo_longitude_deg": float(lon),
                                  "unit_cost": spec.unit_cost + spec.plane_cost,
                                  **({"inclination_deg": float(inclination_deg)} if inclination_deg else {})})
                 for k, lon in enumerate(spec.longitudes_deg[:count]))
    params = {"count": count, "longitudes_deg": list(spec.longitudes_deg[:count])}
    if inclination_deg:
        params["inclination_deg"] = inclination_deg
    return Design(spec.name, params, sats, count, count, count * (spec.unit_cost + spec.plane_cost),
                  (spec.name, inclination_deg), (count,))


def _combine(name: str, parts: tuple[Design, ...]) -> Design:
    params = {f"{p.family}.{k}": v for p in parts for k, v in p.params.items()}
    return Design(name, params, tuple(s for p in parts for s in p.satellites), sum(p.n_satellites for p in parts),
                  sum(p.n_planes for p in parts), sum(p.cost for p in parts),
                  (name, *[p.lattice for p in parts]), tuple(x for p in parts for x in p.level))
