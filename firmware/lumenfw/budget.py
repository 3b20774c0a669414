"""The board's sampling budget: what a channel's sample costs in device time, and whether a
run's sample period leaves room for it.

One cost table for the firmware and the simulator alike (hil_sim/costs.py charges the
simulated clock with it).  The numbers are sized to a Raspberry Pi Pico (RP2040, 125 MHz)
running MicroPython; they are estimates from published figures, not measurements on a board
(the board's self-test is where they get checked):

- I2C: each transfer's bits at the bus clock (board_config.I2C_FREQ_HZ), 9 bits per byte
  (8 data + ACK) plus a start, an address and a stop; a repeated start costs one more
  address byte.  This is the physics of the bus, exact up to clock stretching.
- I2C call overhead: machine.I2C's readfrom_mem_into/writeto_mem from MicroPython take
  about 20 us beyond the bus time on an RP2040 (argument parsing, the SDK's blocking
  transfer set-up): I2C_CALL_US.
- A loop pass: the firmware's pass (watchdog feed, clocks, link poll with nothing waiting,
  safety checks without the I2C part, run bookkeeping, heartbeat check) is ~1,500 bytecodes;
  MicroPython on an RP2040 runs roughly 5-10 bytecodes per microsecond for such code
  (pystone-class figures for the RP2040 port), so ~200 us: PASS_US.
- A sample beyond its I2C transfers (integer scaling, ring put, batch pack): ~300
  bytecodes, ~50 us, inside the I2C calls' overhead and PASS_US.
- A photodiode conversion: the ADS1115's single-shot time at its data rate.

A sample (sample_cost_us): the pass, the INA226's bus-voltage and current reads, and per
photodiode conversion its start (a config write), the conversion, a ready poll and the
result read.  A run's samples may take BUDGET_PERCENT of its period; the rest is the
link's, the safety checks', the ambient sensor's and a range change's.
"""

I2C_CALL_US = 20  # MicroPython overhead per machine.I2C call, beyond the bus time
PASS_US = 200  # one firmware loop pass's CPU time, beyond its I2C transfers
BUDGET_PERCENT = 80  # of each sample period, the most its samples may cost
_BITS_PER_BYTE = 9  # 8 data bits and the ACK
_FRAME_BITS = 2  # start and stop conditions, about one bit time each
_REGISTER_BYTES = 3  # a register pointer and a 16-bit word


def i2c_transfer_us(data_bytes, freq_hz, addressed=1):
    """Bus time of one transfer: `addressed` address bytes (2 with a repeated start), the
    data bytes, start and stop, rounded up to whole microseconds, plus the call overhead."""
    bits = (addressed + data_bytes) * _BITS_PER_BYTE + _FRAME_BITS * addressed
    return (bits * 1_000_000 + freq_hz - 1) // freq_hz + I2C_CALL_US


def sample_cost_us(oversample, freq_hz, pd_rate_sps):
    """Device time of one channel's sample averaging `oversample` photodiode conversions."""
    read_us = i2c_transfer_us(_REGISTER_BYTES, freq_hz, 2)
    write_us = i2c_transfer_us(_REGISTER_BYTES, freq_hz)
    conversion_us = (1_000_000 + pd_rate_sps - 1) // pd_rate_sps
    return PASS_US + 2 * read_us + oversample * (write_us + conversion_us + 2 * read_us)


def min_period_ms(oversample, channels, freq_hz, pd_rate_sps):
    """The shortest sample period (ms) whose samples on `channels` channels fit the budget."""
    cost_us = channels * sample_cost_us(oversample, freq_hz, pd_rate_sps)
    return (cost_us * 100 + BUDGET_PERCENT * 1000 - 1) // (BUDGET_PERCENT * 1000)
