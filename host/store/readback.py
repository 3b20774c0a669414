"""Reading samples back fast: whole columns as numpy arrays, gaps in seq, CSV chunks.

SQLite rows are counted, then fetched in small chunks straight into columns made at their
full length, through a small page cache; PostgreSQL packs each column server-side into one
bytea that numpy reads in place. NULL reads back as NaN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import sqlalchemy as sa

from host.store.columns import COLUMN_BY_NAME, READ_DTYPES, SAMPLE_NAMES
from host.store.engine import driver_connection

FETCH_ROWS = 4096  # rows fetched as Python tuples at once: about 0.8 MB for five columns
# SQLite's page cache while a read scans a run, in KiB. A connection keeps the pages it read
# up to its cache_size (engine.SQLITE_PRAGMAS: 64 MiB): a 10^5-sample run is about 8 MiB of
# pages, kept by every pooled connection that ever read it whole. A scan reads each page
# once, so a small cache costs it nothing.
SCAN_CACHE_KIB = 512


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
        return _read_sqlite(dbapi, run_id, names, start_s, end_s, seqs)
    return _read_postgresql(dbapi, run_id, names, start_s, end_s, seqs)


def _read_dtype(names: tuple[str, ...]) -> np.dtype:
    return np.dtype([(name, READ_DTYPES[COLUMN_BY_NAME[name].kind]) for name in names])


def _read_sqlite(dbapi: Any, run_id: int, names: tuple[str, ...], start_s: float | None,
                 end_s: float | None, seqs: Sequence[int] | None) -> dict[str, np.ndarray]:
    where, params = _where(start_s, end_s, "?", seqs)
    query = f"SELECT {', '.join(names)} FROM samples WHERE {where} ORDER BY seq"
    count = f"SELECT count(*) FROM samples WHERE {where}"
    with _scan_cache(dbapi):
        return _fetch_sqlite(dbapi, count, query, [run_id, *params], names)


@contextmanager
def _scan_cache(dbapi: Any) -> Iterator[None]:
    """The connection's page cache held to SCAN_CACHE_KIB while the block runs (lowering it
    frees the pages over it), its own size given back after."""
    cursor = dbapi.cursor()
    try:
        (kept,) = cursor.execute("PRAGMA cache_size").fetchone()
        cursor.execute("PRAGMA cache_size=%d" % -SCAN_CACHE_KIB)
        try:
            yield
        finally:
            cursor.execute("PRAGMA cache_size=%d" % int(kept))
    finally:
        cursor.close()


def _fetch_sqlite(dbapi: Any, count: str, query: str, params: list[Any],
                  names: tuple[str, ...]) -> dict[str, np.ndarray]:
    # The columns are made at their full length first (the rows counted), and each chunk
    # of Python rows goes through one small structured array (None -> NaN in float fields)
    # into them: the read holds its result and one chunk. Joining chunks instead would hold
    # the result twice, the chunks' holes in the heap being too small for the joined
    # columns. Rows stored between the count and the read (a live run) grow the columns.
    dtype = _read_dtype(names)
    cursor = dbapi.cursor()
    try:
        (size,) = cursor.execute(count, params).fetchone()
        out = {name: np.empty(size, dtype=dtype[name]) for name in names}
        n = 0
        cursor.execute(query, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            chunk = np.array(rows, dtype=dtype)
            del rows
            if n + len(chunk) > size:
                size = max(2 * size, n + len(chunk))
                out = {name: _grown(values, n, size) for name, values in out.items()}
            for name, values in out.items():
                values[n:n + len(chunk)] = chunk[name]
            n += len(chunk)
    finally:
        cursor.close()
    if n < size:  # rows deleted meanwhile
        out = {name: values[:n].copy() for name, values in out.items()}
    return out


def _grown(values: np.ndarray, n: int, size: int) -> np.ndarray:
    """A column of size values, the first n those of values."""
    grown = np.empty(size, dtype=values.dtype)
    grown[:n] = values[:n]
    return grown


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
        packed = list(cursor.fetchone())
    out = {}
    for i, name in enumerate(names):  # each packed value freed once it is read
        kind = COLUMN_BY_NAME[name].kind
        wire = ">i8" if kind == "int" else ">f8"
        data, packed[i] = packed[i], None
        out[name] = np.frombuffer(data or b"", dtype=wire).astype(READ_DTYPES[kind])
        del data
    seq = out["seq"]
    if len(seq) > 1 and not bool((seq[1:] > seq[:-1]).all()):
        order = np.argsort(seq, kind="stable")
        for name in names:  # one column at a time: one extra column at most
            out[name] = out[name][order]
    return out
