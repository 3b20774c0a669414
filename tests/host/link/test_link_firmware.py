"""RigLink against the real firmware on the MicroPython unix port, behind hil_sim's pty."""

import contextlib
from typing import Any

import pytest

from hil_sim.launcher import SimRig
from host.link import Connected, DeviceEvent, Disconnected, LinkError, RigLink, SampleBatch, wire
from protocol import schema
from tests.support.rigpeer import Collector
from tests.support.waiting import wait_for

pytestmark = pytest.mark.micropython

RUN_KEY = 41
# Device seconds run `ACCEL` times faster than wall seconds.
ACCEL = 20.0


def _start_run_fields(**overrides: int) -> dict[str, int]:
    fields = dict.fromkeys((f for f in wire.model_for("START_RUN").head_names if f != "cmd_id"), 0)
    fields.update(run_key=RUN_KEY, mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=3000,
                  sample_period_ms=100, oversample=1, max_duration_s=20)
    fields.update(overrides)
    return fields


def _open(faults: str = "", **link_options: Any) -> tuple[SimRig, RigLink, Collector]:
    rig = SimRig("G1", accel=ACCEL, seed=7, faults=faults).start()
    got = Collector()
    link = RigLink("sim", rig.port, **link_options)
    link.add_listener(got)
    return rig, link, got


def _close(rig: SimRig, link: RigLink) -> None:
    link.close()
    rig.stop()


def _run_to_the_end(link: RigLink, got: Collector, **fields: int) -> int:
    """Start a run, wait for its run_stopped event; returns how many samples it produced."""
    assert link.command("START_RUN", **_start_run_fields(**fields)).raise_for_error().ok
    wait_for(lambda: [e for e in got.of(DeviceEvent)
                      if e.name == "run_stopped" and e.run_key == RUN_KEY], 60.0, "run_stopped")
    status = link.command("GET_STATUS").message
    assert status.run_key == RUN_KEY and status.state == schema.STATE_IDLE
    return status.next_seq


@pytest.fixture
def sim():
    rig, link, got = _open()
    try:
        assert link.wait_connected(15.0), rig.log_text()[-2000:]
        yield rig, link, got
    finally:
        _close(rig, link)


def test_handshake_with_the_firmware_reports_version_board_and_idle(sim):
    _rig, link, _got = sim
    snap = link.snapshot()
    assert snap["device_schema_hash"] == snap["schema_hash"]
    assert snap["firmware_version"] is not None and snap["board_id"] is not None
    assert snap["state"] == "idle"
    assert "constant_voltage" in snap["capabilities"]


def test_get_status_answers_with_the_device_state(sim):
    _rig, link, _got = sim
    reply = link.command("GET_STATUS")
    assert reply.ok and reply.message.msg_id == schema.STATUS
    assert reply.message.state == schema.STATE_IDLE


def test_firmware_heartbeats_reach_the_snapshot(sim):
    _rig, link, _got = sim
    wait_for(lambda: link.snapshot()["heartbeat_age_s"] is not None, 30, "a heartbeat")
    assert link.snapshot()["flags"]["interlock_ok"]


def test_a_constant_voltage_run_streams_every_seq_exactly_once(sim):
    _rig, link, got = sim
    produced = _run_to_the_end(link, got)
    assert produced >= 150
    wait_for(lambda: len(got.seqs(RUN_KEY)) >= produced, 30, "every sample")
    seqs = got.seqs(RUN_KEY)
    assert sorted(seqs) == list(range(produced))
    assert link.snapshot()["last_sample"]["voltage_mv"] > 2500


def test_out_of_range_start_run_is_refused_with_the_field_name(sim):
    _rig, link, _got = sim
    reply = link.command("START_RUN", **_start_run_fields(sample_period_ms=1))
    assert not reply.ok
    assert "sample_period_ms = 1" in reply.error


def test_samples_corruption_destroyed_come_back_when_asked_for(tmp_path):
    rig, link, got = _open(faults="up:corrupt=0.0005,seed=3")
    try:
        assert link.wait_connected(15.0), rig.log_text()[-2000:]
        produced = _run_to_the_end(link, got, max_duration_s=40)
        stats = link.stats()
        assert stats["crc_errors"] + stats["framing_errors"] > 0
        assert stats["gaps_detected"] > 0  # found, and left to whoever asks (the run manager)

        def everything_arrived() -> bool:
            holes = sorted(set(range(produced)) - set(got.seqs(RUN_KEY)))
            if holes:
                with contextlib.suppress(LinkError):  # a lost answer: ask again next time
                    link.command("RESEND", run_key=RUN_KEY, from_seq=holes[0],
                                 to_seq=min(holes[-1], holes[0] + 255), tries=1)
            return not holes

        wait_for(everything_arrived, 60.0, "every sample after RESENDs")
        live = [int(s) for b in got.of(SampleBatch) if not b.resent for s in b.records["seq"]]
        assert len(live) == len(set(live))  # no live sample twice
        assert link.stats()["samples_resent"] > 0
    finally:
        _close(rig, link)


def test_link_shakes_hands_again_after_a_device_reset(sim):
    rig, link, got = sim
    rig.reset()
    wait_for(lambda: [c for c in got.of(Connected) if c.device_reset], 30,
             "a Connected after the reset")
    assert link.stats()["device_resets"] >= 1
    assert link.command("GET_STATUS").ok


def test_link_reconnects_after_the_link_is_cut_for_longer_than_the_silence_timeout():
    # cut=AT+DURATION: from device second 1, for 4 wall seconds nothing passes.
    rig, link, got = _open(faults=f"cut={ACCEL:g}s+4s", silence_timeout_s=2.0)
    try:
        assert link.wait_connected(15.0), rig.log_text()[-2000:]
        wait_for(lambda: got.of(Disconnected), 30, "Disconnected during the cut")
        assert got.of(Disconnected)[0].reason.startswith("no frame from the rig")
        wait_for(lambda: len(got.of(Connected)) >= 2, 30, "a Connected after the cut")
        assert link.command("GET_STATUS").ok
    finally:
        _close(rig, link)
