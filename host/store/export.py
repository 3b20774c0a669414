"""CSV export of a run's samples, streamed in chunks so a long run never sits in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from host.store.columns import COLUMN_BY_NAME, CSV_COLUMNS
from host.store.engine import driver_connection
from protocol import schema


def _csv_expr(name: str) -> str:
    if COLUMN_BY_NAME[name].kind == "bool":
        return f"CASE WHEN {name} THEN 1 WHEN NOT {name} THEN 0 END AS {name}"
    return name


_CSV_SELECT = ", ".join(_csv_expr(name) for name in CSV_COLUMNS)
_CHUNK = ("SELECT {select} FROM samples"
          " WHERE run_id = {mark} AND seq > {mark} ORDER BY seq LIMIT {mark}")
MARKS = {"sqlite": "?", "postgresql": "%s"}
# The export's derived columns (after CSV_COLUMNS): flags as 0/1 columns a spreadsheet reads,
# and the current density on the run's pixel area (the one bound value; NULL without one).
EXPORT_COLUMNS = CSV_COLUMNS + ("current_density_ma_cm2", "pl_point", "l0_point", "dark")
_EXPORT_SELECT = (_CSV_SELECT + ", current_a * 100000.0 / {mark} AS current_density_ma_cm2"
                  f", CASE WHEN (flags & {schema.FLAG_PL_POINT}) <> 0 THEN 1 ELSE 0 END"
                  f", CASE WHEN (flags & {schema.FLAG_L0}) <> 0 THEN 1 ELSE 0 END"
                  f", CASE WHEN (flags & {schema.FLAG_DARK}) <> 0 THEN 1 ELSE 0 END")


def iter_csv(connect: Callable[[], AbstractContextManager[sa.Connection]], run_id: int,
             chunk_rows: int) -> Iterator[str]:
    """Header line, then chunks of up to chunk_rows lines; each chunk is its own short read.

    Keyset paging on seq: a consumer may pause between chunks (a slow HTTP client) without
    holding a transaction open, and rows added meanwhile past the last seq still come out.
    Empty cell = NULL; shutter_open is 1 or 0; floats are Python's shortest exact repr on
    both databases (PostgreSQL floats come over in binary, unrounded).
    """
    return _iter_rows(connect, run_id, chunk_rows, CSV_COLUMNS, _CSV_SELECT, ())


def iter_export_csv(connect: Callable[[], AbstractContextManager[sa.Connection]], run_id: int,
                    chunk_rows: int, pixel_area_mm2: float | None) -> Iterator[str]:
    """iter_csv with EXPORT_COLUMNS: current_density_ma_cm2 (null without a pixel area),
    pl_point, l0_point and dark."""
    return _iter_rows(connect, run_id, chunk_rows, EXPORT_COLUMNS, _EXPORT_SELECT,
                      (pixel_area_mm2,))


def _iter_rows(connect: Callable[[], AbstractContextManager[sa.Connection]], run_id: int,
               chunk_rows: int, header: tuple[str, ...], select: str,
               select_values: tuple[Any, ...]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    yield out.getvalue()
    after = -1
    while True:
        with connect() as conn:
            dialect = conn.dialect.name
            mark = MARKS[dialect]
            query = _CHUNK.format(select=select.format(mark=mark), mark=mark)
            cursor = driver_connection(conn).cursor()
            try:
                values = select_values + (run_id, after, chunk_rows)
                if dialect == "postgresql":
                    cursor.execute(query, values, binary=True)
                else:
                    cursor.execute(query, values)
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
