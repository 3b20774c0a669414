"""Reaction time of every device safety path, in experiment time and in loop passes.

tests/firmware/test_fw_safety.py proves that each path ends safe; here each path is timed. On CPython
(tests/support/fw_harness) a probe stamps every write to the relay, laser and shutter pins and to
the DAC with the experiment clock and the loop pass it happened in, so a reaction is the
time from the trigger to the last output reaching its safe level. Under the real MicroPython
VM (hil_sim.launcher.SimRig) the unchanged firmware/main.py runs behind a pty on a watched
board (PROBE_MAIN): the interlock opens during a photostability run with the laser on, the
host falls silent, a reset hits a run with the output on, and the host watches the device's
events and STATUS flags while the probe times the pins.

Each test prints its figures on one `reaction ...` line (pytest -s shows them).
"""

import time

import pytest

from hil_sim.launcher import SimRig
from lumenfw import board_config
from protocol import messages, schema
from tests.support.fw_harness import Bed, start_run_head
from tests.support.ptyhost import PtyHost

CLOSED = 1
OPEN = 0
SAMPLE_PERIOD_MS = 100
_EVENT_VALUE = messages.field_names(schema.EVENT).index("value")
_EVENT_T_S = messages.field_names(schema.EVENT).index("t_s")  # t_us follows
_CHANNEL_STATE = [f[0] for f in schema.CHANNEL_FIELDS].index("state")
_CHANNEL_FLAGS = [f[0] for f in schema.CHANNEL_FIELDS].index("flags")


class Probe:
    """Stamps output writes and loop passes on a SimBoard, from power-up on.

    install(board) is a Bed's before_device hook: the firmware is built on the watched pins.
    Each write is kept as (output, safe, pass index, experiment us, link ms).
    """

    def __init__(self):
        self.board = None
        self.passes = 0
        self.writes = []

    def install(self, board):
        self.board = board
        closed_level = 1 - board.config.SHUTTER_OPEN_LEVEL
        board.relay = _WatchedPin(board.relay, self, "relay", 0)
        board.laser = _WatchedPin(board.laser, self, "laser", 0)
        board.shutter = _WatchedPin(board.shutter, self, "shutter", closed_level)
        dac = board.dac
        write = dac.write

        def watched_write(buf):
            write(buf)
            self.stamp("dac", dac.code == 0)
        dac.write = watched_write
        feed = board.feed_watchdog

        def counted_feed():  # the first thing of every loop pass
            self.passes += 1
            feed()
        board.feed_watchdog = counted_feed

    def now_us(self):
        return self.board.clock.now_us()

    def stamp(self, output, safe):
        self.writes.append((output, safe, self.passes, self.now_us(), self.board.link_ms()))

    def unsafe_outputs(self):
        board = self.board
        closed_level = 1 - board.config.SHUTTER_OPEN_LEVEL
        levels = {"relay": board.relay.value() == 0, "laser": board.laser.value() == 0,
                  "shutter": board.shutter.value() == closed_level, "dac": board.dac.code == 0}
        return {name for name, safe in levels.items() if not safe}

    def safe_at(self, outputs, since_us):
        """(pass, experiment us, link ms) of the last of `outputs` to be written safe at or
        after since_us, each counted at its first safe write."""
        firsts = {}
        for output, safe, pass_index, t_us, t_ms in self.writes:
            if safe and output in outputs and output not in firsts and t_us >= since_us:
                firsts[output] = (pass_index, t_us, t_ms)
        assert set(firsts) == set(outputs), f"never made safe: {set(outputs) - set(firsts)}"
        return max(firsts.values(), key=lambda f: f[1])


class _WatchedPin:
    def __init__(self, pin, probe, name, safe_level):
        self.pin = pin
        self.probe = probe
        self.name = name
        self.safe_level = safe_level

    def value(self, v=None):
        if v is None:
            return self.pin.value()
        self.pin.value(v)
        self.probe.stamp(self.name, (1 if v else 0) == self.safe_level)
        return None


def _bed(preset="G1", interlock=None):
    """A rig at accel 1 (one experiment us per wall us: the finest timing) with a probe."""
    probe = Probe()
    bed = Bed(preset=preset, accel=1, interlock=interlock, before_device=probe.install)
    bed.hello()
    return bed, probe


def _running(bed, **fields):
    program = {"setpoint_mv": 10000, "sample_period_ms": SAMPLE_PERIOD_MS, **fields}
    assert bed.start_run(**program)[0] == schema.ACK
    bed.run_until(lambda: bed.ctrl.next_seq >= 3, what="3 samples")


