"""Backend of `lumenrig analyze` and of run summaries: validated inputs in, JSON-ready dicts out."""

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from host.analysis.csvio import read_columns
from host.analysis.errors import AnalysisInputError
from host.analysis.jvl import analyse_jvl
from host.analysis.lifetime import DEFAULT_ACCEL_N, analyse_lifetime, initial_luminance
from host.analysis.photostability import analyse_photostability, peak_drift
from host.analysis.validate import (
    Locate,
    check_non_negative,
    check_times,
    sample_locator,
    validated,
)
from photometry.spectrum import Spectrum, as_spectrum

__all__ = [
    "KINDS",
    "AnalysisInputError",
    "analyze_csv",
    "summarize_jvl",
    "summarize_lifetime",
    "summarize_photostability",
]

COLUMNS = {
    "lifetime": ("t_s", "luminance_cd_m2"),
    "photostability": ("t_s", "pl"),
    "jvl": ("voltage_v", "current_density_ma_cm2", "luminance_cd_m2"),
}
KINDS = tuple(COLUMNS)
SPECTRUM_COLUMNS = ("wavelength_nm", "intensity")
MAX_ACCEL_N = 10.0
NO_NEGATIVE_LIGHT = "light cannot be negative; clip the noise around zero to 0"


def summarize_lifetime(
    t_s: Sequence[float] | np.ndarray,
    luminance_cd_m2: Sequence[float] | np.ndarray,
    extrapolate_to_cd_m2: float | None = None,
    accel_n: float = DEFAULT_ACCEL_N,
    i_l0: int | None = None,
    l0_settle_s: float = 0.0,
    resolution_cd_m2: float = 0.0,
) -> dict[str, Any]:
    """l0_cd_m2, t50_s/t80_s/t95_s (None when never reached), fit_tau_s, fit_beta,
    t50_fit_s/t80_fit_s/t95_fit_s, t_l0_s, fit_l0_cd_m2, notes; with extrapolate_to_cd_m2 also
    t50_at_target_s and extrapolation_assumption. t_s counts from the start of the stress;
    L0 is sample i_l0 (the device's), else the first at or after l0_settle_s. An L0 within
    10x the record's noise (at least resolution_cd_m2 / sqrt(12)) gets a note.
    """
    return _lifetime(
        {"t_s": t_s, "luminance_cd_m2": luminance_cd_m2}, extrapolate_to_cd_m2, accel_n,
        i_l0=i_l0, l0_settle_s=l0_settle_s, resolution_cd_m2=resolution_cd_m2,
    )


