"""The board interface the firmware is written against, and helpers every board shares.

`main.py` builds one board (`board_pico.PicoBoard` on the Pico, `hil_sim.board.SimBoard`
under the simulator) and hands it to the drivers and the controller.  Nothing else touches
`machine`.
"""

import select

from protocol import schema


class Board:
    """What a board offers; a subclass sets every attribute and the clock/link methods.

    Attributes:
      config: the board config module (lumenfw/board_config.py or an equivalent).
      i2c: readfrom_mem_into(addr, reg, buf), writeto_mem(addr, reg, buf),
        writeto(addr, buf), readfrom_into(addr, buf), scan() (the addresses that ACK);
        failures raise OSError.
      relay, laser, shutter, tia_gain, status_led: output pins, `.value(v)` / `.value()`.
      shutter_closed: input pin, 1 = the shutter's closed switch is made.
      interlock: input pin, 1 = interlock loop closed = safe.
      ina_alert: input pin, 0 = the INA226 has latched a result at or over the compliance
        (a board without the wire gives a pin that always reads 1); on a board with channel
        cards the cards' INT line, 0 = some card's ALERT changed (its expander says which).
      card_count: channel cards behind the mux (lumenfw/cards.py), 1 to MAX_CHANNELS; 0 for
        the one-channel board, whose chips sit on the main bus and whose relay pin is the
        output relay itself (with cards it is every card's enable).
      reset_cause: schema.RESET_* of this boot.
      board_id: unsigned 64-bit int, stable across resets.
      name: short text naming the board.
    """

    name = "board"

    def __init__(self, config, i2c, relay, laser, shutter, tia_gain, status_led,
                 shutter_closed, interlock, reset_cause=schema.RESET_UNKNOWN, board_id=0,
                 ina_alert=None, card_count=0):
        self.config = config
        self.i2c = i2c
        self.relay = relay
        self.laser = laser
        self.shutter = shutter
        self.tia_gain = tia_gain
        self.status_led = status_led
        self.shutter_closed = shutter_closed
        self.interlock = interlock
        self.ina_alert = ina_alert if ina_alert is not None else NoAlert()
        self.reset_cause = reset_cause
        self.board_id = board_id
        self.card_count = card_count

    # Experiment clock: microseconds, wraps (rp2: at 2**30); compare only with ticks_diff.
    def ticks_us(self):
        raise NotImplementedError

    def ticks_diff(self, a, b):
        """Signed a - b for two ticks_us values less than half a wrap apart."""
        raise NotImplementedError

    def ticks_add(self, ticks, delta_us):
        """ticks_us value delta_us after (or before) ticks."""
        raise NotImplementedError

    def sleep_us(self, us):
        """Wait us of experiment time (a conversion, a settling time): never cut short."""
        raise NotImplementedError

    def idle_us(self, us, link_ms):
        """The loop has nothing due for us of experiment time nor for link_ms of link time
        (where the two clocks differ, as under an accelerated simulator, each deadline is
        kept on its own clock; a link deadline within WAKE_GUARD_US before the experiment's
        waits for that pass): wait at most that long, returning early when the host has
        written (so a command is answered within a few ms however long the wait),
        when the interlock opens or when the INA226's ALERT asserts (so a safety input is
        acted on at once, with no pass spent looking at it in between)."""
        raise NotImplementedError

    # Wall clock for the link (heartbeats, host loss, batch age): never accelerated.
    def link_ms(self):
        raise NotImplementedError

    def link_diff(self, a, b):
        raise NotImplementedError

    # Host link.
    def read_into(self, buf):
        """Copy what the host has sent into buf without waiting; return the count (0 = none)."""
        raise NotImplementedError

    def write(self, buf, n):
        """Send buf[0:n] to the host; blocks until the bytes are handed to the link."""
        raise NotImplementedError

    def feed_watchdog(self):
        raise NotImplementedError


class NoAlert:
    """The ALERT input of a board without the wire: never asserted."""

    def value(self, v=None):
        return 1


class StdioLink:
    """Non-blocking, allocation-free reads and plain writes on a pair of byte streams.

    A stream's readinto(buf) waits until buf is full, so read_into takes one byte at a time
    while poll says more is waiting.  Used for the Pico's USB CDC console and for the
    simulator's raw pty alike.
    """

    def __init__(self, rx, tx):
        self._rx = rx
        self._tx = tx
        self._one = bytearray(1)
        self._poll = select.poll()
        self._poll.register(rx, select.POLLIN)

    def read_into(self, buf):
        n = 0
        size = len(buf)
        one = self._one
        while n < size:
            ready = False
            for _ in self._poll.ipoll(0):
                ready = True
            if not ready or not self._rx.readinto(one):
                break  # nothing waiting, or end of stream (the host closed the pty)
            buf[n] = one[0]
            n += 1
        return n

    def write(self, buf, n):
        self._tx.write(buf, n)

    def wait(self, timeout_ms):
        """True once bytes are waiting, within timeout_ms (0: just look)."""
        for _ in self._poll.ipoll(timeout_ms):
            return True
        return False


def safe_outputs(board, dac=None):
    """Relay off, laser off, shutter driven closed, and the DAC to 0 when given.

    The pins go first because they cannot fail; the DAC write can (I2C), so an OSError there
    is swallowed and reported as False: with the relay open the DUT is safe either way.
    """
    board.relay.value(0)
    board.laser.value(0)
    board.shutter.value(1 - board.config.SHUTTER_OPEN_LEVEL)
    if dac is None:
        return True
    try:
        dac.write_code(0)
    except OSError:
        return False
    return True


def dac_code(setpoint_mv, config):
    """DAC code for a supply setpoint, rounded, clamped to 0..4095 (MCP4725 eq. 4-1)."""
    full_mv = config.DAC_FULL_SCALE_MV
    code = (setpoint_mv * 4096 + full_mv // 2) // full_mv
    if code < 0:
        return 0
    if code > 4095:
        return 4095
    return code


def dac_mv(code, config):
    """Supply setpoint in mV that a DAC code produces (rounded)."""
    return (code * config.DAC_FULL_SCALE_MV + 2048) // 4096