def _photostability(bed):
    _running(bed, mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0, compliance_na=0, laser=1,
             pl_interval_s=60, max_duration_s=600)


def _report(path, passes, reaction_us, **more):
    extra = "".join(f", {k} {v}" for k, v in more.items())
    print(f"\nreaction {path}: {passes} pass(es), {reaction_us / 1000:.3f} ms of experiment "
          f"time{extra}")


def _stop_reason(bed):
    return [v for c, v, _, _ in bed.events() if c == schema.EV_SAFE_STOP]


class _InterlockOpeningAfterACheck:
    """An interlock loop that opens just after the firmware has read it closed, once armed:
    the worst moment, since the opening waits a whole pass to be seen."""

    def __init__(self):
        self.probe = None
        self.armed = False
        self.level = CLOSED
        self.opened_at = None  # (pass, experiment us)

    def value(self, v=None):
        level = self.level
        if self.armed and self.opened_at is None:
            self.level = OPEN
            self.opened_at = (self.probe.passes, self.probe.now_us())
        return level


@pytest.mark.parametrize("run", ["constant_voltage", "photostability"])
def test_interlock_open_makes_every_output_safe_in_the_next_pass(run):
    interlock = _InterlockOpeningAfterACheck()
    bed, probe = _bed("G1" if run == "constant_voltage" else "film", interlock)
    interlock.probe = probe
    if run == "constant_voltage":
        _running(bed)
    else:
        _photostability(bed)
    on = probe.unsafe_outputs()
    assert on == ({"relay", "dac"} if run == "constant_voltage" else {"laser", "shutter"})
    interlock.armed = True
    bed.step(2)
    opened_pass, opened_us = interlock.opened_at
    safe_pass, safe_us, _ = probe.safe_at(on, opened_us)
    assert probe.unsafe_outputs() == set()
    assert bed.board.source.dut_voltage_v() == 0.0  # relay open: nothing at the DUT
    assert safe_pass - opened_pass == 1  # the very next pass
    assert safe_us - opened_us < SAMPLE_PERIOD_MS * 1000
    assert _stop_reason(bed) == [schema.STOP_INTERLOCK]
    figures = {}
    if run == "photostability":  # the drive is off at once; the blade takes its travel time
        # (read on the board 60 ms after the drive went closed, not at the rig's next pass:
        # an idle rig wakes for the link, not for a switch it no longer waits on)
        bed.board.sleep_us(safe_us + 60_000 - probe.now_us())
        assert bed.board.shutter_closed.value() == 1
    _report(f"interlock ({run})", safe_pass - opened_pass, safe_us - opened_us, **figures)


COMPLIANCE_NA = 500_000
OVERSHOOT_BOUND = 1.10  # the bound: at most 10 % over the compliance, ever


def _peak_until_stopped(bed, probe, limit_us=30_000_000):
    """Step the rig until the run stops; the highest true DUT current seen at any pass
    (the bench's, not a reading) and (pass, experiment us) when it first reached the
    compliance."""
    source = bed.board.source
    peak_na = 0.0
    crossed = None
    while bed.ctrl.state == schema.STATE_RUNNING:
        current_na = source.dut_current_a() * 1e9
        peak_na = max(peak_na, current_na)
        if crossed is None and current_na >= COMPLIANCE_NA:
            crossed = (probe.passes, probe.now_us())
        assert probe.now_us() < limit_us, "compliance never tripped"
        bed.step()
    return peak_na, crossed


