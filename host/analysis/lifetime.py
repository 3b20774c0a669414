"""Operational lifetime: L0, T95/T80/T50 from the measured curve, stretched-exponential fit."""

import math
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from host.analysis.smoothing import running_median, window_for

FRACTIONS = {"t95": 0.95, "t80": 0.80, "t50": 0.50}
# The fit needs the curve to have fallen this far below L0 to say anything about tau and beta.
MIN_DECAY_FOR_FIT = 0.02
MAX_FIT_POINTS = 4096  # group means the stretched exponential is fitted on, at most
DEFAULT_ACCEL_N = 1.7
# An L0 below this many times the record's own noise gives T-values that are noise crossings.
FAINT_L0_OVER_NOISE = 10.0
MIN_NOISE_POINTS = 16
# MAD to standard deviation for normal noise; the difference of two samples has sqrt(2) times
# the noise of one.
MAD_TO_SD = 1.4826


def noise_sd(values: np.ndarray, resolution: float = 0.0) -> float | None:
    """One sample's noise, from the record itself: the robust spread of successive
    differences (their median removes the slow trend) over sqrt(2), and never less than the
    reading's resolution over sqrt(12), the resolution being the larger of the one given
    and the smallest step seen (a reading quantised to a few codes is that uncertain however
    steady it looks).  None for fewer than MIN_NOISE_POINTS finite values."""
    finite = np.asarray(values, float)
    ok = np.isfinite(finite)
    if not ok.all():
        finite = finite[ok]
    del ok
    if len(finite) < MIN_NOISE_POINTS:
        return None
    # One record-long temporary: the steps, reordered by the first median and then
    # overwritten; the median and the smallest move do not depend on the order.
    steps = np.diff(finite)
    middle = np.median(steps, overwrite_input=True)
    smallest = min(float(np.min(steps, where=steps > 0, initial=np.inf)),
                   -float(np.max(steps, where=steps < 0, initial=-np.inf)))
    np.subtract(steps, middle, out=steps)
    np.abs(steps, out=steps)
    spread = MAD_TO_SD * float(np.median(steps, overwrite_input=True)) / math.sqrt(2)
    del steps
    step = max(smallest if math.isfinite(smallest) else 0.0, resolution)
    return max(spread, step / math.sqrt(12))


def is_faint(l0: float, noise: float | None) -> bool:
    """L0 too close to the noise for T-values or an ETA to mean anything."""
    return noise is not None and l0 < FAINT_L0_OVER_NOISE * noise


def initial_luminance(t_s: np.ndarray, l0_settle_s: float = 0.0) -> int | None:
    """Index of L0: the first sample at or after l0_settle_s of stress time (docs/analysis.md).

    The device takes its L0 from the same sample (it schedules the hold's first sample
    there and flags it), so the stop point and the summary refer to one L0. None when the
    record ends before the settle time.
    """
    after = np.flatnonzero(t_s >= l0_settle_s)
    return int(after[0]) if len(after) else None


def crossing_time_s(
    t_s: np.ndarray, smoothed: np.ndarray, start: int, level: float
) -> float | None:
    """Time the smoothed curve first falls to level after index start, linear between samples.

    None when it never does (the run stopped before).
    """
    below = np.flatnonzero(smoothed[start + 1 :] <= level)
    if len(below) == 0:
        return None
    j = start + 1 + int(below[0])
    y0, y1 = smoothed[j - 1], smoothed[j]
    return float(t_s[j - 1] + (y0 - level) / (y0 - y1) * (t_s[j] - t_s[j - 1]))


def stretched_exponential(t_s: np.ndarray, l0: float, tau_s: float, beta: float) -> np.ndarray:
    """L = L0 exp(-(t/tau)^beta), t from the start of the stress (Kohlrausch function)."""
    return l0 * np.exp(-np.power(np.maximum(t_s, 0.0) / tau_s, beta))


