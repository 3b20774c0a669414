"""Firmware figures on the MicroPython unix port: heap allocated per sample, loop cost, heap in use,
and the precompiled firmware's RAM: what its import keeps, and its peak in each run kind; beside
them the reference board's modelled sampling budget (lumenfw/budget.py) for eight channels.

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

from hil_sim import fwbuild
from hil_sim.launcher import MICROPYPATHS
from hil_sim.optics import pd_amps_per_cd_m2
from lumenfw import board_config, budget
from lumenfw.drivers.ads1115 import RATE_SPS
from tests.support.fw_harness import START_RUN_DEFAULTS
from tests.support.fw_runs import RUNS
from tests.support.mpy import run_micropython

# The heap MicroPython 1.2x leaves a plain Pico (RP2040): what the rp2 port's linker script
# (ports/rp2/memmap_mp_rp2040.ld, __GcHeapStart..__GcHeapEnd) keeps of the 256 kB main SRAM
# after .data (gc.c, vm.c, parse.c run from RAM), .bss and the C heap; gc.mem_free() at a
# fresh REPL reports about this much (less on a Pico W, whose network stack takes RAM). A
# figure to compare with, not measured here: there is no board on this machine.
PICO_FREE_HEAP_BYTES = 190 * 1024

# The multi-channel board's goal (issue #16): eight channel cards, a sample each second with
# 4x oversampling, within half of what the reference board's sampling budget allows.
BUDGET_CHANNELS = 8
BUDGET_OVERSAMPLE = 4
BUDGET_PERIOD_MS = 1000
GOAL_HEADROOM_PERCENT = 50

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
        device.sleep()
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
        device.sleep()  # (not timed: the wait for the next due event, paced by accel)
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


# The precompiled firmware's RAM, in a VM of its own on the build (hil_sim/fwbuild.py): the
# heap its imports keep (main.py's module list, as the Pico's boot imports them), and, when
# a run is given, the highest heap in use during that run on a SimBoard with real physics.
# gc stays disabled (gc.collect() still collects) and the heap is collected after every
# loop pass that allocated, so each pass starts from live heap alone: live heap + what the
# pass allocated is what was in use at its end. The simulator's share is subtracted: its
# modules, bench and board (everything built before the firmware's Device), and whatever
# it allocates during a pass, counted by wrapping every call the firmware makes into it
# (the board's methods, the I2C bus, the pins) at class level before anything is built.
HEAP_SCRIPT = """
import sys
if "" in sys.path:
    sys.path.remove("")  # the build, not the sources in the working folder
import gc, json

NONE = object()
ACCT = [0, 0]  # nesting depth of simulator calls, bytes they allocated


def charged(f):
    # f with what it allocates counted in ACCT[1]; positional arguments only, no tuple.
    def call(self, a=NONE, b=NONE, c=NONE):
        ACCT[0] += 1
        before = gc.mem_alloc()
        try:
            if a is NONE:
                result = f(self)
            elif b is NONE:
                result = f(self, a)
            elif c is NONE:
                result = f(self, a, b)
            else:
                result = f(self, a, b, c)
        finally:
            ACCT[0] -= 1
        if ACCT[0] == 0:
            ACCT[1] += gc.mem_alloc() - before
        return result
    return call


def charge_simulator():
    from hil_sim.board import SimBoard
    from hil_sim.gpio import ControlFilePin, SimPin, SourcePin
    from hil_sim.i2c import SimI2C
    for cls, names in (
            # (its clock readings are small ints, its link the HostLink below: nothing
            # to allocate)
            (SimBoard, ("sleep_us", "idle_us", "feed_watchdog")),
            (SimI2C, ("readfrom_mem_into", "writeto_mem", "writeto", "readfrom_into",
                      "scan")),
            (SimPin, ("value", "on", "off")), (SourcePin, ("value",)),
            (ControlFilePin, ("value",))):
        for name in names:
            setattr(cls, name, charged(getattr(cls, name)))


def firmware_files():
    from lumenfw import board
    from protocol import schema
    return [board.__file__, schema.__file__]


