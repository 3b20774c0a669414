"""PostgreSQL binary COPY of fixed-width rows, packed by numpy in one step.

Format: https://www.postgresql.org/docs/current/sql-copy.html ("Binary Format"): an
11-byte signature, flags and extension length, then per row an int16 field count and per
field an int32 byte length and the big-endian value, and an int16 -1 trailer.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)

# PostgreSQL type -> numpy big-endian dtype of its binary send format.
PG_DTYPES = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8"}


def row_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype:
    """The packed dtype of one row of (name, pg type) fields, with count and length words."""
    parts: list[tuple[str, str]] = [("_nfields", ">i2")]
    for name, pg_type in fields:
        parts.append(("_len_" + name, ">i4"))
        parts.append((name, PG_DTYPES[pg_type]))
    return np.dtype(parts)


def encode_rows(fields: Sequence[tuple[str, str]], columns: Mapping[str, object],
                n: int) -> bytes:
    """n packed rows (no header or trailer); no field may be NULL."""
    rows = np.empty(n, dtype=row_dtype(fields))
    rows["_nfields"] = len(fields)
    for name, pg_type in fields:
        rows["_len_" + name] = np.dtype(PG_DTYPES[pg_type]).itemsize
        rows[name] = columns[name]
    return rows.tobytes()


def encode(fields: Sequence[tuple[str, str]], columns: Mapping[str, object], n: int) -> bytes:
    """A whole COPY FROM STDIN (FORMAT binary) payload of n rows."""
    return HEADER + encode_rows(fields, columns, n) + TRAILER
