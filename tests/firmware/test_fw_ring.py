"""The sample ring: which seqs it holds, and that what comes out is what went in."""

from hypothesis import given
from hypothesis import strategies as st

from lumenfw.ring import RECORD_SIZE, SampleRing
from protocol.writer import SAMPLE_SIZE


def _sample(seq):
    return (seq, seq // 10, (seq * 7919) % 1000000, seq % 20000, -seq, seq * 3, seq * 1000,
            -500 + seq % 1000, seq % 10000, seq % 6, seq % 256)


def _fill(ring, first, count):
    for seq in range(first, first + count):
        ring.put(*_sample(seq))


def test_record_is_the_wire_sample_size():
    assert RECORD_SIZE == SAMPLE_SIZE == 32


@given(capacity=st.integers(1, 64), count=st.integers(0, 300))
def test_ring_holds_exactly_the_last_capacity_samples(capacity, count):
    ring = SampleRing(capacity)
    ring.reset(run_key=5)
    _fill(ring, 0, count)
    oldest = max(0, count - capacity)
    assert ring.oldest_seq() == oldest
    assert [seq for seq in range(-2, count + 3) if ring.holds(seq)] == list(range(oldest, count))
    for seq in range(oldest, count):
        assert ring.record(seq) == _sample(seq)


def test_copy_into_puts_the_packed_record_at_the_offset():
    ring = SampleRing(8)
    ring.reset(1)
    _fill(ring, 0, 12)
    dst = bytearray(100)
    ring.copy_into(10, dst, 7)
    assert bytes(dst[7:7 + RECORD_SIZE]) == bytes(ring.buf[2 * RECORD_SIZE:3 * RECORD_SIZE])
    assert dst[:7] == bytearray(7) and dst[7 + RECORD_SIZE:] == bytearray(100 - 7 - RECORD_SIZE)


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
