"""The firmware on the real MicroPython unix port: zero allocation per sample, cost, a whole run."""

import json

import pytest

from protocol import schema
from tests.support.fw_harness import pd_amps_per_cd_m2
from tests.support.mpy import run_micropython

pytestmark = pytest.mark.micropython

# Shared by the scripts below: the simulated board with a link that keeps nothing (so the
# link itself allocates nothing) and the host's frames queued in a bytearray.
_PRELUDE = """
import gc, json, time
from hil_sim.board import SimBoard
from hil_sim.physics.bench import Bench
from lumenfw.device import Device
from protocol import frame, messages, schema


class QuietLink:
    def __init__(self):
        self.rx = bytearray()
        self.bytes_written = 0

    def read_into(self, buf):
        if not self.rx:
            return 0
        n = min(len(buf), len(self.rx))
        for i in range(n):
            buf[i] = self.rx[i]
        self.rx = self.rx[n:]
        return n

    def write(self, buf, n):
        self.bytes_written += n


def send(link, msg_id, values):
    link.rx += frame.build(msg_id, 0, messages.pack(msg_id, values))


def start_head(run_key, mode, setpoint_mv, period_ms, oversample, stop_fraction_pm,
               max_duration_s):
    values = {"cmd_id": 1, "run_key": run_key, "mode": mode, "setpoint_mv": setpoint_mv,
              "compliance_na": 2000000, "sample_period_ms": period_ms,
              "oversample": oversample, "stop_fraction_pm": stop_fraction_pm,
              "l0_settle_ms": 1000, "max_duration_s": max_duration_s}
    return tuple(values.get(name, 0) for name in messages.field_names(schema.START_RUN))
"""

_ALLOCATION = _PRELUDE + """
SAMPLES = 10000


def measure():
    # Inside a function: locals live on the VM stack, while a new module global would grow
    # the module's dict on the heap and be counted against the firmware.
    link = QuietLink()
    # Frozen physics: the simulated chips answer from fixed registers, so whatever allocates
    # during the measurement is the firmware's own doing.  Unpaced: each wait moves the
    # device clock to the firmware's next due event at once.
    board = SimBoard(Bench("G1", 1, PD), accel=None, frozen=True, link=link)
    device = Device(board)
    device.boot()
    send(link, schema.HELLO, (1, schema.SCHEMA_HASH, 1))
    send(link, schema.START_RUN,
         start_head(42, schema.MODE_CONSTANT_VOLTAGE, 10000, 50, 4, 0, 0))
    ctrl = device.ctrl
    # Warm up past the command path, the first batches and a few ambient readings (a
    # simulated chip converts floats once after an input changes: the simulator's cost).
    while ctrl.next_seq < 200:
        device.step()
        device.sleep()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    first = ctrl.next_seq
    passes = 0
    t0 = time.ticks_us()
    while ctrl.next_seq - first < SAMPLES:
        device.step_safely()  # run_forever's body, the wait for the next due event included
        device.sleep_safely()
        passes += 1
    elapsed_us = time.ticks_diff(time.ticks_us(), t0)
    allocated = gc.mem_alloc() - before
    samples = ctrl.next_seq - first
    t0 = time.ticks_us()
    for _ in range(SAMPLES):
        ctrl.take_sample()
    sample_us = time.ticks_diff(time.ticks_us(), t0)
    allocated_take = gc.mem_alloc() - before - allocated
    gc.enable()
    gc.collect()
    return {"samples": samples, "passes": passes, "allocated": allocated,
            "allocated_take_sample": allocated_take, "pass_us": elapsed_us // passes,
            "take_sample_us": sample_us // SAMPLES, "heap_used": gc.mem_alloc(),
            "heap_free": gc.mem_free(), "state": ctrl.state, "written": link.bytes_written}


print(json.dumps(measure()))
"""

# The same on a board of eight channel cards: a run on every channel, the allocation over
# whole loop passes (each channel's samples, the mux, batches) and the heap the eight
# controllers hold.
_CARDS = _PRELUDE + """
SAMPLES = 4000
CHANNELS = 8


def measure():
    link = QuietLink()
    benches = [Bench("G1", 1, PD, channel=n) for n in range(CHANNELS)]
    gc.collect()
    before_board = gc.mem_alloc()
    board = SimBoard(benches[0], accel=None, frozen=True, link=link, cards=benches)
    gc.collect()
    board_done = gc.mem_alloc()
    device = Device(board)
    device.boot()
    gc.collect()
    rig_objects = gc.mem_alloc() - board_done
    send(link, schema.HELLO, (1, schema.SCHEMA_HASH, 1))
    for n in range(CHANNELS):
        head = list(start_head(42 + n, schema.MODE_CONSTANT_VOLTAGE, 10000, 200, 4, 0, 0))
        names = messages.field_names(schema.START_RUN)
        head[names.index("cmd_id")] = 1 + n  # (a repeated cmd_id is answered, not run, again)
        head[names.index("channel")] = n
        send(link, schema.START_RUN, tuple(head))
    ctrls = device.ctrls
    passes = 0
    while min(c.next_seq for c in ctrls) < 100 and passes < 100000:  # warm-up
        device.step()
        device.sleep()
        passes += 1
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    first = 0
    for c in ctrls:
        first += c.next_seq
    taken = 0
    while taken < SAMPLES and passes < 200000:
        passes += 1
        device.step_safely()
        device.sleep_safely()
        taken = -first
        for c in ctrls:
            taken += c.next_seq
    allocated = gc.mem_alloc() - before
    gc.enable()
    gc.collect()
    running = 0
    for c in ctrls:
        running += c.state == schema.STATE_RUNNING
    return {"samples": taken, "allocated": allocated, "running": running,
            "rig_objects": rig_objects, "board_objects": board_done - before_board,
            "written": link.bytes_written}


print(json.dumps(measure()))
"""

