"""Design trade-offs: the Pareto front of a sizing sweep and side-by-side comparisons."""

from __future__ import annotations

import math

import numpy as np

from ..sizing.search import design_rows
from .base import colour, new_figure

__all__ = ["plot_compare", "plot_pareto", "plot_pareto_rows"]


def plot_pareto(result, title: str = "", target_key_bits_per_day: float | None = None, targets=None):
    """Cost against worst-link key per day and worst wait for fresh key for every evaluated design.

    ``targets``: the sweep's ``[targets]`` (a mapping or an object with ``min_key_bits_per_day``
    and ``max_delivery_gap_h``), drawn as lines; ``target_key_bits_per_day`` overrides the key one.
    """
    return plot_pareto_rows(design_rows(result), title=title, target_key_bits_per_day=target_key_bits_per_day,
                            targets=targets)


def _target(targets, name):
    if targets is None:
        return None
    value = targets.get(name) if isinstance(targets, dict) else getattr(targets, name, None)
    return None if value in (None, "") else float(value)


def plot_pareto_rows(rows: list[dict], title: str = "", target_key_bits_per_day: float | None = None,
                     targets=None, best_id: str | None = None):
    """The same figure from the rows of ``designs.csv`` (dicts; values may be text).

    Filled markers meet every target, open ones miss one. Circled designs are Pareto-optimal
    over the three objectives together (cost, worst-link key, longest wait for fresh key): in
    one panel a circled design can sit behind another, being better in the other panel; the
    black step line is each panel's own two-objective front. Dashed lines are the targets;
    the star is the cheapest feasible design (``best_id``, else the cheapest feasible row).
    """
    rows = [r for r in rows if str(r.get("status")) == "evaluated"]
    fig = new_figure(13.0, 5.2)
    ax_key, ax_lat = fig.subplots(1, 2)
    families = sorted({r["family"] for r in rows})
    positive = [_f(r.get("worst_link_key_bits_per_day")) for r in rows]
    positive = [v for v in positive if v > 0]
    floor = min(positive) / 3.0 if positive else 1.0

    def key_of(r):
        return max(_f(r.get("worst_link_key_bits_per_day")), floor)

    def gap_of(r):
        return _f(r.get("worst_delivery_gap_h"))

    for k, family in enumerate(families):
        mine = [r for r in rows if r["family"] == family]
        cost = np.array([_f(r["cost"]) for r in mine])
        feasible = np.array([_truth(r.get("feasible")) for r in mine])
        front = np.array([_truth(r.get("pareto")) for r in mine])
        for ax, y in ((ax_key, np.array([key_of(r) for r in mine])), (ax_lat, np.array([gap_of(r) for r in mine]))):
            ax.scatter(cost[feasible], y[feasible], s=36, color=colour(k), label=f"{family} (meets every target)",
                       zorder=3)
            ax.scatter(cost[~feasible], y[~feasible], s=36, facecolors="none", edgecolors=colour(k),
                       label=f"{family} (misses a target)", zorder=3)
            ax.scatter(cost[front], y[front], s=110, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4,
                       label="Pareto-optimal (cost, key, wait together)" if k == 0 else None)
    for ax, value, better in ((ax_key, key_of, max), (ax_lat, gap_of, min)):
        steps = _front_2d(rows, value, higher=better is max)
        if steps:
            ax.step(*zip(*steps), where="post", color="black", linewidth=0.8, alpha=0.6,
                    label="front of this panel alone" if ax is ax_key else None)
    key_target = target_key_bits_per_day or _target(targets, "min_key_bits_per_day")
    gap_target = _target(targets, "max_delivery_gap_h")
    if key_target:
        ax_key.axhline(key_target, color="#D55E00", linestyle="--", linewidth=1.0,
                       label=f"target: worst link >= {key_target:,.3g} bit/day")
    if gap_target:
        ax_lat.axhline(gap_target, color="#D55E00", linestyle="--", linewidth=1.0,
                       label=f"target: wait <= {gap_target:g} h")
    best = _cheapest_feasible(rows, best_id)
    if best is not None:
        for ax, y in ((ax_key, key_of(best)), (ax_lat, gap_of(best))):
            ax.scatter([_f(best["cost"])], [y], s=260, marker="*", color="#F0E442", edgecolors="black",
                       linewidths=0.9, zorder=5, label="cheapest feasible" if ax is ax_key else None)
            ax.annotate(f"cheapest feasible: cost {_f(best['cost']):g}"
                        + (f", {int(_f(best['n_satellites']))} sats" if best.get("n_satellites") not in (None, "") else ""),
                        (_f(best["cost"]), y), xytext=(10, 10 if ax is ax_key else -14), textcoords="offset points",
                        fontsize=8, zorder=6)
    ax_key.set_yscale("log")
    if any(_f(r.get("worst_link_key_bits_per_day")) <= 0 for r in rows):
        ax_key.text(0.01, 0.01, "designs with no key on some link sit on the bottom edge",
                    transform=ax_key.transAxes, fontsize=7, color="#555555")
        ax_key.set_ylim(bottom=floor * 0.8)
    ax_key.set_xlabel("cost (units)")
    ax_key.set_ylabel("worst link key (bit/day, expected with weather)")
    ax_lat.set_xlabel("cost (units)")
    ax_lat.set_ylabel("worst link: longest wait for fresh key (h)")
    for ax in (ax_key, ax_lat):
        ax.grid(True, alpha=0.3)
    legend = {}
    for ax in (ax_key, ax_lat):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="outside right upper", fontsize=7, frameon=False,
               title="Circled designs are Pareto-optimal over\ncost, key and wait together: in one\npanel "
                     "a circled design can sit behind\nanother, being better in the other.",
               title_fontsize=7, alignment="left")
    fig.suptitle(title or "Design trade-offs", fontsize=11)
    return fig


