"""Photodiode photocurrent to luminance of a Lambertian emitter, and the per-rig calibration.

The simulator builds its photodiode with `photocurrent_per_luminance` and the host's analysis
inverts it with `luminance_per_amp`: one formula, two directions.
"""

import math
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from photometry.errors import PhotometryInputError
from photometry.photopic import K_M_LM_PER_W, integration_grid, photopic_v
from photometry.spectrum import (
    WAVELENGTHS,
    CurveColumn,
    Spectrum,
    as_spectrum,
    check_wavelength_grid,
)

# Photon energy h*c/q in eV*nm: responsivity at 100 % quantum efficiency is lambda_nm / this (A/W).
HC_OVER_Q_EV_NM = 1239.841984

# The share of the spectrum's power the responsivity curve may leave uncovered.
MAX_UNCOVERED_POWER_FRACTION = 0.01
# A photodiode answering less than this (A/W) at its best, or averaged over the light it is
# to measure, is blind to it or was given in the wrong units (mA/W, %): a bare silicon
# photodiode gives 0.2-0.6 A/W in the visible, a photopic-filtered one still 0.01-0.3.
MIN_PEAK_RESPONSIVITY_A_PER_W = 1e-3
MIN_BAND_RESPONSIVITY_A_PER_W = 1e-4


class ResponsivityCurve(BaseModel):
    """Photodiode spectral responsivity in A/W, linear between points."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wavelength_nm: CurveColumn = Field(description=WAVELENGTHS)
    a_per_w: CurveColumn = Field(description=(
        "responsivity at each wavelength, A/W; from 0 to the 100 %% quantum-efficiency limit "
        "(wavelength_nm / %g), peaking at %g or more" % (HC_OVER_Q_EV_NM,
                                                         MIN_PEAK_RESPONSIVITY_A_PER_W)))

    @model_validator(mode="after")
    def _check_physical(self) -> "ResponsivityCurve":
        check_wavelength_grid(self.wavelength_nm, self.a_per_w, "a_per_w")
        for wl, r in zip(self.wavelength_nm, self.a_per_w, strict=True):
            limit = wl / HC_OVER_Q_EV_NM
            if r < 0:
                raise ValueError(f"responsivity {r} A/W at {wl} nm is negative")
            if r > limit * 1.0001:
                raise ValueError(
                    f"responsivity {r} A/W at {wl} nm exceeds the 100 % quantum-efficiency "
                    f"limit {limit:.3f} A/W: check the units (A/W, not mA/W or %)"
                )
        if max(self.a_per_w) < MIN_PEAK_RESPONSIVITY_A_PER_W:
            raise ValueError(
                f"responsivity peaks at {max(self.a_per_w):g} A/W, below "
                f"{MIN_PEAK_RESPONSIVITY_A_PER_W:g} A/W: no photodiode is that blind; check the "
                "units (A/W)")
        return self

    def at(self, wavelength_nm: np.ndarray) -> np.ndarray:
        """Responsivity (A/W) at the given wavelengths; 0 outside the curve."""
        return np.interp(
            np.asarray(wavelength_nm, float),
            np.asarray(self.wavelength_nm, float),
            np.asarray(self.a_per_w, float),
            left=0.0,
            right=0.0,
        )


class PhotodiodeCalibration(BaseModel):
    """Everything that turns one rig's photocurrent into luminance; stored with every run.

    The photodiode (radius pd_radius_mm) sits on the pixel's axis at pd_distance_mm from it.
    scale_factor multiplies the computed luminance (from a cross-check with a luminance meter;
    1.0 when none was made).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Bounds a benchtop rig can have: a photodiode of 0.1 mm to 100 mm across, 0.1 mm to 1 m
    # from the pixel, and a pixel from 10 um x 10 um to 10 cm x 10 cm.
    pd_radius_mm: Annotated[float, Field(
        ge=0.05, le=50, allow_inf_nan=False,
        description="radius of the photodiode's active area, mm")]
    pd_distance_mm: Annotated[float, Field(
        ge=0.1, le=1000, allow_inf_nan=False,
        description="distance from the pixel to the photodiode, on the pixel's axis, mm")]
    pixel_area_mm2: Annotated[float, Field(
        ge=1e-4, le=10000, allow_inf_nan=False,
        description="emitting area of the pixel, mm2; a run's device area_mm2 replaces it")]
    responsivity: ResponsivityCurve = Field(description="the photodiode's spectral "
                                                        "responsivity")
    dark_current_a: Annotated[float, Field(
        ge=-1e-6, le=1e-6, allow_inf_nan=False,
        description="photodiode current in the dark, subtracted from every reading, A")] = 0.0
    scale_factor: Annotated[float, Field(
        ge=0.1, le=10, allow_inf_nan=False,
        description="multiplies the computed luminance: from a cross-check with a luminance "
                    "meter, 1 when none was made")] = 1.0
    reference_spectrum: Spectrum | None = Field(None, description=(
        "the device's EL spectrum, for luminance when a run gives none; the responsivity "
        "curve must cover all but %g %% of its power" % (100 * MAX_UNCOVERED_POWER_FRACTION)))

    @model_validator(mode="after")
    def _check_coverage(self) -> "PhotodiodeCalibration":
        if self.reference_spectrum is not None:
            check_responsivity_covers(self.responsivity, self.reference_spectrum)
        return self


