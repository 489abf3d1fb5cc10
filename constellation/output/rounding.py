"""Floats as written: without the binary noise of arithmetic (-88.49999999999999 -> -88.5)."""

from __future__ import annotations

import math

__all__ = ["tidy"]


def tidy(value, digits: int = 9):
    """``value`` (a float, or lists and dicts of them) with floats to ``digits`` significant
    digits: -88.49999999999999 -> -88.5, 1219771.132857143 -> 1219771.13. For what is written
    to tables and JSON; the arrays behind them keep every bit. Other values pass unchanged.

    >>> tidy({"lat_deg": [-88.49999999999999, 3], "key_bits": 1219771.132857143})
    {'lat_deg': [-88.5, 3], 'key_bits': 1219771.13}
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, list):
        return [tidy(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: tidy(v, digits) for k, v in value.items()}
    return value
