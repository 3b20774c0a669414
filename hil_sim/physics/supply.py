"""The constant-voltage supply behind the output relay: slew rate and a hardware current limit."""


class Supply:
    """The amplifier output that the DUT sees; voltages in V, time in s.

    The output slews toward the setpoint only while the relay is on (the relay also enables the
    output stage); relay off puts 0 V on the DUT at once and the next closing starts from 0 V.
    """

    # Attributes that carry the part across a device reset (Bench.snapshot).
    STATE = ("setpoint_v", "relay", "output_v")

    def __init__(self, slew_v_per_ms, current_limit_a, max_v):
        self.slew_v_per_s = slew_v_per_ms * 1000.0
        self.current_limit_a = current_limit_a
        self.max_v = max_v
        self.setpoint_v = 0.0
        self.relay = 0
        self.output_v = 0.0
        self.ramp_start_v = 0.0

    def set_setpoint_v(self, voltage_v):
        """The amplifier target, clamped to its 0..max_v range like the real stage."""
        self.setpoint_v = min(max(float(voltage_v), 0.0), self.max_v)

    def set_relay(self, on):
        self.relay = 1 if on else 0
        if not self.relay:
            self.output_v = 0.0

    def advance(self, dt_s):
        """Move the output by dt_s; return the seconds spent ramping (ramp_start_v: from where)."""
        v0 = self.output_v
        self.ramp_start_v = v0
        target = self.setpoint_v if self.relay else 0.0
        if v0 == target:
            return 0.0
        ramp_s = abs(target - v0) / self.slew_v_per_s
        if ramp_s <= dt_s:
            self.output_v = target
            return ramp_s
        step_v = self.slew_v_per_s * dt_s
        self.output_v = v0 + step_v if target > v0 else v0 - step_v
        return dt_s

    def limited_v(self, output_v, current_a_at):
        """DUT voltage once the current limit acts: the V where current_a_at(V) meets the limit.

        current_a_at must rise with V.  Bisection to 1 uV; only runs when the limit is exceeded.
        """
        limit = self.current_limit_a
        if output_v <= 0.0 or current_a_at(output_v) <= limit:
            return output_v
        lo = 0.0
        hi = output_v
        while hi - lo > 1e-6:
            mid = 0.5 * (lo + hi)
            if current_a_at(mid) > limit:
                hi = mid
            else:
                lo = mid
        return lo
