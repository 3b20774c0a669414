"""A run's export file: its metadata in `#` lines, then its samples; and its analysis.

`lumenrig analyze` on an export gives the service's own summary of that run (the same
summary function on the same stored values: floats are written as their shortest exact
text), because the file carries what the summary reads besides the samples: the run's
parameters, the calibration it was taken with and its device events (where the hold began).
"""

import csv
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from host.analysis.errors import AnalysisInputError
from host.runs.kinds import KINDS
from photometry.spectrum import Spectrum

MAGIC = "# lumenrig run export 1"
L0_RULE = ("L0 is the sample flagged l0_point (flag 256): the first of the hold taken "
           "l0_settle_s into it; T-values count from where the hold began (docs/analysis.md)")
COLUMN_NOTES = ("pl_point: 1 on a scheduled PL point (flag 16); l0_point: 1 on L0's sample; "
                "dark: 1 on a dark pause's sample (flag 1024); "
                "current_density_ma_cm2: current_a on the calibration's pixel area; "
                "empty cell: no such value for this kind of run")
RUN_FIELDS = ("id", "rig", "channel", "kind", "state", "params", "run_key", "board_id",
              "imported", "created_at", "started_at", "finished_at", "error", "device",
              "operator", "notes", "tags", "calibration_id")
INT_COLUMNS = ("seq", "pd_range", "flags")


def header_lines(run: dict[str, Any], events: list[dict[str, Any]],
                 firmware: dict[str, Any] | None) -> str:
    """The `#` lines that open an export (run as Run.as_dict(), events as Event.as_dict())."""
    device_events = [{"code": e["code"], "name": e["name"], "data": e["data"]}
                     for e in events if e.get("code") is not None]
    described = {k: run.get(k) for k in RUN_FIELDS}
    described["stop_reason"] = (run.get("summary") or {}).get("stop_reason")
    lines = [
        MAGIC,
        "# run: " + json.dumps(described),
        "# calibration: " + json.dumps(run.get("calibration")),
        "# events: " + json.dumps(device_events),
        "# firmware (the rig's, as last seen): " + json.dumps(firmware),
        "# l0_rule: " + L0_RULE,
        "# columns: " + COLUMN_NOTES,
    ]
    return "\n".join(lines) + "\n"


def iter_export(header: str, rows: Iterator[str]) -> Iterator[str]:
    """The header lines, then the sample CSV."""
    yield header
    yield from rows


def is_export(path: str | Path) -> bool:
    """True when the file opens with an export's first line."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return f.readline().rstrip("\r\n") == MAGIC
    except (OSError, UnicodeDecodeError):
        return False  # the plain reader says what is wrong with it


def summarize_export(path: str | Path, kind: str,
                     spectrum: Spectrum | None = None) -> dict[str, Any]:
    """The service's summary of the exported run; spectrum replaces the run's (jvl)."""
    meta, cols = read_export(path)
    run = meta.get("run") or {}
    if run.get("kind") != kind:
        raise AnalysisInputError(f"{path}: an export of a {run.get('kind')} run, not {kind}: "
                                 f"use --kind {run.get('kind')}")
    params = dict(run.get("params") or {})
    if spectrum is not None:
        params["spectrum"] = spectrum.model_dump(mode="json")
    run_kind = KINDS[kind]
    wanted = {name: cols[name] for name in run_kind.summary_columns}
    summary = run_kind.summarize(params, meta.get("calibration"), wanted,
                                 meta.get("events") or [])
    if run.get("stop_reason") is not None:  # as the service adds it when the run ends
        summary["stop_reason"] = run["stop_reason"]
    return summary


def read_export(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata by key, columns): integer columns as int64, the rest float64 with NaN for an
    empty cell; any problem names the line."""
    name = str(path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    first_data = 0
    for number, line in enumerate(lines, 1):
        if not line.startswith("#"):
            first_data = number - 1
            break
        key, sep, value = line[1:].partition(": ")
        if sep and key.strip() in ("run", "calibration", "events"):
            try:
                meta[key.strip()] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise AnalysisInputError(f"{name}, line {number}: the {key.strip()} metadata "
                                         f"is not JSON ({exc.msg})") from None
    rows = csv.reader(io.StringIO("\n".join(lines[first_data:]), newline=""))
    header = next(rows, None)
    if not header:
        raise AnalysisInputError(f"{name}: no header row after the metadata")
    values: list[list[str]] = [[] for _ in header]
    for row in rows:
        if not row:
            continue
        if len(row) != len(header):
            raise AnalysisInputError(f"{name}, line {first_data + rows.line_num}: "
                                     f"{len(row)} cells, the header has {len(header)}")
        for column, cell in zip(values, row):
            column.append(cell)
    cols = {}
    for column_name, cells in zip(header, values):
        cols[column_name] = _column(cells, column_name, name)
    return meta, cols


def _column(cells: list[str], column: str, name: str) -> np.ndarray:
    try:
        if column in INT_COLUMNS:
            return np.array([int(cell) for cell in cells], np.int64)
        return np.array([float(cell) if cell else math.nan for cell in cells], np.float64)
    except ValueError as exc:
        raise AnalysisInputError(f"{name}: column {column}: {exc}") from None
