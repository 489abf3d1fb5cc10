"""What ``constellation size`` writes: tables, a summary and ready-to-run scenario files."""

from __future__ import annotations

import copy
import datetime as dt
import math
from pathlib import Path

import tomli_w

from .. import __version__
from .search import SizingResult, design_columns, design_rows, infeasibility_report
from ..output.tables import render_table, to_json

__all__ = ["design_scenario_toml", "human_sizing_summary", "sizing_outputs"]

_SIZING_KEYS = ("designs", "targets", "sweep")


def problem_base(scenario) -> dict:
    """The scenario tables every design shares (fleet satellites' file paths made absolute)."""
    base = {k: copy.deepcopy(v) for k, v in scenario.raw.items() if k not in _SIZING_KEYS}
    folder = Path(scenario.source).parent if scenario.source != "<memory>" else Path.cwd()
    for sat in base.get("satellites", []):
        for key in ("tle_file", "omm_file"):
            if key in sat and not Path(sat[key]).is_absolute():
                sat[key] = str((folder / sat[key]).resolve())
    return base


def design_scenario_toml(scenario, design) -> str:
    """A scenario file running ``design`` (plus the fixed fleet) over the same span and network."""
    data = problem_base(scenario)
    if scenario.raw.get("targets") is not None:
        data["targets"] = copy.deepcopy(scenario.raw["targets"])  # so that `compare` checks them
    data["satellites"] = [*data.get("satellites", []), *copy.deepcopy(list(design.satellites))]
    section = dict(data["scenario"])
    section["name"] = f"{section['name']} / {design.family} {design.n_satellites} satellites"
    section["description"] = (f"Design {design.id} chosen by constellation size from {Path(scenario.source).name}: "
                              f"{design.label()}; cost {design.cost:g}.")
    data["scenario"] = section
    header = (f"# Written by constellation {__version__} (size) on "
              f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}.\n"
              f"# Source scenario: {scenario.source} (sha256 {scenario.sha256[:16]}).\n")
    return header + scenario_toml(data)


def scenario_toml(data: dict) -> str:
    """A scenario mapping as TOML in the layout of hand-written files: [tables], then [[arrays]]."""
    tables = [(k, v) for k, v in data.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    array_order = ["satellites", "stations", "links", "fibre", "cities"]
    arrays.sort(key=lambda kv: array_order.index(kv[0]) if kv[0] in array_order else len(array_order))
    order = ["scenario", "constraints", "link", "qkd", "network", "coverage"]
    tables.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    blocks = []
    for name, table in tables:
        blocks.append(f"[{name}]\n" + _pairs(table))
    for name, items in arrays:
        for item in items:
            blocks.append(f"[[{name}]]\n" + _pairs(item))
    return "\n".join(blocks)


def _pairs(table: dict) -> str:
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in table.items() if v is not None)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else tomli_w.dumps({"k": name})[4:-1]


def _value(value) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
            f".{value.microsecond:06d}" if value.microsecond else "") + "Z"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return tomli_w.dumps({"k": value})[4:-1]


def sizing_outputs(scenario, result: SizingResult, runner_name: str, wall_s: float) -> dict[str, str]:
    """File name -> text for everything ``size`` writes (figures excluded)."""
    rows = design_rows(result)
    columns = design_columns(rows)
    feasible = [r for r in rows if r.get("feasible") and r["status"] == "evaluated"]
    outputs = {
        "designs.csv": render_table(rows, columns, "csv"),
        "feasible.csv": render_table(feasible, columns, "csv"),
        "pareto.csv": render_table([r for r in rows if r.get("pareto")], columns, "csv"),
    }
    best_family = result.best_per_family()
    by_id = {r["id"]: r for r in rows}
    outputs["best_per_family.csv"] = render_table([by_id[d.id] for d in best_family.values()], columns, "csv")
    best = result.best()
    if best is not None:
        outputs["best.toml"] = design_scenario_toml(scenario, best)
    for family, design in best_family.items():
        outputs[f"best-{_slug(family)}.toml"] = design_scenario_toml(scenario, design)
    evaluated = len(result.records)
    eval_s = [r.get("eval_s", 0.0) for r in result.records.values()]
    summary = {
        "tool": "constellation", "version": __version__, "scenario_file": scenario.source,
        "scenario_sha256": scenario.sha256, "runner": runner_name, "wall_s": round(wall_s, 3),
        "designs": len(result.designs), "evaluated": evaluated, "evaluated_this_run": result.evaluated_now,
        "resumed_from_journal": result.resumed, "decided_by_pruning": len(result.implied_by),
        "errors": sum(1 for r in result.records.values() if "error" in r),
        "rounds": result.rounds, "prune": scenario.sweep.prune,
        "mean_eval_s": round(sum(eval_s) / len(eval_s), 4) if eval_s else None,
        "feasible": sum(1 for v in result.feasible.values() if v),
        "best": by_id[best.id] if best is not None else None,
        "best_per_family": {f: by_id[d.id] for f, d in best_family.items()},
        "binding_targets": None if best is not None else infeasibility_report(result),
        "targets": scenario.targets.model_dump(exclude_none=True) if scenario.targets else None,
    }
    outputs["size.json"] = to_json(summary)
    return outputs


def human_sizing_summary(summary_text: str) -> str:
    import json

    s = json.loads(summary_text)
    lines = [(f"{s['designs']} designs: {s['evaluated']} evaluated ({s['resumed_from_journal']} from an earlier run), "
              f"{s['decided_by_pruning']} decided by pruning, {s['errors']} errors; {s['feasible']} feasible; "
              f"{s['wall_s']:.1f} s on {s['runner']}")]
    best = s.get("best")
    if best:
        lines.append(f"cheapest feasible: {best['design']} - {best['n_satellites']} satellites, cost {best['cost']:g}; "
                     f"worst link {best['worst_link']} {_fmt(best['worst_link_key_bits_per_day'])} bit/day; "
                     f"binding {best.get('binding_target')} ({best.get('binding_subject')})")
        for family, row in s["best_per_family"].items():
            lines.append(f"  best {family}: {row['design']} ({row['n_satellites']} sats, cost {row['cost']:g})")
    else:
        lines.append("no design meets the targets; binding:")
        for b in (s.get("binding_targets") or [])[:5]:
            lines.append(f"  {b['target']} {b['subject']}: best {_fmt(b['best_value'])} of {_fmt(b['required'])} "
                         f"required (missed by {b['missed_by']} of {b['designs']} evaluated designs)")
    return "\n".join(lines)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "inf"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)
