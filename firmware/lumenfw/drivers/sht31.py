"""SHT31 ambient temperature and humidity, single-shot, every reading CRC-checked."""

_MEASURE_HIGH = b"\x24\x00"  # high repeatability, no clock stretching (datasheet table 9)
MEASURE_MS = 16  # longest high-repeatability measurement is 15.5 ms
CMD_READ_STATUS = 0xF32D  # one word: the status register (datasheet, "Status Register")
CMD_READ_SERIAL = 0x3780  # two words: the serial number, no clock stretching (Sensirion
# SHT3x application note "Electronic Identification Code")


def crc8(buf, offset):
    """CRC-8 of buf[offset], buf[offset+1]: poly 0x31, init 0xFF (datasheet 4.12)."""
    crc = 0xFF
    for i in range(offset, offset + 2):
        crc ^= buf[i]
        for _ in range(8):
            if crc & 0x80:
                crc = ((crc << 1) ^ 0x31) & 0xFF
            else:
                crc = (crc << 1) & 0xFF
    return crc


class SHT31:
    def __init__(self, i2c, address):
        self._i2c = i2c
        self._address = address
        self._buf = bytearray(6)
        self.temperature_cc = 0
        self.humidity_cpct = 0

    def command(self, code):
        """Send a 16-bit command (CMD_READ_STATUS, CMD_READ_SERIAL); fetch its answer with
        read_words() at least 1 ms later (not for the sampling path: it allocates)."""
        self._i2c.writeto(self._address, bytes((code >> 8, code & 0xFF)))

    def read_words(self, count):
        """count 16-bit words, each followed by its CRC, joined MSB first; None when a CRC
        is wrong."""
        buf = bytearray(3 * count)
        self._i2c.readfrom_into(self._address, buf)
        value = 0
        for offset in range(0, 3 * count, 3):
            if crc8(buf, offset) != buf[offset + 2]:
                return None
            value = (value << 16) | (buf[offset] << 8) | buf[offset + 1]
        return value

    def start(self):
        """Begin a measurement; read() it at least MEASURE_MS later.

        Reading earlier is NACKed by the chip, which the I2C bus raises as OSError.
        """
        self._i2c.writeto(self._address, _MEASURE_HIGH)

    def read(self):
        """Fetch the measurement; False (values kept) when either CRC is wrong."""
        buf = self._buf
        self._i2c.readfrom_into(self._address, buf)
        if crc8(buf, 0) != buf[2] or crc8(buf, 3) != buf[5]:
            return False
        raw_t = (buf[0] << 8) | buf[1]
        raw_rh = (buf[3] << 8) | buf[4]
        # T = -45 + 175 * raw / 65535 degC, RH = 100 * raw / 65535 % (datasheet 4.13), in
        # hundredths; 17500 * raw would pass 2**30, so the division is split.
        scaled = 4375 * raw_t
        q = scaled // 65535
        self.temperature_cc = -4500 + 4 * q + (4 * (scaled - q * 65535)) // 65535
        self.humidity_cpct = (10000 * raw_rh) // 65535
        return True
