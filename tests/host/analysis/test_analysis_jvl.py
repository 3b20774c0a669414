"""J-V-L formulas: current density, CE, PE, EQE, turn-on voltage, EL peak and FWHM."""

import math

import numpy as np
import pytest

from host.analysis.commands import summarize_jvl
from host.analysis.jvl import (
    current_density_ma_cm2,
    current_efficiency_cd_a,
    eqe_per_cd_a,
    power_efficiency_lm_w,
    turn_on_voltage_v,
)
from host.analysis.spectrum import fwhm_nm, peak_nm
from photometry.photopic import photopic_v
from photometry.spectrum import Spectrum

TRIANGLE_555 = Spectrum(wavelength_nm=[554.0, 555.0, 556.0], intensity=[0.0, 1.0, 0.0])


def gaussian_spectrum(peak, fwhm, step_nm=1.0):
    wl = np.arange(peak - 45.0, peak + 45.0 + step_nm / 2, step_nm)
    sigma = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    return Spectrum(
        wavelength_nm=wl.tolist(), intensity=np.exp(-0.5 * ((wl - peak) / sigma) ** 2).tolist()
    )


def test_current_density_from_pixel_area():
    # 1 mA through 1 mm2 = 1e-3 A / 1e-2 cm2 = 100 mA/cm2; 2 mm2 halves it.
    assert current_density_ma_cm2(np.array([1e-3]), 1.0)[0] == pytest.approx(100.0)
    assert current_density_ma_cm2(np.array([1e-3]), 2.0)[0] == pytest.approx(50.0)


def test_current_efficiency_is_luminance_over_current_density():
    # 1000 cd/m2 at 10 mA/cm2 = 100 A/m2: CE = 10 cd/A; J = 0 has no efficiency.
    ce = current_efficiency_cd_a(np.array([1000.0, 5.0]), np.array([10.0, 0.0]))
    assert ce[0] == pytest.approx(10.0)
    assert math.isnan(ce[1])


def test_power_efficiency_is_pi_ce_over_voltage():
    # 10 cd/A at 5 V: pi * 10 / 5 = 6.2832 lm/W.
    assert power_efficiency_lm_w(np.array([10.0]), np.array([5.0]))[0] == pytest.approx(
        6.2832, abs=1e-4
    )


def test_eqe_per_cd_a_matches_hand_worked_example_at_555_nm():
    # int(S lambda) = 555e-9 m * 1 nm, int(S V) = V(555) * 1 nm = 1 nm:
    # pi q lambda / (h c K_m) = pi * 1.602177e-19 * 555e-9 / (6.626070e-34 * 2.997925e8 * 683)
    #                         = 2.793548e-25 / 1.356742e-22 = 2.058985e-3 per cd/A.
    assert eqe_per_cd_a(TRIANGLE_555) == pytest.approx(2.058985e-3, rel=1e-5)


def test_eqe_per_cd_a_scales_with_wavelength_over_v():
    # At 522 nm: 2.058985e-3 * (522/555) / V(522), V(522) = 0.7454636 (CIE 1924).
    tri_522 = Spectrum(wavelength_nm=[521.0, 522.0, 523.0], intensity=[0.0, 1.0, 0.0])
    v522 = float(photopic_v(np.array([522.0]))[0])
    assert v522 == pytest.approx(0.7454636, abs=1e-6)
    assert eqe_per_cd_a(tri_522) == pytest.approx(2.058985e-3 * 522 / 555 / v522, rel=1e-5)


def test_reference_ce_of_5_57_cd_a_means_an_eqe_near_1_47_pct_not_1_70():
    # The reference G1 table gives CE 5.57 cd/A and EQE 1.70 % for a 522 nm, 16 nm FWHM
    # emitter. EQE is CE times a factor fixed by the spectrum, so both maxima are at the same
    # point: 5.57 cd/A gives about 1.47 %; 1.70 % would need about 6.4 cd/A.
    eqe_pct = 100 * 5.57 * eqe_per_cd_a(gaussian_spectrum(522.0, 16.0))
    assert eqe_pct == pytest.approx(1.474, abs=0.01)
    assert 1.70 / (100 * eqe_per_cd_a(gaussian_spectrum(522.0, 16.0))) == pytest.approx(
        6.42, abs=0.02
    )


def test_turn_on_interpolates_on_a_log_scale_between_lit_points():
    # 0.2 cd/m2 at 3.0 V, 5 cd/m2 at 3.5 V: 3.0 + ln(1/0.2)/ln(5/0.2) * 0.5 = 3.0 + 0.5*0.5 = 3.25 V
    assert turn_on_voltage_v(np.array([2.5, 3.0, 3.5]), np.array([0.0, 0.2, 5.0])) == (
        pytest.approx(3.25)
    )


