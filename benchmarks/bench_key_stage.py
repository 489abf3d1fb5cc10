"""The key stage (`compute_keys`: every window of a scenario, slot by slot) against a baseline
checkout, measured in the same run.

    python benchmarks/bench_key_stage.py --baseline-root /path/to/old/checkout [--repeat 3]

Both checkouts compute the key of the same scenario (a 60-satellite Walker over 8 built-in
stations for two days, written to a temporary file) in alternating subprocesses; the best of
``--repeat`` runs of each is reported, with the ratio. Pass finding is done once per process
and not timed. Used for issue 13 (the receiver and sky model must keep the key stage fast).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCENARIO = """
[scenario]
name = "walker key bench"
start = 2024-11-01T00:00:00Z
end = 2024-11-03T00:00:00Z
[[satellites]]
walker = "delta"
total = 60
planes = 6
phasing = 1
altitude_km = 550
inclination_deg = 53
""" + "".join(f'[[stations]]\nname = "{n}"\n' for n in
              ("Xinglong", "Nanshan", "Graz", "Tenerife", "Delingha", "Lijiang", "Matera", "Zvenigorod")) + """
[constraints]
station_sun_max_elevation_deg = -12
[link]
preset = "micius"
[qkd]
preset = "micius"
"""

CHILD = """
import sys, time, json
sys.path.insert(0, sys.argv[1])
from constellation.api import load_scenario
from constellation.pipeline import compute_keys, find_passes
sc = load_scenario(sys.argv[2]); p = find_passes(sc)
t0 = time.perf_counter(); k = compute_keys(sc, p); s = time.perf_counter() - t0
print(json.dumps({"key_s": s, "windows": int(p.has_window.sum()), "slots": float(p.window_s[p.has_window].sum()),
                  "finite_key_bits": float(k.finite_key_bits.sum())}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-root", required=True, help="a checkout of the baseline commit")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ours = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "walker.toml"
        scenario.write_text(SCENARIO, encoding="utf-8")
        best: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name, root in (("baseline", args.baseline_root), ("ours", ours)):
                out = subprocess.run([sys.executable, "-c", CHILD, root, str(scenario)], capture_output=True,
                                     text=True, check=True, cwd=folder)
                run = json.loads(out.stdout)
                if name not in best or run["key_s"] < best[name]["key_s"]:
                    best[name] = run
    b, o = best["baseline"], best["ours"]
    print(f"{o['windows']} windows, {o['slots']:.0f} one-second slots")
    print("| code | key stage s | per slot us | finite key (bits) |")
    print("|---|---|---|---|")
    for name, run in (("baseline", b), ("ours", o)):
        print(f"| {name} | {run['key_s']:.3f} | {run['key_s'] / run['slots'] * 1e6:.2f} | {run['finite_key_bits']:.4g} |")
    print(f"ours / baseline: {o['key_s'] / b['key_s']:.2f}x the time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
