"""Run time from wrapping ticks: exact sums, no drift, small integers only."""

from hypothesis import given
from hypothesis import strategies as st

from lumenfw.runclock import Mark, RunClock
from tests.support.fw_harness import TICKS_PERIOD, ticks_diff


@given(start=st.integers(0, TICKS_PERIOD - 1),
       deltas=st.lists(st.integers(0, TICKS_PERIOD // 2 - 1), max_size=200))
def test_clock_is_the_exact_sum_of_tick_deltas_across_wraps(start, deltas):
    clock = RunClock(ticks_diff)
    now = start
    clock.start(now)
    for delta in deltas:
        now = (now + delta) % TICKS_PERIOD
        clock.advance(now)
    assert clock.t_s * 1000000 + clock.t_us == sum(deltas)
    assert 0 <= clock.t_us < 1000000


def test_ticks_that_go_backwards_add_nothing():
    clock = RunClock(ticks_diff)
    clock.start(5000)
    clock.advance(4000)
    assert (clock.t_s, clock.t_us) == (0, 0)
    clock.advance(6000)
    assert (clock.t_s, clock.t_us) == (0, 2000)


def test_millisecond_steps_carry_into_whole_seconds_exactly():
    clock = RunClock(ticks_diff)
    clock.start(0)
    now = 0
    for _ in range(3000):
        now = (now + 1000) % TICKS_PERIOD
        clock.advance(now)
    assert (clock.t_s, clock.t_us) == (3, 0)


@given(t_s=st.integers(0, 10**7), t_us=st.integers(0, 999999), ms=st.integers(0, 10**8))
def test_mark_add_ms_is_exact(t_s, t_us, ms):
    mark = Mark()
    mark.set(t_s, t_us)
    mark.add_ms(ms)
    assert mark.t_s * 1000000 + mark.t_us == t_s * 1000000 + t_us + ms * 1000
    assert 0 <= mark.t_us < 1000000


def test_mark_is_reached_at_its_time_not_before():
    clock = RunClock(ticks_diff)
    clock.start(0)
    mark = Mark()
    mark.set(1, 500000)
    clock.advance(1499999)
    assert not mark.reached(clock)
    clock.advance(1500000)
    assert mark.reached(clock)
