"""Creating the schema on open and the path to upgrade it: one numbered step per change."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from host.store.errors import SchemaVersionError
from host.store.tables import SCHEMA_VERSION, metadata, schema_version

# UPGRADES[v] turns a version-v database into version v + 1 inside one transaction
# (ALTER TABLE ... through conn.execute). Empty while the schema is at its first version.
UPGRADES: dict[int, Callable[[sa.Connection], None]] = {}


def ensure_schema(conn: sa.Connection) -> int:
    """Create missing tables, then bring the stored version to SCHEMA_VERSION; returns it.

    Raises SchemaVersionError for a database newer than this code, or one with a version
    that has no upgrade step.
    """
    metadata.create_all(conn)
    stored = conn.execute(sa.select(schema_version.c.version)).scalar_one_or_none()
    if stored is None:
        conn.execute(schema_version.insert().values(id=1, version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if stored > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {stored} but this lumenrig knows only up to "
            f"{SCHEMA_VERSION}: upgrade lumenrig, or open another database")
    while stored < SCHEMA_VERSION:
        step = UPGRADES.get(stored)
        if step is None:
            raise SchemaVersionError(
                f"no upgrade from schema version {stored} to {stored + 1}")
        step(conn)
        stored += 1
        conn.execute(schema_version.update().values(version=stored))
    return stored
