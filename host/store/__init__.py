"""The host's store: rigs, runs, every sample, events and calibrations (SQLite or PostgreSQL)."""

from host.store.columns import CSV_COLUMNS, SAMPLE_COLUMNS, SAMPLE_NAMES, json_rows
from host.store.errors import (
    CalibrationNotFound,
    ClaimRefused,
    InvalidRunUpdate,
    RigBusy,
    RigNotFound,
    RunNotFound,
    SchemaVersionError,
    SequenceNotFound,
    StoreError,
)
from host.store.records import (
    FINISHED_STATES,
    RUN_KINDS,
    RUN_STATES,
    Calibration,
    Event,
    RigRecord,
    Run,
    Sequence,
)
from host.store.store import UNSET, Store

__all__ = [
    "CSV_COLUMNS", "FINISHED_STATES", "RUN_KINDS", "RUN_STATES", "SAMPLE_COLUMNS",
    "SAMPLE_NAMES", "UNSET", "Calibration", "CalibrationNotFound", "ClaimRefused", "Event", "InvalidRunUpdate", "RigBusy", "RigRecord",
    "RigNotFound",
    "Run", "RunNotFound", "SchemaVersionError", "Sequence", "SequenceNotFound", "Store",
    "StoreError", "json_rows",
]
