"""Run figures named for people: each summary figure in words with its unit, and the unit a
figure's name says by its suffix. One list for the CLI and the dashboard (GET /api/figures)."""

# Summary figures: (words, unit). Their JSON names are in README "HTTP API"; a unit "s" is
# shown as a duration, "A" with an SI prefix. A name not listed is shown as it is, with the
# unit its suffix says (SUFFIX_UNITS).
FIGURES: dict[str, tuple[str, str]] = {
    "l0_cd_m2": ("L0, the luminance the stress starts from", "cd/m²"),
    "l0_target_cd_m2": ("L0 asked for", "cd/m²"),
    "t_l0_s": ("L0 taken at stress time", "s"),
    "stress_start_s": ("hold began at run time", "s"),
    "t95_s": ("T95, time to 95 % of L0", "s"),
    "t80_s": ("T80, time to 80 % of L0", "s"),
    "t50_s": ("T50, time to 50 % of L0", "s"),
    "l_end_over_l0": ("luminance at the end, fraction of L0", ""),
    "fit_l0_cd_m2": ("stretched-exponential fit: L0", "cd/m²"),
    "fit_tau_s": ("fit: time constant tau", "s"),
    "fit_beta": ("fit: stretch exponent beta", ""),
    "t95_fit_s": ("T95 from the fit", "s"),
    "t80_fit_s": ("T80 from the fit", "s"),
    "t50_fit_s": ("T50 from the fit", "s"),
    "t50_at_target_s": ("T50 extrapolated to the target L0", "s"),
    "voltage_at_l0_v": ("voltage at L0", "V"),
    "voltage_rise_at_t50_v": ("voltage rise by T50", "V"),
    "voltage_rise_at_end_v": ("voltage rise by the end", "V"),
    "dark_pauses": ("dark pauses", ""),
    "dark_time_s": ("time in dark pauses", "s"),
    "dark_drift_a": ("dark current drift, last pause less first", "A"),
    "min_fraction": ("lowest PL, fraction of the first", ""),
    "t_min_s": ("lowest PL at exposure time", "s"),
    "final_fraction": ("PL at the end, fraction of the first", ""),
    "recovery_fraction": ("recovered after the lowest PL, fraction of the first", ""),
    "eqe_max_pct": ("maximum EQE", "%"),
    "ce_max_cd_a": ("maximum current efficiency", "cd/A"),
    "pe_max_lm_w": ("maximum power efficiency", "lm/W"),
    "l_max_cd_m2": ("maximum luminance", "cd/m²"),
    "turn_on_v": ("turn-on voltage", "V"),
    "v_at_100_cd_m2": ("voltage at 100 cd/m²", "V"),
    "v_at_1000_cd_m2": ("voltage at 1000 cd/m²", "V"),
    "ce_at_100_cd_m2_cd_a": ("current efficiency at 100 cd/m²", "cd/A"),
    "eqe_at_100_cd_m2_pct": ("EQE at 100 cd/m²", "%"),
    "peak_nm": ("EL peak", "nm"),
    "fwhm_nm": ("EL FWHM", "nm"),
    "stop_reason": ("stopped because", ""),
}

# The unit a name's suffix says, longest suffix first (the house rule: units in names).
SUFFIX_UNITS = (("_cd_m2", "cd/m²"), ("_ma_cm2", "mA/cm²"), ("_mw_cm2", "mW/cm²"),
                ("_lm_w", "lm/W"), ("_cd_a", "cd/A"), ("_mm2", "mm²"), ("_nm", "nm"),
                ("_pct", "%"), ("_v", "V"), ("_a", "A"), ("_s", "s"), ("_c", "°C"))


def unit_of(name: str) -> str:
    if name in FIGURES:
        return FIGURES[name][1]
    return next((unit for suffix, unit in SUFFIX_UNITS if name.endswith(suffix)), "")


def words(name: str) -> str:
    return FIGURES[name][0] if name in FIGURES else name
