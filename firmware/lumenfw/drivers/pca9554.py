"""PCA9554 8-bit I2C I/O expander: a channel card's relay, TIA gain switch and ALERT input,
so that a card needs no pin of the Pico's own."""

REG_INPUT = 0  # input port: the pins' levels (datasheet table 4)
REG_OUTPUT = 1  # output port: the levels driven on pins configured as outputs
REG_POLARITY = 2  # polarity inversion of the input port (left at 0)
REG_CONFIG = 3  # 1 = input (the power-on value: every pin an input, high impedance)


class PCA9554:
    """configure() first: the outputs' levels go out before the pins become outputs, so a
    pin never drives a level other than the one asked (a relay must not blip closed)."""

    def __init__(self, i2c, address):
        self._i2c = i2c
        self.address = address
        self._buf = bytearray(1)
        self.outputs = 0  # the output port as last written

    def configure(self, input_mask, output_levels):
        """Pins in input_mask are inputs, the rest outputs at output_levels."""
        self.write_outputs(output_levels)
        self._write(REG_POLARITY, 0)
        self._write(REG_CONFIG, input_mask & 0xFF)

    def write_outputs(self, levels):
        self._write(REG_OUTPUT, levels & 0xFF)
        self.outputs = levels & 0xFF

    def read_inputs(self):
        """The input port: every pin's level (an output pin reads what it drives). Reading
        it also releases the chip's INT output (datasheet 8.3.4)."""
        self._i2c.readfrom_mem_into(self.address, REG_INPUT, self._buf)
        return self._buf[0]

    def read_register(self, reg):
        self._i2c.readfrom_mem_into(self.address, reg, self._buf)
        return self._buf[0]

    def _write(self, reg, value):
        self._buf[0] = value
        self._i2c.writeto_mem(self.address, reg, self._buf)


class ExpanderPin:
    """One expander pin with machine.Pin's value(): an output is set by rewriting the
    output port (only when its level changes) and reads back the level last set; an input
    reads the input port."""

    def __init__(self, expander, bit, output):
        self._expander = expander
        self._mask = 1 << bit
        self._output = output

    def value(self, v=None):
        expander = self._expander
        if v is None:
            if self._output:
                return 1 if expander.outputs & self._mask else 0
            return 1 if expander.read_inputs() & self._mask else 0
        if not self._output:
            raise OSError(1)  # EPERM: an input cannot be driven
        levels = expander.outputs | self._mask if v else expander.outputs & ~self._mask
        if levels != expander.outputs:
            expander.write_outputs(levels)
        return None
