"""The board's self-test of one channel: each chip of its front end (with cards: its card)
answers as its part does, its photodiode is dark, its supply reads no current with its relay
open; with the laser's channel the rig's own parts too (SHT31, interlock, shutter travel).

It runs inside one SELF_TEST command while no run is going (well under a second without the
shutter, at most about two with it), feeding the watchdog between checks; each check is one
record of SELF_TEST_RESULT (schema.CHK_*). Not the sampling path: it allocates its reply.
"""

import struct

from lumenfw.drivers.ads1115 import config_word
from lumenfw.drivers.ina226 import DIE_ID_INA226, MANUFACTURER_TI
from lumenfw.drivers.sht31 import CMD_READ_SERIAL, CMD_READ_STATUS
from protocol import schema

_RECORD = schema.struct_format(schema.SELFTEST_FIELDS)
_RECORD_SIZE = struct.calcsize(_RECORD)
_HEAD = schema.struct_format(schema.BY_ID[schema.SELF_TEST_RESULT][2])
_HEAD_SIZE = struct.calcsize(_HEAD)
_PASS = schema.CHECK_PASS
_FAIL = schema.CHECK_FAIL
_SKIPPED = schema.CHECK_SKIPPED

SHT31_ERROR_BITS = 0x0003  # status bit 1: last command not processed; bit 0: bad write CRC
SHT31_COMMAND_US = 1000  # the SHT31 wants 1 ms between a command and the next transfer
TIA_SETTLE_US = 2000  # after a range change: the TIA's feedback settles (RC well below 1 ms)
DARK_CONVERSIONS = 4  # averaged per range
SHUTTER_POLL_US = 1000  # the closed switch is looked at this often while the shutter moves
_ADS_IDLE = 0x8000  # the config register's OS bit reads 1 while no conversion runs
_INTERLOCK_OPENED = -2  # _travel: the interlock opened while the shutter was moving


