"""An emission spectrum (EL or PL) as a validated model, with its peak and FWHM."""

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from host.analysis.errors import AnalysisInputError

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

# A spectrometer gives a few thousand points; more is a mistake (or a body meant to be large).
MAX_CURVE_POINTS = 10_000
# Spectra outside the near-UV to near-IR range are not something this rig measures.
MIN_WAVELENGTH_NM = 200.0
MAX_WAVELENGTH_NM = 2000.0


class Spectrum(BaseModel):
    """Relative spectral power per nm (energy units, not photon counts), baseline removed.

    Only the shape matters: every formula that uses it takes ratios of integrals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    wavelength_nm: Annotated[list[FiniteFloat], Field(max_length=MAX_CURVE_POINTS)]
    intensity: Annotated[list[FiniteFloat], Field(max_length=MAX_CURVE_POINTS)]

    @model_validator(mode="after")
    def _check_shape(self) -> "Spectrum":
        check_wavelength_grid(self.wavelength_nm, self.intensity, "intensity")
        if any(v < 0 for v in self.intensity):
            i = next(i for i, v in enumerate(self.intensity) if v < 0)
            raise ValueError(
                f"intensity[{i}] = {self.intensity[i]} is negative: subtract the baseline and "
                "clip the noise around it to 0"
            )
        if max(self.intensity) <= 0:
            raise ValueError("intensity is zero everywhere: the spectrum carries no light")
        return self

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Wavelength (nm) and intensity as float arrays."""
        return np.asarray(self.wavelength_nm, float), np.asarray(self.intensity, float)


def check_wavelength_grid(wavelength_nm: list[float], values: list[float], name: str) -> None:
    """Raise ValueError unless the grid has >= 3 points, increases strictly and matches values."""
    if len(wavelength_nm) != len(values):
        raise ValueError(
            f"wavelength_nm has {len(wavelength_nm)} points but {name} has {len(values)}"
        )
    if len(wavelength_nm) < 3:
        raise ValueError(f"a curve needs at least 3 points, got {len(wavelength_nm)}")
    for i in range(1, len(wavelength_nm)):
        if wavelength_nm[i] <= wavelength_nm[i - 1]:
            raise ValueError(
                f"wavelength_nm must increase strictly: {wavelength_nm[i]} after "
                f"{wavelength_nm[i - 1]} at index {i}"
            )
    if wavelength_nm[0] < MIN_WAVELENGTH_NM or wavelength_nm[-1] > MAX_WAVELENGTH_NM:
        raise ValueError(
            f"wavelength_nm spans {wavelength_nm[0]}..{wavelength_nm[-1]} nm, outside "
            f"{MIN_WAVELENGTH_NM:.0f}..{MAX_WAVELENGTH_NM:.0f} nm: check the units (nm)"
        )


def as_spectrum(spectrum: "Spectrum | Mapping[str, Any]") -> Spectrum:
    """Accept a Spectrum or a {"wavelength_nm": [...], "intensity": [...]} mapping."""
    if isinstance(spectrum, Spectrum):
        return spectrum
    try:
        return Spectrum.model_validate(spectrum)
    except ValueError as exc:
        raise AnalysisInputError(f"spectrum is not usable: {exc}") from exc


def peak_nm(spectrum: Spectrum) -> float:
    """Peak wavelength: vertex of the parabola through the highest sample and its neighbours.

    Sub-sample position matters when a spectrometer samples every 1-5 nm and peaks are
    compared to a fraction of a nm (PL peak stability).
    """
    return _vertex(spectrum)[0]


def fwhm_nm(spectrum: Spectrum) -> float | None:
    """Full width at half maximum from half-maximum crossings interpolated between samples.

    The maximum is the parabola vertex of `peak_nm`, so a peak between two samples does not
    lower the half level. None when the spectrum does not fall to half on both sides.
    """
    wl, y = spectrum.arrays()
    i = int(np.argmax(y))
    half = _vertex(spectrum)[1] / 2.0
    left = None
    for j in range(i, 0, -1):
        if y[j - 1] <= half:
            left = _cross(wl[j - 1], y[j - 1], wl[j], y[j], half)
            break
    right = None
    for j in range(i, len(y) - 1):
        if y[j + 1] <= half:
            right = _cross(wl[j], y[j], wl[j + 1], y[j + 1], half)
            break
    if left is None or right is None:
        return None
    return float(right - left)


def _vertex(spectrum: Spectrum) -> tuple[float, float]:
    """(wavelength, height) of the parabola through the highest sample and its neighbours."""
    wl, y = spectrum.arrays()
    i = int(np.argmax(y))
    if i == 0 or i == len(y) - 1:
        return float(wl[i]), float(y[i])
    x0, x1, x2 = wl[i - 1], wl[i], wl[i + 1]
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    # y = a x^2 + b x + c through three points of any spacing (Lagrange form).
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    if a >= 0:
        return float(x1), float(y1)
    x = float(min(max(-b / (2 * a), x0), x2))
    c = y1 - a * x1 * x1 - b * x1
    return x, float(a * x * x + b * x + c)


def _cross(x0: float, y0: float, x1: float, y1: float, level: float) -> float:
    """x where the straight line through (x0, y0), (x1, y1) reaches level."""
    if y1 == y0:
        return float(x0)
    return float(x0 + (level - y0) * (x1 - x0) / (y1 - y0))
