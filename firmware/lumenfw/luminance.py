"""L0 capture and the luminance-fraction stop, on dark-corrected photodiode current.

L0 is one sample: the first of the hold, which the mode takes l0_settle_ms after the hold
began (docs/analysis.md, "L0").  The host reads the same sample (FLAG_L0) for its summary.
"""

from lumenfw.runclock import Mark
from protocol import schema

STOP_AFTER = 3  # consecutive samples at or below the fraction stop the run

NOTHING = 0
CAPTURED = 1
CROSSED = 2


class LuminanceWatch:
    """Captures L0 once the hold has settled, then counts samples at or below fraction * L0."""

    def __init__(self):
        self._settle = Mark()
        self.l0_pd_pa = 0
        self.captured = False
        self._threshold_pa = 0
        self._holding = False
        self._below = 0
        self._fraction_pm = 0
        self._dark_pd_pa = 0
        self.settle_ms = 0

    def reset(self, stop_fraction_pm, dark_pd_pa, l0_settle_ms, l0_pd_pa):
        """A new run; l0_pd_pa > 0 is an L0 carried over from before a device reset."""
        self._fraction_pm = stop_fraction_pm
        self._dark_pd_pa = dark_pd_pa
        self.settle_ms = l0_settle_ms
        self._holding = False
        self._below = 0
        self.l0_pd_pa = 0
        self.captured = False
        if l0_pd_pa > 0:
            self._set_l0(l0_pd_pa)

    def set_dark(self, dark_pd_pa):
        """A dark pause measured the offset anew: L0 and the stop use it from now on."""
        self._dark_pd_pa = dark_pd_pa

    def _set_l0(self, l0_pd_pa):
        self.l0_pd_pa = l0_pd_pa
        self.captured = True
        # Computed once: the per-sample comparison then stays within small ints.
        self._threshold_pa = l0_pd_pa * self._fraction_pm // 1000

    def start_hold(self, clock):
        """The drive is now held: L0 is the first sample l0_settle_ms from here or later."""
        self._holding = True
        self._settle.set_now(clock)
        self._settle.add_ms(self.settle_ms)

    def sample_flag(self, clock):
        """FLAG_L0 for the sample about to be taken when it is the one L0 comes from."""
        if self._holding and not self.captured and self._settle.reached(clock):
            return schema.FLAG_L0
        return 0

    def on_sample(self, clock, pd_pa):
        """Feed every sample; returns CAPTURED once, CROSSED when the run must stop."""
        if not self._holding:
            return NOTHING
        light_pa = pd_pa - self._dark_pd_pa
        if not self.captured:
            if not self._settle.reached(clock):
                return NOTHING
            self._set_l0(light_pa if light_pa > 0 else 0)
            return CAPTURED
        if not self._fraction_pm or self.l0_pd_pa <= 0:
            return NOTHING  # no light above dark at L0: a fraction of it is noise
        if light_pa <= self._threshold_pa:
            self._below += 1
            if self._below >= STOP_AFTER:
                return CROSSED
        else:
            self._below = 0
        return NOTHING
