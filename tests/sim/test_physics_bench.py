"""The simulated bench's behaviour: drive inputs, time steps, light paths, noise and state."""

import json
import statistics

import pytest

from hil_sim.physics.bench import Bench

PD_AMPS_PER_CD_M2 = 9e-10  # about what hil_sim.optics gives; these tests need only a number


def led_bench(preset="G1", seed=1, voltage_v=10.0):
    bench = Bench(preset, seed, PD_AMPS_PER_CD_M2)
    bench.set_supply_setpoint_v(voltage_v)
    bench.set_output_relay(True)
    return bench


def film_bench(seed=1, laser=True, shutter_open=True):
    bench = Bench("film", seed, PD_AMPS_PER_CD_M2)
    bench.set_laser(laser)
    bench.set_shutter_drive(shutter_open)
    return bench


def readings(bench, times_s):
    """Every output at each time, in one list (what a simulated chip set would read)."""
    out = []
    for t in times_s:
        bench.advance_to(t)
        out.append((bench.dut_voltage_v(), bench.dut_current_a(), bench.photocurrent_a(),
                    bench.shutter_closed(), bench.ambient_c(), bench.ambient_rh()))
    return out


def test_unknown_preset_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="G1, G2, film"):
        Bench("G3", 1, PD_AMPS_PER_CD_M2)


def test_supply_slews_toward_the_setpoint_at_1_v_per_ms():
    bench = led_bench(voltage_v=10.0)
    bench.advance_to(0.004)
    assert bench.dut_voltage_v() == pytest.approx(4.0)
    bench.advance_to(0.0101)
    assert bench.dut_voltage_v() == 10.0


def test_supply_setpoint_is_clamped_to_the_20_v_full_scale():
    bench = led_bench(voltage_v=35.0)
    bench.advance_to(1.0)
    assert bench.dut_voltage_v() == 20.0


def test_relay_off_puts_0_v_on_the_dut_at_once():
    bench = led_bench(voltage_v=10.0)
    bench.advance_to(1.0)
    bench.set_output_relay(False)
    assert bench.dut_voltage_v() == 0.0
    assert bench.dut_current_a() == 0.0
    assert bench.luminance_cd_m2() == 0.0


def test_relay_closing_again_ramps_from_zero():
    bench = led_bench(voltage_v=10.0)
    bench.advance_to(1.0)
    bench.set_output_relay(False)
    bench.advance_to(2.0)
    bench.set_output_relay(True)
    bench.advance_to(2.003)
    assert bench.dut_voltage_v() == pytest.approx(3.0)


def test_led_current_rises_with_voltage():
    currents = []
    for v in (4.0, 8.0, 10.0, 12.0, 14.0, 18.0):
        bench = led_bench(voltage_v=v)
        bench.advance_to(0.05)
        currents.append(bench.dut_current_a())
    assert currents == sorted(currents) and currents[0] > 0


def test_led_ages_only_while_current_flows():
    paused = led_bench()
    paused.advance_to(300.0)
    paused.set_output_relay(False)
    paused.advance_to(5000.0)
    paused.set_output_relay(True)
    paused.advance_to(5100.0)
    steady = led_bench()
    steady.advance_to(400.0)
    assert paused.luminance_cd_m2() == pytest.approx(steady.luminance_cd_m2(), rel=1e-4)


def test_led_current_drifts_down_a_little_as_it_ages():
    bench = led_bench()
    bench.advance_to(0.05)
    fresh_a = bench.dut_current_a()
    bench.advance_to(630.0)
    assert 0.97 * fresh_a < bench.dut_current_a() < 0.99 * fresh_a


def test_one_long_step_ages_like_many_short_ones():
    one = led_bench()
    one.advance_to(0.02)
    one.advance_to(600.0)
    many = led_bench()
    for i in range(1, 60001):
        many.advance_to(i * 0.01)
    assert one.luminance_cd_m2() == pytest.approx(many.luminance_cd_m2(), rel=1e-9)