_IDLE = _PRELUDE + """
def measure():
    link = QuietLink()
    board = SimBoard(Bench("G1", 1, PD), accel=1000, frozen=True, link=link)
    device = Device(board)
    device.boot()
    for _ in range(1000):  # warm-up: several ambient readings (see the sampling script)
        device.step()
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    t0 = time.ticks_us()
    for _ in range(10000):
        device.step_safely()
    elapsed_us = time.ticks_diff(time.ticks_us(), t0)
    allocated = gc.mem_alloc() - before  # before the dict below exists
    return {"allocated": allocated, "pass_us": elapsed_us // 10000,
            "written": link.bytes_written}


print(json.dumps(measure()))
"""

_HEAP = """
import gc, json
gc.collect()
start = gc.mem_alloc()
from hil_sim.board import SimBoard
from hil_sim.physics.bench import Bench
gc.collect()
simulator = gc.mem_alloc()
from lumenfw.device import Device
gc.collect()
code = gc.mem_alloc()


class QuietLink:
    def read_into(self, buf):
        return 0

    def write(self, buf, n):
        pass


board = SimBoard(Bench("G1", 1, PD), accel=1000, frozen=True, link=QuietLink())
gc.collect()
board_done = gc.mem_alloc()
device = Device(board)
device.boot()
for _ in range(100):
    device.step_safely()
gc.collect()
print(json.dumps({"firmware_modules": code - simulator, "rig_objects": gc.mem_alloc() - board_done,
                  "sample_ring": len(device.ring.buf)}))
"""

_LIFETIME = _PRELUDE + """
link = QuietLink()
board = SimBoard(Bench("G1", 1, PD), accel=500, link=link)
device = Device(board)
device.boot()
send(link, schema.HELLO, (1, schema.SCHEMA_HASH, 1))
send(link, schema.START_RUN, start_head(7, schema.MODE_CONSTANT_VOLTAGE, 10000, 1000, 4, 500,
                                        3000))
ctrl = device.ctrl
deadline = time.ticks_add(time.ticks_ms(), 60000)
while (ctrl.state == schema.STATE_RUNNING or ctrl.run_key == 0) and time.ticks_diff(
        deadline, time.ticks_ms()) > 0:
    device.step_safely()
    device.sleep()
print(json.dumps({"state": ctrl.state, "stop_reason": ctrl.stop_reason,
                  "samples": ctrl.next_seq, "t_s": ctrl.clock.t_s,
                  "l0_pd_pa": ctrl.luminance.l0_pd_pa}))
"""


def _run(script):
    source = script.replace("PD", repr(pd_amps_per_cd_m2("G1")))
    done = run_micropython(source, timeout_s=300)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_sampling_allocates_nothing_per_sample_on_micropython():
    figures = _run(_ALLOCATION)
    print("MicroPython unix port, sampling:", figures)
    assert figures["samples"] >= 10000 and figures["state"] == 1
    assert figures["allocated"] == 0 and figures["allocated_take_sample"] == 0
    assert figures["written"] > 10000 * 32  # the samples did go out


def test_an_idle_loop_pass_allocates_nothing_on_micropython():
    figures = _run(_IDLE)
    print("MicroPython unix port, idle pass:", figures)
    assert figures["allocated"] == 0 and figures["written"] > 0  # heartbeats went out


def test_eight_channels_sampling_side_by_side_allocate_nothing_on_micropython():
    figures = _run(_CARDS)
    print("MicroPython unix port, eight channel cards:", figures)
    assert figures["running"] == 8 and figures["samples"] >= 4000
    assert figures["allocated"] == 0
    assert figures["written"] > 4000 * 32  # the samples did go out
    # Eight controllers with their outputs, samplers and runs (the ring is shared): 77,152 B
    # measured on the 64-bit port against 27,904 B for the one-channel board, about 7 kB per
    # added card (docs/firmware-build.md); a Pico's objects take about half.
    assert figures["rig_objects"] < 84000, figures


def test_the_rig_objects_fit_the_heap_of_a_pico():
    figures = _run(_HEAP)
    print("MicroPython unix port (64-bit), heap:", figures)
    # The RP2040 port has ~190 kB of heap; its objects are about half the 64-bit size.
    assert figures["rig_objects"] < 48000
    assert figures["sample_ring"] == 512 * schema.SAMPLE_SIZE


def test_a_lifetime_run_reaches_half_luminance_on_micropython():
    result = _run(_LIFETIME)
    assert result["state"] == 0 and result["stop_reason"] == 2  # idle, luminance_fraction
    assert result["l0_pd_pa"] > 0 and 500 < result["t_s"] < 800
