"""Numeric faults are data: decayed satellites are masked and counted, stale elements warn,
and nothing written is NaN."""

import json
from pathlib import Path

import numpy as np
import pytest

from constellation.cli import main

ROOT = Path(__file__).resolve().parents[1]
TLE1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
TLE2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"

DECAYING = """
[scenario]
name = "decay"
start = 2024-01-01T00:00:00Z
end = 2024-01-04T00:00:00Z

[[satellites]]
name = "DRAGGY"          # 250 km with a huge B*: SGP4 reports decay (error 6) within the span
altitude_km = 250
inclination_deg = 51.6
bstar = 0.05

[[satellites]]
name = "HEALTHY"
altitude_km = 550
inclination_deg = 51.6

[[stations]]
name = "Matera"
min_elevation_deg = 10
"""


def test_decayed_satellite_is_masked_and_counted(tmp_path, capsys):
    path = tmp_path / "decay.toml"
    path.write_text(DECAYING)
    assert main(["run", str(path), "-o", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["sgp4_error_samples"] > 0
    assert summary["satellites_with_sgp4_errors"] == ["DRAGGY"]
    text = (tmp_path / "out" / "passes.csv").read_text().lower()
    assert ",nan" not in text and "inf," not in text
    assert "HEALTHY" in (tmp_path / "out" / "passes.csv").read_text()
    assert "masked" in capsys.readouterr().out


@pytest.mark.parametrize("start, stale", [("2017-02-01", True), ("2016-12-19", False)])
def test_element_sets_far_from_their_epoch_warn(tmp_path, capsys, start, stale):
    # The TLE epoch is 2016-12-18: 45 days later it warns, the next day it does not.
    path = tmp_path / "scenario.toml"
    path.write_text(f"""
[scenario]
name = "epoch distance"
start = {start}T00:00:00Z
end = {start}T06:00:00Z
[[satellites]]
tle = ["{TLE1}", "{TLE2}"]
[[stations]]
name = "Xinglong"
""")
    assert main(["passes", str(path)]) == 0
    err = capsys.readouterr().err
    if stale:
        assert "warning:" in err and "days from its epoch" in err and "NORAD 41731" in err
    else:
        assert "warning" not in err


def test_decay_is_permanent_and_never_valid():
    # python-sgp4 can report error 0 again after error 6 (decay), with positions far away;
    # the propagator keeps the satellite decayed from its first error-6 sample on.
    import datetime as dt

    from constellation.core import orbits
    from constellation.core.propagation import Propagator
    from constellation.core.timebase import TimeBase, parse_utc

    epoch = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    sat = orbits.satrec_from_elements(orbits.Elements(orbits.semi_major_axis_km(250.0), 0.001, 51.6, 0.0, 0.0, 0.0,
                                                      epoch, 0.05))
    states = Propagator([sat], TimeBase(parse_utc(epoch))).states(np.arange(0.0, 3 * 86400.0, 60.0))
    first_bad = int(np.argmax(~states.valid[0]))
    assert first_bad > 0 and not states.valid[0, first_bad:].any()
    radius = np.linalg.norm(states.r_km[0, :first_bad], axis=1)
    assert np.all((radius > 6300.0) & (radius < 7000.0))


def test_outputs_are_world_readable_like_normal_files(tmp_path):
    import os
    import stat

    from constellation.output.tables import write_text_atomic

    path = tmp_path / "x.csv"
    write_text_atomic(path, "a\n")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


LEAP = f"""
[scenario]
name = "leap second"
start = 2016-12-31T12:00:00Z
end = 2017-01-01T12:00:00Z

[[satellites]]
tle = ["MICIUS", "{TLE1}", "{TLE2}"]

[[satellites]]
name = "ZENITH-ISH"
altitude_km = 500
inclination_deg = 40.4
raan_deg = 100
mean_anomaly_deg = 40

[[satellites]]
name = "GEO-100E"        # up all day over Xinglong: its pass piece spans the leap second
geo_longitude_deg = 100

[[stations]]
name = "Xinglong"
[[stations]]
name = "Graz"
[[stations]]
name = "Stellenbosch"

[constraints]
station_sun_max_elevation_deg = -12

[link]
preset = "micius"
[qkd]
preset = "micius"
"""


def test_a_run_across_the_leap_second_2016_12_31(tmp_path, capsys):
    """2016-12-31T23:59:60Z exists (IERS Bulletin C 52): every duration is TAI seconds, so a
    UTC difference across it is one second longer than the clock says; nothing is NaN, and the
    windows stay inside their passes."""
    import csv
    import datetime as dt

    scenario = tmp_path / "leap.toml"
    scenario.write_text(LEAP)
    assert main(["run", str(scenario), "--no-plots", "-o", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "out" / "passes.csv")))
    assert rows, "passes expected over a day"
    text = (tmp_path / "out" / "passes.csv").read_text() + (tmp_path / "out" / "key.csv").read_text()
    assert "nan" not in text.lower() and "inf" not in text.lower()

    def clock(s):  # UTC text -> seconds on the UTC clock since the start (23:59:60 read as 23:59:59 + 1)
        leap = "23:59:60" in s
        moment = dt.datetime.fromisoformat(s.replace("23:59:60", "23:59:59").replace("Z", "+00:00"))
        return (moment - dt.datetime(2016, 12, 31, 12, tzinfo=dt.timezone.utc)).total_seconds() + leap

    leap_s = clock("2017-01-01T00:00:00Z") - 1.0  # the leap second starts here on the UTC clock
    spanning = 0
    for r in rows:
        aos, los = clock(r["aos_utc"]), clock(r["los_utc"])
        # TAI duration = UTC clock difference, + 1 s when the leap second lies inside the pass
        extra = 1.0 if aos < leap_s < los and "23:59:60" not in r["los_utc"] else 0.0
        spanning += extra == 1.0
        assert float(r["duration_s"]) == pytest.approx(los - aos + extra, abs=2e-3)
        if r["window_start_utc"]:
            assert clock(r["aos_utc"]) <= clock(r["window_start_utc"]) <= clock(r["window_end_utc"]) <= los
    assert spanning >= 1  # the geostationary pass over Xinglong holds 2016-12-31T23:59:60Z


# ------------------------------------------------------------ outputs under faults (issue 18)
# Every output failure is one line and exit 2; a command writes all its files or none; special
# files are written into, never replaced; a folder is locked against a second writer.

import os
import stat
import subprocess
import sys

from constellation.output.files import LOCK_NAME, STAGE_PREFIX, output_folder, write_files

SHORT = f"""
[scenario]
name = "short"
start = 2016-12-19T00:00:00Z
end = 2016-12-19T06:00:00Z
[[satellites]]
name = "MICIUS"
tle = ["{TLE1}", "{TLE2}"]
[[stations]]
name = "Xinglong"
"""


def _scenario(tmp_path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(SHORT)
    return path


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _cli(args, **limits):
    """Run the command line in a fresh process (``fsize=N``: files may grow to N bytes, as on a
    nearly full disk: a write past it fails with EFBIG, and Python ignores SIGXFSZ)."""
    def limit():
        if "fsize" in limits:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], resource.RLIM_INFINITY))
    return subprocess.run([sys.executable, "-m", "constellation", *map(str, args)], capture_output=True, text=True,
                          preexec_fn=limit, timeout=300)


