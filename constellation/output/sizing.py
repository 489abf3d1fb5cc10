"""What ``constellation size`` writes: the design tables, a summary and ready-to-run scenario files."""

from __future__ import annotations

import json
import math

from .. import __version__
from ..sizing.scenario_files import design_scenario_toml
from ..sizing.search import SizingResult, design_columns, design_rows, infeasibility_report
from .rounding import tidy
from .tables import render_table, to_json

__all__ = ["design_tables", "human_sizing_summary", "sizing_outputs"]


def design_tables(result: SizingResult) -> dict[str, list[dict]]:
    """Rows of ``designs`` (every design), ``feasible`` (evaluated and meeting every target),
    ``pareto`` (the front) and ``best_per_family`` (the cheapest feasible of each family)."""
    rows = design_rows(result)
    by_id = {r["id"]: r for r in rows}
    return {"designs": rows,
            "feasible": [r for r in rows if r.get("feasible") and r["status"] == "evaluated"],
            "pareto": [r for r in rows if r.get("pareto")],
            "best_per_family": [by_id[d.id] for d in result.best_per_family().values()]}


def sizing_outputs(scenario, result: SizingResult, runner_name: str, wall_s: float) -> dict[str, str]:
    """File name -> text for everything ``size`` writes (figures excluded)."""
    tables = design_tables(result)
    rows = tables["designs"]
    columns = design_columns(rows)
    outputs = {f"{name}.csv": render_table(tidy(table), columns, "csv") for name, table in tables.items()}
    best_family = result.best_per_family()
    by_id = {r["id"]: r for r in rows}
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
