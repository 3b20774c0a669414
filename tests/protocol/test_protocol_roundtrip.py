"""Every message type survives pack -> frame -> stream decode -> unpack unchanged."""

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import frame, messages, schema
from protocol.decoder import StreamDecoder
from tests.support.protocol_strategies import any_message


def _same_tail(expected, got):
    if expected is None:
        return got is None
    return list(expected) == list(got)


@settings(max_examples=400)
@given(any_message, st.integers(0, 0xFFFF))
def test_every_message_round_trips_through_the_stream_decoder(msg, seq):
    msg_id, values, tail = msg
    wire = frame.build(msg_id, seq, messages.pack(msg_id, values, tail))
    decoder = StreamDecoder()
    out = decoder.feed(wire)
    assert len(out) == 1
    got_id, got_seq, body = out[0]
    assert (got_id, got_seq) == (msg_id, seq)
    head, got_tail = messages.unpack(msg_id, body)
    assert head == values
    assert _same_tail(tail, got_tail)


@given(any_message)
def test_a_frame_is_delimited_on_both_sides_and_has_no_zero_inside(msg):
    msg_id, values, tail = msg
    wire = frame.build(msg_id, 1, messages.pack(msg_id, values, tail))
    assert wire[0] == 0 and wire[-1] == 0
    assert 0 not in wire[1:-1]
    assert len(wire) <= schema.MAX_WIRE


def test_largest_sample_batch_fits_one_frame():
    records = [tuple([0xFFFFFFFF] * 3 + [0xFFFF, -1, -1, -1, -1, 0xFFFF, 0xFF, 0xFF])] * 8
    body = messages.pack(schema.SAMPLE_BATCH, (1, 0, 0), records)
    assert len(body) <= schema.MAX_BODY
    assert len(frame.build(schema.SAMPLE_BATCH, 0, body)) <= schema.MAX_WIRE


def test_schema_hash_changes_when_a_field_changes(monkeypatch):
    original = schema.canonical_text()
    entry = schema.MESSAGES[0]
    changed = (entry[0], entry[1], entry[2][:-1] + (("host_version", "I", "", 1),), entry[3])
    monkeypatch.setattr(schema, "MESSAGES", (changed,) + schema.MESSAGES[1:])
    assert schema.canonical_text() != original
    assert schema._fnv1a_32(schema.canonical_text()) != schema.SCHEMA_HASH
