"""The bad-input catalogue (issue 8): every bad input gives one line on stderr naming the file,
the field (or line and column), what was expected and what was found, and exit code 2.

Each case writes its bad file into ``tmp_path`` and runs ``constellation.cli.main`` in
process. ``docs/errors.md`` is this table with the messages the tool prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from constellation.cli import main
from constellation.scenario.tle import read_tle_file

TLE1 = "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993"
TLE2 = "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063"
ISS1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
ISS2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"

# A minimal valid scenario: one satellite, one built-in station, six hours.
GOOD = f"""[scenario]
name = "t"
start = 2016-12-19T00:00:00Z
end = 2016-12-19T06:00:00Z

[[satellites]]
name = "MICIUS"
tle = ["{TLE1}", "{TLE2}"]

[[stations]]
name = "Xinglong"
"""
SATELLITE = f'tle = ["{TLE1}", "{TLE2}"]'
ELEMENTS = "altitude_km = 500\ninclination_deg = 97"  # a designed orbit, to put one odd element beside
STATION = '[[stations]]\nname = "Xinglong"'
# A --qkd file: the payload's protocol and the receiver that measures the loss profile.
QKD_TABLE = '[qkd]\npreset = "micius"\n'
RECEIVER_TABLE = '[receiver]\npreset = "observatory-1m"\n'
GOOD_QKD = QKD_TABLE + "\n" + RECEIVER_TABLE
# The Micius payload: with it a scenario computes key, so each station needs a receiver.
KEY_MODEL = '[link]\npreset = "micius"\n[qkd]\npreset = "micius"\n'
GOOD_PROFILE = "t_s,loss_db\n0,30\n1,30\n"
# Entanglement between stations 7,500 km apart: valid, but no dual window (`plot dual` has none to draw).
FAR_PAIR = GOOD + ('[[stations]]\nname = "Graz"\n[source]\npreset = "micius-entanglement"\n'
                   '[[links]]\na = "Xinglong"\nb = "Graz"\nmode = "entanglement"\n')
ENTANGLEMENT = Path(__file__).resolve().parents[1] / "scenarios" / "micius-2018-entanglement.toml"


def tle_checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10


def with_checksum(line: str) -> str:
    """A 69-column TLE line with its checksum recomputed (for edits that keep it valid)."""
    return line[:68] + str(tle_checksum(line))


def put(line: str, column: int, text: str) -> str:
    """Overwrite ``line`` from 1-based ``column`` with ``text``."""
    return line[:column - 1] + text + line[column - 1 + len(text):]


OMM = {"OBJECT_NAME": "MICIUS", "OBJECT_ID": "2016-051A", "EPOCH": "2016-12-18T21:38:11.330592",
       "MEAN_MOTION": 15.23915303, "ECCENTRICITY": 0.00132, "INCLINATION": 97.3699,
       "RA_OF_ASC_NODE": 267.45, "ARG_OF_PERICENTER": 178.5836, "MEAN_ANOMALY": 246.0824,
       "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 41731, "ELEMENT_SET_NO": 999,
       "REV_AT_EPOCH": 1906, "BSTAR": 1.7957e-05, "MEAN_MOTION_DOT": 3.64e-06, "MEAN_MOTION_DDOT": 0}


def omm_json(**changes) -> str:
    record = {k: v for k, v in {**OMM, **changes}.items() if v is not None}
    return json.dumps([record])


def omm_csv(**changes) -> str:
    record = {**OMM, **changes}
    keys = list(record)
    return ",".join(keys) + "\n" + ",".join("" if record[k] is None else str(record[k]) for k in keys) + "\n"


def omm_xml(**changes) -> str:
    record = {k: v for k, v in {**OMM, **changes}.items() if v is not None}
    mean = "".join(f"<{k}>{v}</{k}>" for k, v in record.items()
                   if k not in ("OBJECT_NAME", "OBJECT_ID", "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE",
                                "NORAD_CAT_ID", "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
                                "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT"))
    tle = "".join(f"<{k}>{record[k]}</{k}>" for k in ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
                                                       "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR",
                                                       "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT") if k in record)
    return ('<?xml version="1.0" encoding="UTF-8"?><ndm><omm><body><segment><metadata>'
            f"<OBJECT_NAME>{record.get('OBJECT_NAME', '')}</OBJECT_NAME><OBJECT_ID>{record.get('OBJECT_ID', '')}</OBJECT_ID>"
            "<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM>"
            "<MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata><data>"
            f"<meanElements>{mean}</meanElements><tleParameters>{tle}</tleParameters>"
            "</data></segment></body></omm></ndm>\n")


FILE = None  # the case's own file, named after its id: <id>.toml, <id>.tle, <id>.json, <id>.csv, ...
EXTENSION = {"scenario": "toml", "key": "toml", "network": "toml", "tle": "tle", "omm-json": "json", "omm-csv": "csv", "omm-xml": "xml",
             "profile": "csv", "qkd": "toml"}


@dataclass(frozen=True)
class Case:
    """One bad input.

    kind         what is bad and how it is run:
                 scenario   ``content`` is (old, new) applied to GOOD, or the whole text (str/bytes);
                            run as ``passes FILE``
                 key        as scenario, run as ``key FILE`` (what only key needs: receivers)
                 network    as scenario, run as ``network FILE`` (what only the network needs)
                 tle        ``content`` is a TLE file used by ``tle_file`` in GOOD
                 omm-json, omm-csv, omm-xml
                            ``content`` is an OMM file used by ``omm_file`` in GOOD
                 profile    ``content`` is the loss-profile CSV of ``key --loss-profile FILE --qkd GOOD``
                 qkd        ``content`` is the TOML of ``key --loss-profile GOOD --qkd FILE``
                            (``qkd_file(...)`` builds one with a [qkd] and a [receiver] table)
                 cli        ``content`` is the argument list; ``{good}`` is a valid scenario,
                            ``{qkd}`` a valid qkd TOML file, ``{tmp}`` the temporary folder,
                            ``{far}`` a valid scenario without a dual window (FAR_PAIR)
    file         the file (or command) the message names; FILE: the case's own file, ``<id>.<ext>``
    field        the field or ``line N column C`` the message names
    expected, found
                 fragments of what the message says was expected and found
    """

    id: str
    kind: str
    content: object
    file: str | None
    field: str
    expected: str
    found: str | None  # None: the message does not say (click's own usage errors; see docs/errors.md)

    @property
    def filename(self) -> str:
        return self.file or f"{self.id}.{EXTENSION[self.kind]}"


def scenario(id, content, field, expected, found):
    return Case(id, "scenario", content, FILE, field, expected, found)


def station_with(line: str) -> tuple[str, str]:
    """The edit that adds ``line`` to the built-in Xinglong station of GOOD."""
    return STATION, STATION + "\n" + line


def qkd_file(qkd: str = "", receiver: str | None = "") -> str:
    """A --qkd TOML: the Micius [qkd] plus ``qkd`` lines, the observatory-1m [receiver] plus
    ``receiver`` lines (``receiver=None``: no [receiver] table)."""
    text = QKD_TABLE + qkd
    return text if receiver is None else text + "\n" + RECEIVER_TABLE + receiver


CATALOGUE: list[Case] = [
    # ------------------------------------------------------------ scenario TOML: syntax and encoding
    scenario("toml-unterminated-string", ('name = "t"', 'name = "t'), "line 2 column", "valid TOML",
             "unterminated"),
    scenario("toml-missing-value", ("end = 2016-12-19T06:00:00Z", "end = "), "line 4 column 7", "valid TOML",
             "Invalid value"),
    scenario("toml-duplicate-key", ('name = "t"', 'name = "t"\nname = "u"'), "line 3 column", "valid TOML",
             "overwrite"),
    scenario("toml-not-utf8", GOOD.replace('name = "t"', 'name = "caf\xe9"').encode("latin-1"),
             "line 2 column 12", "UTF-8 text", "0xe9"),
    scenario("toml-bad-datetime", ("start = 2016-12-19T00:00:00Z", "start = 2016-13-19T00:00:00Z"),
             "line 3 column 13", "valid TOML", "Expected newline"),
    # ------------------------------------------------------------ scenario TOML: unknown keys
    scenario("unknown-key-suggests", ('name = "t"', 'name = "t"\nstrat = 2016-12-19T00:00:00Z'),
             "scenario.strat", "did you mean 'start'", "unknown key 'strat'"),
    scenario("unknown-table-suggests", ("[[stations]]", "[[statoins]]"), "statoins",
             "did you mean 'stations'", "unknown key 'statoins'"),
    scenario("unknown-station-key", (STATION, STATION + "\nmin_elevation = 10"), "stations[0].min_elevation",
             "did you mean 'min_elevation_deg'", "unknown key 'min_elevation'"),
    scenario("unknown-satellite-key", ('name = "MICIUS"', 'name = "MICIUS"\ninclination = 97.4'),
             "satellites[0].inclination", "did you mean 'inclination_deg'", "unknown key 'inclination'"),
    scenario("unknown-qkd-key", GOOD + KEY_MODEL + "intrinsic_qbr = 0.004\n",
             "qkd.intrinsic_qbr", "did you mean 'intrinsic_qber'", "intrinsic_qbr"),
    scenario("unknown-receiver-key", station_with("receiver = { detector_eficiency = 0.4 }"),
             "stations[0].receiver.detector_eficiency", "did you mean 'detector_efficiency'", "detector_eficiency"),
    scenario("designs-only-file-run", ('[[satellites]]\nname = "MICIUS"\n' + SATELLITE,
                                       '[[designs]]\nname = "g"\nfamily = "geo"\nlongitudes_deg = [100.0]\ncount = 1\n'
                                       '[targets]\nmin_key_bits_per_day = 1e5'),
             "satellites", "size it with `constellation size`", "none"),
    scenario("design-unknown-family", ('[[satellites]]\nname = "MICIUS"\n' + SATELLITE,
                                       '[[designs]]\nname = "g"\nfamily = "gso"\nlongitudes_deg = [100.0]\ncount = 1\n'
                                       '[targets]\nmin_key_bits_per_day = 1e5'),
             "designs[0].family", "one of 'sso', 'walker', 'meo', 'geo' or 'hybrid'", "gso"),
    # ------------------------------------------------------------ scenario TOML: missing and wrong types
    scenario("missing-name", ('name = "t"\n', ""), "scenario.name", "required", "found nothing"),
    # Stations are optional (coverage of the globe needs none); the passes table needs one.
    scenario("no-stations", (STATION, ""), "stations", "at least one [[stations]] entry (the passes table needs",
             "none"),
    scenario("no-satellites", ('[[satellites]]\nname = "MICIUS"\n' + SATELLITE, ""), "satellites",
             "at least one [[satellites]]", "none"),
    scenario("wrong-type-number", (STATION, STATION + '\nmin_elevation_deg = "ten"'),
             "stations[0].min_elevation_deg", "a number", "ten"),
    scenario("wrong-type-string", ('name = "t"', "name = 7"), "scenario.name", "a string", "7"),
    scenario("wrong-type-bool", ("[[stations]]", "[constraints]\nsatellite_sunlit = \"maybe\"\n\n[[stations]]"),
             "constraints.satellite_sunlit", "true or false", "maybe"),
    scenario("wrong-type-integer", ("[[stations]]", "[[stations]]\ntelescopes = 1.5"),
             "stations[0].telescopes", "an integer", "1.5"),
    scenario("tle-not-a-list", (SATELLITE, f'tle = "{TLE1}"'), "satellites[0].tle", "a list", "41731"),
    # ------------------------------------------------------------ scenario TOML: ranges and consistency
    scenario("elevation-out-of-range", (STATION, STATION + "\nmin_elevation_deg = 95"),
             "stations[0].min_elevation_deg", "< 90", "95"),
    scenario("latitude-out-of-range", (STATION, '[[stations]]\nname = "X"\nlatitude_deg = 91\nlongitude_deg = 0'),
             "stations[0].latitude_deg", "<= 90", "91"),
    scenario("longitude-without-latitude", (STATION, '[[stations]]\nname = "X"\nlongitude_deg = 10'),
             "stations[0]", "both latitude_deg and longitude_deg", "longitude_deg = 10"),
    scenario("altitude-out-of-range", (SATELLITE, "altitude_km = 50\ninclination_deg = 97"),
             "satellites[0].altitude_km", "> 100", "50"),
    scenario("altitude-in-metres", (SATELLITE, "altitude_km = 500000\ninclination_deg = 97"),
             "satellites[0].altitude_km", "< 400000.0 (kilometres, not metres: 500 km is 500)", "500000"),
    scenario("eccentricity-out-of-range", (SATELLITE, "altitude_km = 500\ninclination_deg = 97\neccentricity = 1.2"),
             "satellites[0].eccentricity", "< 1", "1.2"),
    scenario("end-before-start", ("end = 2016-12-19T06:00:00Z", "end = 2016-12-18T06:00:00Z"),
             "scenario.end", "end after start", "end = 2016-12-18"),
    scenario("start-missing-zone", ("start = 2016-12-19T00:00:00Z", "start = 2016-12-19T00:00:00"),
             "scenario.start", "UTC datetime", "2016-12-19"),
    scenario("start-is-a-date", ("start = 2016-12-19T00:00:00Z", "start = 2016-12-19"),
             "scenario.start", "datetime", "2016-12-19"),
    scenario("epoch-missing-zone", (SATELLITE, "altitude_km = 500\ninclination_deg = 97\nepoch = 2016-12-19T00:00:00"),
             "satellites[0].epoch", "UTC datetime", "2016-12-19"),
    # A number (or numeric text) is not Unix seconds: `start = 2016` ran a span at 1970-01-01T00:33:36Z.
    scenario("start-a-year", GOOD.replace("start = 2016-12-19T00:00:00Z", "start = 2016")
             .replace("end = 2016-12-19T06:00:00Z", "end = 2017"),
             "scenario.start", "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (a date and time, not a number)",
             "found 2016"),
    scenario("end-unix-seconds-text", ("end = 2016-12-19T06:00:00Z", 'end = "1800086400"'),
             "scenario.end", "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (a date and time, not a number)",
             "found '1800086400'"),
    scenario("start-true", ("start = 2016-12-19T00:00:00Z", "start = true"),
             "scenario.start", "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z", "found true"),
    scenario("start-text-without-date", ("start = 2016-12-19T00:00:00Z", 'start = "today"'),
             "scenario.start", "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z", "found 'today'"),
    scenario("epoch-a-number", (SATELLITE, ELEMENTS + "\nepoch = 5"), "satellites[0].epoch",
             "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (a date and time, not a number)", "found 5"),
    scenario("epoch-negative", (SATELLITE, ELEMENTS + "\nepoch = -1"), "satellites[0].epoch",
             "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (a date and time, not a number)", "found -1"),
    scenario("epoch-numeric-text", (SATELLITE, ELEMENTS + '\nepoch = "5"'), "satellites[0].epoch",
             "RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z (a date and time, not a number)", "found '5'"),
    scenario("two-orbit-kinds", (SATELLITE, SATELLITE + "\naltitude_km = 500\ninclination_deg = 97\nwalker = \"delta\""),
             "satellites[0]", "exactly one of tle", "walker"),
    scenario("no-orbit", (SATELLITE, ""), "satellites[0]", "exactly one of", "none"),
    scenario("walker-total-not-divisible", (SATELLITE, ('walker = "delta"\ntotal = 25\nplanes = 3\n'
                                                       "altitude_km = 550\ninclination_deg = 53")),
             "satellites[0].total", "total divisible by planes", "total=25"),
    scenario("walker-zero-planes", (SATELLITE, ('walker = "delta"\ntotal = 24\nplanes = 0\n'
                                               "altitude_km = 550\ninclination_deg = 53")),
             "satellites[0].planes", ">= 1", "0"),
    scenario("walker-phasing", (SATELLITE, ('walker = "delta"\ntotal = 24\nplanes = 3\nphasing = 3\n'
                                           "altitude_km = 550\ninclination_deg = 53")),
             "satellites[0].phasing", "phasing in 0..2", "3"),
    scenario("walker-unknown-pattern", (SATELLITE, ('walker = "rosette"\ntotal = 24\nplanes = 3\n'
                                                   "altitude_km = 550\ninclination_deg = 53")),
             "satellites[0].walker", "'delta' or 'star'", "rosette"),
    scenario("ltan-format", (SATELLITE, 'ltan = "25:00"\naltitude_km = 500'), "satellites[0]", "HH:MM", "25:00"),
    scenario("tle-wrong-line-count", (SATELLITE, f'tle = ["{TLE1}"]'), "satellites[0]",
             "tle = [line1, line2]", "1 lines"),
    scenario("inline-tle-checksum", (TLE1, TLE1[:-1] + "4"), "TLE line 1 column 69", "checksum digit 3", "'4'"),
    scenario("missing-tle-file", (SATELLITE, 'tle_file = "nowhere.tle"'), "satellites[0].tle_file",
             "an existing file", "nowhere.tle"),
    scenario("unknown-preset", GOOD + '[link]\npreset = "micus"\n[qkd]\npreset = "micius"\n', "link.preset",
             "did you mean 'micius'", "micus"),
    scenario("scenario-qkd-probabilities-sum", GOOD + '[link]\npreset = "micius"\n[qkd]\npreset = "micius"\n'
                                             "probabilities = [0.5, 0.3, 0.3]\n",
             "qkd.probabilities", "sum", "0.3"),
    # Checked where relayed key is needed (network), so passes and dual windows run without it.
    Case("link-without-qkd-for-links", "network", GOOD + '[[stations]]\nname = "Nanshan"\n[[links]]\na = "Xinglong"\n'
         'b = "Nanshan"\n', FILE, "links", "[link] and [qkd]", "none"),
    scenario("link-to-unknown-station", GOOD + '[[stations]]\nname = "Nanshan"\n[link]\npreset = "micius"\n'
                                               '[qkd]\npreset = "micius"\n[[links]]\na = "Xinglong"\nb = "Nanshen"\n',
             "links[0].b", "did you mean 'Nanshan'", "Nanshen"),
    # ------------------------------------------------------------ stations
    scenario("station-unknown-builtin", ('name = "Xinglong"', 'name = "Xinlong"'), "stations[0].name",
             "did you mean 'Xinglong'", "Xinlong"),
    scenario("station-near-builtin", ('name = "Xinglong"', 'name = "Urumqi"'), "stations[0].name",
             "Nanshan is the built-in station near Urumqi", "Urumqi"),
    scenario("station-unknown-lists-builtins", ('name = "Xinglong"', 'name = "Atlantis"'), "stations[0].name",
             "built-in: Beijing, Calern,", "Atlantis"),
    scenario("station-duplicate-name", (STATION, STATION + "\n" + STATION), "stations[1].name", "unique names",
             "Xinglong"),
    scenario("station-mask-elevation", (STATION, STATION + "\nhorizon_mask = [[0, 10], [180, 95]]"),
             "stations[0].horizon_mask[1][1]", "< 90", "95"),
    scenario("station-mask-not-pairs", (STATION, STATION + "\nhorizon_mask = [[0, 10, 5]]"),
             "stations[0].horizon_mask[0]", "at most 2 entries", "[0, 10, 5]"),
    scenario("station-mask-not-numbers", (STATION, STATION + '\nhorizon_mask = [["north", 10]]'),
             "stations[0].horizon_mask[0][0]", "a number", "north"),
    scenario("station-aperture", (STATION, STATION + "\naperture_m = 0"), "stations[0].aperture_m", "> 0", "0"),
    scenario("station-clear-sky", (STATION, STATION + "\nclear_sky_probability = 1.5"),
             "stations[0].clear_sky_probability", "<= 1", "1.5"),
    scenario("station-clear-sky-eleven-months",
             (STATION, STATION + "\nclear_sky_probability = [" + ", ".join(["0.5"] * 11) + "]"),
             "stations[0].clear_sky_probability", "at least 12 entries", "[0.5, 0.5"),
    scenario("station-persistence-above-one", (STATION, STATION + "\nclear_sky_persistence = 1.5"),
             "stations[0].clear_sky_persistence", "<= 1", "1.5"),
    scenario("station-persistence-negative", (STATION, STATION + "\nclear_sky_persistence = -0.1"),
             "stations[0].clear_sky_persistence", ">= 0", "-0.1"),
    # ------------------------------------------------------------ the schedule's resources (issue 14)
    scenario("payload-terminals-zero", GOOD + KEY_MODEL.replace('[link]\npreset = "micius"\n',
                                                                 '[link]\npreset = "micius"\nterminals = 0\n'),
             "link.terminals", "an integer from 1 to 100", "0"),
    scenario("payload-terminals-fraction", GOOD + KEY_MODEL.replace('[link]\npreset = "micius"\n',
                                                                     '[link]\npreset = "micius"\nterminals = 1.5\n'),
             "link.terminals", "an integer from 1 to 100", "1.5"),
    scenario("network-retarget-negative", GOOD + "[network]\nretarget_s = -1\n", "network.retarget_s", ">= 0", "-1"),
    scenario("network-terminals-zero", GOOD + "[network]\nsatellite_terminals = 0\n",
             "network.satellite_terminals", ">= 1", "0"),
    # ------------------------------------------------------------ non-finite, absurd and conflicting (issue 18)
    scenario("raan-not-finite", (SATELLITE, ELEMENTS + "\nraan_deg = nan"), "satellites[0].raan_deg",
             "a finite number", "nan"),
    scenario("bstar-not-finite", (SATELLITE, ELEMENTS + "\nbstar = nan"), "satellites[0].bstar",
             "a finite number", "nan"),
    scenario("bstar-absurd", (SATELLITE, ELEMENTS + "\nbstar = 5.0"), "satellites[0].bstar", "<= 1", "5"),
    scenario("mean-anomaly-infinite", (SATELLITE, ELEMENTS + "\nmean_anomaly_deg = inf"),
             "satellites[0].mean_anomaly_deg", "a finite number", "inf"),
    scenario("argp-beyond-a-turn", (SATELLITE, ELEMENTS + "\nargp_deg = 1e6"), "satellites[0].argp_deg",
             "<= 360", "1000000"),
    scenario("mask-azimuth-not-finite", station_with("horizon_mask = [[nan, 10], [180, 20]]"),
             "stations[0].horizon_mask[0][0]", "a finite number", "nan"),
    scenario("mask-azimuth-over-360", station_with("horizon_mask = [[0, 10], [400, 20]]"),
             "stations[0].horizon_mask[1][0]", "<= 360", "400"),
    scenario("telescopes-zero", station_with("telescopes = 0"), "stations[0].telescopes", ">= 1", "0"),
    scenario("seed-negative", GOOD + "[network]\nseed = -1\n", "network.seed", ">= 0", "-1"),
    scenario("seed-5000-digits", GOOD + "[network]\nseed = 1" + "0" * 5000 + "\n", "number",
             "an integer of at most 4,300 digits", "an integer of 5,001 digits"),
    scenario("start-before-sputnik", ("start = 2016-12-19T00:00:00Z", "start = 1900-12-19T00:00:00Z"),
             "scenario.start", "from 1957-10-04 (Sputnik 1) to 2099", "1900-12-19"),
    scenario("start-1800", ("start = 2016-12-19T00:00:00Z", "start = 1800-12-19T00:00:00Z"),
             "scenario.start", "from 1957-10-04", "1800-12-19"),
    scenario("end-2200", ("end = 2016-12-19T06:00:00Z", "end = 2200-12-19T06:00:00Z"),
             "scenario.end", "to 2099", "2200-12-19"),
    scenario("epoch-2200", (SATELLITE, ELEMENTS + "\nepoch = 2200-01-01T00:00:00Z"), "satellites[0].epoch",
             "to 2099", "2200-01-01"),
    scenario("span-far-from-elements", GOOD.replace("2016-12-19T0", "2030-12-19T0"), "scenario.start",
             "within ten years of every element set's epoch", "5,113 days from the epoch of MICIUS"),
    scenario("fibre-key-rate-infinite", GOOD + '[[fibre]]\na = "Xinglong"\nb = "Beijing"\nkey_rate_bps = inf\n',
             "fibre[0].key_rate_bps", "a finite number", "inf"),
    scenario("geo-with-altitude", (SATELLITE, "geo_longitude_deg = 100\naltitude_km = 500"),
             "satellites[0].geo_longitude_deg", "geo_longitude_deg without altitude_km", "altitude_km too"),
    # A slot holds a prograde geosynchronous orbit: up to 90 deg (inclined GSO, BeiDou IGSO at 55).
    scenario("geo-retrograde", (SATELLITE, "geo_longitude_deg = 100\ninclination_deg = 180"),
             "satellites[0].inclination_deg", "inclination_deg <= 90 for a geo_longitude_deg satellite",
             "found 180"),
    scenario("geo-inclination-90.5", (SATELLITE, "geo_longitude_deg = 100\ninclination_deg = 90.5"),
             "satellites[0].inclination_deg", "inclination_deg <= 90 for a geo_longitude_deg satellite",
             "found 90.5"),
    scenario("design-geo-retrograde", ('[[satellites]]\nname = "MICIUS"\n' + SATELLITE,
                                       '[[designs]]\nname = "g"\nfamily = "geo"\nlongitudes_deg = [100.0]\ncount = 1\n'
                                       'inclination_deg = [0, 55, 120]\n[targets]\nmin_key_bits_per_day = 1e5'),
             "designs[0].inclination_deg", "inclination_deg <= 90 for a geo family", "found 120"),
    scenario("ltan-with-inclination", (SATELLITE, 'ltan = "22:30"\naltitude_km = 500\ninclination_deg = 50'),
             "satellites[0].ltan", "without inclination_deg", "inclination_deg too"),
    scenario("tle-with-elements", (SATELLITE, SATELLITE + "\nraan_deg = 10"), "satellites[0].tle",
             "tle without raan_deg", "raan_deg too"),
    scenario("name-10-kb", ('name = "MICIUS"', 'name = "' + "M" * 10000 + '"'), "satellites[0].name",
             "a name of at most 100 characters", "10,000 characters"),
    scenario("name-control-character", ('name = "MICIUS"', 'name = "MI\\u001b[2JCIUS"'), "satellites[0].name",
             "a name without control characters", "U+001B at character 3"),
    scenario("station-name-bidi-override", (STATION, '[[stations]]\nname = "X\\u202eY"\nlatitude_deg = 40\n'
                                                     "longitude_deg = 117"),
             "stations[0].name", "without control characters", "U+202E"),
    scenario("scenario-name-carriage-return", ('name = "t"', 'name = "t\\rmalicious"'), "scenario.name",
             "without control characters", "U+000D"),
    scenario("toml-nested-too-deep", GOOD + "[link]\nx = " + "[" * 100000 + "]" * 100000 + "\n", "nesting",
             "nested at most a few hundred deep", "deeper nesting"),
    # ------------------------------------------------------------ stations: receivers and sites
    # The receiver is the station's (receivers.py presets; a table overrides the built-in one).
    scenario("receiver-unknown-preset", station_with('receiver = "nope"'), "stations[0].receiver.preset",
             "one of daylight-1550, observatory-1m", "nope"),
    scenario("receiver-table-unknown-preset", station_with('receiver = { preset = "observatory-1n" }'),
             "stations[0].receiver.preset", "did you mean 'observatory-1m'", "observatory-1n"),
    scenario("receiver-field-of-view-zero",
             station_with('receiver = { preset = "observatory-1m", field_of_view_urad = 0 }'),
             "stations[0].receiver.field_of_view_urad", "a number in (0, 100000]", "found 0"),
    scenario("receiver-field-of-view-negative", station_with("receiver = { field_of_view_urad = -100 }"),
             "stations[0].receiver.field_of_view_urad", "a number in (0, 100000]", "-100"),
    scenario("receiver-filter-zero", station_with("receiver = { filter_width_nm = 0 }"),
             "stations[0].receiver.filter_width_nm", "a number in (0, 1000]", "found 0"),
    scenario("receiver-filter-negative",
             station_with('receiver = { preset = "telescope-0.6m", filter_width_nm = -0.5 }'),
             "stations[0].receiver.filter_width_nm", "a number in (0, 1000]", "-0.5"),
    scenario("receiver-efficiency-above-one", station_with("receiver = { detector_efficiency = 1.2 }"),
             "stations[0].receiver.detector_efficiency", "a number in (0, 1]", "1.2"),
    scenario("receiver-not-a-name-or-table", station_with("receiver = 5"),
             "stations[0].receiver", "a string or a table", "5"),
    scenario("receiver-wrong-type", station_with('receiver = { dark_count_cps = "low" }'),
             "stations[0].receiver.dark_count_cps", "a finite number", "low"),
    scenario("receiver-band-outside-models", station_with("receiver = { wavelength_max_nm = 1700 }"),
             "stations[0].receiver.wavelength_max_nm", "a wavelength from 500 to 1600 nm", "1700"),
    scenario("receiver-without-preset-incomplete",
             ('[[stations]]\nname = "Xinglong"', '[[stations]]\nname = "My OGS"\nlatitude_deg = 48.1\n'
                                                'longitude_deg = 11.6\nreceiver = { detector_efficiency = 0.6 }'),
             "stations[0].receiver.aperture_m", "required: start from a receiver preset", "nothing"),
    # Only key needs a receiver: `passes` of these files works (test_receiver_inputs.py).
    Case("station-without-receiver-for-key", "key", GOOD.replace('name = "Xinglong"', 'name = "Ngari"') + KEY_MODEL,
         FILE, "stations[0].receiver", 'a receiver to compute key at Ngari (receiver = "observatory-1m"',
         "Ngari has no receiver"),
    scenario("site-zenith-transmittance", station_with("sky = { zenith_transmittance = 1.5 }"),
             "stations[0].sky.zenith_transmittance", "a number in (0, 1]", "1.5"),
    # Physical bounds (receiver_params.py): detectors saturate near 1e7 counts/s, a gate of 100 ns is
    # a 10 MHz source's period, turbulence beyond 100 urad (20 arcsec) is no seeing on Earth.
    scenario("receiver-dark-counts-beyond-saturation", station_with("receiver = { dark_count_cps = 1e10 }"),
             "stations[0].receiver.dark_count_cps", "at most 1e7", "10000000000.0"),
    scenario("receiver-gate-beyond-100-ns", station_with("receiver = { gate_ns = 1e6 }"),
             "stations[0].receiver.gate_ns", "a number in (0, 100]", "1000000.0"),
    scenario("receiver-jitter-beyond-10-ns", station_with("receiver = { timing_jitter_ps = 1e300 }"),
             "stations[0].receiver.timing_jitter_ps", "at most 10000", "1e+300"),
    scenario("site-turbulence-beyond-seeing", station_with("sky = { turbulence = 1e160 }"),
             "stations[0].sky.turbulence", "at most 100 (urad", "1e+160"),
    scenario("site-turbulence-two-names", station_with("sky = { turbulence = 5, turbulence_urad = 5 }"),
             "stations[0].sky.turbulence", "one of turbulence and turbulence_urad", "both"),
    scenario("site-turbulence-misspelt", station_with("sky = { turbulance = 5 }"),
             "stations[0].sky.turbulance", "did you mean 'turbulence'?", "turbulance"),
    scenario("station-aperture-string", station_with('aperture_m = "1"'), "stations[0].aperture_m", "a number", "'1'"),
    scenario("station-aperture-boolean", station_with("aperture_m = true"), "stations[0].aperture_m", "a number",
             "found true"),
    scenario("station-aperture-nan", station_with("aperture_m = nan"), "stations[0].aperture_m", "a finite number",
             "nan"),
    scenario("station-aperture-twice", station_with('aperture_m = 1\nreceiver = { aperture_m = 0.3 }'),
             "stations[0].aperture_m", "the aperture given once", "both (1 and 0.3)"),
    scenario("receiver-field-boolean", station_with("receiver = { aperture_m = true }"),
             "stations[0].receiver.aperture_m", "a finite number", "found true"),
    scenario("receiver-field-table", station_with("receiver = { aperture_m = { a = 1 } }"),
             "stations[0].receiver.aperture_m", "a finite number", "{a = 1}"),
    # The payload's wavelength: inside the atmosphere and sky models (receiver_params.WAVELENGTH_RANGE_NM,
    # 500-1,600 nm) and inside the band of each station's receiver.
    scenario("payload-wavelength-above-models", GOOD + KEY_MODEL.replace("[qkd]", "wavelength_nm = 1700\n[qkd]"),
             "link.wavelength_nm", "a wavelength from 500 to 1600 nm", "1700"),
    scenario("payload-wavelength-below-models", GOOD + KEY_MODEL.replace("[qkd]", "wavelength_nm = 400\n[qkd]"),
             "link.wavelength_nm", "the range of the atmosphere and sky models", "400"),
    Case("payload-wavelength-outside-receiver", "key", GOOD + KEY_MODEL.replace("[qkd]", "wavelength_nm = 1550\n[qkd]"), FILE,
             "stations[0].receiver", "a receiver working at the link wavelength (1550 nm)", "one for 500-1000 nm"),
    # Receiver and site keys that [link]/[qkd] held before: the line says where each lives now.
    scenario("moved-key-in-qkd", GOOD + KEY_MODEL + "detector_efficiency = 0.5\n", "qkd.detector_efficiency",
             "now lives in the station's receiver (stations[].receiver.detector_efficiency)", "detector_efficiency"),
    scenario("moved-key-in-link", GOOD + KEY_MODEL.replace("[qkd]", "rx_aperture_m = 1.0\n[qkd]"),
             "link.rx_aperture_m", "now lives in the station's receiver (stations[].aperture_m", "rx_aperture_m"),
    scenario("moved-site-key-in-link", GOOD + KEY_MODEL.replace("[qkd]", "zenith_transmittance = 0.8\n[qkd]"),
             "link.zenith_transmittance", "now lives in the station's site (stations[].sky.zenith_transmittance)",
             "zenith_transmittance"),
    scenario("moved-background-key-in-qkd", GOOD + KEY_MODEL + "background_cps_night = 500\n",
             "qkd.background_cps_night", "now lives in the sky model", "background_cps_night"),
    scenario("receiver-key-in-link", GOOD + KEY_MODEL.replace("[qkd]", "dark_count_cps = 10\n[qkd]"),
             "link.dark_count_cps", "now lives in the station's receiver (stations[].receiver.dark_count_cps)", "10"),
    scenario("receiver-key-in-qkd", GOOD + KEY_MODEL + "field_of_view_urad = 50\n",
             "qkd.field_of_view_urad", "stations[].receiver.field_of_view_urad", "50"),
    scenario("link-key-in-qkd", GOOD + KEY_MODEL + "pointing_jitter_urad = 1\n",
             "qkd.pointing_jitter_urad", "it belongs in [link]", "pointing_jitter_urad"),
    # ------------------------------------------------------------ TLE files
    Case("tle-bad-checksum", "tle", f"{TLE1[:-1]}4\n{TLE2}\n", FILE, "TLE line 1 column 69 (checksum)",
         "checksum digit 3", "'4'"),
    Case("tle-shifted-columns", "tle", f"{TLE1}\n2 41731 97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 190634\n",
         FILE, "TLE line 2 column 11 (inclination)", "a digit or space in the inclination", "'.'"),
    Case("tle-non-ascii", "tle", f"MICIUS\n{TLE1}\n{put(TLE2, 27, chr(0xB0))}\n", FILE,
         "TLE line 2 of the element set (file line 3) column 27 (character)", "printable ASCII", "U+00B0"),
    Case("tle-3-line-checksum", "tle", f"MICIUS\n{TLE1[:68]}4\n{TLE2}\n", FILE,
         "TLE line 1 of the element set (file line 2) column 69 (checksum)", "checksum digit 3", "'4'"),
    Case("tle-missing-line-2", "tle", f"MICIUS\n{TLE1}\n", FILE, "TLE line 3 column 1 (line number)",
         "TLE line 2", "the text ends first"),
    Case("tle-line-2-first", "tle", f"{TLE2}\n{TLE1}\n", FILE, "TLE line 1 column 1 (line number)",
         "line 1 must come before line 2", "'2'"),
    Case("tle-catalogue-mismatch", "tle", f"{TLE1}\n{with_checksum(put(TLE2, 3, '41732'))}\n", FILE,
         "TLE line 2 column 3 (catalogue number)", "'41731' as on TLE line 1", "'41732'"),
    Case("tle-six-digit-catalogue", "tle", f"{TLE1.replace('41731', '141731')}\n{TLE2.replace('41731', '141731')}\n",
         FILE, "TLE line 1 column 3 (catalogue number)", "Alpha-5", "'141731'"),
    Case("tle-truncated-line", "tle", f"{TLE1}\n{TLE2[:60]}\n", FILE, "TLE line 2 column 61",
         "69 characters", "60"),
    Case("tle-letter-in-number", "tle", f"{TLE1}\n{with_checksum(put(TLE2, 13, 'x'))}\n", FILE,
         "TLE line 2 column 13 (inclination)", "a digit or space", "'x'"),
    Case("tle-inclination-range", "tle", f"{TLE1}\n{with_checksum(put(TLE2, 9, '197.3699'))}\n", FILE,
         "TLE line 2 column 9 (inclination)", "from 0 to 180 degrees", "'197.3699'"),
    Case("tle-empty-file", "tle", "# nothing here\n", FILE, "TLE text", "at least one 2- or 3-line",
         "no TLE lines"),
    # ------------------------------------------------------------ OMM files
    Case("omm-json-missing-key", "omm-json", omm_json(MEAN_MOTION=None), FILE, "object 1 MEAN_MOTION",
         "a value for MEAN_MOTION", "no MEAN_MOTION key"),
    Case("omm-json-bad-value", "omm-json", omm_json(ECCENTRICITY=1.5), FILE, "object 1 ECCENTRICITY",
         "eccentricity 0 <= e < 1", "'1.5'"),
    Case("tle-mean-motion-absurd", "tle", f"{TLE1}\n{with_checksum(put(TLE2, 53, '99.99999999'))}\n", FILE,
         "satellites[0] (tle-mean-motion-absurd.tle) MICIUS", "an orbit with its perigee above 50 km", "perigee -4,431 km"),
    Case("tle-eccentricity-absurd", "tle", f"{TLE1}\n{with_checksum(put(TLE2, 27, '9999999'))}\n", FILE,
         "satellites[0] (tle-eccentricity-absurd.tle) MICIUS", "an orbit with its perigee above 50 km", "e = 0.9999999"),
    Case("omm-json-nested-too-deep", "omm-json", "[" * 100000 + "]" * 100000, FILE, "JSON",
         "an OMM object or a list of them", "nested too deep"),
    Case("omm-json-5000-digit-number", "omm-json", omm_json().replace('"NORAD_CAT_ID": 41731',
                                                                       '"NORAD_CAT_ID": 1' + "0" * 5000), FILE,
         "JSON", "numbers of at most 4,300 digits", "Exceeds the limit"),
    Case("omm-json-syntax", "omm-json", omm_json()[:-3], FILE, "line 1 column", "valid JSON",
         "Expecting value"),
    Case("omm-json-bad-epoch", "omm-json", omm_json(EPOCH="18 Dec 2016"), FILE, "object 1 EPOCH",
         "a UTC date and time", "'18 Dec 2016'"),
    Case("omm-csv-missing-cell", "omm-csv", omm_csv(INCLINATION=None), FILE, "line 2 INCLINATION",
         "a value for INCLINATION", "an empty value"),
    Case("omm-csv-bad-number", "omm-csv", omm_csv(BSTAR="fast"), FILE, "line 2 BSTAR", "a number", "'fast'"),
    Case("omm-csv-catalogue-range", "omm-csv", omm_csv(NORAD_CAT_ID=400000), FILE, "line 2 NORAD_CAT_ID",
         "from 0 to 339999", "400000"),
    Case("omm-xml-missing-key", "omm-xml", omm_xml(MEAN_ANOMALY=None), FILE, "segment 1 MEAN_ANOMALY",
         "a value for MEAN_ANOMALY", "no MEAN_ANOMALY key"),
    Case("omm-xml-bad-value", "omm-xml", omm_xml(INCLINATION=200), FILE, "segment 1 INCLINATION",
         "from 0 to 180 degrees", "'200'"),
    Case("omm-xml-syntax", "omm-xml", omm_xml()[:-20], FILE, "line 1 column", "CCSDS OMM XML",
         "no element found"),
    # ------------------------------------------------------------ key --loss-profile CSV
    Case("profile-negative-loss", "profile", "t_s,loss_db\n0,30\n1,-2\n", FILE, "line 3 loss_db",
         ">= 0 dB", "-2"),
    Case("profile-not-increasing", "profile", "t_s,loss_db\n0,30\n2,30\n1,30\n", FILE, "line 4 t_s",
         "strictly increasing", "1"),
    Case("profile-not-a-number", "profile", "t_s,loss_db\n0,thirty\n", FILE, "line 2 loss_db",
         "a number", "thirty"),
    Case("profile-not-finite", "profile", "t_s,loss_db\n0,inf\n", FILE, "line 2 loss_db",
         "a finite number", "inf"),
    Case("profile-wrong-header", "profile", "time,loss\n0,30\n", FILE, "header", "t_s and loss_db",
         "time,loss"),
    Case("profile-only-header", "profile", "t_s,loss_db\n", FILE, "rows", "at least one", "only a header"),
    Case("profile-missing-cell", "profile", "t_s,loss_db\n0\n", FILE, "line 2 loss_db", "a number",
         "found an empty cell"),
    Case("profile-lines-counted-with-comments", "profile", "# pass of 19 Dec 2016\nt_s,loss_db\n\n0,30\n1,-2\n", FILE,
         "line 5 loss_db", ">= 0 dB", "-2"),
    Case("profile-not-utf8", "profile", b"t_s,loss_db\n0,30\n# \xe9t\xe9\n", FILE, "line 3 column 3",
         "UTF-8", "0xe9"),
    Case("profile-negative-background", "profile", "t_s,loss_db,background_cps\n0,30,10\n1,30,-5\n", FILE,
         "line 3 background_cps", "a rate >= 0", "-5"),
    Case("profile-background-not-a-number", "profile", "t_s,loss_db,background_cps\n0,30,moon\n", FILE,
         "line 2 background_cps", "a number", "moon"),
    Case("profile-background-beyond-saturation", "profile", "t_s,loss_db,background_cps\n0,30,1e12\n", FILE,
         "line 2 background_cps", "at most 1e9 clicks/s", "'1e12'"),
    Case("profile-slot-longer-than-a-day", "profile", "t_s,loss_db\n0,30\n1e300,30\n", FILE,
         "line 3 t_s", "at most 86,400 s after", "'1e300'"),
    Case("profile-unknown-column", "profile", "t_s,loss_db,Background_cps\n0,30,1e6\n", FILE,
         "header column 3", "one of t_s, loss_db, background_cps (did you mean 'background_cps'?)", "Background_cps"),
    Case("profile-repeated-column", "profile", "t_s,loss_db,background_cps,background_cps\n0,30,1,2\n", FILE,
         "header column 4", "each column once", "background_cps"),
    Case("profile-extra-cell", "profile", "t_s,loss_db\n0,30,5\n", FILE, "line 2", "at most 2 cells", "3 cells"),
    Case("profile-time-1e300", "profile", "t_s,loss_db\n1e300,30\n", FILE, "line 2 t_s",
         "a time within 1e+09 s", "1e300"),
    # ------------------------------------------------------------ entanglement ([source], mode on [[links]])
    Case("link-entanglement-to-city", "scenario", GOOD + '[[stations]]\nname = "Graz"\n[[cities]]\nname = "Vienna"\n'
         '[[fibre]]\na = "Vienna"\nb = "Graz"\nkey_rate_bps = 1000\n[source]\npreset = "micius-entanglement"\n'
         '[[links]]\na = "Xinglong"\nb = "Vienna"\nmode = "entanglement"\n', FILE, "links[0].b",
         "a satellite station for mode = 'entanglement'", "'Vienna', a city joined by [[fibre]]"),
    Case("link-entanglement-without-source", "scenario", GOOD + '[[stations]]\nname = "Nanshan"\n'
         '[[links]]\na = "Xinglong"\nb = "Nanshan"\nmode = "entanglement"\n', FILE, "links[0].mode",
         "a [source] table too", "'entanglement' and no [source]"),
    Case("link-unknown-mode", "scenario", GOOD + '[[stations]]\nname = "Nanshan"\n'
         '[[links]]\na = "Xinglong"\nb = "Nanshan"\nmode = "teleport"\n', FILE, "links[0].mode",
         "'relay', 'entanglement' or 'both'", "teleport"),
    Case("source-visibility-above-one", "scenario", GOOD + '[source]\npreset = "micius-entanglement"\n'
         'visibility = 1.2\n', FILE, "source.visibility", "a number in (0, 1]", "1.2"),
    Case("source-window-zero", "scenario", GOOD + '[source]\npreset = "micius-entanglement"\n'
         'coincidence_window_ns = 0\n', FILE, "source.coincidence_window_ns", "a number in (0, 100]", "0"),
    Case("source-unknown-preset", "scenario", GOOD + '[source]\npreset = "micius-entangled"\n', FILE,
         "source.preset", "did you mean 'micius-entanglement'", "micius-entangled"),
    Case("network-retarget-text", "scenario", GOOD + '[network]\nretarget_s = "60"\n', FILE, "network.retarget_s",
         "a number", "60"),
    Case("network-terminals-boolean", "scenario", GOOD + '[network]\nsatellite_terminals = true\n', FILE,
         "network.satellite_terminals", "an integer", "true"),
    Case("link-listed-twice", "scenario", GOOD + '[[stations]]\nname = "Nanshan"\n[[links]]\na = "Xinglong"\n'
         'b = "Nanshan"\n[[links]]\na = "Nanshan"\nb = "Xinglong"\n', FILE, "links[1]",
         "a station pair listed once (links[0] joins", "Nanshan-Xinglong again"),
    Case("satellite-source-post-processing", "scenario", GOOD.replace(SATELLITE, SATELLITE + '\nsource = {'
         ' epsilon_secret = 1e-3 }') + '[source]\npreset = "micius-entanglement"\n', FILE,
         "satellites[0].source.epsilon_secret", "the key's post-processing in [source]", "0.001"),
    Case("source-error-correction-above-two", "scenario", GOOD + '[source]\npreset = "micius-entanglement"\n'
         'error_correction_efficiency = 1e308\n', FILE, "source.error_correction_efficiency", "a number from 1 to 2",
         "1e+308"),
    Case("entanglement-no-satellite-source", "scenario", GOOD.replace(SATELLITE, SATELLITE + '\nsource = false') +
         '[[stations]]\nname = "Nanshan"\n[source]\npreset = "micius-entanglement"\n[[links]]\na = "Xinglong"\n'
         'b = "Nanshan"\nmode = "entanglement"\n', FILE, "links[0].mode",
         "a satellite carrying an entangled-photon source", "entanglement"),
    Case("source-divergence-below-diffraction", "scenario", GOOD + '[source]\npreset = "micius-entanglement"\n'
         'beam_divergence_urad = 0.001\n', FILE, "source.beam_divergence_urad",
         "the diffraction limit of the 0.18 m aperture at 810 nm (2.86 urad)", "0.001"),
    Case("source-missing-pair-rate", "scenario", GOOD + '[source]\nwavelength_nm = 810\nvisibility = 0.95\n'
         'coincidence_window_ns = 1\n', FILE, "source.pair_rate_hz", "a number (required", "nothing"),
    # ------------------------------------------------------------ key --qkd TOML
    Case("qkd-probabilities-sum", "qkd", qkd_file("probabilities = [0.5, 0.3, 0.3]\n"), FILE,
         "qkd.probabilities", "sum", "0.3"),
    Case("qkd-intensities-order", "qkd", qkd_file("intensities = [0.1, 0.8, 0.0]\n"), FILE,
         "qkd.intensities", "signal > decoy + vacuum", "0.8"),
    Case("qkd-unknown-preset", "qkd", '[qkd]\npreset = "micus"\n\n' + RECEIVER_TABLE, FILE, "qkd.preset",
         "did you mean 'micius'", "micus"),
    Case("qkd-unknown-key", "qkd", qkd_file("sourcerate_hz = 1e8\n"), FILE, "qkd.sourcerate_hz",
         "did you mean 'source_rate_hz'", "sourcerate_hz"),
    Case("qkd-wrong-type", "qkd", qkd_file('source_rate_hz = "fast"\n'), FILE,
         "qkd.source_rate_hz", "a number", "fast"),
    Case("qkd-out-of-range", "qkd", qkd_file("intrinsic_qber = 0.6\n"), FILE,
         "qkd.intrinsic_qber", "a probability in [0, 0.5)", "0.6"),
    # In a --qkd file the receiver is the file's own [receiver] table: the line names the
    # receiver field (receiver.<field>) the key became.
    Case("qkd-moved-key", "qkd", qkd_file("detector_efficiency = 0.5\n"), FILE, "qkd.detector_efficiency",
         "the [receiver] table (receiver.detector_efficiency)", "0.5"),
    Case("qkd-moved-gate", "qkd", qkd_file("gate_width_s = 2e-9\n"), FILE, "qkd.gate_width_s",
         "the [receiver] table (receiver.gate_ns)", "2e-09"),
    Case("qkd-misspelt-moved-key", "qkd", qkd_file("detector_eficiency = 0.5\n"), FILE, "qkd.detector_eficiency",
         "did you mean 'detector_efficiency'? it now lives in the [receiver] table", "detector_eficiency"),
    Case("qkd-unknown-table", "qkd", qkd_file() + "\n[reciever]\ndetector_efficiency = 0.9\n", FILE, "reciever",
         "only a [qkd] and a [receiver] table (did you mean 'receiver'?)", "unknown table 'reciever'"),
    Case("qkd-no-table", "qkd", 'preset = "micius"\n', FILE, "qkd", "a [qkd] table", "none"),
    Case("qkd-no-receiver-table", "qkd", qkd_file(receiver=None), FILE, "receiver",
         'a [receiver] table (e.g. preset = "observatory-1m")', "none"),
    Case("qkd-receiver-unknown-preset", "qkd", QKD_TABLE + '\n[receiver]\npreset = "nope"\n', FILE,
         "receiver.preset", "one of daylight-1550, observatory-1m", "nope"),
    Case("qkd-receiver-field-of-view-zero", "qkd", qkd_file(receiver="field_of_view_urad = 0\n"), FILE,
         "receiver.field_of_view_urad", "a number in (0, 100000]", "found 0"),
    Case("qkd-receiver-filter-negative", "qkd", qkd_file(receiver="filter_width_nm = -1\n"), FILE,
         "receiver.filter_width_nm", "a number in (0, 1000]", "-1"),
    Case("qkd-receiver-efficiency-above-one", "qkd", qkd_file(receiver="detector_efficiency = 1.5\n"), FILE,
         "receiver.detector_efficiency", "a number in (0, 1]", "1.5"),
    Case("qkd-receiver-wrong-type", "qkd", qkd_file(receiver='detector_efficiency = "high"\n'), FILE,
         "receiver.detector_efficiency", "a finite number", "high"),
    Case("qkd-receiver-band-outside-models", "qkd", qkd_file(receiver="wavelength_min_nm = 400\n"), FILE,
         "receiver.wavelength_min_nm", "a wavelength from 500 to 1600 nm", "400"),
    Case("qkd-receiver-unknown-key", "qkd", qkd_file(receiver="field_of_view_rad = 1e-4\n"), FILE,
         "receiver.field_of_view_rad", "did you mean 'field_of_view_urad'", "field_of_view_rad"),
    # The loss profile holds the channel: the atmosphere, the aperture and the sky's clicks are in it.
    Case("qkd-atmosphere-key", "qkd", qkd_file("zenith_transmittance = 0.5\n"), FILE, "qkd.zenith_transmittance",
         "the loss profile's loss_db includes the atmosphere", "0.5"),
    Case("qkd-background-key", "qkd", qkd_file("background_cps_day = 5\n"), FILE, "qkd.background_cps_day",
         "the loss profile's background_cps column", "5"),
    Case("qkd-aperture-key", "qkd", qkd_file("aperture_m = 0.5\n"), FILE, "qkd.aperture_m",
         "loss_db includes the receiver's aperture", "0.5"),
    Case("qkd-receiver-inside-qkd", "qkd", qkd_file('receiver = "observatory-1m"\n', receiver=None), FILE,
         "qkd.receiver", "a [receiver] table of its own", "observatory-1m"),
    Case("qkd-receiver-band", "qkd", QKD_TABLE + '\n[receiver]\npreset = "daylight-1550"\n', FILE, "receiver",
         "a receiver working at the payload's wavelength (848.62 nm", "one for 1000-1600 nm"),
    Case("qkd-syntax", "qkd", "[qkd\npreset = 1\n", FILE, "line 1 column", "valid TOML", "Expected"),
    # ------------------------------------------------------------ command-line arguments
    Case("cli-missing-scenario", "cli", ["passes", "{tmp}/nowhere.toml"], "nowhere.toml", "file",
         "a readable scenario file", "No such file"),
    Case("cli-scenario-is-a-folder", "cli", ["passes", "{tmp}"], "constellation passes", "[SCENARIO]",
         "Invalid value", "is a directory"),
    Case("cli-bad-format", "cli", ["passes", "{good}", "--format", "xml"], "constellation passes", "--format",
         "'csv', 'json'", "'xml'"),
    Case("cli-unknown-plot-kind", "cli", ["plot", "map", "{good}"], "constellation plot",
         "KIND", "one of 'tracks', 'sky'", "'map'"),
    Case("cli-unknown-export-kind", "cli", ["export", "kml", "{good}"], "constellation export",
         "KIND", "one of 'geojson', 'footprints', 'czml'", "'kml'"),
    Case("cli-grid-out-of-range", "cli", ["coverage", "{good}", "--grid-deg", "0"], "constellation coverage",
         "--grid-deg", "0.1<=x<=30.0", "0"),
    Case("cli-k-not-integer", "cli", ["coverage", "{good}", "-k", "two"], "constellation coverage", "-k",
         "integer", "'two'"),
    Case("cli-unknown-option", "cli", ["passes", "{good}", "--colour"], "constellation passes", "--colour",
         "No such option", "--colour"),
    Case("cli-unknown-command", "cli", ["pases", "{good}"], "constellation", "command", "No such command",
         "'pases'"),
    Case("cli-profile-without-qkd", "cli", ["key", "--loss-profile", "{tmp}/p.csv"], "constellation key",
         "--loss-profile", "with --qkd", "--loss-profile without --qkd"),
    Case("cli-missing-loss-profile", "cli", ["key", "--loss-profile", "{tmp}/none.csv", "--qkd", "{qkd}"],
         "none.csv", "file", "a readable UTF-8 CSV file", "No such file"),
    Case("cli-plot-dual-no-window", "cli", ["plot", "dual", "{far}", "-o", "{tmp}/dual.png"], "far-pair.toml", "links",
         "a dual-downlink window", "none in the scenario's span"),
    Case("cli-plot-dual-window-out-of-range", "cli", ["plot", "dual", str(ENTANGLEMENT), "--window", "99", "-o",
                                                      "{tmp}/dual.png"], "micius-2018-entanglement.toml", "window",
         "a dual window number in 0..12", "99"),
    Case("cli-network-without-links", "cli", ["network", "{good}"], "good.toml", "links",
         "at least one [[links]]", "none"),
    # Files that are not regular files, and outputs that cannot be written (issue 18).
    Case("cli-scenario-is-dev-zero", "cli", ["passes", "/dev/zero"], "/dev/zero", "file",
         "a readable scenario file (a regular file)", "a special file"),
    Case("cli-loss-profile-is-dev-zero", "cli", ["key", "--loss-profile", "/dev/zero", "--qkd", "{qkd}"],
         "/dev/zero", "file", "(a regular file)", "a special file"),
    Case("cli-plot-bad-extension", "cli", ["plot", "tracks", "{good}", "-o", "{tmp}/x.xyz"], "x.xyz", "-o",
         "an image file name ending in .png, .svg or .pdf", "'.xyz'"),
    Case("cli-output-empty", "cli", ["passes", "{good}", "-o", ""], "-o", "output", "a file name", "''"),
    Case("cli-output-under-a-file", "cli", ["run", "{good}", "--no-plots", "-o", "{good}/sub"], "good.toml/sub",
         "output", "a file this user can write", "Not a directory"),
    Case("cli-output-is-a-folder", "cli", ["passes", "{good}", "-o", "/"], "/", "output",
         "a file name (this is a folder)", "a folder"),
    Case("cli-output-device-full", "cli", ["passes", "{good}", "-o", "/dev/full"], "/dev/full", "output",
         "a file this user can write, in a folder with space", "No space left on device"),
]

KINDS = {*EXTENSION, "cli"}
# Messages that say what was found inside 'expected' rather than as ", found ...": the wording of
# a TLE cut short is pinned by tests/test_tle.py (test_missing_line_1_and_lonely_names).
NO_FOUND_CLAUSE = {"tle-missing-line-2"}


def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def arguments(case: Case, tmp: Path) -> list[str]:
    """Write the case's files into ``tmp``; return the command line that reads them."""
    good = _write(tmp / "good.toml", GOOD)
    profile = _write(tmp / "channel-ok.csv", GOOD_PROFILE)
    qkd = _write(tmp / "protocol-ok.toml", GOOD_QKD)
    far = _write(tmp / "far-pair.toml", FAR_PAIR)
    bad = tmp / case.filename
    if case.kind in ("scenario", "key", "network"):
        if isinstance(case.content, tuple):
            old, new = case.content
            assert old in GOOD, "a scenario case must edit the good scenario"
            content = GOOD.replace(old, new, 1)
        else:
            content = case.content
        return [{"scenario": "passes", "network": "network"}.get(case.kind, "key"), str(_write(bad, content))]
    if case.kind == "profile":
        return ["key", "--loss-profile", str(_write(bad, case.content)), "--qkd", str(qkd)]
    if case.kind == "qkd":
        return ["key", "--loss-profile", str(profile), "--qkd", str(_write(bad, case.content))]
    if case.kind != "cli":  # an element-set file read through a scenario
        _write(bad, case.content)
        key = "tle_file" if case.kind == "tle" else "omm_file"
        return ["passes", str(_write(tmp / "uses-it.toml", GOOD.replace(SATELLITE, f'{key} = "{bad.name}"')))]
    assert case.kind == "cli"
    return [a.format(good=good, qkd=qkd, tmp=tmp, far=far) for a in case.content]


