"""host/link/intervals.py against a plain Python set, under random adds and removes."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from host.link.intervals import IntervalSet

_op = st.tuples(st.booleans(), st.integers(0, 60), st.integers(0, 12))


def _expand(intervals):
    return {v for first, last in intervals for v in range(first, last + 1)}


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(_op, max_size=40))
def test_interval_set_holds_exactly_what_a_set_would(ops):
    ranges = IntervalSet()
    model: set[int] = set()
    for add, first, width in ops:
        last = first + width
        if add:
            ranges.add(first, last)
            model |= set(range(first, last + 1))
        else:
            ranges.remove(first, last)
            model -= set(range(first, last + 1))
    assert _expand(ranges) == model
    assert ranges.count() == len(model)
    assert all(v in ranges for v in model)
    assert not any(v in ranges for v in range(-1, 80) if v not in model)


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(_op, max_size=40))
def test_ranges_stay_sorted_disjoint_and_never_adjacent(ops):
    ranges = IntervalSet()
    for add, first, width in ops:
        (ranges.add if add else ranges.remove)(first, first + width)
    pairs = list(ranges)
    assert all(first <= last for first, last in pairs)
    assert all(a_last + 1 < b_first for (_a, a_last), (b_first, _b) in itertools.pairwise(pairs))


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(_op, max_size=30), st.integers(0, 70), st.integers(0, 30))
def test_overlap_is_the_held_part_of_a_window(ops, first, width):
    ranges = IntervalSet()
    for add, start, w in ops:
        (ranges.add if add else ranges.remove)(start, start + w)
    window = set(range(first, first + width + 1))
    assert _expand(ranges.overlap(first, first + width)) == _expand(ranges) & window


def test_in_order_values_stay_one_range():
    ranges = IntervalSet()
    for seq in range(1000):
        ranges.add(seq, seq)
    assert list(ranges) == [(0, 999)]
