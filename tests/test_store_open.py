"""Opening a store: default location, schema version, upgrade refusal, use from many threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import sqlalchemy as sa

from host.store import SchemaVersionError, Store
from host.store.tables import SCHEMA_VERSION
from tests.conftest import sample_columns


def test_default_url_is_a_sqlite_file_under_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Store() as store:
        assert store.dialect == "sqlite"
        store.upsert_rig("rig1", "sim:G1")
    assert (tmp_path / "data" / "lumenrig.sqlite").is_file()


def test_sqlite_file_uses_wal_and_foreign_keys(sqlite_url):
    with Store(sqlite_url) as store, store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_new_database_records_the_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar() == \
            SCHEMA_VERSION


def test_database_from_a_newer_version_is_refused(store_url):
    Store(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = :v"),
                     {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="upgrade lumenrig"):
        Store(store_url)


def test_unsupported_url_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="sqlite:///PATH"):
        Store("mysql://localhost/x")


def test_in_memory_store_works_from_several_threads():
    with Store("sqlite://") as store:
        store.upsert_rig("rig1", "sim:G1")
        run_id = store.create_run("rig1", "lifetime", {}).id
        done = []

        def write(offset):
            done.append(store.insert_samples(run_id, sample_columns(np.arange(offset, offset + 50))))

        threads = [threading.Thread(target=write, args=(i * 25,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sum(done) == 125 and store.sample_count(run_id) == 125


def test_concurrent_writers_and_readers_store_each_seq_once(store):
    store.upsert_rig("rig1", "sim:G1")
    run_id = store.create_run("rig1", "lifetime", {}).id
    errors: list[BaseException] = []
    added: list[int] = []

    def writer(start: int) -> None:
        try:
            for first in range(start, start + 2000, 200):  # overlaps the next writer's range
                added.append(store.insert_samples(run_id, sample_columns(
                    np.arange(first, first + 400))))
                store.add_event("batch", rig="rig1", run_id=run_id)
        except Exception as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(20):
                seq = store.read_samples(run_id, columns=["seq"])["seq"]
                assert (np.diff(seq) > 0).all()
                store.list_runs()
        except Exception as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i * 1000,)) for i in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert sum(added) == store.sample_count(run_id) == 5200
    assert store.missing_seq_ranges(run_id, 5199) == []
