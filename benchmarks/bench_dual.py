"""Dual-downlink windows (issue 15, "Speed"): what they cost next to the pass finding itself.

Run by hand (pytest does not collect it):

    /work/venv/bin/python benchmarks/bench_dual.py [--write docs/benchmarks.md]

Case: a Walker-delta shell of 1,000 satellites (25 planes, 550 km, 53 deg, as
benchmarks/bench_memory.py builds it) over 25 synthetic stations in five regional clusters
of five (ring of 6 deg around a centre: every pair 740-1,290 km apart, as Delingha-Lijiang
and Delingha-Nanshan are), all 10 pairs of each cluster as entanglement ``[[links]]``: 50
station pairs; 10 deg mask, night windows (Sun <= -12 deg), one day from the 2024 March
equinox. Each station has the 1 m observatory receiver, the payload the Micius
entangled-photon source (``[source] preset = "micius-entanglement"``).

Timed once each, in one process, in pipeline order:
  passes     ``pipeline.find_passes`` (propagation, rise/set, QKD windows of every
             satellite-station pair);
  dual       ``pipeline.find_dual``: the 50 pairs' dual windows, intersected from the
             pass finder's windows (no propagation);
  geometry   ``key.entanglement.dual_keys`` without a source: the summed range of every
             dual window, slot by slot (1 s) along the interpolated SGP4 track;
  key        ``pipeline.compute_dual`` with the source: both arms' loss, the sky background at
             each station and the BBM92 key of every window.
Ratios are against the pass time of the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sgp4

from constellation import pipeline
from constellation.key.entanglement import dual_keys
from constellation.scenario.build import scenario_from_dict
from doc_section import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
START = "2024-03-20T00:00:00Z"
# Cluster centres (lat, lon deg): western China, central Europe, the US plains, South Africa,
# south-east Australia.
CENTRES = [(37.0, 97.0), (47.0, 12.0), (39.0, -100.0), (-29.0, 24.0), (-33.0, 146.0)]
RING_DEG = 6.0
PER_CLUSTER = 5


def scenario_data(n_satellites: int = 1000, days: float = 1.0) -> dict:
    planes = max(1, round(math.sqrt(n_satellites)))
    while n_satellites % planes:
        planes -= 1
    t0 = dt.datetime.fromisoformat(START)
    end = (t0 + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stations, links = [], []
    for c, (lat, lon) in enumerate(CENTRES):
        names = []
        for k in range(PER_CLUSTER):
            bearing = 2.0 * math.pi * k / PER_CLUSTER
            names.append(f"C{c}S{k}")
            stations.append({"name": names[-1], "latitude_deg": lat + RING_DEG * math.cos(bearing),
                             "longitude_deg": lon + RING_DEG * math.sin(bearing) / math.cos(math.radians(lat)),
                             "min_elevation_deg": 10.0, "receiver": "observatory-1m"})
        links += [{"a": a, "b": b, "mode": "entanglement"} for i, a in enumerate(names) for b in names[i + 1:]]
    return {"scenario": {"name": "dual benchmark", "start": START, "end": end},
            "satellites": [{"name": "w", "walker": "delta", "total": n_satellites, "planes": planes,
                            "phasing": 1, "altitude_km": 550.0, "inclination_deg": 53.0}],
            "stations": stations, "constraints": {"station_sun_max_elevation_deg": -12.0},
            "source": {"preset": "micius-entanglement"}, "links": links}


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


def measure(n_satellites: int, days: float) -> dict:
    scn = scenario_from_dict(scenario_data(n_satellites, days))
    t_passes, passes = timed(pipeline.find_passes, scn)
    t_dual, dual = timed(pipeline.find_dual, scn, passes)
    t_geometry, geometry = timed(dual_keys, pipeline.propagator_for(scn), dual, scn.stations, None)
    t_key, keys = timed(pipeline.compute_dual, scn, dual)
    windows = int(np.count_nonzero(passes.has_window))
    return {"satellites": n_satellites, "planes": scn.raw["satellites"][0]["planes"], "stations": len(scn.stations), "pairs": len(scn.dual_pairs), "days": days,
            "passes": len(passes), "windows": windows, "dual": len(dual),
            "dual_s": float(np.sum(dual.duration_s)),
            "t_passes": t_passes, "t_dual": t_dual, "t_geometry": t_geometry, "t_key": t_key,
            "sum_range_km": (float(np.nanmin(geometry.min_sum_range_km)), float(np.nanmax(geometry.max_sum_range_km)))
            if len(dual) else (math.nan, math.nan),
            "coincidences": float(np.sum(keys.coincidences)), "finite_key_bits": float(np.sum(keys.finite_key_bits))}


def report(r: dict, wall_s: float) -> str:
    tp = r["t_passes"]
    rows = [("passes (`find_passes`)", r["t_passes"], f"{r['passes']:,} passes, {r['windows']:,} QKD windows"),
            ("dual windows (`find_dual`)", r["t_dual"], f"{r['dual']:,} dual windows, {r['dual_s']:,.0f} s"),
            ("dual geometry (`dual_keys`, no source)", r["t_geometry"],
             f"summed range {r['sum_range_km'][0]:,.0f}-{r['sum_range_km'][1]:,.0f} km"),
            ("dual loss + BBM92 key (`compute_dual`, source)", r["t_key"],
             f"{r['coincidences']:,.0f} coincidences, {r['finite_key_bits']:,.0f} finite-key bits")]
    lines = ["### Latest run: dual-downlink windows next to the passes", "",
             "Command: `python benchmarks/bench_dual.py --write docs/benchmarks.md`  ",
             f"Machine: {platform.processor() or platform.machine()}, 2 cores shared with other jobs, "
             f"Python {platform.python_version()}, numpy {np.__version__}, sgp4 {sgp4.__version__}  ",
             f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; whole run {wall_s:.0f} s; each step timed "
             "once.", "",
             f"Case: Walker delta {r['satellites']:,}/{r['planes']}/1, 550 km, 53 deg x {r['stations']} stations "
             f"({r['pairs']} entanglement pairs, 740-1,290 km apart) x {r['days']:g} day, 10 deg mask, night windows.",
             "", "| step | s | / passes | output |", "|---|---|---|---|"]
    lines += [f"| {name} | {t:.3f} | {t / tp:.3f} | {what} |" for name, t, what in rows]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    write_section(path, "bench_dual", text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--satellites", type=int, default=1000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--write", type=Path, help="put the result between the bench_dual markers of this file")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    result = measure(args.satellites, args.days)
    text = report(result, time.perf_counter() - t0)
    print(text)
    if args.write:
        write(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
