"""The channel cards of a multi-pixel board (docs/hardware.md "Channel cards"): each card's
drivers behind the mux, and the one way to make every card safe whatever the bus does."""

from lumenfw.drivers.ads1115 import ADS1115
from lumenfw.drivers.ina226 import INA226
from lumenfw.drivers.mcp4725 import MCP4725
from lumenfw.drivers.pca9554 import PCA9554, ExpanderPin
from lumenfw.drivers.tca9548a import TCA9548A, CardI2C
from lumenfw.photodiode import Photodiode


class Card:
    """One card's drivers on its own bus (the mux joins it for each transfer): the supply
    DAC, the INA226, the photodiode's ADS1115 and the expander's relay, TIA gain and ALERT
    pins. Constructing it does no I2C traffic; setup() programs the chips."""

    def __init__(self, board, mux, channel):
        config = board.config
        self._config = config
        self.channel = channel
        bus = CardI2C(board.i2c, mux, channel)
        self.bus = bus  # (the self-test scans it)
        self.io = PCA9554(bus, config.ADDR_CARD_IO)
        self.relay = ExpanderPin(self.io, config.CARD_IO_RELAY, True)
        self.tia_gain = ExpanderPin(self.io, config.CARD_IO_TIA_GAIN, True)
        self.alert = ExpanderPin(self.io, config.CARD_IO_ALERT, False)
        self.ina_address = config.ADDR_INA226  # (on the card's own bus)
        self.pd_address = config.ADDR_ADS1115
        self.dac = MCP4725(bus, config.ADDR_DAC)
        self.ina = INA226(bus, config.ADDR_INA226, config.INA226_CAL,
                          config.INA226_CURRENT_LSB_NA, config.INA226_CONFIG)
        self.photodiode = Photodiode(ADS1115(bus, config.ADDR_ADS1115), self.tia_gain, config,
                                     board.sleep_us)

    def setup(self):
        """The expander's relay and gain pins driven low before they become outputs (the
        relay open, the most sensitive feedback), its ALERT pin an input; then the INA226."""
        self.io.configure(1 << self._config.CARD_IO_ALERT, 0)
        self.ina.configure()

    def safe(self):
        """This card's relay open, then its DAC at 0. Raises OSError when the bus fails
        (all_safe drops the rig-wide enable first, so the relay is open all the same)."""
        self.relay.value(0)
        self.dac.write_code(0)


class CardEnable:
    """The board's relay pin as every card's enable (an AND gate with each card's relay bit).

    Once a card's relay would not open, the enable is cut: low, and kept low until the board
    restarts, since raising it for another channel would close that card's relay again."""

    def __init__(self, pin):
        self._pin = pin
        self.cut = False

    def value(self, level):
        """Raise (1, unless cut) or drop (0) the enable."""
        self._pin.value(level if not self.cut else 0)

    def cut_off(self):
        self.cut = True
        self._pin.value(0)


def build_cards(board, count):
    """Cards 0..count-1 behind the board's TCA9548A."""
    mux = TCA9548A(board.i2c, board.config.ADDR_MUX)
    return [Card(board, mux, channel) for channel in range(count)]


def all_safe(board, cards):
    """Every card's output off whatever the bus does: the rig-wide relay enable (a Pico pin,
    which cannot fail) drops first and opens every card's relay through its AND gate; then
    each card's relay bit and DAC, each tried even when another card's bus fails. Returns
    how many cards could not be written (their relays are open through the enable all the
    same)."""
    board.relay.value(0)
    failed = 0
    for card in cards:
        try:
            card.safe()
        except OSError:
            failed += 1
    return failed