def test_turn_on_interpolates_linearly_from_a_dark_point():
    # 0 cd/m2 at 3.0 V, 4 cd/m2 at 3.5 V: 3.0 + (1 - 0)/(4 - 0) * 0.5 = 3.125 V
    assert turn_on_voltage_v(np.array([3.0, 3.5, 4.0]), np.array([0.0, 4.0, 9.0])) == (
        pytest.approx(3.125)
    )


def test_turn_on_is_null_when_the_sweep_never_lights_or_starts_lit():
    assert turn_on_voltage_v(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.1, 0.5])) is None
    assert turn_on_voltage_v(np.array([5.0, 6.0, 7.0]), np.array([3.0, 10.0, 50.0])) is None


def test_the_tabulated_values_at_100_and_1000_cd_m2_are_read_where_the_sweep_crosses_them():
    # 50 -> 200 cd/m2 from 5 to 6 V: 100 is half way on log L, so 5.5 V; CE there is half way
    # between 50/(10*1) = 5.0 and 200/(10*5) = 4.0 cd/A: 4.5.  1000 cd/m2 is never reached.
    spectrum = gaussian_spectrum(522.0, 16.0)
    s = summarize_jvl([4, 5, 6], [0.1, 1.0, 5.0], [5.0, 50.0, 200.0], spectrum=spectrum)
    assert s["v_at_100_cd_m2"] == pytest.approx(5.5)
    assert s["ce_at_100_cd_m2_cd_a"] == pytest.approx(4.5)
    assert s["eqe_at_100_cd_m2_pct"] == pytest.approx(100 * 4.5 * eqe_per_cd_a(spectrum))
    assert s["v_at_1000_cd_m2"] is None
    bright = summarize_jvl([4, 5, 6, 7], [0.1, 1.0, 5.0, 40.0], [5.0, 50.0, 200.0, 2000.0])
    # 200 -> 2000 from 6 to 7 V: 1000 is log10(5) of the way, 6.699 V.
    assert bright["v_at_1000_cd_m2"] == pytest.approx(6.0 + math.log10(5.0))
    assert bright["eqe_at_100_cd_m2_pct"] is None  # no spectrum


def test_efficiency_maxima_ignore_points_below_one_cd_m2():
    # 0.5 cd/m2 at 1e-3 mA/cm2 would be CE = 0.5 / 0.01 = 50 cd/A: noise over a leakage current.
    # The lit points: 5/(10*0.1) = 5.0 cd/A at 4 V (PE pi*5/4 = 3.927), 40/(10*1) = 4.0 at 5 V.
    s = summarize_jvl([3, 4, 5], [0.001, 0.1, 1.0], [0.5, 5.0, 40.0])
    assert s["ce_max_cd_a"] == pytest.approx(5.0)
    assert s["pe_max_lm_w"] == pytest.approx(3.92699, abs=1e-5)


def test_without_spectrum_spectral_results_are_null_and_notes_say_why():
    s = summarize_jvl([3, 4, 5], [0.001, 0.1, 1.0], [0.5, 5.0, 40.0])
    assert s["eqe_max_pct"] is None and s["peak_nm"] is None and s["fwhm_nm"] is None
    assert any("no EL spectrum" in note for note in s["notes"])


def test_eqe_max_is_ce_max_times_the_spectral_factor():
    spectrum = gaussian_spectrum(522.0, 16.0)
    s = summarize_jvl([3, 4, 5], [0.001, 0.1, 1.0], [0.5, 5.0, 40.0], spectrum=spectrum)
    assert s["eqe_max_pct"] == pytest.approx(100 * 5.0 * eqe_per_cd_a(spectrum))


def test_peak_and_fwhm_of_a_coarse_spectrum_are_interpolated():
    # Samples (515, 2) (520, 10) (525, 4), parabola through them (step h = 5):
    # vertex at 520 + h (2-4) / (2 (2 - 20 + 4)) = 520.357 nm,
    # height 10 - (2-4)^2 / (8 (2 - 20 + 4)) = 10.0357, half 5.01786;
    # left  515 + (5.01786-2)/(10-2)*5   = 516.8862
    # right 520 + (5.01786-10)/(4-10)*5  = 524.1518; FWHM = 7.2656 nm.
    s = Spectrum(wavelength_nm=[510, 515, 520, 525, 530], intensity=[0, 2, 10, 4, 0])
    assert fwhm_nm(s) == pytest.approx(7.2656, abs=1e-4)
    assert peak_nm(s) == pytest.approx(520.357, abs=1e-3)


def test_gaussian_el_spectrum_has_its_peak_and_fwhm():
    s = gaussian_spectrum(522.0, 16.0, step_nm=2.0)
    assert peak_nm(s) == pytest.approx(522.0, abs=0.01)
    assert fwhm_nm(s) == pytest.approx(16.0, abs=0.1)


def test_truncated_spectrum_has_no_fwhm():
    s = Spectrum(wavelength_nm=[520, 521, 522, 523], intensity=[0.9, 1.0, 0.8, 0.6])
    assert fwhm_nm(s) is None
