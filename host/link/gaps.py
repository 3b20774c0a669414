"""Which samples and events of a rig arrived, which are missing, and which RESEND to ask next.

Pure bookkeeping, no I/O: the link's reader thread feeds it what arrives and what the
device reports in HEARTBEAT / HELLO_ACK, and sends the requests it hands back.
"""

from dataclasses import dataclass, field

import numpy as np

from host.link.intervals import IntervalSet

SeqRange = tuple[int, int, int]  # (run_key, first seq, last seq), inclusive


@dataclass
class RunSeqs:
    """Seq bookkeeping of one run. Every seq below `frontier` is received, missing or lost."""

    run_key: int
    frontier: int
    received: IntervalSet = field(default_factory=IntervalSet)
    missing: IntervalSet = field(default_factory=IntervalSet)
    lost: IntervalSet = field(default_factory=IntervalSet)
    # (next_seq the device reported, when): seqs below it must arrive within the grace.
    claims: list[tuple[int, float]] = field(default_factory=list)
    # first seq of a requested range -> (when last asked, times asked)
    attempts: dict[int, tuple[float, int]] = field(default_factory=dict)


class SampleGaps:
    """Sample seqs per run: duplicates filtered, gaps found, RESEND ranges chosen.

    tail_grace_s: how long a seq the device reported as sent (next_seq) may take to
    arrive before it counts as lost in transit (batches wait up to 100 ms on the device).
    retry_after_s: a requested range still missing after this is asked for again, at most
    max_tries times, then recorded as lost. max_span: seqs per RESEND request.
    """

    def __init__(self, tail_grace_s: float = 1.0, retry_after_s: float = 0.5,
                 max_span: int = 256, max_tries: int = 6, max_runs: int = 16) -> None:
        self.tail_grace_s = tail_grace_s
        self.retry_after_s = retry_after_s
        self.max_span = max_span
        self.max_tries = max_tries
        self.max_runs = max_runs
        self.runs: dict[int, RunSeqs] = {}
        self.gaps_detected = 0
        self.samples_lost = 0
        self.duplicates = 0

    def track(self, run_key: int, from_seq: int) -> list[SeqRange]:
        """Want every seq of run_key from from_seq on; seqs before what is known become missing.

        Returns the ranges that became missing (a backfill the caller asked for).
        """
        run = self.runs.get(run_key)
        if run is None:
            self._add_run(run_key, from_seq)
            return []
        known = min(x for x in (run.received.first(), run.missing.first(), run.lost.first(),
                                run.frontier) if x is not None)
        if from_seq >= known:
            return []
        run.missing.add(from_seq, known - 1)
        self.gaps_detected += 1
        return [(run_key, from_seq, known - 1)]

    def forget(self, run_key: int) -> None:
        """Stop tracking a finished run."""
        self.runs.pop(run_key, None)

    def missing_count(self) -> int:
        return sum(run.missing.count() for run in self.runs.values())

    def accept(self, run_key: int, seqs: np.ndarray) -> tuple[np.ndarray | None, list[SeqRange]]:
        """Record the seqs of one batch.

        Returns (fresh, gaps): fresh is None when every record is new, else a boolean mask
        of the records not seen before; gaps are the ranges this batch showed missing.
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
                fresh[i] = False
                self.duplicates += 1
                continue
            if seq > run.frontier:
                run.missing.add(run.frontier, seq - 1)
                gaps.append((run_key, run.frontier, seq - 1))
                self.gaps_detected += 1
            if seq >= run.frontier:
                run.frontier = seq + 1
            else:
                run.missing.remove(seq, seq)
                if seq in run.lost:  # it came after all
                    run.lost.remove(seq, seq)
                    self.samples_lost -= 1
            run.received.add(seq, seq)
        return (None if fresh.all() else fresh), gaps

    def claim(self, run_key: int, next_seq: int, now: float) -> None:
        """The device says it has produced every seq below next_seq (HEARTBEAT, HELLO_ACK)."""
        run = self.runs.get(run_key)
        if run is None:
            self._add_run(run_key, next_seq)
            return
        if next_seq > run.frontier and (not run.claims or next_seq > run.claims[-1][0]):
            run.claims.append((next_seq, now))

    def poll(self, now: float) -> list[SeqRange]:
        """Turn claims older than the grace into missing ranges (a lost tail)."""
        gaps: list[SeqRange] = []
        for run in self.runs.values():
            due = [seq for seq, at in run.claims if now - at >= self.tail_grace_s]
            run.claims = [(seq, at) for seq, at in run.claims
                          if now - at < self.tail_grace_s and seq > run.frontier]
            if due and max(due) > run.frontier:
                top = max(due)
                run.missing.add(run.frontier, top - 1)
                gaps.append((run.run_key, run.frontier, top - 1))
                self.gaps_detected += 1
                run.frontier = top
        return gaps

    def next_request(self, now: float) -> tuple[SeqRange | None, list[SeqRange]]:
        """(range to RESEND now or None, ranges given up after max_tries)."""
        lost: list[SeqRange] = []
        for run in self.runs.values():
            run.attempts = {k: v for k, v in run.attempts.items() if k in run.missing}
            for first, last in run.missing:
                last = min(last, first + self.max_span - 1)
                asked_at, tries = run.attempts.get(first, (None, 0))
                if asked_at is not None and now - asked_at < self.retry_after_s:
                    continue
                if tries >= self.max_tries:
                    lost += self._lose(run, first, last)
                    continue
                run.attempts[first] = (now, tries + 1)
                return (run.run_key, first, last), lost
        return None, lost

    def refused(self, run_key: int, first: int, last: int,
                oldest_held: int | None) -> list[SeqRange]:
        """The device cannot resend [first, last] below oldest_held (None: none of it).

        Returns the ranges now recorded as lost for good.
        """
        run = self.runs.get(run_key)
        if run is None:
            return []
        top = last if oldest_held is None else min(last, oldest_held - 1)
        lost: list[SeqRange] = []
        for lo, hi in run.missing.overlap(first, top):
            lost += self._lose(run, lo, hi)
        return lost

    def _lose(self, run: RunSeqs, first: int, last: int) -> list[SeqRange]:
        run.missing.remove(first, last)
        run.lost.add(first, last)
        self.samples_lost += last - first + 1
        return [(run.run_key, first, last)]

    def _add_run(self, run_key: int, frontier: int) -> RunSeqs:
        if len(self.runs) >= self.max_runs:
            settled = [r for r, run in self.runs.items() if not run.missing]
            for old in (settled or list(self.runs))[: len(self.runs) - self.max_runs + 1]:
                del self.runs[old]
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
