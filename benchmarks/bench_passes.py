"""Pass finding: constellation.passes.finder.find_passes against Skyfield's find_events on the same work.

Run by hand (pytest does not collect it: tests/ is the test path and the name is not test_*):

    /work/venv/bin/python benchmarks/bench_passes.py [--quick] [--write docs/benchmarks.md]

Cases (issue 2), all with a 10 deg elevation mask:
  (a) Micius (TLE of 2016-12-18) x 5 mission stations x 30 days from 2016-12-19;
  (b) Walker delta 66/6/1, 550 km, 53 deg (built with Satrec.sgp4init) x 10 stations x 1 day;
  (c) Walker delta 1000/20/1, 550 km, 53 deg x 20 stations x 1 day.

Skyfield: ``EarthSatellite.find_events(topos, t0, t1, altitude_degrees=10)`` for each
satellite-station pair (satellite and topos objects built outside the timer), every pair in
(a) and (b); in (c) a seeded random sample of pairs, the time extrapolated linearly to all
pairs (said so in the table). Ours: ``find_passes`` on a ready ``Propagator`` (no
constraints), plus the same with the night/range constraints of the headline case. Both
best of ``--repeat`` runs in one process. SGP4 floor: one ``SatrecArray.sgp4`` call on the
coarse grid the finder uses (``passes.finder.default_step_s``), i.e. the propagation that cannot
be avoided. Accuracy: pass counts and max |AOS/LOS| difference against Skyfield's events
refined to ~1e-9 s on Skyfield altitudes (tests/test_passes_reference.py's reference) on a
sample of pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sgp4
import skyfield
from sgp4.api import Satrec, SatrecArray
from skyfield.api import EarthSatellite, wgs84

from constellation.passes.finder import default_step_s, find_passes
from constellation.scenario.model import Constraints
from constellation.core.propagation import Propagator
from constellation.scenario.stations import Station, builtin_station
from constellation.core.timebase import TimeBase, parse_utc, timescale

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import MICIUS_TLE  # noqa: E402
from test_passes_reference import reference_passes, walker_delta  # noqa: E402
from doc_section import write_section  # noqa: E402

MASK_DEG = 10.0
EPOCH = dt.datetime(2016, 12, 19, tzinfo=dt.timezone.utc)
MISSION = ("Xinglong", "Nanshan", "Graz", "Zvenigorod", "Stellenbosch")
TEN = MISSION + ("Tenerife", "Matera", "Lijiang", "Delingha", "Hefei")
EXTRA = [("Mauna Kea", 19.82, -155.47, 4200.0), ("La Silla", -29.26, -70.73, 2400.0),
         ("Perth", -31.95, 115.86, 20.0), ("Ottawa", 45.42, -75.70, 70.0),
         ("Nairobi", -1.29, 36.82, 1795.0), ("Hobart", -42.88, 147.33, 50.0)]
NIGHT_1200 = Constraints(station_sun_max_elevation_deg=-12.0, max_range_km=1200.0)


def stations(names, extra=()):
    out = [builtin_station(n, min_elevation_deg=MASK_DEG) for n in names]
    return out + [Station(n, lat, lon, h, min_elevation_deg=MASK_DEG) for n, lat, lon, h in extra]


def best_of(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def time_skyfield(satrecs, sts, tb, duration_s, pairs, repeat):
    ts = timescale()
    sats = {i: EarthSatellite.from_satrec(satrecs[i], ts) for i in {i for i, _ in pairs}}
    topos = [wgs84.latlon(s.latitude_deg, s.longitude_deg, s.elevation_m) for s in sts]
    t0, t1 = tb.time(0.0), tb.time(duration_s)

    def run():
        return sum(sats[i].find_events(topos[j], t0, t1, altitude_degrees=MASK_DEG)[1].size for i, j in pairs)

    return best_of(run, repeat)


def sgp4_floor(satrecs, tb, duration_s, repeat):
    step = default_step_s(satrecs)
    grid = np.arange(0.0, duration_s, step)
    grid = np.append(grid, duration_s)
    jd, fr, _ = tb.sgp4_and_ut1(grid)
    array = SatrecArray(satrecs)
    seconds, _ = best_of(lambda: array.sgp4(jd, fr), repeat)
    return seconds, len(satrecs) * grid.size


def accuracy(table, satrecs, sts, tb, duration_s, pairs):
    """(count mismatches, max |AOS/LOS| difference s, passes compared) on ``pairs``."""
    mismatches, worst, compared = 0, 0.0, 0
    for i, j in pairs:
        ref = reference_passes(satrecs[i], sts[j], tb, duration_s)
        mine = np.flatnonzero((table.satellite == i) & (table.station == j))
        if mine.size != ref["aos"].size or not np.array_equal(table.aos_partial[mine], ref["aos_partial"]):
            mismatches += 1
            continue
        d = np.concatenate([np.abs(table.aos_s[mine] - ref["aos"])[~ref["aos_partial"]],
                            np.abs(table.los_s[mine] - ref["los"])[~ref["los_partial"]]])
        worst = max(worst, d.max(initial=0.0))
        compared += mine.size
    return mismatches, worst, compared


def run_case(label, satrecs, sts, tb, duration_s, sample=None, accuracy_pairs=60, repeat=3, seed=2026):
    prop = Propagator(satrecs, tb)
    find_passes(prop, sts, duration_s)  # warm-up: imports, caches
    ours_s, table = best_of(lambda: find_passes(prop, sts, duration_s), repeat)
    night_s, _ = best_of(lambda: find_passes(prop, sts, duration_s, NIGHT_1200), repeat)
    floor_s, n_states = sgp4_floor(satrecs, tb, duration_s, repeat)
    all_pairs = [(i, j) for i in range(len(satrecs)) for j in range(len(sts))]
    rng = np.random.default_rng(seed)
    if sample and sample < len(all_pairs):
        pairs = [all_pairs[k] for k in np.sort(rng.choice(len(all_pairs), sample, replace=False))]
    else:
        pairs = all_pairs
    sky_s, n_events = time_skyfield(satrecs, sts, tb, duration_s, pairs, repeat)
    sky_total = sky_s * len(all_pairs) / len(pairs)
    check = pairs if len(pairs) <= accuracy_pairs else [pairs[k] for k in
                                                         np.sort(rng.choice(len(pairs), accuracy_pairs, replace=False))]
    mismatches, worst, compared = accuracy(table, satrecs, sts, tb, duration_s, check)
    days = duration_s / 86400.0
    return dict(case=label, n_sat=len(satrecs), n_st=len(sts), days=days, pairs=len(all_pairs), timed=len(pairs),
                passes=len(table), sky_s=sky_total, ours_s=ours_s, night_s=night_s, ratio=sky_total / ours_s,
                floor_s=floor_s, n_states=n_states, checked=len(check), compared=compared,
                mismatches=mismatches, worst_ms=worst * 1e3,
                sky_ms_per_pair_day=sky_s / len(pairs) / days * 1e3)


def machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return (f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__} (OpenBLAS threads: {threads}), skyfield {skyfield.__version__}, "
            f"sgp4 {sgp4.__version__}")


def markdown(rows):
    lines = [
        "| case | pairs (Skyfield timed) | passes | Skyfield s | ours s | speed-up | ours + night/range windows s "
        "| SGP4 floor s (states) | ours / floor | accuracy: pairs checked, count mismatches, max abs dAOS/dLOS ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        timed = "all" if r["timed"] == r["pairs"] else f"{r['timed']} sampled, extrapolated"
        lines.append(
            f"| {r['case']} | {r['pairs']} ({timed}) | {r['passes']} | {r['sky_s']:.2f} | {r['ours_s']:.3f} | "
            f"**{r['ratio']:.1f}x** | {r['night_s']:.3f} | {r['floor_s']:.3f} ({r['n_states']:,}) | "
            f"{r['ours_s'] / r['floor_s']:.1f} | {r['checked']}, {r['mismatches']}, {r['worst_ms']:.2f} |")
    return "\n".join(lines)


def write_doc(path, text):
    write_section(path, "bench_passes", text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller Skyfield samples, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="abc", help="which cases to run (default: abc)")
    parser.add_argument("--write", metavar="MARKDOWN", help="replace the pass-finding section of this file")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat

    tb = TimeBase(parse_utc(EPOCH))
    started = time.perf_counter()
    cases = {
        "a": lambda: run_case("(a) Micius x 5 stations x 30 d", [Satrec.twoline2rv(*MICIUS_TLE)], stations(MISSION),
                              tb, 30 * 86400.0, repeat=repeat),
        "b": lambda: run_case("(b) Walker 66/6/1, 550 km, 53 deg x 10 stations x 1 d",
                              walker_delta(66, 6, 1, 550.0, 53.0, EPOCH), stations(TEN), tb, 86400.0,
                              sample=200 if args.quick else None, repeat=repeat),
        "c": lambda: run_case("(c) Walker 1000/20/1, 550 km, 53 deg x 20 stations x 1 d",
                              walker_delta(1000, 20, 1, 550.0, 53.0, EPOCH),
                              stations(TEN + ("Ngari", "Jinan", "Beijing", "Vienna"), EXTRA), tb, 86400.0,
                              sample=300 if args.quick else 1000, repeat=repeat),
    }
    rows = [cases[c]() for c in args.cases]
    table = markdown(rows)
    per_pair = ", ".join(f"{r['sky_ms_per_pair_day']:.2f}" for r in rows)
    text = "\n".join([
        "### Latest run: `find_passes` vs Skyfield `find_events`",
        "",
        f"Command: `{' '.join(['python', 'benchmarks/bench_passes.py'] + sys.argv[1:])}`  ",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; whole run {time.perf_counter() - started:.0f} s.",
        "",
        table,
        "",
        f"Skyfield per satellite-station-day: {per_pair} ms (cases {', '.join(args.cases)}). Times are the best of "
        f"{repeat} runs in one process; 'ours' has no constraints (the same work as find_events); the "
        "windows column adds Sun <= -12 deg at the station and range <= 1,200 km. The SGP4 floor is one "
        "`SatrecArray.sgp4` call on the finder's coarse grid (120 s). Accuracy: Skyfield events refined "
        "by bisection/golden section on Skyfield altitudes (to ~1e-9 s / 1e-7 s) on a seeded sample of pairs.",
    ])
    print(text)
    if args.write:
        write_doc(args.write, text)


if __name__ == "__main__":
    main()
