"""The stream decoder under garbage, chunking, bit flips, truncation and oversize input."""

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import frame, messages, schema
from protocol.decoder import StreamDecoder
from tests.support.protocol_strategies import any_message


def _wire(msg, seq):
    msg_id, values, tail = msg
    return frame.build(msg_id, seq, messages.pack(msg_id, values, tail))


def _feed_in_chunks(decoder, data, cuts):
    out = []
    start = 0
    for cut in sorted(set(c % (len(data) + 1) for c in cuts)) + [len(data)]:
        out += decoder.feed(data[start:cut])
        start = cut
    return out


@settings(max_examples=300)
@given(
    frames=st.lists(st.tuples(any_message, st.booleans(), st.binary(min_size=1, max_size=40),
                              st.integers(0, 10_000)), min_size=1, max_size=12),
    garbage_between=st.lists(st.binary(max_size=60), min_size=13, max_size=13),
    cuts=st.lists(st.integers(0, 100_000), max_size=20),
)
def test_frames_not_hit_by_garbage_come_out_in_order(frames, garbage_between, cuts):
    stream = bytearray()
    expected = []
    for index, (msg, hit, garbage, where) in enumerate(frames):
        stream += garbage_between[index]
        wire = bytearray(_wire(msg, index))
        if hit:
            # Garbage inside the frame body (between its delimiters).
            pos = 1 + where % (len(wire) - 1)
            wire[pos:pos] = garbage
        else:
            expected.append(index)
        stream += wire
    stream += garbage_between[-1]
    decoder = StreamDecoder()
    out = _feed_in_chunks(decoder, bytes(stream), cuts)
    got_seqs = [seq for _msg_id, seq, _body in out]
    # Every clean frame arrives, in order; a hit frame may survive only by chance and is
    # then exact (its CRC passed), so it appears in order among the others.
    clean = [s for s in got_seqs if s in expected]
    assert clean == expected
    assert got_seqs == sorted(got_seqs)


@given(any_message, st.data())
def test_any_single_flipped_bit_is_rejected(msg, data):
    wire = bytearray(_wire(msg, 77))
    # Bits of the delimiters are part of the frame too: flipping one merges or splits blocks.
    bit = data.draw(st.integers(0, len(wire) * 8 - 1))
    wire[bit // 8] ^= 1 << (bit % 8)
    decoder = StreamDecoder()
    out = decoder.feed(bytes(wire) + b"\x00")  # a following delimiter closes a spoiled one
    assert out == []
    dropped = sum(v for k, v in decoder.stats.items() if k not in ("frames", "bytes", "empty"))
    assert dropped >= 1


@given(any_message, st.data())
def test_truncated_frame_is_dropped_and_the_next_one_survives(msg, data):
    wire = _wire(msg, 5)
    cut = data.draw(st.integers(2, len(wire) - 2))
    truncated = wire[:cut]
    decoder = StreamDecoder()
    out = decoder.feed(truncated + _wire(msg, 6))
    assert [seq for _m, seq, _b in out] == [6]


def test_empty_frames_are_ignored_without_counting_an_error():
    decoder = StreamDecoder()
    assert decoder.feed(b"\x00" * 10) == []
    assert decoder.stats["empty"] > 0
    assert decoder.stats["crc_errors"] == decoder.stats["framing_errors"] == 0


def test_oversize_block_is_dropped_counted_and_the_stream_resynchronises():
    decoder = StreamDecoder()
    flood = b"\x00" + b"\x55" * (schema.MAX_WIRE * 3)
    good = frame.build(schema.HEARTBEAT, 9, messages.pack(schema.HEARTBEAT, (0, 0)))
    # The flood arrives in many chunks with no delimiter, then a good frame.
    out = []
    for i in range(0, len(flood), 37):
        out += decoder.feed(flood[i:i + 37])
    out += decoder.feed(good)
    assert decoder.stats["oversize"] == 1
    assert [(m, s) for m, s, _b in out] == [(schema.HEARTBEAT, 9)]


def test_frame_of_another_protocol_version_counts_as_schema_mismatch():
    import struct

    from protocol import cobs
    from protocol.crc import crc16

    raw = bytearray(struct.pack("<BBH", schema.PROTOCOL_VERSION + 1, schema.HEARTBEAT, 1))
    raw += messages.pack(schema.HEARTBEAT, (0, 0))
    raw += struct.pack("<H", crc16(raw))
    decoder = StreamDecoder()
    assert decoder.feed(b"\x00" + cobs.encode(raw) + b"\x00") == []
    assert decoder.stats["schema_mismatch"] == 1


def test_unknown_message_id_and_wrong_length_are_counted():
    decoder = StreamDecoder()
    decoder.feed(frame.build(200, 1, b"abc"))
    decoder.feed(frame.build(schema.HEARTBEAT, 1, b"\x01\x02"))
    assert decoder.stats["unknown_id"] == 1
    assert decoder.stats["length_errors"] == 1


@given(st.binary(max_size=2000), st.lists(st.integers(0, 5000), max_size=10))
def test_random_bytes_never_raise(data, cuts):
    decoder = StreamDecoder()
    _feed_in_chunks(decoder, data, cuts)
    assert decoder.stats["bytes"] == len(data)
