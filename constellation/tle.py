"""Two-line element sets and CelesTrak OMM files -> ``sgp4.api.Satrec``, strictly checked.

python-sgp4 accepts some malformed lines silently; here every line is checked first
(length, line number, checksum, numeric columns, catalogue agreement) and a problem is
reported as "TLE line N column C" with the expected column template.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sgp4.api import Satrec

from .errors import InputError

LINE1_TEMPLATE = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
LINE2_TEMPLATE = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"

# (first column, last column) 1-based inclusive, what the field holds
_LINE1_NUMERIC = [((19, 20), "epoch year"), ((21, 32), "epoch day"), ((34, 43), "mean motion derivative")]
_LINE2_NUMERIC = [((9, 16), "inclination"), ((18, 25), "right ascension of the node"),
                  ((27, 33), "eccentricity"), ((35, 42), "argument of perigee"),
                  ((44, 51), "mean anomaly"), ((53, 63), "mean motion")]


@dataclass(frozen=True)
class ElementSet:
    """One satellite's elements: its name, the Satrec and where it came from."""

    name: str
    satrec: Satrec
    epoch_jd: float
    source: str


def tle_checksum(line: str) -> int:
    """Sum of the digits of columns 1-68, each '-' counting 1, modulo 10."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def _fail(source, number, column, expected, found, template):
    where = f"TLE line {number} column {column}"
    raise InputError(source, where, f"{expected} (format: {template})", found)


def _check_line(line: str, kind: int, source: str, number: int) -> str:
    template = LINE1_TEMPLATE if kind == 1 else LINE2_TEMPLATE
    line = line.rstrip("\r\n").rstrip()
    for col, char in enumerate(line, start=1):
        if not (32 <= ord(char) < 127):
            _fail(source, number, col, "plain ASCII", char, template)
    if not line.startswith(f"{kind} "):
        _fail(source, number, 1, f"line number '{kind}' followed by a space", line[:2], template)
    if len(line) != 69:
        _fail(source, number, min(len(line), 69) + (len(line) < 69), "69 characters", f"{len(line)} characters", template)
    expected = tle_checksum(line)
    if not line[68].isdigit() or int(line[68]) != expected:
        _fail(source, number, 69, f"checksum digit {expected}", line[68], template)
    numeric = _LINE1_NUMERIC if kind == 1 else _LINE2_NUMERIC
    for (a, b), what in numeric:
        text = line[a - 1:b].strip()
        try:
            float(text if kind == 1 or what != "eccentricity" else "0." + text)
        except ValueError:
            _fail(source, number, a, f"a number ({what}) in columns {a}-{b}", line[a - 1:b], template)
    return line


def parse_tle_lines(line1: str, line2: str, name: str | None = None, source: str = "inline",
                    first_line_number: int = 1) -> ElementSet:
    """Check a TLE pair and build its Satrec. Raises InputError pointing at line and column."""
    l1 = _check_line(line1, 1, source, first_line_number)
    l2 = _check_line(line2, 2, source, first_line_number + 1)
    if l1[2:7] != l2[2:7]:
        _fail(source, first_line_number + 1, 3, f"the catalogue number of line 1 ({l1[2:7]})", l2[2:7], LINE2_TEMPLATE)
    sat = Satrec.twoline2rv(l1, l2)
    if not 0.0 <= sat.ecco < 1.0:
        _fail(source, first_line_number + 1, 27, "an eccentricity in [0, 1)", l2[26:33], LINE2_TEMPLATE)
    if sat.no_kozai <= 0.0:
        _fail(source, first_line_number + 1, 53, "a positive mean motion", l2[52:63], LINE2_TEMPLATE)
    label = (name or "").strip() or f"NORAD {l1[2:7].strip()}"
    if label.startswith("0 "):
        label = label[2:].strip()
    return ElementSet(label, sat, sat.jdsatepoch + sat.jdsatepochF, f"{source}:{first_line_number}")


def parse_tle_text(text: str, source: str) -> list[ElementSet]:
    """All element sets in 2- or 3-line format; blank lines and '#' comments are skipped."""
    lines = [(n, raw.rstrip("\r\n")) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, s) for n, s in lines if s.strip() and not s.lstrip().startswith("#")]
    out: list[ElementSet] = []
    k = 0
    while k < len(lines):
        number, line = lines[k]
        name = None
        if not line.startswith("1 "):
            if line.startswith("2 "):
                _fail(source, number, 1, "line 1 before line 2", line[:2], LINE1_TEMPLATE)
            name, k = line.strip(), k + 1
            if k >= len(lines):
                _fail(source, number + 1, 1, f"line 1 of {name!r}", "end of file", LINE1_TEMPLATE)
            number, line = lines[k]
        if k + 1 >= len(lines):
            _fail(source, number + 1, 1, "line 2", "end of file", LINE2_TEMPLATE)
        number2, line2 = lines[k + 1]
        if not line2.startswith("2"):
            _fail(source, number2, 1, "line 2", line2[:20], LINE2_TEMPLATE)
        out.append(parse_tle_lines(line, line2, name=name, source=source, first_line_number=number))
        k += 2
    if not out:
        raise InputError(source, "TLE file", "at least one element set", "none")
    return out


def read_tle_file(path) -> list[ElementSet]:
    """Element sets from a 2- or 3-line TLE file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("ascii")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(path, f"TLE line {line}", "plain ASCII text", f"byte 0x{path.read_bytes()[exc.start]:02x}") from None
    except OSError as exc:
        raise InputError(path, "file", "a readable TLE file", exc.strerror) from None
    return parse_tle_text(text, str(path))


_OMM_REQUIRED = ["EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                 "ARG_OF_PERICENTER", "MEAN_ANOMALY", "NORAD_CAT_ID", "BSTAR"]


def read_omm_file(path) -> list[ElementSet]:
    """Element sets from a CelesTrak OMM file (JSON list/object or CSV with a header)."""
    from sgp4 import omm

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, "file", "a readable UTF-8 OMM file", str(exc)) from None
    if text.lstrip().startswith(("[", "{")):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"line {exc.lineno} column {exc.colno}", "valid JSON", exc.msg) from None
        records = [records] if isinstance(records, dict) else records
    else:
        records = list(csv.DictReader(text.splitlines()))
    out = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(path, f"record {index + 1}", "an OMM object", type(record).__name__)
        for key in _OMM_REQUIRED:
            if record.get(key) in (None, ""):
                raise InputError(path, f"record {index + 1} {key}", "a value (required OMM field)", "nothing")
        record = {k: str(v) for k, v in record.items()}
        record.setdefault("MEAN_MOTION_DOT", "0")
        record.setdefault("MEAN_MOTION_DDOT", "0")
        record.setdefault("CLASSIFICATION_TYPE", "U")
        record.setdefault("ELEMENT_SET_NO", "999")
        record.setdefault("REV_AT_EPOCH", "0")
        record.setdefault("OBJECT_ID", "")
        sat = Satrec()
        try:
            omm.initialize(sat, record)
        except (ValueError, KeyError) as exc:
            raise InputError(path, f"record {index + 1}", "valid OMM values", str(exc)) from None
        name = record.get("OBJECT_NAME") or f"NORAD {record['NORAD_CAT_ID']}"
        out.append(ElementSet(name, sat, sat.jdsatepoch + sat.jdsatepochF, f"{path}:{index + 1}"))
    if not out:
        raise InputError(path, "OMM file", "at least one record", "none")
    return out
