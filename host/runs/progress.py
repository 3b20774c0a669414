"""How far a run has come, per run kind, from its newest stored samples.

Each function adds the kind's live figures to the progress message and returns the fraction
done as the kind sees it (host.runs.kinds binds them). The tracker keeps what a kind
remembers between batches (L0, the first PL point).
"""

from typing import Any

import numpy as np

from host.runs.params import JvlParams, LifetimeParams, PhotostabilityParams


def lifetime_progress(tracker: Any, p: LifetimeParams, cols: dict[str, np.ndarray],
                      message: dict[str, Any]) -> float:
    """L/L0 on its way down to stop_fraction, or time on its way to max_duration_s."""
    t = message["t_s"]
    fraction = tracker.progress
    lum = float(cols["luminance_cd_m2"][-1])
    if tracker.l0_cd_m2 and np.isfinite(lum):
        ratio = lum / tracker.l0_cd_m2
        message["l_over_l0"] = ratio
        message["l0_cd_m2"] = tracker.l0_cd_m2
        fraction = max(fraction, min(1.0, (1 - ratio) / (1 - p.stop_fraction)))
    return max(fraction, min(1.0, t / p.max_duration_s))


def photostability_progress(tracker: Any, q: PhotostabilityParams, cols: dict[str, np.ndarray],
                            message: dict[str, Any]) -> float:
    """Time through the exposure; PL as a fraction of the first point."""
    pl = cols["pl"]
    if tracker.pl0 is None and len(pl) and np.isfinite(pl[0]) and pl[0] > 0:
        tracker.pl0 = float(pl[0])
    if tracker.pl0:
        message["pl_fraction"] = float(pl[-1]) / tracker.pl0
    return min(1.0, message["t_s"] / q.duration_s)


def jvl_progress(tracker: Any, j: JvlParams, cols: dict[str, np.ndarray],
                 message: dict[str, Any]) -> float:
    """The setpoint's way from start_v to stop_v."""
    setpoint_v = tracker.last_setpoint_mv / 1000
    return min(1.0, max(0.0, (setpoint_v - j.start_v) / (j.stop_v - j.start_v)))
