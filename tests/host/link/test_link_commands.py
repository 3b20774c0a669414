"""RigLink handshake, heartbeats and commands against a scripted peer on a real socket."""
# ruff: noqa: F811  (pytest fixtures imported by name and used as arguments)

import asyncio
import itertools
import time

import pytest

from host.link import (
    CommandRefused,
    CommandTimeout,
    LinkDown,
    RigLink,
    SchemaMismatch,
)
from protocol import schema
from tests.support.rigpeer import RigPeer, connected_link
from tests.support.waiting import wait_for

FAST = {"command_timeout_s": 0.3, "command_tries": 3, "backoff_initial_s": 0.05}


@pytest.fixture
def link(peer, got):
    with connected_link(peer, got, **FAST) as lk:
        yield lk


def test_handshake_sends_a_lone_zero_then_hello_with_the_schema_hash(peer, link):
    hello = peer.sent_by_host("HELLO")[0]
    assert peer.raw[0] == 0
    assert peer.log[0].msg_id == schema.HELLO
    assert hello.schema_hash == schema.SCHEMA_HASH
    assert hello.session_id == link.session_id


def test_snapshot_shows_firmware_board_and_flags_after_handshake(peer, link):
    peer.heartbeat.update(flags=schema.FLAG_OUTPUT_ON | schema.FLAG_INTERLOCK_OK)
    wait_for(lambda: link.snapshot()["flags"], what="a heartbeat")
    snap = link.snapshot()
    assert snap["connected"] and snap["link_state"] == "connected"
    assert snap["firmware_version"] == "1.2.3"
    assert snap["board_id"] == "e6614103e7452d2f"
    assert snap["flags"] == {"output_on": True, "laser_on": False, "shutter_open": False,
                             "interlock_ok": True}


def test_a_heartbeat_without_channel_0_is_counted_bad_and_changes_nothing(peer, link):
    peer.heartbeat.update(run_key=5, state=schema.STATE_RUNNING)
    wait_for(lambda: link.snapshot()["run_key"] == "0000000000000005", 30, "a heartbeat")
    before = link.stats()["bad_bodies"]
    peer.send("HEARTBEAT", flags=0, next_event_seq=0, records=[])  # no channel at all
    peer.send("HEARTBEAT", flags=0, next_event_seq=0, records=[dict(
        channel=3, can=schema.CAN_DRIVE, state=schema.STATE_IDLE, mode=0, flags=0, run_key=9,
        next_seq=1)])  # a channel, but not 0
    wait_for(lambda: link.stats()["bad_bodies"] >= before + 2, 30, "both counted")
    assert link.snapshot()["run_key"] == "0000000000000005"


def test_host_sends_a_heartbeat_every_half_second(peer, link):
    wait_for(lambda: len(peer.times_of("HEARTBEAT")) >= 5, 30, "five heartbeats")
    times = peer.times_of("HEARTBEAT")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.3 < g < 0.8 for g in gaps), gaps
    assert 0.45 < (times[-1] - times[0]) / len(gaps) < 0.55, gaps


def test_command_returns_the_ack_for_its_cmd_id(peer, link):
    peer.handlers.append(lambda m: m.msg_id == schema.STOP_RUN and (peer.ack(m) or True))
    reply = link.command("STOP_RUN", run_key=0)
    assert reply.ok and reply.error is None and reply.tries == 1
    assert reply.message.of_msg == schema.STOP_RUN


def test_unanswered_command_is_retried_with_the_same_cmd_id(peer, link):
    seen = []

    def answer_second(m):
        if m.msg_id != schema.SET_OUTPUT:
            return False
        seen.append(m.cmd_id)
        if len(seen) == 2:
            peer.ack(m)
        return True

    peer.handlers.append(answer_second)
    reply = link.command("SET_OUTPUT", setpoint_mv=3000, enable=1)
    assert reply.ok and reply.tries == 2
    assert seen[0] == seen[1] == reply.cmd_id
    assert link.stats()["retries"] == 1


