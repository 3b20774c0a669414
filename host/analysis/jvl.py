"""J-V-L characterisation: current, power and external quantum efficiency, turn-on, EL shape."""

import math

import numpy as np
from scipy.constants import c as C_M_S
from scipy.constants import e as Q_C
from scipy.constants import h as H_J_S

from host.analysis.spectrum import fwhm_nm, peak_nm
from photometry.photopic import K_M_LM_PER_W, integration_grid, photopic_v
from photometry.spectrum import Spectrum

TURN_ON_CD_M2 = 1.0
# Below this luminance the ratio L/J is photodiode noise over a tiny current, not efficiency.
MIN_EFFICIENCY_LUMINANCE_CD_M2 = 1.0


def current_density_ma_cm2(current_a: np.ndarray, pixel_area_mm2: float) -> np.ndarray:
    """J = I / A: 1 A over 1 mm2 is 1e5 mA/cm2 (1000 mA per A, 100 mm2 per cm2)."""
    return np.asarray(current_a, float) * 1e5 / pixel_area_mm2


def current_efficiency_cd_a(
    luminance_cd_m2: np.ndarray, current_density_ma_cm2: np.ndarray
) -> np.ndarray:
    """CE = L / J, with J in A/m2 (1 mA/cm2 = 10 A/m2); NaN where J <= 0."""
    j_a_m2 = np.asarray(current_density_ma_cm2, float) * 10.0
    with np.errstate(all="ignore"):
        return np.where(j_a_m2 > 0, np.asarray(luminance_cd_m2, float) / j_a_m2, np.nan)


def power_efficiency_lm_w(ce_cd_a: np.ndarray, voltage_v: np.ndarray) -> np.ndarray:
    """PE = pi CE / V for a Lambertian emitter (flux pi L A over electrical power V J A)."""
    v = np.asarray(voltage_v, float)
    with np.errstate(all="ignore"):
        return np.where(v > 0, math.pi * np.asarray(ce_cd_a, float) / v, np.nan)


def eqe_per_cd_a(spectrum: Spectrum) -> float:
    """EQE (fraction) per cd/A of current efficiency for a Lambertian emitter of this spectrum.

    photons/s/m2 = pi L int(S lambda) / (h c K_m int(S V)); electrons/s/m2 = J / q;
    so EQE = CE * pi q int(S lambda) / (h c K_m int(S V))  (S in power per nm).
    """
    grid, s = integration_grid(spectrum)
    s_lambda_m = float(np.trapezoid(s * grid * 1e-9, grid))
    s_v = float(np.trapezoid(s * photopic_v(grid), grid))
    return math.pi * Q_C * s_lambda_m / (H_J_S * C_M_S * K_M_LM_PER_W * s_v)


def _crossing(luminance_cd_m2: np.ndarray, level_cd_m2: float) -> tuple[int, float] | None:
    """(i, share): the sweep first reaches level_cd_m2 between points i - 1 and i, share of
    the way along.  Between two lit points luminance is interpolated on a log scale (it rises
    exponentially near turn-on); from a dark point, linearly.  None when the sweep never
    reaches the level or starts at or above it (no bracket to interpolate in)."""
    lum = np.asarray(luminance_cd_m2, float)
    above = np.flatnonzero(lum >= level_cd_m2)
    if len(above) == 0 or above[0] == 0:
        return None
    i = int(above[0])
    l0, l1 = lum[i - 1], lum[i]
    if l0 > 0:
        share = (math.log(level_cd_m2) - math.log(l0)) / (math.log(l1) - math.log(l0))
    else:
        share = (level_cd_m2 - l0) / (l1 - l0)
    return i, share


def _at_crossing(values: np.ndarray, crossing: tuple[int, float] | None) -> float | None:
    """values interpolated at a crossing (None without one or with a non-finite end)."""
    if crossing is None:
        return None
    i, share = crossing
    before, after = float(values[i - 1]), float(values[i])
    if not (math.isfinite(before) and math.isfinite(after)):
        return None
    return before + share * (after - before)


def turn_on_voltage_v(
    voltage_v: np.ndarray, luminance_cd_m2: np.ndarray, threshold_cd_m2: float = TURN_ON_CD_M2
) -> float | None:
    """Voltage at which the sweep first reaches threshold_cd_m2, interpolated (_crossing)."""
    return _at_crossing(np.asarray(voltage_v, float), _crossing(luminance_cd_m2,
                                                                threshold_cd_m2))


def _max_or_none(values: np.ndarray, mask: np.ndarray) -> float | None:
    picked = values[mask & np.isfinite(values)]
    return float(np.max(picked)) if len(picked) else None


def analyse_jvl(
    voltage_v: np.ndarray,
    current_density_ma_cm2: np.ndarray,
    luminance_cd_m2: np.ndarray,
    spectrum: Spectrum | None = None,
) -> dict[str, object]:
    """J-V-L summary for validated arrays (see commands.summarize_jvl)."""
    v = np.asarray(voltage_v, float)
    j = np.asarray(current_density_ma_cm2, float)
    lum = np.asarray(luminance_cd_m2, float)
    notes: list[str] = []
    ce = current_efficiency_cd_a(lum, j)
    pe = power_efficiency_lm_w(ce, v)
    lit = (lum >= MIN_EFFICIENCY_LUMINANCE_CD_M2) & (j > 0) & (v > 0)
    if not np.any(lit):
        notes.append(
            f"no point with luminance >= {MIN_EFFICIENCY_LUMINANCE_CD_M2:g} cd/m2 at positive "
            "current and voltage: efficiencies are null"
        )
    ce_max = _max_or_none(ce, lit)
    out: dict[str, object] = {
        "eqe_max_pct": None,
        "ce_max_cd_a": ce_max,
        "pe_max_lm_w": _max_or_none(pe, lit),
        "l_max_cd_m2": float(np.max(lum)),
        "turn_on_v": turn_on_voltage_v(v, lum),
        "peak_nm": None,
        "fwhm_nm": None,
    }
    at_100 = _crossing(lum, 100.0)
    out["v_at_100_cd_m2"] = _at_crossing(v, at_100)
    out["v_at_1000_cd_m2"] = _at_crossing(v, _crossing(lum, 1000.0))
    out["ce_at_100_cd_m2_cd_a"] = _at_crossing(ce, at_100)
    out["eqe_at_100_cd_m2_pct"] = None
    if out["turn_on_v"] is None:
        where = "starts above" if lum[0] >= TURN_ON_CD_M2 else "never reaches"
        notes.append(f"turn_on_v is null: the sweep {where} {TURN_ON_CD_M2:g} cd/m2")
    if spectrum is None:
        notes.append(
            "no EL spectrum: eqe_max_pct, eqe_at_100_cd_m2_pct, peak_nm and fwhm_nm need the "
            "device's spectrum "
            "(--spectrum FILE.csv with wavelength_nm,intensity)"
        )
    else:
        eqe_pct_per_cd_a = 100.0 * eqe_per_cd_a(spectrum)
        if ce_max is not None:
            out["eqe_max_pct"] = ce_max * eqe_pct_per_cd_a
        ce_at_100 = out["ce_at_100_cd_m2_cd_a"]
        if isinstance(ce_at_100, float):
            out["eqe_at_100_cd_m2_pct"] = ce_at_100 * eqe_pct_per_cd_a
        out["peak_nm"] = peak_nm(spectrum)
        out["fwhm_nm"] = fwhm_nm(spectrum)
        if out["fwhm_nm"] is None:
            notes.append("fwhm_nm is null: the spectrum does not fall to half on both sides")
    out["notes"] = notes
    return out
