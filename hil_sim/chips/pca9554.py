"""Simulated PCA9554 I/O expander: four 8-bit registers behind a pointer; outputs drive the
card's relay and TIA gain, inputs read its INA226 ALERT."""

_REGISTERS = 4


class SimPCA9554:
    """outputs: {bit: on_change(level)} for pins the card drives from the expander; inputs:
    {bit: read() -> 0 or 1} for pins it reads.  A pin configured as an input (the power-on
    state) drives nothing: its output callback sees the level its pull resistor gives
    (pulls: {bit: level}, 0 by default: a relay driver's pull-down keeps it open).
    Power-on values (datasheet table 4): output port 0xFF, polarity 0, configuration 0xFF.
    """

    def __init__(self, outputs=None, inputs=None, pulls=None):
        # Per pin, index = bit (lists, so a pass over the pins allocates nothing).
        self._outputs = [(outputs or {}).get(bit) for bit in range(8)]
        self._inputs = [(inputs or {}).get(bit) for bit in range(8)]
        self._pulls = bytearray((pulls or {}).get(bit, 0) for bit in range(8))
        self._driven = bytearray(b"\xff" * 8)  # the level each callback last saw (0xFF: none)
        self.pointer = 0
        self.output_port = 0xFF
        self.polarity = 0
        self.config = 0xFF
        self._apply()

    def pin_level(self, bit):
        """The level on pin `bit` now: driven when an output, else its input or pull."""
        mask = 1 << bit
        if not self.config & mask:
            return 1 if self.output_port & mask else 0
        read = self._inputs[bit]
        if read is not None:
            return 1 if read() else 0
        return self._pulls[bit]

    def _apply(self):
        for bit in range(8):
            on_change = self._outputs[bit]
            if on_change is not None:
                level = self.pin_level(bit)
                if self._driven[bit] != level:
                    self._driven[bit] = level
                    on_change(level)

    def _input_port(self):
        value = 0
        for bit in range(8):
            if self.pin_level(bit):
                value |= 1 << bit
        return value ^ self.polarity

    def _read_register(self, reg):
        if reg == 0:
            return self._input_port()
        if reg == 1:
            return self.output_port
        if reg == 2:
            return self.polarity
        return self.config

    def _write_register(self, reg, value):
        if reg == 1:
            self.output_port = value
        elif reg == 2:
            self.polarity = value
        elif reg == 3:
            self.config = value
        # (the input port ignores writes)
        self._apply()

    def mem_read(self, reg, buf):
        if not 0 <= reg < _REGISTERS:
            raise OSError(5)
        self.pointer = reg
        self.read(buf)

    def mem_write(self, reg, buf):
        if not 0 <= reg < _REGISTERS:
            raise OSError(5)
        self.pointer = reg
        for i in range(len(buf)):
            self._write_register(self.pointer, buf[i])

    def write(self, buf):
        """A pointer byte, then data bytes for it (a lone pointer byte sets it for a read)."""
        if not len(buf):
            return
        if not 0 <= buf[0] < _REGISTERS:
            raise OSError(5)
        self.pointer = buf[0]
        for i in range(1, len(buf)):
            self._write_register(self.pointer, buf[i])

    def read(self, buf):
        for i in range(len(buf)):
            buf[i] = self._read_register(self.pointer)
