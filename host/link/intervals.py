"""A set of integers kept as sorted, disjoint, inclusive ranges (sample seqs of one run)."""

from bisect import bisect_right
from collections.abc import Iterator


class IntervalSet:
    """Inclusive [first, last] ranges; adjacent ranges merge, so in-order seqs stay one range."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def __len__(self) -> int:
        """Number of ranges (not of integers: see count())."""
        return len(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(list(zip(self._starts, self._ends)))

    def __contains__(self, value: int) -> bool:
        i = bisect_right(self._starts, value) - 1
        return i >= 0 and value <= self._ends[i]

    def count(self) -> int:
        """Number of integers held."""
        return sum(e - s + 1 for s, e in zip(self._starts, self._ends))

    def first(self) -> int | None:
        return self._starts[0] if self._starts else None

    def last(self) -> int | None:
        return self._ends[-1] if self._ends else None

    def add(self, first: int, last: int) -> None:
        """Add [first, last]; merges with every range it touches or overlaps."""
        if last < first:
            return
        starts, ends = self._starts, self._ends
        if not starts or first > ends[-1] + 1:
            starts.append(first)
            ends.append(last)
            return
        lo = bisect_right(ends, first - 2)  # first range that ends at or after first - 1
        hi = bisect_right(starts, last + 1)  # ranges before hi start at or before last + 1
        if lo < hi:
            first = min(first, starts[lo])
            last = max(last, ends[hi - 1])
        starts[lo:hi] = [first]
        ends[lo:hi] = [last]

    def remove(self, first: int, last: int) -> None:
        """Remove [first, last]; ranges that straddle an end are cut."""
        if last < first or not self._starts:
            return
        starts, ends = self._starts, self._ends
        lo = bisect_right(ends, first - 1)  # first range that ends at or after first
        hi = bisect_right(starts, last)  # ranges before hi start at or before last
        if lo >= hi:
            return
        keep_s: list[int] = []
        keep_e: list[int] = []
        if starts[lo] < first:
            keep_s.append(starts[lo])
            keep_e.append(first - 1)
        if ends[hi - 1] > last:
            keep_s.append(last + 1)
            keep_e.append(ends[hi - 1])
        starts[lo:hi] = keep_s
        ends[lo:hi] = keep_e

    def overlap(self, first: int, last: int) -> list[tuple[int, int]]:
        """The held ranges clipped to [first, last]."""
        out = []
        lo = bisect_right(self._ends, first - 1)
        for i in range(lo, len(self._starts)):
            if self._starts[i] > last:
                break
            out.append((max(first, self._starts[i]), min(last, self._ends[i])))
        return out
