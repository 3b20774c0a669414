"""Photostability of a film under laser irradiation: PL retention, its minimum and recovery."""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from host.analysis.spectrum import peak_nm
from photometry.spectrum import Spectrum, as_spectrum

# A PL peak that moves less than this stayed put (about a spectrometer's resolution step).
PEAK_TOLERANCE_NM = 1.0


def analyse_photostability(t_s: np.ndarray, pl: np.ndarray) -> dict[str, object]:
    """Retention metrics for validated arrays; fractions are of the first PL point.

    recovery_fraction = (highest point after the minimum) - (minimum): the rise that the trap
    healing brings, in units of the initial PL, even when a slower decline (heating) follows it.
    """
    t = np.asarray(t_s, float)
    fraction = np.asarray(pl, float) / float(pl[0])
    i_min = int(np.argmin(fraction))
    min_fraction = float(fraction[i_min])
    return {
        "min_fraction": min_fraction,
        "t_min_s": float(t[i_min]),
        "final_fraction": float(fraction[-1]),
        "recovery_fraction": float(np.max(fraction[i_min:])) - min_fraction,
        "notes": [],
    }


def peak_drift(
    spectra: Sequence["Spectrum | Mapping[str, Any]"], tolerance_nm: float = PEAK_TOLERANCE_NM
) -> dict[str, object]:
    """Did the PL peak stay where it started? Peaks of each spectrum in time order.

    A moving peak or a new one means the film changed phase or composition, and a PL
    retention number would then not describe one emitter.
    """
    peaks = [peak_nm(as_spectrum(s)) for s in spectra]
    shift = max(abs(p - peaks[0]) for p in peaks)
    return {
        "pl_peaks_nm": peaks,
        "peak_shift_max_nm": shift,
        "peak_stable": bool(shift <= tolerance_nm),
    }
