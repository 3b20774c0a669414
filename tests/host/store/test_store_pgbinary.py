"""PostgreSQL binary COPY rows packed by numpy, checked against a struct reading of the spec."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from host.store import pgbinary

FIELDS = [("a", "int4"), ("b", "int8"), ("c", "float8"), ("d", "int2")]
STRUCT = {"int2": ">h", "int4": ">i", "int8": ">q", "float8": ">d"}


def parse(payload: bytes) -> list[tuple]:
    """Read a binary COPY payload field by field as the PostgreSQL manual describes it."""
    assert payload[:11] == b"PGCOPY\n\xff\r\n\x00"
    flags, ext = struct.unpack_from(">ii", payload, 11)
    assert flags == 0
    pos = 19 + ext
    rows = []
    while True:
        (count,) = struct.unpack_from(">h", payload, pos)
        pos += 2
        if count == -1:
            assert pos == len(payload)
            return rows
        row = []
        for _name, pg_type in FIELDS[:count]:
            (length,) = struct.unpack_from(">i", payload, pos)
            pos += 4
            row.append(struct.unpack_from(STRUCT[pg_type], payload, pos)[0])
            assert length == struct.calcsize(STRUCT[pg_type])
            pos += length
        rows.append(tuple(row))


@given(st.lists(st.tuples(st.integers(-2**31, 2**31 - 1), st.integers(-2**63, 2**63 - 1),
                          st.floats(allow_nan=False), st.integers(-2**15, 2**15 - 1)),
                max_size=50))
def test_packed_rows_read_back_field_by_field(rows):
    columns = {name: np.array([r[i] for r in rows], dtype=np.dtype(STRUCT[t][1:]))
               for i, (name, t) in enumerate(FIELDS)}
    assert parse(pgbinary.encode(FIELDS, columns, len(rows))) == rows


def test_empty_payload_is_header_and_trailer():
    columns = {name: np.array([], dtype=np.int64) for name, _ in FIELDS}
    assert pgbinary.encode(FIELDS, columns, 0) == pgbinary.HEADER + pgbinary.TRAILER