def run_case(case: Case, tmp: Path, capsys) -> tuple[int, str, str]:
    code = main(arguments(case, tmp))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_bad_input_is_one_line_naming_file_field_expected_found(case, tmp_path, capsys):
    code, out, err = run_case(case, tmp_path, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err)
    assert len(lines) == 1 and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    message = lines[0]
    assert message.startswith("error"), message
    for part in (case.filename, case.field, case.expected, case.found or ""):
        assert part in message, f"{part!r} not in {message!r}"
    if case.kind != "cli" and case.id not in NO_FOUND_CLAUSE:
        assert "expected " in message and ", found " in message, message


def test_catalogue_is_large_and_ids_are_distinct():
    ids = [c.id for c in CATALOGUE]
    assert len(set(ids)) == len(ids) >= 100
    assert {c.kind for c in CATALOGUE} == KINDS


# ------------------------------------------------------------ inputs that look odd but are fine

def test_alpha5_catalogue_number_is_accepted(tmp_path, capsys):
    line1 = with_checksum(put(ISS1, 3, "A0001"))
    line2 = with_checksum(put(ISS2, 3, "A0001"))
    (tmp_path / "sats.tle").write_text(f"ALPHA\n{line1}\n{line2}\n")
    path = tmp_path / "alpha5.toml"
    path.write_text(GOOD.replace(f'name = "MICIUS"\n{SATELLITE}', 'tle_file = "sats.tle"')
                    .replace("2016-12-19T00", "2008-09-20T00").replace("2016-12-19T06", "2008-09-22T00"))
    assert main(["passes", str(path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    rows = json.loads(captured.out)
    assert rows and {row["satellite"] for row in rows} == {"ALPHA"}
    assert read_tle_file(tmp_path / "sats.tle")[0].satrec.satnum == 100001  # A0001 = 10 * 10000 + 1


def test_good_inputs_of_the_catalogue_run(tmp_path, capsys):
    assert main(["passes", str(_write(tmp_path / "good.toml", GOOD))]) == 0
    assert main(["key", "--loss-profile", str(_write(tmp_path / "p.csv", GOOD_PROFILE)),
                 "--qkd", str(_write(tmp_path / "q.toml", GOOD_QKD))]) == 0
    bom = b"\xef\xbb\xbf"  # a byte-order mark, as some Windows editors write it
    assert main(["passes", str(_write(tmp_path / "bom.toml", bom + GOOD.encode()))]) == 0
    assert main(["key", "--loss-profile", str(_write(tmp_path / "bom.csv", bom + GOOD_PROFILE.encode())),
                 "--qkd", str(_write(tmp_path / "bom-q.toml", bom + GOOD_QKD.encode()))]) == 0
    for kind, text in (("json", omm_json()), ("csv", omm_csv()), ("xml", omm_xml())):
        _write(tmp_path / f"sats.{kind}", text)
        path = _write(tmp_path / f"omm-{kind}.toml", GOOD.replace(SATELLITE, f'omm_file = "sats.{kind}"'))
        assert main(["passes", str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
