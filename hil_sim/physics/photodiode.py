"""The photodiode's dark current and noise (the ADC and TIA models quantise downstream)."""

import math

_Q_C = 1.602176634e-19  # elementary charge (SI, exact)


class Photodiode:
    """Turns the optical signal current into what the photodiode delivers, in A."""

    def __init__(self, rig, relative_noise, warmup_c=0.0):
        self._dark_25 = rig["pd_dark_a_at_25c"]
        self._warmup_c = float(warmup_c)
        self._warmup_tau_s = rig["pd_warmup_tau_s"]
        self._dark_ln_gain = math.log(rig["pd_dark_gain_per_c"])
        self._two_q_bw = 2.0 * _Q_C * rig["pd_bandwidth_hz"]
        self._floor2 = rig["pd_noise_floor_a"] ** 2
        self._rel2 = relative_noise * relative_noise

    def dark_a(self, room_c, lit_s):
        """Dark current, rising by pd_dark_gain_per_c per degree C above 25 C; the diode sits
        at the room's temperature plus its warm-up after lit_s of lit time."""
        temperature_c = room_c
        if self._warmup_c:
            temperature_c += self._warmup_c * (1.0 - math.exp(-lit_s / self._warmup_tau_s))
        return self._dark_25 * math.exp(self._dark_ln_gain * (temperature_c - 25.0))

    def reading_a(self, signal_a, dark_a, normal):
        """signal + dark + noise; normal is a standard normal deviate from the bench's Rng.

        sigma^2 = 2 q I B (shot, Schottky) + (relative * signal)^2 + floor^2.
        """
        mean = signal_a + dark_a
        sigma = math.sqrt(self._two_q_bw * abs(mean) + self._rel2 * signal_a * signal_a
                          + self._floor2)
        return mean + sigma * normal
