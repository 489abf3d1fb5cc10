"""One error hierarchy. Messages are single lines a user can act on."""

from __future__ import annotations


class ConstellationError(Exception):
    """Base class for errors the command line reports without a traceback."""


class InputError(ConstellationError):
    """Bad user input: names the file, the field, what was expected and what was found."""

    def __init__(self, source: str, field: str, expected: str, found: object | None = None):
        self.source = str(source)
        self.field = field
        self.expected = expected
        self.found = found
        message = f"{self.source}: {field}: expected {expected}"
        if found is not None:
            message += f", found {_short(found)}"
        super().__init__(message)


def _short(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) and value.startswith(("'", '"')) else repr(value)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
