"""The chips of a board, built from its config: DAC, INA226, photodiode (ADS1115), SHT31,
and each channel's front end (the one-channel board's own chips, or its channel cards)."""

from lumenfw.drivers.ads1115 import ADS1115, RATE_SPS
from lumenfw.drivers.ina226 import INA226
from lumenfw.drivers.mcp4725 import MCP4725
from lumenfw.drivers.sht31 import SHT31
from lumenfw.limits import Limits
from lumenfw.photodiode import Photodiode
from protocol import schema


class Parts:
    """Drivers and limits of one board; constructing them does no I2C traffic.

    fronts: each channel's front end, channel n at index n: an object with dac, ina,
    ina_address, photodiode, pd_address, relay (the channel's output relay) and alert (its
    INA226's ALERT input). The one-channel board is its own single front end (its relay and
    ALERT are Pico pins); a board with cards has a Card per channel (lumenfw/cards.py) and
    card 0's chips stand as dac, ina and photodiode for what is about one channel (the
    self-test)."""

    def __init__(self, board):
        config = board.config
        i2c = board.i2c
        self.cards = None
        if board.card_count:  # (imported only here: a one-channel board keeps the RAM)
            from lumenfw.cards import build_cards

            self.cards = build_cards(board, board.card_count)
        self.ina_address = config.ADDR_INA226
        self.pd_address = config.ADDR_ADS1115
        if self.cards is None:
            self.dac = MCP4725(i2c, config.ADDR_DAC)
            self.ina = INA226(i2c, config.ADDR_INA226, config.INA226_CAL,
                              config.INA226_CURRENT_LSB_NA, config.INA226_CONFIG)
            self.photodiode = Photodiode(ADS1115(i2c, config.ADDR_ADS1115), board.tia_gain,
                                         config, board.sleep_us)
            self.relay = board.relay
            self.alert = board.ina_alert
            self.fronts = (self,)
        else:
            first = self.cards[0]
            self.dac, self.ina, self.photodiode = first.dac, first.ina, first.photodiode
            self.relay, self.alert = first.relay, first.alert
            self.fronts = tuple(self.cards)
        self.sht_address = config.ADDR_SHT31
        self.sht = SHT31(i2c, config.ADDR_SHT31)
        # Every chip's address with its bit in the self-test's I2C scan: chips, those on the
        # main bus; card_chips, those on each card (behind the mux).
        front = [(config.ADDR_DAC, schema.I2C_BIT_DAC),
                 (config.ADDR_INA226, schema.I2C_BIT_INA226),
                 (config.ADDR_ADS1115, schema.I2C_BIT_ADS1115)]
        card_chips = []
        if self.cards is None:
            chips = front
        else:
            chips = [(config.ADDR_MUX, schema.I2C_BIT_MUX)]
            card_chips = front + [(config.ADDR_CARD_IO, schema.I2C_BIT_CARD_IO)]
        self.card_chips = tuple(card_chips)
        chips.append((config.ADDR_SHT31, schema.I2C_BIT_SHT31))
        self.chips = tuple(chips)
        # Every channel holds its share of the resend ring.
        self.sample_ring = config.SAMPLE_RING // len(self.fronts)
        self.event_ring = config.EVENT_RING
        self.has_watchdog = True
        self.limits = Limits(config.MAX_SETPOINT_MV, config.MAX_COMPLIANCE_NA,
                             max_pd_pa(config), has_laser=config.HAS_LASER,
                             min_sample_period_ms=config.MIN_SAMPLE_PERIOD_MS,
                             max_oversample=config.MAX_OVERSAMPLE,
                             shutter_timeout_ms=config.SHUTTER_TIMEOUT_MS,
                             i2c_freq_hz=config.I2C_FREQ_HZ,
                             pd_rate_sps=RATE_SPS[config.ADS_PD_RATE_INDEX],
                             channels=len(self.fronts))

    def setup(self, card_failed):
        """Program the chips that need it (INA226 configuration and calibration; each card's
        expander first, its relay open). A card that fails is card_failed(channel, exc)'s
        and the others are set up all the same; on the one-channel board it raises."""
        if self.cards is None:
            self.ina.configure()
            return
        for card in self.cards:
            try:
                card.setup()
            except Exception as exc:  # noqa: BLE001 - one card's failure is its channel's
                card_failed(card.channel, exc)


def max_pd_pa(config):
    """Full scale of the least sensitive photodiode range: 32768 codes at its pA per code."""
    _tia, _pga, num, den = config.PD_RANGES[-1]
    return 32768 * num // den


def build_parts(board):
    return Parts(board)
