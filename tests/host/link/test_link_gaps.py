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
def test_every_live_seq_comes_out_exactly_once_whatever_the_order(batches):
    gaps = SampleGaps()
    gaps.start(1, 0)
    delivered = []
    for batch in batches:
        delivered += _accept_all(gaps, 1, sorted(set(batch)))
    assert sorted(delivered) == sorted(set(delivered))
    assert set(delivered) == {s for b in batches for s in b}


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=8), max_size=30))
def test_the_gaps_reported_cover_exactly_what_never_arrived_below_the_newest(batches):
    gaps = SampleGaps()
    gaps.start(1, 0)
    reported = set()
    for batch in batches:
        _, found = gaps.accept(1, np.array(sorted(set(batch)), dtype=np.uint32))
        reported |= {s for _, lo, hi in found for s in range(lo, hi + 1)}
    arrived = {s for b in batches for s in b}
    top = max(arrived) if arrived else -1
    # Every hole was reported when it opened; what came later filled part of it.
    assert set(range(top + 1)) - arrived <= reported <= set(range(top + 1))


def test_in_order_batches_take_the_fast_path_and_leave_no_gap():
    gaps = SampleGaps()
    for start in range(0, 800, 8):
        fresh, found = gaps.accept(3, np.arange(start, start + 8, dtype=np.uint32))
        assert fresh is None and found == []
    assert list(gaps.runs[3].received) == [(0, 799)]


def test_a_skipped_range_is_reported_once():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 1, 2, 3))
    _, found = gaps.accept(5, _seqs(9, 10))
    assert found == [(5, 4, 8)]
    _, found = gaps.accept(5, _seqs(4, 11))
    assert found == [] and gaps.gaps_detected == 1


def test_a_live_repeat_is_dropped_and_counted():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 1, 2))
    fresh, _ = gaps.accept(5, _seqs(2, 3))
    assert list(fresh) == [False, True] and gaps.duplicates == 1


def test_a_resent_sample_always_passes_even_one_seen_before():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 1, 2))
    fresh, found = gaps.accept(5, _seqs(1, 2), resent=True)
    assert fresh is None and found == []


def test_a_start_numbers_the_run_afresh_from_its_seq():
    gaps = SampleGaps()
    gaps.accept(5, _seqs(0, 1, 2, 3, 4))
    gaps.start(5, 3)  # a resume: the rig numbers its samples from 3 again
    fresh, found = gaps.accept(5, _seqs(3, 4))
    assert fresh is None and found == []
    fresh, _ = gaps.accept(5, _seqs(2))
    assert list(fresh) == [False]


def test_the_oldest_run_is_forgotten_past_max_runs():
    gaps = SampleGaps(max_runs=2)
    for run_key in (1, 2, 3):
        gaps.accept(run_key, _seqs(0))
    assert list(gaps.runs) == [2, 3]


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
