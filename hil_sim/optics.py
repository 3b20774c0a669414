"""The simulated rig's photodiode calibration and its photocurrent per cd/m2 (CPython only).

A lab would store this calibration for its rig; the launcher hands pd_amps_per_cd_m2 to the
simulated device, and the host's analysis inverts the same formula
(photometry.photodiode), so a simulated luminance reads back as itself.
"""

from hil_sim import presets
from hil_sim.physics.spectrum import emission_spectrum, wavelength_grid_nm
from photometry.photodiode import PhotodiodeCalibration, photocurrent_per_luminance

# The simulated photodiode: a 10 x 10 mm2 silicon photodiode (the disc of equal area has a
# 5.64 mm radius) on the pixel's axis, 6 mm from it: 1 cd/m2 of G1 gives ~0.9 nA.
PD_RADIUS_MM = 5.64
PD_DISTANCE_MM = 6.0

# The simulated part's datasheet: spectral responsivity (A/W) of a UV-enhanced silicon
# photodiode at 25 degC, typical values, linear between points.
RESPONSIVITY_NM_A_PER_W = (
    (300.0, 0.06), (350.0, 0.12), (400.0, 0.18), (450.0, 0.24), (500.0, 0.29),
    (550.0, 0.33), (600.0, 0.37), (650.0, 0.40), (700.0, 0.43), (750.0, 0.46),
    (800.0, 0.49), (850.0, 0.52), (900.0, 0.55), (950.0, 0.54), (1000.0, 0.40),
    (1050.0, 0.20), (1100.0, 0.05),
)


def reference_spectrum(preset_name: str) -> dict[str, list[float]]:
    """The preset's emission spectrum as a lab stores it: wavelength_nm and intensity lists."""
    p = presets.preset(preset_name)
    grid = wavelength_grid_nm(p["el_peak_nm"], p["el_fwhm_nm"])
    return {"wavelength_nm": grid,
            "intensity": emission_spectrum(grid, p["el_peak_nm"], p["el_fwhm_nm"])}


def calibration(preset_name: str) -> PhotodiodeCalibration:
    """The photodiode calibration a lab would store for a rig holding this preset's device.

    The dark current is the simulated photodiode's at the room's nominal temperature; the
    simulated one wanders with the room (about 3 % per 0.3 degC).
    """
    p = presets.preset(preset_name)
    rig = presets.RIG
    dark_a = rig["pd_dark_a_at_25c"] * rig["pd_dark_gain_per_c"] ** (rig["ambient_c"] - 25.0)
    return PhotodiodeCalibration.model_validate({
        "pd_radius_mm": PD_RADIUS_MM,
        "pd_distance_mm": PD_DISTANCE_MM,
        "pixel_area_mm2": p["area_m2"] * 1e6,
        "responsivity": {"wavelength_nm": [wl for wl, _ in RESPONSIVITY_NM_A_PER_W],
                         "a_per_w": [r for _, r in RESPONSIVITY_NM_A_PER_W]},
        "dark_current_a": dark_a,
        "reference_spectrum": reference_spectrum(preset_name),
    })


def pd_amps_per_cd_m2(preset_name: str) -> float:
    """Photocurrent (A, above dark) per cd/m2 of the preset's pixel: what the bench needs."""
    return photocurrent_per_luminance(calibration(preset_name))
