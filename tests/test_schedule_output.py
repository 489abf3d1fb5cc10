"""The network schedule as an output: schedule.csv from `run`, `network --schedule`, `plot schedule`.

The scenario is the shipped 2027 plan as reported (3 LEO + 1 MEO, seven stations, five
links, one week): every station is in a link, no fibre, so each link is its own relay
channel and its key in network.csv is the key the relay delivered over it.

The bookkeeping checked here is the relay's, stated in :mod:`constellation.network`: a
delivery of d bits spends d bits of the satellite's key with each end, so over the schedule
``sum(relayed_bits) = 2 x sum over links of the relayed key`` and, per satellite,
``key collected at link stations = sum(relayed_bits) + key left on board + key discarded``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from conftest import walker_data
from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "scenarios" / "2027-reported-plan.toml"
COLUMNS = ["satellite", "station", "start_utc", "end_utc", "duration_s", "key_bits", "relayed_bits", "links",
           "links_relayed_bits"]


def _quiet_main(args) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main([str(a) for a in args])


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """`constellation run` of the 2027 plan, once (no figures: the plot test draws its own)."""
    out = tmp_path_factory.mktemp("plan-run")
    assert _quiet_main(["run", PLAN, "-o", out, "--no-plots"]) == 0
    return out


@pytest.fixture(scope="module")
def plan_result():
    from constellation.api import load_scenario, run_scenario

    result = run_scenario(load_scenario(PLAN))
    result.complete()
    return result


def test_run_writes_schedule_csv_next_to_network_csv(run_folder):
    assert (run_folder / "network.csv").exists()
    with open(run_folder / "schedule.csv", encoding="utf-8", newline="") as handle:
        assert next(csv.reader(handle)) == COLUMNS
    rows = _read_csv(run_folder / "schedule.csv")
    assert rows, "a week of four satellites over seven stations schedules contacts"
    for row in rows:
        assert row["start_utc"].endswith("Z") and row["end_utc"].endswith("Z")
        start, end = _utc(row["start_utc"]), _utc(row["end_utc"])
        # duration_s is end - start to the millisecond of the printed times
        assert float(row["duration_s"]) == pytest.approx((end - start).total_seconds(), abs=2e-3)
        assert float(row["duration_s"]) > 0 and int(row["key_bits"]) > 0
        # a contact's key spent in deliveries never exceeds its key (key is not created)
        assert 0 <= float(row["relayed_bits"]) <= int(row["key_bits"]) + 0.5


def test_rows_sorted_by_start_and_inside_the_span(run_folder):
    rows = _read_csv(run_folder / "schedule.csv")
    starts = [_utc(r["start_utc"]) for r in rows]
    assert starts == sorted(starts)
    begin, end = dt.datetime(2027, 3, 16, tzinfo=dt.UTC), dt.datetime(2027, 3, 23, tzinfo=dt.UTC)
    assert all(begin <= s for s in starts) and all(_utc(r["end_utc"]) <= end for r in rows)


def _peak_concurrency(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """Most intervals [start, end) open at once (touching ones do not overlap)."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    depth = peak = 0
    for _, step in events:
        depth += step
        peak = max(peak, depth)
    return peak


def test_no_satellite_or_station_in_more_contacts_than_its_terminals(run_folder, plan_result):
    scn = plan_result.scenario
    rows = _read_csv(run_folder / "schedule.csv")
    by_station, by_satellite = defaultdict(list), defaultdict(list)
    for r in rows:
        interval = (_utc(r["start_utc"]), _utc(r["end_utc"]))
        by_station[r["station"]].append(interval)
        by_satellite[r["satellite"]].append(interval)
    # The scenario sets neither telescopes nor terminals: one of each (issue 14: defaults 1).
    telescopes = {s.name: scn.telescopes.get(s.name, 1) for s in scn.stations}
    fixed = scn.network.satellite_terminals
    terminals = {s.name: fixed or getattr(getattr(scn.terminal(k, 0), "link", None), "terminals", 1)
                 for k, s in enumerate(scn.satellites)}
    assert set(telescopes.values()) == {1} and set(terminals.values()) == {1}
    for name, intervals in by_station.items():
        assert _peak_concurrency(intervals) <= telescopes[name], name
    for name, intervals in by_satellite.items():
        assert _peak_concurrency(intervals) <= terminals[name], name


