"""Opening the database: SQLite pragmas, JSON that both dialects accept."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

# WAL lets the API read while a run writes; NORMAL sync is durable across a process crash
# (only a power cut can lose the last commits); the cache holds a run's recent pages.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars and arrays to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_dumps(value: Any) -> str:
    """The serializer of every JSON column: the same text on SQLite and PostgreSQL (JSONB
    refuses NaN, so a missing number is stored as null on both)."""
    return json.dumps(_plain(value), allow_nan=False)


def is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for a SQLite file (its folder created) or in-memory DB, or PostgreSQL.

    PostgreSQL URLs use psycopg 3 (`postgresql+psycopg://user@host:port/db`; a bare
    `postgresql://` is read the same way).
    """
    parsed = sa.make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, json_serializer=json_dumps, pool_pre_ping=True)
    raise ValueError(f"unsupported database {parsed.render_as_string(hide_password=True)!r}: use sqlite:///PATH or postgresql+psycopg://...")


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if is_memory_sqlite(url):
        engine = sa.create_engine("sqlite://", json_serializer=json_dumps,
                                  poolclass=StaticPool,
                                  connect_args={"check_same_thread": False})
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, json_serializer=json_dumps)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    return engine


def driver_connection(conn: sa.Connection) -> Any:
    """The sqlite3 or psycopg connection under conn, for the bulk paths SQLAlchemy would slow."""
    dbapi = conn.connection.driver_connection
    if dbapi is None:
        raise RuntimeError("the database connection is closed")
    return dbapi
