"""RigLink gap recovery, event gaps, reconnect and device reset, driven by a scripted peer."""
# ruff: noqa: F811  (pytest fixtures imported by name and used as arguments)

import asyncio
import itertools
import logging
import re
import time

import pytest

from host.link import (
    Connected,
    DeviceEvent,
    DeviceReset,
    Disconnected,
    EventsLost,
    GapDetected,
    RigLink,
    SampleBatch,
    wire,
)
from protocol import schema
from tests.support.rigpeer import RigPeer, connected_link
from tests.support.waiting import wait_for

FAST = {"command_timeout_s": 0.3, "backoff_initial_s": 0.05, "resend_retry_s": 0.2,
        "tail_grace_s": 0.3}
# A reconnect takes a backoff and a handshake (well under a second here); the wait for it is
# a deadline for "eventually", long enough that a loaded machine's scheduling never trips it.
RECONNECT_WAIT_S = 30.0
EVENT = {"run_key": 7, "channel": 0, "t_s": 0, "t_us": 0, "value": 0,
         "state": schema.STATE_RUNNING}


@pytest.fixture
def link(peer, got):
    with connected_link(peer, got, **FAST) as lk:
        yield lk


def test_a_gap_is_reported_and_left_to_the_run_manager(peer, link, got):
    peer.batch(7, list(range(8)))
    peer.batch(7, list(range(16, 24)))
    wait_for(lambda: len(got.seqs(7)) == 16, what="16 samples")
    assert [(g.from_seq, g.to_seq) for g in got.of(GapDetected)] == [(8, 15)]
    peer.heartbeat.update(run_key=7, next_seq=30, state=schema.STATE_RUNNING)
    time.sleep(0.5)  # several heartbeats: the link asks for nothing of its own
    assert peer.sent_by_host("RESEND") == []
    assert link.stats()["gaps_detected"] == 1


def test_live_repeats_are_dropped_and_resent_samples_pass(peer, link, got):
    peer.batch(7, list(range(8)))
    peer.batch(7, list(range(4, 12)))
    wait_for(lambda: len(got.seqs(7)) == 12, what="12 samples")
    peer.batch(7, [2, 3], resent=True)  # asked for by the run manager: it dedupes
    peer.batch(7, [12])
    wait_for(lambda: 12 in got.seqs(7), what="seq 12")
    assert got.seqs(7) == list(range(12)) + [2, 3, 12]
    assert link.stats()["duplicate_samples"] == 6


def test_start_run_makes_the_link_expect_seq_zero(peer, link, got):
    peer.handlers.append(lambda m: m.msg_id == schema.START_RUN and (peer.ack(m) or True))
    fields = {name: 0 for name in link_fields("START_RUN")}
    fields.update(run_key=12, mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=3000,
                  sample_period_ms=10, oversample=1, compliance_na=1_000_000)
    assert link.command("START_RUN", **fields).ok
    peer.batch(12, list(range(8, 16)))  # the first batch got lost on the way
    wait_for(lambda: got.of(GapDetected), what="the gap")
    assert [(g.run_key, g.from_seq, g.to_seq) for g in got.of(GapDetected)] == [(12, 0, 7)]


def link_fields(name):
    from host.link import wire
    return [f for f in wire.model_for(name).head_names if f != "cmd_id"]


def test_an_event_gap_is_filled_by_resend_events(peer, link, got):
    def resend_events(m):
        if m.msg_id != schema.RESEND_EVENTS:
            return False
        for seq in range(m.from_event_seq, 3):
            peer.send("EVENT", event_seq=seq, code=schema.EV_OUTPUT_ON, **EVENT)
        peer.ack(m)
        return True

    peer.handlers.append(resend_events)
    peer.send("EVENT", event_seq=0, code=schema.EV_RUN_STARTED, **EVENT)
    peer.send("EVENT", event_seq=3, code=schema.EV_RUN_STOPPED, **EVENT)
    wait_for(lambda: len(got.of(DeviceEvent)) == 4, what="4 events")
    events = got.of(DeviceEvent)
    assert sorted(e.event_seq for e in events) == [0, 1, 2, 3]
    assert [e.recovered for e in events if e.event_seq in (1, 2)] == [True, True]
    assert peer.sent_by_host("RESEND_EVENTS")[0].from_event_seq == 1
    assert events[0].name == "run_started"


