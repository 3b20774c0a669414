"""Creating the schema on open and the path to upgrade it: one numbered step per change."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from host.store.engine import driver_connection
from host.store.errors import SchemaVersionError
from host.store.records import RUN_STATES
from host.store.tables import (
    SCHEMA_VERSION,
    metadata,
    runs,
    schema_version,
    sequences,
    utc_now,
)

# Columns of `runs` at schema version 1 that version 2 keeps.
_RUN_COLUMNS_V1 = ("id", "rig", "kind", "state", "params", "progress", "summary", "created_at",
                   "started_at", "finished_at", "error", "calibration")
_NO_KEY_NOTE = ("stored before runs carried a run key (schema version 1): this version of "
                "lumenrig cannot follow it on the rig")


def _v1_to_v2(conn: sa.Connection) -> None:
    """Runs get their wire key, board and imported flag, and the state `interrupted`.

    A run left queued or running by version 1 has no key, so no board can be matched to it:
    it is closed as failed with a note rather than left running with nobody measuring it.
    """
    states = ", ".join(f"'{state}'" for state in RUN_STATES)
    if conn.dialect.name == "sqlite":
        _rebuild_runs_on_sqlite(conn, _RUN_COLUMNS_V1, "imported")
    else:
        for statement in (
                "ALTER TABLE runs DROP CONSTRAINT run_state",
                f"ALTER TABLE runs ADD CONSTRAINT run_state CHECK (state IN ({states}))",
                "ALTER TABLE runs ADD COLUMN run_key BIGINT UNIQUE",
                "ALTER TABLE runs ADD COLUMN board_id VARCHAR(16)",
                "ALTER TABLE runs ADD COLUMN imported BOOLEAN NOT NULL DEFAULT false",
                "ALTER TABLE runs DROP COLUMN device_run_id"):
            conn.exec_driver_sql(statement)
    conn.execute(runs.update().where(runs.c.state.in_(("queued", "running"))).values(
        state="failed", error=_NO_KEY_NOTE, finished_at=utc_now()))


def _rebuild_runs_on_sqlite(conn: sa.Connection, columns: tuple[str, ...],
                            false_column: str | None = None) -> None:
    """SQLite cannot change a CHECK constraint in place: the table is rebuilt to today's
    columns, as SQLite's own ALTER TABLE guide does it, in one explicit transaction with
    foreign keys off (with them on, dropping the old table would cascade to every event of
    every run). columns: what is copied; false_column: a new flag set false on every row.

    The connection keeps foreign keys off after the commit: Store reopens its connections.
    """
    dbapi = driver_connection(conn)
    if dbapi.in_transaction:
        raise SchemaVersionError("the SQLite upgrade must run before anything is written")
    dbapi.execute("PRAGMA foreign_keys=OFF")
    dbapi.execute("BEGIN IMMEDIATE")  # committed with the rest of ensure_schema's work
    conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    conn.exec_driver_sql("ALTER TABLE runs RENAME TO runs_v1")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_runs_rig_state")
    runs.create(conn)
    names = ", ".join(columns)
    if false_column:
        conn.exec_driver_sql(f"INSERT INTO runs ({names}, {false_column}) "
                             f"SELECT {names}, 0 FROM runs_v1")
    else:
        conn.exec_driver_sql(f"INSERT INTO runs ({names}) SELECT {names} FROM runs_v1")
    conn.exec_driver_sql("DROP TABLE runs_v1")
    conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaVersionError(f"upgrading the runs table broke foreign keys: {broken[:5]}")


def _v2_to_v3(conn: sa.Connection) -> None:
    """Runs get labels (device, operator, notes, tags), an archived flag, their search text
    and the id of the calibration version they used (unknown, null, for older runs)."""
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    false = "false" if conn.dialect.name == "postgresql" else "0"
    # A SQLite table rebuilt by _v1_to_v2 in this same upgrade already has them.
    present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    for column in (f"device {json_type}", "operator VARCHAR(64)",
                   "notes TEXT NOT NULL DEFAULT ''", f"tags {json_type} NOT NULL DEFAULT '[]'",
                   f"archived BOOLEAN NOT NULL DEFAULT {false}",
                   "search TEXT NOT NULL DEFAULT ''",
                   "calibration_id INTEGER REFERENCES calibrations (id)"):
        if column.split()[0] not in present:
            conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN " + column)


# Columns of `runs` at schema version 3, all kept by version 4.
_RUN_COLUMNS_V3 = _RUN_COLUMNS_V1 + ("run_key", "board_id", "imported", "calibration_id",
                                     "device", "operator", "notes", "tags", "archived",
                                     "search")


def _v3_to_v4(conn: sa.Connection) -> None:
    """Test sequences: their table, a run's place in one (sequence, step, the stress run a
    check-up interrupted) and the run state `paused`."""
    sequences.create(conn, checkfirst=True)
    present = {c["name"] for c in sa.inspect(conn).get_columns("runs")}
    if "sequence_id" in present:  # rebuilt to today's table by _v1_to_v2 in this upgrade
        return
    if conn.dialect.name == "sqlite":
        _rebuild_runs_on_sqlite(conn, _RUN_COLUMNS_V3)
        return
    states = ", ".join(f"'{state}'" for state in RUN_STATES)
    for statement in (
            "ALTER TABLE runs DROP CONSTRAINT IF EXISTS run_state",
            f"ALTER TABLE runs ADD CONSTRAINT run_state CHECK (state IN ({states}))",
            "ALTER TABLE runs ADD COLUMN sequence_id INTEGER REFERENCES sequences (id)",
            "ALTER TABLE runs ADD COLUMN step_index INTEGER",
            "ALTER TABLE runs ADD COLUMN checkup_of INTEGER REFERENCES runs (id)"):
        conn.exec_driver_sql(statement)


# UPGRADES[v] turns a version-v database into version v + 1 inside one transaction.
UPGRADES: dict[int, Callable[[sa.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3,
                                                        3: _v3_to_v4}


def ensure_schema(conn: sa.Connection) -> tuple[int | None, int]:
    """Create missing tables, then bring the stored version to SCHEMA_VERSION; returns
    (the version found, None for a new database; the version now).

    Raises SchemaVersionError for a database newer than this code, or one with a version
    that has no upgrade step.
    """
    stored = _stored_version(conn)
    if stored is None:
        metadata.create_all(conn)
        conn.execute(schema_version.insert().values(id=1, version=SCHEMA_VERSION))
        return None, SCHEMA_VERSION
    if stored > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {stored} but this lumenrig knows only up to "
            f"{SCHEMA_VERSION}: upgrade lumenrig, or open another database")
    found = stored
    while stored < SCHEMA_VERSION:
        step = UPGRADES.get(stored)
        if step is None:
            raise SchemaVersionError(
                f"no upgrade from schema version {stored} to {stored + 1}")
        step(conn)
        stored += 1
    if stored != found:  # written once, last: a SQLite rebuild must begin the transaction
        conn.execute(schema_version.update().values(version=stored))
    metadata.create_all(conn)  # tables a later version added
    return found, stored


def _stored_version(conn: sa.Connection) -> int | None:
    if not sa.inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(sa.select(schema_version.c.version)).scalar_one_or_none()
