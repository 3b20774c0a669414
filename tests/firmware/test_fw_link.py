"""The device end of the link on the simulated board: handshake, replies, resends, heartbeats."""

import time

import pytest

from protocol import messages, schema
from tests.support.fw_harness import Bed, start_run_head

FIELDS = messages.field_names(schema.START_RUN)


@pytest.fixture
def bed():
    bed = Bed(accel=1000)
    bed.hello()
    return bed


def _nack(reply):
    msg_id, head = reply
    assert msg_id == schema.NACK, reply
    return dict(zip(messages.field_names(schema.NACK), head))


def test_boot_writes_a_delimiter_then_the_boot_event_then_heartbeats():
    bed = Bed(accel=1000)
    assert bytes(bed.link.wire.data[:1]) == b"\x00"
    first = bed.messages[0]
    assert first[0] == schema.EVENT
    assert (first[1][0], first[1][1], first[1][5]) == (0, schema.EV_BOOT,
                                                       schema.RESET_POWER_ON)
    assert bed.messages[1][0] == schema.HEARTBEAT


def test_heartbeats_come_every_500_ms_of_link_time_without_a_host():
    start = time.monotonic()
    bed = Bed(accel=1000)
    bed.run_until(lambda: len(bed.of(schema.HEARTBEAT)) >= 4, timeout_s=30,
                  what="4 heartbeats")
    elapsed = time.monotonic() - start
    # Three intervals of 500 ms after the boot heartbeat: never sooner. (How much later
    # depends on how busy the machine is, so no upper bound here.)
    assert elapsed >= 1.5 - 0.01


def test_commands_before_hello_get_no_session():
    bed = Bed(accel=1000)
    assert _nack(bed.command(schema.GET_STATUS, (0,)))["code"] == schema.NACK_NO_SESSION
    reply = bed.start_run()
    assert _nack(reply)["code"] == schema.NACK_NO_SESSION
    assert bed.ctrl.state == schema.STATE_IDLE


def test_hello_with_another_schema_hash_is_answered_but_opens_no_session():
    bed = Bed(accel=1000)
    ack = bed.hello(schema_hash=schema.SCHEMA_HASH ^ 1)
    assert ack[1] == schema.SCHEMA_HASH
    assert _nack(bed.command(schema.GET_STATUS, (0,)))["code"] == schema.NACK_NO_SESSION


def test_hello_ack_reports_identity_state_and_sequence_numbers(bed):
    bed.start_run(sample_period_ms=100)
    bed.run_until(lambda: bed.ctrl.next_seq >= 3, what="3 samples")
    head, [channel] = bed.hello_ack(session_id=99)
    ack = dict(zip(messages.field_names(schema.HELLO_ACK), head))
    assert ack["session_id"] == 99 and ack["schema_hash"] == schema.SCHEMA_HASH
    assert ack["board_id"] == bed.board.board_id and ack["reset_cause"] == schema.RESET_POWER_ON
    assert ack["capabilities"] & schema.CAP_PHOTOSTABILITY
    assert (channel["channel"], channel["state"], channel["mode"], channel["run_key"]) == (
        0, schema.STATE_RUNNING, schema.MODE_CONSTANT_VOLTAGE, 42)
    assert channel["next_seq"] >= 3 and ack["next_event_seq"] == bed.device.events.next_event_seq
    assert channel["can"] == schema.CAN_DRIVE | schema.CAN_PHOTODIODE | schema.CAN_LASER


def test_repeated_cmd_id_runs_once_and_gets_the_same_reply(bed):
    head = start_run_head(cmd_id=500, run_key=7)
    first = bed.command_head(schema.START_RUN, head)
    second = bed.command_head(schema.START_RUN, head)
    assert first == second == (schema.ACK, (500, schema.START_RUN))
    assert bed.event_codes().count(schema.EV_RUN_STARTED) == 1
    assert bed.device.link.commands_executed == 1


def test_repeated_cmd_id_gets_the_cached_reply_even_when_the_state_changed(bed):
    first = bed.command(schema.GET_STATUS, (0,), cmd_id=600)
    bed.start_run()
    again = bed.command(schema.GET_STATUS, (0,), cmd_id=600)
    assert again == first and again[1][1] == schema.STATE_IDLE


