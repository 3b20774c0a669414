"""An emission spectrum (EL or PL) as a validated model: the shape every photometric integral uses."""

from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from photometry.errors import PhotometryInputError

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

# A spectrometer gives a few thousand points; more is a mistake (or a body meant to be large).
MAX_CURVE_POINTS = 10_000
# Spectra outside the near-UV to near-IR range are not something this rig measures.
MIN_WAVELENGTH_NM = 200.0
MAX_WAVELENGTH_NM = 2000.0
# A curve has at least this many points (check_wavelength_grid).
MIN_CURVE_POINTS = 3
# One column of a measured curve (wavelengths, intensities, responsivities).
CurveColumn = Annotated[list[FiniteFloat], Field(max_length=MAX_CURVE_POINTS)]
# What a curve's wavelength column must be (check_wavelength_grid checks it).
WAVELENGTHS = ("wavelengths, nm; increasing strictly, from %g to %g, at least %d points"
               % (MIN_WAVELENGTH_NM, MAX_WAVELENGTH_NM, MIN_CURVE_POINTS))


class Spectrum(BaseModel):
    """Relative spectral power per nm (energy units, not photon counts), baseline removed.

    Only the shape matters: every formula that uses it takes ratios of integrals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    wavelength_nm: CurveColumn = Field(description=WAVELENGTHS)
    intensity: CurveColumn = Field(description="relative spectral power per nm at each "
                                               "wavelength, baseline removed; none negative, "
                                               "not all zero")

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
    if len(wavelength_nm) < MIN_CURVE_POINTS:
        raise ValueError(f"a curve needs at least {MIN_CURVE_POINTS} points, "
                         f"got {len(wavelength_nm)}")
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
        raise PhotometryInputError(f"spectrum is not usable: {exc}") from exc
