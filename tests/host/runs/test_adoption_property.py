"""Property: through any history of starts, resets, board swaps, reconnects and other
services' runs, a sample is stored only under the run whose key it carries, started on the
board that sent it (host/runs/adoption.py decides; this model applies its decisions)."""

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from host.runs.adoption import (
    BoardRun,
    FollowedRun,
    Settle,
    StoredRun,
    board_run,
    files_under,
    settle,
)

BOARDS = ("00000000000000b1", "00000000000000b2", "00000000000000b3")
RIG = "rig1"


@dataclass
class Board:
    run_key: int = 0
    running: bool = False


@dataclass
class Run:
    run_key: int
    board_id: str
    state: str
    imported: bool = False


@dataclass
class Host:
    runs: dict[int, Run] = field(default_factory=dict)
    followed: int | None = None

    def by_key(self, run_key: int) -> tuple[int, Run] | None:
        for run_id, run in self.runs.items():
            if run.run_key == run_key:
                return run_id, run
        return None


class Adoption(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.boards = {b: Board() for b in BOARDS}
        self.port = BOARDS[0]
        self.connected = True
        self.host = Host()
        self.next_key = 1000
        self.stored: list[tuple[int, int, str]] = []  # (run id, key carried, board that sent)

    def _key(self) -> int:
        self.next_key += 1
        return self.next_key

    def _end(self, state: str) -> None:
        self.host.runs[self.host.followed].state = state
        self.host.followed = None

    # ---- what happens to the boards and the link

    @precondition(lambda self: self.connected and self.host.followed is None)
    @rule()
    def start_a_run(self):
        key = self._key()
        run_id = len(self.host.runs) + 1
        self.host.runs[run_id] = Run(key, self.port, "running")
        board = self.boards[self.port]
        if board.running:  # NACK_BUSY: the record fails
            self.host.runs[run_id].state = "failed"
            return
        board.run_key, board.running = key, True
        self.host.followed = run_id

    @rule(board=st.sampled_from(BOARDS))
    def another_service_starts_a_run(self, board):
        if not self.boards[board].running:
            self.boards[board].run_key, self.boards[board].running = self._key(), True

    @rule(board=st.sampled_from(BOARDS))
    def a_run_ends_on_its_board(self, board):
        self.boards[board].running = False

    @rule(board=st.sampled_from(BOARDS))
    def a_board_is_reset(self, board):
        self.boards[board] = Board()
        if board == self.port:
            self.connected = False

    @rule(board=st.sampled_from(BOARDS))
    def the_port_reaches_a_board(self, board):
        self.port = board
        self.connected = False

    @precondition(lambda self: not self.connected and self.host.followed is not None)
    @rule()
    def the_link_stays_down_past_the_grace(self):
        run = self.host.runs[self.host.followed]
        if run.state == "running":
            run.state = "interrupted"

    @precondition(lambda self: not self.connected)
    @rule()
    def reconnect(self):
        self.connected = True
        board = self.boards[self.port]
        host = self.host
        if host.followed is not None:
            run = host.runs[host.followed]
            decision = settle(FollowedRun(run.run_key, run.board_id, run.state, run.imported),
                              self.port, board.run_key)
            if decision is Settle.REATTACH:
                run.state = "running"
                if not board.running:
                    self._end("completed")
            elif decision is Settle.RESUME:
                assert run.board_id == self.port, "a run is resumed only on its own board"
                if board.running:
                    self._end("failed")
                else:
                    board.run_key, board.running = run.run_key, True
            else:
                assert decision is not Settle.WAIT
                self._end("failed")
        followed_key = host.runs[host.followed].run_key if host.followed else None
        found = host.by_key(board.run_key) if board.run_key else None
        stored = (StoredRun(found[0], RIG, found[1].board_id, found[1].state in
                            ("completed", "aborted", "failed")) if found else None)
        if board_run(board.run_key, followed_key, stored,
                     board.running) is BoardRun.ENDED_BUT_RUNNING:
            board.running = False

    @precondition(lambda self: self.connected)
    @rule()
    def the_board_sends_samples(self):
        board = self.boards[self.port]
        if not board.run_key:
            return
        host = self.host
        if host.followed is not None and host.runs[host.followed].run_key == board.run_key:
            self.stored.append((host.followed, board.run_key, self.port))
            return
        found = host.by_key(board.run_key)
        stored = (StoredRun(found[0], RIG, found[1].board_id, True) if found else None)
        if files_under(stored, RIG, self.port):
            self.stored.append((found[0], board.run_key, self.port))

    @invariant()
    def every_sample_is_under_the_run_of_its_key_and_board(self):
        for run_id, key, board in self.stored:
            run = self.host.runs[run_id]
            assert run.run_key == key and run.board_id == board


TestAdoption = Adoption.TestCase
TestAdoption.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
