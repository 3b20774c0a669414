"""Confirms each shutter move with the shutter-closed switch, within the board's timeout."""

from protocol import schema

IDLE = 0
MOVING = 1
ARRIVED = 2
FAULT = 3


class ShutterWatch:
    """After drive_shutter(), poll() until the switch agrees or the timeout passes.

    Times are on the experiment clock (the shutter's travel is physical).  Emits
    EV_SHUTTER_OPENED / EV_SHUTTER_CLOSED (value: ms taken) or EV_SHUTTER_FAULT (value: ms
    waited).  Without a switch on the board every move is taken as arrived at once.
    """

    def __init__(self, switch, timeout_ms, ticks_diff, emit):
        self._switch = switch  # 1 = closed; None when the board has no switch
        self._timeout_us = timeout_ms * 1000
        self._ticks_diff = ticks_diff
        self._emit = emit
        self.status = IDLE
        self._want_open = False
        self._started = 0

    def expect(self, want_open, now_us):
        """A move was just commanded."""
        self._want_open = want_open
        self._started = now_us
        self.status = MOVING

    def is_closed(self):
        """What the switch says (True without a switch when the drive says closed)."""
        if self._switch is None:
            return not self._want_open
        return self._switch.value() == 1

    def due_in_us(self, now_us, poll_us, limit_us):
        """Device us to the next look at the switch while a move is pending: on a grid of
        poll_us from the command, so when the move is seen does not depend on other passes."""
        if self.status != MOVING:
            return limit_us
        waited_us = self._ticks_diff(now_us, self._started)
        wait_us = poll_us - waited_us % poll_us
        return wait_us if wait_us < limit_us else limit_us

    def poll(self, now_us):
        """Advance a pending move; returns the status (ARRIVED or FAULT once, then IDLE)."""
        if self.status != MOVING:
            self.status = IDLE
            return IDLE
        waited_us = self._ticks_diff(now_us, self._started)
        if self.is_closed() != self._want_open:
            self.status = ARRIVED
            self._emit(schema.EV_SHUTTER_OPENED if self._want_open else schema.EV_SHUTTER_CLOSED,
                       waited_us // 1000)
        elif waited_us >= self._timeout_us:
            self.status = FAULT
            self._emit(schema.EV_SHUTTER_FAULT, waited_us // 1000)
        return self.status
