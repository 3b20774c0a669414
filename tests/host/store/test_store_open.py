"""Opening a store: default location, schema version, upgrade refusal, use from many threads."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from host.settings import Settings, default_data_dir
from host.store import SchemaVersionError, Store
from host.store.upgrade import head_version
from tests.conftest import sample_columns

SCHEMA_VERSION = head_version()


def test_a_service_without_a_url_keeps_its_sqlite_file_in_its_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "lab", token="t" * 32)
    with Store(settings.db_url) as store:
        assert store.dialect == "sqlite"
        store.upsert_rig("rig1", "sim:G1")
    assert (tmp_path / "lab" / "lumenrig.sqlite").is_file()


def test_the_default_data_dir_follows_lumenrig_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMENRIG_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_data_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("LUMENRIG_DATA_DIR")
    assert default_data_dir().name == "lumenrig" and default_data_dir().is_absolute()


def test_sqlite_file_uses_wal_and_foreign_keys(sqlite_url):
    with Store(sqlite_url) as store, store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_new_database_records_the_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == \
            "%04d" % SCHEMA_VERSION


def test_database_from_a_newer_version_is_refused(store_url):
    Store(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"),
                     {"v": "%04d" % (SCHEMA_VERSION + 1)})
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
    assert store.max_seq(run_id) == 5199  # 5200 distinct seqs up to 5199: none missing


def _legacy_version_table(meta: sa.MetaData) -> sa.Table:
    """Where lumenrig kept its schema version before Alembic did."""
    return sa.Table("schema_version", meta,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("version", sa.Integer, nullable=False))


def _rigs_v4(meta: sa.MetaData) -> sa.Table:
    """`rigs` as versions 1 to 4 had it (before sites)."""
    from host.store import tables

    return sa.Table("rigs", meta,
                    *(c._copy() for c in tables.rigs.columns
                      if c.name not in ("site", "board_id", "status")))


def _v1_database(url: str) -> None:
    """A database as schema version 1 left it: runs without keys, one finished run with an
    event and samples, one still running."""
    from host.store import tables
    from host.store.engine import make_engine

    v1 = sa.MetaData()
    _legacy_version_table(v1)
    _rigs_v4(v1)
    for table in (tables.samples, tables.calibrations):
        table.to_metadata(v1)
    sa.Table(
        "runs", v1,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rig", sa.String(64), sa.ForeignKey("rigs.name"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", tables.Json, nullable=False),
        sa.Column("progress", sa.Double, nullable=False, default=0.0),
        sa.Column("summary", tables.Json, nullable=True),
        sa.Column("device_run_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", tables.UtcDateTime, nullable=False),
        sa.Column("started_at", tables.UtcDateTime, nullable=True),
        sa.Column("finished_at", tables.UtcDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("calibration", tables.Json, nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'completed', 'aborted', 'failed')",
                           name="run_state"),
        sa.Index("ix_runs_rig_state", "rig", "state"),
    )
    tables.events.to_metadata(v1)
    engine = make_engine(url)
    now = tables.utc_now()
    with engine.begin() as conn:
        v1.create_all(conn)
        conn.execute(v1.tables["schema_version"].insert().values(id=1, version=1))
        conn.execute(v1.tables["rigs"].insert().values(name="rig1", spec="sim:G1",
                                                       first_seen=now, last_seen=now))
        for state in ("completed", "running"):
            run_id = conn.execute(v1.tables["runs"].insert().values(
                rig="rig1", kind="lifetime", state=state, params={"voltage_v": 10.0},
                progress=0.5, created_at=now).returning(v1.tables["runs"].c.id)).scalar_one()
            conn.execute(v1.tables["runs"].update().values(device_run_id=run_id))
            conn.execute(v1.tables["events"].insert().values(
                run_id=run_id, rig="rig1", t=now, name="output_on", message="on"))
    engine.dispose()


def test_a_version_1_database_is_upgraded_keeping_every_run_and_event(store_url):
    _v1_database(store_url)
    with Store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        done, left = store.get_run(1), store.get_run(2)
        assert done.state == "completed" and done.run_key is None and not done.imported
        # A run left running has no key to find it on a board by: closed, with the reason.
        assert left.state == "failed" and "schema version 1" in left.error
        assert sorted(e.run_id for e in store.list_events(rig="rig1")) == [1, 2]
        run = store.create_run("rig1", "jvl", {}, run_key=99)
        store.update_run(run.id, state="running")
        assert store.update_run(run.id, state="interrupted").state == "interrupted"
        assert store.get_run_by_key(99).id == run.id == 3
        assert (done.notes, done.tags, done.device, done.archived) == ("", [], None, False)


def _v2_database(url: str) -> None:
    """A database as schema version 2 left it: one finished run with a calibration."""
    from host.store import tables
    from host.store.engine import make_engine

    v2 = sa.MetaData()
    _legacy_version_table(v2)
    _rigs_v4(v2)
    for table in (tables.samples, tables.calibrations,
                  tables.events):
        table.to_metadata(v2)
    sa.Table(
        "runs", v2,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rig", sa.String(64), sa.ForeignKey("rigs.name"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", tables.Json, nullable=False),
        sa.Column("progress", sa.Double, nullable=False, default=0.0),
        sa.Column("summary", tables.Json, nullable=True),
        sa.Column("run_key", sa.BigInteger, nullable=True, unique=True),
        sa.Column("board_id", sa.String(16), nullable=True),
        sa.Column("imported", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", tables.UtcDateTime, nullable=False),
        sa.Column("started_at", tables.UtcDateTime, nullable=True),
        sa.Column("finished_at", tables.UtcDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("calibration", tables.Json, nullable=True),
        sa.Index("ix_runs_rig_state", "rig", "state"),
    )
    engine = make_engine(url)
    now = tables.utc_now()
    with engine.begin() as conn:
        v2.create_all(conn)
        conn.execute(v2.tables["schema_version"].insert().values(id=1, version=2))
        conn.execute(v2.tables["rigs"].insert().values(name="rig1", spec="sim:G1",
                                                       first_seen=now, last_seen=now))
        conn.execute(v2.tables["runs"].insert().values(
            rig="rig1", kind="lifetime", state="completed", params={"voltage_v": 10.0},
            progress=1.0, created_at=now, run_key=7, imported=False,
            calibration={"pixel_area_mm2": 1.0}))
    engine.dispose()


def test_a_version_2_database_gets_run_labels_and_keeps_its_runs(store_url):
    _v2_database(store_url)
    with Store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        old = store.get_run(1)
        assert (old.run_key, old.calibration, old.calibration_id) == (7, {"pixel_area_mm2": 1.0},
                                                                       None)
        assert (old.device, old.operator, old.notes, old.tags, old.archived) == (
            None, None, "", [], False)
        edited = store.edit_run(1, {"notes": "re-measured", "tags": ["pe"]}, by="ana")
        assert (edited.notes, edited.tags) == ("re-measured", ["pe"])
        assert [r.id for r in store.list_runs(q="RE-MEAS", tags=["pe"])] == [1]


def _v3_database(url: str) -> None:
    """A database as schema version 3 left it: runs without a sequence, no `paused` state,
    one finished run."""
    from host.store import tables
    from host.store.engine import make_engine

    v3 = sa.MetaData()
    _legacy_version_table(v3)
    _rigs_v4(v3)
    for table in (tables.samples, tables.calibrations,
                  tables.events):
        table.to_metadata(v3)
    states = "', '".join(s for s in tables.RUN_STATES if s != "paused")
    sa.Table("runs", v3,
             *(c._copy() for c in tables.runs.columns
               if c.name not in ("sequence_id", "step_index", "checkup_of")),
             sa.ForeignKeyConstraint(["rig"], ["rigs.name"]),
             sa.ForeignKeyConstraint(["calibration_id"], ["calibrations.id"]),
             sa.CheckConstraint(f"state IN ('{states}')", name="run_state"),
             sa.Index("ix_runs_rig_state", "rig", "state"))
    engine = make_engine(url)
    now = tables.utc_now()
    with engine.begin() as conn:
        v3.create_all(conn)
        conn.execute(v3.tables["schema_version"].insert().values(id=1, version=3))
        conn.execute(v3.tables["rigs"].insert().values(name="rig1", spec="sim:G1",
                                                       first_seen=now, last_seen=now))
        conn.execute(v3.tables["runs"].insert().values(
            rig="rig1", kind="lifetime", state="completed", params={"voltage_v": 10.0},
            progress=1.0, created_at=now, run_key=7, imported=False, notes="kept",
            tags=["g1"], archived=False, search="kept"))
    engine.dispose()


def test_a_version_3_database_gets_sequences_and_the_paused_state(store_url):
    """Version 3 to 4: runs keep every column, gain their place in a sequence, and may be
    paused (the CHECK constraint is rebuilt on SQLite, altered on PostgreSQL)."""
    _v3_database(store_url)
    with Store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        old = store.get_run(1)
        assert (old.run_key, old.state, old.notes, old.tags, old.sequence_id,
                old.checkup_of) == (7, "completed", "kept", ["g1"], None, None)
        sequence = store.create_sequence("rig1", 0, {"steps": []})
        run = store.create_run("rig1", "lifetime", {"voltage_v": 10.0}, run_key=8,
                               sequence_id=sequence.id, step_index=0)
        store.update_run(run.id, state="running")
        assert store.update_run(run.id, state="paused").state == "paused"
        assert [r.id for r in store.sequence_runs(sequence.id)] == [run.id]


def _v4_database(url: str) -> None:
    """A store as the version before lab sites (4, before Alembic) left it: a rig, a
    completed run with an event, its calibration."""
    from host.store import tables
    from host.store.engine import make_engine

    v4 = sa.MetaData()
    _legacy_version_table(v4)
    _rigs_v4(v4)
    for table in (tables.samples, tables.calibrations, tables.events, tables.sequences,
                  tables.runs):
        table.to_metadata(v4)
    engine = make_engine(url)
    now = tables.utc_now()
    with engine.begin() as conn:
        v4.create_all(conn)
        conn.execute(v4.tables["schema_version"].insert().values(id=1, version=4))
        conn.execute(v4.tables["rigs"].insert().values(name="bench-a", spec="/dev/ttyACM0",
                                                       first_seen=now, last_seen=now))
        conn.execute(v4.tables["runs"].insert().values(
            rig="bench-a", kind="lifetime", state="completed", params={"voltage_v": 10.0},
            progress=1.0, created_at=now, run_key=11, imported=False))
        conn.execute(v4.tables["events"].insert().values(
            run_id=1, rig="bench-a", t=now, name="output_on", message="on"))
    engine.dispose()


def test_a_store_of_the_version_before_sites_keeps_its_rigs_and_runs(store_url):
    _v4_database(store_url)
    with Store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION
        rig = store.get_rig("bench-a")
        assert (rig.spec, rig.site, rig.board_id) == ("/dev/ttyACM0", None, None)
        run = store.get_run(1)
        assert (run.rig, run.state, run.run_key) == ("bench-a", "completed", 11)
        assert [e.name for e in store.list_events(run_id=1)] == ["output_on"]


def _default_text(default: object) -> str | None:
    """A column default as text, without the quotes and cast PostgreSQL reflects it with."""
    return None if default is None else re.sub(r"::[a-z ]+$", "", str(default)).strip("()'\"")


def _schema_differences(url: str) -> list[object]:
    """What Alembic's autogenerate finds between the database and today's tables."""
    from host.store.tables import metadata

    def differ(_context, _inspected, _column, inspected_default, _default, rendered) -> bool:
        return _default_text(inspected_default) != _default_text(rendered)

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": differ})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("previous", [None, _v1_database, _v2_database, _v3_database,
                                      _v4_database],
                         ids=["new", "version1", "version2", "version3", "version4"])
def test_created_and_upgraded_stores_have_exactly_todays_schema(store_url, previous):
    """Every column, type, default, key, foreign key and index as tables.py declares them,
    whether the store was created now or upgraded from an earlier version."""
    if previous is not None:
        previous(store_url)
    Store(store_url).close()
    assert _schema_differences(store_url) == []
    with Store(store_url) as again:  # opening at the head changes nothing
        assert again.schema_version == SCHEMA_VERSION
    assert _schema_differences(store_url) == []


def test_a_database_of_other_tables_is_not_taken_for_a_store(store_url):
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE inventory (id INTEGER PRIMARY KEY)")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="not a lumenrig store"):
        Store(store_url)


def test_services_opening_one_new_database_at_once_create_it_once(store_url):
    """Services started together on one database: one creates the schema, the others wait
    for it (PostgreSQL: an advisory lock; SQLite: the write lock) and find it made."""
    opened: list[int] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            with Store(store_url) as store:
                opened.append(store.schema_version)
        except Exception as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and opened == [SCHEMA_VERSION] * 4
    assert _schema_differences(store_url) == []
