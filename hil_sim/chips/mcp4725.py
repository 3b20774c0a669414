"""Simulated MCP4725 DAC: fast-mode and register writes, the 5-byte status read, PD modes."""


class SimMCP4725:
    """The DAC output sets the bench's supply: V = full_scale * code / 4096 (datasheet eq. 4-1).

    Power-down modes (PD bits != 0) pull the output low, so the supply goes to 0 V.
    The EEPROM holds the power-on code (0 here), as shipped.
    """

    def __init__(self, source, full_scale_mv, eeprom_code=0):
        self._source = source
        self._full_scale_mv = full_scale_mv
        self.code = eeprom_code
        self.power_down = 0
        self.eeprom_code = eeprom_code
        self.eeprom_power_down = 0
        self._applied_mv = -1
        self._out = bytearray(5)
        self._apply()

    def output_mv(self):
        if self.power_down:
            return 0
        return self.code * self._full_scale_mv // 4096

    def _apply(self):
        mv = self.output_mv()
        if mv != self._applied_mv:  # only a change reaches the bench (floats allocate)
            self._applied_mv = mv
            self._source.set_supply_setpoint_v(mv / 1000)

    def write(self, buf):
        n = len(buf)
        if n < 2:
            raise OSError(5)
        command = buf[0] >> 5
        if command < 2:  # fast mode: C2 C1 = 0 0, repeatable in pairs (figure 6-1)
            for i in range(0, n - 1, 2):
                self.power_down = (buf[i] >> 4) & 0x3
                self.code = ((buf[i] & 0x0F) << 8) | buf[i + 1]
        elif command in (2, 3) and n >= 3:  # write DAC register (010) / and EEPROM (011)
            self.power_down = (buf[0] >> 1) & 0x3
            self.code = (buf[1] << 4) | (buf[2] >> 4)
            if command == 3:
                self.eeprom_code = self.code
                self.eeprom_power_down = self.power_down
        else:
            raise OSError(5)
        self._apply()

    def read(self, buf):
        out = self._out
        out[0] = 0x80 | (self.power_down << 1)  # RDY = 1, POR = 0 (figure 6-3)
        out[1] = self.code >> 4
        out[2] = (self.code & 0x0F) << 4
        out[3] = (self.eeprom_power_down << 5) | (self.eeprom_code >> 8)
        out[4] = self.eeprom_code & 0xFF
        for i in range(len(buf)):
            buf[i] = out[i] if i < 5 else 0xFF

    def mem_read(self, reg, buf):
        raise OSError(5)  # no register pointer: a memory read is NACKed

    def mem_write(self, reg, buf):
        raise OSError(5)