def test_time_before_the_last_input_change_is_refused():
    bench = led_bench()
    bench.advance_to(10.0)
    bench.set_supply_setpoint_v(9.0)
    with pytest.raises(ValueError, match="before the last input change"):
        bench.advance_to(9.0)


def test_a_state_does_not_depend_on_the_times_asked_before_it():
    often, once = led_bench(), led_bench()
    for i in range(1, 1000):
        often.advance_to(0.37 * i)  # a board the host kept waking
        often.dut_current_a()
    often.advance_to(400.0)
    once.advance_to(400.0)
    assert often.dut_current_a() == once.dut_current_a()
    assert often.luminance_cd_m2() == once.luminance_cd_m2()
    assert (often.ambient_c(), often.ambient_rh()) == (once.ambient_c(), once.ambient_rh())


def test_led_photocurrent_is_the_factor_times_the_luminance():
    bench = led_bench()
    bench.advance_to(1.0)
    mean_a = statistics.fmean(bench.photocurrent_a() for _ in range(4000))
    assert mean_a == pytest.approx(PD_AMPS_PER_CD_M2 * bench.luminance_cd_m2(), rel=2e-4)


def test_led_photocurrent_noise_is_about_0_2_percent():
    bench = led_bench()
    bench.advance_to(1.0)
    spread = statistics.pstdev(bench.photocurrent_a() for _ in range(4000))
    assert spread == pytest.approx(0.002 * PD_AMPS_PER_CD_M2 * bench.luminance_cd_m2(), rel=0.1)


def test_dark_photodiode_reads_a_few_pa():
    bench = Bench("G1", 1, PD_AMPS_PER_CD_M2)
    bench.advance_to(1.0)
    mean_a = statistics.fmean(bench.photocurrent_a() for _ in range(2000))
    assert 4e-12 < mean_a < 8e-12


def test_film_gives_pl_photocurrent_with_laser_on_and_shutter_open():
    bench = film_bench()
    bench.advance_to(1.0)
    assert bench.photocurrent_a() == pytest.approx(200e-9 * bench.pl_fraction(), rel=0.03)


def test_film_gives_no_pl_with_the_laser_off():
    bench = film_bench(laser=False)
    bench.advance_to(1.0)
    assert max(bench.photocurrent_a() for _ in range(200)) < 10e-12


def test_film_gives_no_pl_with_the_shutter_closed():
    bench = film_bench(shutter_open=False)
    bench.advance_to(1.0)
    assert max(bench.photocurrent_a() for _ in range(200)) < 10e-12


def test_film_changes_only_under_light():
    interrupted = film_bench()
    interrupted.advance_to(1000.0)
    interrupted.set_laser(False)
    interrupted.advance_to(6000.0)
    interrupted.set_laser(True)
    interrupted.advance_to(7100.0)
    steady = film_bench()
    steady.advance_to(2100.0)
    assert interrupted.pl_fraction() == pytest.approx(steady.pl_fraction(), rel=1e-12)


def test_shutter_switch_keeps_reading_closed_until_the_opening_travel_ends():
    bench = film_bench()
    bench.advance_to(0.049)
    assert bench.shutter_closed()
    bench.advance_to(0.051)
    assert not bench.shutter_closed()


def test_shutter_switch_reads_closed_only_after_the_closing_travel_ends():
    bench = film_bench()
    bench.advance_to(1.0)
    bench.set_shutter_drive(False)
    bench.advance_to(1.049)
    assert not bench.shutter_closed()
    bench.advance_to(1.051)
    assert bench.shutter_closed()


def test_pl_photocurrent_follows_the_shutter_during_its_travel():
    bench = film_bench()
    bench.advance_to(0.025)  # half way open
    mid_a = statistics.fmean(bench.photocurrent_a() for _ in range(200))
    assert mid_a == pytest.approx(0.5 * 200e-9 * bench.pl_fraction(), rel=0.01)


def test_pl_fraction_is_not_defined_for_an_led():
    with pytest.raises(ValueError, match="no PL model"):
        led_bench().pl_fraction()


