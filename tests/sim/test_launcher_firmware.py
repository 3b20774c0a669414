"""SimRig with the real firmware (firmware/main.py on the unix port), seen from a pyserial host."""

import json
import os
import time
from pathlib import Path

import pytest
import serial

from hil_sim.launcher import SimRig
from protocol import frame, messages, names, schema
from protocol.decoder import StreamDecoder
from tests.support.fw_harness import start_run_head
from tests.support.waiting import wait_for

CHANNEL_NAMES = [f[0] for f in schema.CHANNEL_FIELDS]

pytestmark = pytest.mark.micropython


class Host:
    """The host end of the link: pyserial on SimRig.port, frames decoded as they come."""

    def __init__(self, rig):
        self.port = serial.Serial(rig.port, timeout=0.05)
        self.decoder = StreamDecoder()
        self.seq = 0

    def close(self):
        self.port.close()

    def send(self, msg_id, values):
        self.port.write(frame.build(msg_id, self.seq, messages.pack(msg_id, values)))
        self.seq += 1

    def hello(self, session_id=0x5EED):
        self.port.write(b"\x00")
        self.send(schema.HELLO, (session_id, schema.SCHEMA_HASH, 1))

    def expect(self, accept, timeout_s=30.0, what="a frame"):
        """Fields (dict) of the first frame accept(msg_id, fields) takes, with "channels" (a
        dict per channel record) for HELLO_ACK and HEARTBEAT; fails at the deadline."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msg_id, _, body in self.decoder.feed(self.port.read(4096)):
                head, tail = messages.unpack(msg_id, body)
                fields = dict(zip(messages.field_names(msg_id), head))
                if msg_id in (schema.HELLO_ACK, schema.HEARTBEAT):
                    fields["channels"] = [dict(zip(CHANNEL_NAMES, r)) for r in tail]
                if accept(msg_id, fields):
                    return fields
        raise AssertionError(f"no {what} within {timeout_s} s")

    def expect_hello_ack(self, session_id=0x5EED):
        return self.expect(lambda m, f: m == schema.HELLO_ACK and f["session_id"] == session_id,
                           what="HELLO_ACK")

    def expect_event(self, code):
        return self.expect(lambda m, f: m == schema.EVENT and f["code"] == code,
                           what=f"EVENT {names.EVENT_NAMES[code]}")


@pytest.fixture
def host_of():
    hosts = []

    def open_host(rig):
        hosts.append(Host(rig))
        return hosts[-1]

    yield open_host
    for host in hosts:
        host.close()


def test_host_handshake_gets_hello_ack_with_the_schema_hash(host_of):
    with SimRig("G1", accel=10) as rig:
        host = host_of(rig)
        host.hello()
        ack = host.expect_hello_ack()
        assert ack["schema_hash"] == schema.SCHEMA_HASH
        assert ack["reset_cause"] == schema.RESET_POWER_ON
        assert [(c["channel"], c["state"]) for c in ack["channels"]] == [(0, schema.STATE_IDLE)]


def test_device_reset_runs_a_new_firmware_process_that_boots_again(host_of):
    with SimRig("G1", accel=10) as rig:
        host = host_of(rig)
        host.hello()
        host.expect_hello_ack()
        first_pid = rig.pid
        rig.reset()
        boot = host.expect_event(schema.EV_BOOT)
        assert rig.pid != first_pid
        assert not Path(f"/proc/{first_pid}").exists()
        assert boot["value"] == schema.RESET_SOFT
        host.hello(session_id=2)
        assert host.expect_hello_ack(session_id=2)["reset_cause"] == schema.RESET_SOFT


def test_scheduled_reset_happens_at_its_device_time(host_of):
    with SimRig("G1", accel=100, faults="reset=60s") as rig:
        host = host_of(rig)
        wait_for(lambda: rig.stats["resets"] == 1 and rig.pid, timeout_s=30,
                 what="the scheduled reset")
        assert rig.device_time_s() >= 60.0  # halted at exactly 60 s, killed there
        assert "reset at device t=60.000000 s" in rig.log_text()
        host.hello()
        assert host.expect_hello_ack()["reset_cause"] == schema.RESET_SOFT


def test_a_lit_time_reset_lands_at_that_point_of_the_run_whatever_the_idle_before(host_of):
    with SimRig("G1", accel=None, faults="reset=lit:5s") as rig:
        host = host_of(rig)
        host.hello()
        host.expect_hello_ack()
        wait_for(lambda: rig.device_time_s() > 20.0, timeout_s=30, what="an idle stretch")
        host.send(schema.START_RUN, start_run_head(setpoint_mv=10000, sample_period_ms=1000))
        wait_for(lambda: rig.stats["resets"] == 1, timeout_s=30, what="the lit-time reset")
        assert "reset at lit t=5.000000 s" in rig.log_text()
        state = json.loads(rig.state_path.read_text().split("\n")[0])
        assert state["bench"]["room_s"] == pytest.approx(5.0, abs=1e-6)  # lit 5 s, exactly
        assert state["t_us"] > 25_000_000  # after the idle stretch, in device time


def test_device_time_goes_on_from_the_state_file_after_a_reset():
    with SimRig("G1", accel=100) as rig:
        wait_for(lambda: rig.device_time_s() > 30.0, timeout_s=30, what="30 device seconds")
        rig.reset()
        wait_for(lambda: rig.stats["boots"] == 2, timeout_s=30, what="the second boot")
        assert rig.device_time_s() > 30.0  # from the state file, which said so already


def test_opening_the_interlock_reaches_the_firmware(host_of):
    with SimRig("G1", accel=10) as rig:
        host = host_of(rig)
        host.expect(lambda m, f: m == schema.HEARTBEAT and f["flags"] & schema.FLAG_INTERLOCK_OK,
                    what="a heartbeat with the interlock closed")
        rig.set_interlock(False)
        host.expect_event(schema.EV_INTERLOCK_OPEN)
        rig.set_interlock(True)
        host.expect_event(schema.EV_INTERLOCK_CLOSED)


def test_heartbeats_stop_during_a_cut_and_come_back_after_it(host_of):
    with SimRig("G1", accel=10, faults="cut=10s+1.5s") as rig:
        host = host_of(rig)
        host.expect(lambda m, f: m == schema.HEARTBEAT, what="a heartbeat before the cut")
        wait_for(lambda: rig.stats["cuts"] == 1, timeout_s=30, what="the cut")
        host.port.reset_input_buffer()
        host.expect(lambda m, f: m == schema.HEARTBEAT, what="a heartbeat after the cut")
        assert time.monotonic() >= rig.injector.cut_end_wall_s()
        assert rig.stats["up_cut_bytes"] > 0


def test_stop_kills_the_firmware_process():
    rig = SimRig("G1", accel=10).start()
    pid = wait_for(lambda: rig.pid)
    rig.stop()
    assert not os.path.exists(f"/proc/{pid}")
