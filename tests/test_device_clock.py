"""The launcher's view of device time (hil_sim.relay.DeviceClock), which schedules faults."""

import pytest

from hil_sim.relay import DeviceClock


def test_a_new_clock_runs_at_accel_from_its_first_reading():
    clock = DeviceClock(100)
    assert not clock.running and clock.now_s(5.0) == 0.0
    clock.run(20.0, wall_s=10.0)
    assert clock.now_s(10.5) == 70.0
    assert clock.wall_at(120.0) == 11.0


def test_readings_of_a_slower_device_set_the_rate_it_is_extrapolated_at():
    # A busy machine: the board cut its waits, device time moved 30 s in 0.5 s at accel 100.
    clock = DeviceClock(100)
    clock.run(0.0, wall_s=0.0)
    clock.run(30.0, wall_s=0.5)
    assert clock.now_s(1.0) == 60.0
    assert clock.wall_at(90.0) == 1.5  # a fault at device 90 s fires then, not at 1.4 s


def test_the_rate_never_exceeds_accel():
    clock = DeviceClock(100)
    clock.run(0.0, wall_s=0.0)
    clock.run(80.0, wall_s=0.5)  # e.g. a reading taken late
    assert clock.now_s(1.5) == 80.0 + 100.0


def test_a_device_whose_time_stands_still_has_no_time_to_reach():
    clock = DeviceClock(100)
    clock.run(10.0, wall_s=0.0)
    clock.run(10.0, wall_s=0.5)  # the same reading again: a stopped process
    assert clock.now_s(9.0) == 10.0
    assert clock.wall_at(11.0) is None


def test_without_new_readings_it_goes_no_further_than_its_horizon():
    clock = DeviceClock(100, horizon_s=0.04)
    clock.run(10.0, wall_s=0.0)
    assert clock.now_s(0.02) == pytest.approx(12.0)
    assert clock.now_s(9.0) == pytest.approx(14.0)  # the process may have stopped
    assert clock.wall_at(13.0) == pytest.approx(0.03)
    assert clock.wall_at(15.0) is None  # only a new reading can get it there


def test_a_clock_started_without_readings_runs_on_the_wall_alone():
    clock = DeviceClock(100, horizon_s=0.04)
    clock.run(wall_s=1.0)
    assert clock.now_s(3.0) == 200.0


def test_pause_freezes_and_a_restart_runs_at_accel_again():
    clock = DeviceClock(100)
    clock.run(0.0, wall_s=0.0)
    clock.run(25.0, wall_s=0.5)
    clock.pause(wall_s=1.0)
    assert not clock.running and clock.now_s(3.0) == 50.0
    clock.run(50.0, wall_s=4.0)  # the next boot's first reading
    assert clock.now_s(4.5) == 100.0