def test_events_the_rig_cannot_resend_are_reported_lost(peer, link, got):
    peer.handlers.append(lambda m: m.msg_id == schema.RESEND_EVENTS and (peer.ack(m) or True))
    peer.send("EVENT", event_seq=0, code=schema.EV_STATE, **EVENT)
    peer.send("EVENT", event_seq=2, code=schema.EV_STATE, **EVENT)
    wait_for(lambda: got.of(EventsLost), 30, "EventsLost")
    assert got.of(EventsLost)[0].event_seqs == (1,)


def test_link_reconnects_after_the_port_vanishes(peer, link, got):
    session = peer.sent_by_host("HELLO")[0].session_id
    peer.drop_connection()
    wait_for(lambda: got.of(Disconnected), what="Disconnected",
             timeout_s=RECONNECT_WAIT_S)
    wait_for(lambda: len(got.of(Connected)) == 2, what="a second Connected",
             timeout_s=RECONNECT_WAIT_S)
    hellos = peer.sent_by_host("HELLO")
    assert len(hellos) == 2 and hellos[1].session_id == session
    assert peer.connections == 2
    assert link.stats()["reconnects"] == 1
    assert not got.of(Connected)[1].device_reset


def test_a_command_queued_while_down_goes_out_after_reconnect(peer, link, got):
    peer.handlers.append(lambda m: m.msg_id == schema.STOP_RUN and (peer.ack(m) or True))
    peer.drop_connection()
    wait_for(lambda: not link.connected, what="the link to notice",
             timeout_s=RECONNECT_WAIT_S)
    assert link.command("STOP_RUN", run_key=0, wait_s=5.0).ok


def test_a_boot_event_makes_the_link_shake_hands_again(peer, link, got):
    peer.send("EVENT", event_seq=0, code=schema.EV_BOOT, run_key=0,
              channel=schema.CHANNEL_RIG, t_s=0, t_us=0,
              value=schema.RESET_WATCHDOG, state=schema.STATE_IDLE)
    wait_for(lambda: len(peer.sent_by_host("HELLO")) == 2, what="a second HELLO",
             timeout_s=RECONNECT_WAIT_S)
    wait_for(lambda: len(got.of(Connected)) == 2, what="a second Connected",
             timeout_s=RECONNECT_WAIT_S)
    assert link.stats()["device_resets"] == 1
    assert got.of(DeviceEvent)[0].name == "boot"


def test_a_reset_while_away_is_seen_in_hello_ack_and_its_events_fetched(peer, link, got):
    def resend_events(m):
        if m.msg_id != schema.RESEND_EVENTS:
            return False
        for seq in range(m.from_event_seq, 2):
            peer.send("EVENT", event_seq=seq, code=(schema.EV_BOOT, schema.EV_STATE)[seq],
                      **EVENT)
        peer.ack(m)
        return True

    peer.send("EVENT", event_seq=40, code=schema.EV_STATE, **EVENT)
    wait_for(lambda: got.of(DeviceEvent), what="event 40")
    peer.handlers.append(resend_events)
    peer.hello.update(reset_cause=schema.RESET_WATCHDOG, next_event_seq=2)
    peer.drop_connection()
    wait_for(lambda: len(got.of(Connected)) == 2, what="a second Connected",
             timeout_s=RECONNECT_WAIT_S)
    assert got.of(Connected)[1].device_reset
    wait_for(lambda: len(got.of(DeviceEvent)) == 3, what="the events since boot")
    assert [e.name for e in got.of(DeviceEvent)[1:]] == ["boot", "state"]


def test_nack_no_session_reshakes_hands_and_retries_the_same_cmd_id(peer, link, got):
    seen = []

    def forgetful(m):
        if m.msg_id != schema.STOP_RUN:
            return False
        seen.append(m.cmd_id)
        if len(seen) == 1:
            peer.nack(m, schema.NACK_NO_SESSION)
        else:
            peer.ack(m)
        return True

    peer.handlers.append(forgetful)
    reply = link.command("STOP_RUN", run_key=0)
    assert reply.ok and seen[0] == seen[1]
    assert len(peer.sent_by_host("HELLO")) == 2