def test_re_pointing_between_targets_and_none_between_pieces_of_a_track(run_folder, plan_result):
    # An operator's check of schedule.csv: each telescope (station) and terminal (satellite)
    # has retarget_s (60 s, the default) between two contacts, unless the second continues
    # the first (same satellite at the same station, starting where it ended: the next
    # 15-minute piece of the MEO's night-long window, flown back to back).
    retarget_s = plan_result.scenario.network.retarget_s
    assert retarget_s == 60.0
    rows = sorted(_read_csv(run_folder / "schedule.csv"), key=lambda r: (r["start_utc"], r["end_utc"]))
    back_to_back = 0
    for column in ("station", "satellite"):
        by = defaultdict(list)
        for r in rows:
            by[r[column]].append(r)
        for name, mine in by.items():
            for a, b in zip(mine, mine[1:]):
                gap_s = (_utc(b["start_utc"]) - _utc(a["end_utc"])).total_seconds()
                if (a["satellite"], a["station"]) == (b["satellite"], b["station"]) and abs(gap_s) <= 0.001:
                    back_to_back += 1
                    continue
                assert gap_s >= retarget_s - 0.001, (column, name, a["end_utc"], b["start_utc"])
    # Before the pieces of a window were tracked as one, the re-pointing time sat between
    # them and every other piece was dropped: none were back to back.
    assert back_to_back > 50


def test_key_in_network_csv_adds_up_to_what_the_schedule_collected(run_folder, plan_result):
    rows = _read_csv(run_folder / "schedule.csv")
    links = _read_csv(run_folder / "network.csv")
    assert all(r["limited_by"] in ("relay", "no key") for r in links)  # no fibre in this scenario
    # Per link: the schedule's parts sum to both ends of every delivery, 2 x the link's key.
    parts = defaultdict(float)
    for r in rows:
        names = r["links"].split(";") if r["links"] else []
        bits = [float(b) for b in r["links_relayed_bits"].split(";")] if names else []
        assert len(names) == len(bits)
        assert sum(bits) == pytest.approx(float(r["relayed_bits"]), abs=0.1 * len(bits) + 0.05)
        for name, b in zip(names, bits):
            parts[name] += b
    # Rounding: 0.05 bit per printed part, 0.5 bit for the link's integer key_bits.
    tolerance = 0.05 * len(rows) + 1.0
    for link in links:
        name = f"{link['a']}-{link['b']}"
        assert parts.get(name, 0.0) == pytest.approx(2 * int(link["key_bits"]), abs=tolerance), name
    assert set(parts) <= {f"{link['a']}-{link['b']}" for link in links}

    # Per satellite: key collected = relayed + left on board + discarded (the relay's ledger).
    relay = plan_result.network.relay
    names = [s.name for s in plan_result.scenario.satellites]
    link_stations = {e for link in links for e in (link["a"], link["b"])}
    for k, sat in enumerate(names):
        mine = [r for r in rows if r["satellite"] == sat and r["station"] in link_stations]
        collected = sum(int(r["key_bits"]) for r in mine)
        spent = sum(float(r["relayed_bits"]) for r in mine)
        left = float(relay.remaining_bits[k] + relay.overflow_bits[k])
        assert collected == pytest.approx(spent + left, abs=0.5 * len(mine) + 0.05 * len(mine) + 1.0), sat
        assert spent == pytest.approx(float(relay.spent_bits[k]), abs=0.05 * len(mine) + 1.0), sat
    assert sum(float(r["relayed_bits"]) for r in rows) > 0


def test_schedule_times_are_the_pass_windows(run_folder):
    # A contact of at most 15 min is its pass's QKD window (longer ones are cut into pieces):
    # the same instant printed the same way in passes.csv.
    windows = {(p["satellite"], p["station"], p["window_start_utc"]): p["window_end_utc"]
               for p in _read_csv(run_folder / "passes.csv") if p["window_start_utc"]}
    short = [r for r in _read_csv(run_folder / "schedule.csv") if r["satellite"].startswith("LEO")]
    assert short
    for r in short:
        assert windows[(r["satellite"], r["station"], r["start_utc"])] == r["end_utc"]


