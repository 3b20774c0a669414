"""PL of the nanocrystal film versus absorbed photo-dose: trap formation, healing, thermal loss."""

import math


class Film:
    """PL fraction of the pristine film after dose_s seconds at the preset's laser irradiance.

    Traps form and heal as consecutive first-order steps in dose (pristine -> trapped -> healed,
    Bateman 1910), the trapped share costs trap_amplitude of the PL; sustained irradiation
    heating adds a slow loss that saturates at thermal_loss_max.  Only dose matters, so the
    film never changes in the dark.
    """

    def __init__(self, p):
        self._a = p["trap_amplitude"]
        self._k_trap = 1.0 / p["trap_tau_s"]
        self._k_heal = 1.0 / p["heal_tau_s"]
        self._th_max = p["thermal_loss_max"]
        self._th_tau = p["thermal_tau_s"]

    def pl_fraction(self, dose_s):
        if dose_s <= 0.0:
            return 1.0
        k1 = self._k_trap
        k2 = self._k_heal
        trapped = k1 / (k2 - k1) * (math.exp(-k1 * dose_s) - math.exp(-k2 * dose_s))
        thermal = self._th_max * (1.0 - math.exp(-dose_s / self._th_tau))
        return 1.0 - self._a * trapped - thermal