def summarize_photostability(
    t_s: Sequence[float] | np.ndarray,
    pl: Sequence[float] | np.ndarray,
    spectra: Sequence[Spectrum | Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """min_fraction, t_min_s, final_fraction, recovery_fraction (of the first PL point), notes;
    with PL spectra (in time order) also pl_peaks_nm, peak_shift_max_nm, peak_stable.
    """
    return _photostability({"t_s": t_s, "pl": pl}, spectra=spectra)


def summarize_jvl(
    voltage_v: Sequence[float] | np.ndarray,
    current_density_ma_cm2: Sequence[float] | np.ndarray,
    luminance_cd_m2: Sequence[float] | np.ndarray,
    spectrum: Spectrum | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """eqe_max_pct, ce_max_cd_a, pe_max_lm_w, l_max_cd_m2, turn_on_v, v_at_100_cd_m2,
    v_at_1000_cd_m2, ce_at_100_cd_m2_cd_a, eqe_at_100_cd_m2_pct, peak_nm, fwhm_nm, notes.

    Without a spectrum the EQEs, peak_nm and fwhm_nm are None and notes says why; a level the
    sweep never crosses gives None at it.
    """
    columns = {
        "voltage_v": voltage_v,
        "current_density_ma_cm2": current_density_ma_cm2,
        "luminance_cd_m2": luminance_cd_m2,
    }
    return _jvl(columns, None if spectrum is None else as_spectrum(spectrum))


def analyze_csv(
    path: str | Path,
    kind: str,
    spectrum_path: str | Path | None = None,
    extrapolate_to: float | None = None,
    accel_n: float = DEFAULT_ACCEL_N,
) -> dict[str, Any]:
    """Analyse one CSV file of the given kind; AnalysisInputError says what to fix and where."""
    if kind not in COLUMNS:
        raise AnalysisInputError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if spectrum_path is not None and kind != "jvl":
        raise AnalysisInputError("--spectrum applies to --kind jvl only")
    if extrapolate_to is not None and kind != "lifetime":
        raise AnalysisInputError("--extrapolate-to applies to --kind lifetime only")
    columns, locate = read_columns(path, COLUMNS[kind])
    if kind == "lifetime":
        return _lifetime(columns, extrapolate_to, accel_n, locate)
    if kind == "photostability":
        return _photostability(columns, locate=locate)
    spectrum = None if spectrum_path is None else read_spectrum_csv(spectrum_path)
    return _jvl(columns, spectrum, locate)


def read_spectrum_csv(path: str | Path) -> Spectrum:
    """An EL spectrum from a `wavelength_nm,intensity` CSV file."""
    columns, locate = read_columns(path, SPECTRUM_COLUMNS)
    check_times(columns["wavelength_nm"], locate, "wavelength_nm")
    check_non_negative(columns["intensity"], "intensity", locate, NO_NEGATIVE_LIGHT)
    try:
        return Spectrum(
            wavelength_nm=columns["wavelength_nm"].tolist(),
            intensity=columns["intensity"].tolist(),
        )
    except ValueError as exc:
        raise AnalysisInputError(f"{path}: {_first_error(exc)}") from None


def _lifetime(
    columns: Mapping[str, object],
    extrapolate_to_cd_m2: float | None,
    accel_n: float,
    locate: Locate | None = None,
    i_l0: int | None = None,
    l0_settle_s: float = 0.0,
    resolution_cd_m2: float = 0.0,
) -> dict[str, Any]:
    data = validated(dict(columns), locate or sample_locator)
    check_times(data["t_s"], locate or sample_locator)
    check_non_negative(
        data["luminance_cd_m2"], "luminance_cd_m2", locate or sample_locator, NO_NEGATIVE_LIGHT
    )
    if extrapolate_to_cd_m2 is not None:
        _check_positive(extrapolate_to_cd_m2, "extrapolate_to (target L0, cd/m2)")
        _check_positive(accel_n, "accel_n")
        if accel_n > MAX_ACCEL_N:
            raise AnalysisInputError(
                f"accel_n = {accel_n:g} is beyond {MAX_ACCEL_N:g}: "
                "reported acceleration factors lie between 1 and 3"
            )
    if i_l0 is None:
        i_l0 = initial_luminance(data["t_s"], l0_settle_s)
    if i_l0 is None:
        raise AnalysisInputError(
            f"no sample at or after the L0 settle time ({l0_settle_s:g} s): L0 is the first "
            "sample at or after it"
        )
    summary = analyse_lifetime(data["t_s"], data["luminance_cd_m2"], extrapolate_to_cd_m2,
                               accel_n, i_l0, resolution_cd_m2)
    return json_ready(summary)


def _photostability(
    columns: Mapping[str, object],
    spectra: Sequence[Spectrum | Mapping[str, Any]] | None = None,
    locate: Locate | None = None,
) -> dict[str, Any]:
    data = validated(dict(columns), locate or sample_locator)
    check_times(data["t_s"], locate or sample_locator)
    check_non_negative(data["pl"], "pl", locate or sample_locator, NO_NEGATIVE_LIGHT)
    if data["pl"][0] <= 0:
        raise AnalysisInputError(
            f"{(locate or sample_locator)(0)}: the first PL point is 0: the fractions are relative to "
            "it, so it must carry light (did the shutter open before the first point?)"
        )
    summary = analyse_photostability(data["t_s"], data["pl"])
    if spectra:
        summary.update(peak_drift(spectra))
    return json_ready(summary)


def _jvl(
    columns: Mapping[str, object], spectrum: Spectrum | None, locate: Locate | None = None
) -> dict[str, Any]:
    data = validated(dict(columns), locate or sample_locator)
    check_non_negative(
        data["luminance_cd_m2"], "luminance_cd_m2", locate or sample_locator, NO_NEGATIVE_LIGHT
    )
    summary = analyse_jvl(
        data["voltage_v"], data["current_density_ma_cm2"], data["luminance_cd_m2"], spectrum
    )
    return json_ready(summary)


def _check_positive(value: float, name: str) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise AnalysisInputError(f"{name} must be a positive number, got {value!r}")


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", e)) for e in errors())
    return str(exc)


def json_ready(value: Any) -> Any:
    """Plain floats, ints, bools, strings, lists and dicts; NaN and infinities become None."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_ready(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value
