"""missing_seq_ranges: what the host asks the device to resend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.store import RunNotFound
from tests.conftest import sample_columns


def reference_gaps(stored: set[int], upto: int) -> list[tuple[int, int]]:
    """Slow and obvious: walk 0..upto."""
    gaps: list[tuple[int, int]] = []
    for seq in range(upto + 1):
        if seq in stored:
            continue
        if gaps and gaps[-1][1] == seq - 1:
            gaps[-1] = (gaps[-1][0], seq)
        else:
            gaps.append((seq, seq))
    return gaps


def test_contiguous_run_has_no_gaps(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(100)))
    assert store.missing_seq_ranges(run_id, 99) == []


def test_inner_gap_is_reported_inclusive(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.r_[0:10, 15:20]))
    assert store.missing_seq_ranges(run_id, 19) == [(10, 14)]


def test_single_missing_seq_is_a_range_of_one(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.r_[0:5, 6:9]))
    assert store.missing_seq_ranges(run_id, 8) == [(5, 5)]


def test_missing_first_samples_are_a_leading_gap(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(3, 10)))
    assert store.missing_seq_ranges(run_id, 9) == [(0, 2)]


def test_lost_tail_reaches_upto_seq(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(10)))
    assert store.missing_seq_ranges(run_id, 14) == [(10, 14)]


def test_run_without_samples_misses_everything_up_to_upto_seq(store, run_id):
    assert store.missing_seq_ranges(run_id, 7) == [(0, 7)]


def test_negative_upto_seq_asks_for_nothing(store, run_id):
    assert store.missing_seq_ranges(run_id, -1) == []


def test_samples_past_upto_seq_are_ignored(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.r_[0:5, 8:12, 20:30]))
    assert store.missing_seq_ranges(run_id, 10) == [(5, 7)]


def test_several_gaps_come_in_order(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.r_[2:4, 6:7, 9:12]))
    assert store.missing_seq_ranges(run_id, 13) == [(0, 1), (4, 5), (7, 8), (12, 13)]


def test_gaps_of_unknown_run_raise_run_not_found(store):
    with pytest.raises(RunNotFound):
        store.missing_seq_ranges(12345, 10)


def test_gaps_in_a_large_run_are_found(store, run_id, make_samples):
    seq = np.arange(200_000)
    kept = seq[(seq < 1000) | (seq > 1009)]
    kept = kept[kept != 150_000]
    store.insert_samples(run_id, make_samples(kept))
    assert store.missing_seq_ranges(run_id, 200_004) == [
        (1000, 1009), (150_000, 150_000), (200_000, 200_004)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.sets(st.integers(0, 80), max_size=60), upto=st.integers(-1, 90))
def test_gaps_match_a_walk_over_every_seq(store, stored, upto):
    store.upsert_rig("rig1", "sim:G1")
    run = store.create_run("rig1", "lifetime", {}).id
    if stored:
        store.insert_samples(run, sample_columns(np.array(sorted(stored))))
    assert store.missing_seq_ranges(run, upto) == reference_gaps(stored, upto)
