"""Simulated SHT31: single-shot measurement commands, 6-byte result with CRC-8, status
register and serial number, a CRC fault hook."""

_MEASURE_US = {0x2400: 15_000, 0x240B: 6_000, 0x2416: 4_000}  # max durations, table 4
_SOFT_RESET = 0x30A2
_READ_STATUS = 0xF32D
_CLEAR_STATUS = 0x3041
_READ_SERIAL = 0x3780  # no clock stretching (0x3682 with)
_READ_SERIAL_STRETCH = 0x3682
STATUS_AFTER_RESET = 0x8010  # alert pending, system reset detected (datasheet, status register)
SERIAL = 0x1C0D5E31  # this simulated part's serial number


def _crc_table():
    table = bytearray(256)
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table[value] = crc
    return table


_CRC_TABLE = _crc_table()


def crc8_word(msb, lsb):
    """Sensirion CRC-8 (poly 0x31, init 0xFF, no reflection) of one 16-bit word."""
    return _CRC_TABLE[_CRC_TABLE[0xFF ^ msb] ^ lsb]


class SimSHT31:
    """A measurement is readable once its duration has passed on the experiment clock;
    reading earlier, or with no measurement pending, is NACKed (OSError ENODEV).  The status
    and serial commands leave their words (each with its CRC) to read at once.

    corrupt_crc(n) flips a bit in the temperature CRC of the next n results.
    """

    def __init__(self, source, clock, serial=SERIAL):
        self._source = source
        self._clock = clock
        self.status = STATUS_AFTER_RESET
        self.serial = serial
        self._answer = None  # the words of a status or serial command, until read
        self._pending = False
        self._ready_us = 0
        self._corrupt = 0
        self._epoch = -1
        self._raw_t = 0
        self._raw_rh = 0
        self._result = bytearray(6)
        self.measurements = 0

    def corrupt_crc(self, count=1):
        self._corrupt = count

    def measuring(self):
        """True while a measurement is converting (the chip NACKs every command then)."""
        return self._pending and self._clock.now_us() < self._ready_us

    def write(self, buf):
        if len(buf) != 2:
            raise OSError(5)
        command = (buf[0] << 8) | buf[1]
        self._answer = None
        if command == _SOFT_RESET:
            self._pending = False
            self.status = STATUS_AFTER_RESET
            return
        if self.measuring():
            raise OSError(19)  # busy measuring: the chip NACKs its address
        if command == _READ_STATUS:
            self._answer = _words((self.status,))
        elif command == _READ_SERIAL or command == _READ_SERIAL_STRETCH:  # (a tuple allocates)
            self._answer = _words((self.serial >> 16, self.serial & 0xFFFF))
        elif command == _CLEAR_STATUS:
            self.status &= ~0x8C10  # alert and reset-detected flags (bits 15, 11, 10, 4)
        else:
            duration = _MEASURE_US.get(command)
            if duration is None:
                raise OSError(5)
            self._pending = True
            self._ready_us = self._clock.now_us() + duration
            return
        self._pending = False  # any other command drops a measurement not read

    def read(self, buf):
        answer = self._answer
        if answer is not None:
            self._answer = None
            for i in range(len(buf)):
                buf[i] = answer[i] if i < len(answer) else 0xFF
            return
        if not self._pending or self._clock.now_us() < self._ready_us:
            raise OSError(19)
        self._pending = False
        self._convert()
        self.measurements += 1
        result = self._result
        result[0] = self._raw_t >> 8
        result[1] = self._raw_t & 0xFF
        result[2] = crc8_word(result[0], result[1])
        result[3] = self._raw_rh >> 8
        result[4] = self._raw_rh & 0xFF
        result[5] = crc8_word(result[3], result[4])
        if self._corrupt:
            self._corrupt -= 1
            result[2] ^= 0x01
        for i in range(len(buf)):
            buf[i] = result[i] if i < 6 else 0xFF

    def _convert(self):
        source = self._source
        if source.epoch == self._epoch:
            return
        self._epoch = source.epoch
        # S_T = (T + 45) * 65535 / 175, S_RH = RH * 65535 / 100 (datasheet 4.13, inverted)
        self._raw_t = _word((source.ambient_c() + 45) * 65535 / 175)
        self._raw_rh = _word(source.ambient_rh() * 65535 / 100)

    def mem_read(self, reg, buf):
        raise OSError(5)

    def mem_write(self, reg, buf):
        raise OSError(5)


def _words(words):
    """The bytes a read returns for these 16-bit words: MSB, LSB, CRC each."""
    out = bytearray(3 * len(words))
    for i in range(len(words)):
        out[3 * i] = words[i] >> 8
        out[3 * i + 1] = words[i] & 0xFF
        out[3 * i + 2] = crc8_word(out[3 * i], out[3 * i + 1])
    return out


def _word(x):
    value = int(x + 0.5)
    return 0 if value < 0 else min(value, 65535)
