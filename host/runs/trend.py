"""A followed run's normalised light as it goes (L/L0, PL/PL0): a short series for the rig
card's sparkline and the T-values passed so far, kept up as samples are stored, so a card
polled every few seconds never reads the run back from the store.

The T-values are the lifetime summary's, taken on what has come so far: its fractions, its
stress rows on its stress clock (host.runs.summaries), its running median and its crossing
(host.analysis.lifetime). Two things differ, and say so here: the median is MAX_WINDOW wide
from the start (the summary's width on any run of a few hundred samples or more), and the
dark is the newest pause's, as the live progress takes it, not the summary's baseline
between pauses.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from host.analysis import dark
from host.analysis.lifetime import FRACTIONS, crossing_time_s
from host.analysis.smoothing import CHUNK_ROWS, MAX_WINDOW, running_median
from host.runs.summaries import hold_start_s, stress_rows
from protocol import schema

TREND_POINTS = 60  # the most [t_s, ratio] pairs a sparkline gets, the newest one included
NOTHING = (np.empty(0), np.empty(0))

Points = tuple[np.ndarray, np.ndarray]  # (stress time, s; light over its first value)


@dataclass(frozen=True)
class TrendRule:
    """How a kind's samples become its trend: points(tracker, columns) gives the batch's
    (stress time, normalised light); levels, the fractions whose crossing time is kept
    (("t95", 0.95) keeps `t95_s`); window, the running median's width (1: none)."""

    points: Callable[[Any, dict[str, np.ndarray]], Points]
    levels: tuple[tuple[str, float], ...] = ()
    window: int = 1


class Trend:
    """The smoothed, thinned series of one run and its T-values passed.

    Every smoothed point counts; every stride-th is kept, and when TREND_POINTS would be
    reached every other one kept is dropped and the stride doubles, so the series spans the
    whole run in a bounded list."""

    def __init__(self, rule: TrendRule | None):
        self.rule = rule
        self.t_values: dict[str, float] = {}
        self._tail = NOTHING  # the newest raw points a median still centres on
        self._seen = 0  # raw points in
        self._centred = 0  # smoothed points out
        self._stride = 1
        self._kept: list[tuple[float, float]] = []
        self._last: tuple[float, float] | None = None

    def note(self, tracker: Any, cols: dict[str, np.ndarray]) -> None:
        """Take a batch of the tracker's stored columns."""
        if self.rule is not None:
            self.add(*self.rule.points(tracker, cols))

    def add(self, t_s: np.ndarray, ratio: np.ndarray) -> None:
        """Take raw points in time order (stress time, s; light over its first value)."""
        if not len(t_s):
            return
        t, smoothed = self._smooth(np.asarray(t_s, float), np.asarray(ratio, float))
        if len(t):
            self._cross(t, smoothed)
            self._keep(t, smoothed)

    def points(self) -> list[list[float]]:
        """[[t_s, ratio], ...]: the kept points and the newest one."""
        out = list(self._kept)
        if self._last is not None and (not out or out[-1] != self._last):
            out.append(self._last)
        return [[round(t, 1), round(ratio, 4)] for t, ratio in out]

    def _smooth(self, t: np.ndarray, y: np.ndarray) -> Points:
        """The running median's points that the new ones complete: a centred window, shrunk
        symmetrically at the start as running_median has it, whole from then on."""
        half = (self.rule.window if self.rule else 1) // 2
        buf_t = np.concatenate((self._tail[0], t))
        buf_y = np.concatenate((self._tail[1], y))
        offset = self._seen - len(self._tail[0])  # the buffer's first point, counted from 0
        self._seen += len(y)
        last = self._seen - 1
        ready = last - half if last >= 2 * half else last // 2  # the last centre complete
        lo, hi = self._centred - offset, ready + 1 - offset
        self._centred = max(self._centred, ready + 1)
        keep = min(len(buf_t), 2 * half)
        self._tail = (buf_t[len(buf_t) - keep:], buf_y[len(buf_y) - keep:])
        if hi <= lo:
            return NOTHING
        if lo < half or hi - lo > CHUNK_ROWS:  # the run's first points, or a long run's all
            return buf_t[lo:hi], running_median(buf_y, 2 * half + 1)[lo:hi]
        # A live batch: only whole windows, without running_median's ends (a tenth the time).
        windows = np.lib.stride_tricks.sliding_window_view(buf_y, 2 * half + 1)
        return buf_t[lo:hi], np.median(windows[lo - half:hi - half], axis=1)

    def _cross(self, t: np.ndarray, smoothed: np.ndarray) -> None:
        """Each level's first crossing, linear between smoothed points; the first point of
        all is L0's own, which the summary's search starts after as well."""
        if self._last is not None:
            t = np.concatenate(([self._last[0]], t))
            smoothed = np.concatenate(([self._last[1]], smoothed))
        for key, level in self.rule.levels if self.rule else ():
            name = key + "_s"
            if name not in self.t_values:
                crossed = crossing_time_s(t, smoothed, 0, level)
                if crossed is not None:
                    self.t_values[name] = crossed

    def _keep(self, t: np.ndarray, smoothed: np.ndarray) -> None:
        """Keep every stride-th smoothed point, halving what is kept before it would grow
        past TREND_POINTS - 1 (the newest point comes on top)."""
        first = self._centred - len(t)
        while (self._centred - 1) // self._stride + 1 > TREND_POINTS - 1:
            del self._kept[1::2]
            self._stride *= 2
        pick = (np.arange(first, self._centred) % self._stride) == 0
        self._kept.extend(zip(t[pick].tolist(), smoothed[pick].tolist()))
        self._last = (float(t[-1]), float(smoothed[-1]))


def lifetime_points(tracker: Any, cols: dict[str, np.ndarray]) -> Points:
    """L/L0 on stress time of the batch's curve samples (no ramp, no dark pause, from L0's
    sample on), L0 the tracker's; nothing before L0 is known."""
    l0_cd_m2 = tracker.l0_cd_m2
    if not l0_cd_m2:
        return NOTHING
    events = tracker.stress_events
    start_s = hold_start_s(events)
    keep = stress_rows(cols, start_s)
    flagged = np.flatnonzero(cols["flags"].astype(np.int64) & schema.FLAG_L0)
    if len(flagged):
        keep[:flagged[0]] = False
    shift_cd_m2 = tracker.dark_shift_a * (tracker.converter.cd_m2_per_a or 0.0)
    lum = np.clip(cols["luminance_cd_m2"][keep] - shift_cd_m2, 0.0, None)
    return dark.drive_time_s(cols["t_s"][keep], start_s, dark.pauses(events)), lum / l0_cd_m2


def photostability_points(tracker: Any, cols: dict[str, np.ndarray]) -> Points:
    """PL/PL0 of the batch's PL points on exposure time, PL0 the tracker's first point; the
    summary's normalised PL. Nothing before PL0 is known (the pl column is read after)."""
    if not tracker.pl0:
        return NOTHING
    flags = cols["flags"].astype(np.int64)
    points = ((flags & schema.FLAG_PL_POINT) != 0) & ~dark.dark_rows(flags)
    pl = cols["pl"][points] - tracker.dark_shift_a
    finite = np.isfinite(pl)
    t_s = dark.drive_time_s(cols["t_s"][points][finite], 0.0,
                            dark.pauses(tracker.stress_events))
    return t_s, pl[finite] / tracker.pl0


LIFETIME_TREND = TrendRule(lifetime_points, tuple(FRACTIONS.items()), MAX_WINDOW)
PHOTOSTABILITY_TREND = TrendRule(photostability_points)
