"""Storing samples: each (run_id, seq) exactly once, whatever order and repeats they come in."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.store import RunNotFound, Store
from tests.conftest import sample_columns


def stored_seq(store: Store, run_id: int) -> list[int]:
    return store.read_samples(run_id, columns=["seq"])["seq"].tolist()


def test_insert_returns_number_of_new_rows(store, run_id, make_samples):
    assert store.insert_samples(run_id, make_samples(np.arange(8))) == 8


def test_same_batch_twice_stores_each_seq_once(store, run_id, make_samples):
    batch = make_samples(np.arange(8))
    store.insert_samples(run_id, batch)
    assert store.insert_samples(run_id, batch) == 0
    assert stored_seq(store, run_id) == list(range(8))


def test_overlapping_batches_store_each_seq_once(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(0, 16)))
    assert store.insert_samples(run_id, make_samples(np.arange(8, 24))) == 8
    assert stored_seq(store, run_id) == list(range(24))


def test_out_of_order_batches_read_back_in_seq_order(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(16, 24)))
    store.insert_samples(run_id, make_samples(np.arange(0, 8)))
    store.insert_samples(run_id, make_samples(np.array([12, 9, 8, 15, 10, 11, 13, 14])))
    assert stored_seq(store, run_id) == list(range(24))


def test_duplicate_seq_within_one_batch_is_stored_once(store, run_id, make_samples):
    assert store.insert_samples(run_id, make_samples(np.array([3, 4, 3, 5, 4]))) == 3
    assert stored_seq(store, run_id) == [3, 4, 5]


def test_resent_sample_keeps_the_values_stored_first(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(4)))
    changed = make_samples(np.arange(4), voltage_v=np.full(4, 9.0))
    store.insert_samples(run_id, changed)
    assert store.read_samples(run_id)["voltage_v"].tolist() == make_samples(
        np.arange(4))["voltage_v"].tolist()


def test_values_read_back_exactly(store, run_id, make_samples):
    batch = make_samples(np.arange(50))
    store.insert_samples(run_id, batch)
    back = store.read_samples(run_id)
    for name, values in batch.items():
        np.testing.assert_array_equal(back[name], values, err_msg=name)


def test_same_seq_in_two_runs_are_two_rows(store, run_id, make_samples):
    other = store.create_run("rig1", "jvl", {"start_v": 0.0}).id
    store.insert_samples(run_id, make_samples(np.arange(4)))
    assert store.insert_samples(other, make_samples(np.arange(4))) == 4
    assert store.sample_count(run_id) == store.sample_count(other) == 4


def test_structured_array_is_accepted(store, run_id, make_samples):
    columns = make_samples(np.arange(5))
    array = np.zeros(5, dtype=[(name, values.dtype) for name, values in columns.items()])
    for name, values in columns.items():
        array[name] = values
    assert store.insert_samples(run_id, array) == 5
    np.testing.assert_array_equal(store.read_samples(run_id)["voltage_v"], columns["voltage_v"])


def test_left_out_nullable_columns_read_back_as_nan(store, run_id, make_samples):
    batch = make_samples(np.arange(3))
    del batch["luminance_cd_m2"]
    store.insert_samples(run_id, batch)
    back = store.read_samples(run_id)
    assert np.isnan(back["luminance_cd_m2"]).all()
    assert np.isnan(back["pl"]).all()
    assert np.isnan(back["shutter_open"]).all()


def test_nan_in_a_nullable_column_is_stored_as_null(store, run_id, make_samples):
    pl = np.array([0.9, np.nan, 0.8])
    store.insert_samples(run_id, make_samples(np.arange(3), pl=pl))
    np.testing.assert_array_equal(store.read_samples(run_id)["pl"], pl)
    assert store.sample_count(run_id) == 3


def test_shutter_open_true_false_and_null_round_trip(store, run_id, make_samples):
    shutter = np.array([True, False, None], dtype=object)
    store.insert_samples(run_id, make_samples(np.arange(3), shutter_open=shutter))
    np.testing.assert_array_equal(store.read_samples(run_id)["shutter_open"], [1.0, 0.0, np.nan])


def test_insert_for_unknown_run_raises_run_not_found(store, make_samples):
    with pytest.raises(RunNotFound):
        store.insert_samples(999, make_samples(np.arange(2)))


def test_bad_columns_store_nothing(store, run_id, make_samples):
    with pytest.raises(ValueError, match="voltage_mv"):
        store.insert_samples(run_id, make_samples(np.arange(2), voltage_mv=np.zeros(2)))
    assert store.sample_count(run_id) == 0


def test_large_batch_spanning_many_chunks_is_stored_whole(store, run_id, make_samples):
    added = store.insert_samples(run_id, make_samples(np.arange(2500)), batch_rows=300)
    assert added == 2500
    assert store.sample_count(run_id) == 2500
    assert store.max_seq(run_id) == 2499


def test_max_seq_is_none_before_the_first_sample(store, run_id):
    assert store.max_seq(run_id) is None
    assert store.sample_count(run_id) == 0


def test_read_samples_time_window_is_inclusive(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(20)))  # t_s = seq / 4
    back = store.read_samples(run_id, start_s=1.0, end_s=2.0)
    assert back["seq"].tolist() == [4, 5, 6, 7, 8]


def test_read_samples_column_subset_always_has_seq(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(3)))
    back = store.read_samples(run_id, columns=["luminance_cd_m2", "t_s"])
    assert list(back) == ["seq", "t_s", "luminance_cd_m2"]


def test_read_samples_unknown_column_is_rejected(store, run_id):
    with pytest.raises(ValueError, match="lum"):
        store.read_samples(run_id, columns=["lum"])


def test_read_samples_of_empty_run_gives_empty_typed_columns(store, run_id):
    back = store.read_samples(run_id)
    assert len(back["seq"]) == 0
    assert back["seq"].dtype == np.int64 and back["t_s"].dtype == np.float64


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=20), min_size=1,
                        max_size=6))
def test_any_mix_of_repeats_and_order_stores_the_union_once(store, batches):
    store.upsert_rig("rig1", "sim:G1")
    run = store.create_run("rig1", "lifetime", {}).id
    added = sum(store.insert_samples(run, sample_columns(np.array(b))) for b in batches)
    union = sorted(set().union(*batches))
    assert added == len(union)
    assert stored_seq(store, run) == union
