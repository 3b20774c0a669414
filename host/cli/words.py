"""Run figures for people: each summary figure named in words, its unit from its name, numbers
to a few significant digits and durations in s, min, h or d (as the dashboard shows them)."""

import math
from datetime import datetime
from typing import Any

from host.runs.figurewords import unit_of
from host.runs.figurewords import words as words  # for describe.py and any other caller

DASH = "–"


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def num(value: Any, digits: int = 3) -> str:
    """`digits` significant figures, no trailing zeros; a dash for null."""
    if not is_number(value):
        return DASH
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return "%.*e" % (digits - 1, value)
    text = repr(float("%.*g" % (digits, value)))
    return text[:-2] if text.endswith(".0") else text


def si(value: Any, unit: str, digits: int = 3) -> str:
    """With an SI prefix: si(0.00123, "A") -> "1.23 mA"."""
    if not is_number(value):
        return DASH
    scale, prefix = (1.0, "") if value == 0 else (1e-12, "p")
    for step, name in ((1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")):
        if abs(value) >= step:
            scale, prefix = step, name
    return "%s %s%s" % (num(value / scale, digits), prefix, unit)


def duration(seconds: Any, digits: int = 3) -> str:
    """42 s, 12.5 min, 3.2 h, 2.1 d."""
    if not is_number(seconds):
        return DASH
    for limit_s, unit_s, unit in ((120, 1, "s"), (7200, 60, "min"), (172800, 3600, "h")):
        if abs(seconds) < limit_s:
            return "%s %s" % (num(seconds / unit_s, digits), unit)
    return "%s d" % num(seconds / 86400, digits)


def quantity(name: str, value: Any, digits: int = 4) -> str:
    """A figure or parameter with its unit; a long duration also in seconds."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if not is_number(value):
        return _compact(value)
    unit = unit_of(name)
    if unit == "s":
        shown = duration(value, digits)
        return shown if abs(value) < 120 else "%s (%s s)" % (shown, num(value, 6))
    if unit == "A":
        return si(value, "A", digits)
    return "%s %s" % (num(value, digits), unit) if unit else num(value, digits)


def _compact(value: Any) -> str:
    """A list or object parameter (a spectrum) in a few words."""
    if isinstance(value, dict):
        lengths = {len(v) for v in value.values() if isinstance(v, list)}
        if len(lengths) == 1:
            return "%d points" % lengths.pop()
        return ", ".join("%s %s" % (k, _compact(v)) for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(num(v) if is_number(v) else str(v) for v in value)
    return str(value)


def local_time(iso: str | None, seconds: bool = False) -> str:
    """An API time (ISO 8601, UTC) as local time, to the minute (or second)."""
    if not iso:
        return DASH
    try:
        when = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
