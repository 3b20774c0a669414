"""Firmware figures on the MicroPython unix port: heap allocated per sample, loop cost, heap in use.

The real firmware (lumenfw.device.Device on hil_sim's SimBoard) runs a constant-voltage run at
1 s sampling with frozen physics (the simulated chips answer from fixed registers, so what
allocates is the firmware's own doing) and a link that only counts what it is given. With
gc disabled, gc.mem_alloc() before and after N samples of main-loop passes gives the bytes
allocated; each pass is timed on its own and counted as one that sampled or one that found
nothing due. The baseline, measured in the same process: the same sample path plus the one
float a naive firmware would compute per sample (volts from millivolts). Costs include the
simulated chips' register emulation in Python, which a Pico's I2C does in hardware.
"""

from __future__ import annotations

import json
from typing import Any

from hil_sim.optics import pd_amps_per_cd_m2
from tests.support.mpy import run_micropython

SCRIPT = """
import gc, json, time
from hil_sim.board import SimBoard
from hil_sim.physics.bench import Bench
from lumenfw.device import Device
from protocol import frame, messages, schema

SAMPLES = %(samples)d


class CountingLink:
    # The host end: hands over queued frames, counts what the device writes.
    def __init__(self, queued):
        self.queued = queued
        self.written = 0

    def read_into(self, buf):
        if not self.queued:
            return 0
        n = min(len(buf), len(self.queued))
        buf[0:n] = self.queued[0:n]
        self.queued = self.queued[n:]
        return n

    def write(self, buf, n):
        self.written += n


def command(msg_id, values):
    return frame.build(msg_id, 0, messages.pack(msg_id, values))


def run_head():
    fields = {"cmd_id": 1, "run_key": 0x7FFFFFFFFFFFFFF5, "mode": schema.MODE_CONSTANT_VOLTAGE,
              "setpoint_mv": 10000, "compliance_na": 2000000, "sample_period_ms": 1000,
              "oversample": 4, "l0_settle_ms": 1000}
    return tuple(fields.get(name, 0) for name in messages.field_names(schema.START_RUN))


def measure():
    # Locals only: a new module global would grow the module dict, on the heap.
    queued = command(schema.HELLO, (7, schema.SCHEMA_HASH, 1)) + command(
        schema.START_RUN, run_head())
    link = CountingLink(queued)
    # A G1 lifetime's 1 s sampling at %(accel)dx; passes are timed one by one and split
    # into those that took a sample and those that found nothing due.
    board = SimBoard(Bench("G1", 1, %(pd)r), accel=%(accel)d, frozen=True, link=link)
    device = Device(board)
    device.boot()
    ctrl = device.ctrl
    device.step()  # takes the HELLO and the START_RUN
    assert ctrl.state == schema.STATE_RUNNING, "the board refused the START_RUN"
    while ctrl.next_seq < 200:  # past the command path, first batches, ambient readings
        device.step()
    out = {}
    gc.collect()
    gc.disable()
    first = ctrl.next_seq
    sample_passes = idle_passes = sample_us = idle_us = 0
    before = gc.mem_alloc()
    while ctrl.next_seq - first < SAMPLES:
        seq = ctrl.next_seq
        t0 = time.ticks_us()
        device.step()
        pass_us = time.ticks_diff(time.ticks_us(), t0)
        if ctrl.next_seq != seq:
            sample_passes += 1
            sample_us += pass_us
        else:
            idle_passes += 1
            idle_us += pass_us
    loop_alloc = gc.mem_alloc() - before
    samples = ctrl.next_seq - first
    before = gc.mem_alloc()
    t0 = time.ticks_us()
    for _ in range(SAMPLES):
        ctrl.take_sample()
    take_us = time.ticks_diff(time.ticks_us(), t0)
    take_alloc = gc.mem_alloc() - before
    sampler = ctrl.sampler
    before = gc.mem_alloc()
    t0 = time.ticks_us()
    volts = 0.0
    for _ in range(SAMPLES):
        ctrl.take_sample()
        volts = sampler.voltage_mv / 1000  # the naive path: one float per sample
    naive_us = time.ticks_diff(time.ticks_us(), t0)
    naive_alloc = gc.mem_alloc() - before
    gc.enable()
    gc.collect()
    out["samples"] = samples
    out["sample_passes"] = sample_passes
    out["sample_us"] = sample_us
    out["idle_passes"] = idle_passes
    out["idle_us"] = idle_us
    out["loop_alloc"] = loop_alloc
    out["take_alloc"] = take_alloc
    out["take_us"] = take_us
    out["naive_alloc"] = naive_alloc
    out["naive_us"] = naive_us
    out["naive_volts"] = volts
    out["heap_used"] = gc.mem_alloc()
    out["heap_free"] = gc.mem_free()
    out["state"] = ctrl.state
    out["written"] = link.written
    return out


print(json.dumps(measure()))
"""


def measure(samples: int, accel: int = 2000) -> dict[str, Any]:
    """Raw counters from one MicroPython process (SAMPLES samples through each path)."""
    source = SCRIPT % {"samples": samples, "pd": pd_amps_per_cd_m2("G1"), "accel": accel}
    done = run_micropython(source, timeout_s=300)
    if done.returncode != 0:
        raise RuntimeError(f"micropython failed: {done.stderr.decode()[-2000:]}"
                           f"{done.stdout.decode()[-2000:]}")
    figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
    # 3 x samples after the warm-up, each a 33-byte record in a frame
    assert figures["state"] == 1 and figures["written"] > 3 * samples * 33, figures
    return figures


def run(samples: int = 3000) -> dict[str, dict[str, Any]]:
    m = measure(samples)
    n = m["samples"]
    return {
        "fw_alloc_bytes_per_sample": {"value": m["loop_alloc"] / n,
                                      "unit": "B/sample (loop pass)", "goal": "0"},
        "fw_take_sample_alloc_bytes_per_sample": {"value": m["take_alloc"] / samples,
                                                  "unit": "B/sample", "goal": "0"},
        "fw_naive_float_alloc_bytes_per_sample": {"value": m["naive_alloc"] / samples,
                                                  "unit": "B/sample (baseline)"},
        "fw_loop_us_per_sample": {"value": m["sample_us"] / m["sample_passes"],
                                  "unit": "us (a loop pass that samples)"},
        "fw_idle_pass_us": {"value": m["idle_us"] / max(1, m["idle_passes"]),
                            "unit": "us (a pass with nothing due)"},
        "fw_take_sample_us": {"value": m["take_us"] / samples, "unit": "us/sample"},
        "fw_naive_float_take_sample_us": {"value": m["naive_us"] / samples,
                                          "unit": "us/sample (baseline)"},
        "fw_heap_used_bytes": {"value": m["heap_used"], "unit": "B (of -X heapsize=4m)"},
        "fw_heap_free_bytes": {"value": m["heap_free"], "unit": "B"},
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:40s} {figure['value']:12.4g} {figure['unit']}")