def test_the_same_cmd_id_on_another_command_is_a_new_command(bed):
    assert bed.command(schema.STOP_RUN, (0, 0), cmd_id=650)[0] == schema.ACK
    msg_id, head = bed.command(schema.GET_STATUS, (0,), cmd_id=650)
    assert msg_id == schema.STATUS and head[0] == 650


def test_a_new_session_forgets_earlier_cmd_ids(bed):
    bed.command(schema.GET_STATUS, (0,), cmd_id=700)
    bed.start_run()
    bed.hello(session_id=0xABCDEF)
    msg_id, head = bed.command(schema.GET_STATUS, (0,), cmd_id=700)
    assert msg_id == schema.STATUS and head[2] == schema.STATE_RUNNING


def test_only_the_last_16_cmd_ids_are_remembered(bed):
    for cmd_id in range(1000, 1017):
        bed.command(schema.GET_STATUS, (0,), cmd_id=cmd_id)
    executed = bed.device.link.commands_executed
    bed.command(schema.GET_STATUS, (0,), cmd_id=1016)  # cached
    assert bed.device.link.commands_executed == executed
    bed.command(schema.GET_STATUS, (0,), cmd_id=1000)  # forgotten: runs again
    assert bed.device.link.commands_executed == executed + 1


def test_out_of_range_start_run_is_refused_with_the_field_index(bed):
    nack = _nack(bed.start_run(sample_period_ms=1))
    assert (nack["code"], nack["detail"]) == (schema.NACK_OUT_OF_RANGE,
                                              FIELDS.index("sample_period_ms"))
    nack = _nack(bed.start_run(compliance_na=bed.board.config.MAX_COMPLIANCE_NA + 1))
    assert (nack["code"], nack["detail"]) == (schema.NACK_OUT_OF_RANGE,
                                              FIELDS.index("compliance_na"))
    assert bed.ctrl.state == schema.STATE_IDLE and not bed.board.relay.value()


def test_start_run_while_another_runs_is_busy_but_the_same_run_is_acked(bed):
    bed.start_run(run_key=10)
    nack = _nack(bed.start_run(run_key=11))
    assert (nack["code"], nack["detail"]) == (schema.NACK_BUSY, 10)
    assert bed.start_run(run_key=10)[0] == schema.ACK
    assert bed.event_codes().count(schema.EV_RUN_STARTED) == 1


def test_stop_run_aborts_the_run_and_goes_idle(bed):
    bed.start_run(run_key=12)
    assert _nack(bed.command(schema.STOP_RUN, (13, 0)))["code"] == schema.NACK_BAD_RUN_KEY
    assert bed.command(schema.STOP_RUN, (12, 0))[0] == schema.ACK
    assert bed.ctrl.state == schema.STATE_IDLE and not bed.board.relay.value()
    stopped = [e for e in bed.events() if e[0] == schema.EV_RUN_STOPPED]
    assert stopped == [(schema.EV_RUN_STOPPED, schema.STOP_HOST_ABORT, schema.STATE_RUNNING, 12)]
    assert bed.command(schema.STOP_RUN, (0, 0))[0] == schema.ACK  # nothing runs: still ACKed


def test_status_describes_the_run(bed):
    bed.start_run(run_key=21, setpoint_mv=10000, sample_period_ms=100)
    bed.run_until(lambda: bed.ctrl.next_seq >= 5, what="5 samples")
    status = bed.status()
    assert (status["state"], status["mode"], status["run_key"]) == (
        schema.STATE_RUNNING, schema.MODE_CONSTANT_VOLTAGE, 21)
    assert status["setpoint_mv"] == 10000 and 9900 <= status["voltage_mv"] <= 10100
    assert status["current_na"] > 0 and status["pd_pa"] > 0
    assert status["flags"] & schema.FLAG_OUTPUT_ON and status["flags"] & schema.FLAG_INTERLOCK_OK
    assert status["next_seq"] >= 5 and status["oldest_seq"] == 0


def test_samples_are_numbered_from_zero_and_batched_at_most_8(bed):
    bed.start_run(sample_period_ms=50)
    bed.run_until(lambda: bed.ctrl.next_seq >= 40, what="40 samples")
    bed.command(schema.GET_STATUS, (0,))  # flushes what is pending
    seqs = [r["seq"] for r in bed.samples(42)]
    assert seqs == list(range(len(seqs))) and len(seqs) >= 40
    sizes = [len(tail) for mid, _, tail in bed.messages if mid == schema.SAMPLE_BATCH]
    assert max(sizes) <= schema.MAX_SAMPLES_PER_BATCH


