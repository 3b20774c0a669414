"""Simulated I2C bus: machine.I2C's transfer methods, dispatched to chip models by address."""

from hil_sim.costs import i2c_transfer_us

ENODEV = 19  # no ACK of the address: what machine.I2C raises for a missing chip
EIO = 5
SCAN_FIRST = 0x08  # machine.I2C.scan() probes the 7-bit addresses 0x08..0x77
SCAN_LAST = 0x77


class StuckChip:
    """A chip that ACKs its address but whose every byte reads `byte` (0xFF: a chip holding
    SDA released, e.g. a damaged one); writes are ACKed and change nothing."""

    def __init__(self, byte=0xFF):
        self.byte = byte

    def mem_read(self, reg, buf):
        self.read(buf)

    def read(self, buf):
        for i in range(len(buf)):
            buf[i] = self.byte

    def mem_write(self, reg, buf):
        pass

    def write(self, buf):
        pass


class SimI2C:
    """Chips implement mem_read(reg, buf), mem_write(reg, buf), write(buf), read(buf).

    A chip method may raise OSError itself (e.g. a NACK while busy).  fail(address, errno)
    makes every transfer to that address raise, to test the firmware's I2C fault path (with
    ENODEV the chip is missing: scan() leaves it out too); stick(address) leaves it
    answering with a constant (StuckChip).
    With a clock, each transfer charges its bus time at freq_hz (hil_sim/costs.py) before
    the chip sees it, as the bytes take that long on the wire.
    """

    def __init__(self, clock=None, freq_hz=400_000):
        self._chips = {}
        self._faults = {}
        self._stuck = {}
        self._clock = clock
        self._freq_hz = freq_hz
        self._mux = None
        self.transfers = 0
        self.before = None  # called before each lookup of a chip (a scheduled failure)

    def _charge(self, data_bytes, addressed=1):
        if self._clock is not None:
            self._clock.charge_us(i2c_transfer_us(data_bytes, self._freq_hz, addressed))

    def attach(self, address, chip):
        self._chips[address] = chip
        return chip

    def attach_mux(self, address, mux):
        """A multiplexer (hil_sim.chips.tca9548a) at address: an address this bus's own
        chips do not answer is looked for on the buses it joins (theirs answer as if on
        this bus, with their own faults; the bus time is this bus's)."""
        self._mux = mux
        return self.attach(address, mux)

    def answering(self, address):
        """The chip that would answer address on this bus (a stuck one's stand-in), None
        when nothing does; raises OSError for a failed one, as a transfer would."""
        if self.before is not None:
            self.before()
        if self._faults and address in self._faults:
            errno = self._faults[address]
            if errno == ENODEV:
                return None
            raise OSError(errno)
        if self._stuck and address in self._stuck:
            return self._stuck[address]
        chip = self._chips.get(address)
        if chip is None and self._mux is not None:
            chip = self._mux.chip_at(address)
        return chip

    def scan_quietly(self):
        """The addresses that answer, without charging bus time (for a mux's scan)."""
        out = [a for a in self._chips if a not in self._faults]
        if self._mux is not None:
            out.extend(self._mux.addresses())
        return out

    def fail(self, address, errno=ENODEV):
        """Make transfers to address raise OSError(errno); errno 0 heals it."""
        if errno:
            self._faults[address] = errno
        else:
            self._faults.pop(address, None)

    def stick(self, address, byte=0xFF):
        """The chip at address keeps ACKing, but reads `byte` throughout and ignores writes;
        byte None heals it."""
        if byte is None:
            self._stuck.pop(address, None)
        else:
            self._stuck[address] = StuckChip(byte)

    def scan(self):
        """The addresses that ACK, as machine.I2C.scan() probes them (one address byte each)."""
        self._charge(0, SCAN_LAST - SCAN_FIRST + 1)
        return sorted(set(self.scan_quietly()))

    def _chip(self, address):
        self.transfers += 1
        if self._faults and address in self._faults:
            raise OSError(self._faults[address])
        if self._stuck and address in self._stuck:
            return self._stuck[address]
        chip = self._chips.get(address)
        if chip is None:
            if self._mux is not None:
                chip = self._mux.chip_at(address)
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