def check_photodiode_sees(responsivity: ResponsivityCurve, spectrum: Spectrum) -> None:
    """Raise ValueError when the responsivity averaged over the spectrum's power is below
    MIN_BAND_RESPONSIVITY_A_PER_W: the luminance would be a noise floor times a huge gain."""
    grid, s = integration_grid(spectrum)
    mean = float(np.trapezoid(s * responsivity.at(grid), grid) / np.trapezoid(s, grid))
    if mean < MIN_BAND_RESPONSIVITY_A_PER_W:
        raise ValueError(
            f"the photodiode's responsivity averaged over the spectrum is {mean:g} A/W, below "
            f"{MIN_BAND_RESPONSIVITY_A_PER_W:g} A/W: it is blind where the device emits")


def check_responsivity_covers(responsivity: ResponsivityCurve, spectrum: Spectrum) -> None:
    """Raise ValueError when more than 1 % of the spectrum's power lies outside the curve."""
    grid, s = integration_grid(spectrum)
    outside = (grid < responsivity.wavelength_nm[0]) | (grid > responsivity.wavelength_nm[-1])
    total = float(np.trapezoid(s, grid))
    uncovered = float(np.trapezoid(np.where(outside, s, 0.0), grid))
    if uncovered > MAX_UNCOVERED_POWER_FRACTION * total:
        raise ValueError(
            f"the responsivity curve covers {responsivity.wavelength_nm[0]}.."
            f"{responsivity.wavelength_nm[-1]} nm but {100 * uncovered / total:.1f} % of the "
            "spectrum's power lies outside it: extend the responsivity curve"
        )
    check_photodiode_sees(responsivity, spectrum)


def collected_fraction(pd_radius_mm: float, pd_distance_mm: float) -> float:
    """Share of a Lambertian emitter's flux reaching an on-axis disc: sin^2 of its half-angle.

    Source: integrating cos(theta) over the cone, r^2 / (d^2 + r^2) (e.g. McCluney,
    Introduction to Radiometry and Photometry, on-axis disc from a small Lambertian source).
    """
    r2 = pd_radius_mm * pd_radius_mm
    return r2 / (pd_distance_mm * pd_distance_mm + r2)


def luminance_per_amp(
    calibration: PhotodiodeCalibration, spectrum: "Spectrum | Mapping[str, Any] | None" = None
) -> float:
    """cd/m2 of the pixel per A of dark-corrected photocurrent, scale factor included.

    L = K_m * (I_pd / G) * int(S V) / (pi * A_pixel * int(S R))   (Lambertian emitter).
    The spectrum is the device's EL spectrum; without one, the calibration's reference.
    """
    s = _spectrum_for(calibration, spectrum)
    grid, intensity = integration_grid(s)
    sv = float(np.trapezoid(intensity * photopic_v(grid), grid))
    sr = float(np.trapezoid(intensity * calibration.responsivity.at(grid), grid))
    if sv <= 0:
        raise PhotometryInputError("the spectrum has no power where the eye sees (V = 0 there)")
    if sr <= 0:
        raise PhotometryInputError(
            "the photodiode is blind to this spectrum (S x R integrates to 0)")
    g = collected_fraction(calibration.pd_radius_mm, calibration.pd_distance_mm)
    area_m2 = calibration.pixel_area_mm2 * 1e-6
    return calibration.scale_factor * K_M_LM_PER_W * sv / (g * math.pi * area_m2 * sr)


def photocurrent_per_luminance(
    calibration: PhotodiodeCalibration, spectrum: "Spectrum | Mapping[str, Any] | None" = None
) -> float:
    """A of photocurrent (above dark) per cd/m2: the exact inverse of `luminance_per_amp`."""
    return 1.0 / luminance_per_amp(calibration, spectrum)


def photocurrent_to_luminance(
    photocurrent_a: "np.ndarray | list[float] | float",
    calibration: PhotodiodeCalibration,
    spectrum: "Spectrum | Mapping[str, Any] | None" = None,
    clip_negative: bool = True,
) -> np.ndarray:
    """Luminance (cd/m2) of each photocurrent reading (A), dark current subtracted.

    A reading below the dark current is noise around zero light; with clip_negative it reads
    0 cd/m2 so downstream metrics never see a negative luminance.
    """
    current = np.asarray(photocurrent_a, float)
    luminance = (current - calibration.dark_current_a) * luminance_per_amp(calibration, spectrum)
    return np.maximum(luminance, 0.0) if clip_negative else luminance


def _spectrum_for(
    calibration: PhotodiodeCalibration, spectrum: "Spectrum | Mapping[str, Any] | None"
) -> Spectrum:
    if spectrum is None:
        if calibration.reference_spectrum is None:
            raise PhotometryInputError(
                "luminance needs the EL spectrum: pass one or store a reference_spectrum "
                "in the rig's photodiode calibration"
            )
        return calibration.reference_spectrum
    s = as_spectrum(spectrum)
    try:
        check_responsivity_covers(calibration.responsivity, s)
    except ValueError as exc:
        raise PhotometryInputError(str(exc)) from exc
    return s
