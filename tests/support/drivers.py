"""Runs one test body on CPython and under the MicroPython unix port, with the rig's imports.

A body is MicroPython-compatible source using plain asserts; PRELUDE gives it the drivers,
the simulated board and two small stand-ins: FixedBench (readings a test sets) and
ManualClock (experiment time a test moves).
"""

import textwrap

from tests.support.mpy import run_micropython

PRELUDE = '''
from lumenfw import board_config as cfg
from lumenfw.board import dac_code, dac_mv, safe_outputs
from lumenfw.drivers.ads1115 import ADS1115
from lumenfw.drivers.ina226 import INA226
from lumenfw.drivers.mcp4725 import MCP4725
from lumenfw.drivers.sht31 import MEASURE_MS, SHT31, crc8
from lumenfw.photodiode import Photodiode
from hil_sim.board import SimBoard
from hil_sim.i2c import SimI2C
from hil_sim.gpio import SimPin


class FixedBench:
    """The Bench API with readings the test sets and inputs it records; time does nothing."""

    def __init__(self):
        self.voltage_v = 0.0
        self.current_a = 0.0
        self.photo_a = 0.0
        self.temperature_c = 25.0
        self.rh = 50.0
        self.closed = True
        self.setpoint_v = None
        self.relay = None
        self.laser = None
        self.shutter_open = None
        self.t_s = 0.0
        self.settled_s = 0.0

    def advance_to(self, t_s):
        self.t_s = t_s

    def commit_time_s(self):
        return 0.0  # readings do not depend on time: any time may be asked again

    def is_dark(self):
        return not self.relay and not self.laser

    def output_on(self):
        return bool(self.relay)

    def output_settled_s(self):
        return self.settled_s  # when the test says its current stops rising

    def set_supply_setpoint_v(self, v):
        self.setpoint_v = v

    def set_output_relay(self, on):
        self.relay = on

    def set_laser(self, on):
        self.laser = on

    def set_shutter_drive(self, open_):
        self.shutter_open = open_

    def dut_voltage_v(self):
        return self.voltage_v

    def dut_current_a(self):
        return self.current_a

    def photocurrent_a(self):
        return self.photo_a

    def shutter_closed(self):
        return self.closed

    def ambient_c(self):
        return self.temperature_c

    def ambient_rh(self):
        return self.rh

    def snapshot(self):
        return {"t_s": self.t_s}


class ManualClock:
    def __init__(self):
        self.t_us = 0

    def now_us(self):
        return self.t_us


class ManualSource:
    """What chips read, for chip-level tests: FixedBench values, epoch bumped by hand."""

    def __init__(self, bench):
        self.bench = bench
        self.epoch = 0
        self.frozen = False
        self.inputs = 0  # the test bumps it where a BenchSource would (an input change)

    def moved(self):
        self.epoch += 1

    def before_input_change(self, latch):
        pass  # inputs here are the test's own attributes: nothing converts behind them

    def read_electrical(self):
        self.voltage_v = self.bench.voltage_v
        self.current_a = self.bench.current_a

    def read_electrical_at(self, t_us):
        self.read_electrical()

    def current_a_ahead(self, t_us):
        """The bench's current_at(t_us) when the test gave one, else its current."""
        current_at = getattr(self.bench, "current_at", None)
        return current_at(t_us) if current_at is not None else self.bench.current_a

    def current_can_rise_until_us(self):
        return int(self.bench.settled_s * 1_000_000) if self.bench.relay else -1

    def bench_dark(self):
        return self.bench.is_dark()

    def dut_voltage_v(self):
        return self.bench.voltage_v

    def dut_current_a(self):
        return self.bench.current_a

    def photocurrent_a(self):
        return self.bench.photo_a

    def ambient_c(self):
        return self.bench.temperature_c

    def ambient_rh(self):
        return self.bench.rh

    def set_supply_setpoint_v(self, v):
        self.bench.setpoint_v = v


def fixed_board(accel=1):
    bench = FixedBench()
    return bench, SimBoard(bench, accel=accel)


def expect_oserror(fn, errno):
    try:
        fn()
    except OSError as exc:
        assert exc.args[0] == errno, exc.args
        return
    raise AssertionError("no OSError")
'''


def run_both(*parts, timeout_s=120):
    """Run PRELUDE + parts on CPython, then under the unix port; fail on any assert.

    Each part is dedented on its own, so a shared setup part and an indented body join
    at module level.
    """
    code = PRELUDE + "".join(textwrap.dedent(part).strip("\n") + "\n" for part in parts)
    exec(compile(code, "<test body>", "exec"), {"__name__": "test_body"})  # noqa: S102 (test code)
    proc = run_micropython(code + "\nprint('BODY-PASSED')\n", timeout_s=timeout_s)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0 and "BODY-PASSED" in out, out + proc.stderr.decode(errors="replace")
    return out
