"""Exceptions of the store, each with a message a person can act on."""


class StoreError(Exception):
    """Base of every store error."""


class RunNotFound(StoreError, LookupError):
    """No run with that id."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"no run with id {run_id}")
        self.run_id = run_id


class RigNotFound(StoreError, LookupError):
    """No rig of that name (rigs are registered with upsert_rig)."""

    def __init__(self, rig: str) -> None:
        super().__init__(f"no rig named {rig!r}; register it with upsert_rig first")
        self.rig = rig


class CalibrationNotFound(StoreError, LookupError):
    """No stored calibration version with that id."""

    def __init__(self, calibration_id: int) -> None:
        super().__init__(f"no calibration with id {calibration_id}")
        self.calibration_id = calibration_id


class SequenceNotFound(StoreError, LookupError):
    """No test sequence with that id."""

    def __init__(self, sequence_id: int) -> None:
        super().__init__(f"no sequence with id {sequence_id}")
        self.sequence_id = sequence_id


class RigBusy(StoreError):
    """The rig's channel already has an unfinished run (queued, running or interrupted) in
    the store, perhaps started by another service on the same database."""

    def __init__(self, rig: str, run_id: int, state: str, channel: int = 0) -> None:
        where = f"rig {rig}" if channel == 0 else f"rig {rig} channel {channel}"
        super().__init__(f"{where} is busy with run {run_id} ({state})")
        self.channel = channel
        self.rig = rig
        self.run_id = run_id


class InvalidRunUpdate(StoreError, ValueError):
    """An update a run cannot take: an unknown state, leaving a finished state, bad progress."""


class SchemaVersionError(StoreError):
    """The database was written by another lumenrig version this one cannot read."""


class ClaimRefused(StoreError):
    """A site or rig name another service of the lab holds while it is online."""
