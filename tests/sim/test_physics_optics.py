"""The simulated rig's photodiode calibration: the host's formula, read back by the host."""

import statistics

import pytest

from hil_sim import optics
from hil_sim.physics.bench import Bench
from host.analysis.spectrum import fwhm_nm, peak_nm
from photometry.photodiode import photocurrent_to_luminance
from photometry.spectrum import Spectrum


@pytest.fixture(scope="module")
def g1_amps_per_cd_m2():
    return optics.pd_amps_per_cd_m2("G1")


def test_50_cd_m2_gives_tens_of_na(g1_amps_per_cd_m2):
    assert 20e-9 < 50.0 * g1_amps_per_cd_m2 < 80e-9


def test_1_cd_m2_gives_about_1_na(g1_amps_per_cd_m2):
    assert 0.5e-9 < g1_amps_per_cd_m2 < 2e-9


def test_stored_spectrum_reads_back_peak_522_nm_and_fwhm_16_nm():
    spectrum = optics.calibration("G1").reference_spectrum
    assert peak_nm(spectrum) == pytest.approx(522.0, abs=0.01)
    assert fwhm_nm(spectrum) == pytest.approx(16.0, abs=0.05)


def test_film_calibration_stores_its_pl_spectrum():
    spectrum = optics.calibration("film").reference_spectrum
    assert isinstance(spectrum, Spectrum) and peak_nm(spectrum) == pytest.approx(522.0, abs=0.01)


def test_stored_dark_current_is_the_simulated_photodiodes_at_26_c():
    assert optics.calibration("G2").dark_current_a == pytest.approx(5e-12 * 1.1)


def test_host_reads_the_simulated_luminance_back(g1_amps_per_cd_m2):
    bench = Bench("G1", 4, g1_amps_per_cd_m2)
    bench.set_supply_setpoint_v(10.0)
    bench.set_output_relay(True)
    bench.advance_to(30.0)
    mean_a = statistics.fmean(bench.photocurrent_a() for _ in range(2000))
    read_cd_m2 = float(photocurrent_to_luminance(mean_a, optics.calibration("G1")))
    assert read_cd_m2 == pytest.approx(bench.luminance_cd_m2(), rel=5e-4)
