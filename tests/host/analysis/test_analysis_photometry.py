"""Photodiode-to-luminance formula, its inverse and the per-rig calibration model."""

import json
import math

import numpy as np
import pytest
from pydantic import ValidationError

from photometry.errors import PhotometryInputError
from photometry.photodiode import (
    PhotodiodeCalibration,
    collected_fraction,
    luminance_per_amp,
    photocurrent_per_luminance,
    photocurrent_to_luminance,
)
from photometry.photopic import photopic_v

# A triangle spectrum 554..556 nm: S*V is 0, V(555)=1, 0 on the grid, so int(S V) = 1 nm exactly;
# with a flat 0.3 A/W photodiode int(S R) = 0.3 exactly.
TRIANGLE_555 = {"wavelength_nm": [554.0, 555.0, 556.0], "intensity": [0.0, 1.0, 0.0]}
FLAT_RESPONSIVITY = {"wavelength_nm": [400.0, 700.0, 1000.0], "a_per_w": [0.3, 0.3, 0.3]}


def calibration(**overrides):
    fields = {
        "pd_radius_mm": 5.0,
        "pd_distance_mm": 20.0,
        "pixel_area_mm2": 1.0,
        "responsivity": FLAT_RESPONSIVITY,
        "reference_spectrum": TRIANGLE_555,
    }
    fields.update(overrides)
    return PhotodiodeCalibration.model_validate(fields)


def test_photopic_v_is_the_cie_1924_table():
    # CIE 1924: V(555) = 1, V(510) = 0.503, V(600) = 0.631, V(700) = 0.0041.
    assert photopic_v(np.array([555.0, 510.0, 600.0, 700.0])) == pytest.approx(
        [1.0, 0.503, 0.631, 0.0041], abs=5e-4
    )


def test_collected_fraction_of_disc_on_axis_is_sin_squared_half_angle():
    # r = 5 mm at d = 20 mm: 25 / (400 + 25) = 1/17.
    assert collected_fraction(5.0, 20.0) == pytest.approx(1.0 / 17.0)
    # half-angle 45 degrees (r = d): sin^2 = 1/2.
    assert collected_fraction(3.0, 3.0) == pytest.approx(0.5)


def test_luminance_per_amp_matches_hand_worked_example():
    # L/I = 683 lm/W / G * int(SV) / (pi * A * int(SR))
    #     = 683 * 17 * 1 / (pi * 1e-6 m2 * 0.3) = 11611 / 9.424778e-7 = 1.231965e10 cd/m2 per A.
    assert luminance_per_amp(calibration()) == pytest.approx(1.231965e10, rel=1e-6)


def test_luminance_is_proportional_to_photocurrent():
    # 100 nA -> 1.231965e10 * 1e-7 = 1231.965 cd/m2; 200 nA doubles it. A formula in which the
    # photodiode signal cancelled out would give the same luminance for both.
    lum = photocurrent_to_luminance([1e-7, 2e-7], calibration())
    assert lum[0] == pytest.approx(1231.965, rel=1e-6)
    assert lum[1] == pytest.approx(2 * 1231.965, rel=1e-6)


def test_dark_current_is_subtracted_before_scaling():
    # 110 nA read with 10 nA dark current is the 100 nA signal of the example: 1231.965 cd/m2.
    lum = photocurrent_to_luminance([1.1e-7], calibration(dark_current_a=1e-8))
    assert lum[0] == pytest.approx(1231.965, rel=1e-6)


def test_reading_below_dark_current_clips_to_zero_unless_asked():
    cal = calibration(dark_current_a=1e-8)
    assert photocurrent_to_luminance([5e-9], cal)[0] == 0.0
    # (5 nA - 10 nA) * 1.231965e10 = -61.598 cd/m2
    raw = photocurrent_to_luminance([5e-9], cal, clip_negative=False)[0]
    assert raw == pytest.approx(-61.598, rel=1e-4)


def test_scale_factor_multiplies_luminance():
    assert luminance_per_amp(calibration(scale_factor=1.25)) == pytest.approx(
        1.25 * 1.231965e10, rel=1e-6
    )


