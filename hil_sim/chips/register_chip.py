"""Base for chips with a register pointer and 16-bit big-endian registers (INA226, ADS1115)."""


class RegisterChip:
    """Subclasses give read_register(ptr) -> int and write_register(ptr, value).

    A write's first byte sets the pointer; two more bytes write that register; a read
    returns the pointed register, MSB first (INA226 and ADS1115 datasheets, "Serial
    interface").  Registers that do not exist NACK (OSError EIO).
    """

    def __init__(self):
        self.pointer = 0

    def mem_read(self, reg, buf):
        self.pointer = reg
        self.read(buf)

    def mem_write(self, reg, buf):
        self.pointer = reg
        if len(buf) >= 2:
            self.write_register(reg, (buf[0] << 8) | buf[1])

    def write(self, buf):
        if len(buf) == 0:
            return
        self.pointer = buf[0]
        if len(buf) >= 3:
            self.write_register(buf[0], (buf[1] << 8) | buf[2])

    def read(self, buf):
        value = self.read_register(self.pointer)
        n = len(buf)
        if n == 2:  # every driver read: no loop object for the rest
            buf[0] = (value >> 8) & 0xFF
            buf[1] = value & 0xFF
            return
        if n > 0:
            buf[0] = (value >> 8) & 0xFF
        if n > 1:
            buf[1] = value & 0xFF
        for i in range(2, n):
            buf[i] = 0xFF  # the bus floats high past the register

    def read_register(self, ptr):
        raise OSError(5)

    def write_register(self, ptr, value):
        raise OSError(5)


def to_u16(value):
    """A signed register value as the chip sends it (two's complement)."""
    return value & 0xFFFF