def test_command_gives_up_after_its_tries_with_a_clear_error(peer, link):
    seen = []
    peer.handlers.append(lambda m: m.msg_id == schema.SHUTTER and (seen.append(m) or True))
    with pytest.raises(CommandTimeout, match=r"no reply to SHUTTER .* after 3 tries"):
        link.command("SHUTTER", open=1, laser=0)
    assert len(seen) == 3 and len({m.cmd_id for m in seen}) == 1
    assert link.stats()["commands_failed"] == 1


def test_nack_out_of_range_names_the_field_and_value(peer, link):
    peer.handlers.append(lambda m: m.msg_id == schema.SET_OUTPUT
                         and (peer.nack(m, schema.NACK_OUT_OF_RANGE, 2) or True))
    reply = link.command("SET_OUTPUT", setpoint_mv=25000, enable=1)
    assert not reply.ok
    assert reply.error == ("SET_OUTPUT refused by the rig: out_of_range "
                           "(setpoint_mv = 25000 is outside the board's limits)")
    with pytest.raises(CommandRefused, match="setpoint_mv = 25000"):
        reply.raise_for_error()


def test_get_status_returns_the_status_and_updates_the_snapshot(peer, link):
    def status(m):
        if m.msg_id != schema.GET_STATUS:
            return False
        fields = {name: 0 for name in
                  ("channel", "state", "mode", "run_key", "next_seq", "oldest_seq", "setpoint_mv",
                   "voltage_mv", "current_na", "pd_pa", "l0_pd_pa", "temperature_cc",
                   "humidity_cpct", "flags", "stop_reason", "fault_code", "uptime_s")}
        fields.update(state=schema.STATE_RUNNING, mode=schema.MODE_SWEEP, run_key=9,
                      flags=schema.FLAG_LASER_ON)
        peer.send("STATUS", cmd_id=m.cmd_id, **fields)
        return True

    peer.handlers.append(status)
    reply = link.command("GET_STATUS")
    assert reply.ok and reply.message.run_key == 9
    snap = link.snapshot()
    assert (snap["state"], snap["mode"], snap["run_key"]) == ("running", "sweep", "0000000000000009")
    assert snap["flags"]["laser_on"]


def test_acommand_awaits_without_blocking_the_event_loop(peer, link):
    def late_ack(m):
        if m.msg_id == schema.STOP_RUN:
            peer.ack(m) if len(peer.sent_by_host("STOP_RUN")) >= 2 else None
            return True
        return False

    peer.handlers.append(late_ack)  # first try unanswered: the reply takes ~0.3 s

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        reply = await link.acommand("STOP_RUN", run_key=0)
        task.cancel()
        return reply, ticks

    reply, ticks = asyncio.run(main())
    assert reply.ok and reply.tries == 2
    # The ticker ran while the reply was awaited: a blocked loop would give it one tick
    # (however fast or busy the machine, the wait spans a retry of 0.3 s).
    assert ticks >= 3


def test_invalid_field_values_are_refused_before_sending(peer, link):
    with pytest.raises(ValueError, match="setpoint_mv"):
        link.command("SET_OUTPUT", setpoint_mv=70000, enable=1)
    assert not peer.sent_by_host("SET_OUTPUT")


def test_schema_mismatch_stops_the_link_naming_both_hashes():
    peer = RigPeer(schema_hash=0x12345678)
    link = RigLink("rig1", peer.url, **FAST)
    try:
        submitted = link.submit("GET_STATUS", wait_s=30.0)
        wait_for(lambda: link.state == "schema_mismatch", what="schema_mismatch")
        detail = link.snapshot()["detail"]
        assert "12345678" in detail and f"{schema.SCHEMA_HASH:08x}" in detail
        with pytest.raises(SchemaMismatch, match="12345678"):
            submitted.result(timeout=60)
        with pytest.raises(SchemaMismatch):
            link.command("GET_STATUS")
        assert [m.msg_id for m in peer.log] == [schema.HELLO]
    finally:
        link.close()
        peer.close()


def test_command_without_a_rig_raises_link_down_in_time():
    peer = RigPeer()
    url = peer.url
    peer.close()  # nothing listens there any more
    with RigLink("rig1", url, **FAST) as link:
        start = time.monotonic()
        with pytest.raises(LinkDown, match="not connected within 0.5 s"):
            link.command("GET_STATUS", wait_s=0.5)
        assert time.monotonic() - start < 1.5
        assert "cannot open" in link.snapshot()["detail"]
