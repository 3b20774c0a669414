"""Virtual experiment clock (accelerated, wrapping like rp2's ticks_us) and the wall link clock."""

import time

TICKS_PERIOD = 1 << 30  # rp2's ticks_us period
_TICKS_MASK = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD >> 1

# A wall gap longer than this between two readings of the clock (outside a sleep) is the
# host OS not running the process, not firmware work: a loop pass reads the clock every few
# tens of wall microseconds, and a garbage collection takes 0.1 to 0.4 ms.
STALL_WALL_US = 500
# ...but a stall may still move experiment time this far (so at low accel, where 0.5 ms of
# wall time is well under a loop pass of experiment time, nothing is ever cut).
STALL_MIN_STEP_US = 100_000
# The shortest wall sleep sleep_us() takes. The firmware polls every 1 ms of experiment time,
# which at accel 1000 would be a pass every microsecond of wall time: the process would
# never sleep and an idle simulated rig would use a whole core. The OS rounds a short sleep
# up to ~60-90 us anyway; this makes the floor explicit and a little higher.
MIN_SLEEP_WALL_US = 100


class VirtualClock:
    """Experiment time = start_us + accel * the wall time the process was running, in integer us.

    The process shares the machine: the OS may leave it waiting for a core for milliseconds,
    which at accel 1000 would be seconds of experiment time in which the firmware could not
    run, and a sample period it never saw.  A Pico is never descheduled, so a step between
    two readings is cut to max(STALL_MIN_STEP_US, accel * STALL_WALL_US) beyond what a
    sleep_us asked for; experiment time then runs slower than accel (the cut time is counted
    in stalled_us) instead of the firmware missing it.

    now_us() never wraps (physics and chip timing use it); ticks_us() is what the firmware
    sees: now_us() + ticks_offset_us wrapped at 2**30, so wrap handling gets exercised.
    wall_us is the wall microsecond source (time.ticks_us on MicroPython, whose period is
    2**62 on the 64-bit unix port: no wrap in practice, so plain subtraction is safe).
    """

    def __init__(self, accel=1, start_us=0, ticks_offset_us=0, wall_us=None):
        if not accel > 0:
            raise ValueError("accel must be above zero")
        self.accel = accel
        # accel as a ratio of ints, so no float is made per reading
        if isinstance(accel, int):
            self._num, self._den = accel, 1
        else:
            self._num, self._den = int(accel * 1000 + 0.5), 1000
        self._wall_us = wall_us if wall_us is not None else _wall_us_source()
        self._wall_last = self._wall_us()
        self._rest = 0  # the part of a microsecond (in 1/den) carried to the next reading
        self._now_us = start_us
        self._max_step_us = max(STALL_MIN_STEP_US, STALL_WALL_US * self._num // self._den)
        self._sleep_grant_us = 0  # a sleep's experiment time: the next step may be this longer
        self._offset = ticks_offset_us
        self.stalled_us = 0
        self.stalls = 0

    def now_us(self):
        wall = self._wall_us()
        scaled = (wall - self._wall_last) * self._num + self._rest
        self._wall_last = wall
        step = scaled // self._den
        self._rest = scaled - step * self._den
        limit = self._max_step_us + self._sleep_grant_us
        self._sleep_grant_us = 0
        if step > limit:
            self.stalled_us += step - limit
            self.stalls += 1
            step = limit
        self._now_us += step
        return self._now_us

    def ticks_us(self):
        return (self.now_us() + self._offset) & _TICKS_MASK

    def ticks_diff(self, a, b):
        return ((a - b + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF

    def ticks_add(self, ticks, delta_us):
        return (ticks + delta_us) & _TICKS_MASK

    def sleep_us(self, us):
        """Let us of experiment time pass: us / accel of wall time, at least
        MIN_SLEEP_WALL_US (so at high accel more experiment time passes than asked; none of
        the sleep is cut as a stall)."""
        if us > 0:
            self.now_us()
            wall_us = max(us * self._den // self._num, MIN_SLEEP_WALL_US)
            self._sleep_grant_us = wall_us * self._num // self._den
            _sleep_wall_us(wall_us)


def _wall_us_source():
    ticks = getattr(time, "ticks_us", None)
    if ticks is not None:
        return ticks
    return lambda: time.monotonic_ns() // 1000  # CPython


def _sleep_wall_us(us):
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