def test_a_command_in_flight_across_a_reset_is_failed_not_carried_out_again(peer, link, got):
    """A START_RUN whose answer is lost, then the rig resets: the board may have started the
    run before its reset, and the same START_RUN sent to the board that came back would
    start it over from its first sample (a stored run mixed with a second one under the same
    seqs). It fails with DeviceReset and never reaches the new boot."""
    starts = []

    def unanswered(m):
        if m.msg_id != schema.START_RUN:
            return False
        starts.append(peer.connections)
        return True

    peer.handlers.append(unanswered)
    fields = dict.fromkeys(wire.model_for("START_RUN").head_names[1:], 0)
    fields.update(run_key=7, mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=3000,
                  sample_period_ms=100)
    future = link.submit("START_RUN", timeout_s=5.0, tries=3, **fields)
    wait_for(lambda: starts, what="the START_RUN")
    peer.hello.update(reset_cause=schema.RESET_WATCHDOG)
    peer.drop_connection()
    with pytest.raises(DeviceReset, match="was not sent again"):
        future.result(timeout=RECONNECT_WAIT_S)
    wait_for(lambda: len(got.of(Connected)) == 2, what="the second Connected",
             timeout_s=RECONNECT_WAIT_S)
    assert got.of(Connected)[1].device_reset
    time.sleep(1.0)  # (a START_RUN sent again would come within a command timeout)
    assert starts == [1], "nothing reached the board that came back"


def test_silence_from_the_rig_drops_and_reopens_the_link(got):
    peer = RigPeer(heartbeat_period_s=0)
    try:
        with RigLink("rig1", peer.url, silence_timeout_s=0.5, **FAST) as link:
            link.add_listener(got)
            assert link.wait_connected(5.0)
            wait_for(lambda: got.of(Disconnected), 30, "Disconnected")
            assert got.of(Disconnected)[0].reason.startswith("no frame from the rig for 0.5")
            wait_for(lambda: peer.connections >= 2, 30, "a reconnect")
    finally:
        peer.close()


def test_corrupt_frames_are_counted_and_skipped(peer, link, got):
    peer.send_raw(b"\x00\x05\x01\x02\x03\x04\x05\x06\x00")  # a frame with a bad CRC
    peer.batch(7, [0])
    wait_for(lambda: got.seqs(7) == [0], what="the good frame")
    assert link.stats()["crc_errors"] + link.stats()["framing_errors"] == 1


def test_async_queue_delivers_samples_to_the_event_loop(peer, link):
    async def main():
        q = link.async_queue()
        peer.batch(9, [0, 1, 2])
        while True:
            item = await asyncio.wait_for(q.get(), 30)
            if isinstance(item, SampleBatch):
                return item

    batch = asyncio.run(main())
    assert (batch.run_key, batch.records["seq"].tolist(), batch.resent) == (9, [0, 1, 2], False)


def test_stats_have_every_counter_the_api_shows(link):
    stats = link.stats()
    for key in ("frames", "bytes", "crc_errors", "framing_errors", "other_drops",
                "gaps_detected", "samples_resent", "duplicate_samples", "retries", "reconnects",
                "last_frame_age_s"):
        assert key in stats
    assert stats["frames"] >= 1 and stats["last_frame_age_s"] is not None


def test_forty_thousand_samples_in_order_arrive_whole_and_without_gaps(peer, link, got):
    # (How fast they stream through is a bench figure: bench/bench_link.py.)
    from protocol import frame
    from tests.support.rigpeer import batch_body
    batches = 5000
    blob = b"".join(frame.build(schema.SAMPLE_BATCH, i & 0xFFFF,
                                batch_body(3, list(range(i * 8, i * 8 + 8))))
                    for i in range(batches))
    peer.send_raw(blob)
    wait_for(lambda: link.stats()["samples_received"] == batches * 8, 120.0, "every sample")
    assert link.stats()["gaps_detected"] == 0


def test_reconnect_attempts_back_off_exponentially_up_to_the_cap(caplog):
    import socket
    import threading

    caplog.set_level(logging.INFO, logger="host.link.session")

    server = socket.create_server(("127.0.0.1", 0))
    attempts: list[float] = []

    def refuse_every_session():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            attempts.append(time.monotonic())
            conn.close()

    threading.Thread(target=refuse_every_session, daemon=True).start()
    url = f"socket://127.0.0.1:{server.getsockname()[1]}"
    try:
        with RigLink("rig1", url, backoff_initial_s=0.1, backoff_max_s=0.4):
            wait_for(lambda: len(attempts) >= 6, 30, "six attempts")
    finally:
        server.shutdown(socket.SHUT_RDWR)
        server.close()
    # The back-off the link chose each time (its log), and each wait lasted at least that
    # (pyserial's socket close adds 0.3 s to every cycle; a busy machine adds more).
    chosen = [float(s) for s in re.findall(r"retrying in ([\d.]+) s", caplog.text)]
    assert chosen[:5] == [0.1, 0.2, 0.4, 0.4, 0.4]
    waits = [b - a for a, b in itertools.pairwise(attempts)]
    assert all(wait >= backoff for wait, backoff in zip(waits, chosen))
