"""Reading samples back fast: whole columns as numpy arrays, gaps in seq, CSV chunks.

SQLite rows are fetched in chunks straight into structured arrays; PostgreSQL packs each
column server-side into one bytea that numpy reads in place. NULL reads back as NaN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from host.store.columns import COLUMN_BY_NAME, READ_DTYPES, SAMPLE_NAMES
from host.store.engine import driver_connection

FETCH_ROWS = 10_000  # rows fetched as Python tuples at once: about 1.4 MB for three columns


def check_names(names: Sequence[str] | None) -> tuple[str, ...]:
    """The requested columns in table order (seq always first); ValueError for unknown."""
    if names is None:
        return SAMPLE_NAMES
    unknown = sorted(set(names) - set(SAMPLE_NAMES))
    if unknown:
        raise ValueError(f"unknown sample columns {unknown}; expected some of {list(SAMPLE_NAMES)}")
    wanted = set(names) | {"seq"}
    return tuple(name for name in SAMPLE_NAMES if name in wanted)


def _where(start_s: float | None, end_s: float | None, mark: str,
           seqs: Sequence[int] | None = None) -> tuple[str, list[Any]]:
    clauses, params = ["run_id = " + mark], []
    if start_s is not None:
        clauses.append("t_s >= " + mark)
        params.append(float(start_s))
    if end_s is not None:
        clauses.append("t_s <= " + mark)
        params.append(float(end_s))
    if seqs is not None:  # one parameter however many: a JSON list (SQLite) or an array
        wanted = [int(s) for s in seqs]
        if mark == "?":
            clauses.append("seq IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(wanted))
        else:
            clauses.append("seq = ANY(%s)")
            params.append(wanted)
    return " AND ".join(clauses), params


def read_columns(conn: sa.Connection, run_id: int, names: tuple[str, ...],
                 start_s: float | None, end_s: float | None,
                 seqs: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Columns `names` of run_id's samples with start_s <= t_s <= end_s (and seq in seqs,
    when given), ordered by seq."""
    dbapi = driver_connection(conn)
    if conn.dialect.name == "sqlite":
        rows = _read_sqlite(dbapi, run_id, names, start_s, end_s, seqs)
        return {name: np.ascontiguousarray(rows[name]) for name in names}
    return _read_postgresql(dbapi, run_id, names, start_s, end_s, seqs)


def _read_dtype(names: tuple[str, ...]) -> np.dtype:
    return np.dtype([(name, READ_DTYPES[COLUMN_BY_NAME[name].kind]) for name in names])


def _read_sqlite(dbapi: Any, run_id: int, names: tuple[str, ...], start_s: float | None,
                 end_s: float | None, seqs: Sequence[int] | None) -> np.ndarray:
    where, params = _where(start_s, end_s, "?", seqs)
    query = f"SELECT {', '.join(names)} FROM samples WHERE {where} ORDER BY seq"
    return _fetch_sqlite(dbapi, query, [run_id, *params], _read_dtype(names))


def _fetch_sqlite(dbapi: Any, query: str, params: list[Any], dtype: np.dtype) -> np.ndarray:
    cursor = dbapi.cursor()
    try:
        cursor.execute(query, params)
        chunks = []
        while rows := cursor.fetchmany(FETCH_ROWS):
            chunks.append(np.array(rows, dtype=dtype))  # None -> NaN in float fields
    finally:
        cursor.close()
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)


def _pg_packed(name: str) -> str:
    """An aggregate packing a whole column into one bytea of big-endian 8-byte values."""
    column = COLUMN_BY_NAME[name]
    if column.kind == "int":
        return f"string_agg(int8send({name}::int8), '')"
    if column.kind == "bool":
        return f"string_agg(float8send(COALESCE({name}::int::float8, 'NaN')), '')"
    return f"string_agg(float8send(COALESCE({name}, 'NaN')), '')"


def _read_postgresql(dbapi: Any, run_id: int, names: tuple[str, ...], start_s: float | None,
                     end_s: float | None, seqs: Sequence[int] | None) -> dict[str, np.ndarray]:
    # One pass and one value per column: per-row fetching (or a binary COPY, which libpq
    # hands over row by row) costs several times more. All aggregates see the rows in the
    # same order; that order is made seq order here rather than trusted.
    where, params = _where(start_s, end_s, "%s", seqs)
    query = f"SELECT {', '.join(_pg_packed(n) for n in names)} FROM samples WHERE {where}"
    with dbapi.cursor() as cursor:
        cursor.execute(query, [run_id, *params], binary=True)
        packed = cursor.fetchone()
    out = {}
    for name, data in zip(names, packed):
        kind = COLUMN_BY_NAME[name].kind
        wire = ">i8" if kind == "int" else ">f8"
        out[name] = np.frombuffer(data or b"", dtype=wire).astype(READ_DTYPES[kind])
    order = np.argsort(out["seq"], kind="stable")
    if (order != np.arange(len(order))).any():
        out = {name: values[order] for name, values in out.items()}
    return out
