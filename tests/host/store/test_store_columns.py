"""Checking sample columns before they are stored, and turning read-back columns into rows."""

from __future__ import annotations

import numpy as np
import pytest

from host.store import CSV_COLUMNS, json_rows
from host.store.columns import SampleBatch
from tests.conftest import sample_columns


def test_nan_in_a_column_that_cannot_be_null_is_refused():
    with pytest.raises(ValueError, match="voltage_v cannot be null"):
        SampleBatch.from_input(sample_columns(np.arange(3), voltage_v=np.array([1, np.nan, 2])))


def test_infinity_is_refused():
    with pytest.raises(ValueError, match="pl holds an infinity"):
        SampleBatch.from_input(sample_columns(np.arange(2), pl=np.array([np.inf, 1.0])))


def test_missing_required_column_is_named():
    columns = sample_columns(np.arange(2))
    del columns["temperature_c"]
    with pytest.raises(ValueError, match="temperature_c"):
        SampleBatch.from_input(columns)


def test_column_of_another_length_is_refused():
    with pytest.raises(ValueError, match="flags has 2 values, seq has 3"):
        SampleBatch.from_input(sample_columns(np.arange(3), flags=np.zeros(2, dtype=int)))


def test_negative_seq_is_refused():
    with pytest.raises(ValueError, match="negative"):
        SampleBatch.from_input(sample_columns(np.array([-1, 0])))


def test_fractional_integer_column_is_refused():
    with pytest.raises(ValueError, match="pd_range must hold whole numbers"):
        SampleBatch.from_input(sample_columns(np.arange(2), pd_range=np.array([0.5, 1.0])))


def test_shutter_open_accepts_bools_floats_and_none():
    for given in (np.array([True, False]), np.array([1.0, 0.0]),
                  np.array([True, False], dtype=object)):
        batch = SampleBatch.from_input(sample_columns(np.arange(2), shutter_open=given))
        assert batch.columns["shutter_open"].tolist() == [1, 0]
    batch = SampleBatch.from_input(sample_columns(np.arange(2),
                                                  shutter_open=np.array([np.nan, 1.0])))
    assert batch.columns["shutter_open"].tolist() == [-1, 1]


def test_shutter_open_other_numbers_are_refused():
    with pytest.raises(ValueError, match="shutter_open"):
        SampleBatch.from_input(sample_columns(np.arange(1), shutter_open=np.array([2.0])))


def test_plain_array_without_names_is_refused():
    with pytest.raises(ValueError, match="structured"):
        SampleBatch.from_input(np.zeros(3))


def test_json_rows_follow_csv_order_with_nulls_and_bools():
    columns = {name: np.zeros(2) for name in CSV_COLUMNS}
    columns.update(seq=np.array([0, 1]), pd_range=np.array([1, 2]), flags=np.array([4, 0]),
                   pl=np.array([np.nan, 0.5]), shutter_open=np.array([1.0, np.nan]))
    rows = json_rows(columns)
    assert rows[0][:9] == [0, 0.0, 0.0, 0.0, 0.0, None, 0.0, 0.0, True]
    assert rows[1][CSV_COLUMNS.index("pl")] == 0.5
    assert rows[1][CSV_COLUMNS.index("shutter_open")] is None
    assert isinstance(rows[0][0], int)


def test_json_rows_can_pick_rows_and_columns():
    columns = {"seq": np.arange(5), "t_s": np.arange(5) * 2.0}
    assert json_rows(columns, ("t_s", "seq"), np.array([1, 4])) == [[2.0, 1], [8.0, 4]]