def fit_stretched_exponential(
    t_s: np.ndarray, luminance: np.ndarray, smoothed: np.ndarray, i_l0: int, l0: float
) -> tuple[float, float, float] | None:
    """(L0_fit, tau_s, beta) by least squares on the samples from L0 on, or None.

    None when the curve has not decayed MIN_DECAY_FOR_FIT below L0, or the fit fails.
    """
    t = t_s[i_l0:]
    if len(t) < 4 or float(np.min(smoothed[i_l0:])) > (1.0 - MIN_DECAY_FOR_FIT) * l0:
        return None
    t_scale = float(t[-1]) if t[-1] > 0 else 1.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", OptimizeWarning)
        t_rel = t / t_scale
        tau0, beta0 = _linearised_guess(t_rel, smoothed[i_l0:], l0)
        t_fit, y_fit = fit_points(t_rel, luminance[i_l0:] / l0)
        del t_rel
        try:
            params, _ = curve_fit(
                stretched_exponential,
                t_fit,
                y_fit,
                p0=(1.0, tau0, beta0),
                bounds=((0.5, 1e-6, 0.05), (2.0, 1e6, 5.0)),
                max_nfev=2000,
            )
        except (RuntimeError, ValueError):
            return None
    a, tau_rel, beta = (float(p) for p in params)
    return a * l0, tau_rel * t_scale, beta


def fit_points(t_s: np.ndarray, y: np.ndarray,
               max_points: int = MAX_FIT_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most max_points (t, y) pairs for the fit: consecutive samples averaged in equal
    groups. The solver's memory grows with the points (its Jacobian and factorisation are
    points x 3), and a smooth decay is fitted alike on group means, so a 10^5-sample run
    needs no more than a few thousand."""
    if len(t_s) <= max_points:
        return t_s, y
    group = -(-len(t_s) // max_points)
    starts = np.arange(0, len(t_s), group)
    counts = np.diff(np.append(starts, len(t_s)))
    return np.add.reduceat(t_s, starts) / counts, np.add.reduceat(y, starts) / counts


def _linearised_guess(t: np.ndarray, smoothed: np.ndarray, l0: float) -> tuple[float, float]:
    # ln(-ln y) = beta ln t - beta ln tau: a straight line where 0 < y < 1 (Kohlrausch plot),
    # y = smoothed / l0; its points are made in place.
    y = smoothed / l0
    ok = (t > 0) & (y > 0.01) & (y < 0.99)
    if np.count_nonzero(ok) < 2:
        return 1.0, 1.0
    line = y[ok]
    del y
    ln_t = t[ok]
    del ok
    np.log(ln_t, out=ln_t)
    np.log(line, out=line)
    np.negative(line, out=line)
    np.log(line, out=line)
    slope, intercept = _straight_line(ln_t, line)
    if not math.isfinite(slope) or slope <= 0:
        return 1.0, 1.0
    beta = min(max(float(slope), 0.05), 5.0)
    ln_tau = min(max(-float(intercept) / float(slope), math.log(1e-6)), math.log(1e6))
    return math.exp(ln_tau), beta


def _straight_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of y on x by least squares, from the centred sums; x and y are
    overwritten. np.polyfit gives the same to rounding, but builds its design matrix and
    copies it: several times the points."""
    x_mean, y_mean = float(np.mean(x)), float(np.mean(y))
    np.subtract(x, x_mean, out=x)
    np.subtract(y, y_mean, out=y)
    slope = float(np.dot(x, y)) / float(np.dot(x, x))
    return slope, y_mean - slope * x_mean


def fit_time_to_fraction_s(tau_s: float, beta: float, fraction: float) -> float:
    """t_x = tau (-ln x)^(1/beta): where the fitted curve reaches x of its L0."""
    return tau_s * (-math.log(fraction)) ** (1.0 / beta)


def extrapolate_t50_s(t50_s: float, l0_cd_m2: float, target_cd_m2: float, accel_n: float) -> float:
    """T50 at another starting luminance from L0^n T50 = const (empirical acceleration law).

    Infinity when the ratio is beyond floating point (the JSON summary shows null).
    """
    ln_t = math.log(t50_s) + accel_n * (math.log(l0_cd_m2) - math.log(target_cd_m2))
    return math.exp(ln_t) if ln_t < 700 else math.inf


