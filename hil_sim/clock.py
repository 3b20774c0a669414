"""The simulated board's device clock (discrete-event, wrapping like rp2's ticks_us) and the
wall link clock.

Device time moves only when the board says so: by the time the firmware asks to wait
(sleep_us, or an idle the board ends early when the host writes) and by the modelled cost
of what it does (charge_us: I2C transfers, CPU per pass; see hil_sim/costs.py).  Wall time
never enters it, so the same firmware, seed and commands give the same device times on any
machine, at any load.  Wall time only paces: with accel=K device time never runs more than
K times faster than the wall; with accel=None ("max") it runs as fast as the CPU allows.
"""

import time

TICKS_PERIOD = 1 << 30  # rp2's ticks_us period
_TICKS_MASK = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD >> 1
CATCH_UP_SLACK_US = 20_000  # wall; more behind than this is a stall, not an overslept wait


class VirtualClock:
    """Device time in integer microseconds, paced against the wall when accel is given.

    now_us() never wraps (physics and chip timing use it); ticks_us() is what the firmware
    sees: now_us() + ticks_offset_us wrapped at 2**30, so wrap handling gets exercised.

    Stops: stop_at(list of device us, on_stop) makes the clock halt at each of those times
    exactly, whatever step was asked, and call on_stop(t_us) there (the simulated board
    hands control to the launcher, which fires a fault due at that device time).

    wall_us and wall_sleep_us are the wall microsecond source and wait (injectable for
    tests); pacing re-anchors whenever the clock has fallen more than CATCH_UP_SLACK_US
    behind the wall, so a slow stretch is never made up by a burst.
    """

    def __init__(self, accel=None, start_us=0, ticks_offset_us=0, wall_us=None,
                 wall_sleep_us=None):
        if accel is not None and not accel > 0:
            raise ValueError("accel must be above zero, or None for as fast as possible")
        self.accel = accel
        self._ratio = _ratio(accel) if accel is not None else (1, 1)
        self._now_us = start_us
        self._offset = ticks_offset_us
        self._wall_us = wall_us if wall_us is not None else _wall_us_source()
        self._sleep_wall_us = wall_sleep_us if wall_sleep_us is not None else sleep_wall_us
        self._anchor_wall_us = self._wall_us()
        self._anchor_now_us = start_us
        self._anchor_accel = accel
        self._stops = []
        self._on_stop = None
        self.charged_us = 0  # modelled work, in device us (the rest is sleeps)

    # ---- reading -------------------------------------------------------------------------

    def now_us(self):
        return self._now_us

    def ticks_us(self):
        return (self._now_us + self._offset) & _TICKS_MASK

    def ticks_diff(self, a, b):
        return ((a - b + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF

    def ticks_add(self, ticks, delta_us):
        return (ticks + delta_us) & _TICKS_MASK

    # ---- moving --------------------------------------------------------------------------

    def stop_at(self, stops_us, on_stop):
        """Halt at each device time in stops_us (later than now) and call on_stop there."""
        now = self._now_us
        self._stops = sorted(t for t in stops_us if t > now)
        self._on_stop = on_stop

    def charge_us(self, us):
        """Modelled work: us of device time pass (no wall wait of its own)."""
        if us > 0:
            self.charged_us += us
            self.advance_to(self._now_us + us)

    def sleep_us(self, us):
        """The firmware waits us of device time; paced against the wall."""
        if us > 0:
            self.advance_to(self._now_us + us)
            self.pace()

    def advance_to(self, t_us):
        """Move to device time t_us (no-op when not later), halting at every stop on the way."""
        stops = self._stops
        while stops and stops[0] <= t_us:
            stop_us = stops.pop(0)
            if stop_us > self._now_us:
                self._now_us = stop_us
                self._on_stop(stop_us)
        if t_us > self._now_us:
            self._now_us = t_us

    # ---- pacing --------------------------------------------------------------------------

    def catch_up(self, accel):
        """Start pacing at accel from now if the pace changed or the device has fallen more
        than CATCH_UP_SLACK_US behind the wall (a slow stretch is never made up by a burst;
        a wait that overslept by less is, so the pace holds at accel).  Call before a
        wait."""
        wall = self._wall_us()
        if (accel != self._anchor_accel
                or self.wall_until_us(self._now_us, accel) < -CATCH_UP_SLACK_US):
            self._reanchor(wall, accel)

    def wall_until_us(self, t_us, accel):
        """Wall us until device time t_us is due at accel (0 or less: it is due).  Integer
        arithmetic: accel is a ratio of ints, so no float is made per call."""
        num, den = self._ratio if accel == self.accel else _ratio(accel)
        return self._anchor_wall_us + (t_us - self._anchor_now_us) * den // num - self._wall_us()

    def paced_us(self, limit_us, accel):
        """Device time the wall has reached at accel, between now and limit_us: where an
        idle that the host ended early leaves the clock."""
        num, den = self._ratio if accel == self.accel else _ratio(accel)
        reached = self._anchor_now_us + (self._wall_us() - self._anchor_wall_us) * num // den
        return max(self._now_us, min(reached, limit_us))

    def pace(self):
        """Wait on the wall until device time is no further ahead than accel allows."""
        if self.accel is not None:
            self.catch_up(self.accel)
            lead = self.wall_until_us(self._now_us, self.accel)
            if lead > 0:
                self._sleep_wall_us(lead)

    def unpaced(self):
        """The device just ran unpaced: a later paced wait counts its pace from then."""
        self._anchor_accel = None

    def pace_restart(self):
        """Count pacing from now (after a halt the wall went on without the device)."""
        self._reanchor(self._wall_us(), self._anchor_accel)

    def _reanchor(self, wall, accel):
        self._anchor_wall_us = wall
        self._anchor_now_us = self._now_us
        self._anchor_accel = accel


def _ratio(accel):
    """accel as (numerator, denominator) ints: exact for whole accels, 1/1000 otherwise."""
    if isinstance(accel, int):
        return accel, 1
    return int(accel * 1000 + 0.5), 1000


def _wall_us_source():
    ticks = getattr(time, "ticks_us", None)
    if ticks is not None:
        return ticks
    return lambda: time.monotonic_ns() // 1000  # CPython


def sleep_wall_us(us):
    sleep = getattr(time, "sleep_us", None)
    if sleep is not None:
        sleep(us)
    else:
        time.sleep(us / 1_000_000)


if hasattr(time, "ticks_ms"):
    link_ms = time.ticks_ms  # wall milliseconds for link timeouts; compare with link_diff
    link_diff = time.ticks_diff
else:  # CPython tests

    def link_ms():
        return time.monotonic_ns() // 1_000_000

    def link_diff(a, b):
        return a - b
