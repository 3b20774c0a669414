"""The plot-column cache answers exactly what the store holds, and the downsampled rows it
picks are the ones the uncached computation (every row read, LTTB) picks."""

from __future__ import annotations

import numpy as np
import pytest

from host.plotting.cache import SampleCache, plot_rows
from host.plotting.downsample import lttb_indices
from host.store.columns import CSV_COLUMNS, json_rows
from tests.conftest import sample_columns

NAMES = ("t_s", "luminance_cd_m2")


def wavy(seq, **overrides):
    """Samples whose luminance has shape (LTTB picks differ from evenly spaced ones)."""
    s = np.asarray(seq, dtype=np.float64)
    shaped = {"luminance_cd_m2": 1000 * np.exp(-s / 400) + 50 * np.sin(s / 7)}
    return sample_columns(seq, **{**shaped, **overrides})


def assert_same(got, expected):
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_first_read_equals_the_store(store, run_id):
    store.insert_samples(run_id, wavy(np.arange(500)))
    cache = SampleCache(store)
    assert_same(cache.columns(run_id, NAMES), store.read_samples(run_id, columns=NAMES))


def test_samples_stored_after_a_read_are_in_the_next(store, run_id):
    cache = SampleCache(store)
    store.insert_samples(run_id, wavy(np.arange(100)))
    cache.columns(run_id, NAMES)
    store.insert_samples(run_id, wavy(np.arange(100, 180)))
    assert_same(cache.columns(run_id, NAMES), store.read_samples(run_id, columns=NAMES))
    assert cache.loads == 1  # the second answer came from what was stored, not a re-read


def test_a_resend_into_a_gap_lands_in_seq_order(store, run_id):
    cache = SampleCache(store)
    store.insert_samples(run_id, wavy(np.r_[0:50, 80:120]))
    cache.columns(run_id, NAMES)
    store.insert_samples(run_id, wavy(np.arange(50, 80)))
    got = cache.columns(run_id, NAMES)
    assert got["seq"].tolist() == list(range(120))
    assert_same(got, store.read_samples(run_id, columns=NAMES))


def test_a_repeated_seq_keeps_the_value_stored_first(store, run_id):
    cache = SampleCache(store)
    store.insert_samples(run_id, wavy(np.arange(40)))
    cache.columns(run_id, NAMES)
    store.insert_samples(run_id, wavy(np.arange(30, 60), t_s=np.full(30, -1.0)))
    got = cache.columns(run_id, NAMES)
    assert_same(got, store.read_samples(run_id, columns=NAMES))
    assert got["t_s"][35] == 35 * 0.25


def test_a_new_column_is_read_with_the_ones_already_cached(store, run_id):
    cache = SampleCache(store)
    store.insert_samples(run_id, wavy(np.arange(64)))
    cache.columns(run_id, NAMES)
    wider = ("t_s", "luminance_cd_m2", "voltage_v")
    assert_same(cache.columns(run_id, wider), store.read_samples(run_id, columns=wider))


def test_over_its_memory_bound_the_cache_still_answers_what_is_stored(store, run_id):
    cache = SampleCache(store, max_bytes=1000)
    store.insert_samples(run_id, wavy(np.arange(300)))
    cache.columns(run_id, NAMES)
    store.insert_samples(run_id, wavy(np.arange(300, 400)))
    assert_same(cache.columns(run_id, NAMES), store.read_samples(run_id, columns=NAMES))
    assert cache.loads == 2  # dropped after the first answer, read again


def test_read_samples_by_seq_returns_those_rows_in_order(store, run_id):
    store.insert_samples(run_id, wavy(np.arange(200)))
    got = store.read_samples(run_id, seqs=[150, 3, 77, 500])
    assert got["seq"].tolist() == [3, 77, 150]
    everything = store.read_samples(run_id)
    assert_same(got, {k: v[[3, 77, 150]] for k, v in everything.items()})


def uncached_rows(store, run_id, shape, start_s, end_s, max_points):
    """What the samples endpoint computed before the cache: every row, then LTTB."""
    cols = store.read_samples(run_id, start_s, end_s)
    index = None
    if max_points is not None and len(cols["seq"]) > max_points:
        y = cols[shape] if np.isfinite(cols[shape]).any() else cols["voltage_v"]
        index = lttb_indices(cols["t_s"], y, max_points)
    return json_rows(cols, CSV_COLUMNS, index), len(cols["seq"])


@pytest.mark.parametrize("start_s, end_s, max_points", [
    (None, None, 50), (None, None, 5000), (20.0, 90.0, 40), (None, 60.0, 10), (None, None, None),
])
def test_plot_rows_are_the_uncached_rows(store, run_id, start_s, end_s, max_points):
    store.insert_samples(run_id, wavy(np.arange(600)))
    cache = SampleCache(store)
    for _ in range(2):  # the loading answer and the cached one
        cols, total = plot_rows(store, cache, run_id, "luminance_cd_m2", start_s, end_s,
                                max_points)
        assert (json_rows(cols, CSV_COLUMNS), total) == uncached_rows(
            store, run_id, "luminance_cd_m2", start_s, end_s, max_points)


def test_plot_rows_follow_voltage_when_the_shape_column_is_empty(store, run_id):
    seq = np.arange(400)
    store.insert_samples(run_id, wavy(seq, luminance_cd_m2=np.full(400, np.nan),
                                      voltage_v=np.cos(seq / 9.0)))
    cache = SampleCache(store)
    cols, total = plot_rows(store, cache, run_id, "luminance_cd_m2", None, None, 30)
    assert (json_rows(cols, CSV_COLUMNS), total) == uncached_rows(
        store, run_id, "luminance_cd_m2", None, None, 30)
