"""Benchmark: scheduling + trusted relay (+ weather Monte Carlo) on a large synthetic network.

100 satellites, 30 stations, 50 links, 30 days of random but seeded night passes (no
propagation: each satellite makes Poisson(1.5) night windows per station per night,
120-420 s long, at random times within +-5 h of local midnight, with log-normal key
around 100 kbit). Not collected by pytest. Run:

    /work/venv/bin/python benchmarks/bench_network.py [--runs 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from constellation.network.contacts import make_contacts
from constellation.network.plan import plan_relay
from constellation.network.relay import relay_key
from constellation.network.schedule import schedule
from constellation.network.weather import relay_weather, station_nights
from constellation.scenario.model import Link
from constellation.scenario.stations import Station

DAY_S = 86400.0


def synthetic(n_sat=100, n_st=30, n_links=50, days=30, seed=0):
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-0.8, 0.95, n_st)))
    lon = rng.uniform(-180.0, 180.0, n_st)
    stations = [Station(f"S{k:02d}", float(lat[k]), float(lon[k])) for k in range(n_st)]
    counts = rng.poisson(1.5, (n_sat, n_st, days))
    sat, st, night = (np.repeat(a.ravel(), counts.ravel()) for a in np.indices(counts.shape))
    local_midnight_s = (night + 1) * DAY_S - lon[st] * 240.0
    start = local_midnight_s + rng.uniform(-5 * 3600.0, 5 * 3600.0, sat.size)
    end = start + rng.uniform(120.0, 420.0, sat.size)
    keep = (start >= 0) & (end <= days * DAY_S)
    key = rng.lognormal(np.log(1e5), 0.7, sat.size)
    contacts = make_contacts(sat[keep], st[keep], start[keep], end[keep], key[keep])
    pairs = set()
    while len(pairs) < n_links:
        a, b = sorted(rng.choice(n_st, 2, replace=False).tolist())
        pairs.add((a, b))
    links = [Link(stations[a].name, stations[b].name) for a, b in sorted(pairs)]
    return contacts, stations, links, days * DAY_S


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<48s} {time.perf_counter() - t0:8.2f} s")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    contacts, stations, links, duration_s = synthetic(seed=args.seed)
    print(f"{len(contacts)} candidate contacts, {len(stations)} stations, {len(links)} links, "
          f"{duration_s / DAY_S:.0f} days")
    names = [s.name for s in stations]
    pairs = np.array([(names.index(link.a), names.index(link.b)) for link in links])

    exact = timed("schedule, 1 telescope (exact DP)", lambda: schedule(contacts))
    print(f"    chosen {exact.chosen.size}, key {exact.key_bits:.4g} bits vs FCFS {exact.baseline_key_bits:.4g}")
    greedy = timed("schedule, 2 telescopes + 1 terminal (greedy)",
                   lambda: schedule(contacts, telescopes=2, satellite_terminals=1))
    print(f"    chosen {greedy.chosen.size}, key {greedy.key_bits:.4g} bits vs FCFS {greedy.baseline_key_bits:.4g}")
    relay = timed("relay, clear sky (with latency log)",
                  lambda: relay_key(contacts, exact.chosen, pairs, duration_s, key_store_bits=5e6))
    print(f"    relayed {relay.relayed_bits.sum():.4g} bits in {relay.delivery_bits.size} deliveries")
    night_id, night_p = station_nights(contacts, [s.longitude_deg for s in stations], 0.6)
    timed(f"relay, weather Monte Carlo ({args.runs} runs)",
          lambda: relay_weather(contacts, exact.chosen, pairs, duration_s, night_id, night_p,
                                runs=args.runs, seed=args.seed, key_store_bits=5e6))
    plan = timed(f"plan_relay: schedule + relay + MC ({args.runs} runs)",
                 lambda: plan_relay(contacts, stations, links, duration_s, key_store_bits=5e6,
                                      clear_sky_probability=0.6, runs=args.runs, seed=args.seed))
    per_day = np.array([r.key_bits_per_day for r in plan.links])
    print(f"    expected key per link per day: median {np.median(per_day):.4g} bits "
          f"(clear sky {np.median([r.clear_sky_key_bits_per_day for r in plan.links]):.4g})")


if __name__ == "__main__":
    main()