def measure(run):
    gc.collect()
    base = gc.mem_alloc()
    import main
    for name in main._FIRMWARE_MODULES:
        __import__(name)
    gc.collect()
    out = {"import": gc.mem_alloc() - base, "files": firmware_files()}
    if run is None:
        return out
    preset, seed, fields = run
    charge_simulator()
    from hil_sim.board import SimBoard
    from hil_sim.physics.bench import Bench
    from lumenfw.device import Device
    from protocol import frame, messages, schema

    class HostLink:
        # Hands the device its HELLO and START_RUN, drops what the device writes.
        def __init__(self, queued):
            self.queued = queued
            self.sent = 0

        def read_into(self, buf):
            queued = self.queued
            n = min(len(buf), len(queued) - self.sent)
            for i in range(n):  # no slices: nothing allocated
                buf[i] = queued[self.sent + i]
            self.sent += n
            return n

        def write(self, buf, n):
            pass

        def wait(self, timeout_ms):
            return False

    head = tuple(fields[name] for name in messages.field_names(schema.START_RUN))
    link = HostLink(
        frame.build(schema.HELLO, 0, messages.pack(schema.HELLO, (7, schema.SCHEMA_HASH, 1)))
        + frame.build(schema.START_RUN, 1, messages.pack(schema.START_RUN, head)))
    board = SimBoard(Bench(preset, seed, PD[preset]), accel=1000000, link=link)
    gc.collect()
    simulator = gc.mem_alloc() - base - out["import"]
    device = Device(board)
    device.boot()
    ctrl = device.ctrl
    peak = peak_pass = passes = collects = 0
    started = False
    gc.collect()
    live = gc.mem_alloc()
    gc.disable()
    while True:
        device.step_safely()
        device.sleep_safely()
        passes += 1
        firmware = gc.mem_alloc() - ACCT[1]  # the simulator's garbage since the collection out
        if firmware > peak:
            peak = firmware
            peak_pass = passes
        if firmware != live or ACCT[1] > 32768:
            gc.collect()
            collects += 1
            live = gc.mem_alloc()
            ACCT[1] = 0
        if ctrl.state == schema.STATE_RUNNING:
            started = True
        elif started:
            break
    gc.enable()
    out.update(peak=peak - base - simulator, peak_pass=peak_pass, simulator=simulator,
               passes=passes, collects=collects, stop_reason=ctrl.stop_reason,
               t_s=ctrl.clock.t_s)
    return out


