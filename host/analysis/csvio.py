"""Reads the CSV files of `lumenrig analyze` into float columns, or says what is wrong where."""

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from host.analysis.errors import AnalysisInputError
from host.analysis.validate import Locate, check_columns

OTHER_SEPARATORS = (";", "\t")


def read_columns(path: str | Path, required: Sequence[str]) -> tuple[dict[str, np.ndarray], Locate]:
    """The required columns as float arrays, plus a locator naming each row's file line.

    Extra columns are ignored; blank lines are skipped. Any problem raises AnalysisInputError
    naming the file, the line and the column.
    """
    name = str(path)
    text = _read_text(Path(path), required)
    rows = csv.reader(io.StringIO(text, newline=""))
    header, header_line = _header(rows, name, required)
    index = {col: header.index(col) for col in required}
    values: dict[str, list[float]] = {col: [] for col in required}
    lines: list[int] = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        line = rows.line_num
        for col in required:
            values[col].append(_number(row, index[col], col, f"{name}, line {line}"))
        lines.append(line)

    def locate(i: int) -> str:
        return f"{name}, line {lines[i]}" if 0 <= i < len(lines) else f"{name}, row {i}"

    columns = {col: np.asarray(v, float) for col, v in values.items()}
    check_columns(columns, f"{name} (header on line {header_line})")
    return columns, locate


def _read_text(path: Path, required: Sequence[str]) -> str:
    expected = ",".join(required)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AnalysisInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AnalysisInputError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AnalysisInputError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
            "save the file as UTF-8 CSV"
        ) from None
    if not text.strip():
        raise AnalysisInputError(
            f"{path}: the file is empty: expected a header row '{expected}' and data rows"
        )
    if "\x00" in text:
        raise AnalysisInputError(f"{path}: contains NUL bytes: not a text CSV file")
    return text


def _header(rows: Any, name: str, required: Sequence[str]) -> tuple[list[str], int]:
    expected = ",".join(required)
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        header = [cell.strip() for cell in row]
        line = rows.line_num
        missing = [col for col in required if col not in header]
        if missing:
            hint = _separator_hint(row)
            raise AnalysisInputError(
                f"{name}, line {line}: missing column(s) {', '.join(repr(c) for c in missing)}; "
                f"the header has {', '.join(repr(c) for c in header)}. "
                f"Expected a header row '{expected}' (extra columns are ignored){hint}"
            )
        doubled = [col for col in required if header.count(col) > 1]
        if doubled:
            raise AnalysisInputError(
                f"{name}, line {line}: column {doubled[0]!r} appears twice in the header"
            )
        return header, line
    raise AnalysisInputError(f"{name}: no header row: expected '{expected}'")


def _separator_hint(row: list[str]) -> str:
    for sep in OTHER_SEPARATORS:
        if len(row) == 1 and sep in row[0]:
            return f"; the file seems to separate fields with {sep!r}: use ','"
    return ""


def _number(row: list[str], index: int, column: str, where: str) -> float:
    if index >= len(row):
        raise AnalysisInputError(
            f"{where}: column {column!r} (field {index + 1}) is missing: the row has "
            f"{len(row)} field(s)"
        )
    cell = row[index].strip()
    if not cell:
        raise AnalysisInputError(f"{where}: column {column!r} is empty")
    try:
        value = float(cell)
    except ValueError:
        raise AnalysisInputError(f"{where}: column {column!r}: {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise AnalysisInputError(f"{where}: column {column!r}: {cell!r} is not a finite number")
    return value
