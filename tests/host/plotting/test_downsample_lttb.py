"""LTTB downsampling: hand-worked cases, NULL handling, and properties over any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bench.bench_downsample import lttb_point_by_point
from host.plotting.downsample import lttb, lttb_indices, lttb_rows


def test_one_bucket_picks_the_point_furthest_from_the_line():
    # Bucket {1, 2, 3} against a = (0, 0) and the last point (4, 0): areas 4, 0, 20.
    assert lttb_indices(np.arange(5.0), np.array([0, 1, 0, 5, 0.0]), 3).tolist() == [0, 3, 4]


def test_two_buckets_each_scored_against_the_next_mean():
    # Bucket {1,2,3} against the mean (5, 4/3) of {4,5,6}: twice the areas 8.67, 7.67, 4 -> 1.
    # Bucket {4,5,6} from (1, 2) against the last point (7, 0): 12, 4, 4 -> 4.
    y = np.array([0, 2, -1, 0, 3, 0, 1, 0.0])
    assert lttb_indices(np.arange(8.0), y, 4).tolist() == [0, 1, 4, 7]


def test_last_bucket_reaches_the_point_before_the_last():
    # 62 / 29 * 29 rounds below 62 in floats; bucket edges in integers keep point 62 in play.
    y = np.ones(64)
    y[62] = 0.0
    assert 62 in lttb_indices(np.arange(64.0), y, 31).tolist()


def test_fewer_points_than_max_points_returns_all():
    x, y = np.arange(5.0), np.array([3.0, 1, 4, 1, 5])
    assert lttb_indices(x, y, 5).tolist() == [0, 1, 2, 3, 4]
    assert lttb_indices(x, y, 100).tolist() == [0, 1, 2, 3, 4]


def test_max_points_two_keeps_first_and_last():
    assert lttb_indices(np.arange(10.0), np.arange(10.0) ** 2, 2).tolist() == [0, 9]


def test_max_points_one_keeps_the_first():
    assert lttb_indices(np.arange(10.0), np.ones(10), 1).tolist() == [0]


def test_max_points_below_one_is_refused():
    with pytest.raises(ValueError, match="max_points"):
        lttb_indices(np.arange(3.0), np.arange(3.0), 0)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="x has 3"):
        lttb_indices(np.arange(3.0), np.arange(4.0), 10)


def test_empty_input_gives_empty_output():
    assert lttb_indices(np.array([]), np.array([]), 10).tolist() == []


def test_nan_points_are_never_picked_and_ends_are_the_finite_ends():
    y = np.array([np.nan, 1.0, 5.0, np.nan, 2.0, 8.0, 1.0, np.nan])
    index = lttb_indices(np.arange(8.0), y, 3)
    assert index[0] == 1 and index[-1] == 6
    assert np.isfinite(y[index]).all()


def test_nan_points_do_not_count_against_max_points():
    y = np.array([1.0, np.nan, 2.0, np.nan, 3.0])
    assert lttb_indices(np.arange(5.0), y, 3).tolist() == [0, 2, 4]


def test_all_nan_gives_evenly_spaced_rows():
    index = lttb_indices(np.arange(101.0), np.full(101, np.nan), 5)
    assert index.tolist() == [0, 25, 50, 75, 100]


def test_lttb_returns_the_picked_points():
    x, y = lttb(np.arange(5.0), np.array([0, 1, 0, 5, 0.0]), 3)
    assert x.tolist() == [0.0, 3.0, 4.0] and y.tolist() == [0.0, 5.0, 0.0]


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(y=hnp.arrays(np.float64, st.integers(0, 300), elements=finite),
       max_points=st.integers(1, 60))
def test_output_is_an_increasing_subset_of_the_right_size(y, max_points):
    x = np.cumsum(np.ones(len(y)))
    index = lttb_indices(x, y, max_points)
    assert len(index) == min(max_points, len(y))
    assert (np.diff(index) > 0).all()
    assert (np.diff(x[index]) > 0).all()
    if len(y):
        assert index[0] == 0
    if len(y) and max_points >= 2:
        assert index[-1] == len(y) - 1


@settings(max_examples=80, deadline=None)
@given(y=hnp.arrays(np.float64, st.integers(4, 200), elements=st.integers(-50, 50)),
       steps=st.lists(st.integers(1, 5), min_size=200, max_size=200),
       max_points=st.integers(3, 40))
def test_matches_lttb_written_point_by_point(y, steps, max_points):
    x = np.cumsum(np.array(steps[:len(y)], dtype=np.float64))
    if len(y) <= max_points:
        max_points = len(y) - 1
    if max_points < 3:
        return
    expected = lttb_point_by_point(x.tolist(), y.tolist(), max_points)
    assert lttb_indices(x, y, max_points).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(noise=hnp.arrays(np.float64, st.integers(10, 400), elements=st.floats(-1, 1)),
       where=st.floats(0, 1), sign=st.sampled_from([1.0, -1.0]), max_points=st.integers(3, 50))
def test_a_spike_is_always_kept(noise, where, sign, max_points):
    y = noise.copy()
    spike = int(where * (len(y) - 1))
    y[spike] = sign * 1000.0
    index = lttb_indices(np.arange(len(y), dtype=np.float64), y, max_points)
    assert spike in index.tolist()
    assert (y[index].max() if sign > 0 else y[index].min()) == y[spike]


@settings(max_examples=100, deadline=None)
@given(y=hnp.arrays(np.float64, st.integers(0, 200),
                    elements=st.one_of(finite, st.just(np.nan))),
       max_points=st.integers(1, 30))
def test_with_nulls_picks_only_finite_points_and_the_finite_ends(y, max_points):
    index = lttb_indices(np.arange(len(y), dtype=np.float64), y, max_points)
    good = np.flatnonzero(np.isfinite(y))
    if len(good) == 0:
        assert len(index) == min(max_points, len(y))
        return
    assert np.isfinite(y[index]).all()
    assert len(index) == min(max_points, len(good))
    assert index[0] == good[0]
    if max_points >= 2:
        assert index[-1] == good[-1]


def test_a_million_points_come_down_to_two_thousand():
    x = np.arange(1_000_000) * 0.5
    y = np.exp(-x / 2e5) + np.random.default_rng(3).normal(0, 0.01, len(x))
    index = lttb_indices(x, y, 2000)
    assert len(index) == 2000 and index[0] == 0 and index[-1] == len(x) - 1
    assert (np.diff(index) > 0).all()


def test_rows_for_several_series_keep_each_series_spike():
    x = np.arange(1000.0)
    a, b = np.zeros(1000), np.zeros(1000)
    a[300], b[700] = 50.0, -50.0
    rows = lttb_rows(x, [a, b], 20)
    assert 300 in rows.tolist() and 700 in rows.tolist()
    assert len(rows) <= 20 and (np.diff(rows) > 0).all()


def test_rows_of_a_null_series_still_come_evenly_spaced():
    x = np.arange(100.0)
    rows = lttb_rows(x, [np.full(100, np.nan), np.sin(x)], 10)
    assert {0, 99} <= set(rows.tolist()) and len(rows) <= 10


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), k=st.integers(1, 4), max_points=st.integers(1, 50))
def test_rows_never_exceed_max_points(n, k, max_points):
    rng = np.random.default_rng(n)
    rows = lttb_rows(np.arange(float(n)), [rng.normal(size=n) for _ in range(k)], max_points)
    assert len(rows) <= max_points
    assert len(rows) == len(set(rows.tolist()))
