"""Run modes on the simulated rig with the real device physics (presets G1 and film)."""

import itertools

from lumenfw.modes import FINE_MIN_STEP_MV
from protocol import schema
from tests.support.fw_harness import Bed, start_run_head


def _run(preset="G1", accel=500, timeout_s=30, **fields):
    bed = Bed(preset=preset, accel=accel)
    bed.hello()
    reply = bed.start_run(**fields)
    assert reply[0] == schema.ACK, reply
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, timeout_s, "the run to end")
    bed.command(schema.GET_STATUS, (0,))  # flushes the last batch
    return bed


def _t(record):
    return record["t_s"] + record["t_us"] / 1e6


def _event_values(bed, code):
    return [value for c, value, _, _ in bed.events() if c == code]


def _stopped(bed):
    return _event_values(bed, schema.EV_RUN_STOPPED)


def _l0_samples(samples):
    return [r for r in samples if r["flags"] & schema.FLAG_L0]


def test_constant_voltage_takes_l0_from_the_first_sample_after_the_settle_and_stops_at_half():
    bed = _run(setpoint_mv=10000, stop_fraction_pm=500, l0_settle_ms=2000,
               sample_period_ms=1000, max_duration_s=3000)
    assert _stopped(bed) == [schema.STOP_LUMINANCE_FRACTION]
    assert bed.ctrl.state == schema.STATE_IDLE and bed.board.relay.value() == 0
    samples = bed.samples(42)
    # The hold's samples start at the settle time after the climb (lumenfw/climb.py), so
    # L0's sample is the very first.
    climb_s = bed.climb_s()
    assert 0.1 < climb_s < 0.5
    assert 2.0 + climb_s <= _t(samples[0]) < 2.01 + climb_s
    [l0_sample] = _l0_samples(samples)
    assert l0_sample is samples[0]
    [l0] = _event_values(bed, schema.EV_L0_CAPTURED)
    assert l0 == l0_sample["pd_pa"]
    below = [r["pd_pa"] <= l0 // 2 for r in samples]
    assert below[-3:] == [True, True, True] and not below[-4]
    assert 500 < samples[-1]["t_s"] < 800  # the study's G1: T50 = 630 s at 10 V


def test_the_dark_offset_is_removed_before_l0_and_the_fraction():
    dark_pa = 5000
    bed = _run(setpoint_mv=10000, dark_pd_pa=dark_pa, stop_fraction_pm=900, l0_settle_ms=100,
               sample_period_ms=1000, max_duration_s=3000)
    samples = bed.samples(42)
    [l0] = _event_values(bed, schema.EV_L0_CAPTURED)
    assert l0 == samples[0]["pd_pa"] - dark_pa
    assert all(r["pd_pa"] - dark_pa <= l0 * 900 // 1000 for r in samples[-3:])
    assert _stopped(bed) == [schema.STOP_LUMINANCE_FRACTION]


def test_an_l0_with_no_light_above_dark_never_stops_the_run_by_fraction():
    # 6 V on G1 is far below turn-on: the photodiode reads its dark current alone.
    bed = _run(setpoint_mv=6000, dark_pd_pa=6, stop_fraction_pm=500, l0_settle_ms=100,
               sample_period_ms=1000, max_duration_s=20)
    assert _event_values(bed, schema.EV_L0_CAPTURED) == [0]
    assert _stopped(bed) == [schema.STOP_MAX_DURATION]
    assert len(bed.samples(42)) == 20


def test_luminance_target_ramp_brackets_the_target_then_bisects_to_within_1_percent():
    target_pa = 200000
    bed = _run(setpoint_mv=14000, target_pd_pa=target_pa, step_mv=250, dwell_ms=50,
               sample_period_ms=1000, stop_fraction_pm=0, l0_settle_ms=100, max_duration_s=20,
               accel=100)
    [held_mv] = _event_values(bed, schema.EV_TARGET_REACHED)
    samples = bed.samples(42)
    ramp = [r for r in samples if r["flags"] & schema.FLAG_RAMP]
    hold = samples[len(ramp):]
    assert not any(r["flags"] & schema.FLAG_RAMP for r in hold)
    # Every ramp step ends with its sample, one dwell apart: the device acts on stored readings.
    steps = [_t(b) - _t(a) for a, b in zip(ramp, ramp[1:])]
    assert all(abs(dt - 0.05) < 0.002 for dt in steps)
    coarse = list(itertools.takewhile(lambda r: r["pd_pa"] < target_pa, ramp))
    assert [r["setpoint_mv"] for r in coarse] == list(range(250, 250 * len(coarse) + 1, 250))
    fine = ramp[len(coarse):]
    below_mv = coarse[-1]["setpoint_mv"]
    assert all(below_mv <= r["setpoint_mv"] <= below_mv + 250 for r in fine)
    settled = ramp[-1]
    near = abs(settled["pd_pa"] - target_pa) <= target_pa // 100
    assert near or abs(held_mv - settled["setpoint_mv"]) <= FINE_MIN_STEP_MV
    assert {r["setpoint_mv"] for r in hold} == {held_mv}
    # The hold begins at the ramp's last sample; L0 is its first sample, the settle later.
    [l0_sample] = _l0_samples(samples)
    assert l0_sample is hold[0]
    assert abs(_t(l0_sample) - _t(settled) - 0.1) < 0.002
    assert abs(l0_sample["pd_pa"] - target_pa) <= target_pa * 2 // 100
    assert _stopped(bed) == [schema.STOP_MAX_DURATION]


def test_a_target_the_ceiling_cannot_reach_stops_the_run():
    bed = _run(setpoint_mv=8000, target_pd_pa=5000000, step_mv=2000, dwell_ms=1000,
               sample_period_ms=200, stop_fraction_pm=0, max_duration_s=600, accel=100)
    assert _stopped(bed) == [schema.STOP_TARGET_UNREACHED]
    assert max(r["setpoint_mv"] for r in bed.samples(42)) == 8000
    assert bed.ctrl.state == schema.STATE_IDLE and bed.board.relay.value() == 0


def test_constant_current_tracks_its_target():
    target_na = 300000
    bed = _run(mode=schema.MODE_CONSTANT_CURRENT, setpoint_mv=16000,
               target_current_na=target_na, sample_period_ms=100, stop_fraction_pm=0,
               max_duration_s=30, accel=50)
    samples = bed.samples(42)
    tail = [r["current_na"] for r in samples if r["t_s"] >= 20]
    assert tail and all(abs(i - target_na) <= target_na * 3 // 100 for i in tail)
    # The approach is flagged; the hold (and L0, its first sample) begins within 1 %.
    [held_mv] = _event_values(bed, schema.EV_TARGET_REACHED)
    approach = [r for r in samples if r["flags"] & schema.FLAG_RAMP]
    [l0_sample] = _l0_samples(samples)
    assert approach and samples.index(l0_sample) == len(approach)
    assert abs(l0_sample["current_na"] - target_na) <= target_na * 2 // 100


def test_constant_current_settles_where_its_target_lies_between_two_current_readings():
    # 10,060 nA is 60 nA from the nearest INA226 reading (125 nA steps), more than the 0.25 %
    # (25 nA) the loop settles to: half a reading step is as near as it can get.
    bed = _run(mode=schema.MODE_CONSTANT_CURRENT, setpoint_mv=16000, target_current_na=10060,
               sample_period_ms=100, stop_fraction_pm=0, max_duration_s=5, accel=50)
    assert len(_event_values(bed, schema.EV_TARGET_REACHED)) == 1
    [l0_sample] = _l0_samples(bed.samples(42))
    assert abs(l0_sample["current_na"] - 10060) <= 125


def test_constant_current_never_goes_above_its_voltage_ceiling():
    bed = _run(mode=schema.MODE_CONSTANT_CURRENT, setpoint_mv=9000, target_current_na=1000000,
               sample_period_ms=100, stop_fraction_pm=0, max_duration_s=20, accel=50)
    samples = bed.samples(42)
    assert max(r["setpoint_mv"] for r in samples) == 9000
    assert all(r["current_na"] < 1000000 for r in samples)


def test_sweep_steps_up_with_the_last_sample_of_each_step_flagged():
    bed = _run(mode=schema.MODE_SWEEP, setpoint_mv=8000, stop_mv=14000, step_mv=1000,
               dwell_ms=500, sample_period_ms=100, stop_fraction_pm=0, max_duration_s=0,
               compliance_na=3000000, accel=20)
    samples = bed.samples(42)
    steps = list(range(8000, 14001, 1000))
    assert [r["setpoint_mv"] for r in samples] == [mv for mv in steps for _ in range(5)]
    ends = [bool(r["flags"] & schema.FLAG_STEP_END) for r in samples]
    assert ends == [False, False, False, False, True] * len(steps)
    currents = [r["current_na"] for r in samples if r["flags"] & schema.FLAG_STEP_END]
    assert currents == sorted(currents)  # the LED conducts more at every step
    assert _stopped(bed) == [schema.STOP_COMPLETED] and bed.board.relay.value() == 0


def test_sweep_down_ends_exactly_on_stop_mv():
    bed = _run(mode=schema.MODE_SWEEP, setpoint_mv=9000, stop_mv=6500, step_mv=1000,
               dwell_ms=200, sample_period_ms=100, stop_fraction_pm=0, max_duration_s=0,
               accel=20)
    ends = [r["setpoint_mv"] for r in bed.samples(42) if r["flags"] & schema.FLAG_STEP_END]
    assert ends == [9000, 8000, 7000, 6500]


def test_photostability_flags_a_pl_point_every_interval_and_ends_dark():
    bed = _run(preset="film", accel=50, mode=schema.MODE_PHOTOSTABILITY, setpoint_mv=0,
               compliance_na=0, laser=1, pl_interval_s=10, max_duration_s=60,
               sample_period_ms=1000, stop_fraction_pm=0)
    samples = bed.samples(42)
    points = [_t(r) for r in samples if r["flags"] & schema.FLAG_PL_POINT]
    assert len(points) == 6
    assert all(k * 10 <= t < k * 10 + 1.0 for k, t in enumerate(points))
    lit = schema.FLAG_LASER_ON | schema.FLAG_SHUTTER_OPEN
    assert all(r["flags"] & lit == lit for r in samples)
    assert all(r["pd_pa"] > 100000 for r in samples)  # the film's PL reaches the photodiode
    assert _stopped(bed) == [schema.STOP_COMPLETED]
    bed.run_until(lambda: _event_values(bed, schema.EV_SHUTTER_CLOSED), what="shutter closed")
    assert bed.board.laser.value() == 0 and bed.board.shutter_closed.value() == 1
    assert bed.ctrl.state == schema.STATE_IDLE


def test_max_duration_ends_a_constant_voltage_run():
    bed = _run(setpoint_mv=6000, sample_period_ms=500, max_duration_s=5, accel=100)
    assert _stopped(bed) == [schema.STOP_MAX_DURATION]
    assert max(r["t_s"] for r in bed.samples(42)) < 5
    assert bed.ctrl.state == schema.STATE_IDLE


def test_sample_times_stay_true_across_the_tick_wrap():
    wrap_in_us = 3000000  # ticks_us wraps (2**30) 3 s of experiment time after boot
    bed = Bed(accel=100, ticks_offset_us=(1 << 30) - wrap_in_us)
    # HELLO and START_RUN queued together: the board takes the run at once, not after the
    # wait that would follow a HELLO alone.
    bed.send(schema.HELLO, (bed.session_id, schema.SCHEMA_HASH, 1))
    bed.send(schema.START_RUN, start_run_head(cmd_id=1, setpoint_mv=6000,
                                              sample_period_ms=200, max_duration_s=8))
    bed.run_until(lambda: bed.of(schema.ACK), what="the START_RUN's ACK")
    start_us = bed.board.clock.now_us()
    bed.run_until(lambda: bed.ctrl.state != schema.STATE_RUNNING, what="the run to end")
    bed.command(schema.GET_STATUS, (0,))
    times = [_t(r) for r in bed.samples(42)]
    assert bed.board.clock.now_us() > wrap_in_us and start_us < wrap_in_us
    steps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0 < step < 0.61 for step in steps)  # no jump back or ahead at the wrap
    assert len(times) >= 30  # of 40 due: a slow pass may skip one
    assert 7.0 < times[-1] < 8.0 and _stopped(bed) == [schema.STOP_MAX_DURATION]


def test_a_resumed_run_continues_seq_and_clock_and_keeps_its_l0():
    bed = Bed(accel=100)
    bed.hello()
    bed.start_run(setpoint_mv=10000, sample_period_ms=500, resume_seq=1000,
                  resume_t_ms=600000, l0_pd_pa=40000, stop_fraction_pm=100, l0_settle_ms=100)
    bed.run_until(lambda: bed.ctrl.next_seq >= 1010, what="10 samples")
    bed.command(schema.GET_STATUS, (0,))
    samples = bed.samples(42)
    # The first resumed sample waits the climb and the settle, as a fresh run's first does:
    # the output has just come on again, and it reads the lit pixel, not the supply on its
    # way up.
    climb_s = bed.climb_s()
    assert samples[0]["seq"] == 1000 and 600.1 + climb_s <= _t(samples[0]) < 600.11 + climb_s
    assert samples[0]["voltage_mv"] > 9900 and samples[0]["current_na"] > 30000
    assert not samples[0]["flags"] & schema.FLAG_L0
    assert [r["seq"] for r in samples] == list(range(1000, 1000 + len(samples)))
    assert not _event_values(bed, schema.EV_L0_CAPTURED)
    status = bed.status()
    assert status["l0_pd_pa"] == 40000 and status["oldest_seq"] == 1000


def test_manual_output_and_shutter_work_only_outside_runs():
    bed = Bed(preset="film", accel=100)
    bed.hello()
    assert bed.command(schema.SET_OUTPUT, (0, 5000, 1))[0] == schema.ACK
    assert bed.board.relay.value() == 1  # (the climb's first step: 2 V, then on to 5 V)
    bed.run_until(lambda: bed.board.dac.code == 1024, what="the climb to 5 V")
    assert bed.command(schema.SHUTTER, (1, 1))[0] == schema.ACK
    assert bed.board.laser.value() == 1
    bed.run_until(lambda: _event_values(bed, schema.EV_SHUTTER_OPENED), what="shutter open")
    bed.start_run(run_key=9)
    assert bed.command(schema.SET_OUTPUT, (0, 5000, 0))[1][2] == schema.NACK_BUSY
    bed.command(schema.STOP_RUN, (9, 0))
    assert bed.board.relay.value() == 0 and bed.board.laser.value() == 0
