"""Designs side by side: the same metrics for several scenario files, best and worst marked."""

from __future__ import annotations

import math

from ..scenario.schema import TargetsSpec
from .evaluate import check_targets, evaluate_scenario

__all__ = ["column_names", "compare_designs", "compare_rows"]


def compare_designs(scenarios) -> list[dict]:
    """Evaluate each scenario (passes, key, relay, station windows) and collect its figures."""
    out = []
    for scn in scenarios:
        metrics = evaluate_scenario(scn)
        checks = check_targets(metrics, scn.targets or TargetsSpec(), scn.links)
        out.append({
            "name": scn.name, "file": scn.source, "n_satellites": len(scn.satellites), "cost": scn.cost,
            "key_bits_per_day": metrics.get("key_bits_per_day"),
            "links": {f"{r['a']}-{r['b']}": r["key_bits_per_day"] for r in metrics["links"]},
            "links_p10": {f"{r['a']}-{r['b']}": r["key_bits_per_day_p10"] for r in metrics["links"]},
            "latency": {f"{r['a']}-{r['b']}": r["max_latency_h"] for r in metrics["links"]},
            "gap": {f"{r['a']}-{r['b']}": r["max_delivery_gap_h"] for r in metrics["links"]},
            "stations": {s["station"]: s["night_coverage_fraction"] for s in metrics["stations"]},
            "revisit": {s["station"]: s["max_revisit_h"] for s in metrics["stations"]},
            "region_coverage": {r["region"]: r["night_coverage_fraction"] for r in metrics.get("regions", [])},
            "region_revisit": {r["region"]: r["max_revisit_h"] for r in metrics.get("regions", [])},
            "targets_met": (all(c["met"] for c in checks) if checks else None),
            "targets_missed": [f"{c['target']} {c['subject']}" for c in checks if not c["met"]],
        })
    return out


def compare_rows(table: list[dict]) -> list[dict]:
    """One row per figure: ``metric``, ``unit``, ``better`` (higher/lower/None) and one value per design.

    ``best`` / ``worst`` name the columns holding the best and worst value when they differ.
    """
    names = column_names(table)
    specs = [("satellites", "", "lower", lambda d: d["n_satellites"]),
             ("cost", "units", "lower", lambda d: d["cost"]),
             ("total key per day", "bit", "higher", lambda d: d["key_bits_per_day"])]
    for link in _keys(table, "links"):
        specs.append((f"key {link}", "bit/day", "higher", lambda d, k=link: d["links"].get(k)))
        specs.append((f"key {link} (P10)", "bit/day", "higher", lambda d, k=link: d["links_p10"].get(k)))
        specs.append((f"latency {link} (max key age)", "h", "lower", lambda d, k=link: d["latency"].get(k)))
        specs.append((f"wait for key {link} (max)", "h", "lower", lambda d, k=link: d["gap"].get(k)))
    for station in _keys(table, "stations"):
        specs.append((f"night coverage {station}", "fraction", "higher", lambda d, k=station: d["stations"].get(k)))
        specs.append((f"max revisit {station}", "h", "lower", lambda d, k=station: d["revisit"].get(k)))
    for region in _keys(table, "region_coverage"):
        specs.append((f"night coverage region {region}", "fraction", "higher",
                      lambda d, k=region: d["region_coverage"].get(k)))
        specs.append((f"max revisit region {region}", "h", "lower", lambda d, k=region: d["region_revisit"].get(k)))
    specs.append(("targets met", "", None, lambda d: d["targets_met"]))
    rows = []
    for metric, unit, better, get in specs:
        values = [get(d) for d in table]
        row = {"metric": metric, "unit": unit, "better": better, **dict(zip(names, values))}
        numbers = [(v, n) for v, n in zip(values, names) if isinstance(v, (int, float)) and not isinstance(v, bool)
                   and math.isfinite(v)]
        if better and len({v for v, _ in numbers}) > 1:
            ordered = sorted(numbers, key=lambda vn: vn[0], reverse=(better == "higher"))
            row["best"], row["worst"] = ordered[0][1], ordered[-1][1]
        rows.append(row)
    return rows


def column_names(table) -> list[str]:
    """One column name per design: its scenario name, numbered when names repeat."""
    names, seen = [], {}
    for d in table:
        name = d["name"]
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def _keys(table, field):
    out = []
    for d in table:
        for k in d[field]:
            if k not in out:
                out.append(k)
    return out
