"""Run figures for people: each summary figure named in words, its unit from its name, numbers
to a few significant digits and durations in s, min, h or d (as the dashboard shows them)."""

import math
from datetime import datetime
from typing import Any

DASH = "–"

# Summary figures: (words, unit). Their JSON names are in README "HTTP API"; a unit "s" is
# shown as a duration, "A" with an SI prefix. A name not listed is shown as it is, with the
# unit its suffix says (SUFFIX_UNITS).
FIGURES: dict[str, tuple[str, str]] = {
    "l0_cd_m2": ("L0, the luminance the stress starts from", "cd/m²"),
    "l0_target_cd_m2": ("L0 asked for", "cd/m²"),
    "t_l0_s": ("L0 taken at run time", "s"),
    "stress_start_s": ("hold began at run time", "s"),
    "t95_s": ("T95, time to 95 % of L0", "s"),
    "t80_s": ("T80, time to 80 % of L0", "s"),
    "t50_s": ("T50, time to 50 % of L0", "s"),
    "l_end_over_l0": ("luminance at the end, fraction of L0", ""),
    "fit_l0_cd_m2": ("stretched-exponential fit: L0", "cd/m²"),
    "fit_tau_s": ("fit: time constant tau", "s"),
    "fit_beta": ("fit: stretch exponent beta", ""),
    "t95_fit_s": ("T95 from the fit", "s"),
    "t80_fit_s": ("T80 from the fit", "s"),
    "t50_fit_s": ("T50 from the fit", "s"),
    "t50_at_target_s": ("T50 extrapolated to the target L0", "s"),
    "voltage_at_l0_v": ("voltage at L0", "V"),
    "voltage_rise_at_t50_v": ("voltage rise by T50", "V"),
    "voltage_rise_at_end_v": ("voltage rise by the end", "V"),
    "dark_pauses": ("dark pauses", ""),
    "dark_time_s": ("time in dark pauses", "s"),
    "dark_drift_a": ("dark current drift, last pause less first", "A"),
    "min_fraction": ("lowest PL, fraction of the first", ""),
    "t_min_s": ("lowest PL at exposure time", "s"),
    "final_fraction": ("PL at the end, fraction of the first", ""),
    "recovery_fraction": ("recovered after the lowest PL, fraction of the first", ""),
    "eqe_max_pct": ("maximum EQE", "%"),
    "ce_max_cd_a": ("maximum current efficiency", "cd/A"),
    "pe_max_lm_w": ("maximum power efficiency", "lm/W"),
    "l_max_cd_m2": ("maximum luminance", "cd/m²"),
    "turn_on_v": ("turn-on voltage", "V"),
    "v_at_100_cd_m2": ("voltage at 100 cd/m²", "V"),
    "v_at_1000_cd_m2": ("voltage at 1000 cd/m²", "V"),
    "ce_at_100_cd_m2_cd_a": ("current efficiency at 100 cd/m²", "cd/A"),
    "eqe_at_100_cd_m2_pct": ("EQE at 100 cd/m²", "%"),
    "peak_nm": ("EL peak", "nm"),
    "fwhm_nm": ("EL FWHM", "nm"),
    "stop_reason": ("stopped because", ""),
}

# The unit a name's suffix says, longest suffix first (the house rule: units in names).
SUFFIX_UNITS = (("_cd_m2", "cd/m²"), ("_ma_cm2", "mA/cm²"), ("_mw_cm2", "mW/cm²"),
                ("_lm_w", "lm/W"), ("_cd_a", "cd/A"), ("_mm2", "mm²"), ("_nm", "nm"),
                ("_pct", "%"), ("_v", "V"), ("_a", "A"), ("_s", "s"), ("_c", "°C"))


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


def unit_of(name: str) -> str:
    if name in FIGURES:
        return FIGURES[name][1]
    return next((unit for suffix, unit in SUFFIX_UNITS if name.endswith(suffix)), "")


def words(name: str) -> str:
    return FIGURES[name][0] if name in FIGURES else name


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
