"""Dark tracking: the photodiode's dark baseline from a run's dark pauses, and the run's clock
with the pauses taken out (docs/analysis.md, "Dark tracking").

A pause is the span between the device's EV_DARK_BEGIN and EV_DARK_END events; its samples
carry FLAG_DARK.  The baseline is linear in time between the pauses' mean readings (taken at
their mean times), continued along the last segment after the last pause.
"""

from typing import Any

import numpy as np

from protocol import schema


def dark_rows(flags: np.ndarray) -> np.ndarray:
    """The samples read in a dark pause."""
    return (flags.astype(np.int64, copy=False) & schema.FLAG_DARK) != 0


def pauses(events: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(begin, end) run times of each dark pause, in order; a pause the run ended in has no
    end (inf)."""
    spans: list[tuple[float, float]] = []
    begin: float | None = None
    for event in events:
        code = event.get("code")
        if code not in (schema.EV_DARK_BEGIN, schema.EV_DARK_END):
            continue
        t_s = float((event.get("data") or {}).get("t_s", 0.0))
        if code == schema.EV_DARK_BEGIN:
            if begin is not None:  # a pause cut short by a device reset
                spans.append((begin, t_s))
            begin = t_s
        elif begin is not None:
            spans.append((begin, t_s))
            begin = None
    if begin is not None:
        spans.append((begin, float("inf")))
    return spans


def drive_time_s(t_s: np.ndarray, start_s: float, spans: list[tuple[float, float]]) -> np.ndarray:
    """Run time from start_s with the dark pauses after it taken out: the time the device was
    actually driven (or the film lit)."""
    t = np.asarray(t_s, float) - start_s
    for begin, end in spans:
        begin = max(begin, start_s)
        if end <= begin:
            continue
        t = t - np.clip(np.asarray(t_s, float) - begin, 0.0, end - begin)
    return t


def baseline_knots(t_s: np.ndarray, reading: np.ndarray,
                   flags: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(time, reading) of each pause: the mean of its run of consecutive dark samples, of any
    column that is linear in the photocurrent.  None when the record has no dark sample."""
    dark = dark_rows(flags)
    if not dark.any():
        return None
    index = np.flatnonzero(dark)
    # A new pause starts wherever a dark sample does not follow another.
    group = np.cumsum(np.diff(index, prepend=-2) != 1) - 1
    count = np.bincount(group)
    knot_t = np.bincount(group, weights=np.asarray(t_s, float)[index]) / count
    knot_value = np.bincount(group, weights=np.asarray(reading, float)[index]) / count
    return knot_t, knot_value


def baseline(t_s: np.ndarray, knots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The dark reading at each time: interpolated between the pauses, and after the last
    one along the line through the last two (a run ends between pauses, and the drift goes
    on); before the first (nothing lit comes before it) its reading."""
    t = np.asarray(t_s, float)
    knot_t, knot_value = knots
    values = np.interp(t, knot_t, knot_value)
    if len(knot_t) >= 2 and knot_t[-1] > knot_t[-2]:
        slope = (knot_value[-1] - knot_value[-2]) / (knot_t[-1] - knot_t[-2])
        after = t > knot_t[-1]
        values[after] = knot_value[-1] + slope * (t[after] - knot_t[-1])
    return values


def dark_time_s(spans: list[tuple[float, float]], last_t_s: float) -> float:
    """Time spent in dark pauses up to last_t_s."""
    return float(sum(max(0.0, min(end, last_t_s) - begin) for begin, end in spans))
