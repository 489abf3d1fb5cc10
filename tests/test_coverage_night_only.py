"""``coverage --night-only`` changes the headline (issue 17, item 5): the coverage fraction
counts the time that is usable, i.e. covered and dark, as the gaps already did."""

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WALKER = ROOT / "scenarios" / "walker-66-demo.toml"


def test_night_only_changes_the_headline(run_cli):
    args = ("coverage", WALKER, "--format", "json", "--grid-deg", "6")
    day = run_cli(*args).json()
    night = run_cli(*args, "--night-only").json()
    assert not day["night_only"] and night["night_only"]
    # The same samples: dark and covered time is the night-only headline.
    assert night["global_night_coverage_fraction"] == day["global_night_coverage_fraction"]
    assert night["global_coverage_fraction"] == night["global_night_coverage_fraction"]
    assert 0.0 < night["global_coverage_fraction"] < day["global_coverage_fraction"]
    assert night["global_coverage_fraction"] <= night["global_night_fraction"]
    assert night["max_revisit_gap_s"] >= day["max_revisit_gap_s"]
    for band_day, band_night in zip(day["latitude_bands"], night["latitude_bands"]):
        assert band_night["coverage_fraction"] == band_night["night_coverage_fraction"]
        assert band_night["coverage_fraction"] <= band_day["coverage_fraction"]


def test_night_only_points_count_covered_and_dark_time(run_cli):
    out = run_cli("coverage", WALKER, "--grid-deg", "6", "--night-only").out
    rows = np.genfromtxt(out.splitlines(), delimiter=",", names=True)
    np.testing.assert_array_equal(rows["coverage_fraction"], rows["night_coverage_fraction"])
    assert np.all(rows["coverage_fraction"] <= rows["night_fraction"])


def test_the_night_only_figure_says_night_coverage():
    from constellation.api import RunResult, load_scenario

    result = RunResult(load_scenario(WALKER), coverage_options={"night_only": True, "grid_deg": 6.0})
    fig = result.figure("coverage")
    assert fig.axes[0].get_title().startswith("Night coverage by")
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert "Night coverage (fraction of all time: dark and covered)" in labels
