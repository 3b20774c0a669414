"""MCP4725 12-bit DAC: sets the constant-voltage supply through the output amplifier."""

_FAST_WRITE = 0x00  # C2 C1 = 0 0, PD1 PD0 = 0 0 (datasheet figure 6-1)


class MCP4725:
    MAX_CODE = 4095

    def __init__(self, i2c, address):
        self._i2c = i2c
        self._address = address
        self._wbuf = bytearray(2)
        self._rbuf = bytearray(5)

    def write_code(self, code):
        """Fast-mode write of the DAC register (EEPROM untouched, so a reset comes up at 0 V).

        Raises ValueError outside 0..4095 rather than clamping a wrong setpoint silently.
        """
        if code < 0 or code > 4095:
            raise ValueError("DAC code out of range")
        self._wbuf[0] = _FAST_WRITE | (code >> 8)
        self._wbuf[1] = code & 0xFF
        self._i2c.writeto(self._address, self._wbuf)

    def read_code(self):
        """The DAC register as the chip holds it (read bytes 2-3, datasheet figure 6-3)."""
        self._i2c.readfrom_into(self._address, self._rbuf)
        return (self._rbuf[1] << 4) | (self._rbuf[2] >> 4)
