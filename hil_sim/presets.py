"""Parameters of the simulated rig and its devices, each number with where it comes from.

"Study" is the reference study (Wang, Liu, Zhao, Demir, Gu, Sun, ACS Appl. Mater. Interfaces
10 (2018) 19828, /work/shared/reference): G1 is its LED on assembled CsPbBr3 nanocrystals, G2
its control LED on unassembled ones, film its assembled nanocrystal film under 442 nm light.
"Fit" marks values found by least squares so the model reproduces the study's headline numbers
listed beside them; tests/sim/test_physics_presets.py checks that it still does, hil_sim/README.md
says which study numbers contradict each other and what the presets follow instead.
Units: V, A, m2, A/m2 (1 mA/cm2 = 10 A/m2), cd/m2, cd/A, s, nm, degC, %RH.
MicroPython-compatible (the bench imports it inside the simulated device).
"""

import math

from hil_sim.physics.rng import Rng

# The rig around the device: the same for every preset.
RIG = {
    # DESIGN.md: MCP4725 through an amplifier, 0..20 V full scale.
    "supply_max_v": 20.0,
    # Assumed: the DAC output is RC-filtered for a soft start, 0 -> 20 V in 20 ms.
    "supply_slew_v_per_ms": 1.0,
    # Assumed: a fold-back limit of the amplifier, a last resort well above the 1 x 1 mm2
    # pixels' currents (G1 draws ~2 mA at 20 V) and above any compliance the host sets.
    "supply_current_limit_a": 0.05,
    # Assumed: a small rotary laser shutter, 50 ms from one end stop to the other.
    "shutter_travel_s": 0.05,
    # Assumed for a 100 mm2 silicon photodiode at zero bias: ~5 pA dark current at 25 degC,
    # rising ~1.1x per degC (the usual silicon figure in photodiode datasheets).
    "pd_dark_a_at_25c": 5e-12,
    "pd_dark_gain_per_c": 1.1,
    # Assumed: a photodiode that warms above the room while the rig is lit (a knob of the
    # simulator, 0 unless asked for) approaches its warm-up first-order with this constant.
    "pd_warmup_tau_s": 1800.0,
    # Assumed: TIA feedback filter; shot noise is integrated over this bandwidth.
    "pd_bandwidth_hz": 10.0,
    # Assumed: input-referred current noise of the TIA, rms.
    "pd_noise_floor_a": 0.1e-12,
    # Study: the film was measured "at ambient atmosphere (26 degC, 60% humidity)".
    "ambient_c": 26.0,
    "ambient_rh_pct": 60.0,
    # Assumed: a lab's slow drift, ((amplitude, period_s), ...), phases drawn from the seed.
    "ambient_c_wander": ((0.3, 5400.0), (0.1, 1030.0)),
    "ambient_rh_wander": ((1.5, 7200.0), (0.5, 1390.0)),
}

# The two LEDs share the structure and the ageing law; only the fitted numbers differ.
_LED_COMMON = {
    "kind": "led",
    # Study, methods: "The emission area of all devices is 1 x 1 mm2".
    "area_m2": 1e-6,
    # Assumed: ohmic leakage past the pixel, no light; 2.5 nA at 5 V on 1 mm2.
    "g_shunt_a_m2_per_v": 5e-4,
    # Bulk-limited regime: Mott-Gurney space-charge-limited current, J ~ V^2.
    "sclc_exponent": 2.0,
    "v_sclc_ref_v": 14.0,
    # Study: T50 is quoted at an initial luminance of 50 cd/m2 for both devices.
    "l0_ref_cd_m2": 50.0,
    # Brief: L0^n * T50 = const with n ~ 1.7 (the study measured one L0 only).
    "accel_exponent": 1.7,
    # Assumed: stretch exponent of L(t) = L0 exp(-(t/tau)^beta); the study's decay curves
    # (its Figure S17) are not in the text.
    "stretch_beta": 0.8,
    # Assumed: the diode current at constant voltage falls by 5 % of the lost EQE share.
    "j_drift_at_full_loss": 0.05,
    # Study: EL peak 522 nm (Figure 5c) and FWHM 16 nm (Table 1, both devices).
    "el_peak_nm": 522.0,
    "el_fwhm_nm": 16.0,
    # Assumed: rms relative noise of the optical signal (drive and TIA gain).
    "relative_noise": 0.002,
}

_G1 = dict(_LED_COMMON)
_G1.update({
    # Fit to the study's G1 numbers: L(10 V) = 50 cd/m2 (lifetime test "10 V (~50 cd/m2)"),
    # J(14 V) = 101 mA/cm2, CE max 5.57 cd/A, PE max 1.59 lm/W, L max 1562 cd/m2 (Table 1),
    # with the luminance peak at 14 V where the study quotes J (L(20 V) = 0.99 L max).
    "j_inj_sat_a_m2": 8.57484e-07,  # injection-limited regime, J = Js (exp(V/Vi) - 1)
    "v_inj_v": 0.56721,
    "j_sclc_ref_a_m2": 1033.22,  # bulk limit at v_sclc_ref_v
    "ce_max_cd_a": 5.57022,  # peak of CE(J), so the measured CE max (with leakage) is 5.570
    "j_ce_peak_a_m2": 172.413,  # 17.2 mA/cm2, reached at 11.0 V
    "ce_rise_exponent": 1.43718,  # CE ~ J^a below the peak
    "ce_rolloff_exponent": 1.02401,  # CE ~ J^-b above it
    # Study: "T50 of Device G1 is 630 s" at "a constant voltage of 10 V (~50 cd/m2)".
    "t50_ref_s": 630.0,
})

