"""Simulated INA226: config, calibration, shunt/bus/current/power registers, averaging timing."""

from hil_sim.chips.register_chip import RegisterChip, to_u16

_CONFIG_DEFAULT = 0x4127
_AVERAGES = (1, 4, 16, 64, 128, 256, 512, 1024)
_CONVERSION_US = (140, 204, 332, 588, 1100, 2116, 4156, 8244)
_MANUFACTURER = 0x5449
_DIE = 0x2260
_SHUNT_LSB_NV = 2500  # 2.5 uV
_BUS_LSB_UV = 1250  # 1.25 mV
_CVRF = 0x0008  # mask/enable: conversion ready flag
_AFF = 0x0010  # mask/enable: alert function flag
_SOL = 0x8000  # mask/enable: alert on a shunt result over the limit
_LEN = 0x0001  # mask/enable: alert latched until mask/enable is read


class SimINA226(RegisterChip):
    """Registers follow the bench's DUT voltage and current through a shunt of shunt_mohm.

    In a continuous mode the result registers change once per averaging period,
    AVG * (bus CT + shunt CT) (datasheet 7.3.1), holding the newest completed result.
    The current register is shunt * CAL / 2048 and reads 0 until CAL is written
    (datasheet eq. 3); power is current * bus / 20000 (eq. 4).  With SOL set in mask/enable
    a shunt result over the alert limit asserts ALERT (alert_released() is the pin, open
    drain with a pull-up: False while asserted), latched until mask/enable is read when LEN
    is set (datasheet 7.6.7); alert_due_us tells the board when a wait must end for it.
    """

    def __init__(self, source, clock, shunt_mohm):
        RegisterChip.__init__(self)
        self._source = source
        self._clock = clock
        self._shunt_mohm = shunt_mohm
        self._reset()
        source.before_input_change(self._update)  # a finished conversion keeps its bench

    def _reset(self):
        self.config = _CONFIG_DEFAULT
        self.calibration = 0
        self.mask_enable = 0
        self.alert_limit = 0
        self._alert = False
        self._quiet_inputs = -1  # source.inputs when no alert can come until they change
        self.shunt = 0
        self.bus = 0
        self._epoch = -1
        self._period_start_us = self._clock.now_us()
        self._period_us = self.period_us()
        self._triggered_done = False

    def period_us(self):
        avg = _AVERAGES[(self.config >> 9) & 0x7]
        bus_ct = _CONVERSION_US[(self.config >> 6) & 0x7]
        shunt_ct = _CONVERSION_US[(self.config >> 3) & 0x7]
        mode = self.config & 0x7
        ct = (bus_ct if mode & 2 else 0) + (shunt_ct if mode & 1 else 0)
        return avg * ct

    def _update(self):
        mode = self.config & 0x7
        if mode == 0 or mode == 4:  # power-down: registers hold
            return
        if mode < 4 and self._triggered_done:  # triggered: one result per config write
            return
        now = self._clock.now_us()
        period = self._period_us  # period_us() of the config, kept at each config write
        elapsed = now - self._period_start_us
        if elapsed < period:
            return
        self._period_start_us += (elapsed // period) * period
        self._triggered_done = True
        self.mask_enable |= _CVRF
        self._measure(mode, self._period_start_us)

    def _measure(self, mode, at_us):
        """The result of the conversion that ended at device time at_us: the bench then, so
        a result does not depend on when (or how often) the firmware read the chip.  A
        frozen source's readings change only with its epoch (its inputs)."""
        source = self._source
        key = source.epoch if source.frozen else at_us
        if key == self._epoch:
            return  # that conversion was already taken: same result, nothing allocated
        self._epoch = key
        source.read_electrical_at(at_us)
        if mode & 1:
            self.shunt = _clamp(self._shunt_code(source.current_a), -32768, 32767)
        if mode & 2:
            self.bus = _clamp(_round(source.voltage_v * 1_000_000 / _BUS_LSB_UV), 0, 32767)
        if self.mask_enable & _SOL:
            if self.shunt > _signed(self.alert_limit):
                self._alert = True
                self.mask_enable |= _AFF
            elif not self.mask_enable & _LEN:
                self._alert = False
                self.mask_enable &= ~_AFF

    def _shunt_code(self, current_a):
        """The shunt register's reading of current_a, before clamping."""
        shunt_nv = current_a * self._shunt_mohm * 1_000_000  # I*R in nV
        return _round(shunt_nv / _SHUNT_LSB_NV)

    def alert_released(self):
        """The ALERT pin's level: True (pulled up) unless an alert is asserted."""
        self._update()
        return not self._alert

    def alert_due_us(self, now_us, end_us):
        """Device us of the first conversion ending in (now_us, end_us] whose shunt result
        will assert ALERT, or -1.  The results are looked at ahead only while the current
        can still rise (the supply slewing, BenchSource.current_can_rise_until_us) and at
        the first one after: with the inputs as they are the current only falls later, so
        once that one is below the limit nothing is looked at again until an input, the
        limit, the mask or the configuration changes."""
        source = self._source
        mode = self.config & 0x7
        if (self._alert or not self.mask_enable & _SOL or source.frozen or mode < 5
                or not mode & 1 or self._quiet_inputs == source.inputs):
            return -1
        rise_until_us = source.current_can_rise_until_us()
        if rise_until_us < 0:
            return -1
        period = self._period_us
        limit = _signed(self.alert_limit)
        t_us = self._period_start_us + ((now_us - self._period_start_us) // period + 1) * period
        while t_us <= end_us:
            if self._shunt_code(source.current_a_ahead(t_us)) > limit:
                return t_us
            if t_us >= rise_until_us:
                self._quiet_inputs = source.inputs
                return -1
            t_us += period
        return -1

    def current(self):
        return _clamp((self.shunt * self.calibration) // 2048, -32768, 32767)

    def read_register(self, ptr):
        if 1 <= ptr <= 4 or ptr == 6:
            self._update()
        if ptr == 0:
            return self.config
        if ptr == 1:
            return to_u16(self.shunt)
        if ptr == 2:
            return self.bus
        if ptr == 3:
            current = self.current()
            return _clamp(abs(current) * self.bus // 20000, 0, 0xFFFF)
        if ptr == 4:
            return to_u16(self.current())
        if ptr == 5:
            return self.calibration
        if ptr == 6:
            value = self.mask_enable
            self.mask_enable &= ~_CVRF  # reading clears the conversion ready flag
            if value & _LEN:  # and a latched alert
                self._alert = False
                self.mask_enable &= ~_AFF
            return value
        if ptr == 7:
            return self.alert_limit
        if ptr == 0xFE:
            return _MANUFACTURER
        if ptr == 0xFF:
            return _DIE
        raise OSError(5)

    def write_register(self, ptr, value):
        self._quiet_inputs = -1  # a new limit, mask or configuration: look again
        if ptr == 0:
            if value & 0x8000:
                self._reset()
                return
            self.config = (value & 0x0FFF) | 0x4000
            self._period_us = self.period_us()
            self._period_start_us = self._clock.now_us()  # a config write restarts conversion
            self._triggered_done = False
            self._epoch = -1
        elif ptr == 5:
            self.calibration = value & 0x7FFF  # bit 15 is reserved
        elif ptr == 6:
            self.mask_enable = (value & 0xFC03) | (self.mask_enable & (_AFF | _CVRF))
            if not value & 0xFC00:  # no alert function enabled
                self._alert = False
        elif ptr == 7:
            self.alert_limit = value
        else:
            raise OSError(5)


def _signed(value):
    return value - 0x10000 if value & 0x8000 else value


def _round(x):
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def _clamp(value, low, high):
    return low if value < low else min(value, high)
