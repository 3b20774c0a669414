"""CSV export of a run's samples, streamed in chunks so a long run never sits in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import sqlalchemy as sa

from host.store.columns import COLUMN_BY_NAME, CSV_COLUMNS
from host.store.engine import driver_connection


def _csv_expr(name: str) -> str:
    if COLUMN_BY_NAME[name].kind == "bool":
        return f"CASE WHEN {name} THEN 1 WHEN NOT {name} THEN 0 END AS {name}"
    return name


_CSV_SELECT = ", ".join(_csv_expr(name) for name in CSV_COLUMNS)
_CHUNK = (f"SELECT {_CSV_SELECT} FROM samples"
          " WHERE run_id = {mark} AND seq > {mark} ORDER BY seq LIMIT {mark}")
CHUNK_QUERY = {"sqlite": _CHUNK.format(mark="?"), "postgresql": _CHUNK.format(mark="%s")}


def iter_csv(connect: Callable[[], AbstractContextManager[sa.Connection]], run_id: int,
             chunk_rows: int) -> Iterator[str]:
    """Header line, then chunks of up to chunk_rows lines; each chunk is its own short read.

    Keyset paging on seq: a consumer may pause between chunks (a slow HTTP client) without
    holding a transaction open, and rows added meanwhile past the last seq still come out.
    Empty cell = NULL; shutter_open is 1 or 0; floats are Python's shortest exact repr on
    both databases (PostgreSQL floats come over in binary, unrounded).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    after = -1
    while True:
        with connect() as conn:
            cursor = driver_connection(conn).cursor()
            try:
                query = CHUNK_QUERY[conn.dialect.name]
                if conn.dialect.name == "postgresql":
                    cursor.execute(query, (run_id, after, chunk_rows), binary=True)
                else:
                    cursor.execute(query, (run_id, after, chunk_rows))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        if not rows:
            return
        out.seek(0)
        out.truncate()
        writer.writerows(rows)
        yield out.getvalue()
        after = int(rows[-1][0])
        if len(rows) < chunk_rows:
            return
