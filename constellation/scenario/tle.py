"""Two-line element sets and CelesTrak OMM files -> ``sgp4.api.Satrec``, strictly checked.

python-sgp4 reads a TLE by slicing fixed columns and accepts some garbage silently (a
letter inside a number, a wrong checksum). Here every line is checked first, column by
column against the standard template, and a problem is reported in one line as
``"<source>: TLE line N column C (<field>): expected <form>, found <text>"``, where N is
the line of the element set (1 or 2) and C the 1-based column; where the line's place in
the file differs (a 3-line set, a second set) it is named too: ``TLE line 1 of the element
set (file line 2) column 69 (checksum)``. Errors about the order of lines name file lines.

Column layout (NORAD two-line element format, as in python-sgp4's ``io.py``)::

    1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN
    2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN

Examples
--------
>>> sat = parse_tle_lines(
...     "1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993",
...     "2 41731  97.3699 267.4500 0013200 178.5836 246.0824 15.23915303 19063",
...     name="MICIUS")
>>> sat.name, sat.source, round(sat.epoch_jd, 8)
('MICIUS', 'inline:1', 2457741.40152003)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from sgp4.api import Satrec

from ..errors import InputError, read_input

LINE1_TEMPLATE = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
LINE2_TEMPLATE = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"
TLE_LINE_LENGTH = 69


@dataclass(frozen=True)
class ElementSet:
    """One satellite's mean elements, ready for SGP4.

    Attributes
    ----------
    name : str
        Satellite name: the name line of a 3-line set, the OMM ``OBJECT_NAME``, else
        ``"NORAD <catalogue number>"``.
    satrec : sgp4.api.Satrec
        Initialised SGP4 record (WGS-72 constants, improved mode).
    epoch_jd : float
        Epoch of the elements as a UTC Julian date (days).
    source : str
        Where the set came from, e.g. ``"file.tle:3"`` (file and line of TLE line 1).
    """

    name: str
    satrec: Satrec
    epoch_jd: float
    source: str


# ---------------------------------------------------------------- TLE fields and limits

@dataclass(frozen=True)
class _Range:
    """Physical limits of a value, with the words used in the error message."""

    low: float
    high: float
    text: str
    high_open: bool = False
    low_open: bool = False

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


_INCLINATION = _Range(0.0, 180.0, "an inclination from 0 to 180 degrees")
_ANGLE = _Range(0.0, 360.0, "an angle from 0 to 360 degrees")
_ECCENTRICITY = _Range(0.0, 1.0, "an eccentricity 0 <= e < 1 (SGP4 handles closed orbits only)",
                       high_open=True)
_MEAN_MOTION = _Range(0.0, math.inf, "a mean motion above 0 rev/day", low_open=True)
_EPOCH_DAY = _Range(1.0, 367.0, "a day of the year from 1 to 366.99999999", high_open=True)


@dataclass(frozen=True)
class _Field:
    """A fixed-column TLE field: 1-based inclusive columns, name, expected form, regex."""

    first: int
    last: int
    name: str
    form: str
    pattern: str
    limits: _Range | None = None

    def text(self, line: str) -> str:
        return line[self.first - 1:self.last]


_CATALOGUE = _Field(3, 7, "catalogue number", "5 digits, or Alpha-5: a letter and 4 digits like A0001",
                    r" *\d+|[A-HJ-NP-Z]\d{4}")
_CHECKSUM = _Field(69, 69, "checksum", "one digit", r"\d")
_EXPONENTIAL = r"[ +-]\d{5}[ +-]\d"

LINE1_FIELDS = (
    _CATALOGUE,
    _Field(8, 8, "classification", "U, C or S", r"[UCS ]"),
    _Field(10, 17, "international designator", "launch year, number and piece like '16051A  ', or blank",
           r"\d{5}[A-Z]{1,3} *| {8}"),
    _Field(19, 20, "epoch year", "two digits: 57-99 for 1957-1999, 00-56 for 2000-2056", r"\d\d"),
    _Field(21, 32, "epoch day", "day of the year as NNN.NNNNNNNN", r" *\d+\.\d{8}", _EPOCH_DAY),
    _Field(34, 43, "mean motion derivative", "a signed fraction as +.NNNNNNNN, rev/day^2 / 2",
           r"[ +-]\.\d{8}"),
    _Field(45, 52, "mean motion second derivative", "mantissa and exponent as +NNNNN-N", _EXPONENTIAL),
    _Field(54, 61, "drag term B*", "mantissa and exponent as +NNNNN-N, 17957-4 = 0.17957e-4 /earth radii",
           _EXPONENTIAL),
    _Field(63, 63, "ephemeris type", "one digit, 0 for SGP4, or blank", r"[\d ]"),
    _Field(65, 68, "element set number", "up to 4 digits, right-aligned", r" *\d*"),
    _CHECKSUM,
)
LINE2_FIELDS = (
    _CATALOGUE,
    _Field(9, 16, "inclination", "degrees as NNN.NNNN", r" *\d+\.\d{4}", _INCLINATION),
    _Field(18, 25, "right ascension of the ascending node", "degrees as NNN.NNNN", r" *\d+\.\d{4}", _ANGLE),
    _Field(27, 33, "eccentricity", "7 digits with the decimal point assumed: 0013200 = 0.00132", r"\d{7}"),
    _Field(35, 42, "argument of perigee", "degrees as NNN.NNNN", r" *\d+\.\d{4}", _ANGLE),
    _Field(44, 51, "mean anomaly", "degrees as NNN.NNNN", r" *\d+\.\d{4}", _ANGLE),
    _Field(53, 63, "mean motion", "rev/day as NN.NNNNNNNN", r" *\d+\.\d{8}", _MEAN_MOTION),
    _Field(64, 68, "revolution number", "up to 5 digits, right-aligned", r" *\d*"),
    _CHECKSUM,
)

_DIGITS = "0123456789"
_ALPHA5 = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # Alpha-5 skips I and O
_TEMPLATE_CHARS = {  # template character -> (allowed characters, words for the message)
    "N": (_DIGITS + " ", "a digit or space"),
    "A": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ ", "a capital letter or space"),
    "C": ("UCS ", "U, C or S"),
    "+": (" +-", "a sign (+, - or space)"),
    "-": (" +-", "a sign (+, - or space)"),
    ".": (".", "a decimal point '.'"),
    " ": (" ", "a space between fields"),
}


def tle_checksum(line: str) -> int:
    """The TLE checksum of a line: digits of columns 1-68 summed, each '-' counting 1, mod 10.

    Parameters
    ----------
    line : str
        A TLE line; only its first 68 characters are read.

    Returns
    -------
    int
        The digit that column 69 should hold.

    Examples
    --------
    >>> tle_checksum("1 41731U 16051A   16353.90152003  .00000364  00000-0  17957-4 0  9993")
    3
    """
    return sum(int(c) if c in _DIGITS else c == "-" for c in line[:68]) % 10


_LAYOUT = {1: (LINE1_TEMPLATE, LINE1_FIELDS), 2: (LINE2_TEMPLATE, LINE2_FIELDS)}


def _fail(source: str, number, column: int, field: str, expected: str, found, kind: int | None = None) -> NoReturn:
    """``number`` is the line in the file (or a label such as ``tle[1]``); ``kind`` (1 or 2)
    the line of the element set it should be, named first when the two differ."""
    where = f"TLE line {number}" if kind is None or number == kind else \
        f"TLE line {kind} of the element set ({f'file line {number}' if isinstance(number, int) else number})"
    raise InputError(source, f"{where} column {column} ({field})", expected, found)


def _field_at(fields, column: int) -> _Field | None:
    return next((f for f in fields if f.first <= column <= f.last), None)


def _check_ascii(line: str, kind: int, source: str, number) -> None:
    for column, char in enumerate(line, start=1):
        if not " " <= char <= "~":
            _fail(source, number, column, "character",
                  "printable ASCII; retype typographic dashes, non-breaking spaces and tabs", _char(char), kind)


def _char(char: str) -> str:
    """The character as Python writes it, with its code point when it is not printable ASCII."""
    return repr(char) if " " <= char <= "~" else f"{char!r} (U+{ord(char):04X})"


def _check_template(line: str, kind: int, source: str, number: int) -> None:
    """Compare each column with the template: catches shifted, missing and stray characters."""
    template, fields = _LAYOUT[kind]
    if line[:1] != str(kind):
        _fail(source, number, 1, "line number", f"'{kind}': TLE line {kind} of a set starts '{kind} '",
              repr(line[:1]), kind)
    _check_catalogue_width(line, kind, source, number)
    for column, (char, slot) in enumerate(zip(line[1:TLE_LINE_LENGTH], template[1:]), start=2):
        allowed, words = _TEMPLATE_CHARS[slot]
        if column == 3:
            allowed, words = allowed + _ALPHA5, "a digit, space or Alpha-5 letter"
        if char not in allowed:
            field = _field_at(fields, column)
            what = words if not field else f"{words} in the {field.name}" + (
                f" ({field.form})" if field.form != words else "")
            _fail(source, number, column, field.name if field else "separator",
                  f"{what}; TLE line {kind} columns follow '{template}'", _char(char), kind)


def _check_catalogue_width(line: str, kind: int, source: str, number: int) -> None:
    """A catalogue number of 6 or more digits shifts every later column: say so, not 'column 8'."""
    match = re.match(r"\d{6,}", line[2:])
    if not match:
        return
    digits = match.group()
    value = int(digits)
    if value <= 339999:
        hint = f"write {digits} as Alpha-5 {_ALPHA5[value // 10000 - 10]}{value % 10000:04d}"
    else:
        hint = "numbers above 339999 fit neither a TLE nor sgp4"
    _fail(source, number, 3, _CATALOGUE.name, f"a catalogue number of at most 5 characters in columns 3-7: "
          f"5 digits, or Alpha-5 (a letter and 4 digits) for 100000-339999; {hint}", repr(digits), kind)


def _check_length(line: str, kind: int, source: str, number: int) -> None:
    if len(line) < TLE_LINE_LENGTH:
        field = _field_at(_LAYOUT[kind][1], len(line) + 1)
        _fail(source, number, len(line) + 1, field.name if field else "separator",
              f"{TLE_LINE_LENGTH} characters; the line ends early (truncated, or a checksum is missing)",
              len(line), kind)
    if len(line) > TLE_LINE_LENGTH:
        _fail(source, number, TLE_LINE_LENGTH + 1, "end of line",
              f"{TLE_LINE_LENGTH} characters; remove the text after column {TLE_LINE_LENGTH}",
              repr(line[TLE_LINE_LENGTH:]), kind)


def _check_fields(line: str, kind: int, source: str, number: int) -> None:
    template, fields = _LAYOUT[kind]
    for field in fields:
        text = field.text(line)
        if not re.fullmatch(field.pattern, text):
            _fail(source, number, field.first, field.name,
                  f"the {field.name} in columns {field.first}-{field.last} as {field.form}; "
                  f"TLE line {kind} columns follow '{template}'", repr(text), kind)
        if field.limits and not field.limits.holds(float(text)):
            _fail(source, number, field.first, field.name, field.limits.text, repr(text.strip()), kind)


def _check_checksum(line: str, kind: int, source: str, number) -> None:
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        _fail(source, number, 69, "checksum",
              f"checksum digit {expected} (digits of columns 1-68 summed, '-' counting 1, mod 10); "
              "the line was altered or mistyped, fetch a fresh copy", repr(line[68]), kind)


def _checked_line(line: str, kind: int, source: str, number: int, check_checksum: bool) -> str:
    line = line.rstrip()
    _check_ascii(line, kind, source, number)
    _check_template(line, kind, source, number)
    _check_length(line, kind, source, number)
    _check_fields(line, kind, source, number)
    if check_checksum:
        _check_checksum(line, kind, source, number)
    return line


# ---------------------------------------------------------------- TLE reading

def parse_tle_lines(line1: str, line2: str, name: str | None = None, source: str = "inline",
                    first_line_number=1, *, check_checksum: bool = True, second_line_number=None) -> ElementSet:
    """Check one two-line element set column by column and build its SGP4 record.

    Parameters
    ----------
    line1, line2 : str
        The two TLE lines, 69 characters each; trailing whitespace (and CR/LF) is ignored.
    name : str, optional
        Satellite name (line 0 of a 3-line set; a leading ``"0 "`` is dropped).
        Default ``"NORAD <catalogue number>"``.
    source : str
        Where the lines came from, used in error messages and ``ElementSet.source``.
    first_line_number, second_line_number : int or str
        Line numbers of ``line1`` and ``line2`` in their file (default: ``line2`` follows
        ``line1``), or labels such as ``"tle[1]"`` for lines from a list.
    check_checksum : bool
        Verify the column 69 checksums (default). Turn off only for element sets edited on
        purpose, like the error-code cases of the Vallado verification set.

    Returns
    -------
    ElementSet

    Raises
    ------
    InputError
        Naming ``TLE line N column C``, the field, its expected form and what was found.
    """
    number1 = first_line_number
    number2 = first_line_number + 1 if second_line_number is None else second_line_number
    l1 = _checked_line(line1, 1, source, number1, check_checksum)
    l2 = _checked_line(line2, 2, source, number2, check_checksum)
    if _CATALOGUE.text(l1) != _CATALOGUE.text(l2):
        _fail(source, number2, _CATALOGUE.first, _CATALOGUE.name,
              f"{_CATALOGUE.text(l1)!r} as on TLE line 1; both lines must describe one satellite",
              repr(_CATALOGUE.text(l2)), 2)
    try:
        satrec = Satrec.twoline2rv(l1, l2)
    except ValueError as exc:  # our checks should make this unreachable
        raise InputError(source, "TLE lines 1-2", "an element set sgp4 accepts",
                         str(exc)) from None
    if l1[62] == "4":
        _fail(source, number1, 63, "ephemeris type", "0 or blank: type 4 marks SGP4-XP elements, "
              "which plain SGP4 would propagate to wrong positions", repr(l1[62]), 1)
    label = _clean_name(name) or f"NORAD {satrec.satnum}"
    return ElementSet(label, satrec, satrec.jdsatepoch + satrec.jdsatepochF, f"{source}:{number1}")


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    return name[2:].strip() if name.startswith("0 ") else name


_DATA_CHARACTERS = set(_DIGITS + " .+-")


def _is_data_line(line: str) -> bool:
    """A TLE line (possibly broken) rather than a name: starts '1 '/'2 ', or is as long as a
    TLE line and mostly digits, spaces and signs (a line 1 whose leading '1 ' was lost). A
    long name (letters) stays a name."""
    if line.startswith(("1 ", "2 ")):
        return True
    return len(line) >= 60 and sum(c in _DATA_CHARACTERS for c in line) >= 0.8 * len(line)


def _significant_lines(text: str) -> list[tuple[int, str]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [(n, s.rstrip()) for n, s in enumerate(lines, start=1)
            if s.strip() and not s.lstrip().startswith("#")]


def parse_tle_text(text: str, source: str, *, check_checksum: bool = True) -> list[ElementSet]:
    """Every element set in a text of 2- or 3-line sets (both may be mixed).

    Blank lines and lines starting with ``#`` are skipped; LF, CRLF and CR line ends are
    accepted. A name line is any line that neither starts with ``"1 "``/``"2 "`` nor is
    60 characters or longer and made mostly of digits (a damaged TLE line).

    Parameters
    ----------
    text : str
        The file contents.
    source : str
        File name (or other label) for error messages and ``ElementSet.source``.
    check_checksum : bool
        See :func:`parse_tle_lines`.

    Returns
    -------
    list of ElementSet
        In file order; at least one.

    Raises
    ------
    InputError
        On the first bad line, or when a set is cut short or the text holds no set.
    """
    lines = _significant_lines(text)
    sets: list[ElementSet] = []
    k = 0
    while k < len(lines):
        name = None
        if not _is_data_line(lines[k][1]):
            name, k = lines[k][1], k + 1
            _expect(lines, k, _is_data_line, source,
                    f"TLE line 1 ('1 NNNNN...') after the name on line {lines[k - 1][0]}")
        number, line1 = lines[k]
        if line1.startswith("2 "):
            _fail(source, number, 1, "line number",
                  "'1': TLE line 1 must come before line 2 (is line 1 missing?)", "'2'")
        _expect(lines, k + 1, _may_be_line2, source,
                f"TLE line 2 ('2 NNNNN...') of the set whose line 1 is line {number}; the set is cut short")
        sets.append(parse_tle_lines(line1, lines[k + 1][1], name=name, source=source, first_line_number=number,
                                    second_line_number=lines[k + 1][0], check_checksum=check_checksum))
        k += 2
    if not sets:
        raise InputError(source, "TLE text", "at least one 2- or 3-line element set", "no TLE lines")
    return sets


def _may_be_line2(line: str) -> bool:
    return _is_data_line(line) and not line.startswith("1 ")


def _expect(lines: list[tuple[int, str]], k: int, accept, source: str, expected: str) -> None:
    """Fail at column 1 unless significant line ``k`` exists and ``accept`` takes it."""
    if k >= len(lines):
        _fail(source, lines[k - 1][0] + 1, 1, "line number", f"{expected}; the text ends first", None)
    if not accept(lines[k][1]):
        _fail(source, lines[k][0], 1, "line number", expected, repr(lines[k][1][:24]))


def _read_text(path: Path, what: str) -> str:
    data = read_input(path, f"a readable {what} file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # one character per byte: the ASCII check names the column


def read_tle_file(path, *, check_checksum: bool = True) -> list[ElementSet]:
    """Element sets from a file of 2- or 3-line TLEs (see :func:`parse_tle_text`).

    Parameters
    ----------
    path : str or os.PathLike
        The TLE file.
    check_checksum : bool
        See :func:`parse_tle_lines`.

    Returns
    -------
    list of ElementSet
    """
    path = Path(path)
    return parse_tle_text(_read_text(path, "TLE"), str(path), check_checksum=check_checksum)
