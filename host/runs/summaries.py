"""A finished run's summary from its stored samples, with the same code as `lumenrig analyze`.

One function per run kind (host.runs.kinds binds them); each takes the run's parameters
and calibration as stored (dicts), its sample columns and its events. The analysis stack
(scipy) is imported when a run is summarised, so what only needs the kinds (the CLI) starts
fast.
"""

from typing import Any

import numpy as np

from host.analysis import dark
from protocol import schema

TARGET_MISS = 0.02  # an achieved L0 further than this from its target gets a note
PD_STEP_A = 1e-12  # the sample's photodiode current is whole pA


def hold_start_s(events: list[dict[str, Any]]) -> float:
    """Run time at which the stress began: where a luminance or current target was reached
    (the device's EV_TARGET_REACHED), else the start of the run."""
    for event in events:
        if event.get("code") == schema.EV_TARGET_REACHED:
            data = event.get("data") or {}
            return float(data.get("t_s", 0.0))
    return 0.0


def stress_rows(cols: dict[str, np.ndarray], start_s: float) -> np.ndarray:
    """Which samples make the stress curve: from the hold's start on, no ramp or dark sample."""
    off_curve = (cols["flags"].astype(np.int64, copy=False)
                 & (schema.FLAG_RAMP | schema.FLAG_DARK)) != 0
    return np.isfinite(cols["luminance_cd_m2"]) & ~off_curve & (cols["t_s"] >= start_s)


def tracked_dark(cols: dict[str, np.ndarray], values: np.ndarray, per_amp: float,
                 events: list[dict[str, Any]]) -> tuple[np.ndarray, dict[str, Any]]:
    """values (photocurrent above the calibrated dark, times per_amp: luminance or PL) above
    the dark baseline the run's pauses measured instead, and what the summary says of them;
    unchanged, and nothing said, for a run without dark pauses.  The pauses' own values are
    their readings above the calibrated dark, so the baseline comes from the same column."""
    knots = dark.baseline_knots(cols["t_s"], values, cols["flags"])
    if knots is None:
        return values, {}
    last_t_s = float(cols["t_s"][-1])
    above = dark.baseline(cols["t_s"], knots)
    np.subtract(values, above, out=above)
    return above, {
        "dark_pauses": len(knots[0]),
        "dark_time_s": dark.dark_time_s(dark.pauses(events), last_t_s),
        "dark_drift_a": (float(knots[1][-1] - knots[1][0]) / per_amp if per_amp else None),
    }


def _cd_m2_per_a(calibration: dict[str, Any] | None) -> float:
    """Luminance per photodiode amp of the run's calibration (0 without one)."""
    from photometry.photodiode import PhotodiodeCalibration, luminance_per_amp

    if not calibration:
        return 0.0
    return luminance_per_amp(PhotodiodeCalibration.model_validate(calibration))


def reading_step_cd_m2(calibration: dict[str, Any] | None) -> float:
    """The least luminance step a sample can take: 1 pA, the link's photodiode unit."""
    return PD_STEP_A * _cd_m2_per_a(calibration)