@pytest.mark.parametrize("setpoint_mv", [12_500, 14_000, 17_000, 19_995])
def test_compliance_holds_within_10_percent_at_any_step(setpoint_mv):
    """The output switched on at any setpoint the API allows, far over what the compliance
    lets through (G1 draws 500 uA at about 12.1 V, 2.1 mA at 20 V): the setpoint climbs
    (lumenfw/climb.py), the current never passes the compliance by more than 10 %, and
    the trip comes through the INA226's ALERT or the climb's own reading."""
    bed, probe = _bed()
    bed.board.clock.accel = None  # (timing comes from the device clock alone)
    assert bed.start_run(setpoint_mv=setpoint_mv, compliance_na=COMPLIANCE_NA,
                         sample_period_ms=SAMPLE_PERIOD_MS)[0] == schema.ACK
    peak_na, crossed = _peak_until_stopped(bed, probe)
    assert _stop_reason(bed) == [schema.STOP_COMPLIANCE]
    tripped_na = [v for c, v, _, _ in bed.events() if c == schema.EV_COMPLIANCE]
    assert peak_na <= COMPLIANCE_NA * OVERSHOOT_BOUND
    assert COMPLIANCE_NA <= tripped_na[0] <= COMPLIANCE_NA * OVERSHOOT_BOUND
    safe_pass, safe_us, _ = probe.safe_at({"relay", "dac"}, crossed[1])
    assert safe_us - crossed[1] < board_config.INA226_PERIOD_US * 3
    _report(f"compliance from 0 to {setpoint_mv} mV", safe_pass - crossed[0],
            safe_us - crossed[1], peak_ua=round(peak_na / 1000, 1),
            current_read_at_trip_ua=tripped_na[0] / 1000, compliance_ua=COMPLIANCE_NA / 1000)


def test_compliance_holds_within_10_percent_on_the_largest_sweep_step():
    """A J-V-L sweep whose one step goes from 2 V to 20 V (step_v may be as large as the
    supply's range)."""
    bed, probe = _bed()
    bed.board.clock.accel = None
    assert bed.start_run(mode=schema.MODE_SWEEP, setpoint_mv=2_000, stop_mv=19_995,
                         step_mv=17_995, dwell_ms=200, compliance_na=COMPLIANCE_NA,
                         sample_period_ms=SAMPLE_PERIOD_MS)[0] == schema.ACK
    peak_na, _ = _peak_until_stopped(bed, probe)
    assert _stop_reason(bed) == [schema.STOP_COMPLIANCE]
    assert peak_na <= COMPLIANCE_NA * OVERSHOOT_BOUND


def test_host_silent_longer_than_the_grace_stops_safely_in_the_pass_that_sees_it():
    bed, probe = _bed()
    grace_ms = 1000
    _running(bed, host_loss_grace_ms=grace_ms)  # START_RUN is the host's last frame
    link = bed.device.link
    expired_ms = link.last_host_ms + grace_ms
    since_us = probe.now_us()
    first_late_pass = None  # the first pass that starts with the grace used up
    while bed.board.relay.value() == 1:
        if first_late_pass is None and bed.board.link_ms() >= expired_ms:
            first_late_pass = probe.passes + 1, probe.now_us()
        assert bed.board.link_ms() < expired_ms + 2000, "the host-lost stop never came"
        bed.step()
    safe_pass, safe_us, safe_ms = probe.safe_at({"relay", "dac"}, since_us)
    assert first_late_pass is not None and safe_pass == first_late_pass[0]
    assert 0 <= safe_ms - expired_ms < SAMPLE_PERIOD_MS  # link (wall) ms past the grace
    assert _stop_reason(bed) == [schema.STOP_HOST_LOST]
    _report("host lost", 0, max(0, safe_us - first_late_pass[1]),
            link_ms_past_grace=safe_ms - expired_ms)


class _FailingInterlock:
    """An interlock input whose read raises once armed; stamps the experiment time of the
    first raise."""

    def __init__(self):
        self.probe = None
        self.armed = False
        self.raised_at = None

    def value(self, v=None):
        if self.armed:
            if self.raised_at is None:
                self.raised_at = (self.probe.passes, self.probe.now_us())
            raise RuntimeError("interlock input unreadable")
        return CLOSED


def test_an_exception_in_the_loop_leaves_the_outputs_safe_in_the_same_pass():
    pin = _FailingInterlock()
    bed, probe = _bed(interlock=pin)
    pin.probe = probe
    _running(bed)
    pin.armed = True
    bed.step()
    raised_pass, raised_us = pin.raised_at
    safe_pass, safe_us, _ = probe.safe_at({"relay", "dac"}, raised_us)
    assert probe.unsafe_outputs() == set() and bed.ctrl.state == schema.STATE_FAULT
    assert safe_pass == raised_pass
    assert safe_us - raised_us < SAMPLE_PERIOD_MS * 1000
    assert _stop_reason(bed) == [schema.STOP_EXCEPTION]
    _report("exception", safe_pass - raised_pass, safe_us - raised_us)


# ---- under the real MicroPython VM: the unchanged firmware/main.py behind a pty ----------

