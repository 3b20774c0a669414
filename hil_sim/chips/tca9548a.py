"""Simulated TCA9548A: its control register joins downstream buses to the main one."""


class SimTCA9548A:
    """The main bus (hil_sim.i2c.SimI2C) asks chip_at(address) for an address none of its
    own chips answers; the joined downstream buses (SimI2C each: a channel card's chips) are
    looked in, lowest channel first.  Two joined buses answering one address would fight on
    a real bus: the lookup raises EIO then, so a firmware that joins two cards is caught.
    Power-on and reset: nothing joined (datasheet 8.4.3)."""

    def __init__(self, downstream):
        self.downstream = downstream  # list of SimI2C, index = channel
        self.control = 0

    def reset(self):
        self.control = 0

    def joined(self):
        return [bus for channel, bus in enumerate(self.downstream)
                if self.control & (1 << channel)]

    def chip_at(self, address):
        """The joined card's chip at address, or None (the address is not answered)."""
        found = None
        for channel in range(len(self.downstream)):
            if self.control & (1 << channel):
                chip = self.downstream[channel].answering(address)
                if chip is not None:
                    if found is not None:
                        raise OSError(5)  # two cards drive SDA at once
                    found = chip
        return found

    def addresses(self):
        """The addresses the joined buses answer (for a scan of the main bus)."""
        out = []
        for bus in self.joined():
            out.extend(bus.scan_quietly())
        return out

    # The control register: one byte, written and read without a register pointer.
    def write(self, buf):
        if len(buf):
            self.control = buf[len(buf) - 1]  # each byte written replaces it

    def read(self, buf):
        for i in range(len(buf)):
            buf[i] = self.control

    def mem_read(self, reg, buf):
        raise OSError(5)  # no register pointer: a memory read is not what it takes

    def mem_write(self, reg, buf):
        # A memory write sends reg then buf: the last byte is the control byte.
        self.control = buf[len(buf) - 1] if len(buf) else reg
