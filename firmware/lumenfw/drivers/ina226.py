"""INA226 bus voltage and shunt current monitor: the DUT's voltage (mV) and current (nA)."""

REG_CONFIG = 0x00
REG_SHUNT = 0x01
REG_BUS = 0x02
REG_POWER = 0x03
REG_CURRENT = 0x04
REG_CALIBRATION = 0x05
REG_MASK_ENABLE = 0x06
REG_ALERT_LIMIT = 0x07
REG_MANUFACTURER = 0xFE
REG_DIE_ID = 0xFF
MANUFACTURER_TI = 0x5449  # "TI" (datasheet 7.6.9)
DIE_ID_INA226 = 0x2260  # device id 0x226, revision 0 (datasheet 7.6.10)
_RESET = 0x8000
# Mask/Enable (datasheet 7.6.7): SOL (bit 15) asserts ALERT when a shunt result exceeds the
# alert limit; LEN (bit 0) latches it until this register is read.
MASK_SHUNT_OVER = 0x8000
MASK_LATCH = 0x0001


class INA226:
    def __init__(self, i2c, address, calibration, current_lsb_na, config_word):
        """calibration and current_lsb_na belong together (datasheet eq. 1); see board_config."""
        self._i2c = i2c
        self._address = address
        self._calibration = calibration
        self._current_lsb_na = current_lsb_na
        self._config_word = config_word
        self._buf = bytearray(2)

    def _write(self, reg, value):
        self._buf[0] = value >> 8
        self._buf[1] = value & 0xFF
        self._i2c.writeto_mem(self._address, reg, self._buf)

    def _read(self, reg):
        self._i2c.readfrom_mem_into(self._address, reg, self._buf)
        return (self._buf[0] << 8) | self._buf[1]

    def configure(self):
        """Reset, then program config and calibration; OSError if the chip is not an INA226.

        Until calibration is written the current register reads 0, so call this at boot.
        """
        if self._read(REG_MANUFACTURER) != MANUFACTURER_TI:
            raise OSError(19)  # ENODEV: something else answers at this address
        self._write(REG_CONFIG, _RESET)
        self._write(REG_CONFIG, self._config_word)
        self._write(REG_CALIBRATION, self._calibration)
        if self._read(REG_CALIBRATION) != self._calibration:
            raise OSError(5)  # EIO: the write did not stick

    def read_manufacturer(self):
        return self._read(REG_MANUFACTURER)

    def read_die_id(self):
        return self._read(REG_DIE_ID)

    def restart(self):
        """Abort the conversion in progress and start averaging afresh (a config write does
        that, datasheet 7.6.1): the next result covers only time from now on."""
        self._write(REG_CONFIG, self._config_word)

    def arm_alert(self, limit_na):
        """ALERT (active low, latched) once a result reaches limit_na.  The limit register
        holds shunt LSBs (current = shunt * CAL / 2048, datasheet eq. 3) and the INA226
        compares "exceeds", so it gets the shunt value of the limit, rounded up, less one.
        Any alert latched before is cleared."""
        lsb_na = self._current_lsb_na
        current_lsb = (limit_na + lsb_na - 1) // lsb_na
        cal = self._calibration
        limit_lsb = (current_lsb * 2048 + cal - 1) // cal - 1
        self._write(REG_ALERT_LIMIT, min(max(limit_lsb, 0), 0x7FFF))
        self._write(REG_MASK_ENABLE, MASK_SHUNT_OVER | MASK_LATCH)
        self._read(REG_MASK_ENABLE)  # reading clears a latched alert

    def read_bus_mv(self):
        """Bus voltage, 1.25 mV per LSB (datasheet 7.6.3)."""
        return (self._read(REG_BUS) * 5) >> 2

    def read_current_na(self):
        """Signed current register times the calibrated LSB (datasheet 7.6.5)."""
        raw = self._read(REG_CURRENT)
        if raw & 0x8000:
            raw -= 0x10000
        return raw * self._current_lsb_na
