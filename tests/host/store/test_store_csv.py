"""CSV export: the API's column order, exact values, NULL as an empty cell, streamed in chunks."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from host.store import CSV_COLUMNS, RunNotFound


def parse(chunks) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks))))


def test_header_is_the_api_column_order(store, run_id):
    rows = parse(store.iter_samples_csv(run_id))
    assert rows == [list(CSV_COLUMNS)]
    assert CSV_COLUMNS[:9] == ("seq", "t_s", "voltage_v", "current_a", "luminance_cd_m2", "pl",
                               "temperature_c", "humidity_pct", "shutter_open")


def test_values_read_back_exactly_from_csv(store, run_id, make_samples):
    batch = make_samples(np.arange(30), pl=np.linspace(1.0, 0.5, 30),
                         shutter_open=np.arange(30) % 2 == 0)
    store.insert_samples(run_id, batch)
    header, *rows = parse(store.iter_samples_csv(run_id))
    for name in ("t_s", "voltage_v", "current_a", "pd_a", "luminance_cd_m2", "pl"):
        column = [float(row[header.index(name)]) for row in rows]
        assert column == batch[name].tolist(), name
    assert [int(row[0]) for row in rows] == list(range(30))
    assert [row[header.index("shutter_open")] for row in rows[:3]] == ["1", "0", "1"]
    assert [int(row[header.index("flags")]) for row in rows] == batch["flags"].tolist()


def test_null_cells_are_empty(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.arange(2), pl=np.array([np.nan, 0.5])))
    header, first, second = parse(store.iter_samples_csv(run_id))
    assert first[header.index("pl")] == "" and second[header.index("pl")] == "0.5"
    assert first[header.index("shutter_open")] == ""


def test_chunked_export_has_every_row_once_in_order(store, run_id, make_samples):
    store.insert_samples(run_id, make_samples(np.r_[0:40, 50:73]))
    chunks = list(store.iter_samples_csv(run_id, chunk_rows=10))
    assert len(chunks) == 1 + 7
    assert [int(r[0]) for r in parse(chunks)[1:]] == list(range(40)) + list(range(50, 73))
    assert "".join(chunks) == "".join(store.iter_samples_csv(run_id, chunk_rows=1000))


def test_csv_of_unknown_run_raises_before_streaming(store):
    with pytest.raises(RunNotFound):
        store.iter_samples_csv(31337)


def test_rows_stored_while_streaming_past_the_cursor_are_included(store, run_id,
                                                                   make_samples):
    store.insert_samples(run_id, make_samples(np.arange(10)))
    chunks = store.iter_samples_csv(run_id, chunk_rows=5)
    first = [next(chunks), next(chunks)]
    store.insert_samples(run_id, make_samples(np.arange(10, 12)))
    rows = parse(first + list(chunks))
    assert [int(r[0]) for r in rows[1:]] == list(range(12))