def test_halving_the_distance_collects_more_light_so_less_luminance_per_amp():
    # d = 10 mm: G = 25/125 = 1/5, so L/I = 683 * 5 / (pi * 1e-6 * 0.3) = 3.623428e9.
    assert luminance_per_amp(calibration(pd_distance_mm=10.0)) == pytest.approx(
        3.623428e9, rel=1e-6
    )


def test_photocurrent_per_luminance_inverts_luminance_per_amp():
    wl = np.arange(470.0, 580.0, 2.0)
    gauss = np.exp(-0.5 * ((wl - 522.0) / 6.8) ** 2)
    spectrum = {"wavelength_nm": list(wl), "intensity": list(gauss)}
    cal = calibration(
        responsivity={
            "wavelength_nm": [350.0, 500.0, 600.0, 1000.0],
            "a_per_w": [0.1, 0.25, 0.33, 0.2],
        },
        reference_spectrum=spectrum,
        scale_factor=0.9,
    )
    assert luminance_per_amp(cal) * photocurrent_per_luminance(cal) == pytest.approx(1.0)
    # Round trip: 1000 cd/m2 -> photocurrent -> luminance.
    current_a = 1000.0 * photocurrent_per_luminance(cal) + cal.dark_current_a
    assert photocurrent_to_luminance([current_a], cal)[0] == pytest.approx(1000.0)


def test_responsivity_weighting_uses_the_curve_at_the_emission():
    # Responsivity 0.2 A/W at 555 nm instead of 0.3: L/I rises by 0.3/0.2 = 1.5.
    cal = calibration(
        responsivity={"wavelength_nm": [500.0, 600.0, 700.0], "a_per_w": [0.2, 0.2, 0.2]}
    )
    assert luminance_per_amp(cal) == pytest.approx(1.5 * 1.231965e10, rel=1e-6)


def test_explicit_spectrum_overrides_the_reference():
    # A triangle at 510 nm: int(S V) = V(510) = 0.503, so L/I = 0.503 * 1.231965e10.
    s510 = {"wavelength_nm": [509.0, 510.0, 511.0], "intensity": [0.0, 1.0, 0.0]}
    expected = float(photopic_v(np.array([510.0]))[0]) * 1.231965e10
    assert luminance_per_amp(calibration(), s510) == pytest.approx(expected, rel=1e-6)


def test_missing_spectrum_is_an_actionable_error():
    with pytest.raises(PhotometryInputError, match="needs the EL spectrum"):
        luminance_per_amp(calibration(reference_spectrum=None))


def test_calibration_round_trips_through_json():
    cal = calibration(dark_current_a=2e-10, scale_factor=1.1)
    text = cal.model_dump_json()
    assert PhotodiodeCalibration.model_validate_json(text) == cal
    assert json.loads(text)["responsivity"]["a_per_w"] == [0.3, 0.3, 0.3]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"pd_radius_mm": 0.0}, "pd_radius_mm"),
        ({"pd_distance_mm": -1.0}, "pd_distance_mm"),
        ({"pixel_area_mm2": math.inf}, "pixel_area_mm2"),
        ({"scale_factor": 50.0}, "scale_factor"),
        ({"dark_current_a": 1e-3}, "dark_current_a"),
        (
            {"responsivity": {"wavelength_nm": [400, 500, 600], "a_per_w": [300, 300, 300]}},
            "quantum-efficiency limit",
        ),
        (
            {"responsivity": {"wavelength_nm": [600, 500, 700], "a_per_w": [0.3, 0.3, 0.3]}},
            "increase strictly",
        ),
        (
            {"responsivity": {"wavelength_nm": [600, 700, 800], "a_per_w": [0.3, 0.3, 0.3]}},
            "extend the responsivity curve",
        ),
        (
            {"reference_spectrum": {"wavelength_nm": [0.5, 0.52, 0.54], "intensity": [0, 1, 0]}},
            "check the units",
        ),
        (
            {"reference_spectrum": {"wavelength_nm": [510, 520, 530], "intensity": [0, -1, 0]}},
            "negative",
        ),
    ],
)
def test_calibration_rejects_unphysical_values_with_a_clear_message(overrides, fragment):
    with pytest.raises(ValidationError, match=fragment):
        calibration(**overrides)
