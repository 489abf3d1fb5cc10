"""Pass finding: constellation.find_passes against Skyfield's find_events on the same work.

Run by hand (not collected by pytest):

    python benchmarks/bench_passes.py [--quick]

Cases (issue 2): (a) Micius x 5 stations x 30 days, (b) a 66-satellite Walker delta x 10
stations x 1 day, (c) 1,000 satellites x 20 stations x 1 day. Skyfield is timed on every
satellite-station pair for (a) and (b) and on a seeded random sample of pairs for (c),
extrapolated (said so in the table). Baseline and ours run in the same process; the SGP4
floor is one SatrecArray call on the coarse grid our finder uses. Accuracy: rise/set
differences against Skyfield events refined to < 1 us by bisection on Skyfield altitudes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time

import numpy as np
from sgp4.api import Satrec
from skyfield.api import EarthSatellite, wgs84

from constellation import orbits
from constellation.passes import default_step_s, find_passes
from constellation.propagation import Propagator
from constellation.stations import Station, builtin_station, catalogue_names
from constellation.timebase import TimeBase, parse_utc, timescale

MICIUS = ("1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993",
          "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063")
MASK_DEG = 10.0


def stations(n):
    names = catalogue_names()
    out = []
    for k in range(n):
        base = builtin_station(names[k % len(names)])
        shift = 0.0 if k < len(names) else 37.0 * (k // len(names))
        out.append(Station(f"{base.name}-{k}", base.latitude_deg, (base.longitude_deg + shift + 180) % 360 - 180,
                           base.elevation_m, min_elevation_deg=MASK_DEG))
    return out


def walker(total, planes, altitude_km, inclination_deg, epoch):
    return [orbits.satrec_from_elements(el, satnum=k + 1)
            for k, (_, _, el) in enumerate(orbits.walker("delta", total, planes, 1, altitude_km, inclination_deg, epoch))]


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def skyfield_events(satrecs, sts, tb, duration_s, pairs):
    ts = timescale()
    out = {}
    t0, t1 = tb.time(0.0), tb.time(duration_s)
    start = time.perf_counter()
    for i, j in pairs:
        sat = EarthSatellite.from_satrec(satrecs[i], ts)
        topo = wgs84.latlon(sts[j].latitude_deg, sts[j].longitude_deg, sts[j].elevation_m)
        out[i, j] = (sat, topo, *sat.find_events(topo, t0, t1, altitude_degrees=MASK_DEG))
    return time.perf_counter() - start, out


def accuracy(table, events, tb, limit_pairs=40):
    """Max |AOS/LOS| difference (s) against refined Skyfield events on some pairs."""
    worst = 0.0
    for (i, j), (sat, topo, t, e) in list(events.items())[:limit_pairs]:
        t_s = tb.t_s(t)
        for code, col in ((0, table.aos_s), (2, table.los_s)):
            ref = t_s[e == code]
            lo, hi = ref - 2.0, ref + 2.0
            for _ in range(25):
                mid = 0.5 * (lo + hi)
                above = (sat - topo).at(tb.time(mid)).altaz()[0].degrees > MASK_DEG
                after = above if code == 0 else ~above
                hi, lo = np.where(after, mid, hi), np.where(after, lo, mid)
            ref = 0.5 * (lo + hi)
            mine = col[(table.satellite == i) & (table.station == j)]
            for r in ref:
                if mine.size:
                    worst = max(worst, float(np.abs(mine - r).min()))
    return worst


def run_case(name, satrecs, sts, tb, duration_s, sample_pairs=None, repeat=3):
    prop = Propagator(satrecs, tb)
    find_passes(prop, sts, duration_s)  # warm up (imports, caches)
    ours_s, table = best_of(lambda: find_passes(prop, sts, duration_s), repeat)
    step = default_step_s(satrecs)
    grid = np.arange(0.0, duration_s + step, step)
    floor_s, _ = best_of(lambda: prop.states(grid), repeat)
    all_pairs = [(i, j) for i in range(len(satrecs)) for j in range(len(sts))]
    if sample_pairs and sample_pairs < len(all_pairs):
        rng = np.random.default_rng(2026)
        pairs = [all_pairs[k] for k in rng.choice(len(all_pairs), sample_pairs, replace=False)]
    else:
        pairs = all_pairs
    sky_s, events = skyfield_events(satrecs, sts, tb, duration_s, pairs)
    sky_total = sky_s * len(all_pairs) / len(pairs)
    worst = accuracy(table, events, tb)
    return dict(case=name, pairs=len(all_pairs), sampled=len(pairs), passes=len(table),
                skyfield_s=sky_total, ours_s=ours_s, ratio=sky_total / ours_s, sgp4_floor_s=floor_s,
                ours_over_floor=ours_s / floor_s, worst_s=worst)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller Skyfield samples")
    args = parser.parse_args()
    epoch = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    tb_micius = TimeBase(parse_utc("2016-12-19T00:00:00Z"))
    tb = TimeBase(parse_utc(epoch))
    rows = [
        run_case("(a) Micius x 5 stations x 30 days", [Satrec.twoline2rv(*MICIUS)],
                 [builtin_station(n, min_elevation_deg=MASK_DEG) for n in ("Xinglong", "Nanshan", "Graz", "Zvenigorod", "Stellenbosch")],
                 tb_micius, 30 * 86400.0),
        run_case("(b) Walker 66/6/1 780 km 86.4 deg x 10 stations x 1 day", walker(66, 6, 780.0, 86.4, epoch),
                 stations(10), tb, 86400.0, sample_pairs=200 if args.quick else None),
        run_case("(c) Walker 1000/20/1 550 km 53 deg x 20 stations x 1 day", walker(1000, 20, 550.0, 53.0, epoch),
                 stations(20), tb, 86400.0, sample_pairs=100 if args.quick else 400, repeat=2),
    ]
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    print("| case | sat-station pairs (Skyfield timed) | passes | Skyfield s | ours s | speed-up | SGP4 floor s | ours / floor | max AOS/LOS diff ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['pairs']} ({r['sampled']}) | {r['passes']} | {r['skyfield_s']:.2f} | {r['ours_s']:.3f} | "
              f"{r['ratio']:.0f}x | {r['sgp4_floor_s']:.3f} | {r['ours_over_floor']:.1f} | {r['worst_s'] * 1e3:.2f} |")


if __name__ == "__main__":
    main()
