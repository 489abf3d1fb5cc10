"""Commands as a user runs them (issue 16): `constellation passes|key|coverage|network|run|size` in a
subprocess, against Skyfield and our own kernel on the same work in the same run.

Run by hand (pytest does not collect it):

    /work/venv/bin/python benchmarks/bench_cli.py [--quick] [--big] [--write docs/benchmarks.md]

What it measures, each command a fresh process exactly as typed in a shell (console script
``constellation``, table written with ``-o``):

* **Start-up per command**: the imports a command makes before it computes (sum of the top
  level of ``python -X importtime``, best of 3) and how many modules it loads.
* **Headline**: Walker 66/6/1 at 550 km, 53 deg, given as TLEs, x 10 stations x 1 day, 10 deg
  mask (bench_passes case (b)). ``constellation passes`` against (1) Skyfield's
  ``find_events`` on every satellite-station pair, timed inside its script, and (2) the
  same Skyfield work as a user's script run the same way (start-up, TLE reading, CSV
  writing included). Our kernel (``pipeline.find_passes`` in process) is shown too.
* **Scaling**: Walker shells of 100 ... 3,000 (``--big``: 10,000) satellites x 20 stations
  x 1 day (tests/conftest.walker_data: 550 km, 53 deg, night windows, Micius link/QKD,
  a 1 m receiver per station) through ``passes`` and ``key``: wall, CPU, peak RSS, rows,
  cost per row; a step is flagged when its cost per row grows more than 1.5x from 1,000
  satellites to the largest size run.
* **Other commands** once each on shipped scenarios: ``coverage`` (walker-66-demo),
  ``network`` (2027-reported-plan), ``run`` (micius-2016-xinglong, figures included), and
  ``size --workers 1`` on a small built-in space (8 Walker designs x 4 stations x 1 day).
* **Mega-constellation** (``--mega``): ``passes`` and ``key`` on a Walker 10,000 x 50
  stations x 1 day: wall, CPU, peak RSS, rows.

Times are wall-clock of the whole process (best of ``--repeat`` for the small cases, one
run from 1,000 satellites up); peak RSS is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sgp4
import skyfield
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import walker_data  # noqa: E402
from doc_section import write_section  # noqa: E402

BIN = Path(sys.executable).parent
CLI = [str(BIN / "constellation")] if (BIN / "constellation").exists() else [sys.executable, "-m", "constellation.cli"]
TEN = ("Xinglong", "Nanshan", "Graz", "Zvenigorod", "Stellenbosch", "Tenerife", "Matera", "Lijiang", "Delingha",
       "Hefei")
MASK_DEG = 10.0
START = dt.datetime(2027, 3, 20, tzinfo=dt.timezone.utc)
GROWTH_FLAG = 1.5

SKYFIELD_SCRIPT = '''
import csv, json, sys, time
from skyfield.api import EarthSatellite, load, wgs84
tle_path, stations_path, out_path, start, mask = sys.argv[1:6]
ts = load.timescale(builtin=True)
lines = open(tle_path).read().splitlines()
sats = [EarthSatellite(lines[i + 1], lines[i + 2], lines[i].strip(), ts) for i in range(0, len(lines), 3)]
stations = [(name, wgs84.latlon(lat, lon, h)) for name, lat, lon, h in json.load(open(stations_path))]
y, m, d = map(int, start.split("-"))
t0, t1 = ts.utc(y, m, d), ts.utc(y, m, d + 1)
found = cpu = 0.0
with open(out_path, "w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\\n")
    writer.writerow(["satellite", "station", "event", "utc"])
    for sat in sats:
        for name, topos in stations:
            tick, tock = time.perf_counter(), time.process_time()
            t, events = sat.find_events(topos, t0, t1, altitude_degrees=float(mask))
            found += time.perf_counter() - tick
            cpu += time.process_time() - tock
            for when, event in zip(t.utc_iso(places=3) if len(t) else [], events):
                writer.writerow([sat.name, name, ("rise", "culminate", "set")[event], when])
print(found, cpu)
'''


# --- running a command --------------------------------------------------------------------

def run(cmd, *, env=None) -> dict:
    """Run ``cmd`` to completion: wall s, CPU s (user + sys), peak RSS MB, exit code, stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        tick = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - tick
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {stderr[-2000:]}")
    return dict(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024.0,
                stdout=stdout, stderr=stderr)


