"""Which run a board's data belongs to, and what the host does with its run on (re)connect.

Pure decisions, no I/O: RunManager acts on them, and a property test drives them through
random histories of stores, boards, resets and reconnects. The rule they keep: the host
adopts only what it started, on the board it started it on.
"""

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class FollowedRun:
    """The rig's unfinished run as the host follows it."""

    run_key: int
    board_id: str | None  # None: the run was created before any handshake told the board
    state: str  # queued, running or interrupted
    imported: bool = False
    starting: bool = False  # its START_RUN is in flight (the link retries it on reconnect)
    busy: bool = False  # finishing or resuming already


@dataclass(frozen=True)
class StoredRun:
    """What the store says of a run found by its key."""

    run_id: int
    rig: str
    board_id: str | None
    finished: bool


class Settle(Enum):
    """What to do with the followed run when a board answers the handshake."""

    FAIL_BOARD_CHANGED = "the port reaches another board: fail the run, never resume it there"
    WAIT = "a command of ours for this run is in flight: let it settle"
    REATTACH = "the board holds the run: follow it again (finish it if it ended)"
    FAIL_NEVER_STARTED = "a queued run the board never took"
    FAIL_CAME_BACK_WITHOUT = "an interrupted run the board lost meanwhile"
    FAIL_IMPORTED_LOST = "an imported run the board lost: its program is not known here"
    RESUME = "the board lost the run (a reset): continue it from the stored samples"


class BoardRun(Enum):
    """What the run key a board reports is, for the service on that rig."""

    NONE = "no run"
    FOLLOWED = "the run followed here"
    ORPHAN = "a run no store of ours started: show it, store nothing"
    ENDED_BUT_RUNNING = "ended here, still running there: stop it"
    ENDED = "ended here and there"


def settle(run: FollowedRun, board_id: str, device_run_key: int) -> Settle:
    if not run.starting and run.board_id is not None and run.board_id != board_id:
        return Settle.FAIL_BOARD_CHANGED
    if run.starting or run.busy:
        return Settle.WAIT
    if device_run_key == run.run_key:
        return Settle.REATTACH
    if run.state == "queued":
        return Settle.FAIL_NEVER_STARTED
    if run.state == "interrupted":
        return Settle.FAIL_CAME_BACK_WITHOUT
    if run.imported:
        return Settle.FAIL_IMPORTED_LOST
    return Settle.RESUME


def board_run(device_run_key: int, followed_key: int | None, stored: StoredRun | None,
              device_running: bool) -> BoardRun:
    """stored: the store's run with device_run_key (None when there is none)."""
    if not device_run_key:
        return BoardRun.NONE
    if device_run_key == followed_key:
        return BoardRun.FOLLOWED
    if stored is None:
        return BoardRun.ORPHAN
    if stored.finished and device_running:
        return BoardRun.ENDED_BUT_RUNNING
    return BoardRun.ENDED


def files_under(stored: StoredRun | None, rig: str, board_id: str | None) -> bool:
    """Whether data of a run the host is not following (late resends of an ended run) may
    be stored under it: only when that run was started on this rig and this board."""
    return (stored is not None and stored.board_id is not None and stored.rig == rig
            and stored.board_id == board_id)
