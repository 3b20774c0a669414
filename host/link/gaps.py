"""Which samples and events of a rig arrived and which are missing.

Pure bookkeeping, no I/O: the link's reader thread feeds it what arrives and what the
device reports in HEARTBEAT / HELLO_ACK. For samples it only finds gaps and repeats (the
run manager recovers them); for device events, which belong to no run, it also chooses the
RESEND_EVENTS to ask.
"""

from dataclasses import dataclass, field

import numpy as np

from host.link.intervals import IntervalSet

SeqRange = tuple[int, int, int]  # (run_key, first seq, last seq), inclusive


@dataclass
class RunSeqs:
    """Seqs of one run seen so far; `frontier` is one past the newest."""

    run_key: int
    frontier: int
    received: IntervalSet = field(default_factory=IntervalSet)


class SampleGaps:
    """Sample seqs per run as they arrive: live repeats dropped, gaps found and counted.

    Detection only. Which missing seqs to ask for again, how often, and when they count as
    lost is the run manager's (host/runs/recovery.py), the one owner of missing samples. A
    re-sent sample always passes: the manager asked for it, and it may be one this link saw
    while nobody stored it (a run imported from the board).
    """

    def __init__(self, max_runs: int = 16) -> None:
        self.max_runs = max_runs
        self.runs: dict[int, RunSeqs] = {}
        self.gaps_detected = 0
        self.duplicates = 0

    def start(self, run_key: int, from_seq: int) -> None:
        """A START_RUN numbers run_key's samples from from_seq on (0, or a resume's seq):
        seqs from there are new, whatever was seen under them before."""
        run = self.runs.get(run_key)
        if run is None:
            self._add_run(run_key, from_seq)
            return
        if run.frontier > from_seq:
            run.received.remove(from_seq, run.frontier - 1)
        run.frontier = from_seq

    def accept(self, run_key: int, seqs: np.ndarray, resent: bool = False
               ) -> tuple[np.ndarray | None, list[SeqRange]]:
        """Record the seqs of one batch.

        Returns (fresh, gaps): fresh is None when every record is to be delivered, else a
        boolean mask of those to deliver; gaps are the ranges this batch showed missing.
        """
        values = seqs.tolist()
        n = len(values)
        if n == 0:
            return None, []
        first = values[0]
        last = values[-1]
        run = self.runs.get(run_key)
        if run is None:
            run = self._add_run(run_key, first)
        # Fast path, nearly every batch: the next seqs in order (cheaper in lists than numpy).
        if (first == run.frontier and last - first == n - 1
                and values == list(range(first, last + 1))):
            run.received.add(first, last)
            run.frontier = last + 1
            return None, []
        fresh = np.ones(n, dtype=bool)
        gaps: list[SeqRange] = []
        for i, seq in enumerate(values):
            if seq in run.received:
                self.duplicates += 1
                fresh[i] = resent
                continue
            if seq > run.frontier:
                gaps.append((run_key, run.frontier, seq - 1))
                self.gaps_detected += 1
            run.frontier = max(run.frontier, seq + 1)
            run.received.add(seq, seq)
        return (None if fresh.all() else fresh), gaps

    def _add_run(self, run_key: int, frontier: int) -> RunSeqs:
        if len(self.runs) >= self.max_runs:
            del self.runs[next(iter(self.runs))]  # the longest known: runs end in order
        run = RunSeqs(run_key, frontier)
        self.runs[run_key] = run
        return run


def _ahead(a: int, b: int) -> int:
    """How far u16 event seq a is ahead of b (negative when behind)."""
    d = (a - b) & 0xFFFF
    return d if d < 0x8000 else d - 0x10000


class EventGaps:
    """Event seqs (u16, wrapping): duplicates filtered, gaps found, RESEND_EVENTS chosen.

    The device keeps its last `ring` events; a gap wider than that is lost at once, and
    seqs still missing after max_tries RESEND_EVENTS rounds are given up.
    """

    def __init__(self, tail_grace_s: float = 1.0, retry_after_s: float = 0.5,
                 max_tries: int = 3, ring: int = 32) -> None:
        self.tail_grace_s = tail_grace_s
        self.retry_after_s = retry_after_s
        self.max_tries = max_tries
        self.ring = ring
        self.expected: int | None = None
        self.missing: dict[int, int] = {}  # event_seq -> RESEND_EVENTS rounds answered
        self.claims: list[tuple[int, float]] = []
        self.asked_at: float | None = None
        self.gaps_detected = 0
        self.events_lost = 0
        self.duplicates = 0

    def start(self, next_event_seq: int) -> None:
        """Follow events from next_event_seq on (first contact, or the device rebooted)."""
        self.expected = next_event_seq & 0xFFFF
        self.missing.clear()
        self.claims.clear()

    def accept(self, event_seq: int) -> bool:
        """Record one EVENT; False for a duplicate."""
        if self.expected is None:
            self.start(event_seq)
        assert self.expected is not None
        d = _ahead(event_seq, self.expected)
        if d >= 0:
            self._mark_missing(self.expected, d)
            self.expected = (event_seq + 1) & 0xFFFF
            return True
        if event_seq in self.missing:
            del self.missing[event_seq]
            return True
        self.duplicates += 1
        return False

    def claim(self, next_event_seq: int, now: float) -> None:
        """The device says every event below next_event_seq was sent."""
        if self.expected is None:
            self.start(next_event_seq)
        elif _ahead(next_event_seq, self.expected) > 0:
            self.claims.append((next_event_seq & 0xFFFF, now))

    def poll(self, now: float) -> int:
        """Claims older than the grace become missing events; returns how many."""
        assert self.expected is not None or not self.claims
        before = len(self.missing)
        keep = []
        for seq, at in self.claims:
            assert self.expected is not None
            d = _ahead(seq, self.expected)
            if d <= 0:
                continue
            if now - at >= self.tail_grace_s:
                self._mark_missing(self.expected, d)
                self.expected = seq
            else:
                keep.append((seq, at))
        self.claims = keep
        return len(self.missing) - before

    def next_request(self, now: float) -> int | None:
        """The event seq to RESEND_EVENTS from now, or None."""
        if not self.missing or self.expected is None:
            return None
        if self.asked_at is not None and now - self.asked_at < self.retry_after_s:
            return None
        self.asked_at = now
        expected = self.expected
        return max(self.missing, key=lambda s: (expected - s) & 0xFFFF)

    def resend_done(self) -> list[int]:
        """A RESEND_EVENTS was answered: seqs still missing after max_tries rounds are lost."""
        lost = []
        for seq in list(self.missing):
            self.missing[seq] += 1
            if self.missing[seq] >= self.max_tries:
                del self.missing[seq]
                lost.append(seq)
        self.events_lost += len(lost)
        return lost

    def _mark_missing(self, first: int, count: int) -> None:
        if count <= 0:
            return
        self.gaps_detected += 1
        held = min(count, self.ring)
        self.events_lost += count - held
        for k in range(count - held, count):
            self.missing[(first + k) & 0xFFFF] = 0
