"""Design trade-offs: the Pareto front of a sizing sweep and side-by-side comparisons."""

from __future__ import annotations

import math

import numpy as np

from ..sizing.search import design_rows
from .base import colour, new_figure

__all__ = ["plot_compare", "plot_pareto", "plot_pareto_rows"]


def plot_pareto(result, title: str = "", target_key_bits_per_day: float | None = None):
    """Cost against worst-link key per day and worst latency for every evaluated design."""
    return plot_pareto_rows(design_rows(result), title=title, target_key_bits_per_day=target_key_bits_per_day)


def plot_pareto_rows(rows: list[dict], title: str = "", target_key_bits_per_day: float | None = None):
    """The same figure from the rows of ``designs.csv`` (dicts; values may be text)."""
    rows = [r for r in rows if str(r.get("status")) == "evaluated"]
    fig = new_figure(13.0, 4.8)
    ax_key, ax_lat = fig.subplots(1, 2)
    families = sorted({r["family"] for r in rows})
    positive = [_f(r.get("worst_link_key_bits_per_day")) for r in rows]
    positive = [v for v in positive if v > 0]
    floor = min(positive) / 3.0 if positive else 1.0
    for k, family in enumerate(families):
        mine = [r for r in rows if r["family"] == family]
        cost = np.array([_f(r["cost"]) for r in mine])
        key = np.array([max(_f(r.get("worst_link_key_bits_per_day")), floor) for r in mine])
        lat = np.array([_f(r.get("worst_delivery_gap_h")) for r in mine])
        feasible = np.array([_truth(r.get("feasible")) for r in mine])
        front = np.array([_truth(r.get("pareto")) for r in mine])
        for ax, y in ((ax_key, key), (ax_lat, lat)):
            ax.scatter(cost[feasible], y[feasible], s=36, color=colour(k), label=f"{family} (feasible)", zorder=3)
            ax.scatter(cost[~feasible], y[~feasible], s=36, facecolors="none", edgecolors=colour(k),
                       label=f"{family} (misses a target)", zorder=3)
            ax.scatter(cost[front], y[front], s=110, facecolors="none", edgecolors="black", linewidths=1.2, zorder=4)
    front_rows = sorted((r for r in rows if _truth(r.get("pareto"))), key=lambda r: _f(r["cost"]))
    if front_rows:
        ax_key.step([_f(r["cost"]) for r in front_rows],
                    [max(_f(r.get("worst_link_key_bits_per_day")), floor) for r in front_rows],
                    where="post", color="black", linewidth=0.8, alpha=0.6, label="Pareto front (circled)")
    if target_key_bits_per_day:
        ax_key.axhline(target_key_bits_per_day, color="#D55E00", linestyle="--", linewidth=1.0, label="key target")
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
    handles, labels = ax_key.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=7, frameon=False)
    fig.suptitle(title or "Design trade-offs", fontsize=11)
    return fig


def plot_compare(table: list[dict], title: str = "Designs compared"):
    """Grouped bars: key per link per day (log) and night coverage per station, one colour per design.

    ``table`` is :func:`constellation.sizing.compare.compare_designs` output: one dict per design with
    ``name``, ``links`` ({link: key_bits_per_day}) and ``stations`` ({station: fraction}).
    """
    fig = new_figure(11.0, 5.0)
    ax_key, ax_cov = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    links = sorted({name for d in table for name in d["links"]})
    stations = sorted({name for d in table for name in d["stations"]})
    width = 0.8 / max(len(table), 1)
    positive = [v for d in table for v in d["links"].values() if v and v > 0]
    floor = min(positive) / 3.0 if positive else 1.0
    for k, d in enumerate(table):
        x = np.arange(len(links)) + (k - (len(table) - 1) / 2) * width
        # A link the design does not serve gets no bar; one served with no key a "0" mark.
        values = [d["links"].get(n) for n in links]
        heights = [np.nan if v is None else max(v, floor) for v in values]
        ax_key.bar(x, heights, width, color=colour(k), label=f"{d['name']} ({d['n_satellites']} sats)")
        for xi, v in zip(x, values):
            if v is not None and v <= 0:
                ax_key.text(xi, floor * 1.1, "0", ha="center", va="bottom", fontsize=8, color=colour(k))
        x = np.arange(len(stations)) + (k - (len(table) - 1) / 2) * width
        ax_cov.bar(x, [100.0 * d["stations"][n] if n in d["stations"] else np.nan for n in stations], width,
                   color=colour(k))
    ax_key.set_ylim(bottom=floor)
    ax_key.set_xlim(-0.5, len(links) - 0.5)
    ax_cov.set_xlim(-0.5, len(stations) - 0.5)
    ax_key.set_xticks(np.arange(len(links)), [n.replace("-", "-\n") for n in links], fontsize=8)
    ax_key.set_yscale("log")
    ax_key.set_ylabel("key per day (bit, expected with weather)")
    handles, labels = ax_key.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize=8, frameon=False, ncols=min(len(table), 3))
    ax_cov.set_xticks(np.arange(len(stations)), stations, rotation=30, ha="right", fontsize=8)
    ax_cov.set_ylabel("night covered by QKD windows (%)")
    for ax in (ax_key, ax_cov):
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return fig


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
