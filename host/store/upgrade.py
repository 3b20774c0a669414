"""Creating the schema on open, and upgrading it in place with Alembic's revisions
(host/store/migrations/versions, one per change).

A new database is created from today's tables and stamped at the head revision. A database
from before Alembic kept the schema carries a `schema_version` row instead: it is stamped at
the revision of that number (revisions are numbered like the old versions), the row's table
dropped, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from host.store.engine import driver_connection
from host.store.errors import SchemaVersionError
from host.store.tables import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
LEGACY_VERSION_TABLE = "schema_version"  # before Alembic: one row, the version number
# Held by the transaction that creates or upgrades a PostgreSQL store: services of a lab
# opening one database at once take turns, and each finds what the first one did.
PG_SCHEMA_LOCK = 0x6C756D656E726967  # "lumenrig"


def _config(conn: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_version() -> int:
    """The schema version this code writes: the number of the newest revision."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations folder has a head"
    return int(head)


def ensure_schema(conn: sa.Connection) -> tuple[int | None, int]:
    """Create a new database or bring an older one to head_version(), in conn's transaction;
    returns (the version found, None for a new database; the version now).

    Raises SchemaVersionError for a database newer than this code, or one that holds tables
    but no schema version (not a lumenrig store).
    """
    _take_turns(conn)
    inspector = sa.inspect(conn)
    head = head_version()
    current = MigrationContext.configure(conn).get_current_revision()
    legacy = inspector.has_table(LEGACY_VERSION_TABLE)
    if current is None and not legacy:
        if inspector.get_table_names():
            raise SchemaVersionError(
                "the database holds tables but no lumenrig schema version: it is not a "
                "lumenrig store (open an empty database or one lumenrig made)")
        metadata.create_all(conn)
        command.stamp(_config(conn), "head")
        return None, head
    if current is not None and not _known(current):
        raise SchemaVersionError(
            f"the database has schema revision {current}, which this lumenrig (up to "
            f"{head:04d}) does not know: upgrade lumenrig, or open another database")
    found = (conn.execute(sa.text(f"SELECT version FROM {LEGACY_VERSION_TABLE}")).scalar_one()
             if current is None else int(current))
    if found < head or current is None:
        if current is None:
            command.stamp(_config(conn), "%04d" % found)
            conn.exec_driver_sql(f"DROP TABLE {LEGACY_VERSION_TABLE}")
        command.upgrade(_config(conn), "head")
        _check_sqlite_foreign_keys(conn)
    return found, head


def _known(revision: str) -> bool:
    """Whether this code has the script of a stored revision (not: a newer lumenrig's)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _take_turns(conn: sa.Connection) -> None:
    """Hold the database for this open's check, creation or upgrade: services opening one
    database at once take turns, and each finds what the one before it did.

    On SQLite the transaction is begun explicitly (the driver would run DDL outside one: a
    failed upgrade would be left half done) with foreign keys off first (a table rebuilt with
    them on would cascade its drop to every event of every run); the Store turns them on
    again after the commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_SCHEMA_LOCK})
        return
    dbapi = driver_connection(conn)
    if dbapi.in_transaction:
        raise SchemaVersionError("the SQLite schema must be checked before anything is written")
    dbapi.execute("PRAGMA foreign_keys=OFF")
    dbapi.execute("BEGIN IMMEDIATE")  # committed with the rest of the caller's transaction


def _check_sqlite_foreign_keys(conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaVersionError(f"the upgrade broke foreign keys: {broken[:5]}")
