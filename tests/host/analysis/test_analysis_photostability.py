"""Photostability metrics: PL fractions of the first point, minimum, recovery, peak stability."""

import numpy as np
import pytest

from host.analysis.commands import summarize_photostability
from host.analysis.errors import AnalysisInputError

T_S = [0, 300, 600, 900, 1200, 1500, 1800, 2100]


def test_fractions_are_of_the_first_point():
    # PL 200 -> 150 (0.75 at 900 s) -> 180 (0.90) -> 176 (0.88):
    # recovery = 0.90 - 0.75 = 0.15; final = 176/200 = 0.88.
    s = summarize_photostability(T_S, [200, 180, 160, 150, 160, 180, 178, 176])
    assert s["min_fraction"] == pytest.approx(0.75)
    assert s["t_min_s"] == 900.0
    assert s["recovery_fraction"] == pytest.approx(0.15)
    assert s["final_fraction"] == pytest.approx(0.88)


def test_recovery_counts_the_highest_point_after_the_minimum_not_the_final_one():
    # Rise to 0.95 then a decline to 0.80: recovery 0.95 - 0.70 = 0.25, final 0.80.
    s = summarize_photostability(T_S, [1.0, 0.8, 0.7, 0.85, 0.95, 0.9, 0.85, 0.8])
    assert s["recovery_fraction"] == pytest.approx(0.25)
    assert s["final_fraction"] == pytest.approx(0.80)


def test_a_steady_decline_has_no_recovery():
    s = summarize_photostability(T_S, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    assert s["recovery_fraction"] == 0.0
    assert s["min_fraction"] == pytest.approx(0.3) == pytest.approx(s["final_fraction"])
    assert s["t_min_s"] == 2100.0


def test_fractions_do_not_depend_on_the_detector_scale():
    pl = np.array([200, 180, 160, 150, 160, 180, 178, 176], float)
    assert summarize_photostability(T_S, pl) == summarize_photostability(T_S, 37.5 * pl)


def test_first_point_without_light_is_rejected():
    with pytest.raises(AnalysisInputError, match="first PL point is 0"):
        summarize_photostability([0, 1, 2], [0.0, 1.0, 2.0])


def gaussian(peak_nm):
    wl = np.arange(480.0, 570.0, 1.0)
    return {"wavelength_nm": wl.tolist(), "intensity": np.exp(-0.5 * ((wl - peak_nm) / 7) ** 2)}


def test_pl_peak_that_stays_within_a_nanometre_is_stable():
    spectra = [gaussian(522.0), gaussian(522.4), gaussian(521.7)]
    s = summarize_photostability([0, 300, 600], [1.0, 0.9, 0.95], spectra=spectra)
    assert s["pl_peaks_nm"] == pytest.approx([522.0, 522.4, 521.7], abs=0.05)
    assert s["peak_shift_max_nm"] == pytest.approx(0.4, abs=0.05)
    assert s["peak_stable"] is True


def test_pl_peak_that_moves_is_flagged():
    spectra = [gaussian(522.0), gaussian(524.0), gaussian(527.0)]
    s = summarize_photostability([0, 300, 600], [1.0, 0.9, 0.95], spectra=spectra)
    assert s["peak_shift_max_nm"] == pytest.approx(5.0, abs=0.05)
    assert s["peak_stable"] is False
