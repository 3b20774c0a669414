"""CSV export: the API's column order, exact values, NULL as an empty cell, streamed in chunks."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from host.store import CSV_COLUMNS, RunNotFound
from host.store.export import EXPORT_COLUMNS
from protocol import schema


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


def test_the_export_adds_current_density_on_the_pixel_and_the_flag_columns(store, make_samples):
    store.upsert_rig("rig1", "sim:G1")
    run = store.create_run("rig1", "jvl", {"start_v": 0, "stop_v": 5},
                           calibration={"pixel_area_mm2": 4.0})
    flags = np.array([schema.FLAG_PL_POINT, schema.FLAG_L0, 0])
    store.insert_samples(run.id, make_samples(np.arange(3), current_a=np.array([1e-3, 2e-3, 0.0]),
                                              flags=flags))
    header, *rows = parse(store.iter_export_csv(run.id))
    assert header == list(EXPORT_COLUMNS) and header[:len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    column = {name: [row[header.index(name)] for row in rows] for name in header}
    # 1 mA over 4 mm2 (0.04 cm2) is 25 mA/cm2
    assert [float(x) for x in column["current_density_ma_cm2"]] == pytest.approx([25, 50, 0])
    assert column["pl_point"] == ["1", "0", "0"] and column["l0_point"] == ["0", "1", "0"]
    bare = store.create_run("rig1", "jvl", {"start_v": 0, "stop_v": 5})
    store.insert_samples(bare.id, make_samples(np.arange(2)))
    header, *rows = parse(store.iter_export_csv(bare.id))
    assert [row[header.index("current_density_ma_cm2")] for row in rows] == ["", ""]