# Runs firmware/main.py on the simulated board with its outputs, interlock and loop passes
# watched; reports on stderr (the launcher's log) as `PROBE <what> key=value ...`. With
# LUMENRIG_PROBE_OUTPUTS_ON=1 every boot starts with the outputs on (relay, laser, shutter
# open, DAC at mid-scale), as if the pins had come up wrong: the firmware must fix them
# before its first byte.
PROBE_MAIN = r'''
import os
import sys

from hil_sim import board as sim_board

_build = sim_board.build_from_env


class Watch:
    def __init__(self, board):
        self.board = board
        self.passes = 0
        self.first_pass_us = None
        self.bytes_written = 0
        self.built_us = board.clock.now_us()
        self.safe_us = None
        self.pins_safe_us = None
        self.open_seen = None
        self.open_reported = False

    def now(self):
        return self.board.clock.now_us()

    def pins_safe(self):
        b = self.board
        return (b.relay.value() == 0 and b.laser.value() == 0
                and b.shutter.value() == 1 - b.config.SHUTTER_OPEN_LEVEL)

    def outputs_safe(self):
        return self.pins_safe() and self.board.dac.code == 0

    def wrote_output(self):
        if self.pins_safe():
            if self.pins_safe_us is None:
                self.pins_safe_us = self.now()
        else:
            self.pins_safe_us = None
        if self.outputs_safe():
            if self.safe_us is None:
                self.safe_us = self.now()
            if self.open_seen is not None and not self.open_reported:
                self.open_reported = True
                seen_pass, seen_us = self.open_seen
                sys.stderr.write("PROBE interlock seen_pass=%d seen_us=%d safe_pass=%d "
                                 "safe_us=%d pass_us=%d\n" % (
                                     seen_pass, seen_us, self.passes, self.now(),
                                     (seen_us - self.first_pass_us) // max(1, seen_pass - 1)))
        else:
            self.safe_us = None


class WatchedPin:
    def __init__(self, pin, watch):
        self.pin = pin
        self.watch = watch

    def value(self, v=None):
        if v is None:
            return self.pin.value()
        self.pin.value(v)
        self.watch.wrote_output()


class WatchedInterlock:
    def __init__(self, pin, watch):
        self.pin = pin
        self.watch = watch

    def value(self, v=None):
        level = self.pin.value()
        if level == 0 and self.watch.open_seen is None:
            self.watch.open_seen = (self.watch.passes, self.watch.now())
        return level


def build():
    board = _build()
    if os.getenv("LUMENRIG_PROBE_OUTPUTS_ON") == "1":
        board.relay.value(1)
        board.laser.value(1)
        board.shutter.value(board.config.SHUTTER_OPEN_LEVEL)
        board.i2c.writeto(board.config.ADDR_DAC, bytes((0x08, 0x00)))  # code 2048
    watch = Watch(board)
    board.relay = WatchedPin(board.relay, watch)
    board.laser = WatchedPin(board.laser, watch)
    board.shutter = WatchedPin(board.shutter, watch)
    board.interlock = WatchedInterlock(board.interlock, watch)
    dac = board.dac
    dac_write = dac.write

    def watched_dac_write(buf):
        dac_write(buf)
        watch.wrote_output()
    dac.write = watched_dac_write
    link_write = board.write

    def watched_link_write(buf, n):
        if watch.bytes_written == 0:
            sys.stderr.write("PROBE boot outputs_safe=%d first_byte=%d built_us=%d "
                             "pins_safe_us=%d safe_us=%d first_byte_us=%d\n" % (
                                 watch.outputs_safe(), buf[0], watch.built_us,
                                 -1 if watch.pins_safe_us is None else watch.pins_safe_us,
                                 -1 if watch.safe_us is None else watch.safe_us, watch.now()))
        watch.bytes_written += n
        link_write(buf, n)
    board.write = watched_link_write
    feed = board.feed_watchdog

    def counted_feed():
        watch.passes += 1
        if watch.first_pass_us is None:
            watch.first_pass_us = watch.now()
        feed()
    board.feed_watchdog = counted_feed
    return board


sim_board.build_from_env = build
from hil_sim import unix_main  # noqa: E402 - builds the board through build()

unix_main.main()  # firmware/main.py's loop on that board
'''


def _probe_lines(rig, what):
    """The probe's `PROBE what k=v ...` lines, as dicts of ints, oldest first."""
    out = []
    for line in rig.log_text().splitlines():
        if line.startswith(f"PROBE {what} "):
            out.append({k: int(v) for k, v in (kv.split("=") for kv in line.split()[2:])})
    return out


