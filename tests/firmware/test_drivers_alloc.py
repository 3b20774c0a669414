"""Driver + simulated chip reads allocate nothing on the unix port (frozen physics), and cost."""

import re

import pytest

from tests.support.mpy import run_micropython

pytestmark = pytest.mark.micropython

READS = 10_000

_SCRIPT = """
import gc
import time
from hil_sim.board import SimBoard
from hil_sim.physics.bench import Bench
from lumenfw import board_config as cfg
from lumenfw.drivers.ads1115 import ADS1115
from lumenfw.drivers.ina226 import INA226
from lumenfw.drivers.mcp4725 import MCP4725
from lumenfw.drivers.sht31 import MEASURE_MS, SHT31
from lumenfw.photodiode import Photodiode

board = SimBoard(Bench("G1", 3, 2e-9), accel=%(accel)d, frozen=True)
dac = MCP4725(board.i2c, cfg.ADDR_DAC)
ina = INA226(board.i2c, cfg.ADDR_INA226, cfg.INA226_CAL, cfg.INA226_CURRENT_LSB_NA,
             cfg.INA226_CONFIG)
ina.configure()
ads = ADS1115(board.i2c, cfg.ADDR_ADS1115)
pd = Photodiode(ads, board.tia_gain, cfg)
sht = SHT31(board.i2c, cfg.ADDR_SHT31)
dac.write_code(1234)

def op_dac():
    dac.write_code(1234)
    return dac.read_code()

def op_bus():
    return ina.read_bus_mv()

def op_current():
    return ina.read_current_na()

def op_pd1():
    return pd.read_pa(1)

def op_pd8():
    return pd.read_pa(8)

def op_sht():
    sht.start()
    board.sleep_us(MEASURE_MS * 1000)
    return sht.read()

def op_pins():
    return board.interlock.value() + board.shutter_closed.value() + board.ticks_us()

def measure(name, op):
    # locals only: a first assignment to a module global grows its dict (allocates)
    for i in range(20):
        op()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    t0 = time.ticks_us()
    for i in range(%(reads)d):
        op()
    elapsed_us = time.ticks_diff(time.ticks_us(), t0)
    allocated = gc.mem_alloc() - before
    gc.enable()
    print("RESULT", name, allocated, elapsed_us * 1000 // %(reads)d)

for name, op in (("dac", op_dac), ("bus", op_bus), ("current", op_current), ("pd1", op_pd1),
                 ("pd8", op_pd8), ("sht", op_sht), ("pins", op_pins)):
    measure(name, op)
"""


def _results(accel):
    proc = run_micropython(_SCRIPT % {"accel": accel, "reads": READS}, timeout_s=300)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    found = re.findall(r"RESULT (\w+) (-?\d+) (\d+)", proc.stdout.decode())
    return {name: (int(alloc), int(ns)) for name, alloc, ns in found}


def test_ten_thousand_reads_of_every_driver_allocate_nothing(capsys):
    results = _results(accel=100_000)
    assert set(results) == {"dac", "bus", "current", "pd1", "pd8", "sht", "pins"}
    for name, (allocated, ns_per_read) in results.items():
        with capsys.disabled():
            print(f"\n  {name}: {allocated} bytes allocated, {ns_per_read / 1000:.1f} us per read")
        assert allocated == 0, (name, allocated)
