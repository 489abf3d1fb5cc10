"""Messages: a pydantic ``ValidationError`` of a scenario file as one InputError line.

The line names the file, the field as a TOML path (``stations[0].latitude_deg``), what was
expected and what was found, in the words of :mod:`constellation.errors`; an unknown key
lists the known ones and suggests the closest.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Described, InputError, did_you_mean
from .schema import ScenarioFile
from .terminals import toml_found

__all__ = ["input_error"]

_MESSAGES = {
    "missing": "this field (it is required)",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a table",
    "datetime_type": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "datetime_parsing": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "datetime_from_date_parsing": "an RFC 3339 UTC datetime such as 2016-12-19T00:00:00Z",
    "too_short": "at least one entry",
}


def input_error(source, exc: ValidationError) -> InputError:
    """The one InputError line that explains ``exc`` best, naming ``source`` and the field.

    An unknown key comes first (it often explains a "missing" one); a union's type error
    gives way to the branch that matches the input's shape.
    """
    errors = exc.errors(include_url=False)
    # An unknown key often explains a "missing" one (a misspelt table): report it first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    if err["type"].endswith(("_type", "_parsing")):
        # A union (a number or a list of 12): the branch that matches the input's shape explains best.
        same = [e for e in errors if _format_loc(e["loc"]) == _format_loc(err["loc"])
                and not e["type"].endswith(("_type", "_parsing"))]
        err = same[0] if same else err
    loc = [p for p in err["loc"] if p not in ("function-after[_ordered(), ScenarioSection]",)]
    where = _format_loc(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent_model = _model_at(loc[:-1])
        allowed = sorted(parent_model.model_fields) if parent_model else []
        hint = did_you_mean(loc[-1], allowed)  # " (did you mean 'x'?)": here inside the list's parentheses
        hint = f"{hint[2:-1]} " if hint else ""
        return InputError(source, where, f"a known key ({hint}known: {', '.join(allowed)})", f"unknown key {loc[-1]!r}")
    if kind == "value_error":
        message = str(err.get("ctx", {}).get("error", err["msg"]))
        first = message.split(" ", 1)[0]
        if isinstance(err.get("input"), dict) and first in err["input"]:  # "end after start": name the key
            where = f"{where}.{first}" if where else first
        head, sep, tail = message.rpartition(" found ")
        if sep and head.endswith((",", ";")):  # the validator said what it found: keep one ", found"
            return InputError(source, where or "scenario", head[:-1], Described(tail))
        return InputError(source, where or "scenario", message, _found(err, message))
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(err.get("ctx", {}).values()), "?")
        return InputError(source, where, f"a value {op} {bound}{_unit_hint(loc, err.get('input'), op)}", _found(err))
    if kind == "literal_error":
        return InputError(source, where, err["msg"].replace("Input should be", "one of"), _found(err))
    if kind == "missing":
        return InputError(source, where, "this field (it is required)", Described("nothing"))
    if kind in ("too_short", "too_long") and "ctx" in err:
        ctx = err["ctx"]
        size = f"at least {ctx['min_length']}" if kind == "too_short" else f"at most {ctx['max_length']}"
        what = "entry" if ctx.get("min_length") == 1 and kind == "too_short" else "entries"
        return InputError(source, where, f"{size} {what}", _found(err))
    expected = _MESSAGES.get(kind, err["msg"])
    if kind.endswith("_type"):  # a union of shapes (a preset name or a table): name every shape
        shapes = [_MESSAGES.get(e["type"], e["msg"]) for e in errors
                  if e["type"].endswith("_type") and _format_loc(e["loc"]) == _format_loc(err["loc"])]
        expected = " or ".join(dict.fromkeys(shapes))
    return InputError(source, where, expected, _found(err))


def _unit_hint(loc, value, op: str) -> str:
    """`` (kilometres, not metres: 500 km is 500)`` for a ``_km`` value too large by 1,000."""
    if not loc or not str(loc[-1]).endswith("_km") or op not in ("<", "<=") or isinstance(value, bool):
        return ""
    try:
        km = float(value) / 1000.0
    except (TypeError, ValueError):
        return ""
    return f" (kilometres, not metres: {km:,.6g} km is {km:.6g})" if km >= 1.0 else ""


def _found(err, message: str = ""):
    """What the user wrote, as TOML would show it; for a table, the keys ``message`` talks about."""
    value = err.get("input")
    if isinstance(value, dict):
        words = {"ltan": "local time"}  # keys a message names in other words
        shown = [f"{key} = {_found({'input': item})}" for key, item in value.items()
                 if not isinstance(item, (dict, list)) and (re.search(rf"\b{re.escape(str(key))}\b", message)
                                                             or words.get(key, "\0") in message)]
        return ", ".join(shown) or None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return toml_found(value)


def _format_loc(loc) -> str:
    """A pydantic error location as the TOML path a user reads (``stations[0].name``), pydantic's own
    steps (unions, validators, constrained types) left out."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union", "literal[", "nullable[", "constrained-", "list[",
                                   "tuple[", "dict[", "union[", "lax-or-strict[", "json-or-python[")) \
                or part in ("float", "int", "str", "list[str]", "bool", "datetime", "date"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc):
    """The pydantic model at a location of :class:`ScenarioFile` (to list its known keys), or None."""
    model: Any = ScenarioFile
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return None
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            for c in candidates:
                inner = getattr(c, "__args__", ())
                model = next((i for i in inner if isinstance(i, type) and issubclass(i, BaseModel)), None)
                if model:
                    break
        if model is None:
            return None
    return model
