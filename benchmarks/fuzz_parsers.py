"""Time-boxed fuzz run of the scenario and TLE parsers: every input must either parse or
raise ``InputError`` -- never another exception.

Four targets, run in turn until the time box is spent:

* ``scenario-dict``: hypothesis-generated mutations of a good scenario mapping (keys dropped,
  renamed or added; values replaced by values of other types, extremes, NaN/inf) through
  ``constellation.scenario.build.scenario_from_dict``;
* ``scenario-toml``: byte-level mutations of good scenario TOML text, written to a temporary
  file and read by ``constellation.scenario.build.load_scenario``;
* ``tle-text``: character-level mutations of good TLE texts (2- and 3-line, CRLF, Alpha-5)
  through ``constellation.scenario.tle.parse_tle_text``, with and without checksum checks;
* ``tle-hypothesis``: hypothesis-generated texts shaped like TLE lines;
* ``omm-text``: character-level mutations of good OMM files (JSON, CSV, CCSDS XML), written
  to a temporary file and read by ``constellation.scenario.omm.read_omm_file``;
* ``omm-json``: hypothesis-generated mutations of a good OMM JSON record (keys dropped or
  renamed, values replaced by other types, extremes, NaN/inf) through ``read_omm_file``;
* ``nonfinite-toml``, ``nonfinite-omm``, ``nonfinite-profile``: one number of a good scenario
  TOML (any table, ``[link]`` and ``[qkd]`` included), OMM JSON record or loss profile replaced
  by a non-finite or absurd spelling (``nan``, ``inf``, ``-inf``, ``1e999``, ``1e300``, a
  5,000-digit integer, ...). Stricter than the others: a file holding ``nan`` or an infinity
  that *loads* is also a failure (it would give a silently wrong answer);
* ``deep-nesting``: arrays and tables nested 2 to 200,000 deep in a scenario TOML key, an OMM
  JSON file and a scenario mapping (``scenario_from_dict``).

Usage::

    python benchmarks/fuzz_parsers.py [--seconds 180] [--seed 0] [--json out.json]

The documented warning path (``warnings.warn`` from the loaders) is not a crash: warnings
are silenced. Only ``constellation.errors.InputError`` counts as a clean rejection.

Prints the number of inputs tried per target and every crash (exception other than
InputError) with a reproducer; exits 1 when there was a crash.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import re
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seed_
from hypothesis import strategies as st

from constellation.errors import InputError
from constellation.scenario.omm import read_omm_file
from constellation.scenario.profile import read_loss_profile
from constellation.scenario.build import load_scenario, scenario_from_dict
from constellation.scenario.tle import parse_tle_text

TLE1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
TLE2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"
ISS1 = "1 25544U 98067A   19366.82137887  .00000465  00000-0  16289-4 0  9995"
ISS2 = "2 25544  51.6444 104.4802 0005184 104.7441  69.5298 15.49511837206155"

GOOD_DICT = {
    "scenario": {"name": "fuzz", "start": "2016-12-19T00:00:00Z", "end": "2016-12-19T01:00:00Z"},
    "satellites": [
        {"name": "MICIUS", "tle": [TLE1, TLE2]},
        {"name": "w", "walker": "delta", "total": 6, "planes": 2, "phasing": 1, "altitude_km": 550.0,
         "inclination_deg": 53.0},
        {"name": "s", "ltan": "10:30", "altitude_km": 500.0},
        {"name": "e", "altitude_km": 600.0, "inclination_deg": 97.0, "eccentricity": 0.001},
    ],
    "stations": [
        {"name": "Xinglong"},
        {"name": "Home", "latitude_deg": 10.0, "longitude_deg": 20.0, "min_elevation_deg": 10.0,
         "horizon_mask": [[0.0, 5.0], [180.0, 10.0]], "aperture_m": 1.0, "telescopes": 2,
         "clear_sky_probability": 0.5},
    ],
    "constraints": {"station_sun_max_elevation_deg": -12.0, "satellite_sunlit": False, "max_range_km": 2000.0},
    "link": {"preset": "micius"},
    "qkd": {"preset": "micius", "probabilities": [0.5, 0.25, 0.25]},
    "links": [{"a": "Xinglong", "b": "Home", "required_key_bits_per_day": 1e6}],
    "fibre": [{"a": "Home", "b": "Paris", "key_rate_bps": 1000.0}],
    "cities": [{"name": "Paris", "latitude_deg": 48.85, "longitude_deg": 2.35}],
    "network": {"satellite_terminals": 1, "weather_runs": 10, "seed": 1},
    "coverage": {"grid": "global", "grid_deg": 5.0, "k": 1},
}

GOOD_TOML = f"""
[scenario]
name = "fuzz"
start = 2016-12-19T00:00:00Z
end = 2016-12-19T01:00:00Z

