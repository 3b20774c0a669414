"""Peak wavelength and FWHM of an emission spectrum (EL or PL)."""

import numpy as np

from photometry.spectrum import Spectrum


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
