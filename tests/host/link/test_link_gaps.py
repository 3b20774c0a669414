"""host/link/gaps.py: sample and event seq bookkeeping under any order, loss and repetition."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from host.link.gaps import EventGaps, SampleGaps


def _seqs(*values):
    return np.array(values, dtype=np.uint32)


def _accept_all(gaps, run_key, batch):
    fresh, _ = gaps.accept(run_key, np.array(batch, dtype=np.uint32))
    return batch if fresh is None else [s for s, keep in zip(batch, fresh) if keep]


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=8), max_size=30))
def test_every_seq_comes_out_fresh_exactly_once_whatever_the_order(batches):
    gaps = SampleGaps()
    gaps.track(1, 0)
    delivered = []
    for batch in batches:
        delivered += _accept_all(gaps, 1, sorted(set(batch)))
    assert sorted(delivered) == sorted(set(delivered))
    assert set(delivered) == {s for b in batches for s in b}


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=8), max_size=30))
def test_missing_is_exactly_what_did_not_arrive_below_the_newest(batches):
    gaps = SampleGaps()
    gaps.track(1, 0)
    for batch in batches:
        _accept_all(gaps, 1, sorted(set(batch)))
    arrived = {s for b in batches for s in b}
    run = gaps.runs[1]
    missing = {s for lo, hi in run.missing for s in range(lo, hi + 1)}
    top = max(arrived) if arrived else -1
    assert missing == set(range(top + 1)) - arrived


def test_in_order_batches_take_the_fast_path_and_leave_no_gap():
    gaps = SampleGaps()
    for start in range(0, 800, 8):
        fresh, found = gaps.accept(3, np.arange(start, start + 8, dtype=np.uint32))
        assert fresh is None and found == []
    assert list(gaps.runs[3].received) == [(0, 799)]


def test_a_skipped_range_is_reported_once_and_requested_exactly():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 1, 2, 3))
    _, found = gaps.accept(5, _seqs(9, 10))
    assert found == [(5, 4, 8)]
    request, lost = gaps.next_request(now=10.0)
    assert request == (5, 4, 8) and lost == []


def test_a_request_is_repeated_only_after_the_retry_time():
    gaps = SampleGaps(retry_after_s=0.5)
    gaps.accept(5, _seqs(0, 5))
    assert gaps.next_request(10.0)[0] == (5, 1, 4)
    assert gaps.next_request(10.4)[0] is None
    assert gaps.next_request(10.6)[0] == (5, 1, 4)


def test_partial_recovery_asks_only_for_what_is_still_missing():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 9))
    gaps.next_request(10.0)
    gaps.accept(5, _seqs(1, 2, 3))
    assert gaps.next_request(10.01)[0] == (5, 4, 8)


def test_requests_are_cut_to_max_span():
    gaps = SampleGaps(max_span=100)
    gaps.accept(5, _seqs(0, 1000))
    assert gaps.next_request(1.0)[0] == (5, 1, 100)


def test_a_range_asked_for_max_tries_times_is_lost():
    gaps = SampleGaps(retry_after_s=0.1, max_tries=2)
    gaps.accept(5, _seqs(0, 3))
    assert gaps.next_request(1.0)[0] == (5, 1, 2)
    assert gaps.next_request(1.2)[0] == (5, 1, 2)
    request, lost = gaps.next_request(1.4)
    assert request is None and lost == [(5, 1, 2)]
    assert gaps.samples_lost == 2 and gaps.missing_count() == 0


def test_not_in_ring_loses_only_what_is_below_the_oldest_held():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 20))
    lost = gaps.refused(5, 1, 19, oldest_held=11)
    assert lost == [(5, 1, 10)]
    assert list(gaps.runs[5].missing) == [(11, 19)]


def test_a_lost_seq_that_arrives_later_is_no_longer_lost():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 3))
    gaps.refused(5, 1, 2, None)
    fresh, _ = gaps.accept(5, _seqs(1))
    assert fresh is None and gaps.samples_lost == 1


def test_tail_claim_becomes_a_gap_only_after_the_grace():
    gaps = SampleGaps(tail_grace_s=1.0)
    gaps.accept(5, _seqs(0, 1, 2, 3))
    gaps.claim(5, 12, now=100.0)
    assert gaps.poll(100.9) == []
    assert gaps.poll(101.0) == [(5, 4, 11)]


def test_tail_claim_met_in_time_leaves_no_gap():
    gaps = SampleGaps(tail_grace_s=1.0)
    gaps.accept(5, _seqs(0, 1, 2, 3))
    gaps.claim(5, 8, now=100.0)
    gaps.accept(5, _seqs(4, 5, 6, 7))
    assert gaps.poll(102.0) == [] and gaps.gaps_detected == 0


def test_tracking_from_an_earlier_seq_backfills_it():
    gaps = SampleGaps()
    gaps.claim(5, 100, now=0.0)  # first heard of run 5 at seq 100
    assert gaps.track(5, 40) == [(5, 40, 99)]


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.integers(0, 0xFFFF), st.lists(st.integers(0, 20), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_events_come_out_once_across_the_u16_wrap(start, steps, rnd):
    seqs = [(start + sum(steps[: i + 1])) & 0xFFFF for i in range(len(steps))]
    seqs = list(dict.fromkeys(seqs))  # the device never repeats a seq within 64k events
    events = EventGaps(ring=10_000)
    events.start(start)
    arrived = [s for s in seqs if rnd.random() < 0.7]
    fresh = [s for s in arrived if events.accept(s)]
    assert fresh == arrived
    fresh_again = [s for s in arrived if events.accept(s)]
    assert fresh_again == []
    newest = arrived[-1] if arrived else None
    if newest is not None:
        span = (newest - start) & 0xFFFF
        expected_missing = {(start + k) & 0xFFFF for k in range(span + 1)} - set(arrived)
        assert set(events.missing) == expected_missing


def test_event_gap_asks_from_the_oldest_missing_event():
    events = EventGaps()
    events.start(0xFFFE)
    for seq in (0xFFFE, 2):
        events.accept(seq)
    assert set(events.missing) == {0xFFFF, 0, 1}
    assert events.next_request(now=1.0) == 0xFFFF


def test_events_still_missing_after_max_rounds_are_lost():
    events = EventGaps(max_tries=2)
    events.start(0)
    events.accept(3)
    assert events.resend_done() == []
    assert sorted(events.resend_done()) == [0, 1, 2]
    assert events.events_lost == 3


def test_event_gap_wider_than_the_ring_loses_the_overflow_at_once():
    events = EventGaps(ring=32)
    events.start(0)
    events.accept(100)
    assert len(events.missing) == 32 and events.events_lost == 68
    assert min(events.missing) == 68
