"""The eye's photopic response V(lambda), and the grid a spectrum is integrated against it on."""

import math
from functools import lru_cache

import numpy as np

from photometry.spectrum import Spectrum

# Maximum luminous efficacy of radiation for photopic vision (CIE / SI definition of the candela).
K_M_LM_PER_W = 683.0
PHOTOPIC_OBSERVER = "CIE 1924 Photopic Standard Observer"


@lru_cache(maxsize=1)
def _photopic_table() -> tuple[np.ndarray, np.ndarray]:
    # Imported here: colour-science takes seconds to import and most callers never need V.
    from colour.colorimetry import SDS_LEFS_PHOTOPIC

    sd = SDS_LEFS_PHOTOPIC[PHOTOPIC_OBSERVER]
    return np.asarray(sd.wavelengths, float), np.asarray(sd.values, float)


def load_table() -> None:
    """Import colour-science and read V now (a service does it in the background as it
    starts, so its first run page or summary does not wait about a second for it)."""
    _photopic_table()


def photopic_v(wavelength_nm: np.ndarray) -> np.ndarray:
    """CIE 1924 photopic V(lambda) from colour-science, linear between its 1 nm points, 0 outside."""
    wl, v = _photopic_table()
    return np.interp(np.asarray(wavelength_nm, float), wl, v, left=0.0, right=0.0)


def integration_grid(spectrum: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    """The spectrum's own points plus every whole nm inside its span, with S linear between.

    Integrating S x V (or S x R) on this grid resolves V's 1 nm table even when the spectrum
    was sampled coarsely.
    """
    wl, s = spectrum.arrays()
    whole_nm = np.arange(math.ceil(wl[0]), math.floor(wl[-1]) + 1, dtype=float)
    grid = np.union1d(wl, whole_nm)
    return grid, np.interp(grid, wl, s)