def _front_2d(rows, value, higher: bool) -> list[tuple[float, float]]:
    """The two-objective front (cost lower, ``value`` higher or lower) as step points."""
    points = sorted(((_f(r["cost"]), value(r)) for r in rows if np.isfinite(value(r))), key=lambda p: (p[0], -p[1] if higher else p[1]))
    steps, best = [], None
    for cost, y in points:
        if best is None or (y > best if higher else y < best):
            steps.append((cost, y))
            best = y
    return steps


def _cheapest_feasible(rows, best_id):
    feasible = [r for r in rows if _truth(r.get("feasible"))]
    if best_id is not None:
        chosen = [r for r in feasible if str(r.get("id")) == str(best_id)]
        if chosen:
            return chosen[0]
    return min(feasible, key=lambda r: (_f(r["cost"]), _f(r.get("n_satellites") or 0))) if feasible else None


def plot_compare(table: list[dict], title: str = "Designs compared"):
    """Grouped bars on linear axes: key per link per day and night coverage per station (a
    fraction, as in ``compare.csv``), one colour per design, each bar labelled with its value.

    ``table`` is :func:`constellation.sizing.compare.compare_designs` output: one dict per design with
    ``name``, ``n_satellites``, ``links`` ({link: key_bits_per_day}) and ``stations`` ({station: fraction}).
    A link a design does not serve gets no bar; one it serves without key a "0".
    """
    fig = new_figure(11.0, 5.0)
    ax_key, ax_cov = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    links = sorted({name for d in table for name in d["links"]})
    stations = sorted({name for d in table for name in d["stations"]})
    width = 0.8 / max(len(table), 1)
    largest = max((v for d in table for v in d["links"].values() if v), default=1.0)
    scale, unit = next(((f, u) for f, u in ((1e9, "Gbit"), (1e6, "Mbit"), (1e3, "kbit")) if largest >= f),
                       (1.0, "bit"))
    for k, d in enumerate(table):
        x = np.arange(len(links)) + (k - (len(table) - 1) / 2) * width
        values = [d["links"].get(n) for n in links]
        heights = [np.nan if v is None else max(v, 0.0) / scale for v in values]
        bars = ax_key.bar(x, heights, width, color=colour(k), label=_design_label(d))
        ax_key.bar_label(bars, labels=["" if v is None else "0" if v <= 0 else f"{v / scale:.3g}" for v in values],
                         fontsize=7, padding=2, color=colour(k))
        x = np.arange(len(stations)) + (k - (len(table) - 1) / 2) * width
        fractions = [d["stations"].get(n) for n in stations]
        bars = ax_cov.bar(x, [np.nan if f is None else f for f in fractions], width, color=colour(k))
        ax_cov.bar_label(bars, labels=["" if f is None else f"{f:.2f}" for f in fractions], fontsize=7, padding=2,
                         color=colour(k))
    ax_key.set_ylim(0.0, largest / scale * 1.12)
    top = max((f for d in table for f in d["stations"].values() if f is not None), default=0.0)
    ax_cov.set_ylim(0.0, min(1.0, max(top * 1.15, 0.05)))
    ax_key.set_xlim(-0.5, len(links) - 0.5)
    ax_cov.set_xlim(-0.5, len(stations) - 0.5)
    ax_key.set_xticks(np.arange(len(links)), [n.replace("-", "-\n") for n in links], fontsize=8)
    ax_key.set_ylabel(f"key per day ({unit}, expected with weather)")
    handles, labels = ax_key.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False, ncols=min(len(table), 3))
    ax_cov.set_xticks(np.arange(len(stations)), stations, rotation=30, ha="right", fontsize=8)
    ax_cov.set_ylabel("night covered by QKD windows (fraction)")
    for ax in (ax_key, ax_cov):
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return fig


def _design_label(d: dict) -> str:
    n = d.get("n_satellites")
    if n in (None, ""):
        return str(d["name"])
    n = int(n)
    return f"{d['name']} ({n} satellite{'' if n == 1 else 's'})"


def compare_table_from_rows(rows: list[dict]) -> list[dict]:
    """Rebuild :func:`plot_compare`'s input from the rows of ``compare.csv``."""
    names = [c for c in rows[0] if c not in ("metric", "unit", "better", "best", "worst")]
    table = [{"name": n, "n_satellites": None, "links": {}, "stations": {}} for n in names]
    for row in rows:
        metric = row["metric"]
        for d in table:
            value = row[d["name"]]
            if value in (None, ""):
                continue
            if metric == "satellites":
                d["n_satellites"] = int(float(value))
            elif metric.startswith("key ") and not metric.endswith("(P10)"):
                d["links"][metric[4:]] = float(value)
            elif metric.startswith("night coverage ") and not metric.startswith("night coverage region "):
                d["stations"][metric[len("night coverage "):]] = float(value)
    return table


def _f(value) -> float:
    if value in (None, ""):
        return math.nan
    return float(value)


def _truth(value) -> bool:
    return value is True or str(value).lower() == "true"
