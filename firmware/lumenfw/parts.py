"""The chips of a board, built from its config: DAC, INA226, photodiode (ADS1115), SHT31."""

from lumenfw.drivers.ads1115 import ADS1115, RATE_SPS
from lumenfw.drivers.ina226 import INA226
from lumenfw.drivers.mcp4725 import MCP4725
from lumenfw.drivers.sht31 import SHT31
from lumenfw.limits import Limits
from lumenfw.photodiode import Photodiode
from protocol import schema


class Parts:
    """Drivers and limits of one board; constructing them does no I2C traffic."""

    def __init__(self, board):
        config = board.config
        i2c = board.i2c
        self.dac = MCP4725(i2c, config.ADDR_DAC)
        self.ina_address = config.ADDR_INA226
        self.ina = INA226(i2c, config.ADDR_INA226, config.INA226_CAL,
                          config.INA226_CURRENT_LSB_NA, config.INA226_CONFIG)
        self.pd_address = config.ADDR_ADS1115
        self.photodiode = Photodiode(ADS1115(i2c, config.ADDR_ADS1115), board.tia_gain, config,
                                     board.sleep_us)
        self.sht_address = config.ADDR_SHT31
        self.sht = SHT31(i2c, config.ADDR_SHT31)
        # Every chip's address with its bit in the self-test's I2C scan.
        self.chips = ((config.ADDR_DAC, schema.I2C_BIT_DAC),
                      (config.ADDR_INA226, schema.I2C_BIT_INA226),
                      (config.ADDR_ADS1115, schema.I2C_BIT_ADS1115),
                      (config.ADDR_SHT31, schema.I2C_BIT_SHT31))
        self.sample_ring = config.SAMPLE_RING
        self.event_ring = config.EVENT_RING
        self.has_watchdog = True
        self.limits = Limits(config.MAX_SETPOINT_MV, config.MAX_COMPLIANCE_NA,
                             max_pd_pa(config), has_laser=config.HAS_LASER,
                             min_sample_period_ms=config.MIN_SAMPLE_PERIOD_MS,
                             max_oversample=config.MAX_OVERSAMPLE,
                             shutter_timeout_ms=config.SHUTTER_TIMEOUT_MS,
                             i2c_freq_hz=config.I2C_FREQ_HZ,
                             pd_rate_sps=RATE_SPS[config.ADS_PD_RATE_INDEX])

    def setup(self):
        """Program the chips that need it (INA226 configuration and calibration)."""
        self.ina.configure()


def max_pd_pa(config):
    """Full scale of the least sensitive photodiode range: 32768 codes at its pA per code."""
    _tia, _pga, num, den = config.PD_RANGES[-1]
    return 32768 * num // den


def build_parts(board):
    return Parts(board)
