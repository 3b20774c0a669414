"""Checks on input arrays, with messages that point at the offending row."""

from collections.abc import Callable

import numpy as np

from host.analysis.errors import AnalysisInputError

# Turns a row index into a place a person can find: "sample 12" or "run.csv, line 14".
Locate = Callable[[int], str]
MIN_POINTS = 3


def sample_locator(i: int) -> str:
    return f"sample {i}"


def as_float_array(values: object, column: str) -> np.ndarray:
    """1-D float array of values, or AnalysisInputError naming the column."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisInputError(f"{column}: not a list of numbers ({exc})") from exc
    if arr.ndim != 1:
        raise AnalysisInputError(f"{column}: expected a 1-D list of numbers, got shape {arr.shape}")
    return arr


def check_columns(columns: dict[str, np.ndarray], where: str = "the data") -> int:
    """Same length everywhere and at least MIN_POINTS rows; returns the row count."""
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise AnalysisInputError(f"{where}: columns differ in length: {lengths}")
    n = next(iter(lengths.values()))
    if n < MIN_POINTS:
        raise AnalysisInputError(f"{where} has {n} data row(s): at least {MIN_POINTS} are needed")
    return n


def check_finite(values: np.ndarray, column: str, locate: Locate) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        i = int(bad[0])
        raise AnalysisInputError(f"{locate(i)}: {column} is {values[i]}, not a finite number")


def check_non_negative(values: np.ndarray, column: str, locate: Locate, why: str) -> None:
    bad = np.flatnonzero(values < 0)
    if len(bad):
        i = int(bad[0])
        raise AnalysisInputError(f"{locate(i)}: {column} is {values[i]:g}, negative: {why}")


def check_strictly_increasing(values: np.ndarray, column: str, locate: Locate) -> None:
    steps = np.diff(values)
    bad = np.flatnonzero(steps <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        if steps[i - 1] == 0:
            raise AnalysisInputError(
                f"{locate(i)}: duplicate {column} {values[i]:g} (same as {locate(i - 1)}): "
                "each row must have its own time"
            )
        raise AnalysisInputError(
            f"{locate(i)}: {column} goes backwards ({values[i]:g} after {values[i - 1]:g}): "
            "sort the rows by time"
        )


def validated(
    columns: dict[str, object], locate: Locate = sample_locator, where: str = "the data"
) -> dict[str, np.ndarray]:
    """Float arrays of equal length (>= MIN_POINTS), every value finite."""
    arrays = {name: as_float_array(values, name) for name, values in columns.items()}
    check_columns(arrays, where)
    for name, arr in arrays.items():
        check_finite(arr, name, locate)
    return arrays


def check_times(t_s: np.ndarray, locate: Locate, column: str = "t_s") -> None:
    """Time since the stress started: never negative, strictly increasing."""
    check_non_negative(t_s, column, locate, "t_s counts from the start of the run")
    check_strictly_increasing(t_s, column, locate)
