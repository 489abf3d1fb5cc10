"""One error hierarchy. Messages are single lines a user can act on."""

from __future__ import annotations


class ConstellationError(Exception):
    """Base class for errors the command line reports without a traceback."""


class InputError(ConstellationError):
    """Bad user input: names the file, the field, what was expected and what was found."""

    def __init__(self, source: str, field: str, expected: str, found: object | None = None):
        self.source = str(source)
        self.field, self.expected, self.found = field, expected, found
        super().__init__(f"{self.source}: {_message(field, expected, found)}")

    def __reduce__(self):  # pickled as its arguments (raised in a worker process, reported here)
        return type(self), (self.source, self.field, self.expected, self.found)


class ParameterError(ValueError):
    """A bad value of a named parameter, raised by value types and kernels that know no file.

    Carries ``field``, ``expected`` and ``found`` as :class:`InputError` does; the scenario
    edge that knows the user's file turns it into one (``InputError(source, where, ...)``).
    """

    def __init__(self, field: str, expected: str, found: object | None = None):
        self.field, self.expected, self.found = field, expected, found
        super().__init__(_message(field, expected, found))

    def __reduce__(self):  # pickled as its arguments (raised in a worker process, reported here)
        return type(self), (self.field, self.expected, self.found)


def did_you_mean(word: object, choices, *, fallback: bool = False) -> str:
    """A hint for a misspelt name: `` (did you mean 'Graz'?)`` for the closest of ``choices``;
    when none is close, `` (one of a, b, c)`` if ``fallback`` is set, else ``""``."""
    import difflib

    names = [str(c) for c in choices]
    close = difflib.get_close_matches(str(word), names, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (one of {', '.join(names)})" if fallback and names else ""


class Described(str):
    """A ``found`` that describes what was found (a parser's words), shown without quotes."""


def _message(field: str, expected: str, found: object | None) -> str:
    """``field: expected X[, found Y]``: the words of every input message."""
    message = f"{field}: expected {expected}"
    return message if found is None else f"{message}, found {_short(found)}"


def _short(value: object, limit: int = 80) -> str:
    quoted = isinstance(value, str) and value.startswith(("'", '"'))
    text = value if quoted or isinstance(value, Described) else repr(value)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode_utf8(source, data: bytes, expected: str = "UTF-8 text") -> str:
    """``data`` decoded as UTF-8 (a leading BOM dropped); a bad byte is reported by line and column."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", errors="replace")) + 1
        raise InputError(source, f"line {line} column {column}", f"{expected} (save the file as UTF-8)",
                         Described(f"byte 0x{data[start]:02x}")) from None


def toml_error(source, exc: Exception) -> InputError:
    """A ``tomllib.TOMLDecodeError`` as ``source: line L column C: expected valid TOML, found ...``."""
    import re

    text = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if match:
        return InputError(source, f"line {match[1]} column {match[2]} (TOML syntax)", "valid TOML",
                          Described(text[:match.start()]))
    match = re.search(r"\s*\(at end of document\)$", text)
    if match:
        return InputError(source, "end of file (TOML syntax)", "valid TOML", Described(text[:match.start()]))
    return InputError(source, "TOML syntax", "valid TOML", Described(text))


# Inputs are read whole: a file larger than this (or not a regular file, such as /dev/zero or a
# FIFO) is refused before reading. 64 MiB holds the whole public catalogue as TLE (~5 MB) or
# OMM XML (~45 MB).
MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_input(path, expected: str, limit_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of input file ``path``, refused with one line when it is missing, unreadable, not
    a regular file or over ``limit_bytes`` (checked before reading)."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except OSError as exc:
        raise InputError(path, "file", expected, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a special file (device, FIFO or socket)"
            raise InputError(path, "file", f"{expected} (a regular file)", Described(kind))
        if info.st_size > limit_bytes:
            raise InputError(path, "file", f"{expected} of at most {limit_bytes / 2**20:,.0f} MiB",
                             Described(f"{info.st_size / 2**20:,.1f} MiB"))
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(limit_bytes + 1)[:limit_bytes]
    except OSError as exc:
        raise InputError(path, "file", expected, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def parse_toml(source, text: str) -> dict:
    """``text`` parsed as TOML; syntax errors and integers too long to read as one InputError line."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(source, exc) from None
    except ValueError as exc:  # an integer beyond Python's 4,300-digit limit
        import re

        digits = re.search(r"has (\d+) digits", str(exc))
        found = f"an integer of {int(digits[1]):,} digits" if digits else str(exc)
        raise InputError(source, "number", "an integer of at most 4,300 digits (a value in range)",
                         Described(found)) from None
    except RecursionError:
        raise InputError(source, "nesting", "tables and arrays nested at most a few hundred deep",
                         Described("deeper nesting")) from None


_CONTROL = {*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)} - {0x09, 0x0A}
_ESCAPES = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" for c in _CONTROL}


def printable(text: object) -> str:
    """``text`` safe for a terminal: control characters (escape sequences, carriage returns,
    bidirectional overrides) written as ``\\x1b``-style escapes; line feeds kept.

    >>> printable("MI\\x1b[2JCIUS")
    'MI\\\\x1b[2JCIUS'
    """
    return str(text).translate(_ESCAPES)
