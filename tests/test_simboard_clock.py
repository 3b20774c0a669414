"""The virtual experiment clock: acceleration, rp2-style wrap at 2**30 us, accelerated sleep."""

import pytest

from tests.test_drivers_harness import run_both

pytestmark = pytest.mark.micropython

_MANUAL_WALL = """
from hil_sim.clock import STALL_MIN_STEP_US, STALL_WALL_US, TICKS_PERIOD, VirtualClock

class Wall:
    def __init__(self):
        self.us = 5_000_000
    def __call__(self):
        return self.us
"""


def test_experiment_time_runs_accel_times_wall_time():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=250, start_us=7, wall_us=wall)
    assert clock.now_us() == 7
    for _ in range(10):  # read every 100 us of wall time, as a loop pass does
        wall.us += 100
        clock.now_us()
    assert clock.now_us() == 7 + 250_000
    assert clock.stalled_us == 0 and clock.stalls == 0
    """)


def test_fractional_accel_stays_integer():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=2.5, wall_us=wall)
    wall.us += 1001
    assert clock.now_us() == 2502 and isinstance(clock.now_us(), int)
    """)


def test_fractional_accel_carries_the_part_of_a_microsecond_between_readings():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=2.5, wall_us=wall)
    for _ in range(1000):  # 2.5 us per reading: rounding each would lose 0.5 us a time
        wall.us += 1
        clock.now_us()
    assert clock.now_us() == 2500
    """)


def test_a_stall_is_cut_to_half_a_millisecond_of_wall_time_and_counted():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=1000, wall_us=wall)
    wall.us += 400  # under the limit: runs at accel
    assert clock.now_us() == 400_000
    wall.us += 10_000  # the OS kept the process waiting 10 ms: 10 s at accel 1000
    assert clock.now_us() == 400_000 + STALL_WALL_US * 1000
    assert clock.stalled_us == 10_000_000 - STALL_WALL_US * 1000 and clock.stalls == 1
    wall.us += 100
    assert clock.now_us() == 400_000 + STALL_WALL_US * 1000 + 100_000  # accel again
    """)


def test_at_low_accel_a_stall_still_moves_a_tenth_of_a_second():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=1, wall_us=wall)
    wall.us += 50_000  # 50 ms at accel 1: a loop pass is never that long, but it is not cut
    assert clock.now_us() == 50_000
    wall.us += 3_000_000
    assert clock.now_us() == 50_000 + STALL_MIN_STEP_US
    assert clock.stalled_us == 3_000_000 - STALL_MIN_STEP_US
    """)


def test_a_long_sleep_is_never_cut_as_a_stall():
    run_both("""
    from hil_sim.clock import VirtualClock
    clock = VirtualClock(accel=100)
    t0 = clock.now_us()
    clock.sleep_us(5_000_000)  # 50 ms of wall time: far past the stall limit of 1 ms
    assert clock.now_us() - t0 >= 5_000_000  # (an OS oversleep beyond it may be cut)
    """)


def test_a_short_sleep_takes_at_least_the_wall_floor():
    run_both("""
    from hil_sim.clock import MIN_SLEEP_WALL_US, VirtualClock
    clock = VirtualClock(accel=1000)
    t0 = clock.now_us()
    for _ in range(20):
        clock.sleep_us(1000)  # 1 us of wall time asked: the floor makes it 100 us
    moved_us = clock.now_us() - t0
    assert moved_us >= 20 * MIN_SLEEP_WALL_US * 1000, moved_us
    """)


def test_ticks_wrap_at_2_30_and_ticks_diff_spans_the_wrap():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=1000, ticks_offset_us=TICKS_PERIOD - 500_000, wall_us=wall)
    before = clock.ticks_us()
    assert before == TICKS_PERIOD - 500_000
    for _ in range(10):  # one experiment second later: past the wrap
        wall.us += 100
        after = clock.ticks_us()
    assert after == 500_000
    assert clock.ticks_diff(after, before) == 1_000_000
    assert clock.ticks_diff(before, after) == -1_000_000
    assert clock.ticks_add(before, 1_000_000) == after
    assert 0 <= clock.ticks_us() < TICKS_PERIOD
    """)


def test_ticks_diff_matches_the_ports_own_arithmetic_at_the_half_period():
    run_both(_MANUAL_WALL, """
    clock = VirtualClock(wall_us=Wall())
    half = TICKS_PERIOD // 2
    assert clock.ticks_diff(half - 1, 0) == half - 1
    assert clock.ticks_diff(half, 0) == -half
    assert clock.ticks_diff(0, TICKS_PERIOD - 1) == 1
    """)


def test_sleep_us_takes_a_accel_th_of_the_wall_time():
    run_both("""
    from hil_sim.clock import VirtualClock, link_diff, link_ms
    clock = VirtualClock(accel=100)
    wall0 = link_ms()
    t0 = clock.now_us()
    clock.sleep_us(5_000_000)  # five experiment seconds
    slept_ms = link_diff(link_ms(), wall0)
    assert clock.now_us() - t0 >= 5_000_000
    assert 45 <= slept_ms < 1000, slept_ms
    """)


def test_board_clock_is_accelerated_but_the_link_clock_is_not():
    run_both("""
    bench, board = fixed_board(accel=1000)
    t0 = board.ticks_us()
    stalled0 = board.clock.stalled_us
    m0 = board.link_ms()
    while board.link_diff(board.link_ms(), m0) < 20:
        board.ticks_us()  # the firmware reads its clock every pass
    elapsed_us = board.ticks_diff(board.ticks_us(), t0)
    # 20 link ms are 20 s at accel 1000, less what a busy machine made the clock cut
    # (link ms are whole)
    ran_us = elapsed_us + board.clock.stalled_us - stalled0
    assert 19 * 1000 * 1000 <= ran_us < 500 * 1000 * 1000, (elapsed_us, ran_us)
    assert elapsed_us > 1000 * 1000  # and most of it the clock saw (a stall is 0.5 s)
    """)
