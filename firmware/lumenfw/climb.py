"""Supply setpoint rises in steps the INA226 can follow, so that a compliance trip catches
the DUT current near its limit instead of after a jump past it.

The INA226 reports one averaged result per INA226_PERIOD_US and its ALERT pin can only say
"over" after such a result: a setpoint that jumps 14 V at once has carried the current far
past the limit before anything can know.  So the setpoint goes up in steps, each held
CLIMB_HOLD_US (the output's settling and a whole INA226 result after it), and each step is
sized from that result: the current may grow by at most the headroom left below 90 % of the
limit, in a DUT whose current grows at most e-fold per CLIMB_MV_PER_NEPER (the steepest I-V
the board is sized for; docs/hardware.md).  Far from the limit that is one step of up to
CLIMB_MAX_STEP_MV; near it, steps of CLIMB_MIN_STEP_MV (one DAC code).  Down is at once: a
lower voltage never raises the current.  Integers only, no allocation.
"""

LN2_Q10 = 709  # ln 2 in 1/1024ths, rounded down (0.6924): a step errs short


def step_mv(current_na, limit_na, mv_per_neper, min_step_mv, max_step_mv):
    """How far the setpoint may rise from where the current reads current_na: the voltage
    that grows the current to 90 % of limit_na in the steepest DUT, from below.

    ln(a / i) >= d ln 2 + (1 - 2^d i / a) for the largest d with 2^d i <= a, so the step
    never exceeds the exact one; 0 when the current is already at or over 90 %.
    """
    allowed_na = limit_na - limit_na // 10
    reached_na = current_na if current_na > 0 else 1
    if reached_na >= allowed_na:
        return min_step_mv if reached_na < limit_na else 0
    doublings = 0
    while reached_na <= allowed_na // 2:
        reached_na *= 2
        doublings += 1
    num = allowed_na - reached_na  # (1 - reached / allowed) in 1/1024ths, kept a small int
    den = allowed_na
    while den >= 1 << 20:
        num >>= 1
        den >>= 1
    frac_q10 = (num << 10) // den
    mv = (doublings * LN2_Q10 + frac_q10) * mv_per_neper // 1024
    if mv < min_step_mv:
        return min_step_mv
    return mv if mv < max_step_mv else max_step_mv


class SetpointClimb:
    """The target the output is on its way to, and when the next step is due (device ticks).

    active: a step is held and the next one is due at `due` (ticks_us); the controller reads
    the current then and asks step_mv for the next.
    """

    def __init__(self, config, ticks_diff):
        self.mv_per_neper = config.CLIMB_MV_PER_NEPER
        self.min_step_mv = config.CLIMB_MIN_STEP_MV
        self.max_step_mv = config.CLIMB_MAX_STEP_MV
        self.hold_us = config.CLIMB_HOLD_US
        self._ticks_diff = ticks_diff
        self.target_mv = 0
        self.active = False
        self.due = 0

    def next_mv(self, applied_mv, current_na, limit_na):
        """The setpoint to apply now on the way to target_mv (applied_mv when no step is
        allowed: the current is at 90 % of the limit or over)."""
        target_mv = self.target_mv
        if target_mv <= applied_mv:
            return target_mv
        rise_mv = step_mv(current_na, limit_na, self.mv_per_neper, self.min_step_mv,
                          self.max_step_mv)
        if applied_mv + rise_mv >= target_mv:
            return target_mv
        return applied_mv + rise_mv

    def hold(self, now_us, ticks_add):
        """A step was applied at now_us and the target is not reached: look again after the
        hold."""
        self.active = True
        self.due = ticks_add(now_us, self.hold_us)

    def due_in_us(self, now_us, limit_us):
        if not self.active:
            return limit_us
        left_us = self._ticks_diff(self.due, now_us)
        if left_us <= 0:
            return 0
        return left_us if left_us < limit_us else limit_us

    def is_due(self, now_us):
        return self.active and self._ticks_diff(now_us, self.due) >= 0
