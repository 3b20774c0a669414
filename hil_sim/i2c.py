"""Simulated I2C bus: machine.I2C's transfer methods, dispatched to chip models by address."""

ENODEV = 19  # no ACK of the address: what machine.I2C raises for a missing chip
EIO = 5


class SimI2C:
    """Chips implement mem_read(reg, buf), mem_write(reg, buf), write(buf), read(buf).

    A chip method may raise OSError itself (e.g. a NACK while busy).  fail(address, errno)
    makes every transfer to that address raise, to test the firmware's I2C fault path.
    """

    def __init__(self):
        self._chips = {}
        self._faults = {}
        self.transfers = 0

    def attach(self, address, chip):
        self._chips[address] = chip
        return chip

    def fail(self, address, errno=ENODEV):
        """Make transfers to address raise OSError(errno); errno 0 heals it."""
        if errno:
            self._faults[address] = errno
        else:
            self._faults.pop(address, None)

    def scan(self):
        return sorted(a for a in self._chips if a not in self._faults)

    def _chip(self, address):
        self.transfers += 1
        if self._faults and address in self._faults:
            raise OSError(self._faults[address])
        chip = self._chips.get(address)
        if chip is None:
            raise OSError(ENODEV)
        return chip

    def readfrom_mem_into(self, addr, memaddr, buf):
        self._chip(addr).mem_read(memaddr, buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._chip(addr).mem_write(memaddr, buf)

    def writeto(self, addr, buf, stop=True):
        self._chip(addr).write(buf)
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self._chip(addr).read(buf)
