"""What the simulated board charges to its device clock for the work the firmware does.

The simulated board's clock moves only by the firmware's waits and by these modelled
costs (hil_sim/clock.py), so the same seed gives the same samples on any machine.  The
table is the firmware's own (lumenfw/budget.py, where the numbers are explained): the
board's sampling budget and the simulator's clock are one model.
"""

from lumenfw.budget import I2C_CALL_US, PASS_US, i2c_transfer_us

__all__ = ["I2C_CALL_US", "PASS_US", "i2c_transfer_us"]
