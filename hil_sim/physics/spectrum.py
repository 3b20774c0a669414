"""Emission spectrum of a preset (EL of the LEDs, PL of the film) on a wavelength grid."""

import math

# FWHM = 2 sqrt(2 ln 2) sigma for a Gaussian.
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def emission_spectrum(wavelengths_nm, peak_nm, fwhm_nm):
    """Relative spectral power per nm (1.0 at the peak) at each wavelength of the grid.

    A Gaussian in wavelength: its peak and FWHM read back exactly as peak_nm and fwhm_nm, the
    two numbers the reference study gives for the band-edge emission of CsPbBr3 nanocrystals.
    """
    k = -0.5 / ((fwhm_nm / _FWHM_PER_SIGMA) ** 2)
    return [math.exp(k * (wl - peak_nm) ** 2) for wl in wavelengths_nm]


def wavelength_grid_nm(peak_nm, fwhm_nm, step_nm=0.5, half_widths=4.0):
    """An even grid around the peak, wide enough that the tails below 1e-10 are left out."""
    half_span = half_widths * fwhm_nm
    n = int(2.0 * half_span / step_nm + 0.5)
    start = peak_nm - half_span
    return [start + i * step_nm for i in range(n + 1)]
