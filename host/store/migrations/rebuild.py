"""Rebuilding `runs` on SQLite, which cannot change a CHECK constraint in place."""

import sqlalchemy as sa

from host.store.errors import SchemaVersionError
from host.store.tables import runs


def rebuild_runs_on_sqlite(conn: sa.Connection, columns: tuple[str, ...],
                           false_column: str | None = None) -> None:
    """Rebuild `runs` to today's table as SQLite's own ALTER TABLE guide does it (columns: what
    is copied; false_column: a new flag set false on every row).

    host.store.upgrade runs every migration on SQLite with foreign keys off, inside one
    explicit transaction: with them on, dropping the old table would cascade to every event
    of every run.
    """
    conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")
    conn.exec_driver_sql("ALTER TABLE runs RENAME TO runs_old")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_runs_rig_state")
    runs.create(conn)
    names = ", ".join(columns)
    if false_column:
        conn.exec_driver_sql(f"INSERT INTO runs ({names}, {false_column}) "
                             f"SELECT {names}, 0 FROM runs_old")
    else:
        conn.exec_driver_sql(f"INSERT INTO runs ({names}) SELECT {names} FROM runs_old")
    conn.exec_driver_sql("DROP TABLE runs_old")
    conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaVersionError(f"rebuilding the runs table broke foreign keys: {broken[:5]}")


def run_states_check() -> str:
    """The run_state CHECK of today's states (PostgreSQL alters it in place)."""
    from host.store.records import RUN_STATES

    return "state IN (%s)" % ", ".join(f"'{state}'" for state in RUN_STATES)
