"""Fast, idempotent sample inserts: each (run_id, seq) is stored once, whatever arrives twice.

SQLite: one prepared INSERT ... ON CONFLICT DO NOTHING run by executemany over plain
Python lists. PostgreSQL: the rows are packed by numpy into a binary COPY into a
transaction-local temporary table, then moved with INSERT ... ON CONFLICT DO NOTHING.
Both run inside the caller's transaction and return how many rows were new.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
import sqlalchemy as sa

from host.store import pgbinary
from host.store.columns import SAMPLE_COLUMNS, SAMPLE_NAMES, SampleBatch
from host.store.engine import driver_connection

DEFAULT_BATCH_ROWS = 5000

_ALL = ("run_id",) + SAMPLE_NAMES

SQLITE_INSERT = (f"INSERT INTO samples ({', '.join(_ALL)}) VALUES ({', '.join('?' * len(_ALL))})"
                 " ON CONFLICT (run_id, seq) DO NOTHING")

# Staging layout: fixed width so numpy can pack it; NaN and -1 stand for NULL until the
# INSERT ... SELECT turns them back.
_PG_STAGE_TYPES = {"int": "int4", "float": "float8", "bool": "int2"}
PG_STAGE_FIELDS = [("run_id", "int4")] + [
    (c.name, "int8" if c.name == "seq" else _PG_STAGE_TYPES[c.kind]) for c in SAMPLE_COLUMNS]
PG_STAGE_TABLE = "samples_stage"
PG_CREATE_STAGE = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {PG_STAGE_TABLE}"
                   f" ({', '.join(f'{name} {t}' for name, t in PG_STAGE_FIELDS)})"
                   " ON COMMIT DELETE ROWS")


def _pg_select_expr(name: str, kind: str, nullable: bool) -> str:
    if kind == "bool":
        return f"CASE {name} WHEN 1 THEN true WHEN 0 THEN false END"
    if kind == "float" and nullable:
        return f"NULLIF({name}, 'NaN'::float8)"
    return name


_PG_STAGED = ", ".join(_pg_select_expr(c.name, c.kind, c.nullable) for c in SAMPLE_COLUMNS)
PG_MOVE = (f"INSERT INTO samples ({', '.join(_ALL)}) SELECT run_id, {_PG_STAGED}"
           f" FROM {PG_STAGE_TABLE} ON CONFLICT (run_id, seq) DO NOTHING")


def insert(conn: sa.Connection, run_id: int, batch: SampleBatch,
           batch_rows: int = DEFAULT_BATCH_ROWS) -> int:
    """Insert batch for run_id in chunks of batch_rows inside conn's transaction."""
    if batch.n == 0:
        return 0
    dbapi = driver_connection(conn)
    if conn.dialect.name == "sqlite":
        return _insert_sqlite(dbapi, run_id, batch, batch_rows)
    return _insert_postgresql(dbapi, run_id, batch, batch_rows)


def _insert_sqlite(dbapi: Any, run_id: int, batch: SampleBatch, batch_rows: int) -> int:
    cursor = dbapi.cursor()
    before = dbapi.total_changes
    try:
        for start in range(0, batch.n, batch_rows):
            part = batch.slice(start, start + batch_rows)
            lists = []
            for column in SAMPLE_COLUMNS:
                values = part.columns[column.name]
                cells = values.tolist()  # SQLite binds NaN as NULL
                if column.kind == "bool" and (values < 0).any():
                    cells = [None if v < 0 else v for v in cells]
                lists.append(cells)
            cursor.executemany(SQLITE_INSERT, zip(repeat(run_id), *lists))
    finally:
        cursor.close()
    return int(dbapi.total_changes - before)


def _insert_postgresql(dbapi: Any, run_id: int, batch: SampleBatch, batch_rows: int) -> int:
    with dbapi.cursor() as cursor:
        cursor.execute(PG_CREATE_STAGE)
        with cursor.copy(f"COPY {PG_STAGE_TABLE} FROM STDIN (FORMAT binary)") as copy:
            copy.write(pgbinary.HEADER)
            for start in range(0, batch.n, batch_rows):
                part = batch.slice(start, start + batch_rows)
                columns: dict[str, Any] = dict(part.columns, run_id=np.int32(run_id))
                copy.write(pgbinary.encode_rows(PG_STAGE_FIELDS, columns, part.n))
            copy.write(pgbinary.TRAILER)
        cursor.execute(PG_MOVE)  # the stage empties itself at commit or rollback
        return int(cursor.rowcount)