[[satellites]]
name = "MICIUS"
tle = ["{TLE1}", "{TLE2}"]

[[satellites]]
walker = "delta"
total = 4
planes = 2
phasing = 1
altitude_km = 550
inclination_deg = 53

[[stations]]
name = "Xinglong"

[[stations]]
name = "Home"
latitude_deg = 10.5
longitude_deg = -20.25
horizon_mask = [[0, 5], [180, 10]]
clear_sky_probability = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]

[constraints]
station_sun_max_elevation_deg = -12

[link]
preset = "micius"

[qkd]
preset = "micius"
intensities = [0.8, 0.1, 0.0]
"""

GOOD_TLES = [
    f"{TLE1}\n{TLE2}\n",
    f"MICIUS\n{TLE1}\n{TLE2}\n",
    f"0 ISS (ZARYA)\r\n{ISS1}\r\n{ISS2}\r\n# comment\r\n\r\n{TLE1}\r\n{TLE2}\r\n",
    ("1 A0001U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993\n"
     "2 A0001  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063\n"),
]

OMM_RECORD = {
    "OBJECT_NAME": "MICIUS", "OBJECT_ID": "2016-051A", "EPOCH": "2016-12-18T21:38:11.330592",
    "MEAN_MOTION": 15.23915303, "ECCENTRICITY": 0.00132, "INCLINATION": 97.3699, "RA_OF_ASC_NODE": 267.45,
    "ARG_OF_PERICENTER": 178.5836, "MEAN_ANOMALY": 246.0824, "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 41731, "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 1906, "BSTAR": 1.7957e-5,
    "MEAN_MOTION_DOT": 3.64e-6, "MEAN_MOTION_DDOT": 0,
}
OMM_KEYS = list(OMM_RECORD)


def _omm_xml(record: dict) -> str:
    meta = ("OBJECT_NAME", "OBJECT_ID")
    mean = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
            "MEAN_ANOMALY")
    rest = [k for k in record if k not in meta + mean]
    tag = lambda keys: "".join(f"<{k}>{record[k]}</{k}>" for k in keys)
    return ("<?xml version=\"1.0\"?>\n<ndm><omm><body><segment>\n"
            f"<metadata>{tag(meta)}</metadata>\n<data><meanElements>{tag(mean)}</meanElements>\n"
            f"<tleParameters>{tag(rest)}</tleParameters></data>\n</segment></body></omm></ndm>\n")


GOOD_OMMS = [
    ("json", json.dumps([OMM_RECORD], indent=1)),
    ("json", json.dumps(OMM_RECORD)),
    ("csv", ",".join(OMM_KEYS) + "\n" + ",".join(str(OMM_RECORD[k]) for k in OMM_KEYS) + "\n"),
    ("xml", _omm_xml(OMM_RECORD)),
]

# Values that break parsers: wrong types, extremes, NaN, inf, unicode, empty containers.
ODD_VALUES = [None, True, False, 0, -1, 1, 2, 99, 100000, 100001, 2**63, -(2**63), 2**80, 0.0, -0.0, 1e-300,
              1e308, -1e308, math.nan, math.inf, -math.inf, 0.5, 89.999, 90.0, 91.0, 180.0, 361.0, -91.0,
              "", " ", "x", "10:30", "25:61", "micius", "delta", "star", "global", "Xinglong", "é", "\x00",
              "\u2212", "1e999", "2016-12-19T00:00:00Z", "2016-13-45T99:99:99Z", [], [0], [1.0, 2.0],
              [0.5] * 12, [[0, 5]], [[400, -10]], [TLE1], [TLE1, TLE2, TLE2, TLE1], {}, {"a": 1},
              {"preset": "micius"}, {"preset": 3}, ["a", "b"], [[], []], [None]]
ODD_KEYS = ["nme", "name", "start", "end", "tle", "tle_file", "omm_file", "walker", "ltan", "altitude_km",
            "semi_major_axis_km", "inclination_deg", "total", "planes", "phasing", "latitude_deg",
            "longitude_deg", "preset", "probabilities", "intensities", "rx_aperture_m", "é", "", "0"]

COUNTS: dict[str, int] = {}
CRASHES: list[dict] = []


class AcceptedNonFinite(Exception):
    """A non-finite number was read without complaint (the strict targets' failure)."""


def _check(target: str, call, reproducer, *, must_refuse: bool = False) -> None:
    COUNTS[target] = COUNTS.get(target, 0) + 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
        if must_refuse:
            raise AcceptedNonFinite("loaded without an InputError")
    except InputError:
        pass
    except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
        key = (target, type(exc).__name__, traceback.extract_tb(exc.__traceback__)[-1][:2])
        if not any(c["key"] == key for c in CRASHES):
            CRASHES.append({"key": key, "target": target, "error": f"{type(exc).__name__}: {exc}",
                            "where": "".join(traceback.format_tb(exc.__traceback__)[-3:]),
                            "input": repr(reproducer)[:2000]})


# ---------------------------------------------------------------- mutators

def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _mutate_dict(data: dict, draw_ops) -> dict:
    data = copy.deepcopy(data)
    for op, pick, value, key in draw_ops:
        value = copy.deepcopy(value)  # the odd values are shared: never let a mutation alias them
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = paths[pick % len(paths)]
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if op == "replace":
            parent[last] = value
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent[last], dict):
            parent[last][key] = value
        elif op == "add" and isinstance(parent[last], list):
            parent[last].append(value)
        elif op == "rename" and isinstance(parent, dict):
            parent[key] = parent.pop(last)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "add" or op == "rename" or op == "duplicate":
            parent[last] = value
    return data