@pytest.fixture
def probe_script(tmp_path):
    path = tmp_path / "probe_main.py"
    path.write_text(PROBE_MAIN)
    return path


def _session(host):
    host.wait(lambda m, h: m == schema.HEARTBEAT, what="a heartbeat")
    host.port.write(b"\x00")
    host.send(schema.HELLO, (0xC0FFEE, schema.SCHEMA_HASH, 1))
    host.wait(lambda m, h: m == schema.HELLO_ACK, what="HELLO_ACK")


def _status(host, cmd_id):
    host.send(schema.GET_STATUS, (cmd_id, 0))
    head = host.wait(lambda m, h: m == schema.STATUS and h[0] == cmd_id, what="STATUS")[2]
    return dict(zip(messages.field_names(schema.STATUS), head))


def _device_events(host, run_key=None):
    """(code, value, t_us of the run clock) of every EVENT so far."""
    return [(h[1], h[_EVENT_VALUE], h[_EVENT_T_S] * 1_000_000 + h[_EVENT_T_S + 1])
            for _, m, h, _ in host.frames()[0]
            if m == schema.EVENT and (run_key is None or h[2] == run_key)]


def _samples(host, run_key):
    """Every sample of the run so far, as a dict by schema field name."""
    return [dict(zip(schema.SAMPLE_NAMES, r)) for _, m, h, tail in host.frames()[0]
            if m == schema.SAMPLE_BATCH and h[0] == run_key for r in tail]


@pytest.mark.micropython
def test_interlock_opened_on_the_vm_stops_a_lit_photostability_run_in_the_pass_that_reads_it(
        probe_script):

    run_key = 71
    with SimRig("film", accel=1, script=probe_script) as rig:
        host = PtyHost(rig.port)
        try:
            _session(host)
            host.send(schema.START_RUN, start_run_head(
                cmd_id=1, run_key=run_key, mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0,
                compliance_na=0, laser=1, pl_interval_s=60, max_duration_s=600,
                sample_period_ms=SAMPLE_PERIOD_MS))
            host.wait(lambda m, h: m == schema.ACK and h[0] == 1, what="the START_RUN ACK")
            lit = schema.FLAG_LASER_ON | schema.FLAG_SHUTTER_OPEN
            host.wait(lambda m, h: m == schema.SAMPLE_BATCH and h[0] == run_key
                      and _lit_samples(host, run_key, lit),
                      what="samples with the laser on and the shutter open")
            opened_wall = time.monotonic()
            rig.set_interlock(False)
            host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_INTERLOCK_OPEN,
                      what="EV_INTERLOCK_OPEN")
            event_latency_ms = (time.monotonic() - opened_wall) * 1000
            host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_SHUTTER_CLOSED,
                      what="EV_SHUTTER_CLOSED")
            status = _status(host, 2)
        finally:
            host.close()
        probe = _probe_lines(rig, "interlock")
    codes = [c for c, _, _ in _device_events(host, run_key)]
    stop = codes.index(schema.EV_INTERLOCK_OPEN)
    assert codes[stop - 1] == schema.EV_LASER_OFF  # the laser is off before the report
    assert codes[stop + 1:stop + 3] == [schema.EV_SAFE_STOP, schema.EV_RUN_STOPPED]
    stopped_us = next(t for c, _, t in _device_events(host, run_key)
                      if c == schema.EV_RUN_STOPPED)
    late_lit = [r for r in _samples(host, run_key)
                if r["t_s"] * 1_000_000 + r["t_us"] > stopped_us
                and r["flags"] & schema.FLAG_LASER_ON]
    assert late_lit == []
    assert (status["state"], status["stop_reason"]) == (schema.STATE_SAFE_STOP,
                                                        schema.STOP_INTERLOCK)
    assert status["flags"] & (schema.FLAG_LASER_ON | schema.FLAG_OUTPUT_ON
                              | schema.FLAG_SHUTTER_OPEN | schema.FLAG_INTERLOCK_OK) == 0
    assert len(probe) == 1, rig.log_text()[-2000:]
    figures = probe[0]
    assert figures["safe_pass"] == figures["seen_pass"]  # made safe in the pass that read it
    reaction_us = figures["safe_us"] - figures["seen_us"]
    assert reaction_us + figures["pass_us"] < SAMPLE_PERIOD_MS * 1000
    _report("interlock on the MicroPython VM", 0, reaction_us,
            mean_pass_ms=figures["pass_us"] / 1000,
            host_saw_event_after_ms=round(event_latency_ms, 1))