def test_a_lone_sample_goes_out_within_100_ms_of_link_time():
    bed = Bed(accel=1)
    bed.hello()
    bed.start_run(sample_period_ms=2000)
    bed.run_until(lambda: bed.ctrl.next_seq >= 1, what="the first sample")
    taken = time.monotonic()
    bed.run_until(lambda: bed.samples(42), timeout_s=30, what="the first batch")
    assert time.monotonic() - taken < 0.2
    assert len(bed.samples(42)) == 1


def test_resend_returns_the_held_samples_flagged_resent(bed):
    bed.start_run(sample_period_ms=50)
    bed.run_until(lambda: bed.ctrl.next_seq >= 30, what="30 samples")
    assert bed.command(schema.RESEND, (42, 0, 5, 24))[0] == schema.ACK
    resent = bed.samples(42, resent=True)
    assert [r["seq"] for r in resent] == list(range(5, 25))
    live = {r["seq"]: r for r in bed.samples(42)}
    assert all(live[r["seq"]] == r for r in resent)


def test_resend_of_a_range_partly_gone_sends_the_rest_and_names_the_oldest(bed):
    ring = bed.device.ring.capacity
    bed.start_run(sample_period_ms=50)
    bed.run_until(lambda: bed.ctrl.next_seq >= ring + 20, timeout_s=60, what="ring overrun")
    bed.command(schema.STOP_RUN, (0, 0))  # the ring holds still: its oldest cannot move on
    oldest = bed.device.ring.oldest_seq()
    nack = _nack(bed.command(schema.RESEND, (42, 0, 0, oldest + 3)))
    assert (nack["code"], nack["detail"]) == (schema.NACK_NOT_IN_RING, oldest)
    assert [r["seq"] for r in bed.samples(42, resent=True)] == list(range(oldest, oldest + 4))


def test_resend_for_another_run_is_refused(bed):
    bed.start_run(run_key=31, sample_period_ms=50)
    nack = _nack(bed.command(schema.RESEND, (30, 0, 0, 5)))
    assert (nack["code"], nack["detail"]) == (schema.NACK_BAD_RUN_KEY, 31)


def test_resend_events_sends_the_ring_from_the_asked_seq(bed):
    bed.start_run()
    bed.command(schema.STOP_RUN, (0, 0))
    held = [h[0] for h in bed.of(schema.EVENT)]
    since = len(bed.messages)
    assert bed.command(schema.RESEND_EVENTS, (2,))[0] == schema.ACK
    assert [h[0] for h in bed.of(schema.EVENT, since)] == [s for s in held if s >= 2]


def test_heartbeat_carries_state_run_and_next_seq(bed):
    bed.start_run(run_key=55, sample_period_ms=50)
    bed.run_until(lambda: bed.ctrl.next_seq >= 5, what="5 samples")
    since = len(bed.messages)
    bed.run_until(lambda: bed.of(schema.HEARTBEAT, since), what="a heartbeat")
    [(_, head, tail)] = [m for m in bed.messages[since:] if m[0] == schema.HEARTBEAT][:1]
    rig_flags, _next_event_seq = head
    [(channel, can, state, mode, flags, run_key, next_seq)] = tail
    assert (channel, state, mode, run_key) == (0, schema.STATE_RUNNING,
                                               schema.MODE_CONSTANT_VOLTAGE, 55)
    assert next_seq >= 5 and can & schema.CAN_DRIVE and can & schema.CAN_PHOTODIODE
    assert flags & schema.FLAG_OUTPUT_ON and rig_flags & schema.FLAG_INTERLOCK_OK
    assert not rig_flags & schema.FLAG_OUTPUT_ON  # the output is the channel's


def test_garbage_on_the_link_costs_nothing_but_the_frame_it_hits(bed):
    bed.link.to_device += b"\x13\x37garbage\x00\xff\xfe\x00"
    assert bed.command(schema.GET_STATUS, (0,))[0] == schema.STATUS
    assert bed.device.link.decoder.stats["framing_errors"] + bed.device.link.decoder.stats[
        "crc_errors"] >= 1
