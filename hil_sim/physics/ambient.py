"""Room temperature and humidity: the study's 26 C / 60 % RH with a slow deterministic wander."""

import math

_TWO_PI = 2.0 * math.pi


class Ambient:
    """Each quantity is its mean plus two sines of incommensurate periods; the phases come from
    the seed, so two simulated rigs drift differently."""

    def __init__(self, rig, rng):
        (self._c_a1, self._c_w1, self._c_p1), (self._c_a2, self._c_w2, self._c_p2) = \
            self._terms(rig["ambient_c_wander"], rng)
        (self._h_a1, self._h_w1, self._h_p1), (self._h_a2, self._h_w2, self._h_p2) = \
            self._terms(rig["ambient_rh_wander"], rng)
        self._c0 = rig["ambient_c"]
        self._rh0 = rig["ambient_rh_pct"]

    @staticmethod
    def _terms(wander, rng):
        # wander: ((amplitude, period_s), (amplitude, period_s)); each gets a seeded phase.
        return [(amp, _TWO_PI / period_s, _TWO_PI * rng.uniform()) for amp, period_s in wander]

    def temperature_c(self, t_s):
        return (self._c0 + self._c_a1 * math.sin(self._c_w1 * t_s + self._c_p1)
                + self._c_a2 * math.sin(self._c_w2 * t_s + self._c_p2))

    def humidity_pct(self, t_s):
        return (self._rh0 + self._h_a1 * math.sin(self._h_w1 * t_s + self._h_p1)
                + self._h_a2 * math.sin(self._h_w2 * t_s + self._h_p2))