print(json.dumps(measure(RUN)))
"""


def measure_heap(kind: str | None = None, heap: str = "448k") -> dict[str, Any]:
    """The precompiled firmware's heap (HEAP_SCRIPT, in bytes): "import", "files" (where
    lumenfw and protocol came from), and with a run kind of tests.support.fw_runs.RUNS also
    "peak" (firmware share), "peak_pass" (loop pass it was reached in, from 1),
    "simulator" (its share, subtracted), "passes", "stop_reason", "t_s". The build is brought
    up to date first."""
    fwbuild.build()
    run = None
    pd = {}
    if kind is not None:
        program = RUNS[kind]
        fields = dict(START_RUN_DEFAULTS, cmd_id=1, run_key=7, **program.fields)
        run = (program.preset, program.seed, fields)
        pd = {program.preset: pd_amps_per_cd_m2(program.preset)}
    source = HEAP_SCRIPT.replace("PD[", "%r[" % pd).replace("measure(RUN)",
                                                             "measure(%r)" % (run,))
    done = run_micropython(source, timeout_s=300, heap=heap,
                           env={"MICROPYPATH": MICROPYPATHS["mpy"]})
    if done.returncode != 0:
        raise RuntimeError(f"micropython failed: {done.stderr.decode()[-2000:]}"
                           f"{done.stdout.decode()[-2000:]}")
    figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if not all(f.endswith(".mpy") for f in figures["files"]):
        raise RuntimeError(f"the firmware did not load from the build: {figures['files']}")
    if kind is not None and figures["stop_reason"] != RUNS[kind].stop_reason:
        raise RuntimeError(f"the {kind} run did not end as it should: {figures}")
    return figures


def heap_figures(kinds=tuple(RUNS)) -> dict[str, dict[str, Any]]:
    """fw_import_heap_bytes, and fw_run_peak_heap_bytes over the run kinds (each kind's too),
    beside the Pico's free heap."""
    pico = ("; a Pico has ~%d kB free, and the 64-bit unix port's objects take up to twice "
            "a Pico's bytes" % (PICO_FREE_HEAP_BYTES // 1024))
    out = {"fw_import_heap_bytes": {"value": measure_heap()["import"],
                                    "unit": "B kept by the .mpy imports" + pico,
                                    "goal": "<= 64 kB (unix port)"}}
    peaks = {}
    for kind in kinds:
        m = measure_heap(kind)
        peaks[kind] = m["peak"]
        out["fw_run_peak_heap_bytes_" + kind] = {
            "value": m["peak"], "unit": "B in use at most, firmware share (at pass %d of %d, "
            "%.0f device s; the simulator's %d B not counted)" % (
                m["peak_pass"], m["passes"], m["t_s"], m["simulator"])}
    worst = max(peaks, key=peaks.__getitem__)
    out["fw_run_peak_heap_bytes"] = {"value": peaks[worst],
                                     "unit": "B in use at most (%s)" % worst + pico}
    out["fw_pico_free_heap_bytes"] = {
        "value": PICO_FREE_HEAP_BYTES, "unit": "B (RP2040, MicroPython 1.2x; not measured)"}
    return out


# The device physics alone (hil_sim/physics, in the VM), one simulated second per step: the
# advance and the readings a sample takes (the INA226's voltage and current, the photodiode
# once or four times), best of five rounds of 5000 steps, in us per step.
PHYSICS_SCRIPT = """
import time
from hil_sim.physics.bench import Bench

def cycle_us(name, reads):
    best = None
    for _ in range(5):
        b = Bench(name, 7, 9.07e-10)
        b.set_supply_setpoint_v(10.0)
        b.set_output_relay(1)
        b.set_laser(1)
        b.set_shutter_drive(1)
        t = 1.0
        b.advance_to(t)
        n = 5000
        t0 = time.ticks_us()
        for i in range(n):
            t += 1.0
            b.advance_to(t)
            b.dut_voltage_v()
            b.dut_current_a()
            for _ in range(reads):
                b.photocurrent_a()
        us = time.ticks_diff(time.ticks_us(), t0) / n
        best = us if best is None or us < best else best
    return best

print(cycle_us('G1', 1), cycle_us('G1', 4), cycle_us('film', 1))
"""


def physics_figures() -> dict[str, dict[str, Any]]:
    """sim_physics_us_per_sample (G1, one photodiode read) beside G1 with four reads and the
    film: what the simulated pixel costs the VM per sample, out of the firmware's pass."""
    done = run_micropython(PHYSICS_SCRIPT, timeout_s=300)
    if done.returncode != 0:
        raise RuntimeError(f"micropython failed: {done.stderr.decode()[-2000:]}")
    g1_us, g1_oversampled_us, film_us = (float(x) for x in done.stdout.split())
    return {
        "sim_physics_us_per_sample": {"value": g1_us, "unit": "us (G1: advance 1 s, V, I, "
                                      "one photodiode read; best of 5 x 5000)"},
        "sim_physics_oversampled_us_per_sample": {"value": g1_oversampled_us,
                                                  "unit": "us (G1, four photodiode reads)"},
        "sim_physics_film_us_per_sample": {"value": film_us, "unit": "us (film, laser on)"},
    }


def max_channel_samples(period_ms: int, oversample: int, freq_hz: int,
                        pd_rate_sps: int) -> int:
    """The most channel samples one period holds by the budget's own rule (min_period_ms,
    the one the board and the host refuse a run by), so the figure moves with the budget."""
    channels = 0
    while budget.min_period_ms(oversample, channels + 1, freq_hz, pd_rate_sps) <= period_ms:
        channels += 1
    return channels


def budget_figures() -> dict[str, dict[str, Any]]:
    """fw_channel_sample_us and fw_max_aggregate_samples_per_s: the reference board's
    (RP2040) modelled cost of a sample, from lumenfw.budget at the board's I2C clock and
    photodiode ADC rate (board_config), and whether eight channels at 1 s leave half the
    budget free. A model, not a measurement: there is no board here."""
    freq_hz = board_config.I2C_FREQ_HZ
    pd_rate_sps = RATE_SPS[board_config.ADS_PD_RATE_INDEX]
    sample_us = budget.sample_cost_us(BUDGET_OVERSAMPLE, freq_hz, pd_rate_sps)
    period_us = BUDGET_PERIOD_MS * 1000
    per_s = max_channel_samples(1000, BUDGET_OVERSAMPLE, freq_hz, pd_rate_sps)  # in 1 s
    # The shortest period the eight channels' samples fit: where they would take all of the
    # budget, so their share of it at BUDGET_PERIOD_MS is the ratio of the two.
    least_ms = budget.min_period_ms(BUDGET_OVERSAMPLE, BUDGET_CHANNELS, freq_hz, pd_rate_sps)
    used_percent = 100 * least_ms / BUDGET_PERIOD_MS
    headroom_percent = 100 - used_percent
    board = (f"{BUDGET_CHANNELS} channels x 1 sample per {BUDGET_PERIOD_MS / 1000:g} s at "
             f"oversample {BUDGET_OVERSAMPLE}")
    return {
        "fw_channel_sample_us": {
            "value": sample_us,
            "unit": f"us modelled RP2040 device time of one channel's sample at oversample "
                    f"{BUDGET_OVERSAMPLE} (I2C {freq_hz // 1000} kHz, ADS1115 {pd_rate_sps} SPS); "
                    f"{board}: {BUDGET_CHANNELS * sample_us / 1000:.1f} ms of each period "
                    f"({100 * BUDGET_CHANNELS * sample_us / period_us:.1f} %)"},
        "fw_max_aggregate_samples_per_s": {
            "value": per_s,
            "unit": f"channel samples/s at oversample {BUDGET_OVERSAMPLE} in the budget's "
                    f"{budget.BUDGET_PERCENT} % of each period (1e6 / cost: "
                    f"{1e6 / sample_us:.0f} at all of it)",
            "goal": f"headroom >= {GOAL_HEADROOM_PERCENT} % for {board}",
            "check": f"{'passes' if headroom_percent >= GOAL_HEADROOM_PERCENT else 'FAILS'}: "
                     f"{board} would fill the budget at a {least_ms} ms period, so they use "
                     f"{used_percent:.1f} % of it: headroom {headroom_percent:.1f} %"},
    }


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
    """Every figure; below 1000 samples (a smoke test) only the J-V-L sweep's heap peak is
    measured, the quickest run kind."""
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
        **heap_figures(tuple(RUNS) if samples >= 1000 else ("jvl",)),
        **physics_figures(),
        **budget_figures(),
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:40s} {figure['value']:12.4g} {figure['unit']}")