class SelfTest:
    """The checks on one board's parts (lumenfw.parts.Parts), a channel at a time, through
    the controllers' outputs and samplers (ctrls: channel n at index n; rig_ctrl: the
    laser's, whose test also checks the rig's own parts). The caller refuses it during a
    run (NACK_BUSY)."""

    def __init__(self, board, parts, ctrls, rig_ctrl):
        self._board = board
        self._config = board.config
        self._parts = parts
        self._ctrls = ctrls
        self._rig_ctrl = rig_ctrl
        self._ctrl = rig_ctrl  # the channel under test (run sets it)
        self._front = parts.fronts[rig_ctrl.channel]
        self._body = bytearray(0)
        self._count = 0
        self._failed = 0

    def run(self, cmd_id, channel, scope):
        """The SELF_TEST_RESULT body of channel for scope (SELFTEST_QUICK or SELFTEST_FULL).

        The outputs are made safe before the first check and again after the last, whatever
        failed. A chip that does not answer is that check's failure; any other exception
        ends the test where it happened, with its fault code in the head and the records
        taken so far. The device's state is left as it was.
        """
        ctrl = self._ctrls[channel]
        self._ctrl = ctrl
        self._front = self._parts.fronts[channel]
        rig = ctrl is self._rig_ctrl
        pd = self._front.photodiode
        range_before = pd.range_index
        self._body = bytearray(_HEAD_SIZE + schema.MAX_SELFTEST_RECORDS * _RECORD_SIZE)
        self._count = 0
        self._failed = 0
        fault = schema.FAULT_NONE
        try:
            ctrl.make_safe()
            self._ctrls[0].sampler.pause_ambient()  # the SHT31 must not be mid-measurement
            self._quick(rig)
            if scope == schema.SELFTEST_FULL:
                if rig:
                    self._shutter()
                self._dark()
        except OSError:
            fault = schema.FAULT_I2C
        except MemoryError:
            fault = schema.FAULT_MEMORY
        except Exception:  # noqa: BLE001 - reported in the head; the outputs go safe below
            fault = schema.FAULT_SOFTWARE
        finally:
            ctrl.outputs.safe()
            pd.select_range(range_before)
        body = self._body
        struct.pack_into(_HEAD, body, 0, cmd_id, channel, scope, self._failed, fault)
        self._body = bytearray(0)
        return bytes(body[:_HEAD_SIZE + self._count * _RECORD_SIZE])

    # ---- records -------------------------------------------------------------------------

    def _record(self, check, state, detail, value, low, high):
        if self._count >= schema.MAX_SELFTEST_RECORDS:
            return
        struct.pack_into(_RECORD, self._body, _HEAD_SIZE + self._count * _RECORD_SIZE,
                         check, state, detail, value, low, high)
        self._count += 1
        if state == _FAIL:
            self._failed += 1
        self._board.feed_watchdog()

    def _expect(self, check, value, low, high, detail=schema.DETAIL_NONE):
        """Pass when low <= value <= high."""
        if low <= value <= high:
            self._record(check, _PASS, schema.DETAIL_NONE, value, low, high)
        else:
            self._record(check, _FAIL, detail, value, low, high)

    def _no_answer(self, check, exc, low, high):
        """The chip did not answer: the errno in value."""
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        self._record(check, _FAIL, schema.DETAIL_NO_ANSWER, errno, low, high)

    def _compare(self, check, read, expected):
        """read() must return expected."""
        try:
            value = read()
        except OSError as exc:
            self._no_answer(check, exc, expected, expected)
            return
        self._expect(check, value, expected, expected)

    # ---- the checks that move nothing -------------------------------------------------------

    def _quick(self, rig):
        """The checks that move nothing; the rig's SHT31 and interlock with its channel."""
        ina = self._front.ina
        self._scan(rig)
        self._compare(schema.CHK_INA226_MANUFACTURER, ina.read_manufacturer, MANUFACTURER_TI)
        self._compare(schema.CHK_INA226_DIE, ina.read_die_id, DIE_ID_INA226)
        if rig:
            self._sht31()
        self._dac()
        self._ads1115()
        if rig:
            self._expect(schema.CHK_INTERLOCK, self._board.interlock.value(), 1, 1)
        self._supply()

    def _scan(self, rig):
        """Every chip of the channel answers its address: on the main bus (the SHT31 with
        the rig's channel; with cards, the mux) and, with cards, on the channel's card."""
        parts = self._parts
        expected = 0
        for address, bit in parts.chips:
            if rig or address != parts.sht_address:
                expected |= bit
        for _address, bit in parts.card_chips:
            expected |= bit
        try:  # (a card's bus joins it on the mux first: the main bus's chips answer too)
            answering = (self._board.i2c if parts.cards is None else self._front.bus).scan()
        except OSError as exc:
            self._no_answer(schema.CHK_I2C_SCAN, exc, expected, expected)
            return
        found = 0
        for address, bit in parts.chips + parts.card_chips:
            if expected & bit and address in answering:
                found |= bit
        self._expect(schema.CHK_I2C_SCAN, found, expected, expected)

    def _sht31(self):
        """Status register (error bits clear) and serial number, each word CRC-checked."""
        sht = self._parts.sht
        for check, command, words in ((schema.CHK_SHT31_STATUS, CMD_READ_STATUS, 1),
                                      (schema.CHK_SHT31_SERIAL, CMD_READ_SERIAL, 2)):
            high = SHT31_ERROR_BITS if check == schema.CHK_SHT31_STATUS else 0
            try:
                sht.command(command)
                self._board.sleep_us(SHT31_COMMAND_US)
                value = sht.read_words(words)
            except OSError as exc:
                self._no_answer(check, exc, 0, high)
                continue
            if value is None:
                self._record(check, _FAIL, schema.DETAIL_CRC, 0, 0, high)
            elif check == schema.CHK_SHT31_STATUS and value & SHT31_ERROR_BITS:
                self._record(check, _FAIL, schema.DETAIL_NONE, value, 0, high)
            else:
                if value & 0x80000000:  # a serial number above 2**31 travels as its i32
                    value -= 0x100000000
                self._record(check, _PASS, schema.DETAIL_NONE, value, 0, high)

    def _dac(self):
        """0 V written with the relay open (make_safe) reads back as code 0."""
        dac = self._front.dac
        try:
            dac.write_code(0)
            code = dac.read_code()
        except OSError as exc:
            self._no_answer(schema.CHK_DAC_READBACK, exc, 0, 0)
            return
        self._expect(schema.CHK_DAC_READBACK, code, 0, 0)

    def _ads1115(self):
        """A config word written (no conversion started) reads back, OS bit idle."""
        config = self._config
        word = config_word(config.ADS_PD_CHANNEL, config.PD_RANGES[0][1],
                           config.ADS_PD_RATE_INDEX)
        ads = self._front.photodiode.ads
        expected = word | _ADS_IDLE
        try:
            ads.write_config(word)
            value = ads.read_config()
        except OSError as exc:
            self._no_answer(schema.CHK_ADS1115_CONFIG, exc, expected, expected)
            return
        self._expect(schema.CHK_ADS1115_CONFIG, value, expected, expected)

    def _supply(self):
        """Relay open and DAC at 0: the INA226 reads no current beyond its offset, from a
        conversion that began after the relay opened."""
        limit = self._config.SELFTEST_CURRENT_OFFSET_NA
        ina = self._front.ina
        try:
            ina.restart()
            self._board.sleep_us(2 * self._config.INA226_PERIOD_US)
            current_na = ina.read_current_na()
        except OSError as exc:
            self._no_answer(schema.CHK_SUPPLY_OFFSET, exc, -limit, limit)
            return
        self._expect(schema.CHK_SUPPLY_OFFSET, current_na, -limit, limit)

    # ---- the full test: the shutter moves, the photodiode looks into the dark ------------------

    def _shutter(self):
        """Travel time open then closed, each within the board's shutter timeout, with the
        laser off. Skipped without a closed switch or with the interlock open."""
        opened = schema.CHK_SHUTTER_OPEN
        closed = schema.CHK_SHUTTER_CLOSE
        limit_ms = self._rig_ctrl.limits.shutter_timeout_ms
        detail = schema.DETAIL_NONE
        if not self._rig_ctrl.limits.has_shutter_switch:
            detail = schema.DETAIL_NOT_FITTED
        elif self._board.interlock.value() != 1:
            detail = schema.DETAIL_INTERLOCK_OPEN
        if detail:
            self._record(opened, _SKIPPED, detail, 0, 0, limit_ms)
            self._record(closed, _SKIPPED, detail, 0, 0, limit_ms)
            return
        if self._travel(False, limit_ms) < 0:  # make_safe drove it closed: wait for that
            self._record(opened, _FAIL, schema.DETAIL_NOT_AT_START, limit_ms, 0, limit_ms)
            self._record(closed, _FAIL, schema.DETAIL_TIMEOUT, limit_ms, 0, limit_ms)
            return
        took_ms = self._travel(True, limit_ms)
        if took_ms == _INTERLOCK_OPENED:
            self._record(opened, _SKIPPED, schema.DETAIL_INTERLOCK_OPEN, 0, 0, limit_ms)
            self._record(closed, _SKIPPED, schema.DETAIL_INTERLOCK_OPEN, 0, 0, limit_ms)
            return
        if took_ms < 0:  # never opened: a closing time would mean nothing
            self._record(opened, _FAIL, schema.DETAIL_TIMEOUT, limit_ms, 0, limit_ms)
            self._travel(False, limit_ms)
            self._record(closed, _SKIPPED, schema.DETAIL_NOT_AT_START, 0, 0, limit_ms)
            return
        self._expect(opened, took_ms, 0, limit_ms)
        took_ms = self._travel(False, limit_ms)
        if took_ms < 0:
            self._record(closed, _FAIL, schema.DETAIL_TIMEOUT, limit_ms, 0, limit_ms)
        else:
            self._expect(closed, took_ms, 0, limit_ms)

    def _travel(self, open_, limit_ms):
        """Drive the shutter and wait for its switch: ms taken, -1 when it did not arrive
        within limit_ms, _INTERLOCK_OPENED (the shutter driven closed at once)."""
        board = self._board
        outputs = self._rig_ctrl.outputs
        outputs.drive_shutter(open_)
        switch = board.shutter_closed
        want = 0 if open_ else 1
        limit_us = limit_ms * 1000
        start = board.ticks_us()
        while True:
            waited_us = board.ticks_diff(board.ticks_us(), start)
            if switch.value() == want:
                return waited_us // 1000
            if open_ and board.interlock.value() != 1:
                outputs.drive_shutter(False)
                return _INTERLOCK_OPENED
            if waited_us >= limit_us:
                return -1
            board.feed_watchdog()
            board.sleep_us(SHUTTER_POLL_US)

    def _dark(self):
        """Every photodiode range, light off (relay open, laser off, shutter closed): the
        mean of DARK_CONVERSIONS within SELFTEST_DARK_MAX_PA plus two codes of the range."""
        config = self._config
        pd = self._front.photodiode
        ranges = config.PD_RANGES
        for index in range(len(ranges)):
            entry = ranges[index]
            limit = config.SELFTEST_DARK_MAX_PA + (2 * entry[2] + entry[3] - 1) // entry[3]
            check = schema.CHK_DARK_RANGE + index
            try:
                pa = pd.read_range_pa(index, DARK_CONVERSIONS, TIA_SETTLE_US)
            except OSError as exc:
                self._no_answer(check, exc, -limit, limit)
                continue
            self._expect(check, pa, -limit, limit)
