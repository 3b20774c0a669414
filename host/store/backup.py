"""A consistent copy of a SQLite store while a service writes to it (SQLite's online backup).

The copy is one snapshot: every run, event and sample committed before the copy began is in
it, nothing half-written. PostgreSQL has its own tools (pg_dump); this module refuses it
with that advice rather than copying table by table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """A backup that cannot be made; the message says what to do instead."""


def sqlite_path(url: str) -> Path:
    """The database file of a sqlite:/// URL (BackupError for anything else)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError(
            "%s is a %s database: back it up with its own tools, e.g. "
            "`pg_dump --format=custom --file=lumenrig.dump '%s'` (README, Backups)"
            % (parsed.render_as_string(hide_password=True), parsed.get_backend_name(),
               parsed.set(drivername="postgresql").render_as_string(hide_password=True)))
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing on disk to back up")
    return Path(parsed.database)


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the SQLite store at url to target (which must not exist yet); returns its size
    in bytes. Safe while a service is writing to the store."""
    source_path = sqlite_path(url)
    if not source_path.exists():
        raise BackupError("no database at %s" % source_path)
    if target.exists():
        raise BackupError("%s exists already: give a new file name" % target)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(target)
        try:
            # One step: a read transaction on the store for the whole copy. In WAL mode (the
            # store's) writers go on beside it; a copy in several steps would start over
            # every time the service commits, and never end while a run is storing samples.
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BackupError("backup of %s failed: %s" % (source_path, exc)) from exc
    finally:
        source.close()
    return target.stat().st_size
