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


class ParameterError(ValueError):
    """A bad value of a named parameter, raised by value types and kernels that know no file.

    Carries ``field``, ``expected`` and ``found`` as :class:`InputError` does; the scenario
    edge that knows the user's file turns it into one (``InputError(source, where, ...)``).
    """

    def __init__(self, field: str, expected: str, found: object | None = None):
        self.field, self.expected, self.found = field, expected, found
        super().__init__(_message(field, expected, found))


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