def best(cmd, repeat: int) -> dict:
    runs = [run(cmd) for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {**fastest, "rss_mb": max(r["rss_mb"] for r in runs)}


def rows_in(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def startup(args: list[str], repeat: int = 3) -> dict:
    """Import time (s) of a command's run and the modules it loads (``-X importtime``)."""
    cmd = [sys.executable, "-X", "importtime", "-c", "import sys; from constellation.cli import main; "
           "sys.exit(main(sys.argv[1:]))", *args]
    times, modules = [], 0
    for _ in range(repeat):
        err = run(cmd)["stderr"]
        top, count = 0, 0
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            _, cumulative, name = line.split("|")
            count += 1
            if len(name) - len(name.lstrip()) == 1:
                top += int(cumulative)
        times.append(top / 1e6)
        modules = count
    return dict(import_s=min(times), modules=modules)


# --- scenarios --------------------------------------------------------------------------

def walker_tles(total: int, planes: int, phasing: int, altitude_km: float, inclination_deg: float) -> list[str]:
    """A Walker delta pattern as TLE text (3 lines a satellite): what a user downloads."""
    from sgp4.exporter import export_tle

    from constellation.core import orbits

    lines = []
    for k, (_, _, elements) in enumerate(orbits.walker("delta", total, planes, phasing, altitude_km,
                                                          inclination_deg, START)):
        l1, l2 = export_tle(orbits.satrec_from_elements(elements, satnum=90000 + k))
        lines += [f"W{k:03d}", l1, l2]
    return lines


def headline_files(folder: Path):
    """The 66 x 10 x 1 day case as a TLE file, a scenario and a station list for Skyfield."""
    from constellation.scenario.stations import builtin_station

    tles = walker_tles(66, 6, 1, 550.0, 53.0)
    (folder / "walker66.tle").write_text("\n".join(tles) + "\n")
    stations = [builtin_station(n) for n in TEN]
    data = {"scenario": {"name": "walker 66 TLE x 10", "start": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "end": (START + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "satellites": [{"name": "walker", "tle_file": "walker66.tle"}],
            "stations": [{"name": n, "min_elevation_deg": MASK_DEG} for n in TEN]}
    (folder / "walker66.toml").write_text(tomli_w.dumps(data))
    (folder / "stations.json").write_text(json.dumps(
        [[s.name, s.latitude_deg, s.longitude_deg, s.elevation_m] for s in stations]))
    (folder / "skyfield_passes.py").write_text(SKYFIELD_SCRIPT)
    return folder / "walker66.toml"


def scaling_scenario(folder: Path, n_sat: int, n_st: int = 20) -> Path:
    path = folder / f"walker{n_sat}x{n_st}.toml"
    path.write_text(tomli_w.dumps(walker_data(n_sat, n_st, 1.0, key=True, start=START.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    return path


# --- the cases --------------------------------------------------------------------------

def headline(folder: Path, repeat: int) -> dict:
    scenario = headline_files(folder)
    ours = best([*CLI, "passes", str(scenario), "-o", str(folder / "p66.csv")], repeat)
    sky_cmd = [sys.executable, str(folder / "skyfield_passes.py"), str(folder / "walker66.tle"),
               str(folder / "stations.json"), str(folder / "s66.csv"), START.strftime("%Y-%m-%d"), str(MASK_DEG)]
    sky = best(sky_cmd, max(1, repeat - 1))
    find_events_s, find_events_cpu_s = map(float, sky["stdout"].split())
    from constellation.pipeline import find_passes
    from constellation.scenario.build import load_scenario

    scn = load_scenario(scenario)
    find_passes(scn)
    kernel, kernel_cpu = [], []
    for _ in range(repeat):
        tick, tock = time.perf_counter(), time.process_time()
        table = find_passes(scn)
        kernel.append(time.perf_counter() - tick)
        kernel_cpu.append(time.process_time() - tock)
    sky_rises = sum(1 for line in open(folder / "s66.csv") if ",rise," in line)
    return dict(ours=ours, rows=rows_in(folder / "p66.csv"), sky=sky, find_events_s=find_events_s,
                find_events_cpu_s=find_events_cpu_s, sky_rises=sky_rises, kernel_s=min(kernel),
                kernel_cpu_s=min(kernel_cpu), kernel_rows=len(table))


def scaling(folder: Path, command: str, sizes, repeat: int) -> list[dict]:
    out = []
    for n in sizes:
        scenario = scaling_scenario(folder, n)
        target = folder / f"{command}{n}.csv"
        r = best([*CLI, command, str(scenario), "-o", str(target)], repeat if n < 1000 else 1)
        rows = rows_in(target)
        out.append(dict(command=command, n_sat=n, rows=rows, wall_s=r["wall_s"], cpu_s=r["cpu_s"],
                        rss_mb=r["rss_mb"], us_per_row=r["wall_s"] / max(rows, 1) * 1e6,
                        cpu_us_per_row=r["cpu_s"] / max(rows, 1) * 1e6))
        print(f"  {command} {n}: {r['wall_s']:.2f} s, {rows} rows, {r['rss_mb']:.0f} MB", flush=True)
        target.unlink()
    return out


def mega(folder: Path, n_sat: int = 10_000, n_st: int = 50) -> list[dict]:
    """Issue 16's mega-constellation case: ``passes`` and ``key`` on a Walker shell of
    ``n_sat`` satellites x ``n_st`` stations x 1 day, one run each."""
    out = []
    scenario = scaling_scenario(folder, n_sat, n_st)
    for command in ("passes", "key"):
        target = folder / f"mega-{command}.csv"
        r = run([*CLI, command, str(scenario), "-o", str(target)])
        out.append(dict(command=command, n_sat=n_sat, n_st=n_st, rows=rows_in(target), wall_s=r["wall_s"],
                        cpu_s=r["cpu_s"], rss_mb=r["rss_mb"]))
        print(f"  mega {command} {n_sat}x{n_st}: {r['wall_s']:.1f} s, {out[-1]['rows']} rows, "
              f"{r['rss_mb']:.0f} MB", flush=True)
        target.unlink()
    return out


SIZE_SCENARIO = {
    "scenario": {"name": "size benchmark", "start": "2027-03-20T00:00:00Z", "end": "2027-03-21T00:00:00Z"},
    "stations": [{"name": n} for n in ("Xinglong", "Nanshan", "Graz", "Stellenbosch")],
    "constraints": {"station_sun_max_elevation_deg": -12.0},
    "link": {"preset": "jinan-1"}, "qkd": {"preset": "jinan-1"},
    "network": {"weather_runs": 100, "seed": 1},
    "links": [{"a": "Xinglong", "b": "Graz"}, {"a": "Nanshan", "b": "Stellenbosch"}],
    "designs": [{"name": "walker", "family": "walker", "altitude_km": 550.0, "inclination_deg": [53.0, 97.6],
                 "planes": [2, 3], "sats_per_plane": [2, 3], "phasing": 1}],
    "targets": {"min_key_bits_per_day": 1e5}, "sweep": {"prune": False},
}


def others(folder: Path, repeat: int) -> list[dict]:
    scenarios = ROOT / "scenarios"
    cases = [
        ("coverage", [*CLI, "coverage", str(scenarios / "walker-66-demo.toml"), "-o", str(folder / "cov.csv")],
         folder / "cov.csv"),
        ("network", [*CLI, "network", str(scenarios / "2027-reported-plan.toml"), "-o", str(folder / "net.csv")],
         folder / "net.csv"),
        ("network --schedule", [*CLI, "network", str(scenarios / "2027-reported-plan.toml"), "--schedule", "-o",
                                str(folder / "sched.csv")], folder / "sched.csv"),
        ("key", [*CLI, "key", str(scenarios / "micius-2016-xinglong.toml"), "-o", str(folder / "key.csv")],
         folder / "key.csv"),
        ("run", [*CLI, "run", str(scenarios / "micius-2016-xinglong.toml"), "--force", "-o", str(folder / "run")],
         folder / "run" / "passes.csv"),
        ("size --workers 1", [*CLI, "size", str(folder / "size.toml"), "--workers", "1", "--no-plots", "--fresh",
                              "--force", "-o", str(folder / "size")], folder / "size" / "designs.csv"),
    ]
    (folder / "size.toml").write_text(tomli_w.dumps(SIZE_SCENARIO))
    out = []
    for name, cmd, table in cases:
        r = best(cmd, repeat)
        scenario = Path(cmd[len(CLI) + 1]).name
        scenario = "8 Walker designs x 4 stations x 1 day" if scenario == "size.toml" else scenario
        out.append(dict(command=name, scenario=scenario, wall_s=r["wall_s"], cpu_s=r["cpu_s"],
                        rss_mb=r["rss_mb"], rows=rows_in(table)))
        print(f"  {name}: {r['wall_s']:.2f} s", flush=True)
    return out


def startups(folder: Path) -> list[dict]:
    scenarios = ROOT / "scenarios"
    micius = str(scenarios / "micius-2016-xinglong.toml")
    cases = [("--version", ["--version"]),
             ("passes", ["passes", micius, "-o", str(folder / "x.csv")]),
             ("key", ["key", micius, "-o", str(folder / "x.csv")]),
             ("coverage", ["coverage", str(scenarios / "walker-66-demo.toml"), "--grid-deg", "10",
                           "-o", str(folder / "x.csv")]),
             ("network", ["network", str(scenarios / "china-austria-2017.toml"), "-o", str(folder / "x.csv")]),
             ("run --no-plots", ["run", micius, "--no-plots", "--force", "-o", str(folder / "s")])]
    out = []
    for name, args in cases:
        out.append(dict(command=name, **startup(args)))
        print(f"  start-up {name}: {out[-1]['import_s']:.3f} s, {out[-1]['modules']} modules", flush=True)
    return out


# --- report -----------------------------------------------------------------------------

def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, skyfield {skyfield.__version__}, sgp4 {sgp4.__version__}")


def ratio_at(rows, command, big, small, what="wall_s"):
    walls = {r["n_sat"]: r[what] for r in rows if r["command"] == command}
    return walls[big] / walls[small] if big in walls and small in walls else None


def markdown(res: dict) -> str:
    h = res["headline"]
    lines = [
        "### Latest run: commands end to end",
        "",
        f"Command: `python benchmarks/bench_cli.py {res['args']}`  ",
        f"Machine: {res['machine']}  ",
        f"Date: {res['date']}; whole run {res['total_s']:.0f} s. Every command is a fresh process "
        "(`constellation ...`, table written with `-o`); the machine was shared with other jobs, so "
        "walls are upper bounds.",
        "",
        "**Headline** (Walker 66/6/1, 550 km, 53 deg as TLEs x 10 stations x 1 day, 10 deg mask):",
        "",
        "| what | wall s | CPU s | peak RSS MB | rows | `constellation passes` is faster by |",
        "|---|---|---|---|---|---|",
        f"| `constellation passes` (process: start-up, scenario, passes, CSV) | {h['ours']['wall_s']:.3f} | "
        f"{h['ours']['cpu_s']:.3f} | {h['ours']['rss_mb']:.0f} | {h['rows']:,} passes | |",
        f"| our kernel `pipeline.find_passes` in process | {h['kernel_s']:.3f} | {h['kernel_cpu_s']:.3f} | | "
        f"{h['kernel_rows']:,} passes | |",
        f"| Skyfield `find_events`, every pair, timed in its script | {h['find_events_s']:.3f} | "
        f"{h['find_events_cpu_s']:.3f} | | {h['sky_rises']:,} rises | "
        f"**{h['find_events_s'] / h['ours']['wall_s']:.1f}x** (CPU {h['find_events_cpu_s'] / h['ours']['cpu_s']:.1f}x) |",
        f"| Skyfield user script as a process (start-up, TLEs, find_events, CSV) | {h['sky']['wall_s']:.3f} | "
        f"{h['sky']['cpu_s']:.3f} | {h['sky']['rss_mb']:.0f} | {h['sky_rises']:,} rises | "
        f"**{h['sky']['wall_s'] / h['ours']['wall_s']:.1f}x** (CPU {h['sky']['cpu_s'] / h['ours']['cpu_s']:.1f}x) |",
        "",
        f"Against the kernel in process, Skyfield's `find_events` is {h['find_events_s'] / h['kernel_s']:.0f}x "
        f"slower (CPU {h['find_events_cpu_s'] / h['kernel_cpu_s']:.0f}x); the command's other "
        f"{h['ours']['cpu_s'] - h['kernel_cpu_s']:.2f} s of CPU are the interpreter, the imports (below), the "
        "scenario and the CSV.",
        "",
        "**Start-up per command** (imports before the command computes: top level of "
        "`python -X importtime`, best of 3):",
        "",
        "| command | imports s | modules loaded |",
        "|---|---|---|",
    ]
    lines += [f"| `{s['command']}` | {s['import_s']:.3f} | {s['modules']} |" for s in res["startup"]]
    lines += ["", "**Scaling** (Walker shells, 550 km, 53 deg x 20 stations x 1 day; `passes` and `key` as "
              "commands):", "",
              "| command | satellites | rows | wall s | CPU s | peak RSS MB | wall per row us | CPU per row us "
              "| per row vs 1,000 sats (wall, CPU) |",
              "|---|---|---|---|---|---|---|---|---|"]
    flags = []
    for command in ("passes", "key"):
        rows = [r for r in res["scaling"] if r["command"] == command]
        ref = next((r for r in rows if r["n_sat"] == 1000), None)
        for r in rows:
            growth = r["us_per_row"] / ref["us_per_row"] if ref else None
            cpu_growth = r["cpu_us_per_row"] / ref["cpu_us_per_row"] if ref else None
            mark = ""
            if growth is not None and r["n_sat"] > 1000:
                over = [what for what, g in (("wall", growth), ("CPU", cpu_growth)) if g > GROWTH_FLAG]
                if over:
                    mark = f" **flag: {' and '.join(over)} > 1.5x**"
                    flags.append(f"{command} at {r['n_sat']:,} satellites (wall {growth:.2f}x, CPU {cpu_growth:.2f}x)")
            lines.append(f"| {command} | {r['n_sat']:,} | {r['rows']:,} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                         f"{r['rss_mb']:.0f} | {r['us_per_row']:.1f} | {r['cpu_us_per_row']:.1f} | "
                         f"{'' if growth is None else f'{growth:.2f}x, {cpu_growth:.2f}x'}{mark} |")
    p = ratio_at(res["scaling"], "passes", 2000, 500)
    k = ratio_at(res["scaling"], "key", 1000, 250)
    pc = ratio_at(res["scaling"], "passes", 2000, 500, "cpu_s")
    kc = ratio_at(res["scaling"], "key", 1000, 250, "cpu_s")
    lines += ["", "Growth: " + ("; ".join(flags) if flags else "no step's cost per row grows more than 1.5x from "
                                 "1,000 satellites to the largest size run") + ".",
              f"Wall for 4x the satellites: `passes` 2,000 vs 500: {'-' if p is None else f'{p:.2f}x'}; "
              f"`key` 1,000 vs 250: {'-' if k is None else f'{k:.2f}x'} (issue 16 asks <= 5x); CPU "
              f"{'-' if pc is None else f'{pc:.2f}x'} and {'-' if kc is None else f'{kc:.2f}x'}.",
              ""]
    if res.get("mega"):
        m = res["mega"]
        lines += [f"**Mega-constellation** (Walker {m[0]['n_sat']:,} at 550 km, 53 deg x {m[0]['n_st']} stations x 1 "
                  "day, one run each):", "",
                  "| command | rows | wall s | CPU s | peak RSS MB |", "|---|---|---|---|---|"]
        lines += [f"| `{r['command']}` | {r['rows']:,} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['rss_mb']:.0f} |"
                  for r in m]
        lines.append("")
    lines += ["**Other commands** (shipped scenarios; `size` on a built-in space of 8 designs):", "",
              "| command | scenario | wall s | CPU s | peak RSS MB | rows |", "|---|---|---|---|---|---|"]
    lines += [f"| `{o['command']}` | {o['scenario']} | {o['wall_s']:.2f} | {o['cpu_s']:.2f} | {o['rss_mb']:.0f} | "
              f"{o['rows']:,} |" for o in res["others"]]
    if res.get("figure"):
        lines += ["", f"![passes and key wall time against satellites]({res['figure']})"]
    return "\n".join(lines)


def figure(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for command, style in (("passes", "o-"), ("key", "s-")):
        rows = [r for r in res["scaling"] if r["command"] == command]
        if rows:
            n = [r["n_sat"] for r in rows]
            ax.loglog(n, [r["wall_s"] for r in rows], style, label=f"constellation {command}")
            line, = ax2.semilogx(n, [r["us_per_row"] for r in rows], style, label=f"{command}, wall")
            ax2.semilogx(n, [r["cpu_us_per_row"] for r in rows], style[0], color=line.get_color(), alpha=0.5,
                         linestyle="--", label=f"{command}, CPU")
    ax.set_xlabel("satellites (x 20 stations x 1 day)")
    ax.set_ylabel("wall time of the command (s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax2.set_xlabel("satellites")
    ax2.set_ylabel("time per output row (us)")
    ax2.legend()
    ax2.set_ylim(bottom=0)
    ax2.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_doc(path, text):
    write_section(path, "bench_cli", text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaling to 1,000 satellites, one repeat")
    parser.add_argument("--big", action="store_true", help="also 10,000 satellites")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="hsuo", help="parts: h(eadline) s(tart-up) u (scaling) o(thers) "
                        "m(ega: 10,000 satellites x 50 stations)")
    parser.add_argument("--mega", action="store_true", help="also the 10,000 x 50 stations case (part m)")
    parser.add_argument("--pass-sizes", help="comma-separated satellite counts for passes (overrides the default)")
    parser.add_argument("--key-sizes", help="comma-separated satellite counts for key (overrides the default)")
    parser.add_argument("--write", metavar="MARKDOWN", help="replace the bench_cli section of this file")
    parser.add_argument("--render", metavar="JSON", help="only write the section (and figure) from an earlier "
                        "run's benchmarks/bench_cli.json")
    args = parser.parse_args()
    if args.render:
        res = json.loads(Path(args.render).read_text())
        if res["scaling"]:
            figure(res, ROOT / "docs" / "figures" / "bench_cli.png")
            res["figure"] = "figures/bench_cli.png"
        text = markdown(res)
        write_doc(args.write, text) if args.write else print(text)
        return
    repeat = 1 if args.quick else args.repeat
    pass_sizes = [100, 300, 500, 1000] if args.quick else [100, 300, 500, 1000, 2000, 3000]
    key_sizes = [100, 250, 300, 1000] if args.quick else [100, 250, 300, 1000, 3000]
    if args.pass_sizes:
        pass_sizes = [int(n) for n in args.pass_sizes.split(",")]
    if args.key_sizes:
        key_sizes = [int(n) for n in args.key_sizes.split(",")]
    if args.big:
        pass_sizes.append(10_000)
        key_sizes.append(10_000)
    started = time.perf_counter()
    res = {"args": " ".join(sys.argv[1:]), "machine": machine(), "scaling": [], "others": [], "startup": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "h" in args.only:
            print("headline", flush=True)
            res["headline"] = headline(folder, repeat)
            h = res["headline"]
            print(f"  passes {h['ours']['wall_s']:.3f} s; find_events {h['find_events_s']:.3f} s; "
                  f"Skyfield script {h['sky']['wall_s']:.3f} s; kernel {h['kernel_s']:.3f} s", flush=True)
        if "s" in args.only:
            res["startup"] = startups(folder)
        if "u" in args.only:
            print("scaling", flush=True)
            res["scaling"] = scaling(folder, "passes", pass_sizes, repeat) + scaling(folder, "key", key_sizes, repeat)
        if "o" in args.only:
            print("other commands", flush=True)
            res["others"] = others(folder, repeat)
        if "m" in args.only or args.mega:
            print("mega-constellation", flush=True)
            res["mega"] = mega(folder)
    res["date"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    res["total_s"] = time.perf_counter() - started
    record = json.dumps({k: v for k, v in res.items() if k != "headline"} | {"headline": {
        k: ({kk: vv for kk, vv in v.items() if kk not in ("stdout", "stderr")} if isinstance(v, dict) else v)
        for k, v in res.get("headline", {}).items()}}, indent=1) + "\n"
    # The record behind docs/benchmarks.md is replaced only by a run that rewrites the doc; a
    # partial run (--only) leaves it and prints its own.
    if args.write:
        (ROOT / "benchmarks" / "bench_cli.json").write_text(record)
    else:
        print(record)
    if args.write and "headline" in res:
        if res["scaling"]:
            figure(res, ROOT / "docs" / "figures" / "bench_cli.png")
            res["figure"] = "figures/bench_cli.png"
        write_doc(args.write, markdown(res))
    elif "headline" in res:
        print(markdown(res))


if __name__ == "__main__":
    main()