def _mutate_text(text: str, rng: random.Random, alphabet: str) -> str:
    chars = list(text)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        op = rng.random()
        k = rng.randrange(len(chars) + 1)
        if op < 0.35 and chars:
            chars[min(k, len(chars) - 1)] = rng.choice(alphabet)
        elif op < 0.6:
            chars.insert(k, rng.choice(alphabet))
        elif op < 0.8 and chars:
            del chars[min(k, len(chars) - 1)]
        elif chars:  # move a slice (shifted columns, swapped lines)
            a, b = sorted(rng.randrange(len(chars)) for _ in range(2))
            piece = chars[a:b]
            del chars[a:b]
            at = rng.randrange(len(chars) + 1)
            chars[at:at] = piece
    return "".join(chars)


TLE_ALPHABET = "0123456789 +-.\n\r#ABCIOUZ12\t\u00a0\u2212\u00b0é"
OMM_ALPHABET = TLE_ALPHABET + "[]{}\"',:<>/_eEnNaIf"
TOML_ALPHABET = TLE_ALPHABET + "[]{}=\"',:Tz_abcdefghijklmnopqrstuvwxyz\\"


# ---------------------------------------------------------------- non-finite numbers and deep nesting

_NUMBER = re.compile(r"(?<![\w.:-])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w:.-])")
NONFINITE_TOML = ["nan", "+nan", "-nan", "inf", "+inf", "-inf"]  # TOML's own spellings: they parse
NONFINITE_JSON = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]  # Python's json reads them as floats
ABSURD = ["1e300", "-1e300", "1e-320", "1" + "0" * 5000, "-1" + "0" * 400, "9" * 40, "0.0", "-0.0"]
GOOD_PROFILE = "t_s,loss_db,background_cps\n0,30,100\n1,31,100\n2,32,100\n"


