"""Design spaces for sizing: ``[[designs]]`` families expanded into candidate constellations.

A family is a parameter grid. Each parameter is a scalar or a list of choices; the grid is
their product. Parameters come in two kinds:

* *count* parameters (``planes``, ``sats_per_plane``, ``count``) that add satellites;
* *shape* parameters (``altitude_km``, ``inclination_deg``, ``phasing``) that do not.

Designs that share every shape parameter form a *lattice* ordered by their counts; the
planner's pruning assumes key and coverage never drop when a count grows (see
:mod:`constellation.sizing.search`). Cost is ``unit_cost`` per satellite plus ``plane_cost`` per
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

The ``[[designs]]`` tables are validated by :class:`constellation.scenario.schema.DesignSpec`
with the rest of the scenario file; this module expands them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from ..scenario.schema import DesignSpec, grid_choices

__all__ = ["Design", "dominates", "expand_designs"]


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
    if spec.source is not None:
        table["source"] = dict(spec.source)
    return table


def _family_designs(spec: DesignSpec) -> list[Design]:
    if spec.family == "sso":
        return [_sso(spec, h, p, s) for h in grid_choices(spec.altitude_km) for p in grid_choices(spec.planes)
                for s in grid_choices(spec.sats_per_plane)]
    if spec.family in ("walker", "meo"):
        return [_walker(spec, h, i, p, s, f)
                for h in grid_choices(spec.altitude_km) for i in grid_choices(spec.inclination_deg)
                for f in grid_choices(spec.phasing) for p in grid_choices(spec.planes)
                for s in grid_choices(spec.sats_per_plane)
                if (f or 0) < p]
    if spec.family == "geo":
        return [_geo(spec, n, i) for i in grid_choices(spec.inclination_deg) for n in grid_choices(spec.count)]
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
