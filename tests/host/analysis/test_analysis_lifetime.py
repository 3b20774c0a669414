"""Lifetime analysis: L0, T95/T80/T50 by interpolation, stretched-exponential fit, extrapolation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from host.analysis.commands import AnalysisInputError, summarize_lifetime
from host.analysis.lifetime import extrapolate_t50_s, fit_time_to_fraction_s, noise_sd
from host.analysis.smoothing import running_median


def stretched(t_s, l0, tau_s, beta):
    return l0 * np.exp(-((np.asarray(t_s, float) / tau_s) ** beta))


def t_fraction(tau_s, beta, x):
    return tau_s * (-math.log(x)) ** (1.0 / beta)


# tau = 1000 s, beta = 0.8:
# T50 = 1000 * ln(2)^1.25      = 1000 * 0.693147^1.25 = 632.46 s
# T80 = 1000 * (-ln 0.8)^1.25  = 1000 * 0.223144^1.25 = 153.37 s
# T95 = 1000 * (-ln 0.95)^1.25 = 1000 * 0.051293^1.25 = 24.41 s
T50_HAND, T80_HAND, T95_HAND = 632.46, 153.37, 24.41


def test_fit_time_to_fraction_matches_hand_worked_values():
    assert fit_time_to_fraction_s(1000.0, 0.8, 0.5) == pytest.approx(T50_HAND, abs=0.01)
    assert fit_time_to_fraction_s(1000.0, 0.8, 0.8) == pytest.approx(T80_HAND, abs=0.01)
    assert fit_time_to_fraction_s(1000.0, 0.8, 0.95) == pytest.approx(T95_HAND, abs=0.01)


def test_crossings_are_interpolated_linearly_between_samples():
    # L0 = 100 (end rule: median(100, 90, 3*90 - 2*70 = 130) = 100).
    # T95 between (0 s, 100) and (10 s, 90):  0 + (100-95)/(100-90)*10 = 5 s
    # T80 between (10 s, 90) and (20 s, 70): 10 + (90-80)/(90-70)*10  = 15 s
    # T50 between (20 s, 70) and (30 s, 40): 20 + (70-50)/(70-40)*10  = 26.667 s
    s = summarize_lifetime([0, 10, 20, 30, 40], [100, 90, 70, 40, 30])
    assert s["l0_cd_m2"] == 100.0
    assert s["t95_s"] == pytest.approx(5.0)
    assert s["t80_s"] == pytest.approx(15.0)
    assert s["t50_s"] == pytest.approx(26.6667, abs=1e-3)


def test_clean_stretched_exponential_gives_exact_lifetimes_and_parameters():
    t = np.linspace(0, 1500, 1501)
    s = summarize_lifetime(t, stretched(t, 50.0, 1000.0, 0.8))
    assert s["l0_cd_m2"] == pytest.approx(50.0)
    assert s["t50_s"] == pytest.approx(T50_HAND, abs=0.05)
    assert s["t80_s"] == pytest.approx(T80_HAND, abs=0.05)
    assert s["t95_s"] == pytest.approx(T95_HAND, abs=0.05)
    assert s["fit_tau_s"] == pytest.approx(1000.0, rel=1e-4)
    assert s["fit_beta"] == pytest.approx(0.8, rel=1e-4)


def test_noisy_curve_still_gives_t50_within_a_few_percent():
    rng = np.random.default_rng(7)
    t = np.linspace(0, 1500, 751)
    lum = stretched(t, 50.0, 1000.0, 0.8) + 0.25 * rng.standard_normal(len(t))  # 0.5 % of L0
    s = summarize_lifetime(t, lum)
    assert s["t50_s"] == pytest.approx(T50_HAND, rel=0.05)
    assert s["t50_fit_s"] == pytest.approx(T50_HAND, rel=0.02)
    assert s["fit_beta"] == pytest.approx(0.8, rel=0.05)


def test_isolated_spikes_do_not_make_an_early_crossing():
    t = np.linspace(0, 1500, 751)
    lum = stretched(t, 50.0, 1000.0, 0.8)
    lum[[40, 41 + 40, 200]] = 5.0  # single-sample dropouts (a shutter glitch), far below 50 %
    s = summarize_lifetime(t, lum)
    assert s["t50_s"] == pytest.approx(T50_HAND, abs=0.5)


def test_l0_is_the_first_sample_at_or_after_the_settle_time_or_the_one_given():
    t = np.linspace(0, 1500, 751)  # a sample every 2 s
    lum = stretched(t, 50.0, 1000.0, 0.8)
    lum[0] = 20.0  # supply still slewing at t = 0: the settle time leaves it out
    s = summarize_lifetime(t, lum, l0_settle_s=1.0)
    assert s["l0_cd_m2"] == lum[1] and s["t_l0_s"] == 2.0
    assert summarize_lifetime(t, lum)["l0_cd_m2"] == 20.0  # no settle: the first sample
    flagged = summarize_lifetime(t, lum, i_l0=3)  # the device's own sample wins
    assert flagged["l0_cd_m2"] == lum[3] and flagged["t_l0_s"] == 6.0


def test_a_record_that_ends_before_the_settle_time_is_refused():
    with pytest.raises(AnalysisInputError, match="L0 settle time"):
        summarize_lifetime([0.0, 1.0, 2.0], [10.0, 9.0, 8.0], l0_settle_s=5.0)


def test_early_stop_leaves_t50_null_with_the_fit_estimate():
    t = np.linspace(0, 400, 401)  # L(400 s) = 50 exp(-0.4^0.8) = 0.64 L0: T50 never reached
    s = summarize_lifetime(t, stretched(t, 50.0, 1000.0, 0.8))
    assert s["t50_s"] is None
    assert s["t80_s"] == pytest.approx(T80_HAND, abs=0.05)
    assert s["t50_fit_s"] == pytest.approx(T50_HAND, rel=1e-3)
    assert any("t50_fit_s" in note for note in s["notes"])


def burn_in(t_s):
    # Luminance rises from 30 to ~60 cd/m2 with a 30 s time constant while the device decays.
    return 60.0 * (1.0 - 0.5 * np.exp(-np.asarray(t_s) / 30.0)) * stretched(t_s, 1.0, 1000.0, 0.8)


def test_an_initial_rise_is_not_a_crossing_and_l0_stays_the_first_sample():
    # Ground truth from the model on a 0.01 s grid and root finding, not from the analysis.
    t = np.arange(0.0, 2000.0, 2.0)
    l0 = float(burn_in(0.0))
    fine = np.arange(0.0, 400.0, 0.01)
    t_peak = float(fine[int(np.argmax(burn_in(fine)))])
    t50 = brentq(lambda x: float(burn_in(x)) - 0.5 * l0, t_peak, 5000.0)
    s = summarize_lifetime(t, burn_in(t))
    assert s["l0_cd_m2"] == l0 and s["t_l0_s"] == 0.0
    assert s["t50_s"] == pytest.approx(t50, abs=0.5)


def test_curve_that_barely_decays_has_no_fit_and_says_why():
    t = np.linspace(0, 100, 101)
    s = summarize_lifetime(t, 50.0 - 0.001 * t)  # falls 0.2 %
    assert s["fit_tau_s"] is None and s["fit_beta"] is None and s["t50_fit_s"] is None
    assert s["t50_s"] is None
    assert any("no stretched-exponential fit" in note for note in s["notes"])


def test_extrapolation_follows_l0_power_n_times_t50_constant():
    # 630 s at 50 cd/m2 to 100 cd/m2, n = 1.7: 630 * (50/100)^1.7 = 630 * 0.307786 = 193.91 s
    assert extrapolate_t50_s(630.0, 50.0, 100.0, 1.7) == pytest.approx(193.91, abs=0.01)


def test_summary_extrapolates_from_measured_t50_and_states_the_assumption():
    t = np.linspace(0, 1500, 1501)
    s = summarize_lifetime(t, stretched(t, 50.0, 1000.0, 0.8), extrapolate_to_cd_m2=100.0)
    assert s["t50_at_target_s"] == pytest.approx(T50_HAND * 0.5**1.7, rel=1e-3)
    assert "n = 1.7" in s["extrapolation_assumption"]
    assert "measured T50" in s["extrapolation_assumption"]


def test_extrapolation_uses_the_fit_when_the_data_stop_early():
    t = np.linspace(0, 400, 401)
    s = summarize_lifetime(
        t, stretched(t, 50.0, 1000.0, 0.8), extrapolate_to_cd_m2=25.0, accel_n=2.0
    )
    # 632.46 s * (50/25)^2 = 2529.8 s
    assert s["t50_at_target_s"] == pytest.approx(2529.8, rel=1e-3)
    assert "fitted T50" in s["extrapolation_assumption"]


def test_running_median_leaves_a_monotone_curve_unchanged():
    y = np.array([9.0, 8.0, 7.5, 5.0, 4.0, 3.9, 1.0])
    assert np.array_equal(running_median(y, 5), y)


@settings(max_examples=40, deadline=None)
@given(
    tau_s=st.floats(50.0, 5000.0),
    beta=st.floats(0.3, 2.5),
    l0=st.floats(1.0, 5000.0),
)
def test_t50_of_any_clean_stretched_exponential_matches_the_closed_form(tau_s, beta, l0):
    t50 = t_fraction(tau_s, beta, 0.5)
    t = np.linspace(0, 2.0 * t50, 2001)
    s = summarize_lifetime(t, stretched(t, l0, tau_s, beta))
    assert s["t50_s"] == pytest.approx(t50, rel=2e-3)
    assert s["t50_fit_s"] == pytest.approx(t50, rel=2e-3)


def test_a_long_record_is_fitted_on_group_means_of_its_consecutive_samples():
    from host.analysis.lifetime import fit_points

    t = np.arange(10.0)
    y = np.arange(10.0) * 2
    t_fit, y_fit = fit_points(t, y, max_points=4)
    assert t_fit.tolist() == [1.0, 4.0, 7.0, 9.0]  # groups of 3, the last one shorter
    assert y_fit.tolist() == [2.0, 8.0, 14.0, 18.0]
    assert fit_points(t, y, max_points=10)[0] is t


def test_noise_is_the_scatter_about_the_trend_and_at_least_the_reading_step():
    rng = np.random.default_rng(7)
    t = np.arange(2000.0)
    decay = 100.0 * np.exp(-t / 3000.0)
    assert noise_sd(decay + rng.normal(0.0, 0.5, t.size)) == pytest.approx(0.5, rel=0.1)
    steady = np.full(100, 3.0)  # a reading that never moves: its step is all it can say
    assert noise_sd(steady, resolution=0.01) == pytest.approx(0.01 / math.sqrt(12))
    assert noise_sd(steady[:10]) is None


@pytest.mark.parametrize("sd, faint", [(0.2, True), (0.01, False)])
def test_an_l0_within_ten_times_the_noise_gets_a_note(sd, faint):
    rng = np.random.default_rng(3)
    t = np.arange(200.0)
    lum = np.clip(1.0 * np.exp(-t / 100.0) + rng.normal(0.0, sd, t.size), 0.0, None)
    lum[0] = 1.0
    notes = summarize_lifetime(t, lum)["notes"]
    assert any("below 10x the photodiode noise" in n for n in notes) == faint
