"""Rebuilding a table on SQLite, which cannot change a CHECK constraint or add a UNIQUE column
in place."""

import sqlalchemy as sa

from host.store.errors import SchemaVersionError


def rebuild_on_sqlite(conn: sa.Connection, table: sa.Table, columns: tuple[str, ...],
                     false_column: str | None = None) -> None:
    """Rebuild a table to today's definition (table, from host.store.tables) as SQLite's
    own ALTER TABLE guide does it, for what SQLite cannot change in place (a CHECK
    constraint, a UNIQUE column). columns: what is copied; false_column: a new flag set
    false on every row.

    host.store.upgrade runs every migration on SQLite with foreign keys off, inside one
    explicit transaction: with them on, dropping the old table would cascade to the rows
    that refer to it (every event of every run).
    """
    name = table.name
    conn.exec_driver_sql("PRAGMA legacy_alter_table=ON")  # references keep naming `name`
    conn.exec_driver_sql(f"ALTER TABLE {name} RENAME TO {name}_old")
    for index in table.indexes:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    table.create(conn)
    names = ", ".join(columns)
    if false_column:
        conn.exec_driver_sql(f"INSERT INTO {name} ({names}, {false_column}) "
                             f"SELECT {names}, 0 FROM {name}_old")
    else:
        conn.exec_driver_sql(f"INSERT INTO {name} ({names}) SELECT {names} FROM {name}_old")
    conn.exec_driver_sql(f"DROP TABLE {name}_old")
    conn.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaVersionError(f"rebuilding the {name} table broke foreign keys: "
                                 f"{broken[:5]}")


def run_states_check() -> str:
    """The run_state CHECK of today's states (PostgreSQL alters it in place)."""
    from host.store.records import RUN_STATES

    return "state IN (%s)" % ", ".join(f"'{state}'" for state in RUN_STATES)
