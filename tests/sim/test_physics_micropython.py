"""The physics gives bit-identical numbers on CPython and on the MicroPython unix port (its cost
per sample is a bench figure: bench/bench_firmware.py, `sim_physics_us_per_sample`)."""

import subprocess
import sys

import pytest

from tests.support.mpy import REPO, run_micropython

pytestmark = pytest.mark.micropython

# Runs unchanged on both interpreters: every output of all three presets through ramps, holds,
# big and tiny steps, shutter travel and a JSON snapshot/restore, as exact hex doubles.
SCRIPT = """
import binascii, json, struct
from hil_sim.physics.bench import Bench

def hx(x):
    return binascii.hexlify(struct.pack('<d', x)).decode()

def record(tag, b):
    row = [tag, hx(b.time_s()), hx(b.dut_voltage_v()), hx(b.dut_current_a()),
           hx(b.photocurrent_a()), hx(b.photocurrent_a()), str(int(b.shutter_closed())),
           hx(b.ambient_c()), hx(b.ambient_rh()), hx(b.luminance_cd_m2())]
    if b.kind == 'film':
        row.append(hx(b.pl_fraction()))
    print(' '.join(row))

def run(tag, b, times):
    for t in times:
        b.advance_to(t)
        record(tag, b)

g1 = Bench('G1', 11, 9.07e-10)
g1.set_supply_setpoint_v(10.0)
g1.set_output_relay(1)
run('G1', g1, [0.0005 * i for i in range(1, 40)] + [1.0 + 3.7 * i for i in range(200)])
g1.set_supply_setpoint_v(12.5)
run('G1', g1, [800.0 + 0.001 * i for i in range(1, 20)] + [900.0, 5000.0])
g1.set_output_relay(0)
run('G1', g1, [5001.0, 9000.0])
state = json.loads(json.dumps(g1.snapshot()))
again = Bench('G1', 0, 9.07e-10)
again.restore(state)
g1.set_output_relay(1)
again.set_output_relay(1)
run('G1', g1, [9000.0 + 0.5 * i for i in range(1, 50)])
run('G1r', again, [9000.0 + 0.5 * i for i in range(1, 50)])

g2 = Bench('G2', 12, 9.07e-10)
g2.set_output_relay(1)
for i in range(200):
    g2.set_supply_setpoint_v(0.1 * i)
    run('G2', g2, [0.001 * (i + 1)])
g2.set_supply_setpoint_v(14.0)
run('G2', g2, [0.2 + 0.25 * i for i in range(200)])

film = Bench('film', 13, 9.07e-10)
film.set_laser(1)
film.set_shutter_drive(1)
run('film', film, [0.01 * i for i in range(1, 8)] + [60.0 * i for i in range(1, 121)])
film.set_shutter_drive(0)
run('film', film, [7200.02, 7200.06, 7300.0])
film.set_laser(0)
film.set_shutter_drive(1)
run('film', film, [7400.0, 9000.0])
"""

# Cost of one sample's worth of calls at 1 s of device time per sample, min of 5 repeats.


def test_cpython_and_micropython_give_identical_numbers():
    mpy = run_micropython(SCRIPT)
    assert mpy.returncode == 0, mpy.stderr.decode()
    cpy = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, cwd=REPO,
                         timeout=120, check=False)
    assert cpy.returncode == 0, cpy.stderr.decode()
    mpy_lines = mpy.stdout.decode().splitlines()
    assert len(mpy_lines) > 800
    assert mpy_lines == cpy.stdout.decode().splitlines()
