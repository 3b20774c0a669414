"""TCA9548A I2C multiplexer: joins one of eight downstream buses (a channel card each) to the
main bus, so cards whose chips share addresses sit on one Pico I2C port."""


class TCA9548A:
    """select(channel) before a card's transfers; the selection is remembered, so a run of
    transfers to one card costs one control-byte write, not one per transfer.

    The control register's bit n joins downstream bus n (datasheet 8.6.1); 0 joins none.
    Only one card is ever joined: the cards' chips answer the same addresses.
    """

    NONE = -1  # no card joined (also the selection after a failed write: not known)

    def __init__(self, i2c, address):
        self._i2c = i2c
        self.address = address
        self._buf = bytearray(1)
        self.selected = TCA9548A.NONE
        self.known = False  # selected is what the chip holds (False until written once)

    def select(self, channel):
        """Join downstream bus `channel` (0..7) alone, or none (NONE); a write only when
        the chip holds something else.  Raises OSError when the mux does not answer (the
        selection is then not known, and the next select writes again)."""
        if self.known and channel == self.selected:
            return
        if channel != TCA9548A.NONE and not 0 <= channel <= 7:
            raise ValueError("mux channel out of range")
        self._buf[0] = 0 if channel == TCA9548A.NONE else 1 << channel
        self.known = False
        self._i2c.writeto(self.address, self._buf)
        self.selected = channel
        self.known = True

    def read_control(self):
        """The control register as the chip holds it (a bit per joined bus)."""
        self._i2c.readfrom_into(self.address, self._buf)
        return self._buf[0]


class CardI2C:
    """One card's view of the bus: machine.I2C's transfer methods, each after selecting the
    card's channel on the mux.  Drivers take it where they would take the Pico's I2C."""

    def __init__(self, i2c, mux, channel):
        self._i2c = i2c
        self._mux = mux
        self.channel = channel

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._mux.select(self.channel)
        self._i2c.readfrom_mem_into(addr, memaddr, buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._mux.select(self.channel)
        self._i2c.writeto_mem(addr, memaddr, buf)

    def writeto(self, addr, buf, stop=True):
        self._mux.select(self.channel)
        return self._i2c.writeto(addr, buf, stop)

    def readfrom_into(self, addr, buf, stop=True):
        self._mux.select(self.channel)
        self._i2c.readfrom_into(addr, buf, stop)

    def scan(self):
        """The addresses that answer with this card joined (the main bus's own included)."""
        self._mux.select(self.channel)
        return self._i2c.scan()
