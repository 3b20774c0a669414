"""Virtual experiment clock (accelerated, wrapping like rp2's ticks_us) and the wall link clock."""

import time

TICKS_PERIOD = 1 << 30  # rp2's ticks_us period
_TICKS_MASK = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD >> 1


class VirtualClock:
    """Experiment time = start_us + accel * wall time since construction, in integer us.

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
        self._wall0 = self._wall_us()
        self._start_us = start_us
        self._offset = ticks_offset_us

    def now_us(self):
        return self._start_us + (self._wall_us() - self._wall0) * self._num // self._den

    def ticks_us(self):
        return (self.now_us() + self._offset) & _TICKS_MASK

    def ticks_diff(self, a, b):
        return ((a - b + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF

    def ticks_add(self, ticks, delta_us):
        return (ticks + delta_us) & _TICKS_MASK

    def sleep_us(self, us):
        """Let us of experiment time pass: us / accel of wall time."""
        if us > 0:
            _sleep_wall_us(us * self._den // self._num)


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