def _replace_number(text: str, rng: random.Random, spellings) -> tuple[str, str]:
    """``text`` with one number (not inside a TLE line or a date) replaced by a spelling drawn from
    ``spellings``; returns the text and the spelling."""
    quoted = [(m.start(), m.end()) for m in re.finditer(r'"[^"\n]*"', text)]
    spans = [m.span() for m in _NUMBER.finditer(text) if not any(a <= m.start() < b for a, b in quoted)]
    a, b = rng.choice(spans)
    value = rng.choice(spellings)
    return text[:a] + value + text[b:], value


def _nonfinite(value: str) -> bool:
    try:
        return not math.isfinite(float(value))
    except (ValueError, OverflowError):
        return False


def _nested(rng: random.Random, json_style: bool) -> str:
    depth = rng.choice((2, 50, 500, 998, 1000, 3000, 20_000, 200_000))
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    key = '"a"' if json_style else "a"
    sep = ": " if json_style else " = "
    return ("{" + key + sep) * depth + "1" + "}" * depth


def _nested_dict(depth: int):
    node: object = 1
    for _ in range(depth):
        node = {"preset": node} if depth % 2 else [node]
    return node


# ---------------------------------------------------------------- hypothesis targets

_op = st.tuples(st.sampled_from(["replace", "replace", "delete", "add", "rename", "duplicate"]),
                st.integers(0, 10_000), st.sampled_from(ODD_VALUES) | st.floats() | st.integers()
                | st.text(max_size=8), st.sampled_from(ODD_KEYS))


def fuzz_scenario_dict(ops):
    data = _mutate_dict(GOOD_DICT, ops)
    _check("scenario-dict", lambda: scenario_from_dict(data), data)


_tle_char = st.sampled_from(list("0123456789 +-.U")) | st.characters(max_codepoint=0x2fff)


def fuzz_tle_hypothesis(lines, prefix_numbers, check):
    if prefix_numbers:
        lines = [f"{(i % 2) + 1} {line}" for i, line in enumerate(lines)]
    text = "\n".join(lines)
    _check("tle-hypothesis", lambda: parse_tle_text(text, "fuzz.tle", check_checksum=check), text)


OMM_DIR = Path(tempfile.mkdtemp(prefix="fuzz-omm-"))


def fuzz_omm_json(ops):
    data = _mutate_dict({"records": [OMM_RECORD]}, ops)
    try:
        text = json.dumps(data.get("records", data), allow_nan=True)
    except (TypeError, ValueError):
        return
    path = OMM_DIR / "fuzz.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check("omm-json", lambda: read_omm_file(path), text)


STRATEGIES = {
    fuzz_scenario_dict: (st.lists(_op, min_size=1, max_size=4),),
    fuzz_omm_json: (st.lists(st.tuples(st.sampled_from(["replace", "replace", "delete", "rename", "add"]),
                                       st.integers(0, 10_000), st.sampled_from(ODD_VALUES) | st.floats()
                                       | st.integers() | st.text(max_size=12),
                                       st.sampled_from(OMM_KEYS + ["", "x", "EPOCH "])), min_size=1, max_size=4),),
    fuzz_tle_hypothesis: (st.lists(st.text(_tle_char, min_size=0, max_size=75), min_size=0, max_size=4),
                          st.booleans(), st.booleans()),
}


def _run_hypothesis(body, examples: int, seed: int) -> None:
    """One hypothesis run of ``body`` (a fresh wrapper each time, so each run has its own seed)."""
    def test(args):
        body(*args)

    runner = seed_(seed)(settings(max_examples=examples, deadline=None, database=None,
                                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))(
        given(st.tuples(*STRATEGIES[body]))(test)))
    runner()


