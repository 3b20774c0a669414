"""Device events: sent at once, numbered, the last 32 kept for RESEND_EVENTS."""

from lumenfw.events import RING_EVENTS, EventLog
from lumenfw.outbox import Outbox
from protocol import schema
from tests.support.fw_harness import Wire


def _log():
    wire = Wire()
    return EventLog(Outbox(wire.write, lambda a, b: a - b)), wire


def _event_seqs(msgs):
    return [head[0] for msg_id, head, _ in msgs if msg_id == schema.EVENT]


def test_an_event_goes_out_at_once_with_its_fields():
    events, wire = _log()
    events.emit(schema.EV_COMPLIANCE, 12345, 7, 2, 100, 250000, schema.STATE_RUNNING)
    [(msg_id, head, _)] = wire.drain()
    assert msg_id == schema.EVENT
    assert head == (0, schema.EV_COMPLIANCE, 7, 2, 100, 250000, 12345, schema.STATE_RUNNING)


def test_events_are_numbered_consecutively():
    events, wire = _log()
    for i in range(5):
        events.emit(schema.EV_STATE, i, 0, 0, 0, 0, 0)
    assert _event_seqs(wire.drain()) == [0, 1, 2, 3, 4]
    assert events.next_event_seq == 5


def test_resend_sends_the_held_events_from_the_asked_seq():
    events, wire = _log()
    for i in range(10):
        events.emit(schema.EV_STATE, i, 0, 0, 0, 0, 0)
    wire.drain()
    assert events.resend_from(6) == 4
    assert _event_seqs(wire.drain()) == [6, 7, 8, 9]


def test_only_the_last_32_events_are_held():
    events, wire = _log()
    for i in range(RING_EVENTS + 8):
        events.emit(schema.EV_STATE, i, 0, 0, 0, 0, 0)
    wire.drain()
    events.resend_from(0)
    assert _event_seqs(wire.drain()) == list(range(8, RING_EVENTS + 8))


def test_event_seq_wraps_at_u16_and_resend_follows_the_wrap():
    events, wire = _log()
    events.next_event_seq = 65534
    for i in range(4):
        events.emit(schema.EV_STATE, i, 0, 0, 0, 0, 0)
    assert _event_seqs(wire.drain()) == [65534, 65535, 0, 1]
    events.resend_from(65535)
    assert _event_seqs(wire.drain()) == [65535, 0, 1]


def test_a_resend_from_the_future_sends_nothing():
    events, wire = _log()
    for i in range(3):
        events.emit(schema.EV_STATE, i, 0, 0, 0, 0, 0)
    wire.drain()
    assert events.resend_from(10) == 0
    assert wire.drain() == []
