"""A run's samples put back in seq order before they are stored, so stored seqs never skip.

Pure bookkeeping, no I/O: the run manager feeds it the batches the link delivers and
stores what it releases.
"""

import numpy as np

from host.link.wire import SAMPLE_DTYPE

SeqRange = tuple[int, int]  # inclusive


def seq_ranges(seqs: np.ndarray) -> list[SeqRange]:
    """Sorted unique seqs as inclusive (first, last) ranges of consecutive values."""
    if not len(seqs):
        return []
    values = np.unique(np.asarray(seqs, dtype=np.int64))
    breaks = np.flatnonzero(np.diff(values) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(values) - 1]))
    return [(int(values[s]), int(values[e])) for s, e in zip(starts, ends)]


def ranges_text(ranges: list[SeqRange], most: int = 6) -> str:
    """'3..5, 9, 12..14' (and how many more ranges when there are over `most`)."""
    parts = ["%d..%d" % (a, b) if b > a else "%d" % a for a, b in ranges[:most]]
    if len(ranges) > most:
        parts.append("and %d more ranges" % (len(ranges) - most))
    return ", ".join(parts)


def merged_ranges(ranges: list[SeqRange], within: int) -> list[SeqRange]:
    """Sorted ranges joined where at most `within` seqs lie between two of them."""
    out: list[SeqRange] = []
    for first, last in ranges:
        if out and first - out[-1][1] - 1 <= within:
            out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


class SeqOrder:
    """Releases one run's sample records in seq order and holds those that arrive early.

    next_seq is the first seq not released: every seq below it was released (stored) or
    given up (skip_to). A record past a missing seq waits until the missing one arrives or
    is given up. If the rig is reset, what it had not sent is gone; renumber() then releases
    the held records under the next free seqs, so the stored seqs stay 0..N-1 with no gap
    and the resumed run goes on from next_seq.
    """

    def __init__(self, next_seq: int = 0):
        self.next_seq = next_seq
        self._held: np.ndarray | None = None  # sorted by seq, unique, every seq > next_seq

    @property
    def held_count(self) -> int:
        return 0 if self._held is None else len(self._held)

    def last_held(self) -> int:
        """The highest seq held, or next_seq - 1 when none is."""
        if self._held is None:
            return self.next_seq - 1
        return int(self._held["seq"][-1])

    def held_seqs(self) -> np.ndarray:
        if self._held is None:
            return np.zeros(0, dtype=np.int64)
        return self._held["seq"].astype(np.int64)

    def add(self, records: np.ndarray) -> np.ndarray:
        """Take a batch of records; returns what may be stored now, in seq order.

        That is any record below next_seq (a seq given up on that came after all, or a
        repeat the store ignores) and the consecutive seqs from next_seq on.
        """
        seqs = records["seq"].astype(np.int64)
        n = len(records)
        if (self._held is None and n and seqs[0] == self.next_seq
                and seqs[-1] - seqs[0] == n - 1 and (n < 3 or np.all(np.diff(seqs) == 1))):
            self.next_seq += n  # nearly every batch: the next seqs in order
            return records
        late = records[seqs < self.next_seq]
        ahead = records[seqs >= self.next_seq]
        if self._held is not None:
            ahead = np.concatenate((self._held, ahead))
        ahead = _sorted_unique(ahead)
        ready = self._take_consecutive(ahead)
        return np.concatenate((late, ready)) if len(late) else ready

    def holes(self, upto_seq: int) -> list[SeqRange]:
        """Seqs from next_seq to upto_seq (inclusive) neither released nor held."""
        if upto_seq < self.next_seq:
            return []
        wanted = np.arange(self.next_seq, upto_seq + 1, dtype=np.int64)
        missing = np.setdiff1d(wanted, self.held_seqs(), assume_unique=True)
        return seq_ranges(missing)

    def skip_to(self, seq: int) -> np.ndarray:
        """Give up on every missing seq below seq; returns the records this releases."""
        if seq <= self.next_seq:
            return _NONE
        held = self._held
        self._held = None
        self.next_seq = seq
        if held is None:
            return _NONE
        below = held[held["seq"] < seq]
        ready = self._take_consecutive(held[held["seq"] >= seq])
        return np.concatenate((below, ready))

    def release_all(self) -> np.ndarray:
        """Give up on every missing seq below the last held one; returns what was held."""
        if self._held is None:
            return _NONE
        return self.skip_to(int(self._held["seq"][-1]) + 1)

    def renumber(self) -> tuple[np.ndarray, list[SeqRange]]:
        """The rig lost what it had not sent: release the held records under the next free
        seqs. Returns (records renumbered, the missing ranges dropped, old numbering)."""
        held = self._held
        if held is None:
            return _NONE, []
        dropped = self.holes(int(held["seq"][-1]))
        self._held = None
        held = held.copy()
        held["seq"] = np.arange(self.next_seq, self.next_seq + len(held))
        self.next_seq += len(held)
        return held, dropped

    def _take_consecutive(self, ahead: np.ndarray) -> np.ndarray:
        """Release the leading records of sorted `ahead` whose seqs run on from next_seq."""
        if not len(ahead):
            self._held = None
            return ahead
        expected = self.next_seq + np.arange(len(ahead), dtype=np.int64)
        off = np.flatnonzero(ahead["seq"].astype(np.int64) != expected)
        count = int(off[0]) if len(off) else len(ahead)
        self.next_seq += count
        self._held = ahead[count:] if count < len(ahead) else None
        return ahead[:count]


_NONE = np.zeros(0, SAMPLE_DTYPE)


def _sorted_unique(records: np.ndarray) -> np.ndarray:
    _, first = np.unique(records["seq"], return_index=True)  # sorted by seq, first kept
    return records[first]
