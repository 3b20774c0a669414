"""The device's outputs (supply relay and setpoint, laser, shutter) and the one way to make them safe."""

from lumenfw.board import dac_code, safe_outputs
from lumenfw.climb import SetpointClimb
from protocol import schema


class Outputs:
    """Drives relay, DAC, laser and shutter, remembers what is on, and reports changes.

    emit(code, value) is called after the pins have changed, never before: a report that
    fails cannot delay making things safe.
    """

    def __init__(self, board, front, emit, drives_laser=True, enable=None):
        """front: the channel's chips (lumenfw.parts.Parts.fronts); drives_laser: this channel
        is where the laser and shutter point (on a board with cards only that channel's
        outputs touch their pins); enable: with cards, the cards' enable (a CardEnable shared
        by every channel)."""
        self._board = board
        self._config = board.config
        self._shutter_open_level = board.config.SHUTTER_OPEN_LEVEL
        self._dac = front.dac
        self._relay = front.relay
        # With cards the board's relay pin is every card's enable: it drops only for the rig
        # (cards.all_safe) or when a card's relay cannot be opened.
        self._enable = enable
        self._drives_laser = drives_laser
        self._emit = emit
        self.output_on = False
        self.laser_on = False
        self.shutter_open = False  # what the drive commands; the switch says what is true
        self.setpoint_mv = 0  # as applied: while climbing, the step the output holds
        self.climb = SetpointClimb(board.config, board.ticks_diff)  # (the controller drives it)
        self.dac_failed = False

    def report_to(self, emit):
        """Where the reports go (the channel's controller, built after its outputs)."""
        self._emit = emit

    def safe(self):
        """Relay off, laser off, shutter closed, DAC 0, in that order, then the reports.

        The pins and the DAC are safe before anything is reported (a dead DAC is noted in
        dac_failed: with the relay open the output is dead anyway); only a report that fails
        can raise, and by then nothing is left on.  A card whose relay cannot be written
        cuts the enable of every card (the device then stops every channel).
        Returns True when something was on.
        """
        # The relay is off even when the DAC write fails: the output is dead either way.
        self.climb.active = False
        if self._enable is None:
            self.dac_failed = not safe_outputs(self._board, self._dac)
        else:
            if self._drives_laser:
                self._pins_safe()
            self.dac_failed = not self._card_safe()
        was_output, was_laser, was_shutter = self.output_on, self.laser_on, self.shutter_open
        self.output_on = False
        self.laser_on = False
        self.shutter_open = False
        self.setpoint_mv = 0
        if was_output:
            self._emit(schema.EV_OUTPUT_OFF, 0)
        if was_laser:
            self._emit(schema.EV_LASER_OFF, 0)
        return was_output or was_laser or was_shutter

    def _pins_safe(self):
        board = self._board
        board.laser.value(0)
        board.shutter.value(1 - self._shutter_open_level)

    def _card_safe(self):
        """This card's relay open (else the enable of all), then its DAC at 0; False when
        the DAC could not be written."""
        try:
            self._relay.value(0)
        except OSError:
            self._enable.cut_off()
        try:
            self._dac.write_code(0)
        except OSError:
            return False
        return True

    def set_setpoint(self, setpoint_mv):
        """New supply setpoint with the relay as it is (hot path: one I2C write).  Only the
        controller calls it: a rise climbs (Controller.drive)."""
        self._dac.write_code(dac_code(setpoint_mv, self._config))
        self.setpoint_mv = setpoint_mv

    def enable_output(self, setpoint_mv, target_mv):
        """Setpoint first, then the relay, so the DUT never sees a stale voltage; the event
        names target_mv, where the climb that begins here is heading."""
        self.set_setpoint(setpoint_mv)
        if not self.output_on:
            self._relay.value(1)
            if self._enable is not None:
                self._enable.value(1)
            self.output_on = True
            self._emit(schema.EV_OUTPUT_ON, target_mv)

    def disable_output(self):
        """Relay off first, then DAC 0."""
        self._relay.value(0)
        self.climb.active = False
        self._dac.write_code(0)
        self.setpoint_mv = 0
        if self.output_on:
            self.output_on = False
            self._emit(schema.EV_OUTPUT_OFF, 0)

    def set_laser(self, on):
        self._board.laser.value(1 if on else 0)
        if on != self.laser_on:
            self.laser_on = on
            self._emit(schema.EV_LASER_ON if on else schema.EV_LASER_OFF, 0)

    def drive_shutter(self, open_):
        """Drive the shutter open or closed; the ShutterWatch confirms with the switch."""
        level = self._shutter_open_level
        self._board.shutter.value(level if open_ else 1 - level)
        self.shutter_open = open_

    def enable_cut(self):
        """A card's relay would not open and every card's enable is off for good."""
        return self._enable is not None and self._enable.cut

    def any_on(self):
        return self.output_on or self.laser_on or self.shutter_open

    def flags(self):
        """FLAG_OUTPUT_ON | FLAG_LASER_ON as they are commanded."""
        return (schema.FLAG_OUTPUT_ON if self.output_on else 0) | (
            schema.FLAG_LASER_ON if self.laser_on else 0)
