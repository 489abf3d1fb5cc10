"""Sizing: search a design space for the cheapest constellations that meet the targets.

How the search avoids brute force (``[sweep] prune = true``, the default):

1. Designs are grouped in *lattices*: same family and shape (altitude, inclination,
   phasing), ordered by their counts (planes, satellites per plane, slots). The search
   assumes key per link and night coverage never fall, and revisit and latency never grow,
   when a count grows with the shape fixed. That is exact when the bigger design contains
   the smaller one (another SSO plane at the next local time, another GEO slot) and an
   approximation when satellites are re-spaced (satellites per plane, Walker planes);
   ``prune = false`` evaluates everything.
2. Early rejection: the first round evaluates the largest design of every lattice. If it
   misses a target widely (by more than ``prune_margin``, default 50 %: say under half
   the key, or a gap over 1.5 times the limit), every design below it is taken to miss
   it too, and none of them is evaluated.
3. Bisection: each later round evaluates, in every lattice, designs at evenly spaced cost
   quantiles of what is still undecided. A feasible design decides every bigger one
   (feasible, and dearer); one that misses widely decides every smaller one
   (infeasible). Rounds repeat until every design is decided or evaluated. The cheapest
   feasible design of a lattice is always evaluated (whatever is implied feasible sits
   above an evaluated feasible design that costs no more).

Why the margin: key per link is close to monotone, but the relay is not exactly so (each
station's telescope schedule maximises the station's key, not the links'; more
satellites can starve one link of common contacts), so a bigger design can narrowly miss
a target that a smaller one meets. Implied-feasible errors are harmless for the optimum
(those designs cost more); implied-infeasible ones could hide it, hence the margin.

Rounds are synchronous and their picks depend only on earlier results, never on which
worker finished first, so a sweep gives the same table on one process or on a cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .designs import Design, dominates, expand_designs
from .evaluate import check_targets

__all__ = ["DEFAULT_BATCH", "SizingResult", "design_rows", "pareto_mask", "search_designs"]

DEFAULT_BATCH = 8


@dataclass
class SizingResult:
    designs: list[Design]
    records: dict  # id -> metrics record (evaluated designs)
    checks: dict  # id -> list of target checks (evaluated designs)
    feasible: dict  # id -> bool | None (None: evaluation failed)
    implied_by: dict  # id -> id of the evaluated design that decided it
    rounds: int = 0
    resumed: int = 0
    evaluated_now: int = 0
    notes: list[str] = field(default_factory=list)

    def by_id(self, design_id: str) -> Design:
        return next(d for d in self.designs if d.id == design_id)

    @property
    def evaluated(self) -> list[Design]:
        return [d for d in self.designs if d.id in self.records]

    def best_per_family(self) -> dict[str, Design]:
        best: dict[str, Design] = {}
        for d in sorted(self.evaluated, key=_cost_key):
            if self.feasible.get(d.id) and d.family not in best:
                best[d.family] = d
        return best

    def best(self) -> Design | None:
        feasible = [d for d in self.evaluated if self.feasible.get(d.id)]
        return min(feasible, key=_cost_key) if feasible else None


def _cost_key(design: Design):
    return (design.cost, design.n_satellites, design.id)


def search_designs(scenario, runner, journal=None, *, progress=None) -> SizingResult:
    """Search ``scenario.designs`` for designs meeting ``scenario.targets``.

    ``runner`` evaluates batches (see :mod:`constellation.sizing.runners`); ``journal`` (optional)
    supplies records saved by an earlier, interrupted run and receives new ones;
    ``progress(done, total, message)`` is called after each evaluation.
    """
    designs = expand_designs(scenario.designs)
    batch_size = scenario.sweep.batch or DEFAULT_BATCH
    prune = scenario.sweep.prune
    targets, links = scenario.targets, scenario.links
    saved = journal.load() if journal is not None else {}
    result = SizingResult(designs, {}, {}, {}, {})
    total = len(designs)
    first_round = prune
    # A resumed sweep replays the journal round by round: each round picks exactly what an
    # uninterrupted run would pick (picks depend only on earlier rounds), takes the saved
    # records of its picks and evaluates only the rest. Applying every saved record before
    # round 1 would decide designs in another order and change the answer.
    while True:
        undecided = [d for d in designs if d.id not in result.records and d.id not in result.implied_by]
        if not undecided:
            break
        if not prune:
            picks = sorted(undecided, key=_cost_key)  # nothing to learn between rounds: one batch
        elif first_round:
            picks = _maximal(undecided)
        else:
            picks = _quantile_picks(undecided, batch_size)
        first_round = False
        result.rounds += 1
        records = {d.id: saved[d.id] for d in picks if d.id in saved}
        result.resumed += len(records)
        todo = [d for d in picks if d.id not in records]
        for design_id, record in runner.run([(d.id, d.satellites) for d in todo]) if todo else ():
            if journal is not None:
                journal.append(design_id, record)
            records[design_id] = record
            result.evaluated_now += 1
            if progress is not None:
                design = result.by_id(design_id)
                feasible = None if "error" in record else all(c["met"] for c in check_targets(record, targets, links))
                state = "error" if feasible is None else ("feasible" if feasible else "infeasible")
                done = len(result.records) + len(result.implied_by) + len(records)
                progress(done, total, f"{design.label()} ({design.n_satellites} sats, cost {design.cost:g}): {state}")
        for design in picks:  # in the order of the picks, whichever worker finished first
            _accept(result, design.id, records[design.id], targets, links)
        if prune:
            before = len(result.implied_by)
            for design in picks:
                _imply(result, design, scenario.sweep.prune_margin)
            pruned = len(result.implied_by) - before
            if progress is not None and pruned:  # the count goes on without a gap
                done = len(result.records) + len(result.implied_by)
                progress(done, total, f"{pruned} design(s) decided without evaluation (dominated by one just evaluated)")
    return result


def _accept(result: SizingResult, design_id: str, record: dict, targets, links) -> None:
    result.records[design_id] = record
    if "error" in record:
        result.checks[design_id] = []
        result.feasible[design_id] = None
        return
    checks = check_targets(record, targets, links)
    result.checks[design_id] = checks
    result.feasible[design_id] = all(c["met"] for c in checks)


def _imply(result: SizingResult, design: Design, prune_margin: float) -> None:
    """Decide what ``design``'s evaluation decides for undecided designs of its lattice.

    A miss decides the smaller designs only when it is wide (some target missed by more
    than ``prune_margin``, relative): the relay schedule is not exactly monotone, so a
    bigger design can miss narrowly where a smaller one passes.
    """
    verdict = result.feasible.get(design.id)
    if verdict is None:
        return
    if not verdict and min(c["margin"] for c in result.checks[design.id]) >= -prune_margin:
        return
    for other in result.designs:
        if other.id in result.records or other.id in result.implied_by or other.lattice != design.lattice:
            continue
        if (verdict and dominates(other, design)) or (not verdict and dominates(design, other)):
            result.implied_by[other.id] = design.id
            result.feasible[other.id] = verdict


def _maximal(designs: list[Design]) -> list[Design]:
    """The largest design(s) of each lattice: dominated by no other."""
    out = []
    for d in designs:
        if not any(o is not d and dominates(o, d) and o.level != d.level for o in designs):
            out.append(d)
    return sorted(out, key=_cost_key)


def _quantile_picks(undecided: list[Design], batch_size: int) -> list[Design]:
    """Per lattice, designs at evenly spaced cost quantiles; ``batch_size`` in all (at least one per lattice)."""
    lattices: dict = {}
    for d in sorted(undecided, key=_cost_key):
        lattices.setdefault(d.lattice, []).append(d)
    per = max(1, math.ceil(batch_size / len(lattices)))
    picks = []
    for members in lattices.values():
        n = len(members)
        positions = sorted({min(n - 1, int((q + 1) * n / (per + 1))) for q in range(min(per, n))})
        picks.extend(members[p] for p in positions)
    return sorted(picks, key=_cost_key)


def pareto_mask(cost, key, latency) -> np.ndarray:
    """True for designs no other design dominates (cost and latency lower, key higher).

    The sweep passes the worst link's key per day and the worst link's longest wait for
    fresh key (``worst_delivery_gap_h``) as the latency: the FIFO key age saturates near the
    span length and would not separate designs.

    A design dominates another when it is no worse in all three and better in one.
    Missing latency counts as infinite.
    """
    cost = np.asarray(cost, dtype=float)
    key = np.asarray(key, dtype=float)
    latency = np.where(np.isnan(np.asarray(latency, dtype=float)), np.inf, np.asarray(latency, dtype=float))
    n = cost.size
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = (cost <= cost[i]) & (key >= key[i]) & (latency <= latency[i])
        better = (cost < cost[i]) | (key > key[i]) | (latency < latency[i])
        if np.any(no_worse & better):
            keep[i] = False
    return keep


def summary_metrics(record: dict) -> dict:
    """Worst link key, worst latency, station coverage extremes of one record."""
    links = record.get("links", [])
    stations = record.get("stations", [])
    worst = min(links, key=lambda r: r["key_bits_per_day"]) if links else None
    latencies = [math.inf if r["max_latency_h"] is None else r["max_latency_h"] for r in links]
    gaps = [math.inf if r.get("max_delivery_gap_h") is None else r["max_delivery_gap_h"] for r in links]
    return {
        "worst_link": f"{worst['a']}-{worst['b']}" if worst else None,
        "worst_link_key_bits_per_day": worst["key_bits_per_day"] if worst else None,
        "worst_link_key_bits_per_day_p10": min(r["key_bits_per_day_p10"] for r in links) if links else None,
        "worst_latency_h": max(latencies) if latencies else None,
        "worst_delivery_gap_h": max(gaps) if gaps else None,
        "min_night_coverage_fraction": min(s["night_coverage_fraction"] for s in stations) if stations else None,
        "max_revisit_h": max(s["max_revisit_h"] for s in stations) if stations else None,
        "min_region_night_coverage_fraction": min((r["night_coverage_fraction"] for r in record.get("regions", [])),
                                                  default=None),
        "max_region_revisit_h": max((r["max_revisit_h"] for r in record.get("regions", [])), default=None),
        "key_bits_per_day": record.get("key_bits_per_day"),
    }


def binding(checks: list[dict]) -> dict | None:
    """The target with the smallest margin (the one that fails worst, or is closest to failing)."""
    return min(checks, key=lambda c: c["margin"]) if checks else None


def design_rows(result: SizingResult) -> list[dict]:
    """One row per design, evaluated or decided by pruning, ordered by cost."""
    link_names = []
    for record in result.records.values():
        for r in record.get("links", []):
            name = f"{r['a']}-{r['b']}"
            if name not in link_names:
                link_names.append(name)
    evaluated = [d for d in result.designs if d.id in result.records and "error" not in result.records[d.id]]
    metrics = {d.id: summary_metrics(result.records[d.id]) for d in evaluated}
    front = pareto_mask([d.cost for d in evaluated],
                        [_num(metrics[d.id]["worst_link_key_bits_per_day"], 0.0) for d in evaluated],
                        [_num(metrics[d.id]["worst_delivery_gap_h"], math.inf) for d in evaluated])
    on_front = {d.id for d, f in zip(evaluated, front) if f}
    rows = []
    for d in sorted(result.designs, key=_cost_key):
        record = result.records.get(d.id)
        row = {"id": d.id, "family": d.family, "design": d.label(), "n_satellites": d.n_satellites,
               "n_planes": d.n_planes, "cost": d.cost}
        if record is None:
            status = "implied" if d.id in result.implied_by else "not evaluated"
            row.update(status=status, feasible=result.feasible.get(d.id), implied_by=result.implied_by.get(d.id))
        elif "error" in record:
            row.update(status="error", feasible=None, error=record["error"])
        else:
            bind = binding(result.checks[d.id])
            row.update(status="evaluated", feasible=result.feasible[d.id], pareto=d.id in on_front,
                       **metrics[d.id], eval_s=round(record.get("eval_s", 0.0), 3))
            if bind:
                row.update(binding_target=bind["target"], binding_subject=bind["subject"],
                           binding_margin=round(bind["margin"], 4) if math.isfinite(bind["margin"]) else None)
            for r in record.get("links", []):
                row[f"key_bits_per_day[{r['a']}-{r['b']}]"] = r["key_bits_per_day"]
        rows.append(row)
    return rows


DESIGN_COLUMNS = ["id", "family", "design", "n_satellites", "n_planes", "cost", "status", "feasible", "implied_by",
                  "pareto", "worst_link", "worst_link_key_bits_per_day", "worst_link_key_bits_per_day_p10",
                  "worst_delivery_gap_h", "worst_latency_h", "min_night_coverage_fraction", "max_revisit_h", "min_region_night_coverage_fraction",
                  "max_region_revisit_h", "key_bits_per_day",
                  "binding_target", "binding_subject", "binding_margin", "eval_s", "error"]


def design_columns(rows: list[dict]) -> list[str]:
    extra = []
    for row in rows:
        for k in row:
            if k.startswith("key_bits_per_day[") and k not in extra:
                extra.append(k)
    return DESIGN_COLUMNS + extra


def infeasibility_report(result: SizingResult) -> list[dict]:
    """For a space with no feasible design: each target missed, by how many evaluated designs,
    and the best value any design reached."""
    per: dict = {}
    for checks in result.checks.values():
        for c in checks:
            entry = per.setdefault((c["target"], c["subject"]), {"target": c["target"], "subject": c["subject"],
                                                                "required": c["required"], "missed_by": 0,
                                                                "designs": 0, "best_margin": -math.inf,
                                                                "best_value": None})
            entry["designs"] += 1
            entry["missed_by"] += 0 if c["met"] else 1
            if c["margin"] > entry["best_margin"]:
                entry["best_margin"], entry["best_value"] = c["margin"], c["value"]
    rows = [e for e in per.values() if e["missed_by"]]
    return sorted(rows, key=lambda e: e["best_margin"])


def _num(value, default):
    return default if value is None else value
