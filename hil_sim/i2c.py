"""Simulated I2C bus: machine.I2C's transfer methods, dispatched to chip models by address."""

from hil_sim.costs import i2c_transfer_us

ENODEV = 19  # no ACK of the address: what machine.I2C raises for a missing chip
EIO = 5


class SimI2C:
    """Chips implement mem_read(reg, buf), mem_write(reg, buf), write(buf), read(buf).

    A chip method may raise OSError itself (e.g. a NACK while busy).  fail(address, errno)
    makes every transfer to that address raise, to test the firmware's I2C fault path.
    With a clock, each transfer charges its bus time at freq_hz (hil_sim/costs.py) before
    the chip sees it, as the bytes take that long on the wire.
    """

    def __init__(self, clock=None, freq_hz=400_000):
        self._chips = {}
        self._faults = {}
        self._clock = clock
        self._freq_hz = freq_hz
        self.transfers = 0

    def _charge(self, data_bytes, addressed=1):
        if self._clock is not None:
            self._clock.charge_us(i2c_transfer_us(data_bytes, self._freq_hz, addressed))

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
        self._charge(1 + len(buf), 2)
        self._chip(addr).mem_read(memaddr, buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._charge(1 + len(buf))
        self._chip(addr).mem_write(memaddr, buf)

    def writeto(self, addr, buf, stop=True):
        self._charge(len(buf))
        self._chip(addr).write(buf)
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        self._charge(len(buf))
        self._chip(addr).read(buf)