def test_film_has_no_luminance_and_draws_no_current():
    bench = film_bench()
    bench.set_supply_setpoint_v(10.0)
    bench.set_output_relay(True)
    bench.advance_to(1.0)
    assert bench.luminance_cd_m2() == 0.0 and bench.dut_current_a() == 0.0


def test_room_stays_near_26_c_and_60_percent_but_wanders():
    bench = led_bench(seed=3)
    temps, hums = [], []
    for minute in range(0, 240, 2):
        bench.advance_to(minute * 60.0)
        temps.append(bench.ambient_c())
        hums.append(bench.ambient_rh())
    assert all(25.5 < c < 26.5 for c in temps) and all(57.5 < h < 62.5 for h in hums)
    assert max(temps) - min(temps) > 0.3 and max(hums) - min(hums) > 1.5


def test_a_dark_rig_neither_ages_nor_lets_the_room_wander():
    idle, fresh = Bench("G1", 3, PD_AMPS_PER_CD_M2), Bench("G1", 3, PD_AMPS_PER_CD_M2)
    idle.advance_to(5000.0)  # how long a rig idled before a run is the host's timing
    before = (idle.ambient_c(), idle.ambient_rh())
    assert before == (fresh.ambient_c(), fresh.ambient_rh())
    for bench, start_s in ((idle, 5000.0), (fresh, 0.0)):
        bench.set_supply_setpoint_v(10.0)
        bench.set_output_relay(True)
        bench.advance_to(start_s + 120.0)
    assert idle.luminance_cd_m2() == fresh.luminance_cd_m2()
    assert (idle.ambient_c(), idle.ambient_rh()) == (fresh.ambient_c(), fresh.ambient_rh())


def test_the_room_reads_a_whole_lit_second_alike_whenever_the_lit_stretches_were():
    """Room time is summed from absolute float times; read exactly on a whole lit second, it
    must give that second however the run's stretches sat on the device clock (the host's
    timing decides where a run begins)."""
    steady, broken = Bench("G1", 3, PD_AMPS_PER_CD_M2), Bench("G1", 3, PD_AMPS_PER_CD_M2)
    for bench in (steady, broken):
        bench.set_supply_setpoint_v(10.0)
    steady.set_output_relay(True)
    steady.advance_to(12.0)
    broken.set_output_relay(True)
    broken.advance_to(4.085828)
    broken.set_output_relay(False)
    broken.advance_to(6148.256824)
    broken.set_output_relay(True)
    broken.advance_to(6148.256824 + 12.0 - 4.085828)
    assert broken.lit_s() == pytest.approx(12.0, abs=1e-9)
    assert (broken.ambient_c(), broken.ambient_rh()) == (steady.ambient_c(), steady.ambient_rh())


def test_same_seed_gives_the_same_numbers():
    times = [0.5 * i for i in range(1, 200)]
    assert readings(led_bench(seed=7), times) == readings(led_bench(seed=7), times)


def test_another_seed_gives_other_noise_and_room():
    times = [0.5 * i for i in range(1, 50)]
    a = readings(led_bench(seed=7), times)
    b = readings(led_bench(seed=8), times)
    assert [r[2] for r in a] != [r[2] for r in b] and [r[4] for r in a] != [r[4] for r in b]


@pytest.mark.parametrize("make", [led_bench, film_bench], ids=["G1", "film"])
def test_restore_from_a_json_snapshot_continues_identically(make):
    first = make(seed=5)
    readings(first, [1.0 * i for i in range(1, 300)])
    state = json.loads(json.dumps(first.snapshot()))
    second = make(seed=99)  # a restarted device: new process, restore brings the seed back
    second.restore(state)
    later = [300.0 + 0.7 * i for i in range(1, 400)]
    assert readings(second, later) == readings(first, later)


def test_snapshot_is_plain_numbers():
    state = film_bench().snapshot()
    assert all(type(v) in (int, float) for v in state.values())


def test_restore_refuses_a_snapshot_of_another_version():
    bench = led_bench()
    state = bench.snapshot()
    state["version"] = 99
    with pytest.raises(ValueError, match="snapshot version"):
        bench.restore(state)