def lifetime_summary(params: dict[str, Any], calibration: dict[str, Any] | None,
                     cols: dict[str, np.ndarray], events: list[dict[str, Any]]) -> dict[str, Any]:
    """L0 (the device's own sample), T-values and the fit, on stress time: counted from
    where the drive began to be held, dark pauses taken out (docs/analysis.md)."""
    from host.analysis.commands import summarize_lifetime

    start = hold_start_s(events)
    lum_all, dark_said = tracked_dark(cols, cols["luminance_cd_m2"],
                                      _cd_m2_per_a(calibration), events)
    keep = stress_rows(cols, start)
    t = dark.drive_time_s(cols["t_s"][keep], start, dark.pauses(events))
    # Photodiode noise around zero may dip below it; luminance cannot.
    lum = lum_all[keep]
    np.clip(lum, 0.0, None, out=lum)
    del lum_all  # a dark-tracked run's own copy: not held through the analysis
    flagged = np.flatnonzero(cols["flags"][keep].astype(np.int64, copy=False)
                             & schema.FLAG_L0)
    summary = summarize_lifetime(t, lum, i_l0=int(flagged[0]) if len(flagged) else None,
                                 l0_settle_s=float(params.get("l0_settle_s", 0.0)),
                                 resolution_cd_m2=reading_step_cd_m2(calibration))
    summary["stress_start_s"] = start
    summary.update(dark_said)
    target = params.get("target_l0_cd_m2")
    if target is not None:
        summary["l0_target_cd_m2"] = target
        l0 = summary.get("l0_cd_m2")
        if isinstance(l0, float) and abs(l0 / target - 1) > TARGET_MISS:
            summary["notes"].append("L0 %.4g cd/m2 is %+.1f %% from the target %g cd/m2" % (
                l0, 100 * (l0 / target - 1), target))
    if params.get("current_a") is not None or params.get("current_density_ma_cm2") is not None:
        summary.update(_voltage_rise(summary, t, cols["voltage_v"][keep]))
    return summary


def _voltage_rise(summary: dict[str, Any], t_s: np.ndarray,
                  voltage_v: np.ndarray) -> dict[str, Any]:
    """How far the held current had to raise the voltage, from L0 to T50 and to the end: the
    usual companion figure of a constant-current lifetime."""
    t_l0 = summary.get("t_l0_s")
    if not len(t_s) or not isinstance(t_l0, float):
        return {"voltage_at_l0_v": None, "voltage_rise_at_t50_v": None,
                "voltage_rise_at_end_v": None}
    v0 = float(np.interp(t_l0, t_s, voltage_v))
    t50 = summary.get("t50_s")
    return {
        "voltage_at_l0_v": v0,
        "voltage_rise_at_t50_v": (float(np.interp(t50, t_s, voltage_v)) - v0
                                  if isinstance(t50, float) else None),
        "voltage_rise_at_end_v": float(voltage_v[-1]) - v0,
    }


def photostability_summary(params: dict[str, Any], calibration: dict[str, Any] | None,
                           cols: dict[str, np.ndarray],
                           events: list[dict[str, Any]]) -> dict[str, Any]:
    """The PL points (flagged by the device) normalised to the first, on exposure time (dark
    pauses taken out)."""
    from host.analysis.commands import summarize_photostability

    pl, dark_said = tracked_dark(cols, cols["pl"], 1.0, events)
    points = ((cols["flags"] & schema.FLAG_PL_POINT) != 0) & np.isfinite(pl)
    t = dark.drive_time_s(cols["t_s"][points], 0.0, dark.pauses(events))
    summary = summarize_photostability(t, pl[points])
    summary.update(dark_said)
    return summary


def jvl_summary(params: dict[str, Any], calibration: dict[str, Any] | None,
                cols: dict[str, np.ndarray], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Efficiencies from each step's last sample; EQE from the run's or the rig's spectrum."""
    from host.analysis.commands import summarize_jvl
    from host.analysis.jvl import current_density_ma_cm2

    step_end = (cols["flags"] & schema.FLAG_STEP_END) != 0
    area_mm2 = float((calibration or {}).get("pixel_area_mm2") or 1.0)
    j_ma_cm2 = current_density_ma_cm2(cols["current_a"][step_end], area_mm2)
    lum = cols["luminance_cd_m2"][step_end]
    lum = np.clip(np.nan_to_num(lum, nan=0.0), 0.0, None)
    spectrum = params.get("spectrum") or (calibration or {}).get("reference_spectrum")
    summary = summarize_jvl(cols["voltage_v"][step_end], j_ma_cm2, lum, spectrum)
    if not params.get("spectrum") and spectrum is not None:
        summary.setdefault("notes", []).append(
            "EQE, peak and FWHM use the rig's stored reference EL spectrum")
    return summary
