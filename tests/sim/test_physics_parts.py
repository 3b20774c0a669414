"""The bench's parts alone: noise source, supply limit, photodiode, spectrum, ageing law."""

import math
import statistics

import pytest

from hil_sim import presets
from hil_sim.physics.led import Led, stress_tau_s
from hil_sim.physics.photodiode import Photodiode
from hil_sim.physics.rng import Rng
from hil_sim.physics.spectrum import emission_spectrum, wavelength_grid_nm
from hil_sim.physics.supply import Supply


def test_xorshift32_matches_marsaglias_published_sequence():
    # Marsaglia, "Xorshift RNGs", J. Stat. Softw. 8 (2003): y = 2463534242 gives 723471715.
    rng = Rng(0)
    rng.state = 2463534242
    assert rng.next_u32() == 723471715


def test_seeds_zero_and_one_start_far_apart():
    assert (Rng(0).state ^ Rng(1).state).bit_count() > 8


def test_gauss_has_zero_mean_and_unit_spread():
    rng = Rng(42)
    draws = [rng.gauss() for _ in range(40000)]
    assert abs(statistics.fmean(draws)) < 0.02
    assert statistics.pstdev(draws) == pytest.approx(1.0, abs=0.02)


def test_supply_current_limit_holds_a_resistor_at_the_limit():
    # 100 ohm at 20 V would draw 200 mA; the 50 mA limit leaves 5 V on it.
    supply = Supply(1.0, 0.05, 20.0)
    assert supply.limited_v(20.0, lambda v: v / 100.0) == pytest.approx(5.0, abs=1e-5)


def test_supply_current_limit_leaves_a_light_load_alone():
    supply = Supply(1.0, 0.05, 20.0)
    assert supply.limited_v(20.0, lambda v: v / 1000.0) == 20.0


def test_shot_noise_of_a_dark_photodiode_follows_schottky():
    # No signal, no floor: sigma = sqrt(2 q I B) = sqrt(2 * 1.602e-19 * 5.5e-12 * 10) = 4.2e-15 A
    rig = dict(presets.RIG, pd_noise_floor_a=0.0)
    pd = Photodiode(rig, 0.0)
    one_sigma_a = pd.reading_a(0.0, 5.5e-12, 1.0) - 5.5e-12
    assert one_sigma_a == pytest.approx(math.sqrt(2 * 1.602176634e-19 * 5.5e-12 * 10.0))


def test_dark_current_rises_1_1_times_per_degree():
    pd = Photodiode(presets.RIG, 0.0)
    assert pd.dark_a(36.0, 0.0) / pd.dark_a(26.0, 0.0) == pytest.approx(1.1 ** 10)


def test_emission_spectrum_peaks_at_its_peak_and_halves_at_half_the_fwhm():
    s = emission_spectrum([522.0, 514.0, 530.0], 522.0, 16.0)
    assert s == pytest.approx([1.0, 0.5, 0.5])


def test_wavelength_grid_reaches_four_fwhm_each_side():
    grid = wavelength_grid_nm(522.0, 16.0)
    assert grid[0] == pytest.approx(458.0) and grid[-1] == pytest.approx(586.0)


def test_stretched_exponential_halves_the_luminance_at_t50():
    # L / L0 = R q with R = exp(-(t/tau)^beta), q = 1 - d (1 - R).
    led = Led(presets.preset("G1"))
    r, q = led.aged_factors(630.0)
    assert r * q == pytest.approx(0.5, rel=1e-12)


def test_without_current_drift_tau_is_the_plain_stretched_exponential_one():
    # exp(-(T50/tau)^beta) = 1/2  =>  tau = T50 / ln(2)^(1/beta).
    assert stress_tau_s(630.0, 0.8, 0.0) == pytest.approx(630.0 / math.log(2.0) ** 1.25)
