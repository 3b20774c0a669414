"""What the simulated board charges to its device clock for the work the firmware does.

The simulated board's clock moves only by the firmware's waits and by these modelled
costs (hil_sim/clock.py), so the same seed gives the same samples on any machine.  The
numbers are sized to a Raspberry Pi Pico (RP2040, 125 MHz) running MicroPython; they are
estimates from published figures, not measurements on a board (the board's self-test is
where they get checked):

- I2C: each transfer's bits at the bus clock (board_config.I2C_FREQ_HZ), 9 bits per byte
  (8 data + ACK) plus a start, an address and a stop; a repeated start costs one more
  address byte.  This is the physics of the bus, exact up to clock stretching.
- I2C call overhead: machine.I2C's readfrom_mem_into/writeto_mem from MicroPython take
  about 20 us beyond the bus time on an RP2040 (argument parsing, the SDK's blocking
  transfer set-up); we charge I2C_CALL_US.
- A loop pass: the firmware's pass (watchdog feed, clocks, link poll with nothing waiting,
  safety checks without the I2C part, run bookkeeping, heartbeat check) is ~1,500 bytecodes;
  MicroPython on an RP2040 runs roughly 5-10 bytecodes per microsecond for such code
  (pystone-class figures for the RP2040 port), so ~200 us: PASS_US.
- A sample beyond its I2C transfers (integer scaling, ring put, batch pack): ~300
  bytecodes, ~50 us: charged as part of the I2C calls' overhead and PASS_US; there is no
  separate hook for it.
"""

I2C_CALL_US = 20  # MicroPython overhead per machine.I2C call, beyond the bus time
PASS_US = 200  # one firmware loop pass's CPU time, beyond its I2C transfers
_BITS_PER_BYTE = 9  # 8 data bits and the ACK
_FRAME_BITS = 2  # start and stop conditions, about one bit time each


def i2c_transfer_us(data_bytes, freq_hz, addressed=1):
    """Bus time of one transfer: `addressed` address bytes (2 with a repeated start), the
    data bytes, start and stop, rounded up to whole microseconds, plus the call overhead."""
    bits = (addressed + data_bytes) * _BITS_PER_BYTE + _FRAME_BITS * addressed
    return (bits * 1_000_000 + freq_hz - 1) // freq_hz + I2C_CALL_US