def analyse_lifetime(
    t_s: np.ndarray,
    luminance_cd_m2: np.ndarray,
    extrapolate_to_cd_m2: float | None = None,
    accel_n: float = DEFAULT_ACCEL_N,
    i_l0: int = 0,
    resolution_cd_m2: float = 0.0,
) -> dict[str, object]:
    """The lifetime summary for validated arrays (see commands.summarize_lifetime); i_l0 is
    the index of L0's sample (the device's, or initial_luminance's); resolution_cd_m2 the
    reading's least step when known (noise_sd)."""
    t = np.asarray(t_s, float)
    lum = np.asarray(luminance_cd_m2, float)
    window = window_for(len(lum))
    smoothed = running_median(lum, window)
    l0 = float(lum[i_l0])
    notes: list[str] = []
    out: dict[str, object] = {"l0_cd_m2": l0, "t_l0_s": float(t[i_l0])}
    if l0 <= 0:
        notes.append("the luminance is zero at the start: no lifetime can be measured")
    noise = noise_sd(lum[i_l0:], resolution_cd_m2)
    if l0 > 0 and is_faint(l0, noise):
        notes.append(
            f"L0 = {l0:.3g} cd/m2 is below {FAINT_L0_OVER_NOISE:g}x the photodiode noise "
            f"({noise:.3g} cd/m2 per sample): the T-values are crossings of the noise, not "
            "of the decay"
        )
    for key, x in FRACTIONS.items():
        out[f"{key}_s"] = crossing_time_s(t, smoothed, i_l0, x * l0) if l0 > 0 else None
    fit = fit_stretched_exponential(t, lum, smoothed, i_l0, l0) if l0 > 0 else None
    if fit is None:
        notes.append(
            f"no stretched-exponential fit: the curve must fall more than "
            f"{MIN_DECAY_FOR_FIT:.0%} below L0 after it"
        )
    # Where the record ends, as a fraction of L0 (the smoothed curve's last value).
    out["l_end_over_l0"] = float(smoothed[-1]) / l0 if l0 > 0 else None
    out["fit_l0_cd_m2"] = fit[0] if fit else None
    out["fit_tau_s"] = fit[1] if fit else None
    out["fit_beta"] = fit[2] if fit else None
    for key, x in FRACTIONS.items():
        out[f"{key}_fit_s"] = fit_time_to_fraction_s(fit[1], fit[2], x) if fit else None
        if out[f"{key}_s"] is None and fit:
            notes.append(
                f"the data never reach {x:.0%} of L0: {key}_s is null and {key}_fit_s is "
                "the fit's extrapolation"
            )
    if extrapolate_to_cd_m2 is not None:
        out.update(_extrapolation(out, l0, extrapolate_to_cd_m2, accel_n))
    out["notes"] = notes
    return out


def _extrapolation(
    summary: dict[str, object], l0: float, target_cd_m2: float, accel_n: float
) -> dict[str, object]:
    measured = summary["t50_s"]
    fitted = summary["t50_fit_s"]
    t50 = measured if measured is not None else fitted
    source = "measured T50" if measured is not None else "fitted T50 (the data stop earlier)"
    assumption = (
        f"L0^n * T50 = const with n = {accel_n:g} (an empirical acceleration law assumed, "
        f"not measured on this device); from the {source} at L0 = {l0:.4g} cd/m2 "
        f"to L0 = {target_cd_m2:g} cd/m2"
    )
    if not isinstance(t50, float) or l0 <= 0:
        return {"t50_at_target_s": None, "extrapolation_assumption": assumption + ": no T50"}
    return {
        "t50_at_target_s": extrapolate_t50_s(t50, l0, target_cd_m2, accel_n),
        "extrapolation_assumption": assumption,
    }
