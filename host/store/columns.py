"""The stored sample columns: names, units, types, and checking what a caller hands in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["int", "float", "bool"]


@dataclass(frozen=True, slots=True)
class SampleColumn:
    """One column of the samples table; nullable columns read back as NaN where NULL."""

    name: str
    kind: Kind
    nullable: bool
    unit: str


# Table order. seq and the run id form the key; everything else is in physical units.
SAMPLE_COLUMNS: tuple[SampleColumn, ...] = (
    SampleColumn("seq", "int", False, ""),
    SampleColumn("t_s", "float", False, "s"),
    SampleColumn("setpoint_v", "float", False, "V"),
    SampleColumn("voltage_v", "float", False, "V"),
    SampleColumn("current_a", "float", False, "A"),
    SampleColumn("pd_a", "float", False, "A"),
    SampleColumn("luminance_cd_m2", "float", True, "cd/m2"),
    SampleColumn("pl", "float", True, ""),
    SampleColumn("temperature_c", "float", False, "degC"),
    SampleColumn("humidity_pct", "float", False, "%RH"),
    SampleColumn("shutter_open", "bool", True, ""),
    SampleColumn("pd_range", "int", False, ""),
    SampleColumn("flags", "int", False, ""),
)
COLUMN_BY_NAME: dict[str, SampleColumn] = {c.name: c for c in SAMPLE_COLUMNS}
SAMPLE_NAMES: tuple[str, ...] = tuple(c.name for c in SAMPLE_COLUMNS)

# The order of the API's sample rows and of the CSV export: the plotted quantities first.
CSV_COLUMNS: tuple[str, ...] = (
    "seq", "t_s", "voltage_v", "current_a", "luminance_cd_m2", "pl", "temperature_c",
    "humidity_pct", "shutter_open", "setpoint_v", "pd_a", "pd_range", "flags",
)

# What read_samples returns per kind: shutter_open comes back 1.0 / 0.0 / NaN.
READ_DTYPES: dict[Kind, Any] = {"int": np.int64, "float": np.float64, "bool": np.float64}


class SampleBatch:
    """Checked sample columns ready to store: int64 / float64 (NaN = NULL) / int8 (-1 = NULL).

    Build it with `SampleBatch.from_input`; `columns[name]` are contiguous arrays of one
    length `n`.
    """

    __slots__ = ("columns", "n")

    def __init__(self, columns: dict[str, np.ndarray], n: int) -> None:
        self.columns = columns
        self.n = n

    @classmethod
    def from_input(cls, samples: Any) -> SampleBatch:
        """Accept a mapping of name -> array-like, or a numpy structured array.

        Raises ValueError naming the column for an unknown or missing column, mismatched
        lengths, NaN in a column that cannot be NULL, an infinity, or a negative seq.
        Missing nullable columns are stored as NULL.
        """
        source = _as_mapping(samples)
        unknown = sorted(set(source) - set(SAMPLE_NAMES))
        if unknown:
            raise ValueError(f"unknown sample columns {unknown}; expected some of {list(SAMPLE_NAMES)}")
        missing = [c.name for c in SAMPLE_COLUMNS if not c.nullable and c.name not in source]
        if missing:
            raise ValueError(f"missing sample columns {missing}")
        n = len(np.asarray(source["seq"]).reshape(-1))
        columns: dict[str, np.ndarray] = {}
        for column in SAMPLE_COLUMNS:
            raw = source.get(column.name)
            if raw is None:
                columns[column.name] = _null_column(column, n)
                continue
            values = np.asarray(raw).reshape(-1)
            if len(values) != n:
                raise ValueError(
                    f"column {column.name} has {len(values)} values, seq has {n}")
            columns[column.name] = _checked(column, values)
        if n and int(columns["seq"].min()) < 0:
            raise ValueError("seq must not be negative")
        return cls(columns, n)

    def slice(self, start: int, stop: int) -> SampleBatch:
        """Rows [start, stop) as views."""
        stop = min(stop, self.n)
        return SampleBatch({k: v[start:stop] for k, v in self.columns.items()},
                           max(0, stop - start))


def _as_mapping(samples: Any) -> Mapping[str, Any]:
    if isinstance(samples, np.ndarray):
        if samples.dtype.names is None:
            raise ValueError("a numpy sample array must be structured (named fields)")
        return {name: samples[name] for name in samples.dtype.names}
    if isinstance(samples, Mapping):
        return samples
    raise TypeError(f"samples must be a mapping of columns or a structured array, not {type(samples).__name__}")


def _null_column(column: SampleColumn, n: int) -> np.ndarray:
    if column.kind == "bool":
        return np.full(n, -1, dtype=np.int8)
    return np.full(n, np.nan, dtype=np.float64)


def _checked(column: SampleColumn, values: np.ndarray) -> np.ndarray:
    if column.kind == "int":
        return _checked_int(column, values)
    if column.kind == "bool":
        return _checked_bool(column, values)
    floats = np.ascontiguousarray(values, dtype=np.float64)
    if np.isinf(floats).any():
        raise ValueError(f"column {column.name} holds an infinity")
    if not column.nullable and np.isnan(floats).any():
        raise ValueError(f"column {column.name} cannot be null (NaN)")
    return floats


def _checked_int(column: SampleColumn, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "iub":
        return np.ascontiguousarray(values, dtype=np.int64)
    floats = np.asarray(values, dtype=np.float64)
    if not np.isfinite(floats).all() or (floats != np.round(floats)).any():
        raise ValueError(f"column {column.name} must hold whole numbers")
    return floats.astype(np.int64)


def _checked_bool(column: SampleColumn, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "b":
        return values.astype(np.int8)
    if values.dtype.kind == "O":
        return np.fromiter((-1 if v is None else int(bool(v)) for v in values),
                           dtype=np.int8, count=len(values))
    floats = np.asarray(values, dtype=np.float64)
    known = ~np.isnan(floats)
    if not np.isin(floats[known], (0.0, 1.0)).all():
        raise ValueError(f"column {column.name} must hold 0, 1, true, false or null")
    out = np.full(len(floats), -1, dtype=np.int8)
    out[known] = floats[known].astype(np.int8)
    return out


def json_rows(columns: Mapping[str, np.ndarray], names: tuple[str, ...] = CSV_COLUMNS,
              index: np.ndarray | None = None) -> list[list[Any]]:
    """Rows (lists in `names` order) of read_samples output, optionally only the rows `index`.

    This is the `rows` of the API's samples response: NaN becomes None, shutter_open a bool.
    """
    converted = []
    for name in names:
        values = columns[name] if index is None else columns[name][index]
        kind = COLUMN_BY_NAME[name].kind
        cells = values.tolist()
        if kind == "bool":
            cells = [None if math.isnan(v) else v == 1.0 for v in cells]
        elif kind == "float" and np.isnan(values).any():
            cells = [None if math.isnan(v) else v for v in cells]
        converted.append(cells)
    return [list(row) for row in zip(*converted)]
