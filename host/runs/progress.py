"""How far a run has come, per run kind, from its newest stored samples.

Each function adds the kind's live figures to the progress message and returns the fraction
done as the kind sees it (host.runs.kinds binds them). The tracker keeps what a kind
remembers between batches (L0, the first PL point), and its `refusal` when the run cannot
measure what it is for (the host then stops it as failed).
"""

from typing import Any

import numpy as np

from host.analysis.lifetime import is_faint, noise_sd
from host.runs.params import JvlParams, LifetimeParams, PhotostabilityParams
from host.runs.summaries import PD_STEP_A
from protocol import schema

# The first PL point must stand this far above the photodiode's dark current: at least
# PL_OVER_DARK times the calibrated dark current, and never less than MIN_PL_SIGNAL_A
# (13 codes of the most sensitive range, 0.78 pA each): less is no film glowing.
PL_OVER_DARK = 10.0
MIN_PL_SIGNAL_A = 10e-12


def pl_floor_a(dark_a: float) -> float:
    """The least PL signal (photocurrent above dark, A) a photostability run can follow."""
    return max(PL_OVER_DARK * abs(dark_a), MIN_PL_SIGNAL_A)


def _lit(cols: dict[str, np.ndarray], dark_shift: float, name: str) -> np.ndarray:
    """Column name of the batch's samples outside dark pauses, less the newest pause's shift
    from the calibrated dark."""
    lit = (cols["flags"].astype(np.int64) & schema.FLAG_DARK) == 0
    return cols[name][lit] - dark_shift


def lifetime_progress(tracker: Any, p: LifetimeParams, cols: dict[str, np.ndarray],
                      message: dict[str, Any]) -> float:
    """L/L0 on its way down to stop_fraction, or time on its way to max_duration_s."""
    t = message["t_s"]
    fraction = tracker.progress
    lit = _lit(cols, tracker.dark_shift_a * (tracker.converter.cd_m2_per_a or 0.0),
               "luminance_cd_m2")
    if not len(lit):  # a batch of dark samples only
        return max(fraction, min(1.0, t / p.max_duration_s))
    lum = float(lit[-1])
    recent = tracker.recent_cd_m2
    recent.extend(lit[-recent.maxlen:])
    if tracker.l0_cd_m2:
        step_cd_m2 = (tracker.converter.cd_m2_per_a or 0.0) * PD_STEP_A
        tracker.faint = is_faint(tracker.l0_cd_m2,
                                 noise_sd(np.fromiter(recent, float), step_cd_m2))
        message["faint"] = tracker.faint
    if tracker.l0_cd_m2 and np.isfinite(lum):
        ratio = lum / tracker.l0_cd_m2
        message["l_over_l0"] = ratio
        message["l0_cd_m2"] = tracker.l0_cd_m2
        fraction = max(fraction, min(1.0, (1 - ratio) / (1 - p.stop_fraction)))
    return max(fraction, min(1.0, t / p.max_duration_s))


def photostability_progress(tracker: Any, q: PhotostabilityParams, cols: dict[str, np.ndarray],
                            message: dict[str, Any]) -> float:
    """Time through the exposure; PL as a fraction of the first point, which must stand
    above dark (pl_floor_a), else the run is refused."""
    pl = cols["pl"] - tracker.dark_shift_a
    points = pl[(cols["flags"] & schema.FLAG_PL_POINT) != 0]
    if tracker.pl0 is None and tracker.refusal is None and len(points):
        first_a, floor_a = float(points[0]), pl_floor_a(tracker.converter.dark_a)
        if np.isfinite(first_a) and first_a >= floor_a:
            tracker.pl0 = first_a
        else:
            tracker.refusal = (
                "no photoluminescence: the first PL point is %.3g A above the photodiode's "
                "dark current, below the %.3g A a film under the laser gives at the least "
                "(is there a film, is the laser on and the shutter open?)" % (first_a, floor_a))
    lit = _lit(cols, tracker.dark_shift_a, "pl")
    if tracker.pl0 and len(lit):
        message["pl_fraction"] = float(lit[-1]) / tracker.pl0
    return min(1.0, message["t_s"] / q.duration_s)


def jvl_progress(tracker: Any, j: JvlParams, cols: dict[str, np.ndarray],
                 message: dict[str, Any]) -> float:
    """The setpoint's way from start_v to stop_v."""
    setpoint_v = tracker.last_setpoint_mv / 1000
    return min(1.0, max(0.0, (setpoint_v - j.start_v) / (j.stop_v - j.start_v)))
