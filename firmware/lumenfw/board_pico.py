"""The Raspberry Pi Pico board: real I2C, pins, watchdog and the USB CDC console as host link.

The only module that imports `machine`.
"""

import sys
import time

import machine
import micropython

from lumenfw import board_config
from lumenfw.board import Board, StdioLink
from protocol import schema


class PicoBoard(Board):
    name = "pico"

    def __init__(self, config=board_config, watchdog=True):
        """Pins come up in their safe (low) state; the watchdog starts now when asked.

        Ctrl-C is disabled on the console, which from here on carries binary frames.
        """
        pin = machine.Pin
        interlock = pin(config.PIN_INTERLOCK, pin.IN, pin.PULL_DOWN)
        # With channel cards the compliance input is the cards' INT line (lumenfw/cards.py).
        ina_alert = pin(config.PIN_CARD_INT if config.CARD_COUNT else config.PIN_INA_ALERT,
                        pin.IN, pin.PULL_UP)
        i2c = machine.I2C(config.I2C_ID, scl=pin(config.PIN_SCL), sda=pin(config.PIN_SDA),
                          freq=config.I2C_FREQ_HZ)
        Board.__init__(
            self, config, i2c,
            relay=pin(config.PIN_RELAY, pin.OUT, value=0),
            laser=pin(config.PIN_LASER, pin.OUT, value=0),
            shutter=pin(config.PIN_SHUTTER, pin.OUT, value=1 - config.SHUTTER_OPEN_LEVEL),
            tia_gain=pin(config.PIN_TIA_GAIN, pin.OUT, value=0),
            status_led=pin(config.PIN_STATUS_LED, pin.OUT, value=0),
            shutter_closed=pin(config.PIN_SHUTTER_CLOSED, pin.IN, pin.PULL_DOWN),
            interlock=interlock,
            reset_cause=_reset_cause(),
            board_id=int.from_bytes(machine.unique_id(), "big"),
            ina_alert=ina_alert,
            card_count=config.CARD_COUNT,
        )
        # The interlock opening and the ALERT asserting (both falling edges) end the loop's
        # wait: the interrupt only sets a flag (no allocation, safe as a hard IRQ), idle_us
        # looks at it every SAFETY_SLICE_MS and the pass that follows acts on the pins.
        self._safety_edge = False
        self._slice_ms = config.SAFETY_SLICE_MS
        interlock.irq(handler=self._on_safety_edge, trigger=pin.IRQ_FALLING, hard=True)
        ina_alert.irq(handler=self._on_safety_edge, trigger=pin.IRQ_FALLING, hard=True)
        micropython.kbd_intr(-1)
        self._link = StdioLink(sys.stdin.buffer, sys.stdout.buffer)
        self._wdt = machine.WDT(timeout=config.WATCHDOG_MS) if watchdog else None

    def ticks_us(self):
        return time.ticks_us()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def ticks_add(self, ticks, delta_us):
        return time.ticks_add(ticks, delta_us)

    def sleep_us(self, us):
        time.sleep_us(us)

    def _on_safety_edge(self, _pin):
        self._safety_edge = True

    def idle_us(self, us, link_ms):
        """Wait on the USB input (woken by the host's bytes) until WAKE_GUARD_US before the
        end, in slices of SAFETY_SLICE_MS that end the wait when a safety edge came; the
        guard itself is slept through (see board_config.WAKE_GUARD_US).  One clock serves
        both deadlines here."""
        if link_ms * 1000 < us - self.config.WAKE_GUARD_US:
            us = link_ms * 1000
        start = time.ticks_us()
        early_us = us - self.config.WAKE_GUARD_US
        while True:
            if self._safety_edge:
                self._safety_edge = False
                return
            left_ms = (early_us - time.ticks_diff(time.ticks_us(), start)) // 1000
            if left_ms < 1:
                break
            if self._link.wait(left_ms if left_ms < self._slice_ms else self._slice_ms):
                return
        rest_us = us - time.ticks_diff(time.ticks_us(), start)
        if rest_us > 0:
            time.sleep_us(rest_us)

    def link_ms(self):
        return time.ticks_ms()

    def link_diff(self, a, b):
        return time.ticks_diff(a, b)

    def read_into(self, buf):
        return self._link.read_into(buf)

    def write(self, buf, n):
        self._link.write(buf, n)

    def feed_watchdog(self):
        if self._wdt is not None:
            self._wdt.feed()


def _reset_cause():
    cause = machine.reset_cause()
    if cause == machine.WDT_RESET:
        return schema.RESET_WATCHDOG
    if cause == machine.PWRON_RESET:
        return schema.RESET_POWER_ON
    return schema.RESET_UNKNOWN


def safe_boot_requested(config=board_config):
    """True when the safe-boot jumper pulls PIN_SAFE_BOOT low: main.py should then return
    to the REPL (so mpremote can reach the board) instead of starting the firmware."""
    return machine.Pin(config.PIN_SAFE_BOOT, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0


def build():
    return PicoBoard()
