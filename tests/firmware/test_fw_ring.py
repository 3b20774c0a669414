"""The sample ring: which seqs it holds, and that what comes out is what went in."""

from hypothesis import given
from hypothesis import strategies as st

from host.link import wire
from lumenfw.outbox import Outbox
from lumenfw.ring import SampleRing
from protocol import schema
from protocol.decoder import StreamDecoder

SIZE = schema.SAMPLE_SIZE


def _sample(seq):
    """A sample with every field distinct, by schema field name."""
    return {"seq": seq, "t_s": seq // 10, "t_us": (seq * 7919) % 1000000,
            "setpoint_mv": seq % 20000, "voltage_mv": -seq, "current_na": seq * 3,
            "pd_pa": seq * 1000, "temperature_cc": -500 + seq % 1000,
            "humidity_cpct": seq % 10000, "pd_range": seq % 6, "flags": seq % 256}


def _fill(ring, first, count):
    for seq in range(first, first + count):
        ring.put(**_sample(seq))


@given(capacity=st.integers(1, 64), count=st.integers(0, 300))
def test_ring_holds_exactly_the_last_capacity_samples(capacity, count):
    ring = SampleRing(capacity)
    ring.reset(run_key=5)
    _fill(ring, 0, count)
    oldest = max(0, count - capacity)
    assert ring.oldest_seq() == oldest
    assert [seq for seq in range(-2, count + 3) if ring.holds(seq)] == list(range(oldest, count))
    for seq in range(oldest, count):
        assert dict(zip(schema.SAMPLE_NAMES, ring.record(seq))) == _sample(seq)


def test_copy_into_puts_the_packed_record_at_the_offset():
    ring = SampleRing(8)
    ring.reset(1)
    _fill(ring, 0, 12)
    dst = bytearray(100)
    ring.copy_into(10, dst, 7)
    assert bytes(dst[7:7 + SIZE]) == bytes(ring.buf[2 * SIZE:3 * SIZE])
    assert dst[:7] == bytearray(7) and dst[7 + SIZE:] == bytearray(100 - 7 - SIZE)


def test_resumed_run_holds_nothing_before_its_first_seq():
    ring = SampleRing(16)
    ring.reset(run_key=9, first_seq=1000)
    assert ring.oldest_seq() == ring.next_seq == 1000
    _fill(ring, 1000, 5)
    assert ring.oldest_seq() == 1000 and ring.next_seq == 1005
    assert not ring.holds(999) and ring.holds(1004)


def test_reset_forgets_the_previous_run():
    ring = SampleRing(16)
    ring.reset(1)
    _fill(ring, 0, 10)
    ring.reset(2)
    assert ring.run_key == 2 and ring.next_seq == 0 and not ring.holds(0)


def test_a_sample_reaches_the_host_by_name_live_and_resent():
    sent = []
    outbox = Outbox(lambda buf, n: sent.append(bytes(buf[:n])), lambda a, b: a - b)
    ring = SampleRing(8)
    ring.reset(run_key=77)
    for seq in range(3):
        ring.put(**_sample(seq))
        outbox.add_sample(0, None, 77, 3, **_sample(seq))
    outbox.flush()
    outbox.send_records(77, 3, ring, 1, 2)
    batches = [wire.decode_sample_batch(body) for msg_id, _, body
               in StreamDecoder().feed(b"".join(sent)) if msg_id == schema.SAMPLE_BATCH]
    got = [(flags, wire.sample_dict(record)) for run_key, channel, flags, records in batches
           for record in records if (run_key, channel) == (77, 3)]
    assert got == ([(0, _sample(seq)) for seq in range(3)]
                   + [(schema.BATCH_RESENT, _sample(seq)) for seq in (1, 2)])
