"""CelesTrak / CCSDS OMM files (JSON, CSV or XML) -> ``sgp4.api.Satrec``, strictly checked.

Every required key must be present and in its physical range; a problem is one line naming
the file, the record and the key.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from sgp4 import omm
from sgp4.api import Satrec

from ..errors import Described, InputError
from .tle import _ANGLE, _ECCENTRICITY, _INCLINATION, _MEAN_MOTION, ElementSet, _Range, _read_text

_OMM_NUMBERS = {  # required key -> limits (None: any finite number)
    "MEAN_MOTION": _MEAN_MOTION,
    "ECCENTRICITY": _ECCENTRICITY,
    "INCLINATION": _INCLINATION,
    "RA_OF_ASC_NODE": _ANGLE,
    "ARG_OF_PERICENTER": _ANGLE,
    "MEAN_ANOMALY": _ANGLE,
    "BSTAR": None,
}
# Optional keys: SGP4 ignores the mean motion derivatives, the rest is bookkeeping.
_OMM_DEFAULTS = {"MEAN_MOTION_DOT": "0", "MEAN_MOTION_DDOT": "0", "CLASSIFICATION_TYPE": "U",
                 "OBJECT_ID": "", "EPHEMERIS_TYPE": "0", "ELEMENT_SET_NO": "999", "REV_AT_EPOCH": "0"}
# Integer bookkeeping keys and their largest values (the TLE columns they come from).
_OMM_INTEGER_LIMITS = {"EPHEMERIS_TYPE": 9, "ELEMENT_SET_NO": 9999, "REV_AT_EPOCH": 99999}
_MAX_SATNUM = 339999  # largest catalogue number sgp4 stores (Alpha-5 'Z9999')
_EPOCH_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d(?:\.\d*)?)Z?")


def read_omm_file(path, format: str | None = None) -> list[ElementSet]:
    """Element sets from a CelesTrak/Space-Track OMM file: JSON, CSV or XML.

    JSON holds one object or a list of objects; CSV has a header row of OMM keys; XML is
    CCSDS OMM (``<segment>`` elements). Required keys: ``NORAD_CAT_ID``, ``EPOCH``
    (``YYYY-MM-DDTHH:MM:SS[.ffffff]`` UTC), ``MEAN_MOTION`` (rev/day), ``ECCENTRICITY``,
    ``INCLINATION``, ``RA_OF_ASC_NODE``, ``ARG_OF_PERICENTER``, ``MEAN_ANOMALY`` (deg) and
    ``BSTAR`` (1/earth radii). ``MEAN_MOTION_DOT``/``DDOT`` (unused by SGP4) default to 0.

    Parameters
    ----------
    path : str or os.PathLike
        The OMM file.
    format : {"json", "csv", "xml"}, optional
        Default: from the file suffix, else from the first character ('[' or '{' JSON,
        '<' XML, otherwise CSV).

    Returns
    -------
    list of ElementSet
        In file order; ``source`` is ``"<path>:object N"``, ``"<path>:<line>"`` (CSV) or
        ``"<path>:segment N"``.

    Raises
    ------
    InputError
        Naming the record and the OMM key that is missing or wrong.
    """
    path = Path(path)
    text = _read_text(path, "OMM")
    kind = (format or path.suffix.lstrip(".") or _sniff(text)).lower()
    if kind not in ("json", "csv", "xml"):
        kind = _sniff(text)
    records = {"json": _json_records, "csv": _csv_records, "xml": _xml_records}[kind](text, path)
    sets = [_omm_element_set(record, path, where) for where, record in records]
    if not sets:
        raise InputError(path, "OMM file", "at least one OMM record", "none")
    return sets


def _sniff(text: str) -> str:
    start = text.lstrip()[:1]
    return "json" if start in ("[", "{") else "xml" if start == "<" else "csv"


def _json_records(text: str, path: Path):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"line {exc.lineno} column {exc.colno}", "valid JSON", exc.msg) from None
    except RecursionError:  # [[[[...]]]] nested past the interpreter's stack
        raise InputError(path, "JSON", "an OMM object or a list of them (nested a few levels deep)",
                         Described("arrays or objects nested too deep to read")) from None
    except ValueError as exc:  # an integer beyond Python's 4,300-digit limit
        raise InputError(path, "JSON", "numbers of at most 4,300 digits", Described(str(exc).split(":")[0])) from None
    data = [data] if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise InputError(path, "JSON", "an OMM object or a list of them", type(data).__name__)
    return [(f"object {i}", record) for i, record in enumerate(data, start=1)]


def _csv_records(text: str, path: Path):
    reader = omm.parse_csv(io.StringIO(text))
    try:
        return [(f"line {reader.line_num}", row) for row in reader]
    except csv.Error as exc:
        raise InputError(path, f"line {reader.line_num + 1}", "CSV rows of OMM values", Described(str(exc))) from None


def _xml_records(text: str, path: Path):
    try:
        return [(f"segment {i}", fields)
                for i, fields in enumerate(omm.parse_xml(io.StringIO(text)), start=1)]
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(path, f"line {line} column {column + 1}", "well-formed CCSDS OMM XML",
                         Described(str(exc).rsplit(": line ", 1)[0])) from None
    except (AttributeError, TypeError, KeyError) as exc:
        raise InputError(path, "XML", "CCSDS OMM XML: <segment> elements with <meanElements> and <tleParameters>",
                         Described(f"{type(exc).__name__}: {exc}")) from None


def _omm_element_set(record, path: Path, where: str) -> ElementSet:
    if not isinstance(record, dict):
        raise InputError(path, where, "an OMM object of KEY: value pairs", type(record).__name__)
    fields = {key: _omm_value(record, key, path, where) for key in (*_OMM_NUMBERS, "NORAD_CAT_ID", "EPOCH")}
    for key, limits in _OMM_NUMBERS.items():
        _omm_number(fields[key], limits, path, f"{where} {key}")
    satnum = _omm_integer(fields["NORAD_CAT_ID"], path, f"{where} NORAD_CAT_ID")
    if not 0 <= satnum <= _MAX_SATNUM:
        raise InputError(path, f"{where} NORAD_CAT_ID", f"a catalogue number from 0 to {_MAX_SATNUM} "
                         "(the largest sgp4 stores)", satnum)
    fields["NORAD_CAT_ID"] = str(satnum)
    fields["EPOCH"] = _omm_epoch(fields["EPOCH"], path, f"{where} EPOCH")
    for key, default in _OMM_DEFAULTS.items():
        value = record.get(key)
        fields[key] = default if value is None or str(value).strip() == "" else str(value).strip()
    for key, top in _OMM_INTEGER_LIMITS.items():
        value = _omm_integer(fields[key], path, f"{where} {key}")
        if not 0 <= value <= top:
            raise InputError(path, f"{where} {key}", f"a whole number from 0 to {top}", fields[key])
        fields[key] = str(value)
    if fields["CLASSIFICATION_TYPE"] not in ("U", "C", "S"):
        raise InputError(path, f"{where} CLASSIFICATION_TYPE", "U, C or S", fields["CLASSIFICATION_TYPE"])
    for key in ("MEAN_MOTION_DOT", "MEAN_MOTION_DDOT"):
        _omm_number(fields[key], None, path, f"{where} {key}")
    satrec = Satrec()
    omm.initialize(satrec, fields)
    name = str(record.get("OBJECT_NAME") or "").strip() or f"NORAD {satnum}"
    label = where.removeprefix("line ")
    return ElementSet(name, satrec, satrec.jdsatepoch + satrec.jdsatepochF, f"{path}:{label}")


def _omm_value(record: dict, key: str, path: Path, where: str) -> str:
    value = record.get(key)
    if value is None or str(value).strip() == "":
        found = "an empty value" if key in record else f"no {key} key"
        raise InputError(path, f"{where} {key}", f"a value for {key}, a required OMM key", Described(found))
    return str(value).strip()


def _omm_number(text: str, limits: _Range | None, path: Path, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(path, field, "a number", repr(text))
    if limits is not None and not limits.holds(value):
        raise InputError(path, field, limits.text, repr(text))
    return value


def _omm_integer(text: str, path: Path, field: str) -> int:
    value = _omm_number(text, None, path, field)
    if value != int(value):
        raise InputError(path, field, "a whole number", repr(text))
    return int(value)


def _omm_epoch(text: str, path: Path, field: str) -> str:
    """Normalise an OMM epoch to the ``%Y-%m-%dT%H:%M:%S.%f`` form sgp4.omm reads (microseconds)."""
    match = _EPOCH_RE.fullmatch(text)
    try:
        if not match:
            raise ValueError
        year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
        if not 1957 <= year <= 2100:  # SGP4's era (and what sgp4.omm's strptime reads)
            raise ValueError
        moment = dt.datetime(year, month, day, hour, minute)
        moment += dt.timedelta(seconds=round(float(match.group(6)), 6))
    except ValueError:
        raise InputError(path, field, "a UTC date and time from 1957 to 2100 like 2016-12-18T21:38:11.330592",
                         repr(text)) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
