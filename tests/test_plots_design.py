"""The sizing figures (`plot pareto`, `plot compare`, and the ones `size`/`compare` write)
render headless with no network, and draw what the tables say."""

import numpy as np
from matplotlib.colors import to_hex

from constellation.cli import main
from constellation.plots.design import (
    compare_table_from_rows,
    plot_compare,
    plot_pareto_rows,
)


def _rows():
    """A small design table: three families, a Pareto flag and one design without key."""
    rows = []
    for k, (family, cost, key, gap, feasible, pareto) in enumerate([
            ("a", 1.0, 1e5, 40.0, False, True), ("a", 2.0, 3e6, 20.0, True, True),
            ("a", 3.0, 2e6, 30.0, True, False), ("b", 2.5, 0.0, 168.0, False, False),
            ("c", 4.0, 5e6, 15.0, True, True)]):
        rows.append({"id": str(k), "family": family, "status": "evaluated", "cost": cost,
                     "worst_link_key_bits_per_day": key, "worst_delivery_gap_h": gap,
                     "feasible": feasible, "pareto": pareto})
    return rows


def test_pareto_figure_marks_the_front_and_keeps_zero_key_on_the_axis(offline, tmp_path):
    fig = plot_pareto_rows(_rows(), target_key_bits_per_day=1e6)
    ax_key, ax_gap = fig.axes[:2]
    assert ax_key.get_yscale() == "log"
    # The front is circled: one black ring per Pareto design on each panel.
    for ax in (ax_key, ax_gap):
        rings = [c for c in ax.collections if c.get_offsets().shape[0] and
                 np.allclose(c.get_edgecolor()[0][:3], 0.0) and len(c.get_facecolor()) == 0]
        assert sum(c.get_offsets().shape[0] for c in rings) == 3
    # The zero-key design sits on the lower edge, not at an arbitrary 1 bit/day.
    bottom = ax_key.get_ylim()[0]
    points = np.concatenate([c.get_offsets() for c in ax_key.collections if c.get_offsets().shape[0]])
    assert points[:, 1].min() >= bottom and points[:, 1].min() < 1e5
    assert any(abs(line.get_ydata()[0] - 1e6) < 1 for line in ax_key.lines)  # the target line
    fig.savefig(tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def test_pareto_figure_draws_the_targets_the_cheapest_feasible_design_and_says_the_front_is_3d(offline):
    fig = plot_pareto_rows(_rows(), targets={"min_key_bits_per_day": 1e6, "max_delivery_gap_h": 36.0})
    ax_key, ax_gap = fig.axes[:2]
    assert any(np.allclose(line.get_ydata(), 1e6) for line in ax_key.lines)
    assert any(np.allclose(line.get_ydata(), 36.0) for line in ax_gap.lines)
    # The cheapest design meeting every target is "a" at cost 2 (3e6 bit/day, 20 h), starred on both panels.
    for ax, y in ((ax_key, 3e6), (ax_gap, 20.0)):
        stars = [c for c in ax.collections if c.get_offsets().shape[0] == 1 and c.get_sizes()[0] >= 200]
        assert len(stars) == 1 and np.allclose(stars[0].get_offsets()[0], (2.0, y))
        assert any("cheapest feasible: cost 2" in t.get_text() for t in ax.texts)
    # Each panel's own front: cost 1 -> 2 -> 4 on the key panel (2e6 at cost 3 is behind 3e6 at 2).
    (step,) = [line for line in ax_key.lines if line.get_drawstyle() == "steps-post"]
    assert list(step.get_xdata()) == [1.0, 2.0, 4.0]
    assert "Pareto-optimal over" in fig.legends[0].get_title().get_text()
    # A given chosen design wins over the cheapest row.
    fig = plot_pareto_rows(_rows(), best_id="4")
    assert any("cheapest feasible: cost 4" in t.get_text() for t in fig.axes[0].texts)


def test_compare_figure_draws_one_bar_per_served_link_and_none_for_the_others(offline, tmp_path):
    table = [{"name": "A", "n_satellites": 1, "links": {"X-Y": 2e5, "X-Z": 0.0}, "stations": {"X": 0.1}},
             {"name": "B", "n_satellites": 6, "links": {"X-Y": 4e6}, "stations": {"X": 0.5, "Y": 0.9}}]
    fig = plot_compare(table)
    ax_key, ax_cov = fig.axes[:2]
    drawn = [p for p in ax_key.patches if np.isfinite(p.get_height())]
    assert len(drawn) == 3  # A: X-Y, X-Z (zero); B: X-Y; B has no X-Z bar
    # A linear axis in the largest value's unit: 0.2 and 4 Mbit/day stand 1:20 as drawn.
    assert ax_key.get_yscale() == "linear" and ax_key.get_ylim()[0] == 0.0 and "Mbit" in ax_key.get_ylabel()
    b_colour = to_hex(drawn[-1].get_facecolor())
    assert [p.get_height() for p in drawn if to_hex(p.get_facecolor()) == b_colour] == [4.0]
    assert sorted(p.get_height() for p in drawn) == [0.0, 0.2, 4.0]
    labels = [t.get_text() for t in ax_key.texts]
    assert "0" in labels and "4" in labels and "0.2" in labels  # each bar says its value; a served link with no key "0"
    heights = sorted(round(p.get_height(), 6) for p in ax_cov.patches if np.isfinite(p.get_height()))
    assert heights == [0.1, 0.5, 0.9]  # night coverage as a fraction, as in compare.csv
    assert "fraction" in ax_cov.get_ylabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["A (1 satellite)", "B (6 satellites)"]
    fig.savefig(tmp_path / "compare.png")


def test_plot_commands_read_the_results_folders(offline, tmp_path, capsys):
    from constellation.output.tables import render_table

    rows = _rows()
    folder = tmp_path / "size-out"
    folder.mkdir()
    (folder / "designs.csv").write_text(render_table(rows, list(rows[0]), "csv"))
    assert main(["plot", "pareto", str(folder), "-o", str(tmp_path / "p.png")]) == 0
    compare_rows = [{"metric": "satellites", "unit": "", "better": "lower", "A": 1, "B": 6},
                    {"metric": "key X-Y", "unit": "bit/day", "better": "higher", "A": 2e5, "B": 4e6},
                    {"metric": "key X-Y (P10)", "unit": "bit/day", "better": "higher", "A": 1e5, "B": 2e6},
                    {"metric": "night coverage X", "unit": "fraction", "better": "higher", "A": 0.1, "B": 0.5}]
    (tmp_path / "compare.csv").write_text(render_table(compare_rows, ["metric", "unit", "better", "A", "B"], "csv"))
    assert main(["plot", "compare", str(tmp_path / "compare.csv"), "-o", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "p.png").exists() and (tmp_path / "c.png").exists()
    import csv

    with open(tmp_path / "compare.csv", newline="") as handle:
        table = compare_table_from_rows(list(csv.DictReader(handle)))
    assert table[1] == {"name": "B", "n_satellites": 6, "links": {"X-Y": 4e6}, "stations": {"X": 0.5}}
    # Pointing at something that is not a results folder is a one-line error.
    assert main(["plot", "pareto", str(tmp_path / "compare.csv")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