def _lit_samples(host, run_key, flags):
    return [r for r in _samples(host, run_key) if r["flags"] & flags == flags]


@pytest.mark.micropython
def test_a_reset_during_a_run_on_the_vm_comes_up_safe_before_the_first_byte(probe_script):

    run_key = 72
    with SimRig("G1", accel=1, script=probe_script,
                extra_env={"LUMENRIG_PROBE_OUTPUTS_ON": "1"}) as rig:
        host = PtyHost(rig.port)
        try:
            _session(host)
            host.send(schema.START_RUN, start_run_head(cmd_id=1, run_key=run_key,
                                                       setpoint_mv=10000, max_duration_s=600,
                                                       sample_period_ms=SAMPLE_PERIOD_MS))
            host.wait_frame(lambda m, h, t: m == schema.HEARTBEAT
                            and t[0][_CHANNEL_FLAGS] & schema.FLAG_OUTPUT_ON,
                            what="a heartbeat with the output on")
            reset_wall = time.monotonic()
            rig.reset()
            index = host.wait(
                lambda m, h: m == schema.EVENT and h[1] == schema.EV_BOOT
                and h[_EVENT_VALUE] == schema.RESET_SOFT, what="EV_BOOT after the reset")[0]
            boot_ms = (time.monotonic() - reset_wall) * 1000
            _, blocks = host.frames()
            after = host.wait_frame(lambda m, h, t: m == schema.HEARTBEAT
                                    and t[0][_CHANNEL_STATE] == schema.STATE_IDLE,
                                    what="a heartbeat after the reset")
        finally:
            host.close()
        boots = _probe_lines(rig, "boot")
    assert blocks[index - 1] == b""  # a lone 0x00, then the boot event
    assert (after[2][0] | after[3][0][_CHANNEL_FLAGS]) & (
        schema.FLAG_OUTPUT_ON | schema.FLAG_LASER_ON) == 0
    assert len(boots) == 2, boots  # the first power-up and the reset
    for boot_figures in boots:
        assert boot_figures["outputs_safe"] == 1 and boot_figures["first_byte"] == 0
        assert 0 <= boot_figures["pins_safe_us"] <= boot_figures["safe_us"]
        assert boot_figures["safe_us"] <= boot_figures["first_byte_us"]
    last = boots[-1]
    _report("reset on the MicroPython VM (relay, laser, shutter)", 0,
            last["pins_safe_us"] - last["built_us"],
            dac_zero_after_ms=(last["safe_us"] - last["built_us"]) / 1000,
            first_byte_after_safe_ms=(last["first_byte_us"] - last["safe_us"]) / 1000,
            host_saw_boot_after_ms=round(boot_ms, 1))


@pytest.mark.micropython
def test_a_silent_host_on_the_vm_stops_the_run_just_past_the_grace(probe_script):

    run_key, grace_ms = 73, 1000
    with SimRig("G1", accel=1, script=probe_script) as rig:
        host = PtyHost(rig.port)
        try:
            _session(host)
            host.send(schema.START_RUN, start_run_head(
                cmd_id=1, run_key=run_key, setpoint_mv=10000, max_duration_s=600,
                sample_period_ms=SAMPLE_PERIOD_MS, host_loss_grace_ms=grace_ms))
            host.wait(lambda m, h: m == schema.ACK and h[0] == 1, what="the START_RUN ACK")
            silent_from = time.monotonic()  # the host says nothing more
            host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_RUN_STOPPED,
                      timeout_s=30, what="EV_RUN_STOPPED")
            stop_ms = (time.monotonic() - silent_from) * 1000
            status = _status(host, 2)
        finally:
            host.close()
    events = [(c, v) for c, v, _ in _device_events(host, run_key)]
    lost = [v for c, v in events if c == schema.EV_HOST_LOST]
    assert lost and grace_ms <= lost[0] < grace_ms + 100  # link ms of silence when it acted
    assert (schema.EV_SAFE_STOP, schema.STOP_HOST_LOST) in events
    assert (status["state"], status["stop_reason"]) == (schema.STATE_SAFE_STOP,
                                                        schema.STOP_HOST_LOST)
    assert status["flags"] & schema.FLAG_OUTPUT_ON == 0
    _report("host lost on the MicroPython VM", 0, (lost[0] - grace_ms) * 1000,
            host_saw_stop_after_ms=round(stop_ms, 1))