def test_output_into_a_fifo_is_written_not_replaced(tmp_path, capsys):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    assert main(["passes", str(_scenario(tmp_path)), "-o", str(fifo)]) == 0
    reader.join(30)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO
    assert got and got[0].startswith("satellite,station,aos_utc")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_output_into_dev_null_keeps_the_device(tmp_path):
    before = os.stat(os.devnull)
    assert main(["passes", str(_scenario(tmp_path)), "-o", os.devnull]) == 0
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not [p for p in Path(os.devnull).parent.iterdir() if p.name.startswith(STAGE_PREFIX)]


def test_output_through_a_symbolic_link_writes_its_file(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert main(["passes", str(_scenario(tmp_path)), "-o", str(link)]) == 0
    assert link.is_symlink() and real.read_text().startswith("satellite,")


@pytest.mark.parametrize("target, found", [("", "found ''"), ("{tmp}", "found a folder"),
                                           ("{tmp}/file.txt/sub.csv", "Not a directory")])
def test_output_that_cannot_be_a_file_is_one_line(tmp_path, capsys, target, found):
    (tmp_path / "file.txt").write_text("x\n")
    code = main(["passes", str(_scenario(tmp_path)), "-o", target.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and found in _one_error_line(err)
    assert (tmp_path / "file.txt").read_text() == "x\n"


def test_run_into_a_path_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x\n")
    assert main(["run", str(_scenario(tmp_path)), "--no-plots", "-o", str(tmp_path / "file.txt" / "sub")]) == 2
    assert "Not a directory" in _one_error_line(capsys.readouterr().err)


def _read_only_cli(folder: Path, args):
    """Run the command line with ``folder`` read-only: a chmod for an ordinary user; for root
    (whom permissions do not stop) a read-only tmpfs mounted there in a private mount namespace."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return _cli(args)
        finally:
            folder.chmod(0o755)
    command = " ".join(f"'{a}'" for a in map(str, args))
    script = f"mount -t tmpfs -o ro,size=1m tmpfs '{folder}' && exec '{sys.executable}' -m constellation {command}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [["passes", "{s}", "-o", "{ro}/p.csv"], ["run", "{s}", "-o", "{ro}/out"],
                                     ["export", "czml", "{s}", "-o", "{ro}/c.czml"],
                                     ["plot", "tracks", "{s}", "-o", "{ro}/t.png"],
                                     ["coverage", "{s}", "--grid-deg", "10", "--geojson", "{ro}/f.geojson",
                                      "-o", "{tmp}/c.csv"]])
def test_read_only_target_is_one_line_and_leaves_nothing(tmp_path, command):
    ro = tmp_path / "ro"
    args = [a.format(s=_scenario(tmp_path), ro=ro, tmp=tmp_path) for a in command]
    done = _read_only_cli(ro, args)
    assert done.returncode == 2, done.stderr
    assert "Read-only file system" in _one_error_line(done.stderr) or "Permission denied" in done.stderr
    assert not (tmp_path / "c.csv").exists()  # coverage: the table is not written without its GeoJSON
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize("command", [["passes", "{s}", "-o", "{tmp}/out/p.csv"],
                                     ["run", "{s}", "-o", "{tmp}/out"]])
def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, command):
    # Files may grow to 100 bytes: passes.csv (375 bytes for these 6 h) does not fit.
    args = [a.format(s=_scenario(tmp_path), tmp=tmp_path) for a in command]
    done = _cli(args, fsize=100)
    assert done.returncode == 2, done.stderr
    assert "File too large" in _one_error_line(done.stderr)
    assert not (tmp_path / "out").exists()


def test_full_disk_keeps_the_earlier_run(tmp_path):
    scenario = _scenario(tmp_path)
    assert _cli(["run", scenario, "-o", tmp_path / "out"]).returncode == 0
    def files():
        return {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.name != LOCK_NAME}

    before = files()
    done = _cli(["run", scenario, "-o", tmp_path / "out"], fsize=20_000)  # the tables fit, the figures do not
    assert done.returncode == 2 and "File too large" in _one_error_line(done.stderr)
    assert files() == before


def test_write_files_writes_all_or_none(tmp_path):
    (tmp_path / "b").write_text("old b\n")
    blocker = tmp_path / "dir"
    blocker.mkdir()
    with pytest.raises(Exception, match="a folder"):
        write_files([(tmp_path / "a", "new a\n"), (tmp_path / "b", "new b\n"), (blocker, "x")])
    assert not (tmp_path / "a").exists() and (tmp_path / "b").read_text() == "old b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "dir"]


def test_second_writer_of_a_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    with output_folder(out):  # another command holds the folder
        holder = subprocess.Popen(["sleep", "0"])  # only to spell a process id in the lock file
        holder.wait()
        code = main(["run", str(_scenario(tmp_path)), "--no-plots", "-o", str(out)])
        line = _one_error_line(capsys.readouterr().err)
        assert code == 2 and "locked by process" in line and str(os.getpid()) in line
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    assert main(["run", str(_scenario(tmp_path)), "--no-plots", "-o", str(out)]) == 0


def test_two_runs_at_once_never_mix(tmp_path, capsys):
    # Two different scenarios into one folder at the same time (--force: only the lock stands
    # between them): one writes, the other is refused, or it ran after; never a mixture.
    other = tmp_path / "other.toml"
    other.write_text(SHORT.replace('name = "short"', 'name = "other"').replace("T06:00", "T12:00"))
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "constellation", "run", str(s), "--no-plots", "--force",
                               "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in (_scenario(tmp_path), other)]
    results = [(p.wait(300), p.communicate()[1]) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # [0, 0]: the second started after the first ended
    if codes == [0, 2]:
        assert "locked by process" in _one_error_line(next(err for code, err in results if code == 2))
    winner = json.loads((out / "summary.json").read_text())["scenario_file"]
    assert main(["passes", winner]) == 0
    assert (out / "passes.csv").read_text() == capsys.readouterr().out


def test_stale_temporaries_of_a_killed_run_are_cleaned(tmp_path):
    # What an interrupted run leaves: a stage of a process that is gone, and temporaries of the
    # naming earlier versions used; the same command then runs into the folder and removes them.
    gone = subprocess.Popen(["sleep", "0"])
    gone.wait()
    out = tmp_path / "out"
    (out / f"{STAGE_PREFIX}{gone.pid}-abc123").mkdir(parents=True)
    (out / f"{STAGE_PREFIX}{gone.pid}-abc123" / "0-passes.csv").write_text("half")
    (out / ".passes.csv.k3j_9x2a.tmp").write_text("half")
    (out / ".tracks.1234.tmp.png").write_bytes(b"\x89PNG")
    assert main(["run", str(_scenario(tmp_path)), "--no-plots", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "passes.csv", "summary.json"]


def test_killed_while_writing_leaves_the_earlier_run_or_the_new_one(tmp_path):
    # SIGKILL at several moments of a run into a folder holding an earlier run: afterwards the
    # folder holds whole files only, and rerunning cleans what the kill left.
    import signal
    import time

    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-o", str(out)]) == 0
    for delay_s in (1.0, 2.0, 3.0):
        proc = subprocess.Popen([sys.executable, "-m", "constellation", "run", str(scenario), "-o", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for name in ("passes.csv",):
            assert (out / name).read_text().startswith("satellite,")
        json.loads((out / "summary.json").read_text())
    assert main(["run", str(scenario), "-o", str(out)]) == 0
    assert not [p for p in out.iterdir() if p.name.startswith(STAGE_PREFIX)]


# ------------------------------------------------------------ a resumed sweep gives the same answer

def _table(path: Path) -> list[dict]:
    """A CSV table without its only non-deterministic column (evaluation wall time)."""
    import csv

    return [{k: v for k, v in row.items() if k != "eval_s"} for row in csv.DictReader(open(path, encoding="utf-8"))]


@pytest.mark.parametrize("kept", [1, 4, 9])
def test_resumed_sweep_gives_the_uninterrupted_tables(tmp_path, capsys, kept):
    # A pruned sweep (20 designs, 16 evaluated serially in ~2 s) and the same sweep resumed
    # from its journal cut after `kept` records and half a line (a kill while writing). Before
    # round-by-round replay, every cut changed designs.csv (1-5 rows) and pareto.csv.
    from test_sizing import NETWORK, SMALL_SPACE, TARGETS

    scenario = tmp_path / "small.toml"
    scenario.write_text(NETWORK + SMALL_SPACE + TARGETS)
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    assert main(["size", str(scenario), "--workers", "1", "--no-plots", "-o", str(reference)]) == 0
    lines = (reference / "sweep.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) > kept + 1
    resumed.mkdir()
    (resumed / "sweep.jsonl").write_text("".join(lines[:kept]) + lines[kept][: len(lines[kept]) // 2])
    assert main(["size", str(scenario), "--workers", "1", "--no-plots", "-o", str(resumed)]) == 0
    summary = json.loads((resumed / "size.json").read_text())
    assert summary["resumed_from_journal"] == kept
    assert summary["evaluated_this_run"] == len(lines) - kept
    for name in ("designs.csv", "feasible.csv", "pareto.csv", "best_per_family.csv"):
        assert _table(resumed / name) == _table(reference / name), name
    def body(path):  # the first line says when it was written
        return path.read_text().split("\n", 1)[1]

    assert body(resumed / "best.toml") == body(reference / "best.toml")


@pytest.mark.slow
def test_local_dask_dashboard_listens_on_loopback_only():
    # The local sweep's scheduler HTTP server (/status, /health, /metrics) answered on every
    # interface (dashboard_address=":0"); it must listen on 127.0.0.1 only.
    from constellation.sizing.runners import DaskRunner, Problem

    runner = DaskRunner(Problem({}, "none"), n_workers=1)
    try:
        addresses = [s.getsockname()[0] for s in runner._cluster.scheduler.http_server._sockets.values()]
        assert addresses and set(addresses) == {"127.0.0.1"}, addresses
        assert runner.dashboard_link.startswith("http://127.0.0.1:")
    finally:
        runner.close()


# ------------------------------------------------------------ memory: spans and the process's own limit

def test_coverage_over_decades_is_refused_under_ulimit_v(tmp_path):
    # 20 years of night coverage: the Sun track of the span alone takes ~3.9 GB while it is
    # built. Under a 4 GB address-space limit (ulimit -v) this was a MemoryError traceback; the
    # estimate now counts the span's arrays and the limit, and refuses in one line.
    import resource

    scenario = tmp_path / "decades.toml"
    scenario.write_text("""
[scenario]
name = "decades"
start = 2004-01-01T00:00:00Z
end = 2024-01-01T00:00:00Z
[[satellites]]
name = "S"
altitude_km = 550
inclination_deg = 53
[coverage]
grid_deg = 10
step_s = 60
""")

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, resource.RLIM_INFINITY))

    done = subprocess.run([sys.executable, "-m", "constellation", "coverage", str(scenario), "-o",
                           str(tmp_path / "c.csv")], capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done.stderr)
    assert "ulimit -v / RLIMIT_AS" in line and "10519200 steps" in line
    assert not (tmp_path / "c.csv").exists()


# ------------------------------------------------------------ names reach terminals and spreadsheets harmless

def test_control_characters_never_reach_the_terminal(tmp_path, capsys):
    from constellation.errors import printable

    assert printable("A\x1b[2J\rB\u202eC\nD\tE") == "A\\x1b[2J\\x0dB\\u202eC\nD\tE"
    # A file name with an escape sequence, named in an error line.
    odd = tmp_path / "x\x1b[31m.toml"
    assert main(["passes", str(odd)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[31m" in _one_error_line(err)
    # A TLE file whose name line holds an escape sequence is refused, naming it escaped.
    (tmp_path / "evil.tle").write_text(f"EVIL\x1b[2J\n{TLE1}\n{TLE2}\n")
    scenario = tmp_path / "evil.toml"
    scenario.write_text(SHORT.replace(f'name = "MICIUS"\ntle = ["{TLE1}", "{TLE2}"]', 'tle_file = "evil.tle"'))
    assert main(["passes", str(scenario)]) == 2
    captured = capsys.readouterr()
    assert "\x1b" not in captured.err + captured.out
    assert "without control characters" in _one_error_line(captured.err)


def test_formula_names_are_neutralised_in_csv_headers_and_cells():
    from constellation.output.tables import render_columns, render_table

    rows = [{"metric": "=1+1", "=HYPERLINK(\"http://x\")": "@SUM(A1)"}]
    for text in (render_table(rows, ["metric", "=HYPERLINK(\"http://x\")"], "csv"),
                 render_columns({"metric": ["=1+1"], "=HYPERLINK(\"http://x\")": ["@SUM(A1)"]},
                                ["metric", "=HYPERLINK(\"http://x\")"], "csv")):
        header, row = text.splitlines()
        assert header == "metric,\"'=HYPERLINK(\"\"http://x\"\")\"" and row == "'=1+1,'@SUM(A1)"


def test_compare_terminal_table_prints_names_as_text(tmp_path, capsys):
    # A scenario name that is rich markup and a formula: printed as written, header neutralised.
    named = tmp_path / "named.toml"
    named.write_text(SHORT.replace('name = "short"', 'name = "[red]=HYPERLINK(1)"'))
    assert main(["compare", str(named), str(_scenario(tmp_path)), "-o", str(tmp_path / "cmp"), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "[red]=HYPERLINK(1)" in out or "[red]=HYPERLINK(…" in out
    header = (tmp_path / "cmp" / "compare.csv").read_text().splitlines()[0]
    assert "'[red]" not in header and ",[red]=HYPERLINK(1)," in header + ","


# ------------------------------------------------------------ inputs that are not small regular files

def test_inputs_that_are_not_small_regular_files_are_refused_before_reading(tmp_path, capsys):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)  # reading it would block for ever: refused without opening it for a read
    assert main(["passes", str(fifo)]) == 2
    assert "found a special file" in _one_error_line(capsys.readouterr().err)
    big = tmp_path / "big.toml"
    big.write_text(SHORT + "# " + "x" * (5 * 1024 * 1024) + "\n")  # a valid scenario, 5 MiB of comment
    assert main(["passes", str(big)]) == 2
    assert "of at most 4 MiB, found 5.0 MiB" in _one_error_line(capsys.readouterr().err)
    huge_tle = tmp_path / "huge.tle"
    with open(huge_tle, "wb") as handle:  # sparse: 65 MiB that take no disk
        handle.truncate(65 * 1024 * 1024)
    (tmp_path / "uses.toml").write_text(SHORT.replace(f'tle = ["{TLE1}", "{TLE2}"]', 'tle_file = "huge.tle"'))
    assert main(["passes", str(tmp_path / "uses.toml")]) == 2
    assert "of at most 64 MiB, found 65.0 MiB" in _one_error_line(capsys.readouterr().err)


def test_size_with_a_scheduler_that_is_not_an_address(tmp_path, capsys):
    from test_sizing import NETWORK, SMALL_SPACE, TARGETS

    scenario = tmp_path / "small.toml"
    scenario.write_text(NETWORK + SMALL_SPACE + TARGETS)
    assert main(["size", str(scenario), "--scheduler", "garbage", "-o", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--scheduler: address: expected a reachable Dask scheduler" in line and "garbage" in line
    assert not (tmp_path / "out").exists()


def test_output_to_dev_stdout_follows_the_link_to_the_pipe(tmp_path):
    # /dev/stdout is a link to /proc/self/fd/1 (here a pipe): written through, never resolved
    # to a path of its own; a plot goes there as PNG whatever its name says.
    done = subprocess.run([sys.executable, "-m", "constellation", "plot", "tracks", str(_scenario(tmp_path)),
                           "-o", "/dev/stdout"], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"\x89PNG") and b"wrote /dev/stdout" in done.stdout
