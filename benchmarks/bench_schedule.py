"""Scheduling: the link-aware programme against the previous objective and FCFS on the same contacts.

    python benchmarks/bench_schedule.py                                  # scenarios/2027-reported-plan.toml
    python benchmarks/bench_schedule.py SCENARIO --walker 10 6           # its stations, a Walker 10 x 6 instead

For each scheduler: the clear-sky relayed key per link and day (the worst link first, as the
sizing targets read it), the total, and the scheduler's run time. Baselines, on the same
contacts, terminals, telescopes and re-pointing time: first-come-first-served, and the
previous objective (the contacts' total key, solved to optimality) with the relay's
water-filling; the link-aware schedule relays as planned (key set aside per link).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from constellation import pipeline  # noqa: E402
from constellation.network import plan as network_plan  # noqa: E402
from constellation.network.contacts import contacts_from_passes  # noqa: E402
from constellation.network.relay import relay_key  # noqa: E402
from constellation.network.schedule import schedule, schedule_fcfs  # noqa: E402
from constellation.scenario.build import load_scenario, scenario_from_dict  # noqa: E402


def _scenario(path: Path, walker):
    if walker is None:
        return load_scenario(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    planes, per_plane = walker
    data["satellites"] = [{"name": "W", "walker": "delta", "total": planes * per_plane, "planes": planes,
                           "phasing": 1, "altitude_km": 550.0, "inclination_deg": 60.0}]
    data.pop("designs", None)
    data.pop("targets", None)
    data.pop("sweep", None)
    return scenario_from_dict(data, source=str(path))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "2027-reported-plan.toml"))
    parser.add_argument("--walker", nargs=2, type=int, metavar=("PLANES", "PER_PLANE"))
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args(argv)
    scn = _scenario(Path(args.scenario), args.walker)
    passes = pipeline.find_passes(scn)
    keys = pipeline.compute_keys(scn, passes)
    contacts = contacts_from_passes(passes, keys.key_bits)
    sites = network_plan._sites(scn.stations, scn.links, scn.cities, scn.fibre)
    channels = network_plan._channels(scn.links, sites)
    telescopes = np.array(network_plan._by_name(scn.telescopes, sites.station_names, 1, "telescopes"))
    terminals = pipeline._terminals(scn)
    net = scn.network
    n_sat = len(scn.satellites)
    days = scn.duration_s / 86400.0
    names = [f"{scn.stations[a].name}-{scn.stations[b].name}" for a, b in channels.pairs.tolist()]
    print(f"{scn.name}: {n_sat} satellites, {len(scn.stations)} stations, {len(contacts)} contacts, "
          f"{days:g} days, retarget {net.retarget_s:g} s, terminals {sorted(set(terminals))}")
    print("channels: " + ", ".join(names))

    def report(label, chosen, weights, seconds):
        relay = relay_key(contacts, chosen, channels.pairs, scn.duration_s, weights=weights, n_satellites=n_sat)
        per_day = relay.relayed_bits / days / 1e6
        print(f"{label:34s} {seconds:7.2f} s  worst {per_day.min():7.2f}  total {per_day.sum():8.2f} Mbit/day  "
              f"per link {np.round(per_day, 2).tolist()}")

    weights = channels.weight or None
    began = time.perf_counter()
    fcfs = schedule_fcfs(contacts, telescopes, terminals, retarget_s=net.retarget_s)
    report("FCFS", fcfs, weights, time.perf_counter() - began)
    total = schedule(contacts, telescopes, terminals, retarget_s=net.retarget_s, n_satellites=n_sat,
                     time_limit_s=args.time_limit)
    report(f"total key ({total.method}, gap {100 * total.gap:.2f} %)", total.chosen, weights, total.runtime_s)
    linked = schedule(contacts, telescopes, terminals, retarget_s=net.retarget_s, link_pairs=channels.pairs,
                      link_weights=weights, n_satellites=n_sat, time_limit_s=args.time_limit)
    report(f"link-aware ({linked.method}, gap {100 * linked.gap:.2f} %)", linked.chosen,
           network_plan._relay_weights(linked, channels), linked.runtime_s)
    print(f"link-aware plan (flow bound): worst {linked.min_share_bits / days / 1e6:.2f} Mbit/day per unit weight")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