# ---------------------------------------------------------------- main loop

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    began = time.monotonic()
    deadline = began + args.seconds
    round_ = 0
    with tempfile.TemporaryDirectory() as tmp:
        toml_path = Path(tmp) / "fuzz.toml"
        while time.monotonic() < deadline:
            round_ += 1
            _run_hypothesis(fuzz_scenario_dict, 200, args.seed + round_)
            _run_hypothesis(fuzz_tle_hypothesis, 300, args.seed + round_)
            _run_hypothesis(fuzz_omm_json, 200, args.seed + round_)
            stop = min(deadline, time.monotonic() + 5.0)
            while time.monotonic() < stop:
                text = _mutate_text(rng.choice(GOOD_TLES), rng, TLE_ALPHABET)
                check = rng.random() < 0.8
                _check("tle-text", lambda t=text, c=check: parse_tle_text(t, "fuzz.tle", check_checksum=c), text)
                toml = _mutate_text(GOOD_TOML, rng, TOML_ALPHABET)
                toml_path.write_bytes(toml.encode("utf-8", "surrogatepass")
                                      if rng.random() < 0.9 else toml.encode("latin-1", "replace"))
                _check("scenario-toml", lambda: load_scenario(toml_path), toml)
                kind, good = rng.choice(GOOD_OMMS)
                omm = _mutate_text(good, rng, OMM_ALPHABET)
                omm_path = Path(tmp) / f"fuzz.{kind if rng.random() < 0.8 else 'txt'}"
                omm_path.write_bytes(omm.encode("utf-8", "surrogatepass"))
                _check("omm-text", lambda p=omm_path: read_omm_file(p), (omm_path.suffix, omm))
                # Non-finite and absurd numbers: a file holding nan or an infinity must be refused.
                toml, value = _replace_number(GOOD_TOML, rng, NONFINITE_TOML + ABSURD)
                toml_path.write_text(toml, encoding="utf-8")
                _check("nonfinite-toml", lambda: load_scenario(toml_path), (value, toml),
                       must_refuse=_nonfinite(value))
                omm, value = _replace_number(GOOD_OMMS[0][1], rng, NONFINITE_JSON + ABSURD)
                omm_path = Path(tmp) / "nonfinite.json"
                omm_path.write_text(omm, encoding="utf-8")
                _check("nonfinite-omm", lambda p=omm_path: read_omm_file(p), (value, omm),
                       must_refuse=_nonfinite(value))
                profile, value = _replace_number(GOOD_PROFILE, rng, NONFINITE_TOML + NONFINITE_JSON + ABSURD)
                profile_path = Path(tmp) / "profile.csv"
                profile_path.write_text(profile, encoding="utf-8")
                _check("nonfinite-profile", lambda p=profile_path: read_loss_profile(p), (value, profile),
                       must_refuse=_nonfinite(value))
                # Deep nesting: a TOML value, an OMM JSON file, a scenario mapping.
                if rng.random() < 0.05:  # the deepest cases take ~0.1 s each
                    nest = _nested(rng, json_style=False)
                    toml_path.write_text(GOOD_TOML + "\n[network]\nseed = " + nest + "\n", encoding="utf-8")
                    _check("deep-nesting", lambda: load_scenario(toml_path), f"seed = {nest[:40]}... ({len(nest)})")
                    nest = _nested(rng, json_style=True)
                    omm_path.write_text(nest, encoding="utf-8")
                    _check("deep-nesting", lambda p=omm_path: read_omm_file(p), f"{nest[:40]}... ({len(nest)})")
                    depth = rng.choice((10, 100, 900, 3000))
                    data = copy.deepcopy(GOOD_DICT)
                    data[rng.choice(["link", "qkd", "network", "scenario"])] = _nested_dict(depth)
                    _check("deep-nesting", lambda d=data: scenario_from_dict(d), f"nested {depth} deep")
    total = sum(COUNTS.values())
    elapsed = time.monotonic() - began  # hypothesis rounds run to completion: may pass the box by seconds
    print(f"fuzz_parsers: {total} inputs in {elapsed:.0f} s (time box {args.seconds:.0f} s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())) + f"; crashes: {len(CRASHES)}")
    for crash in CRASHES:
        print(f"\nCRASH [{crash['target']}] {crash['error']}\n{crash['where']}input: {crash['input']}")
    if args.json:
        args.json.write_text(json.dumps({"seconds": args.seconds, "elapsed_s": elapsed, "inputs": total, "per_target": COUNTS,
                                         "crashes": [{k: v for k, v in c.items() if k != "key"} for c in CRASHES]},
                                        indent=2))
    return 1 if CRASHES else 0


if __name__ == "__main__":
    sys.exit(main())