_G2 = dict(_LED_COMMON)
_G2.update({
    # Fit to the study's G2 numbers: J(14 V) = 28 mA/cm2, CE max 0.18 cd/A, PE max 0.04 lm/W,
    # L max 140 cd/m2 (Table 1), L(14 V) = 50 cd/m2 (T50 quoted at 50 cd/m2; PE = pi CE / V
    # puts the CE peak at 14.1 V), luminance peak at 16 V.  Reproduced within 0.2 %.
    "j_inj_sat_a_m2": 1.08405e-06,
    "v_inj_v": 0.720797,
    "j_sclc_ref_a_m2": 5485.88,  # unassembled film: injection-limited up to ~16 V
    "ce_max_cd_a": 0.179845,
    "j_ce_peak_a_m2": 334.505,
    "ce_rise_exponent": 0.542155,
    "ce_rolloff_exponent": 1.09377,
    # Study: "the T50 of Device G2 is only 35 s at the initial luminance of 50 cd m-2".
    "t50_ref_s": 35.0,
})

_FILM = {
    "kind": "film",
    # The emitter area in the rig's photodiode calibration: the standard 1 x 1 mm2 pixel
    # (the film's PL is read as a fraction of its start, never as a luminance).
    "area_m2": 1e-6,
    # Study: He-Cd laser, 442 nm, 50 mW/cm2, PL every 5 min for 120 min.
    "laser_wavelength_nm": 442.0,
    "laser_power_mw_cm2": 50.0,
    # Fit to the study's Figure 3b text: PL falls ~25 % in the first 35 min (minimum 0.75 at
    # 35 min), recovers ~15 % by trap healing, ends at ~88 % after 120 min; the thermal loss
    # takes 2 % between 35 and 120 min (so 0.75 + 0.15 - 0.02 = 0.88).
    "trap_amplitude": 0.401346,
    "trap_tau_s": 1162.46,  # dose time constant of trap formation
    "heal_tau_s": 3955.36,  # dose time constant of healing (recrystallisation)
    "thermal_tau_s": 36000.0,  # assumed: slow, saturating over ~10 h of irradiation
    "thermal_loss_max": 0.160508,  # fit: 2 % lost between 35 and 120 min
    # Brief: ~200 nA of PL photocurrent from the pristine film (collection optics lumped).
    "pl_photocurrent_a": 200e-9,
    # Study: PL peak 522 nm (Figure 2f); FWHM assumed equal to the EL's 16 nm.
    "el_peak_nm": 522.0,
    "el_fwhm_nm": 16.0,
    # Assumed: rms power noise of the He-Cd laser seen in the PL.
    "relative_noise": 0.005,
}

PRESETS = {"G1": _G1, "G2": _G2, "film": _FILM}


def preset(name):
    """The parameter dict of a preset; ValueError naming the known presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError("unknown preset {!r}: choose one of {}".format(
            name, ", ".join(sorted(PRESETS)))) from None


# Pixels of one substrate differ: `spread` varies these parameters of each pixel lognormally
# (a factor exp(spread * z), z standard normal: median 1, relative spread about `spread`
# for small values), each group by one factor.  LED: lifetime at the reference luminance,
# efficiency, current (the CE peak moves with the current, so the luminance at a voltage
# moves as efficiency x current, and T50 at a voltage by L0^-n on top: its spread is about
# 2.6 x spread for G1's n = 1.7); film: how fast it bleaches and heals, and its brightness.
SPREAD_GROUPS = {
    "led": (("t50_ref_s",), ("ce_max_cd_a",),
            ("j_inj_sat_a_m2", "j_sclc_ref_a_m2", "j_ce_peak_a_m2")),
    "film": (("trap_tau_s", "heal_tau_s"), ("pl_photocurrent_a",)),
}
MAX_SPREAD = 0.5


def pixel_seed(seed, channel):
    """The physics seed of the pixel on `channel`: channel 0 keeps the rig's own, so a
    one-channel rig is the same rig whatever its number of channels could be."""
    return seed if channel == 0 else (seed * 0x9E3779B1 + channel * 0x85EBCA77) & 0xFFFFFFFF


def pixel(name, channel=0, spread=0.0, seed=0):
    """The parameters of the pixel on `channel` of a substrate of preset `name`, varied by
    `spread` (0..MAX_SPREAD; 0: the preset itself), the same for the same (seed, channel)."""
    p = preset(name)
    if not 0.0 <= spread <= MAX_SPREAD:
        raise ValueError("spread must be 0 to {}, got {!r}".format(MAX_SPREAD, spread))
    if spread == 0.0:
        return p
    rng = Rng(pixel_seed(seed, channel) ^ 0x5EED5EED)
    varied = dict(p)
    for group in SPREAD_GROUPS[p["kind"]]:
        factor = math.exp(spread * rng.gauss())
        for key in group:
            varied[key] = p[key] * factor
    return varied