def test_network_schedule_json_to_stdout_matches_the_csv(run_cli, run_folder):
    rows = run_cli("network", PLAN, "--schedule", "--format", "json", "-o", "-").json()
    written = _read_csv(run_folder / "schedule.csv")
    assert isinstance(rows, list) and len(rows) == len(written)
    assert list(rows[0]) == COLUMNS
    assert [(r["satellite"], r["station"], r["start_utc"], r["key_bits"]) for r in rows] == \
        [(r["satellite"], r["station"], r["start_utc"], int(r["key_bits"])) for r in written]


def test_network_schedule_to_a_file(run_cli, run_folder, tmp_path):
    target = tmp_path / "schedule.csv"
    assert run_cli("network", PLAN, "--schedule", "-o", target).out == ""
    assert target.read_text(encoding="utf-8") == (run_folder / "schedule.csv").read_text(encoding="utf-8")


def test_plot_schedule_writes_a_png(run_cli, tmp_path):
    target = tmp_path / "gantt.png"
    run_cli("plot", "schedule", PLAN, "-o", target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gantt_bars_are_the_scheduled_contacts(plan_result):
    from matplotlib import dates

    fig = plan_result.figure("schedule")
    ax = fig.axes[0]
    rows = plan_result.rows("schedule")
    assert [t.get_text() for t in ax.get_yticklabels()] == [s.name for s in plan_result.scenario.stations]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [s.name for s in plan_result.scenario.satellites]
    for station in plan_result.scenario.stations:
        bars = [c for c in ax.collections if c.get_gid() == f"schedule:{station.name}"]
        starts = sorted(float(p.vertices[:, 0].min()) for c in bars for p in c.get_paths())
        expected = sorted(dates.date2num(_utc(r["start_utc"])) for r in rows if r["station"] == station.name)
        # date numbers are days: 1e-7 day = 9 ms (times printed to 1 ms)
        np.testing.assert_allclose(starts, expected, atol=1e-7)


def test_many_satellites_get_a_colour_bar_not_a_legend():
    from constellation.api import run_scenario
    from constellation.scenario.build import scenario_from_dict

    data = walker_data(12, 3, 1.0)
    data["links"] = [{"a": "G000", "b": "G001"}, {"a": "G001", "b": "G002"}]
    data["network"] = {"weather_runs": 1}
    result = run_scenario(scenario_from_dict(data))
    fig = result.figure("schedule")
    assert fig.axes[0].get_legend() is None
    assert len(fig.axes) == 2  # the Gantt axes and the colour bar
    colours = {tuple(np.round(fc, 6)) for c in fig.axes[0].collections for fc in c.get_facecolors()}
    used = {r["satellite"] for r in result.rows("schedule")}
    assert len(colours) == len(used) > 1


def test_contact_lanes_never_put_overlapping_contacts_in_one_lane():
    from constellation.plots.schedule import contact_lanes

    start = np.array([0.0, 5.0, 10.0, 12.0, 30.0])
    end = np.array([10.0, 15.0, 20.0, 14.0, 40.0])
    lanes = contact_lanes(start, end)
    for lane in np.unique(lanes):
        k = np.flatnonzero(lanes == lane)
        order = k[np.argsort(start[k])]
        assert np.all(start[order[1:]] >= end[order[:-1]])
    assert lanes.max() + 1 == 3  # [10, 20), [12, 14) and [5, 15) are open at t = 12


@pytest.mark.parametrize("args, says", [
    (("network", PLAN, "--schedule", "--timeline"), "--timeline and --schedule"),
    (("network", PLAN, "--schedule", "--format", "xml"), "xml"),
    (("network", ROOT / "scenarios" / "micius-2016-xinglong.toml", "--schedule"), "links"),
    (("plot", "schedule", ROOT / "scenarios" / "micius-2016-xinglong.toml", "-o", "never.png"), "links"),
])
def test_bad_input_gets_one_line_and_exit_2(run_cli, tmp_path, monkeypatch, args, says):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args, code=2)
    assert result.err.count("\n") == 1 and says in result.err
    assert not (tmp_path / "never.png").exists()
