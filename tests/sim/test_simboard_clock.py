"""The discrete-event device clock: it moves only by sleeps, modelled costs and stops; the
wall only paces it; rp2-style wrap at 2**30 us."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MANUAL_WALL = """
from hil_sim import costs
from hil_sim.clock import TICKS_PERIOD, VirtualClock

class Wall:
    '''Wall microseconds a test moves; sleeping on it moves it (and counts the waits).'''
    def __init__(self):
        self.us = 5_000_000
        self.slept_us = 0
    def __call__(self):
        return self.us
    def sleep(self, us):
        self.us += us
        self.slept_us += us
"""


def test_device_time_never_moves_with_the_wall():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=250, start_us=7, wall_us=wall, wall_sleep_us=wall.sleep)
    wall.us += 10_000_000  # ten wall seconds: a machine that kept the process waiting
    assert clock.now_us() == 7
    clock.sleep_us(1000)
    assert clock.now_us() == 1007 and clock.charged_us == 0
    """)


def test_modelled_costs_move_device_time_and_are_counted():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=None, wall_us=wall, wall_sleep_us=wall.sleep)
    clock.charge_us(costs.PASS_US)
    clock.charge_us(0)
    clock.charge_us(-5)
    assert clock.now_us() == costs.PASS_US == clock.charged_us
    """)


def test_accel_paces_sleeps_at_most_accel_times_the_wall():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=100, wall_us=wall, wall_sleep_us=wall.sleep)
    for _ in range(50):
        clock.sleep_us(100_000)  # five device seconds in all
    assert clock.now_us() == 5_000_000
    assert wall.slept_us == 50_000  # a hundredth of it, on the wall
    """)


def test_a_slow_stretch_is_not_made_up_by_a_burst():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=10, wall_us=wall, wall_sleep_us=wall.sleep)
    clock.sleep_us(10_000)
    wall.us += 1_000_000  # the machine was busy for a wall second
    clock.sleep_us(10_000)
    before = wall.slept_us
    clock.sleep_us(10_000)
    assert wall.slept_us - before == 1000  # the pace again, no catching up
    assert clock.now_us() == 30_000
    """)


def test_waits_that_oversleep_a_little_are_made_up_so_the_pace_holds():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=1000, wall_us=wall, wall_sleep_us=wall.sleep)
    for _ in range(1000):  # 50 device ms each: 50 wall us asked, 110 us slept (nanosleep)
        clock.catch_up(1000)
        lead = clock.wall_until_us(clock.now_us() + 50_000, 1000)
        if lead > 0:
            wall.sleep(lead + 60)
        clock.advance_to(clock.now_us() + 50_000)
    assert clock.now_us() == 50_000_000
    assert wall.slept_us < 51_000  # 50 device s at accel 1000 take 50 wall ms, not 110
    """)


def test_fractional_accel_paces_with_integers():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=2.5, wall_us=wall, wall_sleep_us=wall.sleep)
    clock.sleep_us(2500)
    assert wall.slept_us == 1000 and isinstance(clock.wall_until_us(5000, 2.5), int)
    """)


def test_accel_max_never_waits_on_the_wall():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=None, wall_us=wall, wall_sleep_us=wall.sleep)
    clock.sleep_us(3_600_000_000)
    assert clock.now_us() == 3_600_000_000 and wall.slept_us == 0
    """)


def test_a_stop_halts_the_clock_exactly_there_whatever_the_step():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=None, wall_us=wall, wall_sleep_us=wall.sleep)
    seen = []
    clock.stop_at([2_500_000, 700_000, 100], lambda t: seen.append((t, clock.now_us())))
    clock.sleep_us(1_000_000)  # passes 100 and 700_000
    clock.charge_us(3_000_000)  # passes 2_500_000
    assert seen == [(100, 100), (700_000, 700_000), (2_500_000, 2_500_000)]
    assert clock.now_us() == 4_000_000
    """)


def test_paced_us_is_where_an_early_wake_leaves_the_clock():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=1000, wall_us=wall, wall_sleep_us=wall.sleep)
    clock.catch_up(1000)
    wall.us += 300  # the host wrote after 0.3 wall ms: 0.3 device s at accel 1000
    assert clock.paced_us(1_000_000, 1000) == 300_000
    wall.us += 5000
    assert clock.paced_us(1_000_000, 1000) == 1_000_000  # never past the wait's end
    """)


def test_ticks_wrap_at_2_30_and_ticks_diff_spans_the_wrap():
    run_both(_MANUAL_WALL, """
    wall = Wall()
    clock = VirtualClock(accel=None, ticks_offset_us=TICKS_PERIOD - 500_000, wall_us=wall,
                         wall_sleep_us=wall.sleep)
    before = clock.ticks_us()
    assert before == TICKS_PERIOD - 500_000
    clock.sleep_us(1_000_000)  # one device second later: past the wrap
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


def test_i2c_transfers_cost_their_bits_at_the_bus_clock():
    run_both(_MANUAL_WALL, """
    # register pointer + 2 data bytes with a repeated start: (2 + 3) x 9 + 4 bits at 400 kHz
    assert costs.i2c_transfer_us(3, 400_000, addressed=2) == 123 + costs.I2C_CALL_US
    bench, board = fixed_board(accel=None)
    t0 = board.clock.now_us()
    board.i2c.readfrom_mem_into(cfg.ADDR_INA226, 2, bytearray(2))
    assert board.clock.now_us() - t0 == costs.i2c_transfer_us(3, cfg.I2C_FREQ_HZ, addressed=2)
    """)


def test_sleep_us_waits_a_accel_th_of_it_on_the_real_wall():
    run_both("""
    from hil_sim.clock import VirtualClock, link_diff, link_ms
    clock = VirtualClock(accel=100)
    wall0 = link_ms()
    clock.sleep_us(5_000_000)  # five device seconds
    slept_ms = link_diff(link_ms(), wall0)
    assert clock.now_us() == 5_000_000
    assert slept_ms >= 49, slept_ms  # (how much longer depends on the machine: not asserted)
    """)
