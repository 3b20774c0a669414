"""A perovskite LED pixel: J-V, luminance through a peaked efficiency, and stretched-exponential ageing."""

import math


class Led:
    """One pixel of a preset (hil_sim.presets); voltages in V, current densities in A/m2.

    J-V: injection-limited (diode exponential) in series with bulk-limited (space-charge power
    law), the smaller one wins; plus an ohmic shunt that gives no light.  Luminance = CE(J) * J
    with a CE that rises with charge balance and rolls off at high J.  Ageing is a function of
    the accumulated stress t_eff only (seconds at the reference luminance), so any sequence of
    steps that reaches the same t_eff gives the same device.
    """

    def __init__(self, p):
        self.area_m2 = p["area_m2"]
        self._j_inj = p["j_inj_sat_a_m2"]
        self._v_inj = p["v_inj_v"]
        self._j_sclc = p["j_sclc_ref_a_m2"]
        self._v_sclc = p["v_sclc_ref_v"]
        self._m_sclc = p["sclc_exponent"]
        self._g_shunt = p["g_shunt_a_m2_per_v"]
        self._ce_max = p["ce_max_cd_a"]
        self._j_ce = p["j_ce_peak_a_m2"]
        self._a = p["ce_rise_exponent"]
        self._b = p["ce_rolloff_exponent"]
        self._l_ref = p["l0_ref_cd_m2"]
        self._n = p["accel_exponent"]
        self._beta = p["stretch_beta"]
        self._drift = p["j_drift_at_full_loss"]
        self.t50_ref_s = p["t50_ref_s"]
        self.tau_s = stress_tau_s(self.t50_ref_s, self._beta, self._drift)
        self.point_v = None
        self.fresh_point(0.0)

    def diode_current_density_a_m2(self, voltage_v):
        """Light-producing current density of the fresh pixel."""
        if voltage_v <= 0.0:
            return 0.0
        j_inj = self._j_inj * (math.exp(voltage_v / self._v_inj) - 1.0)
        j_bulk = self._j_sclc * math.pow(voltage_v / self._v_sclc, self._m_sclc)
        # Two limits in series: 1/J = 1/J_inj + 1/J_bulk.
        return j_inj * j_bulk / (j_inj + j_bulk)

    def current_efficiency_cd_a(self, j_diode_a_m2):
        """CE of the fresh pixel: ce_max at j_ce_peak, ~J^a below it, ~J^-b above it."""
        if j_diode_a_m2 <= 0.0:
            return 0.0
        x = j_diode_a_m2 / self._j_ce
        a = self._a
        b = self._b
        # (a+b) x^a / (b + a x^(a+b)) is 1 at x = 1 and its only maximum.
        x_a = math.pow(x, a)
        return self._ce_max * (a + b) * x_a / (b + a * x_a * math.pow(x, b))

    def fresh_point(self, voltage_v):
        """Set the fresh pixel's operating point at voltage_v (memoised on the voltage).

        Results are attributes, not a returned tuple: on the MicroPython unix port a tuple of
        3 or more items is a multi-block heap allocation that costs tens of microseconds.
        point_j_diode_a_m2 (light-producing) and point_j_shunt_a_m2 in A/m2,
        point_luminance_cd_m2, point_stress_rate: d t_eff / dt = (L_fresh / l0_ref)^n, so at
        constant drive L0^n * T50 = l0_ref^n * t50_ref (the usual luminance acceleration law);
        no current, no stress.
        """
        if voltage_v == self.point_v:
            return
        self.point_v = voltage_v
        if voltage_v <= 0.0:
            self.point_j_diode_a_m2 = 0.0
            self.point_j_shunt_a_m2 = 0.0
            self.point_luminance_cd_m2 = 0.0
            self.point_stress_rate = 0.0
            return
        j_d = self.diode_current_density_a_m2(voltage_v)
        lum = self.current_efficiency_cd_a(j_d) * j_d
        self.point_j_diode_a_m2 = j_d
        self.point_j_shunt_a_m2 = self._g_shunt * voltage_v
        self.point_luminance_cd_m2 = lum
        self.point_stress_rate = math.pow(lum / self._l_ref, self._n) if lum > 0.0 else 0.0

    def t50_at_s(self, voltage_v):
        """Device seconds to half luminance at a constant voltage_v from fresh (R * q = 1/2
        at t_eff = t50_ref_s, reached at the stress rate of voltage_v)."""
        point_v = self.point_v
        self.fresh_point(voltage_v)
        rate = self.point_stress_rate
        if point_v is not None:
            self.fresh_point(point_v)  # (the memoised point stays the bench's)
        return self.t50_ref_s / rate if rate > 0.0 else math.inf

    def aged_factors(self, t_eff_s):
        """(remaining EQE fraction R, current fraction q) after t_eff_s of reference stress.

        R = exp(-(t_eff / tau)^beta) (stretched exponential); the current falls with the damage,
        q = 1 - drift * (1 - R), so the luminance fraction is R * q.
        """
        if t_eff_s <= 0.0:
            return 1.0, 1.0
        r = math.exp(-math.pow(t_eff_s / self.tau_s, self._beta))
        return r, 1.0 - self._drift * (1.0 - r)


def stress_tau_s(t50_ref_s, beta, drift):
    """tau of the stretched exponential so that R * q = 1/2 exactly at t50_ref_s.

    R * (1 - d (1 - R)) = 1/2 is d R^2 + (1 - d) R - 1/2 = 0; take the root in (0, 1].
    """
    if drift > 0.0:
        r50 = (-(1.0 - drift) + math.sqrt((1.0 - drift) ** 2 + 2.0 * drift)) / (2.0 * drift)
    else:
        r50 = 0.5
    return t50_ref_s / math.pow(-math.log(r50), 1.0 / beta)
