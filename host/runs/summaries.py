"""A finished run's summary from its stored samples, with the same code as `lumenrig analyze`."""

from typing import Any

import numpy as np

from host.analysis.commands import summarize_jvl, summarize_lifetime, summarize_photostability
from host.analysis.errors import INPUT_ERRORS
from protocol import schema


def _hold_start_s(events: list[dict[str, Any]]) -> float:
    """Run time at which constant-voltage stress began (after a luminance-target ramp)."""
    for event in events:
        if event.get("code") == schema.EV_TARGET_REACHED:
            data = event.get("data") or {}
            return float(data.get("t_s", 0.0))
    return 0.0


def summarize_run(kind: str, params: dict[str, Any], calibration: dict[str, Any] | None,
                  cols: dict[str, np.ndarray], events: list[dict[str, Any]]) -> dict[str, Any]:
    """The analysis dict for the run kind; on data it cannot analyse, the reason in notes."""
    try:
        if kind == "lifetime":
            start = _hold_start_s(events)
            keep = np.isfinite(cols["luminance_cd_m2"]) & (cols["t_s"] >= start)
            t = cols["t_s"][keep] - start
            # Photodiode noise around zero may dip below it; luminance cannot.
            lum = np.clip(cols["luminance_cd_m2"][keep], 0.0, None)
            return summarize_lifetime(t, lum)
        if kind == "photostability":
            points = ((cols["flags"] & schema.FLAG_PL_POINT) != 0) & np.isfinite(cols["pl"])
            return summarize_photostability(cols["t_s"][points], cols["pl"][points])
        if kind == "jvl":
            step_end = (cols["flags"] & schema.FLAG_STEP_END) != 0
            area_mm2 = float((calibration or {}).get("pixel_area_mm2") or 1.0)
            j_ma_cm2 = cols["current_a"][step_end] * 1e3 / (area_mm2 * 1e-2)
            lum = cols["luminance_cd_m2"][step_end]
            lum = np.clip(np.nan_to_num(lum, nan=0.0), 0.0, None)
            spectrum = params.get("spectrum") or (calibration or {}).get("reference_spectrum")
            summary = summarize_jvl(cols["voltage_v"][step_end], j_ma_cm2, lum, spectrum)
            if not params.get("spectrum") and spectrum is not None:
                summary.setdefault("notes", []).append(
                    "EQE, peak and FWHM use the rig's stored reference EL spectrum")
            return summary
    except INPUT_ERRORS as exc:
        return {"notes": ["not analysed: %s" % exc]}
    raise ValueError("unknown run kind %r" % kind)
