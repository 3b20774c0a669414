"""Backups of a SQLite store taken while a run is storing samples: one consistent snapshot,
never a refusal or a torn run; PostgreSQL is sent to its own tools."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from host.store import Store
from host.store.backup import BackupError, backup_sqlite, sqlite_path
from tests.conftest import sample_columns

BATCH_ROWS = 50


def test_a_backup_taken_while_samples_are_stored_is_a_consistent_prefix(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "live.sqlite")
    store = Store(url)
    store.upsert_rig("rig1", "sim:G1")
    run_id = store.create_run("rig1", "lifetime", {"voltage_v": 10.0}).id
    store.insert_samples(run_id, sample_columns(np.arange(BATCH_ROWS)))
    stop = threading.Event()
    batches_after_copy = []
    copied = threading.Event()

    def write_batches() -> None:
        first = BATCH_ROWS
        while not stop.is_set():
            store.insert_samples(run_id, sample_columns(np.arange(first, first + BATCH_ROWS)))
            first += BATCH_ROWS
            if copied.is_set():
                batches_after_copy.append(first)

    writer = threading.Thread(target=write_batches)
    writer.start()
    try:
        copies = []
        for index in range(3):
            target = tmp_path / ("copy%d.sqlite" % index)
            assert backup_sqlite(url, target) == target.stat().st_size > 0
            copies.append(target)
        copied.set()
        while len(batches_after_copy) < 2:  # the writer goes on after every copy
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join(timeout=30)
    live_rows = store.read_samples(run_id)
    for target in copies:
        with Store("sqlite:///%s" % target) as copy:
            assert copy.get_run(run_id).params == {"voltage_v": 10.0}
            copied_rows = copy.read_samples(run_id)
            count = len(copied_rows["seq"])
            assert count % BATCH_ROWS == 0 and count >= BATCH_ROWS  # whole batches only
            assert np.array_equal(copied_rows["seq"], np.arange(count))
            for name, column in copied_rows.items():
                assert np.array_equal(column, live_rows[name][:count], equal_nan=True), name
    assert len(live_rows["seq"]) > max(
        len(Store("sqlite:///%s" % target).read_samples(run_id)["seq"]) for target in copies)
    store.close()


def test_a_backup_is_an_ordinary_sqlite_file_that_passes_its_integrity_check(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "live.sqlite")
    with Store(url) as store:
        store.upsert_rig("rig1", "sim:G1")
    backup_sqlite(url, tmp_path / "copy.sqlite")
    with sqlite3.connect(tmp_path / "copy.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_backup_never_overwrites_a_file(tmp_path):
    url = "sqlite:///%s" % (tmp_path / "live.sqlite")
    Store(url).close()
    (tmp_path / "old.sqlite").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists already"):
        backup_sqlite(url, tmp_path / "old.sqlite")
    assert (tmp_path / "old.sqlite").read_bytes() == b"keep me"


def test_a_missing_database_is_named(tmp_path):
    with pytest.raises(BackupError, match="no database at"):
        backup_sqlite("sqlite:///%s" % (tmp_path / "none.sqlite"), tmp_path / "copy.sqlite")
    assert not (tmp_path / "copy.sqlite").exists()


@pytest.mark.parametrize("url", ["postgresql+psycopg://lab@db.example/lumenrig",
                                 "postgresql://lab:secret@db.example/lumenrig"])
def test_postgresql_is_sent_to_pg_dump_without_its_password(url):
    with pytest.raises(BackupError, match="pg_dump") as refused:
        sqlite_path(url)
    assert "secret" not in str(refused.value)


def test_an_in_memory_database_has_nothing_to_copy():
    with pytest.raises(BackupError, match="in-memory"):
        sqlite_path("sqlite://")
