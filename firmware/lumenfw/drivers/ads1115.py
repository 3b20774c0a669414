"""ADS1115 16-bit ADC in single-shot mode: reads the photodiode amplifier's output."""

REG_CONVERSION = 0x00
REG_CONFIG = 0x01

# Full scale of each PGA setting in uV (datasheet table 8; settings 6 and 7 equal 5).
PGA_FULL_SCALE_UV = (6_144_000, 4_096_000, 2_048_000, 1_024_000, 512_000, 256_000)
RATE_SPS = (8, 16, 32, 64, 128, 250, 475, 860)

_OS_START = 0x8000
_MUX_SINGLE_AIN0 = 0x4  # MUX 100 = AIN0 vs GND; AINn is 0x4 + n
_MODE_SINGLE = 0x0100
_COMP_DISABLE = 0x0003


def config_word(channel, pga_index, rate_index):
    """Config register for one single-ended, single-shot conversion of AIN<channel>, its
    start bit (OS) clear (datasheet 9.6.3)."""
    return (((_MUX_SINGLE_AIN0 + channel) << 12) | (pga_index << 9) | _MODE_SINGLE
            | (rate_index << 5) | _COMP_DISABLE)


def conversion_us(rate_index):
    """Nominal single-shot conversion time, 1 / data rate, rounded up (datasheet 9.3.6)."""
    sps = RATE_SPS[rate_index]
    return (1_000_000 + sps - 1) // sps


class ADS1115:
    def __init__(self, i2c, address):
        self._i2c = i2c
        self._address = address
        self._wbuf = bytearray(2)
        self._rbuf = bytearray(2)

    def start(self, channel, pga_index, rate_index):
        """Start one single-ended conversion of AIN<channel>; poll ready() before read_raw()."""
        word = (_OS_START | ((_MUX_SINGLE_AIN0 + channel) << 12) | (pga_index << 9)
                | _MODE_SINGLE | (rate_index << 5) | _COMP_DISABLE)
        self._wbuf[0] = word >> 8
        self._wbuf[1] = word & 0xFF
        self._i2c.writeto_mem(self._address, REG_CONFIG, self._wbuf)

    def write_config(self, word):
        """Write the config register as it is (a conversion starts only with OS set)."""
        self._wbuf[0] = word >> 8
        self._wbuf[1] = word & 0xFF
        self._i2c.writeto_mem(self._address, REG_CONFIG, self._wbuf)

    def read_config(self):
        """The config register; its OS bit reads 1 while no conversion runs."""
        self._i2c.readfrom_mem_into(self._address, REG_CONFIG, self._rbuf)
        return (self._rbuf[0] << 8) | self._rbuf[1]

    def ready(self):
        """True when no conversion is in progress (OS bit reads 1, datasheet 9.6.3)."""
        self._i2c.readfrom_mem_into(self._address, REG_CONFIG, self._rbuf)
        return (self._rbuf[0] & 0x80) != 0

    def read_raw(self):
        """The conversion register as a signed 16-bit code (-32768..32767)."""
        self._i2c.readfrom_mem_into(self._address, REG_CONVERSION, self._rbuf)
        raw = (self._rbuf[0] << 8) | self._rbuf[1]
        if raw & 0x8000:
            raw -= 0x10000
        return raw
