"""Evaluate one constellation against sizing targets: passes -> key -> relay -> metrics.

:func:`evaluate_scenario` runs the whole chain on a validated scenario and returns plain,
JSON-able metrics; :func:`check_targets` compares them with ``[targets]``. Both are pure
(same scenario -> same numbers, weather draws seeded), so a sweep gives identical tables on
one process or on a cluster.

Station metrics come from the QKD windows of the pass table (every constraint of the
scenario, the station's own elevation limit and horizon mask): the *night coverage
fraction* is the share of the station's night (Sun below the scenario's
``station_sun_max_elevation_deg``, else the default of ``Constraints.night_sun_max_elevation_deg``) inside at least one window; the *revisit*
is the longest stretch of the span with no window at all, span edges included.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..core.sun import SunTrack
from ..pipeline import Run, region_coverage
from ..scenario.schema import TargetsSpec

__all__ = ["check_targets", "evaluate_scenario", "station_metrics"]

_NIGHT_STEP_S = 60.0


def evaluate_scenario(scenario, key_slot_s: float | None = None, regions=None) -> dict:
    """Metrics of a scenario: per-link key and latency, per-station coverage and revisit,
    and night coverage and revisit of ``regions`` (default: the scenario's region targets).

    ``key_slot_s``: slot length for the key integral along each window (see key.per_pass;
    None, as ``run`` and ``compare``: by quadrature; sweeps pass their ``[sweep] key_slot_s``).
    """
    run = Run(scenario, key_slot_s=key_slot_s).complete(coverage=False)
    table = run.passes
    timings = {f"{name}_s": seconds for name, seconds in run.timings_s.items()}
    out = {"n_satellites": len(scenario.satellites), "n_passes": len(table),
           "n_windows": int(table.has_window.sum())}
    if run.has_keys:
        out["key_bits_per_day"] = float(np.sum(run.keys.key_bits)) / (scenario.duration_s / 86400.0)
    links = []
    for r in run.network.links if run.has_network else []:
        links.append({"a": r.a, "b": r.b, "key_bits_per_day": float(r.key_bits_per_day),
                      "key_bits_per_day_p10": float(r.key_bits_per_day_p10),
                      "key_bits_per_day_stderr": float(r.key_bits_per_day_stderr),
                      "clear_sky_key_bits_per_day": float(r.clear_sky_key_bits_per_day),
                      "max_latency_h": r.max_latency_h, "median_latency_h": r.median_latency_h,
                      "max_delivery_gap_h": r.max_delivery_gap_h,
                      "limiting_station": r.limiting_station})
    t0 = time.perf_counter()
    out["stations"] = station_metrics(scenario, table)
    timings["stations_s"] = time.perf_counter() - t0
    out["links"] = links
    if regions is None:
        regions = scenario.targets.regions if scenario.targets is not None else []
    if regions:
        t0 = time.perf_counter()
        out["regions"] = region_metrics(scenario, regions)
        timings["regions_s"] = time.perf_counter() - t0
    out["timings"] = timings
    return out


def region_metrics(scenario, regions) -> list[dict]:
    """Share of each region's night (area-weighted) with a satellite above the region's
    elevation cone, and the longest night-coverage gap at any of its grid points."""
    out = []
    for index, spec in enumerate(regions):
        result = region_coverage(scenario, spec.region, spec.grid_deg, spec.step_s, spec.min_elevation_deg,
                                 f"targets.regions[{index}].region")
        w = result.grid.weight
        night = float(np.dot(w, result.night_fraction))
        covered = float(np.dot(w, result.night_coverage_fraction))
        out.append({"region": spec.name, "points": int(result.grid.size),
                    "night_coverage_fraction": covered / night if night > 0 else 0.0,
                    "max_revisit_h": float(result.max_gap_s.max(initial=0.0)) / 3600.0})
    return out


def station_metrics(scenario, table) -> list[dict]:
    """Night coverage fraction and longest gap between QKD windows, per station."""
    duration_s = scenario.duration_s
    grid = np.arange(0.0, duration_s, _NIGHT_STEP_S) + _NIGHT_STEP_S / 2
    sun = SunTrack(scenario.timebase, 0.0, duration_s).unit_ecef(grid)
    threshold = scenario.constraints.night_sun_max_elevation_deg
    out = []
    for j, station in enumerate(scenario.stations):
        sel = (table.station == j) & table.has_window
        starts, ends = _union(table.window_start_s[sel], table.window_end_s[sel])
        up = station.enu[2]
        night = np.degrees(np.arcsin(np.clip(sun @ up, -1.0, 1.0))) < threshold
        covered = np.zeros(grid.size, dtype=bool)
        if starts.size:
            k = np.searchsorted(starts, grid, side="right") - 1
            covered = (k >= 0) & (grid < ends[np.maximum(k, 0)])
        night_s = float(night.sum()) * _NIGHT_STEP_S
        gaps = np.concatenate([[starts[0] if starts.size else duration_s], starts[1:] - ends[:-1],
                               [duration_s - ends[-1]] if ends.size else []])
        out.append({"station": station.name, "windows": int(starts.size),
                    "window_h": float(np.sum(ends - starts)) / 3600.0,
                    "night_h": night_s / 3600.0,
                    "night_coverage_fraction": float((covered & night).sum() / night.sum()) if night.any() else 0.0,
                    "max_revisit_h": float(gaps.max()) / 3600.0})
    return out


def _union(starts, ends):
    """Merge overlapping intervals; returns sorted disjoint (starts, ends)."""
    if starts.size == 0:
        return starts, ends
    order = np.argsort(starts)
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.concatenate([[True], s[1:] > reach[:-1]])
    group = np.cumsum(new) - 1
    merged_end = np.zeros(group[-1] + 1)
    np.maximum.at(merged_end, group, e)
    return s[new], merged_end


def check_targets(metrics: dict, targets: TargetsSpec, links: list) -> list[dict]:
    """Each target checked: ``{target, subject, value, required, margin, met}``.

    ``margin`` is relative (0 = exactly on target, < 0 = missed): for a minimum
    ``value / required - 1``, for a maximum ``1 - value / required``.
    """
    checks = []
    required = {(link.a, link.b): link for link in links}
    for row in metrics.get("links", []):
        link = required.get((row["a"], row["b"]))
        subject = f"{row['a']}-{row['b']}"
        need = link.required_key_bits_per_day if link and link.required_key_bits_per_day is not None \
            else targets.min_key_bits_per_day
        if need is not None:
            checks.append(_minimum("min_key_bits_per_day", subject, row["key_bits_per_day"], need))
        if targets.min_key_bits_per_day_p10 is not None:
            checks.append(_minimum("min_key_bits_per_day_p10", subject, row["key_bits_per_day_p10"],
                                   targets.min_key_bits_per_day_p10))
        limit = link.max_latency_h if link and link.max_latency_h is not None else targets.max_latency_h
        if limit is not None:
            value = row["max_latency_h"]
            checks.append(_maximum("max_latency_h", subject, math.inf if value is None else value, limit))
        if targets.max_delivery_gap_h is not None:
            value = row["max_delivery_gap_h"]
            checks.append(_maximum("max_delivery_gap_h", subject, math.inf if value is None else value,
                                   targets.max_delivery_gap_h))
    per_station = {t.name: t for t in targets.stations}
    for row in metrics.get("stations", []):
        own = per_station.get(row["station"])
        need = own.min_night_coverage_fraction if own and own.min_night_coverage_fraction is not None \
            else targets.min_night_coverage_fraction
        if need is not None:
            checks.append(_minimum("min_night_coverage_fraction", row["station"], row["night_coverage_fraction"], need))
        limit = own.max_revisit_h if own and own.max_revisit_h is not None else targets.max_revisit_h
        if limit is not None:
            checks.append(_maximum("max_revisit_h", row["station"], row["max_revisit_h"], limit))
    per_region = {t.name: t for t in targets.regions}
    for row in metrics.get("regions", []):
        spec = per_region.get(row["region"])
        if spec is None:
            continue
        if spec.min_night_coverage_fraction is not None:
            checks.append(_minimum("min_night_coverage_fraction", row["region"], row["night_coverage_fraction"],
                                   spec.min_night_coverage_fraction))
        if spec.max_revisit_h is not None:
            checks.append(_maximum("max_revisit_h", row["region"], row["max_revisit_h"], spec.max_revisit_h))
    return checks


def _minimum(target, subject, value, required):
    margin = (value / required - 1.0) if required > 0 else (0.0 if value >= required else -1.0)
    return {"target": target, "subject": subject, "value": value, "required": required,
            "margin": margin, "met": value >= required}


def _maximum(target, subject, value, required):
    margin = 1.0 - value / required if math.isfinite(value) else -math.inf
    return {"target": target, "subject": subject, "value": value, "required": required,
            "margin": margin, "met": value <= required}
