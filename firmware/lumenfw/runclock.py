"""Wrap-safe elapsed time as (t_s, t_us) small integers, built from ticks_diff deltas."""


class RunClock:
    """Seconds and microseconds since start(), advanced from a wrapping microsecond tick.

    Each advance() adds ticks_diff(now, last) to the pair, so nothing drifts and nothing
    overflows a small int however long the run lasts, as long as advance() runs at least
    once per half tick period (about 9 minutes on the RP2040).  No allocation.
    """

    def __init__(self, ticks_diff):
        self._ticks_diff = ticks_diff
        self._last = 0
        self.t_s = 0
        self.t_us = 0

    def start(self, now_ticks):
        """Zero the clock at now_ticks."""
        self._last = now_ticks
        self.t_s = 0
        self.t_us = 0

    def advance(self, now_ticks):
        """Add the time since the previous call; a tick that went backwards adds nothing."""
        delta_us = self._ticks_diff(now_ticks, self._last)
        self._last = now_ticks
        if delta_us <= 0:
            return
        t_us = self.t_us + delta_us
        if t_us >= 1000000:
            self.t_s += t_us // 1000000
            t_us %= 1000000
        self.t_us = t_us


class Mark:
    """A point on a RunClock's timeline (t_s, t_us) that a schedule can move forward."""

    def __init__(self):
        self.t_s = 0
        self.t_us = 0

    def set(self, t_s, t_us):
        self.t_s = t_s
        self.t_us = t_us

    def set_now(self, clock):
        """Move the mark to the clock's current time."""
        self.t_s = clock.t_s
        self.t_us = clock.t_us

    def add_ms(self, ms):
        """Move the mark ms later (ms may exceed a second)."""
        t_us = self.t_us + (ms % 1000) * 1000
        self.t_s += ms // 1000
        if t_us >= 1000000:
            t_us -= 1000000
            self.t_s += 1
        self.t_us = t_us

    def add_s(self, s):
        self.t_s += s

    def us_after(self, clock, limit_us):
        """Microseconds from the clock's time to the mark (0 when reached), at most limit_us
        (so the result stays a small int however far off the mark is)."""
        dt_s = self.t_s - clock.t_s
        if dt_s > limit_us // 1000000 + 1:
            return limit_us
        us = dt_s * 1000000 + self.t_us - clock.t_us
        if us <= 0:
            return 0
        return us if us < limit_us else limit_us

    def reached(self, clock):
        """True when the clock is at or past the mark."""
        if clock.t_s != self.t_s:
            return clock.t_s > self.t_s
        return clock.t_us >= self.t_us
