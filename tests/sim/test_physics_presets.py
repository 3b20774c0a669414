"""Each preset reproduces the reference study's headline numbers at the physics level.

The expected values are the study's (Wang et al. 2018, ACS AMI 10, 19828: Table 1, the text
on Figures 3 and 5 and on Figure S17) typed here, not read from hil_sim.presets.
"""

import itertools
import math

import numpy as np
import pytest

from hil_sim import presets
from hil_sim.optics import reference_spectrum
from hil_sim.physics.bench import Bench
from hil_sim.physics.led import Led
from photometry.photopic import K_M_LM_PER_W, photopic_v

PIXEL_AREA_M2 = 1e-6  # study: 1 x 1 mm2 emission area
PD_AMPS_PER_CD_M2 = 1e-9  # any factor: these tests read the ground-truth luminance
Q_C = 1.602176634e-19
H_J_S = 6.62607015e-34
C_M_S = 299792458.0


def sweep(preset_name, step_v=0.01, dwell_s=1e-5):
    """A fast J-V-L sweep of a fresh pixel: (V, J in A/m2, L in cd/m2) arrays.

    10 us per point (the supply's slew time for 10 mV) keeps the stress of the whole sweep
    negligible even near G1's peak, where T50 is under 2 s.
    """
    bench = Bench(preset_name, 1, PD_AMPS_PER_CD_M2)
    bench.set_output_relay(True)
    t = 0.0
    rows = []
    for i in range(round(20.0 / step_v) + 1):
        bench.set_supply_setpoint_v(i * step_v)
        t += dwell_s
        bench.advance_to(t)
        rows.append((bench.dut_voltage_v(), bench.dut_current_a() / PIXEL_AREA_M2,
                     bench.luminance_cd_m2()))
    return np.array(rows).T


def fresh_luminance(preset_name, voltage_v):
    led = Led(presets.preset(preset_name))
    led.fresh_point(voltage_v)
    return led.point_luminance_cd_m2


def voltage_for(preset_name, luminance_cd_m2):
    """The voltage at which the fresh pixel gives luminance_cd_m2 (bisection below its peak)."""
    lo, hi = 0.0, 13.8 if preset_name == "G1" else 15.9
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fresh_luminance(preset_name, mid) < luminance_cd_m2 else (lo, mid)
    return 0.5 * (lo + hi)


def measured_t50_s(preset_name, voltage_v, step_s):
    """Hold voltage_v and return how long after the supply's ramp L reaches half its fresh value."""
    l0 = fresh_luminance(preset_name, voltage_v)
    bench = Bench(preset_name, 1, PD_AMPS_PER_CD_M2)
    bench.set_supply_setpoint_v(voltage_v)
    bench.set_output_relay(True)
    t = voltage_v / (presets.RIG["supply_slew_v_per_ms"] * 1000.0)
    bench.advance_to(t)
    t_start, t_prev, l_prev = t, t, l0
    while True:
        t += step_s
        bench.advance_to(t)
        lum = bench.luminance_cd_m2()
        if lum <= 0.5 * l0:
            return t_prev + (l_prev - 0.5 * l0) * (t - t_prev) / (l_prev - lum) - t_start
        t_prev, l_prev = t, lum


def eqe_from(current_density_a_m2, luminance_cd_m2, preset_name):
    """EQE of a Lambertian emitter: photons out per electron in, with the preset's spectrum.

    Photons per lumen = int(S lambda / hc) / (K_m int(S V)); flux = pi L (Lambertian).
    """
    s = reference_spectrum(preset_name)
    wl = np.array(s["wavelength_nm"])
    intensity = np.array(s["intensity"])
    photons_per_lm = np.trapezoid(intensity * wl * 1e-9 / (H_J_S * C_M_S), wl) / (
        K_M_LM_PER_W * np.trapezoid(intensity * photopic_v(wl), wl))
    return math.pi * luminance_cd_m2 * photons_per_lm / (current_density_a_m2 / Q_C)


SWEEPS = {}


def cached_sweep(preset_name):
    if preset_name not in SWEEPS:
        SWEEPS[preset_name] = sweep(preset_name)
    return SWEEPS[preset_name]


def test_g1_gives_50_cd_m2_at_10_v():
    # Study: lifetime at "a constant voltage of 10 V (~50 cd m-2)".
    assert fresh_luminance("G1", 10.0) == pytest.approx(50.0, rel=0.01)


def test_g2_reaches_50_cd_m2_at_14_v():
    # PE max 0.04 lm/W = pi * CE max / V puts the CE peak of G2 at 14.1 V, where
    # J = 28 mA/cm2 and CE 0.18 cd/A give 50 cd/m2: the study's T50 luminance.
    assert voltage_for("G2", 50.0) == pytest.approx(14.0, abs=0.05)


