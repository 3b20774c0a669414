"""What the store hands back: plain frozen records of rigs, runs, events and calibrations."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from host.runkey import key_text
from host.runs.kindnames import KIND_NAMES

RUN_STATES = ("queued", "running", "interrupted", "paused", "completed", "aborted", "failed")
FINISHED_STATES = ("completed", "aborted", "failed")
# interrupted: the rig's link has been gone past the run's host-loss grace; the board has
# made itself safe and the run ends for good once it is back (or is aborted by hand).
UNFINISHED_STATES = ("queued", "running", "interrupted")
# paused: a sequence has stopped the stress for a check-up (host.sequences); the rig is free
# for the check-up and the run goes on from its stored samples (stress time continuous).
SEQUENCE_STATES = ("queued", "running", "completed", "aborted", "failed")
SEQUENCE_FINISHED = ("completed", "aborted", "failed")
RUN_KINDS = KIND_NAMES  # the store checks a run's kind against the kinds the host runs


def _jsonable(record: Any) -> dict[str, Any]:
    out = asdict(record)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    return out


@dataclass(frozen=True, slots=True)
class RigRecord:
    """A rig the lab has known; `firmware` is what its HELLO_ACK said (JSON); `site` the
    service that serves it, `board_id` the board last behind it, `status` its state as that
    service last wrote it (host.lab)."""

    name: str
    spec: str
    firmware: dict[str, Any] | None
    first_seen: datetime
    last_seen: datetime
    site: str | None = None
    board_id: str | None = None
    status: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601 UTC)."""
        return _jsonable(self)


@dataclass(frozen=True, slots=True)
class Run:
    """One experiment; timestamps are UTC-aware, `calibration` is the rig's at creation
    (with the device's area in place of the pixel area when the run gave one).

    run_key is the run's identity on the wire (shown as 16 hex digits), board_id the board
    (16 hex digits) it was started on; imported: adopted from a board that ran it for
    another service, its parameters partly unknown.
    """

    id: int
    rig: str
    kind: str
    state: str
    params: dict[str, Any]
    progress: float
    summary: dict[str, Any] | None
    run_key: int | None
    board_id: str | None
    imported: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    calibration: dict[str, Any] | None
    calibration_id: int | None  # the calibration version it was started with
    device: dict[str, Any] | None  # the device under test (host.runs.labels)
    operator: str | None
    notes: str
    tags: list[str]
    archived: bool
    # Its place in a test sequence (host.sequences): the sequence, the step, and for a
    # check-up the stress run it interrupted; None for a run started alone.
    sequence_id: int | None = None
    step_index: int | None = None
    checkup_of: int | None = None
    channel: int = 0  # the rig's channel (pixel) it ran on

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES

    def as_dict(self, calibration: bool = True) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601 UTC, the run key as hex text); without the
        calibration where runs are listed or their state changes are streamed (it can hold
        curves of thousands of points, and it never changes after the run is created)."""
        out = _jsonable(self)
        out["run_key"] = key_text(self.run_key)
        if not calibration:
            del out["calibration"]
        return out


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened on a rig or in a run: a safety action, a link gap, a note.

    `code` is the device's EV_* code when the device reported it, else None; `key` is the
    caller's identity for the event that makes recording it twice a no-op.
    """

    id: int
    run_id: int | None
    rig: str | None
    t: datetime
    code: int | None
    name: str
    message: str
    data: dict[str, Any] | None
    key: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601 UTC)."""
        return _jsonable(self)


@dataclass(frozen=True, slots=True)
class Sequence:
    """A test sequence (host.sequences): the request as validated (`spec`), where it is
    (`step_index`, and `cursor`, what its runner needs to go on after a restart)."""

    id: int
    rig: str
    channel: int
    state: str
    spec: dict[str, Any]
    step_index: int
    cursor: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.state in SEQUENCE_FINISHED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601 UTC)."""
        return _jsonable(self)


@dataclass(frozen=True, slots=True)
class Calibration:
    """One calibration of a rig, as set at `set_at`; earlier ones stay in the history."""

    id: int
    rig: str
    calibration: dict[str, Any]
    set_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO 8601 UTC)."""
        return _jsonable(self)