# Study: Table 1 and the text on Figure 5 ("from 28 mA cm-2 for device G2 to 101 mA cm-2 at
# 14 V").  Tolerances: the study's rounding, or 0.5 %.
@pytest.mark.parametrize("preset_name, ma_cm2", [("G1", 101.0), ("G2", 28.0)])
def test_current_density_at_14_v_is_the_studys(preset_name, ma_cm2):
    v, j, _ = cached_sweep(preset_name)
    assert j[np.argmin(abs(v - 14.0))] / 10.0 == pytest.approx(ma_cm2, rel=0.005)


@pytest.mark.parametrize("preset_name, cd_m2", [("G1", 1562.0), ("G2", 140.0)])
def test_maximum_luminance_is_the_studys(preset_name, cd_m2):
    assert cached_sweep(preset_name)[2].max() == pytest.approx(cd_m2, rel=0.005)


@pytest.mark.parametrize("preset_name, cd_a, tolerance", [("G1", 5.57, 0.005), ("G2", 0.18, 0.005)])
def test_maximum_current_efficiency_is_the_studys(preset_name, cd_a, tolerance):
    _, j, lum = cached_sweep(preset_name)
    lit = j > 0
    assert (lum[lit] / j[lit]).max() == pytest.approx(cd_a, abs=tolerance)


@pytest.mark.parametrize("preset_name, lm_w, tolerance", [("G1", 1.59, 0.005), ("G2", 0.04, 0.0005)])
def test_maximum_power_efficiency_is_the_studys(preset_name, lm_w, tolerance):
    # Lambertian: PE = pi L / (J V).
    v, j, lum = cached_sweep(preset_name)
    lit = j > 0
    assert (math.pi * lum[lit] / (j[lit] * v[lit])).max() == pytest.approx(lm_w, abs=tolerance)


# G2's 0.05 % is what its CE 0.18 cd/A gives for a Lambertian 522 nm / 16 nm emitter; G1's
# 1.70 % is not (its CE 5.57 cd/A gives 1.47 %): the preset keeps CE, see hil_sim/README.md.
@pytest.mark.parametrize("preset_name, percent, tolerance", [("G1", 1.47, 0.01), ("G2", 0.05, 0.005)])
def test_maximum_eqe_is_what_the_maximum_ce_implies_for_a_lambertian_emitter(
        preset_name, percent, tolerance):
    _, j, lum = cached_sweep(preset_name)
    lit = j > 0
    assert max(eqe_from(j[lit], lum[lit], preset_name)) * 100 == pytest.approx(percent,
                                                                               abs=tolerance)


def test_g1_half_life_at_10_v_is_630_s():
    assert measured_t50_s("G1", 10.0, 1.0) == pytest.approx(630.0, rel=0.01)


def test_g2_half_life_at_50_cd_m2_is_35_s():
    assert measured_t50_s("G2", voltage_for("G2", 50.0), 0.05) == pytest.approx(35.0, rel=0.01)


@pytest.mark.parametrize("voltage_v", [9.5, 10.5, 11.0, 12.0])
def test_g1_half_life_follows_l0_to_the_1_7_acceleration_law(voltage_v):
    # L0^n * T50 = const with n = 1.7, anchored at 50 cd/m2 and 630 s.
    l0 = fresh_luminance("G1", voltage_v)
    expected_s = 630.0 * (50.0 / l0) ** 1.7
    assert measured_t50_s("G1", voltage_v, expected_s / 400) == pytest.approx(expected_s,
                                                                               rel=0.01)


@pytest.fixture(scope="module")
def film_pl_every_5_min():
    """PL fraction at the study's 5-minute points over 120 min of 442 nm light."""
    bench = Bench("film", 1, PD_AMPS_PER_CD_M2)
    bench.set_laser(True)
    bench.set_shutter_drive(True)
    points = []
    for minute in range(0, 125, 5):
        bench.advance_to(minute * 60.0)
        points.append((minute, bench.pl_fraction()))
    return points


def test_film_pl_bottoms_out_at_0_75_near_35_min(film_pl_every_5_min):
    minute, fraction = min(film_pl_every_5_min, key=lambda p: p[1])
    assert minute == 35
    assert fraction == pytest.approx(0.75, abs=0.005)


def test_film_pl_ends_at_0_88_after_120_min(film_pl_every_5_min):
    assert film_pl_every_5_min[-1] == (120, pytest.approx(0.88, abs=0.005))


def test_film_pl_recovers_after_the_minimum(film_pl_every_5_min):
    after = [f for m, f in film_pl_every_5_min if m >= 35]
    assert all(b > a for a, b in itertools.pairwise(after))
